package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
)

func TestResourceServer(t *testing.T) {
	clock := tenantry.NewManualClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	var out bytes.Buffer
	if err := run(context.Background(), &out, tenantry.Config{Now: clock.Now, NewID: tenantry.SequentialIDs("rs")}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`no token               -> 401 WWW-Authenticate: Bearer realm=""`,
		`malformed token        -> 401 WWW-Authenticate: Bearer realm="", error="invalid_token"`,
		`app token, no role     -> 403 WWW-Authenticate: Bearer realm="", error="insufficient_scope"`,
		`app token with role    -> 200 "reports for app caller"`,
		`user consent recorded; token scope: {api}/Reports.Read openid`,
		`user token with scope  -> 200 "reports for user caller"`,
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

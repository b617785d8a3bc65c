package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry"
)

func TestDaemon(t *testing.T) {
	clock := tenantry.NewManualClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	var out bytes.Buffer
	if err := run(context.Background(), &out, tenantry.Config{Now: clock.Now, NewID: tenantry.SequentialIDs("daemon")}); err != nil {
		t.Fatal(err)
	}
	want := `call 1: ver=1.0 app-only=true tenant=Customer:true roles=[Export.All] appidacr=2
call 2: ver=1.0 app-only=true tenant=Customer:true roles=[Export.All] appidacr=2
call 3: ver=1.0 app-only=true tenant=Customer:true roles=[Export.All] appidacr=2
token requests: 1 (the token was cached)
after the customer disabled the daemon: unauthorized_client AADSTS7000112
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

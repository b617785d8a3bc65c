package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/examples/internal/golden"
)

// TestQuickstartOutput runs the quickstart with a deterministic clock and
// id source and compares its output with the reviewed golden file.
func TestQuickstartOutput(t *testing.T) {
	clock := tenantry.NewManualClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	var out bytes.Buffer
	err := run(context.Background(), &out, tenantry.Config{Now: clock.Now, NewID: tenantry.SequentialIDs("quickstart")})
	if err != nil {
		t.Fatal(err)
	}
	// The secret is random by design; everything else is deterministic.
	got := regexp.MustCompile(`hint=\S{3}…`).ReplaceAllString(out.String(), "hint=XXX…")
	golden.Check(t, "testdata/quickstart.golden", got)
}

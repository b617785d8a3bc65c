package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry"
)

var update = flag.Bool("update", false, "rewrite the golden file")

const golden = "testdata/quickstart.golden"

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
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("quickstart output (-want +got):\n%s", diff)
	}
}

package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/examples/internal/golden"
)

// TestManifestOutput runs the example with a deterministic clock and id
// source and compares its output with the reviewed golden file.
func TestManifestOutput(t *testing.T) {
	clock := tenantry.NewManualClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	var out bytes.Buffer
	if err := run(context.Background(), &out, tenantry.Config{Now: clock.Now, NewID: tenantry.SequentialIDs("manifest")}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/manifest.golden", out.String())
}

package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/examples/internal/golden"
)

// TestTimeboundOutput runs the example with a deterministic start and id
// source and compares its output with the reviewed golden file.
func TestTimeboundOutput(t *testing.T) {
	var out bytes.Buffer
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	if err := run(context.Background(), &out, tenantry.Config{NewID: tenantry.SequentialIDs("timebound")}, start); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/timebound.golden", out.String())
}

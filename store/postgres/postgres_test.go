package postgres_test

import (
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/store/storetest"
)

// newStore opens a store in a schema of the test's own: fresh for each
// subtest, emptied for each rapid check of the Properties subtest.
func newStore(t *testing.T) store.Store {
	return open(t, postgres.Config{Schema: emptySchema(t)})
}

// The suite's Properties machine reads every key of every index after
// every step: at a round trip per read, 100 rapid checks take minutes, so
// the suite runs 10 here (5 under Replay) unless -rapid.checks is given
// (go test ./store/postgres -rapid.checks=100 runs the full count).
func TestConformance(t *testing.T) {
	rapidChecks(t, 10)
	storetest.Run(t, newStore)
}

// TestConformanceReplay runs the suite with every update function run
// twice, the first run rolled back.
func TestConformanceReplay(t *testing.T) {
	rapidChecks(t, 5)
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.Replay(newStore(t)) })
}

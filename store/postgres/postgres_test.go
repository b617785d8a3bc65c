package postgres_test

import (
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, postgres.Config{}) })
}

// TestConformanceReplay runs the suite with every update function run
// twice, the first run rolled back.
func TestConformanceReplay(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return storetest.Replay(open(t, postgres.Config{})) })
}

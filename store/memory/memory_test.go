package memory_test

import (
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memory.New() })
}

// TestConformanceReplay runs the suite with every update function run
// twice, the first run rolled back: the store and the suite's own update
// functions must be re-runnable.
func TestConformanceReplay(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return storetest.Replay(memory.New()) })
}

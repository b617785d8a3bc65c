package tenantry

import (
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/store/storetest"
)

// The rapid machines again, over a store that runs every update function
// twice and discards the first run, as a backend retrying serialization
// failures does: every Directory operation must be re-runnable.

func newReplayStore() store.Store { return storetest.Replay(memory.New()) }

func TestReplayDirectoryInvariants(t *testing.T) {
	RunDirectoryInvariants(t, newReplayStore)
}

// ftStore, when set, makes the store of every flows fixture (newFT); nil
// leaves the Directory's default. Tests of this package do not run in
// parallel, so a test may set it for its duration.
var ftStore func() store.Store

func ftFixtureStore() store.Store {
	if ftStore == nil {
		return nil
	}
	return ftStore()
}

func TestReplayFlowProperties(t *testing.T) {
	ftStore = newReplayStore
	t.Cleanup(func() { ftStore = nil })
	for _, test := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"ClaimsWithinGrants", TestFlowPropertyClaimsWithinGrants},
		{"RevocationStopsTokens", TestFlowPropertyRevocationStopsTokens},
		{"Audience", TestFlowPropertyAudience},
		{"RoundTrip", TestFlowPropertyRoundTrip},
		{"FlippedByte", TestFlowPropertyFlippedByte},
	} {
		t.Run(test.name, test.fn)
	}
}

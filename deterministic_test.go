package tenantry_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry"
)

func TestManualClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := tenantry.NewManualClock(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now = %v, want %v", got, t0)
	}
	c.Advance(90 * time.Minute)
	if got := c.Now(); !got.Equal(t0.Add(90 * time.Minute)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(t0.Add(-time.Hour))
	if got := c.Now(); !got.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("after Set: %v", got)
	}
	if got := new(tenantry.ManualClock).Now(); !got.IsZero() {
		t.Fatalf("zero clock reads %v", got)
	}
	// Concurrent advances all count (run with -race).
	c.Set(t0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(t0.Add(800 * time.Second)) {
		t.Fatalf("after concurrent advances: %v, want %v", got, t0.Add(800*time.Second))
	}
}

func TestSequentialIDs(t *testing.T) {
	a, again, other := tenantry.SequentialIDs("a"), tenantry.SequentialIDs("a"), tenantry.SequentialIDs("b")
	seen := map[string]bool{}
	for i := range 1000 {
		id := a()
		if u, err := uuid.Parse(id); err != nil || u.String() != id || u.Version() != 5 {
			t.Fatalf("id %d = %q is not a canonical UUID (%v)", i, id, err)
		}
		if seen[id] {
			t.Fatalf("id %d = %s repeats", i, id)
		}
		seen[id] = true
		if got := again(); got != id {
			t.Fatalf("id %d differs between two sources of one seed: %s, %s", i, id, got)
		}
		if o := other(); seen[o] {
			t.Fatalf("seed b repeats an id of seed a: %s", o)
		}
	}
	// Concurrent calls never return the same id twice (run with -race).
	ids := tenantry.SequentialIDs("concurrent")
	var mu sync.Mutex
	got := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				id := ids()
				mu.Lock()
				if got[id] {
					t.Errorf("concurrent id %s repeats", id)
				}
				got[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != 800 {
		t.Fatalf("%d distinct ids, want 800", len(got))
	}
}

// Package testutil holds deterministic clocks and id sources for tests and
// examples of tenantry.
package testutil

import (
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// IDs returns a deterministic source of UUID strings derived from seed.
func IDs(seed string) func() string {
	var mu sync.Mutex
	n := 0
	ns := uuid.NewSHA1(uuid.NameSpaceOID, []byte(seed))
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return uuid.NewSHA1(ns, []byte(fmt.Sprint(n))).String()
	}
}

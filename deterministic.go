package tenantry

import (
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
)

// ManualClock is a clock that moves only when told to, for tests, examples
// and simulations: pass its Now method as [Config.Now], then Set or Advance
// it to let tokens, codes, credentials and keys expire. It is safe for
// concurrent use. The zero value reads the zero time; use
// [NewManualClock].
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock that reads t until it is set or advanced.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forward or back.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d (back for a negative d).
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// SequentialIDs returns a deterministic source of object ids for
// [Config.NewID], so that a test or an example prints the same ids on
// every run: the n-th call returns the name-based (version 5) UUID of n in
// a namespace derived from seed. The ids are valid UUIDs, distinct from
// each other and, with overwhelming probability, from those of another
// seed. The function is safe for concurrent use. Production directories
// keep the default, random UUIDs: sequential ids are guessable.
func SequentialIDs(seed string) func() string {
	var mu sync.Mutex
	n := 0
	ns := uuid.NewSHA1(uuid.NameSpaceOID, []byte(seed))
	return func() string {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		return uuid.NewSHA1(ns, []byte(strconv.Itoa(i))).String()
	}
}

package storetest

import (
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tenantry/tenantry/store"
)

// Concurrency sizes: small enough for -race on two cores, large enough for
// readers to meet writers many times.
const (
	writers      = 4
	readers      = 2
	writesEach   = 40
	optimisticN  = 20
	transferSize = 1000
)

// counter is a Code whose Data holds a decimal number.
func counter(name string, n int) store.Code {
	c := newCode(name, id("tenant/contoso"))
	c.Data = []byte(strconv.Itoa(n))
	return c
}

func value(c store.Code) int {
	n, err := strconv.Atoi(string(c.Data))
	if err != nil {
		return -1 << 31
	}
	return n
}

// readLoop runs read in every reader goroutine until stop is closed, and
// returns the number of reads.
func readLoop(t *testing.T, s store.Store, stop <-chan struct{}, read func(tx store.ReadTx) error) *sync.WaitGroup {
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := s.View(t.Context(), read); err != nil {
					t.Errorf("concurrent View returned %v, want success", err)
					return
				}
				reads.Add(1)
			}
		})
	}
	t.Cleanup(func() { t.Logf("%d concurrent reads", reads.Load()) })
	return &wg
}

// testIsolationTransfer: writers move amounts between two records and count
// the moves in a third record and in the audit log, one Update per move;
// concurrent readers always see the total unchanged and as many audit
// events as moves, through Get and List. A partial transaction would break
// one of these.
func testIsolationTransfer(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	a, b, n := counter("a", transferSize/2), counter("b", transferSize/2), counter("n", 0)
	update(t, s, "initial balances", func(tx store.Tx) error {
		for _, c := range []store.Code{a, b, n} {
			if err := store.Codes.Create(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	stop := make(chan struct{})
	rwg := readLoop(t, s, stop, func(tx store.ReadTx) error {
		ga, err1 := store.Codes.Get(tx, a.ID)
		gb, err2 := store.Codes.Get(tx, b.ID)
		gn, err3 := store.Codes.Get(tx, n.ID)
		if err := errors.Join(err1, err2, err3); err != nil {
			return err
		}
		if value(ga)+value(gb) != transferSize {
			t.Errorf("a View saw balances %d + %d, want a total of %d: a partial transaction", value(ga), value(gb), transferSize)
		}
		listed, err := store.Codes.All(tx, "", "")
		if err != nil {
			return err
		}
		sum := 0
		for _, c := range listed {
			if c.ID != n.ID {
				sum += value(c)
			}
		}
		if sum != transferSize {
			t.Errorf("a View listed balances summing to %d, want %d: a partial transaction", sum, transferSize)
		}
		events, err := tx.Audit(0, 0)
		if err != nil {
			return err
		}
		if len(events) != value(gn) {
			t.Errorf("a View saw %d moves and %d audit events, want as many: a partial transaction", value(gn), len(events))
		}
		return nil
	})
	var wwg sync.WaitGroup
	for w := range writers {
		wwg.Go(func() {
			for i := range writesEach {
				err := s.Update(t.Context(), func(tx store.Tx) error {
					ga, err1 := store.Codes.Get(tx, a.ID)
					gb, err2 := store.Codes.Get(tx, b.ID)
					gn, err3 := store.Codes.Get(tx, n.ID)
					if err := errors.Join(err1, err2, err3); err != nil {
						return err
					}
					amount := (w*7+i*13)%50 - 20
					ga.Data = []byte(strconv.Itoa(value(ga) - amount))
					gb.Data = []byte(strconv.Itoa(value(gb) + amount))
					gn.Data = []byte(strconv.Itoa(value(gn) + 1))
					return errors.Join(
						store.Codes.Put(tx, ga),
						tx.AppendAudit(store.AuditEvent{Time: at(0), Actor: "writer", Action: "transfer", TargetKind: "code", TargetID: a.ID}),
						store.Codes.Put(tx, gb),
						store.Codes.Put(tx, gn),
					)
				})
				if err != nil {
					t.Errorf("transfer Update returned %v, want success", err)
					return
				}
			}
		})
	}
	wwg.Wait()
	close(stop)
	rwg.Wait()
	ga, _, _ := get(t, s, store.Codes, a.ID)
	gb, _, _ := get(t, s, store.Codes, b.ID)
	gn, _, _ := get(t, s, store.Codes, n.ID)
	if value(ga)+value(gb) != transferSize || value(gn) != writers*writesEach {
		t.Errorf("after the transfers: balances %d + %d and %d moves, want a total of %d and %d moves",
			value(ga), value(gb), value(gn), transferSize, writers*writesEach)
	}
}

// testIsolationIndex: writers swap the states of two signing keys in one
// Update; concurrent readers always find exactly one active and one next
// key through the index, agreeing with Get.
func testIsolationIndex(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	k1, k2 := newSigningKey("kid-1", "active"), newSigningKey("kid-2", "next")
	update(t, s, "initial keys", func(tx store.Tx) error {
		return errors.Join(store.SigningKeys.Create(tx, k1), store.SigningKeys.Create(tx, k2))
	})
	stop := make(chan struct{})
	rwg := readLoop(t, s, stop, func(tx store.ReadTx) error {
		active, err1 := store.SigningKeys.Lookup(tx, store.KeyByState, "active")
		next, err2 := store.SigningKeys.Lookup(tx, store.KeyByState, "next")
		listed, _, err3 := store.SigningKeys.List(tx, store.KeyByState, "active", store.Page{})
		if err := errors.Join(err1, err2, err3); err != nil {
			return err
		}
		if len(active) != 1 || len(next) != 1 || len(listed) != 1 || active[0].ID == next[0].ID || listed[0].ID != active[0].ID {
			t.Errorf("a View found %d active keys (%d listed) and %d next keys, want one of each, distinct: a partial transaction", len(active), len(listed), len(next))
			return nil
		}
		got, err := store.SigningKeys.Get(tx, active[0].ID)
		if err != nil {
			return err
		}
		if got.State != "active" {
			t.Errorf("a View found key %s under state active, but Get says %q: a partial transaction", got.ID, got.State)
		}
		return nil
	})
	var wwg sync.WaitGroup
	for range writers / 2 {
		wwg.Go(func() {
			for range writesEach {
				err := s.Update(t.Context(), func(tx store.Tx) error {
					g1, err1 := store.SigningKeys.Get(tx, k1.ID)
					g2, err2 := store.SigningKeys.Get(tx, k2.ID)
					if err := errors.Join(err1, err2); err != nil {
						return err
					}
					g1, g2 = g1.Clone(), g2.Clone()
					g1.State, g2.State = g2.State, g1.State
					return errors.Join(store.SigningKeys.Put(tx, g1), store.SigningKeys.Put(tx, g2))
				})
				if err != nil {
					t.Errorf("swap Update returned %v, want success", err)
					return
				}
			}
		})
	}
	wwg.Wait()
	close(stop)
	rwg.Wait()
}

// testConcurrentCounter: writers increment one counter in read-modify-write
// Updates and log each increment; the counter ends at the exact total, and
// the audit log holds the increments in commit order.
func testConcurrentCounter(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	c := counter("counter", 0)
	update(t, s, "initial counter", func(tx store.Tx) error { return store.Codes.Create(tx, c) })
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range writesEach {
				err := s.Update(t.Context(), func(tx store.Tx) error {
					got, err := store.Codes.Get(tx, c.ID)
					if err != nil {
						return err
					}
					n := value(got) + 1
					if err := store.Codes.Put(tx, counter("counter", n)); err != nil {
						return err
					}
					return tx.AppendAudit(store.AuditEvent{Time: at(0), Actor: "writer", Action: "increment", TargetKind: "code", TargetID: strconv.Itoa(n)})
				})
				if err != nil {
					t.Errorf("increment Update returned %v, want success", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, _, _ := get(t, s, store.Codes, c.ID)
	if value(got) != writers*writesEach {
		t.Errorf("counter is %d after %d concurrent increments, want %d: a lost update", value(got), writers*writesEach, writers*writesEach)
	}
	view(t, s, "audit of increments", func(tx store.ReadTx) error {
		events, err := tx.Audit(0, 0)
		if !noErr(t, err, "Audit") {
			return nil
		}
		if len(events) != writers*writesEach {
			t.Errorf("audit log has %d events after %d increments, want one each", len(events), writers*writesEach)
		}
		for i, e := range events {
			if e.TargetID != strconv.Itoa(i+1) {
				t.Errorf("audit event %d (Seq %d) logs increment %s, want %d: Seqs not in commit order", i, e.Seq, e.TargetID, i+1)
				break
			}
		}
		return nil
	})
}

// testOptimisticCounter: writers read the counter in a View and write it
// back with PutIf in a separate Update, retrying on ErrConflict; no
// increment is lost.
func testOptimisticCounter(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	c := counter("counter", 0)
	update(t, s, "initial counter", func(tx store.Tx) error { return store.Codes.Create(tx, c) })
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range optimisticN {
				for {
					var cur store.Code
					var rev store.Rev
					err := s.View(t.Context(), func(tx store.ReadTx) (err error) {
						cur, rev, err = store.Codes.GetRev(tx, c.ID)
						return err
					})
					if err != nil {
						t.Errorf("View returned %v, want success", err)
						return
					}
					runtime.Gosched() // let other writers in between read and write
					err = s.Update(t.Context(), func(tx store.Tx) error {
						return store.Codes.PutIf(tx, counter("counter", value(cur)+1), rev)
					})
					if errors.Is(err, store.ErrConflict) {
						conflicts.Add(1)
						continue
					}
					if err != nil {
						t.Errorf("PutIf Update returned %v, want success or ErrConflict", err)
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d conflicts retried", conflicts.Load())
	got, _, _ := get(t, s, store.Codes, c.ID)
	if value(got) != writers*optimisticN {
		t.Errorf("counter is %d after %d optimistic increments, want %d: a lost update", value(got), writers*optimisticN, writers*optimisticN)
	}
}

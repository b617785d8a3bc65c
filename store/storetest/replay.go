package storetest

import (
	"context"
	"errors"

	"github.com/tenantry/tenantry/store"
)

// Replay returns a Store that runs every update function twice and keeps
// only the second run: the first runs in a transaction of its own that is
// then rolled back, whatever fn returned, and the second, in a new
// transaction, is the one whose result counts. This is what a backend that
// retries serialization failures does (PostgreSQL at SERIALIZABLE, for
// instance), and the contract of [store.Store.Update] allows it: fn may run
// more than once and must touch nothing but its transaction.
//
// Run code under Replay to find update functions that are not re-runnable:
// one that appends to a slice it closes over, counts, draws an id it keeps
// from the first run, or otherwise has effects outside the transaction
// gives a different result under Replay than without it.
//
// The first run's transaction is gone when the second starts, so a
// transaction kept by fn fails like any kept transaction. If the first run
// panics, the panic propagates and nothing is written. If s cannot run the
// first transaction (a done context, a closed store), its error is
// returned and fn does not run again. Every other method is s's own.
func Replay(s store.Store) store.Store {
	return replay{s}
}

type replay struct {
	store.Store
}

// errRollback makes the backend discard the first run.
var errRollback = errors.New("storetest: replay: first run rolled back")

func (r replay) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		_ = fn(tx) // the first run's result is discarded with its writes
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return err
	}
	return r.Store.Update(ctx, fn)
}

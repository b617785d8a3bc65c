package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/store"
)

// Replay returns a Store that runs every update function twice and keeps
// only the second run: the first runs in a transaction of its own that is
// then rolled back, whatever fn returned, and the second, in a new
// transaction, is the one whose result counts. This is what a backend that
// retries serialization failures does (PostgreSQL at SERIALIZABLE, for
// instance), and the contract of [store.Store.Update] allows it: fn may run
// more than once and must touch nothing but its transaction. View
// functions run twice too, each run in a View of its own, and the second
// run's result is returned: a backend may run them again (the PostgreSQL
// store does when its cache turns out older than its snapshot), as
// [store.Store.View] allows.
//
// Run code under Replay to find update functions that are not re-runnable:
// one that appends to a slice it closes over, counts, draws an id it keeps
// from the first run, or otherwise has effects outside the transaction
// gives a different result under Replay than without it. One effect
// Replay detects itself: a first run that changes a value it read in
// place, which changes the stored record behind the backend's back (values
// read from a store may share memory with it, see package store): Replay
// keeps a copy of every value the first run reads, compares them after the
// rollback, and if one changed it returns an error matching
// ErrNotRerunnable instead of running fn again.
//
// The first run reads through a wrapper of the backend's transaction that
// offers store.UniqueReader whether or not the backend does (answering as
// Collection.One does without it) and hides any other optional capability;
// the second run gets the backend's transaction itself. The first run's
// transaction is gone when the second starts, so a transaction kept by fn
// fails like any kept transaction. If the first run panics, the panic
// propagates and nothing is written. If s cannot run the first transaction
// (a done context, a closed store), its error is returned and fn does not
// run again. Every other method is s's own.
func Replay(s store.Store) store.Store {
	return replay{s}
}

// ErrNotRerunnable is returned by Update or View of a Replay store whose
// function changed a stored record outside its transaction.
var ErrNotRerunnable = errors.New("storetest: replay: the function is not re-runnable")

type replay struct {
	store.Store
}

// errRollback makes the backend discard the first run.
var errRollback = errors.New("storetest: replay: first run rolled back")

func (r replay) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	var first *trackedTx
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		first = &trackedTx{Tx: tx, r: &trackedRead{ReadTx: tx, seen: map[recordKey]bool{}}}
		_ = fn(first) // the first run's result is discarded with its writes
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return err
	}
	if err := first.r.unchanged(); err != nil {
		return err
	}
	return r.Store.Update(ctx, fn)
}

func (r replay) View(ctx context.Context, fn func(tx store.ReadTx) error) error {
	var first *trackedRead
	err := r.Store.View(ctx, func(tx store.ReadTx) error {
		first = &trackedRead{ReadTx: tx, seen: map[recordKey]bool{}}
		_ = fn(first) // the first run's result is discarded
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		return err
	}
	if err := first.unchanged(); err != nil {
		return err
	}
	return r.Store.View(ctx, fn)
}

type recordKey struct{ kind, id string }

// trackedRead reads for a first run: it keeps every value it reads with
// a copy made at the first read, so that Update and View can tell whether
// the run changed one in place.
type trackedRead struct {
	store.ReadTx
	seen  map[recordKey]bool
	reads []readValue
}

// trackedTx is the transaction of an update function's first run: its
// writes are the backend's, its reads are tracked.
type trackedTx struct {
	store.Tx
	r *trackedRead
}

type readValue struct {
	k        store.Kind
	v, clone any
}

// unchanged reports an error matching ErrNotRerunnable if a value the run
// read differs from its copy.
func (t *trackedRead) unchanged() error {
	for _, rv := range t.reads {
		// Both sides are clones, so that a Clone that turns an empty
		// slice into nil does not count as a change.
		if now := rv.k.Clone(rv.v); !reflect.DeepEqual(rv.clone, now) {
			return fmt.Errorf("%w: its first run changed %s %q, as read, in place (-read +after the run):\n%s",
				ErrNotRerunnable, rv.k.Name(), rv.k.ID(rv.v), cmp.Diff(rv.clone, now))
		}
	}
	return nil
}

func (t *trackedRead) note(k store.Kind, vs ...any) {
	for _, v := range vs {
		key := recordKey{k.Name(), k.ID(v)}
		if !t.seen[key] {
			t.seen[key] = true
			t.reads = append(t.reads, readValue{k, v, k.Clone(v)})
		}
	}
}

func (t *trackedRead) Get(k store.Kind, id string) (any, store.Rev, error) {
	v, rev, err := t.ReadTx.Get(k, id)
	if err == nil {
		t.note(k, v)
	}
	return v, rev, err
}

func (t *trackedRead) Lookup(k store.Kind, index, key string) ([]any, error) {
	vs, err := t.ReadTx.Lookup(k, index, key)
	t.note(k, vs...)
	return vs, err
}

func (t *trackedRead) List(k store.Kind, index, key string, p store.Page) ([]any, string, error) {
	vs, next, err := t.ReadTx.List(k, index, key, p)
	t.note(k, vs...)
	return vs, next, err
}

// One keeps the backend's store.UniqueReader, if it has one, and
// otherwise answers as Collection.One does without it.
func (t *trackedRead) One(k store.Kind, index, key string) (any, error) {
	u, ok := t.ReadTx.(store.UniqueReader)
	if !ok {
		vs, err := t.Lookup(k, index, key)
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("%w: %s with %s %q", store.ErrNotFound, k.Name(), index, key)
		}
		return vs[0], nil
	}
	v, err := u.One(k, index, key)
	if err == nil {
		t.note(k, v)
	}
	return v, err
}

func (t *trackedTx) Get(k store.Kind, id string) (any, store.Rev, error) { return t.r.Get(k, id) }

func (t *trackedTx) Lookup(k store.Kind, index, key string) ([]any, error) {
	return t.r.Lookup(k, index, key)
}

func (t *trackedTx) List(k store.Kind, index, key string, p store.Page) ([]any, string, error) {
	return t.r.List(k, index, key, p)
}

func (t *trackedTx) One(k store.Kind, index, key string) (any, error) { return t.r.One(k, index, key) }

package memory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tenantry/tenantry/store"
)

// Store is the in-memory store. Create one with New; the zero Store is not
// usable. It is safe for concurrent use.
type Store struct {
	// wmu serialises Update calls: one read-write transaction runs at a
	// time, so a transaction never conflicts and is never retried.
	wmu chan struct{} // capacity 1: a mutex whose Lock can give up on ctx
	// mu guards the committed state below. View holds it in read mode for
	// the whole of its function; a commit holds it in write mode only while
	// applying a transaction's prepared writes. The goroutine holding wmu
	// may read the committed state without mu, since only it changes it.
	mu     sync.RWMutex
	tables map[string]*table // by kind name
	rev    store.Rev         // revision of the last commit that wrote records
	audit  auditLog
	closed bool // set under both wmu and mu
	// signIns has a lock of its own: appending to it waits for neither
	// transactions nor readers.
	signIns signInLog
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{tables: map[string]*table{}, wmu: make(chan struct{}, 1)}
}

// View runs fn with a read transaction on the committed state. The store's
// lock is held in read mode until fn returns: reads are consistent, and a
// commit waits for fn, so keep View functions short (no I/O, no waiting on
// other goroutines) and do not call Update from fn, which would deadlock.
// fn's error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(tx store.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: view: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("memory: view: %w", store.ErrClosed)
	}
	rt := &readTx{s: s}
	defer rt.done.Store(true)
	return fn(rt)
}

// Update runs fn in a read-write transaction. Updates are serialised: fn
// runs exactly once, while no other Update runs, so it never sees a
// conflict. Its writes go to a private overlay that its own reads see; if
// fn returns nil they are applied atomically, under the store's write lock
// for just the time the apply takes. If fn returns an error, or panics (the
// panic propagates), or ctx is done before fn starts or before commit,
// nothing is written. fn's error is returned unchanged.
//
// Revisions: every record written by one commit gets the same revision,
// one more than the previous commit's. Inside fn, Get of a record written
// by the transaction returns the revision it will have after commit. Audit
// events appended by fn get consecutive Seqs, following the last committed
// event's; Audit inside fn shows them with those Seqs.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: update: %w", err)
	}
	select {
	case s.wmu <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("memory: update: %w", ctx.Err())
	}
	defer func() { <-s.wmu }()
	if s.closed {
		return fmt.Errorf("memory: update: %w", store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: update: %w", err)
	}
	t := &tx{s: s, rev: s.rev + 1, seq: s.audit.n}
	defer t.done.Store(true) // also when fn panics
	err := fn(t)
	t.done.Store(true) // before commit: a kept tx must not write during it
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: update: not committed: %w", err)
	}
	t.commit()
	return nil
}

// Close empties the store and makes later calls of View, Update and Close
// return store.ErrClosed. It waits for running transactions to end.
func (s *Store) Close() error {
	s.wmu <- struct{}{}
	defer func() { <-s.wmu }()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memory: close: %w", store.ErrClosed)
	}
	s.closed = true
	s.tables, s.audit = nil, auditLog{}
	s.signIns.close()
	return nil
}

// errDone is returned by a transaction used after its View or Update
// returned.
var errDone = fmt.Errorf("memory: transaction used after it ended: %w", store.ErrClosed)

// readTx is the transaction of View.
type readTx struct {
	s    *Store
	done atomic.Bool
}

func (rt *readTx) check() error {
	if rt.done.Load() {
		return errDone
	}
	return nil
}

// Get implements store.ReadTx.
func (rt *readTx) Get(k store.Kind, id string) (any, store.Rev, error) {
	if err := rt.check(); err != nil {
		return nil, 0, err
	}
	return getCommitted(rt.s.tables[k.Name()], k, id)
}

// Lookup implements store.ReadTx.
func (rt *readTx) Lookup(k store.Kind, index, key string) ([]any, error) {
	if err := rt.check(); err != nil {
		return nil, err
	}
	return lookup(rt.s.tables[k.Name()], nil, k, index, key)
}

// One implements store.UniqueReader: one map access for a unique key.
func (rt *readTx) One(k store.Kind, index, key string) (any, error) {
	if err := rt.check(); err != nil {
		return nil, err
	}
	return oneCommitted(rt.s.tables[k.Name()], k, index, key)
}

// oneCommitted returns the committed record holding key in a unique index
// of t (nil if the kind has no records): one map access.
func oneCommitted(t *table, k store.Kind, index, key string) (any, error) {
	pos, err := indexPos(k, index)
	if err != nil {
		return nil, err
	}
	if t != nil && t.uniq[pos] != nil {
		if h, ok := t.uniq[pos][key]; ok {
			return h.v, nil
		}
		return nil, fmt.Errorf("%w: %s with %s %q", store.ErrNotFound, k.Name(), index, key)
	}
	vs, err := lookup(t, nil, k, index, key)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: %s with %s %q", store.ErrNotFound, k.Name(), index, key)
	}
	return vs[0], nil
}

var _ store.UniqueReader = (*readTx)(nil)

// List implements store.ReadTx.
func (rt *readTx) List(k store.Kind, index, key string, p store.Page) ([]any, string, error) {
	if err := rt.check(); err != nil {
		return nil, "", err
	}
	return list(rt.s.tables[k.Name()], nil, k, index, key, p)
}

// Audit implements store.ReadTx.
func (rt *readTx) Audit(after int64, limit int) ([]store.AuditEvent, error) {
	if err := rt.check(); err != nil {
		return nil, err
	}
	return rt.s.audit.window(nil, after, limit), nil
}

// AuditEvents implements store.ReadTx. View holds the store's read lock,
// so the log cannot change during the scan.
func (rt *readTx) AuditEvents(f store.AuditFilter, p store.LogPage) ([]store.AuditEvent, int64, error) {
	if err := rt.check(); err != nil {
		return nil, 0, err
	}
	l := &rt.s.audit
	events, next := page(l.n, l.at, f.Match, p)
	return events, next, nil
}

func getCommitted(t *table, k store.Kind, id string) (any, store.Rev, error) {
	if t != nil {
		if e, ok := t.rows[id]; ok {
			return e.v, e.rev, nil
		}
	}
	return nil, 0, fmt.Errorf("memory: %s %q: %w", k.Name(), id, store.ErrNotFound)
}

// lookup returns the values of the records whose index has key, sorted by
// id, from the committed table t overlaid with the pending writes o (either
// may be nil).
func lookup(t *table, o *overlay, k store.Kind, index, key string) ([]any, error) {
	if index == "" {
		return nil, fmt.Errorf("memory: lookup %s: index is required", k.Name())
	}
	pos, err := indexPos(k, index)
	if err != nil {
		return nil, err
	}
	var out []any
	if o == nil || len(o.writes) == 0 {
		if n := t.count(pos, key); n > 0 {
			out = make([]any, 0, n)
			t.ascend(pos, key, "", func(_ string, v any) bool {
				out = append(out, v)
				return true
			})
		}
		return out, nil
	}
	merge(t, pos, key, "", o, o.pendingIDs(pos, key, ""), func(_ string, v any) bool {
		out = append(out, v)
		return true
	})
	return out, nil
}

// list returns a page of the records whose index has key (index "": every
// record), from the committed table t overlaid with the pending writes o
// (either may be nil).
func list(t *table, o *overlay, k store.Kind, index, key string, p store.Page) ([]any, string, error) {
	pos := -1
	if index != "" {
		var err error
		if pos, err = indexPos(k, index); err != nil {
			return nil, "", err
		}
	}
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultPageSize
	}
	var pending []string
	if o != nil && len(o.writes) > 0 {
		pending = o.pendingIDs(pos, key, p.After)
	}
	var (
		out  []any
		last string
		more bool
	)
	if limit <= 1024 {
		out = make([]any, 0, limit)
	}
	merge(t, pos, key, p.After, o, pending, func(id string, v any) bool {
		if len(out) == limit {
			more = true
			return false
		}
		out = append(out, v)
		last = id
		return true
	})
	if !more {
		last = ""
	}
	return out, last, nil
}

// merge calls yield, in id order, with the committed records of t after
// `after` that have key in index pos (skipping ids with a pending write in
// o, which may be nil) and the pending records with the sorted ids pending,
// until yield returns false.
func merge(t *table, pos int, key, after string, o *overlay, pending []string, yield func(id string, v any) bool) {
	stopped := false
	t.ascend(pos, key, after, func(id string, v any) bool {
		if o != nil {
			if _, ok := o.writes[id]; ok {
				return true
			}
		}
		for len(pending) > 0 && pending[0] < id {
			if !yield(pending[0], o.writes[pending[0]].v) {
				stopped = true
				return false
			}
			pending = pending[1:]
		}
		if !yield(id, v) {
			stopped = true
			return false
		}
		return true
	})
	if stopped {
		return
	}
	for _, id := range pending {
		if !yield(id, o.writes[id].v) {
			return
		}
	}
}

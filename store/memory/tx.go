package memory

import (
	"bytes"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/tenantry/tenantry/store"
)

// tx is the transaction of Update. It runs while the store's writer mutex
// is held, so the committed state cannot change under it and it reads that
// state without taking the read lock.
type tx struct {
	s        *Store
	rev      store.Rev  // revision of this transaction's writes
	seq      int64      // Seq of the last committed audit event at start
	overlays []*overlay // one per kind written; transactions touch few kinds
	audit    []store.AuditEvent
	done     atomic.Bool
}

// pendingIndexAt is the number of pending writes to a kind from which its
// overlay keeps an index of their keys. Below it, unique checks and index
// reads scan the pending writes, which is cheaper than maintaining maps.
const pendingIndexAt = 16

// overlay holds a transaction's pending writes to one kind.
type overlay struct {
	k      store.Kind
	name   string
	base   *table // committed records; nil if the kind has none yet
	writes map[string]write
	// idx[i][key] lists the pending, not deleted records that have key in
	// index i. idx is nil until the overlay has pendingIndexAt writes and a
	// read or a unique check needs it; then idx[i] is built on the first
	// demand for index i and kept up to date.
	idx []map[string]map[string]struct{}
	// sorted caches pendingIDs per (index, key) until the next write.
	sorted map[sortKey][]string
}

type sortKey struct {
	pos int
	key string
}

// write is a pending write: the cloned value and its index keys, or a
// tombstone (v == nil) for a deleted committed record.
type write struct {
	v    any
	keys [][]string // per index, in Kind.Indexes() order
}

func (t *tx) check() error {
	if t.done.Load() {
		return errDone
	}
	return nil
}

// overlay returns the pending writes of k, or nil if there are none and
// create is false.
func (t *tx) overlay(k store.Kind, create bool) *overlay {
	name := k.Name()
	for _, o := range t.overlays {
		if o.name == name {
			return o
		}
	}
	if !create {
		return nil
	}
	o := &overlay{k: k, name: name, base: t.s.tables[name], writes: map[string]write{}}
	t.overlays = append(t.overlays, o)
	return o
}

// exists reports whether record id of k exists as the transaction sees it,
// and its revision.
func (t *tx) exists(k store.Kind, id string) (store.Rev, bool) {
	if o := t.overlay(k, false); o != nil {
		if w, ok := o.writes[id]; ok {
			return t.rev, w.v != nil
		}
	}
	e, ok := t.s.tables[k.Name()].row(id)
	return e.rev, ok
}

// Get implements store.ReadTx. A record written by this transaction has the
// revision it will get at commit.
func (t *tx) Get(k store.Kind, id string) (any, store.Rev, error) {
	if err := t.check(); err != nil {
		return nil, 0, err
	}
	if o := t.overlay(k, false); o != nil {
		if w, ok := o.writes[id]; ok {
			if w.v == nil {
				return nil, 0, fmt.Errorf("memory: %s %q: %w", k.Name(), id, store.ErrNotFound)
			}
			return w.v, t.rev, nil
		}
	}
	return getCommitted(t.s.tables[k.Name()], k, id)
}

// Lookup implements store.ReadTx.
func (t *tx) Lookup(k store.Kind, index, key string) ([]any, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return lookup(t.s.tables[k.Name()], t.overlay(k, false), k, index, key)
}

// One implements store.UniqueReader. Without pending writes to the kind
// it reads the committed unique index, one map access as in View;
// otherwise it merges the pending writes, as Lookup does.
func (t *tx) One(k store.Kind, index, key string) (any, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	o := t.overlay(k, false)
	if o == nil || len(o.writes) == 0 {
		return oneCommitted(t.s.tables[k.Name()], k, index, key)
	}
	vs, err := lookup(t.s.tables[k.Name()], o, k, index, key)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: %s with %s %q", store.ErrNotFound, k.Name(), index, key)
	}
	return vs[0], nil
}

var _ store.UniqueReader = (*tx)(nil)

// List implements store.ReadTx.
func (t *tx) List(k store.Kind, index, key string, p store.Page) ([]any, string, error) {
	if err := t.check(); err != nil {
		return nil, "", err
	}
	return list(t.s.tables[k.Name()], t.overlay(k, false), k, index, key, p)
}

// Audit implements store.ReadTx: the committed events followed by this
// transaction's, with the Seqs they will get at commit.
func (t *tx) Audit(after int64, limit int) ([]store.AuditEvent, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	out := t.s.audit.window(nil, after, limit)
	for _, e := range t.audit {
		if limit > 0 && len(out) >= limit {
			break
		}
		if e.Seq > after {
			out = append(out, e)
		}
	}
	return out, nil
}

// AuditEvents implements store.ReadTx: the committed events followed by
// this transaction's, with the Seqs they will get at commit.
func (t *tx) AuditEvents(f store.AuditFilter, p store.LogPage) ([]store.AuditEvent, int64, error) {
	if err := t.check(); err != nil {
		return nil, 0, err
	}
	l := &t.s.audit
	at := func(seq int64) *store.AuditEvent {
		if seq <= l.n {
			return l.at(seq)
		}
		return &t.audit[seq-l.n-1]
	}
	events, next := page(l.n+int64(len(t.audit)), at, f.Match, p)
	return events, next, nil
}

// Put implements store.Tx.
func (t *tx) Put(k store.Kind, v any, rev store.Rev) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := k.Check(v); err != nil {
		return fmt.Errorf("memory: put: %w", err)
	}
	id := k.ID(v)
	if rev != 0 {
		if cur, ok := t.exists(k, id); !ok || cur != rev {
			if !ok {
				cur = 0
			}
			return fmt.Errorf("memory: put %s %q: revision %d, want %d: %w", k.Name(), id, cur, rev, store.ErrConflict)
		}
	}
	return t.overlay(k, true).put(id, v)
}

// Create implements store.Tx.
func (t *tx) Create(k store.Kind, v any) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := k.Check(v); err != nil {
		return fmt.Errorf("memory: create: %w", err)
	}
	id := k.ID(v)
	if _, ok := t.exists(k, id); ok {
		return fmt.Errorf("memory: create %s %q: %w", k.Name(), id, store.ErrAlreadyExists)
	}
	return t.overlay(k, true).put(id, v)
}

// Delete implements store.Tx.
func (t *tx) Delete(k store.Kind, id string) error {
	if err := t.check(); err != nil {
		return err
	}
	if _, ok := t.exists(k, id); !ok {
		return fmt.Errorf("memory: delete %s %q: %w", k.Name(), id, store.ErrNotFound)
	}
	o := t.overlay(k, true)
	o.unindex(id)
	if _, committed := o.base.row(id); committed {
		o.writes[id] = write{}
	} else {
		delete(o.writes, id) // created by this transaction: forget it
	}
	return nil
}

// AppendAudit implements store.Tx. The event's Seq is replaced by the one
// it gets at commit; Before and After are copied.
func (t *tx) AppendAudit(e store.AuditEvent) error {
	if err := t.check(); err != nil {
		return err
	}
	e.Seq = t.seq + int64(len(t.audit)) + 1
	e.Before = bytes.Clone(e.Before)
	e.After = bytes.Clone(e.After)
	t.audit = append(t.audit, e)
	return nil
}

// row returns the committed record id of t, which may be nil.
func (t *table) row(id string) (entry, bool) {
	if t == nil {
		return entry{}, false
	}
	e, ok := t.rows[id]
	return e, ok
}

// put checks the unique indexes for a write of v as record id and, if they
// allow it, records the write with a clone of v.
func (o *overlay) put(id string, v any) error {
	keys := keysOf(o.k, v)
	for i, ix := range o.k.Indexes() {
		if !ix.Unique {
			continue
		}
		for _, key := range keys[i] {
			if holder, ok := o.holder(i, key, id); ok {
				return fmt.Errorf("memory: %s %q: index %s key %q is held by %q: %w",
					o.k.Name(), id, ix.Name, key, holder, store.ErrAlreadyExists)
			}
		}
	}
	o.unindex(id)
	w := write{v: o.k.Clone(v), keys: keys}
	o.writes[id] = w
	for i, ids := range o.idx {
		if ids != nil {
			for _, key := range keys[i] {
				addID(ids, key, id)
			}
		}
	}
	return nil
}

// pending calls yield with the ids of the pending, not deleted records that
// have key in index i, in no order, until yield returns false. With few
// pending writes it scans them; from pendingIndexAt on it builds (once) and
// uses an index of their keys in i.
func (o *overlay) pending(i int, key string, yield func(id string) bool) {
	if o.idx == nil && len(o.writes) >= pendingIndexAt {
		o.idx = make([]map[string]map[string]struct{}, len(o.k.Indexes()))
	}
	if o.idx != nil && o.idx[i] == nil {
		ids := map[string]map[string]struct{}{}
		for id, w := range o.writes {
			if w.v != nil {
				for _, k := range w.keys[i] {
					addID(ids, k, id)
				}
			}
		}
		o.idx[i] = ids
	}
	if o.idx != nil {
		for id := range o.idx[i][key] {
			if !yield(id) {
				return
			}
		}
		return
	}
	for id, w := range o.writes {
		if w.v != nil && slices.Contains(w.keys[i], key) && !yield(id) {
			return
		}
	}
}

// holder returns a record other than id that has key in index i, as the
// transaction sees the records.
func (o *overlay) holder(i int, key, id string) (string, bool) {
	var holder string
	o.pending(i, key, func(other string) bool {
		if other != id {
			holder = other
		}
		return holder == ""
	})
	if holder != "" {
		return holder, true
	}
	o.base.ascend(i, key, "", func(other string, _ any) bool {
		if _, pending := o.writes[other]; other != id && !pending {
			holder = other
			return false
		}
		return true
	})
	return holder, holder != ""
}

// unindex removes the pending write of id, if any, from the pending index.
func (o *overlay) unindex(id string) {
	o.sorted = nil // every write goes through here
	w, ok := o.writes[id]
	if !ok || w.v == nil {
		return
	}
	for i, ids := range o.idx {
		if ids == nil {
			continue
		}
		for _, key := range w.keys[i] {
			delete(ids[key], id)
			if len(ids[key]) == 0 {
				delete(ids, key)
			}
		}
	}
}

func addID(ids map[string]map[string]struct{}, key, id string) {
	set := ids[key]
	if set == nil {
		set = map[string]struct{}{}
		ids[key] = set
	}
	set[id] = struct{}{}
}

// pendingIDs returns, sorted, the ids greater than after of the pending,
// not deleted records that have key in index pos (every one if pos < 0).
func (o *overlay) pendingIDs(pos int, key, after string) []string {
	sk := sortKey{pos, key}
	ids, ok := o.sorted[sk]
	if !ok {
		ids = o.collectIDs(pos, key)
		if o.sorted == nil {
			o.sorted = map[sortKey][]string{}
		}
		o.sorted[sk] = ids
	}
	return ids[firstAfter(ids, after):]
}

// collectIDs returns, sorted, the ids of the pending, not deleted records
// that have key in index pos (every one if pos < 0).
func (o *overlay) collectIDs(pos int, key string) []string {
	after := ""
	var ids []string
	if pos < 0 {
		for id, w := range o.writes {
			if w.v != nil && id > after {
				ids = append(ids, id)
			}
		}
	} else {
		o.pending(pos, key, func(id string) bool {
			if id > after {
				ids = append(ids, id)
			}
			return true
		})
	}
	slices.Sort(ids)
	return ids
}

// commit applies the transaction. The index changes are computed first,
// while readers may still run; only their application holds the write lock.
func (t *tx) commit() {
	if len(t.overlays) == 0 && len(t.audit) == 0 {
		return
	}
	n := 0
	for _, o := range t.overlays {
		n += len(o.writes)
	}
	var (
		changes = make([]change, 0, n)
		created []*table
	)
	for _, o := range t.overlays {
		base := o.base
		for id, w := range o.writes {
			if base == nil {
				// The kind's first records: its table is published
				// under the lock below.
				base = newTable(o.k)
				created = append(created, base)
			}
			if c, ok := prepare(base, o.k, id, w); ok {
				changes = append(changes, c)
			}
		}
	}
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tb := range created {
		s.tables[tb.kind.Name()] = tb
	}
	for i := range changes {
		changes[i].apply(t.rev)
	}
	if len(changes) > 0 {
		s.rev = t.rev
	}
	for _, e := range t.audit {
		s.audit.append(e)
	}
}

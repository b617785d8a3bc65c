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
	rev      store.Rev // revision of this transaction's writes
	seq      int64     // Seq of the last committed audit event at start
	overlays map[string]*overlay
	audit    []store.AuditEvent
	done     atomic.Bool
}

// overlay holds a transaction's pending writes to one kind.
type overlay struct {
	k      store.Kind
	base   *table // committed records; nil if the kind has none yet
	writes map[string]*write
	// idx[i][key] is the set of pending, not deleted records that have key
	// in index i.
	idx []map[string]map[string]struct{}
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
	if o, ok := t.overlays[name]; ok || !create {
		return o
	}
	o := &overlay{
		k:      k,
		base:   t.s.tables[name],
		writes: map[string]*write{},
		idx:    make([]map[string]map[string]struct{}, len(k.Indexes())),
	}
	for i := range o.idx {
		o.idx[i] = map[string]map[string]struct{}{}
	}
	if t.overlays == nil {
		t.overlays = map[string]*overlay{}
	}
	t.overlays[name] = o
	return o
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
		if _, cur, err := t.Get(k, id); err != nil || cur != rev {
			return fmt.Errorf("memory: put %s %q: revision %d, want %d: %w", k.Name(), id, cur, rev, store.ErrConflict)
		}
	}
	return t.overlay(k, true).put(id, v, t.rev)
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
	if _, _, err := t.Get(k, id); err == nil {
		return fmt.Errorf("memory: create %s %q: %w", k.Name(), id, store.ErrAlreadyExists)
	}
	return t.overlay(k, true).put(id, v, t.rev)
}

// Delete implements store.Tx.
func (t *tx) Delete(k store.Kind, id string) error {
	if err := t.check(); err != nil {
		return err
	}
	if _, _, err := t.Get(k, id); err != nil {
		return fmt.Errorf("memory: delete: %w", err)
	}
	o := t.overlay(k, true)
	o.unindex(id)
	if _, committed := o.base.row(id); committed {
		o.writes[id] = &write{}
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
func (o *overlay) put(id string, v any, rev store.Rev) error {
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
	o.writes[id] = &write{v: o.k.Clone(v), keys: keys}
	for i, ks := range keys {
		for _, key := range ks {
			ids := o.idx[i][key]
			if ids == nil {
				ids = map[string]struct{}{}
				o.idx[i][key] = ids
			}
			ids[id] = struct{}{}
		}
	}
	return nil
}

// holder returns a record other than id that has key in index i, as the
// transaction sees the records.
func (o *overlay) holder(i int, key, id string) (string, bool) {
	for other := range o.idx[i][key] {
		if other != id {
			return other, true
		}
	}
	if o.base == nil {
		return "", false
	}
	for other := range o.base.idx[i][key].after("") {
		if _, pending := o.writes[other]; other != id && !pending {
			return other, true
		}
	}
	return "", false
}

// unindex removes the pending write of id, if any, from the pending index.
func (o *overlay) unindex(id string) {
	w, ok := o.writes[id]
	if !ok || w.v == nil {
		return
	}
	for i, ks := range w.keys {
		for _, key := range ks {
			ids := o.idx[i][key]
			delete(ids, id)
			if len(ids) == 0 {
				delete(o.idx[i], key)
			}
		}
	}
}

// pendingIDs returns, sorted, the ids greater than after of the pending,
// not deleted records that have key in index pos (every one if pos < 0).
func (o *overlay) pendingIDs(pos int, key, after string) []string {
	var ids []string
	add := func(id string) {
		if after == "" || id > after {
			ids = append(ids, id)
		}
	}
	if pos < 0 {
		for id, w := range o.writes {
			if w.v != nil {
				add(id)
			}
		}
	} else {
		for id := range o.idx[pos][key] {
			add(id)
		}
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
	var (
		changes []change
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

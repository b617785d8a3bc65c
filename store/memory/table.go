package memory

import (
	"fmt"

	"github.com/tenantry/tenantry/store"
)

// table holds the committed records of one kind and their indexes.
type table struct {
	kind store.Kind
	ixs  []store.Index
	rows map[string]entry
	all  idSet              // every id: the listing of index ""
	idx  []map[string]idSet // per index (in ixs order): key → ids
}

// entry is a committed record: the stored (cloned) value and its revision.
type entry struct {
	v   any
	rev store.Rev
}

func newTable(k store.Kind) *table {
	ixs := k.Indexes()
	t := &table{kind: k, ixs: ixs, rows: map[string]entry{}, idx: make([]map[string]idSet, len(ixs))}
	for i := range t.idx {
		t.idx[i] = map[string]idSet{}
	}
	return t
}

// indexPos returns the position of the named index of k (in k.Indexes()
// order) or an error naming the kind and the index.
func indexPos(k store.Kind, index string) (int, error) {
	for i, ix := range k.Indexes() {
		if ix.Name == index {
			return i, nil
		}
	}
	return 0, fmt.Errorf("memory: %s has no index %q", k.Name(), index)
}

// keysOf returns v's keys in every index of k, in k.Indexes() order.
func keysOf(k store.Kind, v any) [][]string {
	ixs := k.Indexes()
	keys := make([][]string, len(ixs))
	for i, ix := range ixs {
		keys[i] = k.Keys(ix.Name, v)
	}
	return keys
}

// change is one record write prepared for commit: the index keys to drop
// and to add are computed before the store is locked, so that the locked
// part of a commit only applies map and set operations.
type change struct {
	t       *table
	id      string
	v       any // nil: delete
	created bool
	deleted bool
	drop    [][]string // per index
	add     [][]string // per index
}

// prepare computes the change that writing w over the committed record id
// of t makes. t may be nil for a kind without committed records.
func prepare(t *table, k store.Kind, id string, w *write) (change, bool) {
	c := change{t: t, id: id, v: w.v}
	var old entry
	var existed bool
	if t != nil {
		old, existed = t.rows[id]
	}
	if !existed && w.v == nil {
		return c, false // created and deleted in the same transaction
	}
	c.created, c.deleted = !existed, w.v == nil
	n := len(k.Indexes())
	c.drop, c.add = make([][]string, n), make([][]string, n)
	var oldKeys [][]string
	if existed {
		oldKeys = keysOf(k, old.v)
	}
	for i := range n {
		var before, after []string
		if existed {
			before = oldKeys[i]
		}
		if w.v != nil {
			after = w.keys[i]
		}
		c.drop[i] = minus(before, after)
		c.add[i] = minus(after, before)
	}
	return c, true
}

// minus returns the keys of a that are not in b. Key lists are short.
func minus(a, b []string) []string {
	var out []string
outer:
	for _, x := range a {
		for _, y := range b {
			if x == y {
				continue outer
			}
		}
		out = append(out, x)
	}
	return out
}

// apply makes c visible; the store's write lock is held.
func (c *change) apply(rev store.Rev) {
	t := c.t
	for i, keys := range c.drop {
		for _, key := range keys {
			set := t.idx[i][key]
			set.remove(c.id)
			if set.len() == 0 {
				delete(t.idx[i], key)
			} else {
				t.idx[i][key] = set
			}
		}
	}
	for i, keys := range c.add {
		for _, key := range keys {
			set := t.idx[i][key]
			set.add(c.id)
			t.idx[i][key] = set
		}
	}
	switch {
	case c.deleted:
		delete(t.rows, c.id)
		t.all.remove(c.id)
	default:
		t.rows[c.id] = entry{v: c.v, rev: rev}
		if c.created {
			t.all.add(c.id)
		}
	}
}

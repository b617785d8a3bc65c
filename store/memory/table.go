package memory

import (
	"fmt"

	"github.com/tenantry/tenantry/store"
)

// table holds the committed records of one kind and their indexes. Index i
// (in Kind.Indexes() order) is uniq[i] if it is unique, else idx[i]; the
// other is nil.
type table struct {
	kind store.Kind
	rows map[string]entry
	all  idSet                // every id: the listing of index ""
	idx  []map[string]idSet   // non-unique index: key → ids
	uniq []map[string]holding // unique index: key → its record
}

// entry is a committed record: the stored (cloned) value and its revision.
type entry struct {
	v   any
	rev store.Rev
}

// holding is the record that holds a unique key. It carries the value
// itself, not only the id, so that a lookup by unique key costs one map
// access instead of two; a commit refreshes it with every write of the
// record.
type holding struct {
	id string
	entry
}

func newTable(k store.Kind) *table {
	ixs := k.Indexes()
	t := &table{kind: k, rows: map[string]entry{},
		idx: make([]map[string]idSet, len(ixs)), uniq: make([]map[string]holding, len(ixs))}
	for i, ix := range ixs {
		if ix.Unique {
			t.uniq[i] = map[string]holding{}
		} else {
			t.idx[i] = map[string]idSet{}
		}
	}
	return t
}

// ascend calls yield, in id order, with the ids greater than after and the
// values of the records that have key in index pos (every record if
// pos < 0), until yield returns false. t may be nil.
func (t *table) ascend(pos int, key, after string, yield func(id string, v any) bool) {
	if t == nil {
		return
	}
	var set idSet
	switch {
	case pos < 0:
		set = t.all
	case t.uniq[pos] != nil:
		if h, ok := t.uniq[pos][key]; ok && h.id > after {
			yield(h.id, h.v)
		}
		return
	default:
		set = t.idx[pos][key]
		if set.one != "" && set.oneV != nil {
			if set.one > after {
				yield(set.one, set.oneV)
			}
			return
		}
	}
	set.ascend(after, func(id string) bool { return yield(id, t.rows[id].v) })
}

// count returns the number of records with key in index pos.
func (t *table) count(pos int, key string) int {
	switch {
	case t == nil:
		return 0
	case t.uniq[pos] != nil:
		if _, ok := t.uniq[pos][key]; ok {
			return 1
		}
		return 0
	}
	return t.idx[pos][key].len()
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
	keys    [][]string // per index: every key of v
	drop    [][]string // per index: keys the record loses
	add     [][]string // per index: keys the record gains
}

// prepare computes the change that writing w over the committed record id
// of t makes. t may be nil for a kind without committed records.
func prepare(t *table, k store.Kind, id string, w write) (change, bool) {
	c := change{t: t, id: id, v: w.v, keys: w.keys}
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
	lists := make([][]string, 2*n)
	c.drop, c.add = lists[:n:n], lists[n:]
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

// minus returns the keys of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	if len(a)*len(b) > 64 { // a group with many members, say
		in := make(map[string]struct{}, len(b))
		for _, y := range b {
			in[y] = struct{}{}
		}
		for _, x := range a {
			if _, ok := in[x]; !ok {
				out = append(out, x)
			}
		}
		return out
	}
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

// apply makes c visible; the store's write lock is held. The changes of
// one commit may be applied in any order: a unique key that one record
// drops and another takes ends with the taker.
func (c *change) apply(rev store.Rev) {
	t := c.t
	for i, keys := range c.drop {
		if u := t.uniq[i]; u != nil {
			for _, key := range keys {
				if u[key].id == c.id {
					delete(u, key)
				}
			}
			continue
		}
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
	if c.deleted {
		delete(t.rows, c.id)
		t.all.remove(c.id)
		return
	}
	e := entry{v: c.v, rev: rev}
	t.rows[c.id] = e
	if c.created {
		t.all.add(c.id)
	}
	for i, keys := range c.add {
		if u := t.uniq[i]; u != nil {
			// Every key, not only the new ones: the holding carries the
			// value.
			for _, key := range c.keys[i] {
				u[key] = holding{id: c.id, entry: e}
			}
			continue
		}
		for _, key := range keys {
			set := t.idx[i][key]
			set.add(c.id)
			t.idx[i][key] = set
		}
	}
	// Refresh the value kept by single-record sets (see idSet.oneV).
	for i, keys := range c.keys {
		if t.idx[i] == nil {
			continue
		}
		for _, key := range keys {
			if set := t.idx[i][key]; set.one == c.id {
				set.oneV = c.v
				t.idx[i][key] = set
			}
		}
	}
}

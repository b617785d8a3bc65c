package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Kind describes a record kind to backends. It is implemented by
// *Collection[T]; backends use nothing else.
type Kind interface {
	// Name is the kind's stable name, e.g. "application".
	Name() string
	// Indexes lists the secondary indexes.
	Indexes() []Index
	// ID returns the id of v, a value of the kind.
	ID(v any) string
	// Keys returns v's keys in the named index (several for multi-valued
	// indexes, none when v is not indexed there), without duplicates. It
	// must not modify v nor return memory that aliases it.
	Keys(index string, v any) []string
	// Clone returns a deep copy of v.
	Clone(v any) any
	// Check reports whether v is a value of this kind with a non-empty id.
	Check(v any) error
	// Encode and Decode convert values to and from JSON, for backends that
	// store bytes.
	Encode(v any) ([]byte, error)
	Decode(data []byte) (any, error)
}

// Index describes a secondary index.
type Index struct {
	// Name is the index's name, unique within its kind.
	Name   string
	Unique bool // at most one record per key
}

// Collection is a record kind of type T with typed accessors. Define one per
// kind with NewCollection; the kinds of the domain model are in kinds.go.
type Collection[T any] struct {
	name    string
	id      func(T) string
	clone   func(T) T
	indexes []Index
	keys    map[string]func(T) []string
}

// IndexDef defines a secondary index of a Collection.
type IndexDef[T any] struct {
	// Name is the index's name, unique within the collection.
	Name string
	// Unique allows at most one record per key.
	Unique bool
	// Keys returns the keys of a value (none when it is not indexed). It
	// takes the value itself, not a pointer: a pointer into the interface
	// value a backend holds would force a heap copy of the record on every
	// call.
	Keys func(T) []string
}

// NewCollection defines a kind: its name, the function returning a value's
// id, the deep copy of a value and the secondary indexes.
func NewCollection[T any](name string, id func(T) string, clone func(T) T, indexes ...IndexDef[T]) *Collection[T] {
	c := &Collection[T]{name: name, id: id, clone: clone, keys: map[string]func(T) []string{}}
	for _, ix := range indexes {
		c.indexes = append(c.indexes, Index{Name: ix.Name, Unique: ix.Unique})
		c.keys[ix.Name] = ix.Keys
	}
	return c
}

// Name implements Kind.
func (c *Collection[T]) Name() string { return c.name }

// Indexes implements Kind.
func (c *Collection[T]) Indexes() []Index { return c.indexes }

// ID implements Kind.
func (c *Collection[T]) ID(v any) string { return c.id(v.(T)) }

// Keys implements Kind.
func (c *Collection[T]) Keys(index string, v any) []string {
	f, ok := c.keys[index]
	if !ok {
		return nil
	}
	return f(v.(T))
}

// Clone implements Kind.
func (c *Collection[T]) Clone(v any) any { return c.clone(v.(T)) }

// Check implements Kind.
func (c *Collection[T]) Check(v any) error {
	t, ok := v.(T)
	if !ok {
		return fmt.Errorf("store: %s: value of type %T", c.name, v)
	}
	if c.id(t) == "" {
		return fmt.Errorf("store: %s: empty id", c.name)
	}
	return nil
}

// Encode implements Kind.
func (c *Collection[T]) Encode(v any) ([]byte, error) { return json.Marshal(v.(T)) }

// Decode implements Kind.
func (c *Collection[T]) Decode(data []byte) (any, error) {
	var t T
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("store: decode %s: %w", c.name, err)
	}
	return t, nil
}

// Get returns the record with id, or ErrNotFound.
func (c *Collection[T]) Get(tx ReadTx, id string) (T, error) {
	v, _, err := c.GetRev(tx, id)
	return v, err
}

// GetRev returns the record with id and its revision.
func (c *Collection[T]) GetRev(tx ReadTx, id string) (T, Rev, error) {
	var zero T
	v, rev, err := tx.Get(c, id)
	if err != nil {
		return zero, 0, err
	}
	return v.(T), rev, nil
}

// Lookup returns the records with key in index, sorted by id.
func (c *Collection[T]) Lookup(tx ReadTx, index, key string) ([]T, error) {
	vs, err := tx.Lookup(c, index, key)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(vs))
	for i, v := range vs {
		out[i] = v.(T)
	}
	return out, nil
}

// One returns the single record with key in a unique index, or ErrNotFound.
func (c *Collection[T]) One(tx ReadTx, index, key string) (T, error) {
	var zero T
	if u, ok := tx.(UniqueReader); ok {
		v, err := u.One(c, index, key)
		if err != nil {
			return zero, err
		}
		return v.(T), nil
	}
	vs, err := tx.Lookup(c, index, key)
	if err != nil {
		return zero, err
	}
	if len(vs) == 0 {
		return zero, fmt.Errorf("%w: %s with %s %q", ErrNotFound, c.name, index, key)
	}
	return vs[0].(T), nil
}

// List returns a page of the records with key in index ("" = all).
func (c *Collection[T]) List(tx ReadTx, index, key string, p Page) ([]T, string, error) {
	vs, next, err := tx.List(c, index, key, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]T, len(vs))
	for i, v := range vs {
		out[i] = v.(T)
	}
	return out, next, nil
}

// All returns every record with key in index ("" = all), following pages.
func (c *Collection[T]) All(tx ReadTx, index, key string) ([]T, error) {
	var out []T
	p := Page{Limit: 1000}
	for {
		items, next, err := c.List(tx, index, key, p)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		p.After = next
	}
}

// Put creates or replaces v (unconditionally).
func (c *Collection[T]) Put(tx Tx, v T) error { return tx.Put(c, v, 0) }

// PutIf replaces v only if the stored revision is rev (ErrConflict
// otherwise).
func (c *Collection[T]) PutIf(tx Tx, v T, rev Rev) error { return tx.Put(c, v, rev) }

// Create stores a new v; ErrAlreadyExists if its id is taken.
func (c *Collection[T]) Create(tx Tx, v T) error { return tx.Create(c, v) }

// Delete removes the record with id.
func (c *Collection[T]) Delete(tx Tx, id string) error { return tx.Delete(c, id) }

// SortedKeys is a helper for index key functions: it returns the non-empty
// keys sorted and de-duplicated, in a new slice (the argument, which may
// alias a record's field, is not modified).
func SortedKeys(keys ...string) []string {
	keys = slices.Clone(keys)
	sort.Strings(keys)
	out := keys[:0]
	for i, k := range keys {
		if k != "" && (i == 0 || k != keys[i-1]) {
			out = append(out, k)
		}
	}
	return out
}

package storetest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantry/tenantry/store"
)

// Run runs the conformance suite against the backend that newStore
// creates. Every subtest calls newStore for a store of its own, which must
// be empty; the suite closes it when the subtest ends (a Close error is
// ignored, since one subtest closes its store itself), and newStore may
// register further cleanup with t.Cleanup. The "Properties" subtest calls
// newStore once per rapid check, with the subtest's t.
//
// Subtests run sequentially; a few start goroutines of their own, so run
// the suite with -race.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	open := func(t *testing.T) store.Store {
		t.Helper()
		s := newStore(t)
		if s == nil {
			t.Fatal("newStore returned nil")
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	for _, test := range []struct {
		name string
		fn   func(t *testing.T, open func(*testing.T) store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"InvalidValues", testInvalidValues},
		{"NotFound", testNotFound},
		{"AlreadyExists", testAlreadyExists},
		{"UniqueIndexes", testUniqueIndexes},
		{"UniqueReader", testUniqueReader},
		{"IndexMaintenance", testIndexMaintenance},
		{"Revisions", testRevisions},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"OwnWrites", testOwnWrites},
		{"OwnWritesMany", testOwnWritesMany},
		{"FailedWriteHasNoEffect", testFailedWrite},
		{"Atomicity", testAtomicity},
		{"Panic", testPanic},
		{"Context", testContext},
		{"ReadOnlyView", testReadOnlyView},
		{"Paging", testPaging},
		{"Audit", testAudit},
		{"AuditFilters", testAuditFilters},
		{"SignInLog", testSignInLog},
		{"SignInIndependence", testSignInIndependence},
		{"SignInConcurrency", testSignInConcurrency},
		{"IsolationTransfer", testIsolationTransfer},
		{"IsolationIndex", testIsolationIndex},
		{"ConcurrentCounter", testConcurrentCounter},
		{"OptimisticCounter", testOptimisticCounter},
		{"Properties", func(t *testing.T, _ func(*testing.T) store.Store) { testProperties(t, newStore) }},
		{"Close", testClose},
	} {
		t.Run(test.name, func(t *testing.T) { test.fn(t, open) })
	}
}

// update runs fn in s.Update and fails the test if it returns an error.
func update(t *testing.T, s store.Store, what string, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("%s: Update returned %v, want success", what, err)
	}
}

// view runs fn in s.View and fails the test if it returns an error.
func view(t *testing.T, s store.Store, what string, fn func(tx store.ReadTx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("%s: View returned %v, want success", what, err)
	}
}

// wantErr reports unless errors.Is(err, target); what says which call
// returned err.
func wantErr(t *testing.T, err, target error, what string) bool {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s returned %v, want an error matching %v", what, err, target)
		return false
	}
	return true
}

// noErr reports if err is not nil.
func noErr(t *testing.T, err error, what string) bool {
	t.Helper()
	if err != nil {
		t.Errorf("%s returned %v, want success", what, err)
		return false
	}
	return true
}

// get reads the record id of c in a View; ok is false if it does not
// exist.
func get[T any](t *testing.T, s store.Store, c *store.Collection[T], id string) (v T, rev store.Rev, ok bool) {
	t.Helper()
	err := s.View(t.Context(), func(tx store.ReadTx) error {
		var err error
		v, rev, err = c.GetRev(tx, id)
		return err
	})
	switch {
	case err == nil:
		return v, rev, true
	case errors.Is(err, store.ErrNotFound):
		return v, 0, false
	default:
		t.Fatalf("Get %s %q returned %v, want the record or ErrNotFound", c.Name(), id, err)
		return v, 0, false
	}
}

// wantRecord checks that the committed record of c with want's id equals
// want.
func wantRecord[T any](t *testing.T, s store.Store, c *store.Collection[T], want T, what string) {
	t.Helper()
	id := c.ID(want)
	got, _, ok := get(t, s, c, id)
	if !ok {
		t.Errorf("%s: Get %s %q returned ErrNotFound, want the record", what, c.Name(), id)
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: Get %s %q returned a different value (-want +got):\n%s", what, c.Name(), id, diff)
	}
}

// wantNoRecord checks that c has no committed record id.
func wantNoRecord[T any](t *testing.T, s store.Store, c *store.Collection[T], id, what string) {
	t.Helper()
	if _, _, ok := get(t, s, c, id); ok {
		t.Errorf("%s: Get %s %q found a record, want ErrNotFound", what, c.Name(), id)
	}
}

// ids returns the ids of vs, in order.
func ids[T any](c *store.Collection[T], vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = c.ID(v)
	}
	return out
}

// wantLookup checks that Lookup(index, key) in tx returns the records with
// the ids want, in that order.
func wantLookup[T any](t *testing.T, tx store.ReadTx, c *store.Collection[T], index, key string, want []string, what string) {
	t.Helper()
	vs, err := c.Lookup(tx, index, key)
	if !noErr(t, err, what+": Lookup "+c.Name()+" "+index) {
		return
	}
	if diff := cmp.Diff(want, ids(c, vs), cmpEmpty); diff != "" {
		t.Errorf("%s: Lookup %s by %s %q returned other records (-want +got ids):\n%s", what, c.Name(), index, key, diff)
	}
}

// wantAll checks that walking List(index, key) in pages of limit returns
// the records with the ids want, in that order.
func wantAll[T any](t *testing.T, tx store.ReadTx, c *store.Collection[T], index, key string, limit int, want []string, what string) {
	t.Helper()
	got, err := walk(tx, c, index, key, limit)
	if !noErr(t, err, what+": List "+c.Name()) {
		return
	}
	if diff := cmp.Diff(want, ids(c, got), cmpEmpty); diff != "" {
		t.Errorf("%s: List %s by %q %q (limit %d) returned other records (-want +got ids):\n%s", what, c.Name(), index, key, limit, diff)
	}
}

// walk lists every page of index/key with page size limit.
func walk[T any](tx store.ReadTx, c *store.Collection[T], index, key string, limit int) ([]T, error) {
	var out []T
	p := store.Page{Limit: limit}
	for range 1_000_000 {
		items, next, err := c.List(tx, index, key, p)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		if next <= p.After {
			return nil, errors.New("storetest: List returned a cursor that does not advance")
		}
		p.After = next
	}
	return nil, errors.New("storetest: List did not end")
}

// cmpEmpty makes an empty list of ids equal to a nil one. It is used only
// for the id lists the suite builds from results, never for stored values,
// which are compared strictly.
var cmpEmpty = cmpopts.EquateEmpty()

var errAbort = errors.New("storetest: deliberate failure of the update function")

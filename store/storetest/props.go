package storetest

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
)

// testProperties is a rapid state machine: random sequences of Create, Put,
// PutIf (current and stale revisions) and Delete over service principals
// and app role assignments, alone or several in one Update that commits or
// fails, against a map model. After every step, and after every write
// inside a transaction, Get, Lookup (every key of every index) and List
// (random page sizes) must equal the model; revisions must change exactly
// for the records a commit wrote (invariant 10: a store returns what was
// written and never a partial transaction).
func testProperties(t *testing.T, newStore func(t *testing.T) store.Store) {
	rapid.Check(t, func(rt *rapid.T) {
		s := newStore(t)
		defer s.Close()
		m := newPropModel()
		rt.Repeat(map[string]func(*rapid.T){
			"": func(rt *rapid.T) {
				if err := s.View(t.Context(), func(tx store.ReadTx) error {
					for _, k := range m.kinds {
						k.check(rt, tx, false)
					}
					return nil
				}); err != nil {
					rt.Fatalf("View returned %v, want success", err)
				}
			},
			"write": func(rt *rapid.T) { m.transaction(rt, s, 1, true) },
			"transaction": func(rt *rapid.T) {
				n := rapid.IntRange(2, 6).Draw(rt, "writes")
				m.transaction(rt, s, n, rapid.Bool().Draw(rt, "commit"))
			},
		})
	})
}

// propKind is the model of one kind.
type propKind interface {
	// op draws one write, makes it through tx and in the model, and checks
	// that the store's answer is the model's.
	op(rt *rapid.T, tx store.Tx)
	// check compares every read of the kind through tx with the model.
	check(rt *rapid.T, tx store.ReadTx, inTx bool)
	// save returns a function that restores the model as it is now.
	save() (restore func())
	// committed reads the revisions of the records the committed
	// transaction wrote and checks they are new.
	committed(rt *rapid.T, tx store.ReadTx)
}

type propModel struct{ kinds []propKind }

func (m *propModel) transaction(rt *rapid.T, s store.Store, n int, commit bool) {
	var restores []func()
	for _, k := range m.kinds {
		restores = append(restores, k.save())
	}
	err := s.Update(rt.Context(), func(tx store.Tx) error {
		// fn may run more than once (a backend retrying, or Replay): each
		// run starts from the committed model.
		for _, r := range restores {
			r()
		}
		for range n {
			k := m.kinds[rapid.IntRange(0, len(m.kinds)-1).Draw(rt, "kind")]
			k.op(rt, tx)
			for _, k := range m.kinds {
				k.check(rt, tx, true)
			}
		}
		if !commit {
			return errAbort
		}
		return nil
	})
	if !commit {
		if !errors.Is(err, errAbort) {
			rt.Fatalf("failing Update returned %v, want fn's error", err)
		}
		for _, r := range restores {
			r()
		}
		return
	}
	if err != nil {
		rt.Fatalf("Update returned %v, want success", err)
	}
	if err := s.View(rt.Context(), func(tx store.ReadTx) error {
		for _, k := range m.kinds {
			k.committed(rt, tx)
		}
		return nil
	}); err != nil {
		rt.Fatalf("View returned %v", err)
	}
}

// propRecord is a record of the model: its value, its committed revision
// (0 if created by the running transaction) and whether the running
// transaction wrote it.
type propRecord[T any] struct {
	v       T
	rev     store.Rev
	written bool
}

type propKindModel[T any] struct {
	c    *store.Collection[T]
	gen  *rapid.Generator[T]
	ids  []string            // every id values may have
	keys map[string][]string // index → every key values may have
	recs map[string]propRecord[T]
}

func newPropModel() *propModel {
	tenants := []string{id("prop/tenant/1"), id("prop/tenant/2")}
	apps := []string{id("prop/app/1"), id("prop/app/2"), id("prop/app/3")}
	spIDs := pool("prop/sp/", 5)
	principals, resources, roles := pool("prop/principal/", 3), pool("prop/resource/", 2), pool("prop/role/", 2)

	sp := &propKindModel[serviceprincipal.ServicePrincipal]{
		c:    store.ServicePrincipals,
		ids:  spIDs,
		recs: map[string]propRecord[serviceprincipal.ServicePrincipal]{},
		keys: map[string][]string{store.ByTenant: tenants, store.SPByAppID: apps},
		gen: rapid.Custom(func(rt *rapid.T) serviceprincipal.ServicePrincipal {
			v := serviceprincipal.ServicePrincipal{
				ID:              rapid.SampledFrom(spIDs).Draw(rt, "sp.id"),
				TenantID:        rapid.SampledFrom(tenants).Draw(rt, "sp.tenantId"),
				AppID:           rapid.SampledFrom(append([]string{""}, apps...)).Draw(rt, "sp.appId"), // "": legacy
				DisplayName:     rapid.StringMatching(`[a-zé]{0,4}`).Draw(rt, "sp.displayName"),
				AccountEnabled:  rapid.Bool().Draw(rt, "sp.accountEnabled"),
				CreatedDateTime: at(time.Duration(rapid.IntRange(0, 100).Draw(rt, "sp.created")) * time.Microsecond),
			}
			if tags := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b", "c"}), 0, 3).Draw(rt, "sp.tags"); len(tags) > 0 {
				v.Tags = tags
			}
			if rapid.Bool().Draw(rt, "sp.claimsMapping") {
				v.ClaimsMapping = map[string]string{"k": v.DisplayName}
			}
			return v
		}),
	}
	for _, a := range apps {
		for _, tn := range tenants {
			sp.keys[store.SPByAppTenant] = append(sp.keys[store.SPByAppTenant], store.AppTenantKey(a, tn))
		}
	}

	as := &propKindModel[serviceprincipal.AppRoleAssignment]{
		c:    store.Assignments,
		ids:  pool("prop/assignment/", 5),
		recs: map[string]propRecord[serviceprincipal.AppRoleAssignment]{},
		keys: map[string][]string{store.ByTenant: tenants, store.AssignmentByPrincipal: principals, store.AssignmentByResource: resources},
	}
	as.gen = rapid.Custom(func(rt *rapid.T) serviceprincipal.AppRoleAssignment {
		v := serviceprincipal.AppRoleAssignment{
			ID:            rapid.SampledFrom(as.ids).Draw(rt, "assignment.id"),
			TenantID:      rapid.SampledFrom(tenants).Draw(rt, "assignment.tenantId"),
			AppRoleID:     rapid.SampledFrom(roles).Draw(rt, "assignment.appRoleId"),
			PrincipalID:   rapid.SampledFrom(principals).Draw(rt, "assignment.principalId"),
			PrincipalType: serviceprincipal.PrincipalUser,
			ResourceID:    rapid.SampledFrom(resources).Draw(rt, "assignment.resourceId"),
		}
		if rapid.Bool().Draw(rt, "assignment.window") {
			v.StartDateTime, v.EndDateTime = ptr(at(0)), ptr(at(time.Hour))
		}
		return v
	})
	for _, p := range principals {
		for _, r := range resources {
			for _, role := range roles {
				as.keys[store.AssignmentUnique] = append(as.keys[store.AssignmentUnique], p+"/"+r+"/"+role)
			}
		}
	}
	return &propModel{kinds: []propKind{sp, as}}
}

func pool(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = id(prefix + string(rune('a'+i)))
	}
	return out
}

func (m *propKindModel[T]) save() func() {
	saved := maps.Clone(m.recs)
	return func() { m.recs = maps.Clone(saved) }
}

// holder returns a record other than id that has key in unique index ix.
func (m *propKindModel[T]) holder(ix string, key, id string) (string, bool) {
	for other, r := range m.recs {
		if other != id && slices.Contains(m.c.Keys(ix, r.v), key) {
			return other, true
		}
	}
	return "", false
}

func (m *propKindModel[T]) op(rt *rapid.T, tx store.Tx) {
	name := m.c.Name()
	switch op := rapid.SampledFrom([]string{"create", "put", "putIfCurrent", "putIfStale", "delete"}).Draw(rt, name+" op"); op {
	case "delete":
		id := rapid.SampledFrom(m.ids).Draw(rt, name+" delete id")
		err := m.c.Delete(tx, id)
		if _, ok := m.recs[id]; !ok {
			if !errors.Is(err, store.ErrNotFound) {
				rt.Fatalf("Delete %s of a missing record returned %v, want ErrNotFound", name, err)
			}
			return
		}
		if err != nil {
			rt.Fatalf("Delete %s returned %v, want success", name, err)
		}
		delete(m.recs, id)
	default:
		v := m.gen.Draw(rt, name)
		id := m.c.ID(v)
		cur, exists := m.recs[id]
		var want, err error
		switch op {
		case "create":
			if exists {
				want = store.ErrAlreadyExists
			}
		case "putIfCurrent", "putIfStale":
			var rev store.Rev
			switch {
			case !exists:
				rev = store.Rev(rapid.IntRange(1, 1000).Draw(rt, "rev of a missing record"))
				want = store.ErrConflict
			case op == "putIfStale" && cur.rev != 0 && !cur.written:
				rev = cur.rev + store.Rev(rapid.IntRange(1, 3).Draw(rt, "stale rev offset"))
				want = store.ErrConflict
			case op == "putIfStale" && cur.rev != 0:
				rev = cur.rev // the transaction changed the record since
				want = store.ErrConflict
			default:
				var gerr error
				if _, rev, gerr = m.c.GetRev(tx, id); gerr != nil {
					rt.Fatalf("GetRev %s returned %v, want the record", name, gerr)
				}
			}
			if want == nil {
				want = m.uniqueErr(v)
			}
			err = m.c.PutIf(tx, v, rev)
		}
		if op == "create" || op == "put" {
			if want == nil {
				want = m.uniqueErr(v)
			}
			if op == "create" {
				err = m.c.Create(tx, v)
			} else {
				err = m.c.Put(tx, v)
			}
		}
		if want != nil {
			if !errors.Is(err, want) {
				rt.Fatalf("%s %s returned %v, want %v", op, name, err, want)
			}
			return
		}
		if err != nil {
			rt.Fatalf("%s %s returned %v, want success", op, name, err)
		}
		m.recs[id] = propRecord[T]{v: v, rev: cur.rev, written: true}
	}
}

// uniqueErr returns ErrAlreadyExists if v would give a unique key of
// another record to v.
func (m *propKindModel[T]) uniqueErr(v T) error {
	for _, ix := range m.c.Indexes() {
		if !ix.Unique {
			continue
		}
		for _, key := range m.c.Keys(ix.Name, v) {
			if _, taken := m.holder(ix.Name, key, m.c.ID(v)); taken {
				return store.ErrAlreadyExists
			}
		}
	}
	return nil
}

func (m *propKindModel[T]) check(rt *rapid.T, tx store.ReadTx, inTx bool) {
	name := m.c.Name()
	for _, id := range m.ids {
		v, rev, err := m.c.GetRev(tx, id)
		r, ok := m.recs[id]
		switch {
		case !ok:
			if !errors.Is(err, store.ErrNotFound) {
				rt.Fatalf("Get %s %s (inTx %v) returned %v, want ErrNotFound", name, id, inTx, err)
			}
			continue
		case err != nil:
			rt.Fatalf("Get %s %s (inTx %v) returned %v, want the record", name, id, inTx, err)
		}
		if !cmp.Equal(r.v, v) {
			rt.Fatalf("Get %s %s (inTx %v) returned another value (-model +store):\n%s", name, id, inTx, cmp.Diff(r.v, v))
		}
		if !r.written && rev != r.rev {
			rt.Fatalf("Get %s %s (inTx %v) returned revision %d, want %d: a record not written changed revision", name, id, inTx, rev, r.rev)
		}
	}
	for _, ix := range m.c.Indexes() {
		for _, key := range m.keys[ix.Name] {
			want := m.holders(ix.Name, key)
			got, err := m.c.Lookup(tx, ix.Name, key)
			if err != nil {
				rt.Fatalf("Lookup %s by %s %q (inTx %v) returned %v", name, ix.Name, key, inTx, err)
			}
			if !m.equal(want, got) {
				rt.Fatalf("Lookup %s by %s %q (inTx %v) returned other records (-model +store):\n%s", name, ix.Name, key, inTx, cmp.Diff(want, got))
			}
		}
	}
	for _, d := range uniqueDisagreements(tx, m.c, m.keys) {
		rt.Fatalf("inTx %v: %s", inTx, d)
	}
	index, key := "", ""
	if rapid.Bool().Draw(rt, "list by index") {
		ix := m.c.Indexes()[rapid.IntRange(0, len(m.c.Indexes())-1).Draw(rt, "list index")]
		index, key = ix.Name, rapid.SampledFrom(m.keys[ix.Name]).Draw(rt, "list key")
	}
	limit := rapid.IntRange(0, 4).Draw(rt, "list limit")
	got, err := walk(tx, m.c, index, key, limit)
	if err != nil {
		rt.Fatalf("List %s by %q %q (inTx %v) returned %v", name, index, key, inTx, err)
	}
	if want := m.holders(index, key); !m.equal(want, got) {
		rt.Fatalf("List %s by %q %q, limit %d (inTx %v) returned other records (-model +store):\n%s", name, index, key, limit, inTx, cmp.Diff(want, got))
	}
}

// equal reports whether the records a and b have the same ids in the same
// order and equal values (go-cmp).
func (m *propKindModel[T]) equal(a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if m.c.ID(a[i]) != m.c.ID(b[i]) || !cmp.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// holders returns the model's records with key in index ("": every
// record), sorted by id.
func (m *propKindModel[T]) holders(index, key string) []T {
	var ids []string
	for id, r := range m.recs {
		if index == "" || slices.Contains(m.c.Keys(index, r.v), key) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]T, len(ids))
	for i, id := range ids {
		out[i] = m.recs[id].v
	}
	return out
}

func (m *propKindModel[T]) committed(rt *rapid.T, tx store.ReadTx) {
	for id, r := range m.recs {
		if !r.written {
			continue
		}
		_, rev, err := m.c.GetRev(tx, id)
		if err != nil {
			rt.Fatalf("Get %s %s after commit returned %v, want the record", m.c.Name(), id, err)
		}
		if rev == 0 || rev == r.rev {
			rt.Fatalf("%s %s has revision %d after a commit that wrote it (before: %d), want a new one", m.c.Name(), id, rev, r.rev)
		}
		m.recs[id] = propRecord[T]{v: r.v, rev: rev}
	}
}

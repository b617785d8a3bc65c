package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// testRevisions: every write of a record gives it a new non-zero
// revision; a record that is not written keeps its revision.
func testRevisions(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	tid := id("tenant/contoso")
	a, b := newUser("a", tid), newUser("b", tid)
	update(t, s, "Create", func(tx store.Tx) error {
		if err := store.Users.Create(tx, a); err != nil {
			return err
		}
		return store.Users.Create(tx, b)
	})
	rev := func(u tenant.User) store.Rev {
		t.Helper()
		_, r, ok := get(t, s, store.Users, u.ID)
		if !ok {
			t.Fatalf("Get %s returned ErrNotFound, want the record", u.UserPrincipalName)
		}
		return r
	}
	seen := []store.Rev{rev(a)}
	rb := rev(b)
	if seen[0] == 0 || rb == 0 {
		t.Fatalf("revisions after Create are %d and %d, want non-zero", seen[0], rb)
	}
	newRev := func(what string) {
		t.Helper()
		r := rev(a)
		if slices.Contains(seen, r) {
			t.Errorf("%s: revision %d was seen before (%v), want a new one on every write", what, r, seen)
		}
		seen = append(seen, r)
		if got := rev(b); got != rb {
			t.Errorf("%s: revision of a record not written changed from %d to %d", what, rb, got)
		}
	}
	a.DisplayName = "changed"
	update(t, s, "Put", func(tx store.Tx) error { return store.Users.Put(tx, a) })
	newRev("after Put")
	update(t, s, "Put of the same value", func(tx store.Tx) error { return store.Users.Put(tx, a) })
	newRev("after Put of an unchanged value")
	update(t, s, "Delete", func(tx store.Tx) error { return store.Users.Delete(tx, a.ID) })
	update(t, s, "Create again", func(tx store.Tx) error { return store.Users.Create(tx, a) })
	newRev("after Delete and Create again")
	last := seen[len(seen)-1]
	_ = s.Update(t.Context(), func(tx store.Tx) error {
		if err := store.Users.Put(tx, a); err != nil {
			return err
		}
		return errAbort
	})
	if got := rev(a); got != last {
		t.Errorf("revision changed from %d to %d by a failed Update", last, got)
	}
	update(t, s, "read-only Update", func(tx store.Tx) error {
		_, err := store.Users.Get(tx, a.ID)
		return err
	})
	if got := rev(a); got != last {
		t.Errorf("revision changed from %d to %d by an Update that wrote nothing", last, got)
	}
}

// testOptimisticConcurrency: PutIf with the current revision succeeds;
// with a stale one it fails with ErrConflict and writes nothing.
func testOptimisticConcurrency(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	tid := id("tenant/contoso")
	v1 := newServicePrincipal("files", tid)
	update(t, s, "Create", func(tx store.Tx) error { return store.ServicePrincipals.Create(tx, v1) })
	_, r1, _ := get(t, s, store.ServicePrincipals, v1.ID)

	v2 := newServicePrincipal("files", tid)
	v2.DisplayName = "second"
	update(t, s, "PutIf with the current revision", func(tx store.Tx) error {
		return store.ServicePrincipals.PutIf(tx, v2, r1)
	})
	wantRecord(t, s, store.ServicePrincipals, v2, "after PutIf with the current revision")
	_, r2, _ := get(t, s, store.ServicePrincipals, v1.ID)
	if r2 == r1 {
		t.Fatalf("revision stayed %d after PutIf", r1)
	}

	v3 := newServicePrincipal("files", tid)
	v3.DisplayName = "third"
	err := s.Update(t.Context(), func(tx store.Tx) error { return store.ServicePrincipals.PutIf(tx, v3, r1) })
	wantErr(t, err, store.ErrConflict, "Update whose fn returns the error of PutIf with a stale revision")
	update(t, s, "PutIf with a stale revision, error ignored", func(tx store.Tx) error {
		wantErr(t, store.ServicePrincipals.PutIf(tx, v3, r1), store.ErrConflict, "PutIf with a stale revision")
		return nil
	})
	wantRecord(t, s, store.ServicePrincipals, v2, "after PutIf with a stale revision")
	if _, r, _ := get(t, s, store.ServicePrincipals, v1.ID); r != r2 {
		t.Errorf("revision changed from %d to %d by a failed PutIf", r2, r)
	}

	missing := newServicePrincipal("missing", tid)
	update(t, s, "PutIf of a missing record", func(tx store.Tx) error {
		wantErr(t, store.ServicePrincipals.PutIf(tx, missing, r2), store.ErrConflict, "PutIf with a revision of a record that does not exist")
		return nil
	})
	wantNoRecord(t, s, store.ServicePrincipals, missing.ID, "after PutIf of a missing record")
	update(t, s, "PutIf with revision 0", func(tx store.Tx) error {
		return store.ServicePrincipals.PutIf(tx, missing, 0)
	})
	wantRecord(t, s, store.ServicePrincipals, missing, "after PutIf with revision 0 (unconditional)")

	update(t, s, "Delete", func(tx store.Tx) error { return store.ServicePrincipals.Delete(tx, v1.ID) })
	update(t, s, "PutIf of a deleted record", func(tx store.Tx) error {
		wantErr(t, store.ServicePrincipals.PutIf(tx, v3, r2), store.ErrConflict, "PutIf with the revision of a deleted record")
		return nil
	})
	wantNoRecord(t, s, store.ServicePrincipals, v1.ID, "after PutIf of a deleted record")

	// Inside one transaction: the revision Get returns, committed or
	// provisional, is accepted by PutIf.
	update(t, s, "GetRev then PutIf in one transaction", func(tx store.Tx) error {
		_, r, err := store.ServicePrincipals.GetRev(tx, missing.ID)
		if !noErr(t, err, "GetRev") {
			return err
		}
		missing.DisplayName = "once"
		noErr(t, store.ServicePrincipals.PutIf(tx, missing, r), "PutIf with the revision GetRev returned in the same transaction")
		_, r, err = store.ServicePrincipals.GetRev(tx, missing.ID)
		if !noErr(t, err, "GetRev after PutIf") {
			return err
		}
		missing.DisplayName = "twice"
		noErr(t, store.ServicePrincipals.PutIf(tx, missing, r), "PutIf with the revision GetRev returned for the transaction's own write")
		return nil
	})
	wantRecord(t, s, store.ServicePrincipals, missing, "after two PutIf in one transaction")
}

// ownWrites is a set of users and the writes of a transaction to them,
// with the reads that must see those writes.
func ownWrites(t *testing.T, tx store.Tx) {
	t.Helper()
	t1, t2 := id("tenant/one"), id("tenant/two")
	u1, u2, u3 := newUser("u1", t1), newUser("u2", t1), newUser("u3", t2)
	u4 := newUser("u4", t1)
	u1moved := newUser("u1", t2)
	u2again := newUser("u2", t1)
	u2again.DisplayName = "again"
	u3renamed := newUser("u3", t2)
	u3renamed.UserPrincipalName = "renamed@contoso.onmicrosoft.com"
	upn := func(u tenant.User) string { return strings.ToLower(u.UserPrincipalName) }
	sorted := sortedIDs
	step := func(what string, err error, ops func()) {
		t.Helper()
		if noErr(t, err, what) {
			ops()
		}
	}
	wantGet := func(want tenant.User, what string) {
		t.Helper()
		got, err := store.Users.Get(tx, want.ID)
		if noErr(t, err, what+": Get") {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: Get inside the transaction returned a different value (-want +got):\n%s", what, diff)
			}
		}
	}
	wantGone := func(u tenant.User, what string) {
		t.Helper()
		_, err := store.Users.Get(tx, u.ID)
		wantErr(t, err, store.ErrNotFound, what+": Get of a record deleted in the transaction")
		wantLookup(t, tx, store.Users, store.UserByUPN, upn(u), nil, what)
	}
	wantTenant := func(tid string, want []string, what string) {
		t.Helper()
		wantLookup(t, tx, store.Users, store.ByTenant, tid, want, what)
		for _, limit := range []int{1, 2, 0} {
			wantAll(t, tx, store.Users, store.ByTenant, tid, limit, want, what)
		}
	}
	wantEvery := func(want []string, what string) {
		t.Helper()
		for _, limit := range []int{1, 3, 0} {
			wantAll(t, tx, store.Users, "", "", limit, want, what)
		}
	}

	wantTenant(t1, sorted(u1.ID, u2.ID), "committed state")
	step("Create u4", store.Users.Create(tx, u4), func() {
		wantGet(u4, "after Create")
		wantTenant(t1, sorted(u1.ID, u2.ID, u4.ID), "after Create")
		wantEvery(sorted(u1.ID, u2.ID, u3.ID, u4.ID), "after Create")
		wantLookup(t, tx, store.Users, store.UserByUPN, upn(u4), []string{u4.ID}, "unique key after Create")
	})
	step("Put u1 into another tenant", store.Users.Put(tx, u1moved), func() {
		wantGet(u1moved, "after Put")
		wantTenant(t1, sorted(u2.ID, u4.ID), "old key after Put")
		wantTenant(t2, sorted(u1.ID, u3.ID), "new key after Put")
	})
	step("Delete u2", store.Users.Delete(tx, u2.ID), func() {
		wantGone(u2, "after Delete")
		wantTenant(t1, []string{u4.ID}, "after Delete")
		wantEvery(sorted(u1.ID, u3.ID, u4.ID), "after Delete")
	})
	step("Create u2 again", store.Users.Create(tx, u2again), func() {
		wantGet(u2again, "after Delete and Create again")
		wantTenant(t1, sorted(u2.ID, u4.ID), "after Delete and Create again")
	})
	step("Delete u4, created in the transaction", store.Users.Delete(tx, u4.ID), func() {
		wantGone(u4, "after Create and Delete")
		wantTenant(t1, []string{u2.ID}, "after Create and Delete")
		wantEvery(sorted(u1.ID, u2.ID, u3.ID), "after Create and Delete")
	})
	step("Put u3 with a new unique key", store.Users.Put(tx, u3renamed), func() {
		wantLookup(t, tx, store.Users, store.UserByUPN, upn(u3), nil, "old unique key after Put")
		_, err := store.Users.One(tx, store.UserByUPN, upn(u3))
		wantErr(t, err, store.ErrNotFound, "One by the old unique key after Put")
		got, err := store.Users.One(tx, store.UserByUPN, upn(u3renamed))
		if noErr(t, err, "One by the new unique key") && got.ID != u3.ID {
			t.Errorf("One by the new unique key returned %s, want %s", got.ID, u3.ID)
		}
	})
}

// ownWritesInitial creates the committed state ownWrites starts from.
func ownWritesInitial(t *testing.T, s store.Store) {
	t1, t2 := id("tenant/one"), id("tenant/two")
	update(t, s, "initial users", func(tx store.Tx) error {
		for _, u := range []tenant.User{newUser("u1", t1), newUser("u2", t1), newUser("u3", t2)} {
			if err := store.Users.Create(tx, u); err != nil {
				return err
			}
		}
		return nil
	})
}

// testOwnWrites: reads inside Update (Get, Lookup, One, List) see the
// transaction's creates, changes and deletes; an aborted transaction's
// writes are then gone, a committed one's are what it saw.
func testOwnWrites(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	ownWritesInitial(t, s)
	var before []tenant.User
	view(t, s, "committed state", func(tx store.ReadTx) (err error) {
		before, err = store.Users.All(tx, "", "")
		return err
	})
	err := s.Update(t.Context(), func(tx store.Tx) error {
		ownWrites(t, tx)
		return errAbort
	})
	wantErr(t, err, errAbort, "aborted Update")
	view(t, s, "after the aborted transaction", func(tx store.ReadTx) error {
		after, err := store.Users.All(tx, "", "")
		if noErr(t, err, "All") {
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("records changed by an aborted transaction (-before +after):\n%s", diff)
			}
		}
		return nil
	})
	var seen []tenant.User
	update(t, s, "committed transaction", func(tx store.Tx) error {
		ownWrites(t, tx)
		var err error
		seen, err = store.Users.All(tx, "", "")
		return err
	})
	view(t, s, "after the committed transaction", func(tx store.ReadTx) error {
		after, err := store.Users.All(tx, "", "")
		if noErr(t, err, "All") {
			if diff := cmp.Diff(seen, after); diff != "" {
				t.Errorf("committed records differ from what the transaction saw (-in tx +after commit):\n%s", diff)
			}
		}
		return nil
	})
}

// testOwnWritesMany: reads and unique checks inside a transaction with many
// pending writes (a backend may handle those differently from a few) see
// every create, move and delete; the commit keeps exactly that.
func testOwnWritesMany(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	tenants := []string{id("tenant/bulk1"), id("tenant/bulk2")}
	model := map[string]tenant.User{}
	expect := func(tid string) []string {
		var out []string
		for _, u := range model {
			if tid == "" || u.TenantID == tid {
				out = append(out, u.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	check := func(tx store.ReadTx, what string) {
		t.Helper()
		for _, tid := range tenants {
			wantLookup(t, tx, store.Users, store.ByTenant, tid, expect(tid), what)
			wantAll(t, tx, store.Users, store.ByTenant, tid, 7, expect(tid), what)
		}
		wantAll(t, tx, store.Users, "", "", 0, expect(""), what)
	}
	update(t, s, "many writes", func(tx store.Tx) error {
		clear(model) // fn may run more than once: start from the committed state
		var users []tenant.User
		for i := range 60 {
			u := newUser(fmt.Sprintf("bulk%02d", i), tenants[i%2])
			users = append(users, u)
			if !noErr(t, store.Users.Create(tx, u), "Create") {
				return nil
			}
			model[u.ID] = u
			if i%10 == 9 {
				check(tx, fmt.Sprintf("after %d creates in one transaction", i+1))
			}
		}
		for i, u := range users {
			switch {
			case i%5 == 0:
				noErr(t, store.Users.Delete(tx, u.ID), "Delete")
				delete(model, u.ID)
			case i%3 == 0:
				u.TenantID = tenants[(i+1)%2]
				noErr(t, store.Users.Put(tx, u), "Put into the other tenant")
				model[u.ID] = u
			}
		}
		check(tx, "after moves and deletes in one transaction")
		clash := newUser("bulk01", tenants[0])
		clash.ID = id("user/clash")
		wantErr(t, store.Users.Create(tx, clash), store.ErrAlreadyExists, "Create with the unique key of a record created earlier in the transaction")
		reuse := newUser("bulk05", tenants[0]) // bulk05 was deleted
		reuse.ID = id("user/reuse")
		if noErr(t, store.Users.Create(tx, reuse), "Create with the unique key of a record deleted earlier in the transaction") {
			model[reuse.ID] = reuse
		}
		check(tx, "at the end of the transaction")
		return nil
	})
	view(t, s, "after commit", func(tx store.ReadTx) error {
		check(tx, "after the commit of many writes")
		return nil
	})
}

// testFailedWrite: a write that fails leaves no trace, and the transaction
// goes on and commits its other writes.
func testFailedWrite(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	tid := id("tenant/contoso")
	sp := newServicePrincipal("files", tid)
	update(t, s, "Create", func(tx store.Tx) error { return store.ServicePrincipals.Create(tx, sp) })
	_, rev, _ := get(t, s, store.ServicePrincipals, sp.ID)
	changed := newServicePrincipal("files", tid)
	changed.DisplayName = "changed"
	twin := newServicePrincipal("files", tid)
	twin.ID = id("sp/twin")
	other := newServicePrincipal("other", tid)
	update(t, s, "failed writes", func(tx store.Tx) error {
		wantErr(t, store.ServicePrincipals.Create(tx, changed), store.ErrAlreadyExists, "Create of an existing id")
		wantErr(t, store.ServicePrincipals.PutIf(tx, changed, rev+1000), store.ErrConflict, "PutIf with a wrong revision")
		wantErr(t, store.ServicePrincipals.Delete(tx, id("missing")), store.ErrNotFound, "Delete of a missing id")
		wantErr(t, store.ServicePrincipals.Create(tx, twin), store.ErrAlreadyExists, "Create with a taken unique key")
		wantErr(t, store.ServicePrincipals.Put(tx, twin), store.ErrAlreadyExists, "Put with a taken unique key")
		if tx.Put(store.ServicePrincipals, "not a service principal", 0) == nil {
			t.Error("Put of a string as a service principal succeeded, want an error")
		}
		unchanged := func(what string) {
			got, err := store.ServicePrincipals.Get(tx, sp.ID)
			if noErr(t, err, what) {
				if diff := cmp.Diff(sp, got); diff != "" {
					t.Errorf("%s: Get inside the transaction after failed writes returned a changed record (-want +got):\n%s", what, diff)
				}
			}
		}
		unchanged("after failed writes")
		wantLookup(t, tx, store.ServicePrincipals, store.ByTenant, tid, []string{sp.ID}, "after failed writes")
		return store.ServicePrincipals.Create(tx, other)
	})
	wantRecord(t, s, store.ServicePrincipals, sp, "after a transaction with failed writes")
	if _, r, _ := get(t, s, store.ServicePrincipals, sp.ID); r != rev {
		t.Errorf("revision changed from %d to %d by failed writes", rev, r)
	}
	wantNoRecord(t, s, store.ServicePrincipals, twin.ID, "after a refused Create and Put")
	wantRecord(t, s, store.ServicePrincipals, other, "the successful write of a transaction with failed writes")
}

// atomicFixture is a committed state, a set of writes to it across kinds,
// indexes and the audit log, and a check that the state is unchanged.
type atomicFixture struct {
	a, b, c          tenant.User
	contoso          tenant.Tenant
	fabrikam         tenant.Tenant
	revA, revB       store.Rev
	t1, t2           string
	firstAuditAction string
}

func newAtomicFixture(t *testing.T, s store.Store) *atomicFixture {
	f := &atomicFixture{t1: id("tenant/one"), t2: id("tenant/two"), firstAuditAction: "createUsers"}
	f.a, f.b, f.c = newUser("a", f.t1), newUser("b", f.t1), newUser("c", f.t1)
	f.contoso = newTenant("contoso", "contoso.onmicrosoft.com", "contoso.com")
	f.fabrikam = newTenant("fabrikam", "fabrikam.onmicrosoft.com")
	update(t, s, "initial state", func(tx store.Tx) error {
		for _, err := range []error{
			store.Users.Create(tx, f.a), store.Users.Create(tx, f.b), store.Tenants.Create(tx, f.contoso),
			tx.AppendAudit(store.AuditEvent{Time: at(0), Actor: "admin", Action: f.firstAuditAction, TargetKind: "user", TargetID: f.a.ID}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	_, f.revA, _ = get(t, s, store.Users, f.a.ID)
	_, f.revB, _ = get(t, s, store.Users, f.b.ID)
	return f
}

// write makes several writes; the caller then fails the transaction.
func (f *atomicFixture) write(t *testing.T, tx store.Tx) {
	t.Helper()
	moved := newUser("a", f.t2)
	moved.DisplayName = "moved"
	contoso := newTenant("contoso", "contoso.onmicrosoft.com", "contoso.org")
	for _, w := range []struct {
		what string
		err  error
	}{
		{"Put a into another tenant", store.Users.Put(tx, moved)},
		{"Delete b", store.Users.Delete(tx, f.b.ID)},
		{"Create c", store.Users.Create(tx, f.c)},
		{"Put contoso with another domain", store.Tenants.Put(tx, contoso)},
		{"Create fabrikam", store.Tenants.Create(tx, f.fabrikam)},
		{"Create a service principal", store.ServicePrincipals.Create(tx, newServicePrincipal("files", f.t1))},
		{"AppendAudit", tx.AppendAudit(store.AuditEvent{Time: at(time.Hour), Actor: "admin", Action: "doomed1"})},
		{"AppendAudit", tx.AppendAudit(store.AuditEvent{Time: at(time.Hour), Actor: "admin", Action: "doomed2"})},
	} {
		noErr(t, w.err, w.what)
	}
}

// check verifies that the state is the initial one: records, revisions,
// indexes, listings and the audit log.
func (f *atomicFixture) check(t *testing.T, s store.Store, label string) {
	t.Helper()
	wantRecord(t, s, store.Users, f.a, label)
	wantRecord(t, s, store.Users, f.b, label)
	wantRecord(t, s, store.Tenants, f.contoso, label)
	wantNoRecord(t, s, store.Users, f.c.ID, label)
	wantNoRecord(t, s, store.Tenants, f.fabrikam.ID, label)
	if _, r, _ := get(t, s, store.Users, f.a.ID); r != f.revA {
		t.Errorf("%s: revision of a changed from %d to %d", label, f.revA, r)
	}
	if _, r, _ := get(t, s, store.Users, f.b.ID); r != f.revB {
		t.Errorf("%s: revision of b changed from %d to %d", label, f.revB, r)
	}
	view(t, s, label, func(tx store.ReadTx) error {
		wantLookup(t, tx, store.Users, store.ByTenant, f.t1, sortedIDs(f.a.ID, f.b.ID), label+": index of the initial state")
		wantLookup(t, tx, store.Users, store.ByTenant, f.t2, nil, label+": key only the failed transaction used")
		wantLookup(t, tx, store.Users, store.UserByUPN, strings.ToLower(f.c.UserPrincipalName), nil, label+": unique key of a record the failed transaction created")
		wantLookup(t, tx, store.Tenants, store.TenantByDomain, "contoso.com", []string{f.contoso.ID}, label+": unique key the failed transaction dropped")
		wantLookup(t, tx, store.Tenants, store.TenantByDomain, "contoso.org", nil, label+": unique key the failed transaction added")
		wantAll(t, tx, store.Users, "", "", 0, sortedIDs(f.a.ID, f.b.ID), label+": listing")
		wantAll(t, tx, store.ServicePrincipals, "", "", 0, nil, label+": listing of a kind only the failed transaction wrote")
		events, err := tx.Audit(0, 0)
		if noErr(t, err, label+": Audit") && (len(events) != 1 || events[0].Action != f.firstAuditAction) {
			t.Errorf("%s: audit log has %d events (%v), want only the initial one", label, len(events), actions(events))
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx store.Tx) error {
		return store.Tenants.Create(tx, newTenant("squatter", "squatter.onmicrosoft.com", "contoso.com"))
	})
	wantErr(t, err, store.ErrAlreadyExists, label+": Create with a unique key the failed transaction dropped")
}

func actions(events []store.AuditEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
	}
	return out
}

// testAtomicity: an Update whose fn fails after several writes leaves no
// trace, and fn's error is returned.
func testAtomicity(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	f := newAtomicFixture(t, s)
	err := s.Update(t.Context(), func(tx store.Tx) error {
		f.write(t, tx)
		return errAbort
	})
	wantErr(t, err, errAbort, "Update whose fn fails after writes")
	f.check(t, s, "after a failed Update")
}

// testPanic: a panic in fn propagates out of Update with its value, nothing
// is written, and the store still works.
func testPanic(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	f := newAtomicFixture(t, s)
	type boom struct{ msg string }
	var got any
	func() {
		defer func() { got = recover() }()
		_ = s.Update(t.Context(), func(tx store.Tx) error {
			f.write(t, tx)
			panic(boom{"deliberate"})
		})
	}()
	if got != (boom{"deliberate"}) {
		t.Errorf("Update whose fn panics: recovered %v, want the panic to propagate with its value", got)
	}
	f.check(t, s, "after a panicking Update")
}

// testContext: a done context stops View and Update before fn runs, and an
// Update whose context is cancelled during fn commits nothing.
func testContext(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	f := newAtomicFixture(t, s)
	done, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	err := s.Update(done, func(tx store.Tx) error { ran = true; f.write(t, tx); return nil })
	wantErr(t, err, context.Canceled, "Update with a cancelled context")
	if ran {
		t.Error("Update with a cancelled context ran fn, want it not to")
	}
	ran = false
	err = s.View(done, func(tx store.ReadTx) error { ran = true; return nil })
	wantErr(t, err, context.Canceled, "View with a cancelled context")
	if ran {
		t.Error("View with a cancelled context ran fn, want it not to")
	}
	expired, cancel2 := context.WithDeadline(t.Context(), time.Unix(0, 0))
	defer cancel2()
	wantErr(t, s.View(expired, func(tx store.ReadTx) error { return nil }), context.DeadlineExceeded, "View with an expired deadline")

	ctx, cancel3 := context.WithCancel(t.Context())
	err = s.Update(ctx, func(tx store.Tx) error {
		f.write(t, tx)
		cancel3()
		return nil
	})
	wantErr(t, err, context.Canceled, "Update whose context is cancelled during fn")
	f.check(t, s, "after Updates with a done context")
}

// testReadOnlyView: if View's transaction has write methods, they fail with
// ErrReadOnly.
func testReadOnlyView(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	f := newAtomicFixture(t, s)
	view(t, s, "writes through View", func(rtx store.ReadTx) error {
		tx, ok := rtx.(store.Tx)
		if !ok {
			return nil // no write methods: nothing to check
		}
		wantErr(t, store.Users.Put(tx, f.c), store.ErrReadOnly, "Put through View")
		wantErr(t, store.Users.Create(tx, f.c), store.ErrReadOnly, "Create through View")
		wantErr(t, store.Users.Delete(tx, f.a.ID), store.ErrReadOnly, "Delete through View")
		wantErr(t, tx.AppendAudit(store.AuditEvent{Action: "x"}), store.ErrReadOnly, "AppendAudit through View")
		return nil
	})
	f.check(t, s, "after writes through View")
}

// testClose: View and Update after Close return ErrClosed without running
// fn; so do AppendSignIn and SignIns.
func testClose(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	newAtomicFixture(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close returned %v, want success", err)
	}
	ran := false
	wantErr(t, s.View(t.Context(), func(store.ReadTx) error { ran = true; return nil }), store.ErrClosed, "View after Close")
	wantErr(t, s.Update(t.Context(), func(store.Tx) error { ran = true; return nil }), store.ErrClosed, "Update after Close")
	wantErr(t, s.AppendSignIn(t.Context(), signInEvent(0)), store.ErrClosed, "AppendSignIn after Close")
	_, _, err := s.SignIns(t.Context(), store.SignInFilter{}, store.LogPage{})
	wantErr(t, err, store.ErrClosed, "SignIns after Close")
	if ran {
		t.Error("View or Update after Close ran fn, want it not to")
	}
	if err := s.Close(); err == nil {
		t.Log("second Close returned nil")
	} else if !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close returned %v, want nil or ErrClosed", err)
	}
}

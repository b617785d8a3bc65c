package storetest

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// roundTripCase is a kind with a builder of a rich value, a mutation that
// reaches into its nested slices, maps and pointers, and an index the value
// is in.
type roundTripCase[T any] struct {
	c      *store.Collection[T]
	build  func() T
	mutate func(*T)
	index  string
}

func (rc roundTripCase[T]) name() string { return rc.c.Name() }

func (rc roundTripCase[T]) run(t *testing.T, s store.Store) {
	c := rc.c
	want := rc.build()
	id := c.ID(want)
	mutated := rc.build()
	rc.mutate(&mutated)
	if cmp.Equal(want, mutated) {
		t.Fatalf("suite bug: the mutation of %s changes nothing", c.Name())
	}
	keys := c.Keys(rc.index, want)
	if len(keys) == 0 {
		t.Fatalf("suite bug: the %s value has no key in index %s", c.Name(), rc.index)
	}

	// Create copies the value: changing the caller's value afterwards,
	// deep inside, must not change the stored record.
	update(t, s, "Create", func(tx store.Tx) error {
		v := rc.build()
		if err := c.Create(tx, v); err != nil {
			return err
		}
		rc.mutate(&v)
		got, err := c.Get(tx, id)
		if noErr(t, err, "Get inside the Update that created the record") {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Get inside Update after Create and a change of the caller's value returned a different value (-want +got):\n%s", diff)
			}
		}
		return nil
	})
	rc.readBack(t, s, want, "after Create and a change of the caller's value")

	// Put replaces the record with a value that differs deep inside.
	update(t, s, "Put of a changed value", func(tx store.Tx) error {
		v := rc.build()
		rc.mutate(&v)
		return c.Put(tx, v)
	})
	rc.readBack(t, s, mutated, "after Put of a changed value")

	// Put copies the value too.
	update(t, s, "Put", func(tx store.Tx) error {
		v := rc.build()
		if err := c.Put(tx, v); err != nil {
			return err
		}
		rc.mutate(&v)
		return nil
	})
	rc.readBack(t, s, want, "after Put and a change of the caller's value")
}

// readBack checks that Get, Lookup by the case's index and List return
// want, the only record of the kind.
func (rc roundTripCase[T]) readBack(t *testing.T, s store.Store, want T, what string) {
	t.Helper()
	c := rc.c
	wantRecord(t, s, c, want, what)
	keys := c.Keys(rc.index, want)
	view(t, s, what, func(tx store.ReadTx) error {
		for _, key := range keys {
			vs, err := c.Lookup(tx, rc.index, key)
			if noErr(t, err, what+": Lookup") {
				if diff := cmp.Diff([]T{want}, vs); diff != "" {
					t.Errorf("%s: Lookup by %s %q returned other values (-want +got):\n%s", what, rc.index, key, diff)
				}
			}
		}
		vs, next, err := c.List(tx, "", "", store.Page{})
		if noErr(t, err, what+": List") {
			if diff := cmp.Diff([]T{want}, vs); diff != "" || next != "" {
				t.Errorf("%s: List of every %s returned other values or cursor %q (-want +got):\n%s", what, c.Name(), next, diff)
			}
		}
		return nil
	})
}

func roundTripCases() []interface {
	name() string
	run(*testing.T, store.Store)
} {
	tid := id("tenant/contoso")
	alice := id("user/alice")
	return []interface {
		name() string
		run(*testing.T, store.Store)
	}{
		roundTripCase[tenant.Tenant]{c: store.Tenants, index: store.TenantByDomain,
			build: func() tenant.Tenant { return newTenant("contoso", "contoso.onmicrosoft.com", "contoso.com") },
			mutate: func(v *tenant.Tenant) {
				v.VerifiedDomains[0].Type = "changed"
				v.Policy.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned[0] = "changed"
			}},
		roundTripCase[tenant.User]{c: store.Users, index: store.UserByUPN,
			build: func() tenant.User { return newUser("alice", tid) },
			mutate: func(v *tenant.User) {
				v.PasswordHash.Salt[0] = 0
				v.PasswordHash.Hash[0] = 0
			}},
		roundTripCase[tenant.Group]{c: store.Groups, index: store.GroupByMember,
			build: func() tenant.Group {
				return newGroup("eng", tid, tenant.Ref{ID: alice, Type: tenant.MemberUser}, tenant.Ref{ID: id("group/ops"), Type: tenant.MemberGroup})
			},
			mutate: func(v *tenant.Group) {
				v.GroupTypes[0] = "changed"
				v.Members[1].Type = tenant.MemberServicePrincipal
			}},
		roundTripCase[tenant.RoleAssignment]{c: store.DirectoryRoles, index: store.RoleByPrincipal,
			build:  func() tenant.RoleAssignment { return newRoleAssignment("admin", tid, alice) },
			mutate: func(v *tenant.RoleAssignment) { v.DirectoryScopeID = "/administrativeUnits/x" }},
		roundTripCase[application.Application]{c: store.Applications, index: store.AppByIdentifierURI,
			build:  func() application.Application { return newApplication("files", tid) },
			mutate: mutateApplication},
		roundTripCase[serviceprincipal.ServicePrincipal]{c: store.ServicePrincipals, index: store.SPByAppTenant,
			build:  func() serviceprincipal.ServicePrincipal { return newServicePrincipal("files", tid) },
			mutate: mutateServicePrincipal},
		roundTripCase[consent.Grant]{c: store.Grants, index: store.GrantUnique,
			build:  func() consent.Grant { return newGrant("cli", tid, id("sp/cli"), id("sp/files")) },
			mutate: func(v *consent.Grant) { v.Scope = "User.Read" }},
		roundTripCase[serviceprincipal.AppRoleAssignment]{c: store.Assignments, index: store.AssignmentByPrincipal,
			build: func() serviceprincipal.AppRoleAssignment {
				return newAssignment("alice-reader", tid, alice, id("sp/files"), id("role/reader/files"))
			},
			mutate: func(v *serviceprincipal.AppRoleAssignment) {
				*v.StartDateTime = at(0)
				*v.EndDateTime = at(0)
			}},
		roundTripCase[store.SigningKey]{c: store.SigningKeys, index: store.KeyByState,
			build:  func() store.SigningKey { return newSigningKey("kid-1", "active") },
			mutate: func(v *store.SigningKey) { v.Sealed[0] = 0 }},
		roundTripCase[store.Code]{c: store.Codes, index: store.CodeByExpiry,
			build: func() store.Code { return newCode("abc", tid) },
			mutate: func(v *store.Code) {
				*v.RedeemedAt = at(0)
				v.Data[0] = '['
			}},
		roundTripCase[store.SignInLockout]{c: store.Lockouts, index: store.ByTenant,
			build: func() store.SignInLockout {
				return store.SignInLockout{ID: alice, TenantID: tid, Failures: 3, LastFailure: at(1), LockedUntil: at(2)}
			},
			mutate: func(v *store.SignInLockout) { v.Failures++ }},
	}
}

// testRoundTrip: for every kind, what is written is read back go-cmp equal
// (Get, Lookup, List), and writes are copies of the caller's value.
func testRoundTrip(t *testing.T, open func(*testing.T) store.Store) {
	cases := roundTripCases()
	if len(cases) != len(store.Kinds()) {
		t.Errorf("suite bug: %d round-trip cases for %d kinds", len(cases), len(store.Kinds()))
	}
	for _, rc := range cases {
		t.Run(rc.name(), func(t *testing.T) { rc.run(t, open(t)) })
	}
	t.Run("AllKindsInOneStore", func(t *testing.T) {
		s := open(t)
		for _, rc := range cases {
			rc.run(t, s)
		}
	})
}

// testInvalidValues: a value of the wrong type, a nil value or an empty id
// is refused with an error, and nothing is written.
func testInvalidValues(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	empty := newServicePrincipal("files", id("tenant/contoso"))
	empty.ID = ""
	update(t, s, "invalid writes", func(tx store.Tx) error {
		for _, w := range []struct {
			what string
			err  error
		}{
			{"Put of a tenant.User as a service principal", tx.Put(store.ServicePrincipals, newUser("alice", id("tenant/contoso")), 0)},
			{"Create of a tenant.User as a service principal", tx.Create(store.ServicePrincipals, newUser("alice", id("tenant/contoso")))},
			{"Put of a pointer to a service principal", tx.Put(store.ServicePrincipals, &empty, 0)},
			{"Put of nil", tx.Put(store.ServicePrincipals, nil, 0)},
			{"Put of a service principal with an empty id", store.ServicePrincipals.Put(tx, empty)},
			{"Create of a service principal with an empty id", store.ServicePrincipals.Create(tx, empty)},
		} {
			if w.err == nil {
				t.Errorf("%s succeeded, want an error", w.what)
			}
		}
		return nil
	})
	view(t, s, "after invalid writes", func(tx store.ReadTx) error {
		wantAll(t, tx, store.ServicePrincipals, "", "", 0, nil, "invalid writes leave no record")
		return nil
	})
}

// testNotFound: Get, One and Delete of what does not exist are
// ErrNotFound; Lookup and List of a key nobody has are empty.
func testNotFound(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	tid := id("tenant/contoso")
	sp := newServicePrincipal("files", tid)
	check := func(label string) {
		view(t, s, label, func(tx store.ReadTx) error {
			_, err := store.ServicePrincipals.Get(tx, id("missing"))
			wantErr(t, err, store.ErrNotFound, label+": Get of a missing id")
			_, err = store.ServicePrincipals.Get(tx, "")
			wantErr(t, err, store.ErrNotFound, label+": Get of the empty id")
			_, err = store.Grants.Get(tx, id("missing"))
			wantErr(t, err, store.ErrNotFound, label+": Get of a kind with no records")
			_, err = store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(id("appId/missing"), tid))
			wantErr(t, err, store.ErrNotFound, label+": One with a missing key")
			wantLookup(t, tx, store.ServicePrincipals, store.ByTenant, id("tenant/missing"), nil, label+": Lookup of a missing key")
			wantLookup(t, tx, store.Grants, store.GrantByClient, id("sp/missing"), nil, label+": Lookup in a kind with no records")
			items, next, err := store.ServicePrincipals.List(tx, store.ByTenant, id("tenant/missing"), store.Page{})
			if noErr(t, err, label+": List of a missing key") && (len(items) != 0 || next != "") {
				t.Errorf("%s: List of a missing key returned %d items and cursor %q, want none and \"\"", label, len(items), next)
			}
			return nil
		})
	}
	check("empty store")
	update(t, s, "Create", func(tx store.Tx) error { return store.ServicePrincipals.Create(tx, sp) })
	check("store with a record")

	err := s.Update(t.Context(), func(tx store.Tx) error { return store.ServicePrincipals.Delete(tx, id("missing")) })
	wantErr(t, err, store.ErrNotFound, "Update whose fn returns the error of Delete of a missing id")
	update(t, s, "Delete twice", func(tx store.Tx) error {
		noErr(t, store.ServicePrincipals.Delete(tx, sp.ID), "first Delete of an existing record")
		wantErr(t, store.ServicePrincipals.Delete(tx, sp.ID), store.ErrNotFound, "second Delete of the same record in one transaction")
		_, err := store.ServicePrincipals.Get(tx, sp.ID)
		wantErr(t, err, store.ErrNotFound, "Get after Delete in the same transaction")
		return nil
	})
	wantNoRecord(t, s, store.ServicePrincipals, sp.ID, "after Delete")
	err = s.Update(t.Context(), func(tx store.Tx) error { return store.ServicePrincipals.Delete(tx, sp.ID) })
	wantErr(t, err, store.ErrNotFound, "Delete of a deleted record")
}

// testAlreadyExists: Create of an existing id is ErrAlreadyExists and
// changes nothing; Put of an existing id replaces it.
func testAlreadyExists(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	tid := id("tenant/contoso")
	u := newUser("alice", tid)
	update(t, s, "Create", func(tx store.Tx) error { return store.Users.Create(tx, u) })
	changed := newUser("alice", tid)
	changed.DisplayName = "changed"
	err := s.Update(t.Context(), func(tx store.Tx) error { return store.Users.Create(tx, changed) })
	wantErr(t, err, store.ErrAlreadyExists, "Create of an existing id")
	wantRecord(t, s, store.Users, u, "after a refused Create")

	bob := newUser("bob", tid)
	update(t, s, "Create twice in one transaction", func(tx store.Tx) error {
		noErr(t, store.Users.Create(tx, bob), "first Create")
		wantErr(t, store.Users.Create(tx, bob), store.ErrAlreadyExists, "second Create of the same id in one transaction")
		return nil
	})
	wantRecord(t, s, store.Users, bob, "after Create twice in one transaction")

	update(t, s, "Put over an existing record", func(tx store.Tx) error { return store.Users.Put(tx, changed) })
	wantRecord(t, s, store.Users, changed, "after Put over an existing record")
}

// testUniqueIndexes: a unique index key belongs to at most one record,
// across committed and pending writes; a record may keep its own key.
func testUniqueIndexes(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	t1, t2 := id("tenant/one"), id("tenant/two")
	sp1 := newServicePrincipal("files", t1)
	twin := newServicePrincipal("files", t1) // same appId and tenant, other id
	twin.ID = id("sp/twin")
	elsewhere := newServicePrincipal("files", t2) // same appId, other tenant
	legacy1, legacy2 := newServicePrincipal("legacy1", t1), newServicePrincipal("legacy2", t1)
	legacy1.AppID, legacy2.AppID = "", "" // legacy: not in SPByAppTenant
	contoso := newTenant("contoso", "contoso.onmicrosoft.com", "contoso.com")
	upper := newTenant("upper", "upper.onmicrosoft.com", "CONTOSO.com")
	app := newApplication("files", t1)
	sameAppID := newApplication("other", t1)
	sameAppID.AppID = app.AppID
	sameURI := newApplication("third", t1)
	sameURI.IdentifierURIs = []string{"api://third", app.IdentifierURIs[1]}
	grant := newGrant("g1", t1, id("sp/cli"), id("sp/files"))
	sameGrant := newGrant("g2", t1, id("sp/cli"), id("sp/files"))

	update(t, s, "Create the first holders", func(tx store.Tx) error {
		for _, err := range []error{
			store.ServicePrincipals.Create(tx, sp1), store.ServicePrincipals.Create(tx, legacy1),
			store.Tenants.Create(tx, contoso), store.Applications.Create(tx, app), store.Grants.Create(tx, grant),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for _, w := range []struct {
			what string
			err  error
		}{
			{"Create of a second service principal for the same (appId, tenant)", store.ServicePrincipals.Create(tx, twin)},
			{"Put of a second service principal for the same (appId, tenant)", store.ServicePrincipals.Put(tx, twin)},
			{"Create of a tenant with a verified domain of another tenant, in other case", store.Tenants.Create(tx, upper)},
			{"Create of an application with the appId of another", store.Applications.Create(tx, sameAppID)},
			{"Create of an application with an identifierUri of another", store.Applications.Create(tx, sameURI)},
			{"Create of a second grant for the same (client, type, principal, resource)", store.Grants.Create(tx, sameGrant)},
		} {
			wantErr(t, w.err, store.ErrAlreadyExists, w.what)
		}
		noErr(t, store.ServicePrincipals.Create(tx, elsewhere), "Create of the same app's service principal in another tenant")
		noErr(t, store.ServicePrincipals.Create(tx, legacy2), "Create of a second legacy service principal (no appId) in a tenant")
		noErr(t, store.ServicePrincipals.Put(tx, sp1), "Put of a record with its own unique key")
		return errAbort
	})
	wantErr(t, err, errAbort, "Update whose fn fails")
	wantNoRecord(t, s, store.ServicePrincipals, twin.ID, "refused unique key")
	wantNoRecord(t, s, store.Tenants, upper.ID, "refused unique key")
	wantRecord(t, s, store.ServicePrincipals, sp1, "holder of a key another record asked for")

	// Pending against pending, and keys freed inside a transaction.
	sp2, sp3 := newServicePrincipal("two", t1), newServicePrincipal("three", t1)
	update(t, s, "unique keys within one transaction", func(tx store.Tx) error {
		noErr(t, store.ServicePrincipals.Create(tx, sp2), "Create")
		clash := newServicePrincipal("two", t1)
		clash.ID = id("sp/clash")
		wantErr(t, store.ServicePrincipals.Create(tx, clash), store.ErrAlreadyExists, "Create of a key held by a record created earlier in the transaction")
		// sp1 moves to t2 (where "elsewhere" was not committed), freeing
		// (files, t1) for twin in the same transaction.
		moved := newServicePrincipal("files", t1)
		moved.TenantID = t2
		noErr(t, store.ServicePrincipals.Put(tx, moved), "Put moving a record to a free key")
		noErr(t, store.ServicePrincipals.Create(tx, twin), "Create of a key freed earlier in the transaction")
		// Deleting sp2 frees its key for sp3.
		noErr(t, store.ServicePrincipals.Delete(tx, sp2.ID), "Delete")
		sp3.AppID = sp2.AppID
		noErr(t, store.ServicePrincipals.Create(tx, sp3), "Create of the key of a record deleted earlier in the transaction")
		return nil
	})
	view(t, s, "after moving keys", func(tx store.ReadTx) error {
		for _, c := range []struct{ appID, tenantID, want string }{
			{sp1.AppID, t1, twin.ID}, {sp1.AppID, t2, sp1.ID}, {sp2.AppID, t1, sp3.ID},
		} {
			got, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(c.appID, c.tenantID))
			if noErr(t, err, "One by (appId, tenant)") && got.ID != c.want {
				t.Errorf("One by (appId, tenant) returned %s, want %s", got.ID, c.want)
			}
		}
		return nil
	})
}

// testIndexMaintenance: changing or deleting a record moves it out of the
// keys it no longer has and into its new ones.
func testIndexMaintenance(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	t1, t2, t3 := id("tenant/one"), id("tenant/two"), id("tenant/three")
	sp := newServicePrincipal("files", t1)
	others := []serviceprincipal.ServicePrincipal{newServicePrincipal("files", t2), newServicePrincipal("files", t3)}
	a, b, c := id("user/a"), id("user/b"), id("user/c")
	group := newGroup("eng", t1, tenant.Ref{ID: a, Type: tenant.MemberUser}, tenant.Ref{ID: b, Type: tenant.MemberUser})
	contoso := newTenant("contoso", "contoso.onmicrosoft.com", "contoso.com", "contoso.net")
	app := newApplication("files", t1)
	update(t, s, "Create", func(tx store.Tx) error {
		for _, v := range append(others, sp) {
			if err := store.ServicePrincipals.Create(tx, v); err != nil {
				return err
			}
		}
		if err := store.Groups.Create(tx, group); err != nil {
			return err
		}
		if err := store.Tenants.Create(tx, contoso); err != nil {
			return err
		}
		return store.Applications.Create(tx, app)
	})
	view(t, s, "after Create", func(tx store.ReadTx) error {
		wantLookup(t, tx, store.ServicePrincipals, store.SPByAppID, sp.AppID, sortedIDs(sp.ID, others[0].ID, others[1].ID), "non-unique index with three records")
		wantLookup(t, tx, store.Groups, store.GroupByMember, a, []string{group.ID}, "multi-valued index")
		wantLookup(t, tx, store.Applications, store.DeletedApplicationsIndex, "deleted", nil, "index of soft-deleted applications before deletion")
		return nil
	})

	// Change a unique key (tenant), a multi-valued one (members, domains)
	// and a conditional one (soft deletion).
	moved := newServicePrincipal("files", t1)
	moved.TenantID = id("tenant/four")
	group.Members = []tenant.Ref{{ID: b, Type: tenant.MemberUser}, {ID: c, Type: tenant.MemberUser}}
	contoso.VerifiedDomains = contoso.VerifiedDomains[:2] // drops contoso.net
	app.DeletedDateTime = ptr(at(0))
	update(t, s, "Put changed keys", func(tx store.Tx) error {
		if err := store.ServicePrincipals.Put(tx, moved); err != nil {
			return err
		}
		if err := store.Groups.Put(tx, group); err != nil {
			return err
		}
		if err := store.Tenants.Put(tx, contoso); err != nil {
			return err
		}
		return store.Applications.Put(tx, app)
	})
	view(t, s, "after Put changed keys", func(tx store.ReadTx) error {
		_, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(sp.AppID, t1))
		wantErr(t, err, store.ErrNotFound, "One by the old (appId, tenant) key after the record moved")
		wantLookup(t, tx, store.ServicePrincipals, store.SPByAppTenant, store.AppTenantKey(sp.AppID, moved.TenantID), []string{sp.ID}, "new unique key")
		wantLookup(t, tx, store.ServicePrincipals, store.ByTenant, t1, nil, "old tenant key")
		wantLookup(t, tx, store.ServicePrincipals, store.ByTenant, moved.TenantID, []string{sp.ID}, "new tenant key")
		wantLookup(t, tx, store.ServicePrincipals, store.SPByAppID, sp.AppID, sortedIDs(sp.ID, others[0].ID, others[1].ID), "unchanged key")
		wantLookup(t, tx, store.Groups, store.GroupByMember, a, nil, "removed member")
		wantLookup(t, tx, store.Groups, store.GroupByMember, b, []string{group.ID}, "kept member")
		wantLookup(t, tx, store.Groups, store.GroupByMember, c, []string{group.ID}, "added member")
		wantLookup(t, tx, store.Tenants, store.TenantByDomain, "contoso.net", nil, "removed domain")
		wantLookup(t, tx, store.Tenants, store.TenantByDomain, "contoso.com", []string{contoso.ID}, "kept domain")
		wantLookup(t, tx, store.Applications, store.DeletedApplicationsIndex, "deleted", []string{app.ID}, "soft-deleted application")
		return nil
	})
	fabrikam := newTenant("fabrikam", "fabrikam.onmicrosoft.com", "contoso.net")
	retaken := newServicePrincipal("files", t1)
	retaken.ID = id("sp/retaken")
	update(t, s, "take freed unique keys", func(tx store.Tx) error {
		if err := store.Tenants.Create(tx, fabrikam); err != nil {
			return err
		}
		return store.ServicePrincipals.Create(tx, retaken)
	})

	// Delete frees every key.
	update(t, s, "Delete", func(tx store.Tx) error {
		for _, err := range []error{
			store.ServicePrincipals.Delete(tx, sp.ID), store.Groups.Delete(tx, group.ID),
			store.Tenants.Delete(tx, contoso.ID), store.Applications.Delete(tx, app.ID),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, "after Delete", func(tx store.ReadTx) error {
		wantLookup(t, tx, store.ServicePrincipals, store.SPByAppTenant, store.AppTenantKey(sp.AppID, moved.TenantID), nil, "unique key of a deleted record")
		wantLookup(t, tx, store.ServicePrincipals, store.ByTenant, moved.TenantID, nil, "tenant key of a deleted record")
		wantLookup(t, tx, store.ServicePrincipals, store.SPByAppID, sp.AppID, sortedIDs(retaken.ID, others[0].ID, others[1].ID), "shared key of a deleted record")
		wantAll(t, tx, store.ServicePrincipals, "", "", 0, sortedIDs(retaken.ID, others[0].ID, others[1].ID), "listing after Delete")
		wantLookup(t, tx, store.Groups, store.GroupByMember, b, nil, "member key of a deleted group")
		wantLookup(t, tx, store.Tenants, store.TenantByDomain, "contoso.com", nil, "domain of a deleted tenant")
		wantLookup(t, tx, store.Applications, store.DeletedApplicationsIndex, "deleted", nil, "deleted application")
		wantLookup(t, tx, store.Applications, store.AppByAppID, app.AppID, nil, "appId of a deleted application")
		return nil
	})
	update(t, s, "reuse keys of deleted records", func(tx store.Tx) error {
		return store.Tenants.Create(tx, newTenant("contoso2", "contoso.onmicrosoft.com", "contoso.com"))
	})
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

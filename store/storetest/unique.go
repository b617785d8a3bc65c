package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/store"
)

// uniqueDisagreements compares, if tx offers store.UniqueReader, its One
// with Lookup for every unique index of k and every key in keys[index]:
// where Lookup finds nothing One must return ErrNotFound, where it finds a
// record One must return that record (go-cmp equal). Lookup finding two
// records for a unique key is reported too. It returns one line per
// disagreement; none if tx does not offer the capability.
func uniqueDisagreements(tx store.ReadTx, k store.Kind, keys map[string][]string) []string {
	u, ok := tx.(store.UniqueReader)
	if !ok {
		return nil
	}
	var out []string
	for _, ix := range k.Indexes() {
		if !ix.Unique {
			continue
		}
		for _, key := range keys[ix.Name] {
			vs, lerr := tx.Lookup(k, ix.Name, key)
			got, err := u.One(k, ix.Name, key)
			at := fmt.Sprintf("%s by unique %s %q", k.Name(), ix.Name, key)
			switch {
			case lerr != nil:
				out = append(out, fmt.Sprintf("Lookup %s returned %v", at, lerr))
			case len(vs) > 1:
				out = append(out, fmt.Sprintf("Lookup %s returned %d records of a unique key", at, len(vs)))
			case len(vs) == 0 && !errors.Is(err, store.ErrNotFound):
				out = append(out, fmt.Sprintf("One %s returned (%v, %v) where Lookup finds none, want ErrNotFound", at, idOf(k, got), err))
			case len(vs) == 1 && err != nil:
				out = append(out, fmt.Sprintf("One %s returned %v where Lookup finds %s", at, err, k.ID(vs[0])))
			case len(vs) == 1:
				if diff := cmp.Diff(vs[0], got); diff != "" {
					out = append(out, fmt.Sprintf("One %s returned another record than Lookup (-Lookup +One):\n%s", at, diff))
				}
			}
		}
	}
	return out
}

func idOf(k store.Kind, v any) string {
	if v == nil || k.Check(v) != nil {
		return fmt.Sprint(v)
	}
	return k.ID(v)
}

// uniqueKeysOf returns, per unique index of k, the keys of vs in it and a
// key no record has.
func uniqueKeysOf(k store.Kind, vs ...any) map[string][]string {
	keys := map[string][]string{}
	for _, ix := range k.Indexes() {
		if !ix.Unique {
			continue
		}
		set := []string{"absent/" + ix.Name}
		for _, v := range vs {
			set = append(set, k.Keys(ix.Name, v)...)
		}
		slices.Sort(set)
		keys[ix.Name] = slices.Compact(set)
	}
	return keys
}

// uniqueCase is a kind with unique indexes and records of it: a and b
// hold distinct keys, moved is a with some of its unique keys changed and
// c, another record, takes b's keys once b is gone.
type uniqueCase struct {
	k              store.Kind
	a, b, moved, c any
}

func uniqueCases() []uniqueCase {
	t1, t2 := id("tenant/one"), id("tenant/two")
	tenantA := newTenant("ua", "ua.onmicrosoft.com", "ua.com")
	tenantMoved := newTenant("ua", "ua.onmicrosoft.com", "ua.org")
	tenantC := newTenant("uc", "UB.onmicrosoft.com") // b's domain, in other case
	userMoved := newUser("ua", t1)
	userMoved.UserPrincipalName = "UA.Renamed@contoso.onmicrosoft.com"
	userC := newUser("ub", t1)
	userC.ID = id("user/uc")
	appMoved := newApplication("ua", t1)
	appMoved.AppID = id("appId/ua/moved")
	appMoved.IdentifierURIs = []string{appMoved.IdentifierURIs[0], "api://ua/moved"}
	appC := newApplication("ub", t1)
	appC.ID = id("app/uc")
	spMoved := newServicePrincipal("ua", t1)
	spMoved.TenantID = t2
	spC := newServicePrincipal("ub", t1)
	spC.ID = id("sp/uc")
	cli, resA, resB := id("sp/cli"), id("sp/resA"), id("sp/resB")
	grantMoved := newGrant("ua", t1, cli, resA)
	grantMoved.ResourceID = id("sp/resMoved")
	grantC := newGrant("uc", t1, cli, resB)
	asMoved := newAssignment("ua", t1, id("user/alice"), resA, id("role/one"))
	asMoved.AppRoleID = id("role/two")
	asC := newAssignment("uc", t1, id("user/alice"), resB, id("role/one"))
	return []uniqueCase{
		{store.Tenants, tenantA, newTenant("ub", "ub.onmicrosoft.com"), tenantMoved, tenantC},
		{store.Users, newUser("ua", t1), newUser("ub", t1), userMoved, userC},
		{store.Applications, newApplication("ua", t1), newApplication("ub", t1), appMoved, appC},
		{store.ServicePrincipals, newServicePrincipal("ua", t1), newServicePrincipal("ub", t1), spMoved, spC},
		{store.Grants, newGrant("ua", t1, cli, resA), newGrant("ub", t1, cli, resB), grantMoved, grantC},
		{store.Assignments, newAssignment("ua", t1, id("user/alice"), resA, id("role/one")),
			newAssignment("ub", t1, id("user/alice"), resB, id("role/one")), asMoved, asC},
	}
}

// testUniqueReader: where a transaction offers store.UniqueReader (View's,
// Update's or both), its answer agrees with Lookup for every unique index
// of every kind: for present and absent keys, after a delete, after a
// change of the key, and inside a transaction with uncommitted writes of
// its own (creates, key changes, deletes, a key freed and taken again),
// committed or not.
func testUniqueReader(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	cases := uniqueCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.k.Name()] = true
	}
	for _, k := range store.Kinds() {
		if slices.ContainsFunc(k.Indexes(), func(ix store.Index) bool { return ix.Unique }) && !covered[k.Name()] {
			t.Errorf("kind %s has a unique index the suite does not cover", k.Name())
		}
	}
	offered := map[string]bool{}
	check := func(tx store.ReadTx, label string) {
		t.Helper()
		if _, ok := tx.(store.UniqueReader); ok {
			offered[label[:strings.Index(label, ":")]] = true
		}
		for _, c := range cases {
			for _, d := range uniqueDisagreements(tx, c.k, uniqueKeysOf(c.k, c.a, c.b, c.moved, c.c)) {
				t.Errorf("%s: %s", label, d)
			}
		}
	}
	checkView := func(label string) {
		t.Helper()
		view(t, s, label, func(tx store.ReadTx) error { check(tx, "View: "+label); return nil })
	}
	writes := func(tx store.Tx, label string) {
		t.Helper()
		for _, c := range cases {
			noErr(t, tx.Put(c.k, c.moved, 0), label+": Put "+c.k.Name()+" with changed unique keys")
		}
		check(tx, "Update: "+label+", after changing keys")
		for _, c := range cases {
			noErr(t, tx.Delete(c.k, c.k.ID(c.b)), label+": Delete "+c.k.Name())
		}
		check(tx, "Update: "+label+", after deletes")
		for _, c := range cases {
			noErr(t, tx.Create(c.k, c.c), label+": Create "+c.k.Name()+" with the keys of a record deleted in the transaction")
		}
		check(tx, "Update: "+label+", after taking freed keys")
	}

	checkView("empty store")
	update(t, s, "create", func(tx store.Tx) error {
		for _, c := range cases {
			if err := tx.Create(c.k, c.a); err != nil {
				return err
			}
			check(tx, "Update: after a Create of "+c.k.Name())
			if err := tx.Create(c.k, c.b); err != nil {
				return err
			}
		}
		check(tx, "Update: after the creates")
		return nil
	})
	checkView("committed records")
	err := s.Update(t.Context(), func(tx store.Tx) error {
		writes(tx, "aborted")
		return errAbort
	})
	wantErr(t, err, errAbort, "aborted Update")
	checkView("after an aborted transaction")
	update(t, s, "committed writes", func(tx store.Tx) error {
		check(tx, "Update: before writes")
		writes(tx, "committed")
		return nil
	})
	checkView("after a committed change of keys, deletes and creates")
	update(t, s, "delete", func(tx store.Tx) error {
		for _, c := range cases {
			if err := tx.Delete(c.k, c.k.ID(c.moved)); err != nil {
				return err
			}
		}
		check(tx, "Update: after deleting the moved records")
		return nil
	})
	checkView("after deletes")
	if len(offered) == 0 {
		t.Log("neither View's nor Update's transaction offers store.UniqueReader: nothing to compare")
	} else {
		t.Logf("store.UniqueReader offered by: %v", slices.Sorted(maps.Keys(offered)))
	}
}

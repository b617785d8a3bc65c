package tenant

import (
	"testing"

	"pgregory.net/rapid"
)

func TestNewReader(t *testing.T) {
	const home, away = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	tn := func(guestRole string) Tenant {
		p := DefaultPolicy()
		p.GuestUserRoleID = guestRole
		return Tenant{ID: home, Policy: p}
	}
	member := User{ID: "m", TenantID: home, UserType: Member, AccountEnabled: true}
	guest := User{ID: "g", TenantID: home, UserType: Guest, AccountEnabled: true}
	disabled := member
	disabled.AccountEnabled = false
	foreign := member
	foreign.TenantID = away
	for _, tc := range []struct {
		name string
		t    Tenant
		c    Caller
		want ReadAccess
	}{
		{"system", tn(GuestRoleGuest), SystemCaller(), ReadEverything},
		{"zero caller", tn(GuestRoleGuest), Caller{}, ReadNothing},
		{"disabled member", tn(GuestRoleGuest), Caller{User: disabled}, ReadNothing},
		{"disabled administrator", tn(GuestRoleGuest), Caller{User: disabled, Roles: Roles{RoleGlobalAdministrator}}, ReadNothing},
		{"user of another tenant", tn(GuestRoleGuest), Caller{User: foreign}, ReadNothing},
		{"member", tn(GuestRoleRestricted), Caller{User: member}, ReadDirectory},
		{"guest, User role", tn(GuestRoleUser), Caller{User: guest}, ReadDirectory},
		{"guest, Guest User role", tn(GuestRoleGuest), Caller{User: guest}, ReadLimited},
		{"guest, unknown role id", tn(""), Caller{User: guest}, ReadLimited},
		{"guest, Restricted Guest User role", tn(GuestRoleRestricted), Caller{User: guest}, ReadOwn},
		{"restricted guest holding an administrator role", tn(GuestRoleRestricted), Caller{User: guest, Roles: Roles{RoleApplicationAdministrator}}, ReadDirectory},
		{"restricted guest holding Application Developer", tn(GuestRoleRestricted), Caller{User: guest, Roles: Roles{RoleApplicationDeveloper}}, ReadOwn},
	} {
		if got := NewReader(tc.t, tc.c).Access; got != tc.want {
			t.Errorf("%s: access %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestReaderSees(t *testing.T) {
	const home, away = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	objects := map[string]Object{
		"tenant":             {Kind: ObjectTenant, TenantID: home, ID: home},
		"self":               {Kind: ObjectUser, TenantID: home, ID: "me"},
		"other user":         {Kind: ObjectUser, TenantID: home, ID: "you"},
		"joined group":       {Kind: ObjectGroup, TenantID: home, ID: "g1", Joined: true},
		"other group":        {Kind: ObjectGroup, TenantID: home, ID: "g2"},
		"application":        {Kind: ObjectApplication, TenantID: home, ID: "a"},
		"service principal":  {Kind: ObjectServicePrincipal, TenantID: home, ID: "s"},
		"own grant":          {Kind: ObjectGrant, TenantID: home, ID: "gr1", HolderID: "me"},
		"tenant-wide grant":  {Kind: ObjectGrant, TenantID: home, ID: "gr2"},
		"own assignment":     {Kind: ObjectAssignment, TenantID: home, ID: "as1", HolderID: "me"},
		"other assignment":   {Kind: ObjectAssignment, TenantID: home, ID: "as2", HolderID: "you"},
		"foreign app":        {Kind: ObjectApplication, TenantID: away, ID: "fa"},
		"foreign user":       {Kind: ObjectUser, TenantID: away, ID: "me"},
		"own foreign object": {Kind: ObjectAssignment, TenantID: away, ID: "as3", HolderID: "me"},
	}
	hidden := map[string]Sight{}
	for k := range objects {
		hidden[k] = Hidden
	}
	with := func(base map[string]Sight, kv map[string]Sight) map[string]Sight {
		m := map[string]Sight{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range kv {
			m[k] = v
		}
		return m
	}
	member := with(hidden, map[string]Sight{"tenant": Full, "self": Full, "other user": Full, "joined group": Full, "other group": Full,
		"application": Full, "service principal": Full, "own grant": Full, "tenant-wide grant": Full, "own assignment": Full, "other assignment": Full})
	own := with(hidden, map[string]Sight{"tenant": Limited, "self": Full, "own grant": Full, "own assignment": Full})
	limited := with(own, map[string]Sight{"other user": Limited, "joined group": Full, "application": Full, "service principal": Full})
	everything := map[string]Sight{}
	for k := range objects {
		everything[k] = Full
	}
	reader := func(a ReadAccess, otherUsers bool) Reader {
		return Reader{TenantID: home, UserID: "me", Access: a, OtherUsers: otherUsers}
	}
	for _, tc := range []struct {
		name string
		r    Reader
		want map[string]Sight
	}{
		{"system", SystemReader(), everything},
		{"zero reader", Reader{}, hidden},
		{"nothing", reader(ReadNothing, true), hidden},
		{"own", reader(ReadOwn, true), own},
		{"limited", reader(ReadLimited, true), limited},
		{"directory", reader(ReadDirectory, true), member},
		{"directory without other users", reader(ReadDirectory, false), with(member, map[string]Sight{"other user": Hidden})},
	} {
		for name, o := range objects {
			if got := tc.r.Sees(o); got != tc.want[name] {
				t.Errorf("%s sees %s: %d, want %d", tc.name, name, got, tc.want[name])
			}
		}
	}
}

func TestReaderListsAndLogs(t *testing.T) {
	const home, away = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	member := Reader{TenantID: home, UserID: "me", Access: ReadDirectory, OtherUsers: true}
	admin := member
	admin.Roles = Roles{RoleGlobalAdministrator}
	appAdmin := member
	appAdmin.Roles = Roles{RoleCloudApplicationAdministrator}
	guest := Reader{TenantID: home, UserID: "me", Access: ReadLimited, OtherUsers: true, Roles: Roles{RoleGlobalAdministrator}}
	noUsers := member
	noUsers.OtherUsers = false
	check := func(name string, got, want bool) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %t, want %t", name, got, want)
		}
	}
	check("system lists anywhere", SystemReader().Lists(ObjectUser, away), true)
	check("member lists her tenant", member.Lists(ObjectGroup, home), true)
	check("member lists another tenant", member.Lists(ObjectGroup, away), false)
	check("limited guest lists", guest.Lists(ObjectApplication, home), false)
	check("member without other users lists users", noUsers.Lists(ObjectUser, home), false)
	check("member without other users lists groups", noUsers.Lists(ObjectGroup, home), true)
	check("zero reader lists", Reader{}.Lists(ObjectUser, ""), false)

	check("system reads every log", SystemReader().ReadsLogs(""), true)
	check("global administrator reads her logs", admin.ReadsLogs(home), true)
	check("global administrator reads every log", admin.ReadsLogs(""), false)
	check("global administrator reads another tenant's logs", admin.ReadsLogs(away), false)
	check("application administrator reads logs", appAdmin.ReadsLogs(home), false)
	check("member reads logs", member.ReadsLogs(home), false)
	check("zero reader with a role reads logs", Reader{Roles: Roles{RoleGlobalAdministrator}}.ReadsLogs(""), false)

	check("application administrator reads the report", appAdmin.ReadsReport(home), true)
	check("application administrator reads another tenant's report", appAdmin.ReadsReport(away), false)
	check("member reads the report", member.ReadsReport(home), false)
	check("system reads every report", SystemReader().ReadsReport(""), true)
}

// The read rule's properties over random readers and objects: nothing of
// another tenant is visible to a user, a reader that reads nothing sees
// nothing, System sees everything whole, more access never sees less, and
// what a reader may list she sees whole.
func TestReaderSeesProperties(t *testing.T) {
	tenants := []string{"t1", "t2"}
	ids := []string{"u1", "u2", "x"}
	rapid.Check(t, func(rt *rapid.T) {
		r := Reader{
			TenantID:   rapid.SampledFrom(tenants).Draw(rt, "readerTenant"),
			UserID:     rapid.SampledFrom(ids[:2]).Draw(rt, "reader"),
			Access:     ReadAccess(rapid.IntRange(int(ReadNothing), int(ReadDirectory)).Draw(rt, "access")),
			OtherUsers: rapid.Bool().Draw(rt, "otherUsers"),
		}
		o := Object{
			Kind:     ObjectKind(rapid.IntRange(int(ObjectTenant), int(ObjectAssignment)).Draw(rt, "kind")),
			TenantID: rapid.SampledFrom(tenants).Draw(rt, "objectTenant"),
			ID:       rapid.SampledFrom(ids).Draw(rt, "id"),
			HolderID: rapid.SampledFrom(append(ids, "")).Draw(rt, "holder"),
			Joined:   rapid.Bool().Draw(rt, "joined"),
		}
		s := r.Sees(o)
		if o.TenantID != r.TenantID && s != Hidden {
			rt.Fatalf("%+v sees %+v of another tenant: %d", r, o, s)
		}
		if r.Access == ReadNothing && s != Hidden {
			rt.Fatalf("a reader of nothing sees %+v", o)
		}
		if SystemReader().Sees(o) != Full {
			rt.Fatalf("System does not see %+v whole", o)
		}
		if r.Access < ReadDirectory {
			more := r
			more.Access++
			if more.Sees(o) < s {
				rt.Fatalf("access %d sees %+v as %d, access %d as %d", r.Access, o, s, more.Access, more.Sees(o))
			}
		}
		// A listing shows whole every object it may list.
		if r.Lists(o.Kind, o.TenantID) && s != Full {
			rt.Fatalf("%+v lists kind %d in %s but sees %+v as %d", r, o.Kind, o.TenantID, o, s)
		}
	})
}

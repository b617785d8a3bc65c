package tenantry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// visFixture is a directory for the read rule: Contoso with an
// administrator, two members (bob has a password), a disabled member, a
// guest from Fabrikam, two groups (the guest is in one), an API with a
// role, and a multi-tenant tool registered in Fabrikam with its service
// principal in Contoso holding two grants (one the guest's own); Fabrikam
// has a member, Frank.
type visFixture struct {
	*fixture
	con, fab                     tenant.Tenant
	admin, alice, bob, carol     tenant.User
	guest, frank                 tenant.User
	joined, other                tenant.Group
	api, tool                    application.Application
	apiSP, toolSP, toolHomeSP    serviceprincipal.ServicePrincipal
	guestGrant, allGrant         consent.Grant
	guestAssignment, bobAssigned serviceprincipal.AppRoleAssignment
}

func newVisFixture(t *testing.T, guestRole string) *visFixture {
	t.Helper()
	f := &visFixture{fixture: newFixture(t)}
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.con, f.fab = f.tenant("Contoso"), f.tenant("Fabrikam")
	p := f.con.Policy.Clone()
	p.GuestUserRoleID = guestRole
	var err error
	f.con, err = f.d.SetAuthorizationPolicy(f.ctx, System(), f.con.ID, p)
	ok(err)
	f.admin = f.user(f.con.ID, "admin@contoso.onmicrosoft.com", tenant.RoleGlobalAdministrator)
	f.alice = f.user(f.con.ID, "alice@contoso.onmicrosoft.com")
	f.bob, err = f.d.CreateUser(f.ctx, System(), f.con.ID, UserSpec{UserPrincipalName: "bob@contoso.onmicrosoft.com", DisplayName: "Bob", Password: "correct horse battery staple"})
	ok(err)
	f.carol, err = f.d.CreateUser(f.ctx, System(), f.con.ID, UserSpec{UserPrincipalName: "carol@contoso.onmicrosoft.com", Disabled: true})
	ok(err)
	f.guest, err = f.d.CreateUser(f.ctx, System(), f.con.ID, UserSpec{UserPrincipalName: "gail_fabrikam.com#EXT#@contoso.onmicrosoft.com", DisplayName: "Gail", Guest: true, HomeTenantID: f.fab.ID})
	ok(err)
	f.frank = f.user(f.fab.ID, "frank@fabrikam.onmicrosoft.com")
	f.joined, err = f.d.CreateGroup(f.ctx, System(), f.con.ID, GroupSpec{DisplayName: "Joined"})
	ok(err)
	for _, id := range []string{f.alice.ID, f.guest.ID} {
		f.joined, err = f.d.AddGroupMember(f.ctx, System(), f.joined.ID, tenant.Ref{ID: id, Type: tenant.MemberUser})
		ok(err)
	}
	f.other, err = f.d.CreateGroup(f.ctx, System(), f.con.ID, GroupSpec{DisplayName: "Other"})
	ok(err)
	f.api = f.app(f.con.ID, application.Application{DisplayName: "API", AppRoles: []application.AppRole{
		{AllowedMemberTypes: []string{application.MemberTypeUser}, Value: "Orders.Read", DisplayName: "Read orders", Description: "Read orders", IsEnabled: true},
	}})
	f.tool = f.app(f.fab.ID, application.Application{DisplayName: "Tool", SignInAudience: application.AzureADMultipleOrgs})
	f.apiSP, err = f.d.ServicePrincipalByAppID(f.ctx, System(), f.con.ID, f.api.AppID)
	ok(err)
	f.toolHomeSP, err = f.d.ServicePrincipalByAppID(f.ctx, System(), f.fab.ID, f.tool.AppID)
	ok(err)
	f.toolSP, err = f.d.CreateServicePrincipal(f.ctx, System(), f.con.ID, f.tool.AppID)
	ok(err)
	f.guestAssignment, err = f.d.AssignAppRole(f.ctx, System(), AssignmentSpec{ResourceID: f.apiSP.ID, PrincipalID: f.guest.ID, AppRoleValue: "Orders.Read"})
	ok(err)
	f.bobAssigned, err = f.d.AssignAppRole(f.ctx, System(), AssignmentSpec{ResourceID: f.apiSP.ID, PrincipalID: f.bob.ID, AppRoleValue: "Orders.Read"})
	ok(err)
	// Grants written around the Directory: the read rule is what is tested.
	f.guestGrant = consent.Grant{ID: "00000000-0000-4000-8000-00000000000a", TenantID: f.con.ID, ClientID: f.toolSP.ID, ConsentType: consent.Principal, PrincipalID: f.guest.ID, ResourceID: f.apiSP.ID, Scope: "openid"}
	f.allGrant = consent.Grant{ID: "00000000-0000-4000-8000-00000000000b", TenantID: f.con.ID, ClientID: f.toolSP.ID, ConsentType: consent.AllPrincipals, ResourceID: f.apiSP.ID, Scope: "profile"}
	ok(f.st.Update(f.ctx, func(tx store.Tx) error {
		return errors.Join(store.Grants.Create(tx, f.guestGrant), store.Grants.Create(tx, f.allGrant))
	}))
	return f
}

// sightOf classifies a read's answer: "full" or "limited" for an object,
// "items:N" for a page, "ok" for a report or log page, "hidden" for an
// error matching store.ErrNotFound, "forbidden" for ErrForbidden.
func sightOf(v any, err error) string {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "hidden"
	case errors.Is(err, ErrForbidden):
		return "forbidden"
	case err != nil:
		return "error: " + err.Error()
	}
	switch x := v.(type) {
	case tenant.User:
		if x.CreatedDateTime.IsZero() {
			return "limited"
		}
		return "full"
	case tenant.Tenant:
		if x.Policy.GuestUserRoleID == "" {
			return "limited"
		}
		return "full"
	case Page[tenant.User]:
		return "items:" + fmt.Sprint(len(x.Items))
	case Page[tenant.Group]:
		return "items:" + fmt.Sprint(len(x.Items))
	case Page[application.Application]:
		return "items:" + fmt.Sprint(len(x.Items))
	case Page[serviceprincipal.ServicePrincipal]:
		return "items:" + fmt.Sprint(len(x.Items))
	case Page[consent.Grant]:
		return "items:" + fmt.Sprint(len(x.Items))
	case Page[serviceprincipal.AppRoleAssignment]:
		return "items:" + fmt.Sprint(len(x.Items))
	case Page[store.AuditEvent], Report:
		return "ok"
	}
	return "full"
}

// visReads are the reads of the table, by name.
var visReads = []struct {
	name string
	read func(f *visFixture, a Actor) (any, error)
}{
	{"tenant", func(f *visFixture, a Actor) (any, error) {
		return f.d.ResolveTenant(f.ctx, a, "CONTOSO.onmicrosoft.com")
	}},
	{"other tenant", func(f *visFixture, a Actor) (any, error) { return f.d.ResolveTenant(f.ctx, a, f.fab.ID) }},
	{"user alice", func(f *visFixture, a Actor) (any, error) { return f.d.User(f.ctx, a, f.alice.ID) }},
	{"user guest", func(f *visFixture, a Actor) (any, error) { return f.d.User(f.ctx, a, f.guest.ID) }},
	{"upn bob", func(f *visFixture, a Actor) (any, error) {
		return f.d.UserByPrincipalName(f.ctx, a, "Bob@CONTOSO.onmicrosoft.com")
	}},
	{"user frank", func(f *visFixture, a Actor) (any, error) { return f.d.User(f.ctx, a, f.frank.ID) }},
	{"users", func(f *visFixture, a Actor) (any, error) { return f.d.Users(f.ctx, a, f.con.ID, PageRequest{}) }},
	{"group joined", func(f *visFixture, a Actor) (any, error) { return f.d.Group(f.ctx, a, f.joined.ID) }},
	{"group other", func(f *visFixture, a Actor) (any, error) { return f.d.Group(f.ctx, a, f.other.ID) }},
	{"groups", func(f *visFixture, a Actor) (any, error) { return f.d.Groups(f.ctx, a, f.con.ID, PageRequest{}) }},
	{"app", func(f *visFixture, a Actor) (any, error) { return f.d.Application(f.ctx, a, f.api.ID) }},
	{"app by appId", func(f *visFixture, a Actor) (any, error) { return f.d.ApplicationByAppID(f.ctx, a, f.api.AppID) }},
	{"foreign app", func(f *visFixture, a Actor) (any, error) { return f.d.Application(f.ctx, a, f.tool.ID) }},
	{"foreign app by appId", func(f *visFixture, a Actor) (any, error) { return f.d.ApplicationByAppID(f.ctx, a, f.tool.AppID) }},
	{"apps", func(f *visFixture, a Actor) (any, error) { return f.d.Applications(f.ctx, a, f.con.ID, PageRequest{}) }},
	{"sp", func(f *visFixture, a Actor) (any, error) { return f.d.ServicePrincipal(f.ctx, a, f.apiSP.ID) }},
	{"foreign app's sp here", func(f *visFixture, a Actor) (any, error) {
		return f.d.ServicePrincipalByAppID(f.ctx, a, f.con.ID, f.tool.AppID)
	}},
	{"sp in other tenant", func(f *visFixture, a Actor) (any, error) {
		return f.d.ServicePrincipalByAppID(f.ctx, a, f.fab.ID, f.tool.AppID)
	}},
	{"sps", func(f *visFixture, a Actor) (any, error) {
		return f.d.ServicePrincipals(f.ctx, a, f.con.ID, PageRequest{})
	}},
	{"grants", func(f *visFixture, a Actor) (any, error) { return f.d.Grants(f.ctx, a, f.toolSP.ID, PageRequest{}) }},
	{"guest's assignments", func(f *visFixture, a Actor) (any, error) {
		return f.d.Assignments(f.ctx, a, f.guest.ID, PageRequest{})
	}},
	{"bob's assignments", func(f *visFixture, a Actor) (any, error) {
		return f.d.Assignments(f.ctx, a, f.bob.ID, PageRequest{})
	}},
	{"audit", func(f *visFixture, a Actor) (any, error) { return f.d.Audit(f.ctx, a, f.con.ID, AuditQuery{}) }},
	{"audit of every tenant", func(f *visFixture, a Actor) (any, error) { return f.d.Audit(f.ctx, a, "", AuditQuery{}) }},
	{"report", func(f *visFixture, a Actor) (any, error) { return f.d.Report(f.ctx, a, f.con.ID, ReportOptions{}) }},
}

func TestReadVisibility(t *testing.T) {
	all := func(v string) map[string]string {
		m := map[string]string{}
		for _, r := range visReads {
			m[r.name] = v
		}
		return m
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	system := with(all("full"), "users", "items:5", "groups", "items:2", "apps", "items:1", "sps", "items:2",
		"grants", "items:2", "guest's assignments", "items:1", "bob's assignments", "items:1",
		"audit", "ok", "audit of every tenant", "ok", "report", "ok")
	member := with(system, "other tenant", "hidden", "user frank", "hidden", "foreign app", "hidden", "foreign app by appId", "hidden",
		"sp in other tenant", "hidden", "audit", "forbidden", "audit of every tenant", "forbidden", "report", "forbidden")
	admin := with(member, "audit", "ok", "report", "ok")
	guest := with(member, "tenant", "limited", "user alice", "limited", "upn bob", "limited",
		"users", "forbidden", "group other", "hidden", "groups", "forbidden", "apps", "forbidden", "sps", "forbidden",
		"grants", "items:1", "bob's assignments", "items:0")
	restricted := with(guest, "user alice", "hidden", "upn bob", "hidden", "group joined", "hidden",
		"app", "hidden", "app by appId", "hidden", "sp", "hidden", "foreign app's sp here", "hidden")
	// Frank of Fabrikam sees nothing of Contoso, and his own tenant's
	// objects.
	frank := with(all("hidden"), "other tenant", "full", "user frank", "full", "foreign app", "full", "foreign app by appId", "full",
		"sp in other tenant", "full", "users", "forbidden", "groups", "forbidden", "apps", "forbidden", "sps", "forbidden",
		"grants", "items:0", "guest's assignments", "items:0", "bob's assignments", "items:0",
		"audit", "forbidden", "audit of every tenant", "forbidden", "report", "forbidden")

	for _, tc := range []struct {
		name      string
		guestRole string
		actor     func(f *visFixture) Actor
		want      map[string]string
	}{
		{"system", tenant.GuestRoleGuest, func(*visFixture) Actor { return System() }, system},
		{"zero actor", tenant.GuestRoleGuest, func(*visFixture) Actor { return Actor{} }, all("forbidden")},
		{"unknown user", tenant.GuestRoleGuest, func(*visFixture) Actor { return UserActor("00000000-0000-4000-8000-0000000000ff") }, all("forbidden")},
		{"disabled member", tenant.GuestRoleGuest, func(f *visFixture) Actor { return UserActor(f.carol.ID) }, all("forbidden")},
		{"member", tenant.GuestRoleGuest, func(f *visFixture) Actor { return UserActor(f.alice.ID) }, member},
		{"global administrator", tenant.GuestRoleGuest, func(f *visFixture) Actor { return UserActor(f.admin.ID) }, admin},
		{"guest", tenant.GuestRoleGuest, func(f *visFixture) Actor { return UserActor(f.guest.ID) }, guest},
		{"guest with member access", tenant.GuestRoleUser, func(f *visFixture) Actor { return UserActor(f.guest.ID) }, member},
		{"restricted guest", tenant.GuestRoleRestricted, func(f *visFixture) Actor { return UserActor(f.guest.ID) }, restricted},
		{"member of another tenant", tenant.GuestRoleGuest, func(f *visFixture) Actor { return UserActor(f.frank.ID) }, frank},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newVisFixture(t, tc.guestRole)
			actor := tc.actor(f)
			before := len(f.events())
			for _, r := range visReads {
				if got := sightOf(r.read(f, actor)); got != tc.want[r.name] {
					t.Errorf("%s: %s, want %s", r.name, got, tc.want[r.name])
				}
			}
			if n := len(f.events()); n != before {
				t.Errorf("reads wrote %d audit events", n-before)
			}
		})
	}
}

func TestReadsHideCredentialHashesFromUsers(t *testing.T) {
	f := newVisFixture(t, tenant.GuestRoleGuest)
	if _, err := f.d.AddPassword(f.ctx, System(), f.api.ID, PasswordSpec{DisplayName: "s"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []Actor{UserActor(f.alice.ID), UserActor(f.admin.ID)} {
		u, err := f.d.User(f.ctx, a, f.bob.ID)
		if err != nil || u.PasswordHash != nil {
			t.Errorf("%s reads bob's password hash: %v, %v", a, u.PasswordHash, err)
		}
		app, err := f.d.Application(f.ctx, a, f.api.ID)
		if err != nil || len(app.PasswordCredentials) != 1 || app.PasswordCredentials[0].SecretHash != nil {
			t.Errorf("%s reads the secret's digest: %+v, %v", a, app.PasswordCredentials, err)
		}
	}
	// System reads records as stored.
	if u, _ := f.d.User(f.ctx, System(), f.bob.ID); u.PasswordHash == nil {
		t.Error("System's read lost the stored password hash")
	}
	if app, _ := f.d.Application(f.ctx, System(), f.api.ID); len(app.PasswordCredentials) != 1 || app.PasswordCredentials[0].SecretHash == nil {
		t.Error("System's read lost the stored secret digest")
	}
}

// An object of another tenant answers exactly as an id that does not
// exist: the error does not tell them apart.
func TestHiddenObjectsAnswerAsMissingOnes(t *testing.T) {
	f := newVisFixture(t, tenant.GuestRoleGuest)
	frank := UserActor(f.frank.ID)
	const missing = "00000000-0000-4000-8000-0000000000ee"
	for name, read := range map[string]func(id string) error{
		"Application":      func(id string) error { _, err := f.d.Application(f.ctx, frank, id); return err },
		"ServicePrincipal": func(id string) error { _, err := f.d.ServicePrincipal(f.ctx, frank, id); return err },
		"User":             func(id string) error { _, err := f.d.User(f.ctx, frank, id); return err },
		"Group":            func(id string) error { _, err := f.d.Group(f.ctx, frank, id); return err },
	} {
		id := map[string]string{"Application": f.api.ID, "ServicePrincipal": f.apiSP.ID, "User": f.alice.ID, "Group": f.joined.ID}[name]
		hidden, absent := read(id), read(missing)
		if !errors.Is(hidden, store.ErrNotFound) || !errors.Is(absent, store.ErrNotFound) {
			t.Fatalf("%s: %v / %v, want store.ErrNotFound", name, hidden, absent)
		}
		if strings.ReplaceAll(hidden.Error(), id, "ID") != strings.ReplaceAll(absent.Error(), missing, "ID") {
			t.Errorf("%s: hidden %q and missing %q differ", name, hidden, absent)
		}
	}
}

func TestMembersWithoutReadOtherUsers(t *testing.T) {
	f := newVisFixture(t, tenant.GuestRoleGuest)
	p := f.con.Policy.Clone()
	p.DefaultUserRolePermissions.AllowedToReadOtherUsers = false
	if _, err := f.d.SetAuthorizationPolicy(f.ctx, System(), f.con.ID, p); err != nil {
		t.Fatal(err)
	}
	alice := UserActor(f.alice.ID)
	if _, err := f.d.User(f.ctx, alice, f.bob.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("alice reads bob: %v", err)
	}
	if _, err := f.d.User(f.ctx, alice, f.alice.ID); err != nil {
		t.Errorf("alice reads herself: %v", err)
	}
	if _, err := f.d.Users(f.ctx, alice, f.con.ID, PageRequest{}); !errors.Is(err, ErrForbidden) {
		t.Errorf("alice lists users: %v", err)
	}
	if _, err := f.d.Application(f.ctx, alice, f.api.ID); err != nil {
		t.Errorf("alice reads an application: %v", err)
	}
	// Roles lift the restriction.
	if p, err := f.d.Users(f.ctx, UserActor(f.admin.ID), f.con.ID, PageRequest{}); err != nil || len(p.Items) != 5 {
		t.Errorf("the administrator lists %d users: %v", len(p.Items), err)
	}
}

func TestPlanOnlyBySystem(t *testing.T) {
	f := newVisFixture(t, tenant.GuestRoleGuest)
	m := Manifest{Tenants: []ManifestTenant{{ID: f.con.ID, DisplayName: "Contoso"}}}
	if _, err := f.d.Plan(f.ctx, Actor{}, m); !errors.Is(err, ErrForbidden) {
		t.Errorf("zero actor: %v", err)
	}
	if _, err := f.d.Plan(f.ctx, UserActor(f.admin.ID), m); !errors.Is(err, ErrForbidden) {
		t.Errorf("administrator: %v", err)
	}
	if _, err := f.d.Plan(f.ctx, System(), m); err != nil {
		t.Errorf("system: %v", err)
	}
}

func TestListPaging(t *testing.T) {
	f := newVisFixture(t, tenant.GuestRoleGuest)
	for i := range 5 {
		f.user(f.con.ID, fmt.Sprintf("u%d@contoso.onmicrosoft.com", i))
	}
	admin := UserActor(f.admin.ID)
	all, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{Size: MaxPageSize})
	if err != nil || len(all.Items) != 10 || all.Next != "" {
		t.Fatalf("one page of all: %d users, next %q, %v", len(all.Items), all.Next, err)
	}
	var got []string
	pr := PageRequest{Size: 3}
	pages := 0
	for {
		p, err := f.d.Users(f.ctx, admin, f.con.ID, pr)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > 3 {
			t.Fatalf("page of %d items, asked 3", len(p.Items))
		}
		for _, u := range p.Items {
			got = append(got, u.ID)
		}
		pages++
		if p.Next == "" {
			break
		}
		if strings.Contains(p.Next, p.Items[len(p.Items)-1].ID) {
			t.Errorf("the cursor %q shows an id", p.Next)
		}
		pr.Cursor = p.Next
	}
	var want []string
	for _, u := range all.Items {
		want = append(want, u.ID)
	}
	if pages != 4 || !slices.Equal(got, want) || !slices.IsSorted(got) {
		t.Errorf("%d pages of %v, want 4 pages of %v", pages, got, want)
	}
	if p, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{}); err != nil || len(p.Items) != 10 {
		t.Errorf("default page size: %d items, %v", len(p.Items), err)
	}

	first, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{Size: 2})
	if err != nil || first.Next == "" {
		t.Fatal(first, err)
	}
	for name, read := range map[string]func() error{
		"negative size": func() error { _, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{Size: -1}); return err },
		"size above the bound": func() error {
			_, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{Size: MaxPageSize + 1})
			return err
		},
		"garbage cursor": func() error { _, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{Cursor: "%%%"}); return err },
		"oversized cursor": func() error {
			_, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{Cursor: strings.Repeat("A", 2000)})
			return err
		},
		"cursor of groups": func() error {
			_, err := f.d.Groups(f.ctx, admin, f.con.ID, PageRequest{Cursor: first.Next})
			return err
		},
		"cursor of the audit": func() error {
			_, err := f.d.Audit(f.ctx, admin, f.con.ID, AuditQuery{Page: PageRequest{Cursor: first.Next}})
			return err
		},
		"cursor of the grants": func() error {
			_, err := f.d.Grants(f.ctx, admin, f.toolSP.ID, PageRequest{Cursor: first.Next})
			return err
		},
		"cursor made by hand": func() error { _, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{Cursor: f.alice.ID}); return err },
		"cursor of no position": func() error {
			_, err := f.d.Users(f.ctx, admin, f.con.ID, PageRequest{Cursor: encodeCursor("user/tenant/"+f.con.ID, "")})
			return err
		},
	} {
		if err := read(); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
	// A cursor of one tenant's listing is refused for another tenant's,
	// whoever reads.
	if _, err := f.d.Users(f.ctx, System(), f.fab.ID, PageRequest{Cursor: first.Next}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("cursor of another tenant: %v", err)
	}
}

// Hidden records neither shorten a page nor leave a cursor behind: a
// guest paging through a client's grants finds her own, and no sign of the
// others.
func TestPagesSkipHiddenRecords(t *testing.T) {
	for _, role := range []string{tenant.GuestRoleGuest, tenant.GuestRoleRestricted} {
		f := newVisFixture(t, role)
		// Her grant sorts before the tenant-wide one (ids ...0a, ...0b).
		p, err := f.d.Grants(f.ctx, UserActor(f.guest.ID), f.toolSP.ID, PageRequest{Size: 1})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != f.guestGrant.ID || p.Next != "" {
			t.Fatalf("%s: guest's page %+v, next %q, %v", role, p.Items, p.Next, err)
		}
		// A member sees both, one per page.
		alice := UserActor(f.alice.ID)
		p, err = f.d.Grants(f.ctx, alice, f.toolSP.ID, PageRequest{Size: 1})
		if err != nil || len(p.Items) != 1 || p.Next == "" {
			t.Fatalf("member's first page %+v, next %q, %v", p.Items, p.Next, err)
		}
		p, err = f.d.Grants(f.ctx, alice, f.toolSP.ID, PageRequest{Size: 1, Cursor: p.Next})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != f.allGrant.ID || p.Next != "" {
			t.Fatalf("member's second page %+v, next %q, %v", p.Items, p.Next, err)
		}
		// Frank of Fabrikam finds nothing, and no cursor.
		p, err = f.d.Grants(f.ctx, UserActor(f.frank.ID), f.toolSP.ID, PageRequest{Size: 1})
		if err != nil || len(p.Items) != 0 || p.Next != "" {
			t.Fatalf("other tenant's page %+v, next %q, %v", p.Items, p.Next, err)
		}
	}
}

func TestAuditReads(t *testing.T) {
	f := newVisFixture(t, tenant.GuestRoleGuest)
	admin := UserActor(f.admin.ID)
	if _, err := f.d.DisableUser(f.ctx, admin, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.EnableUser(f.ctx, admin, f.alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.CreateGroup(f.ctx, admin, f.con.ID, GroupSpec{DisplayName: "Later"}); err != nil {
		t.Fatal(err)
	}
	log := f.events()
	var contoso []store.AuditEvent
	for _, e := range log {
		if e.TenantID == f.con.ID {
			contoso = append(contoso, e)
		}
	}
	seqs := func(ev []store.AuditEvent) []int64 {
		var s []int64
		for _, e := range ev {
			s = append(s, e.Seq)
		}
		return s
	}
	// Paging by two, in both orders, gives the tenant's events once each.
	for _, order := range []store.LogOrder{store.OldestFirst, store.NewestFirst} {
		var got []store.AuditEvent
		q := AuditQuery{Order: order, Page: PageRequest{Size: 2}}
		for {
			p, err := f.d.Audit(f.ctx, admin, f.con.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Items...)
			if p.Next == "" {
				break
			}
			q.Page.Cursor = p.Next
			other := AuditQuery{Order: 1 - order, Page: q.Page}
			if _, err := f.d.Audit(f.ctx, admin, f.con.ID, other); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("a cursor of one order used for the other: %v", err)
			}
		}
		want := slices.Clone(contoso)
		if order == store.NewestFirst {
			slices.Reverse(want)
		}
		if !slices.Equal(seqs(got), seqs(want)) {
			t.Errorf("order %d: %v, want %v", order, seqs(got), seqs(want))
		}
	}
	// Filters: actor, action, target, time.
	p, err := f.d.Audit(f.ctx, admin, f.con.ID, AuditQuery{Actor: admin})
	if err != nil || len(p.Items) != 3 {
		t.Fatalf("events by the administrator: %d, %v", len(p.Items), err)
	}
	p, err = f.d.Audit(f.ctx, admin, f.con.ID, AuditQuery{Action: "user.disable", TargetKind: "user", TargetID: f.alice.ID})
	if err != nil || len(p.Items) != 1 || p.Items[0].TargetID != f.alice.ID {
		t.Fatalf("alice's disabling: %+v, %v", p.Items, err)
	}
	last := contoso[len(contoso)-1]
	p, err = f.d.Audit(f.ctx, admin, f.con.ID, AuditQuery{Since: last.Time, Until: last.Time.Add(1)})
	if err != nil || len(p.Items) == 0 || slices.ContainsFunc(p.Items, func(e store.AuditEvent) bool { return !e.Time.Equal(last.Time) }) {
		t.Fatalf("events at the last time: %+v, %v", p.Items, err)
	}
	// The administrator reads her tenant only.
	for _, tid := range []string{f.fab.ID, ""} {
		if _, err := f.d.Audit(f.ctx, admin, tid, AuditQuery{}); !errors.Is(err, ErrForbidden) {
			t.Errorf("audit of %q by Contoso's administrator: %v", tid, err)
		}
	}
	if _, err := f.d.Audit(f.ctx, admin, f.con.ID, AuditQuery{Page: PageRequest{Size: MaxPageSize + 1}}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("oversized audit page: %v", err)
	}
	if err := f.d.authorizeLogRead(f.ctx, UserActor(f.alice.ID), f.con.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a member reads the activity logs: %v", err)
	}
}

func TestStoreIsReadOnly(t *testing.T) {
	f := newFixture(t)
	view := f.d.Store()
	if _, ok := view.(store.Store); ok {
		t.Fatal("Directory.Store hands out the read-write store")
	}
	err := view.View(f.ctx, func(tx store.ReadTx) error {
		if _, ok := tx.(store.Tx); ok {
			return errors.New("the view's transaction writes")
		}
		_, err := store.Tenants.Get(tx, tenant.ConsumersID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := view.SignIns(f.ctx, store.SignInFilter{}, store.LogPage{}); err != nil {
		t.Fatal(err)
	}
}

// A read hands out a copy: changing what was read changes nothing stored,
// for every actor and every kind (a member changing a role she read must
// not enable it behind the Directory's back).
func TestReadsReturnCopies(t *testing.T) {
	f := newVisFixture(t, tenant.GuestRoleGuest)
	if _, err := f.d.AddPassword(f.ctx, System(), f.api.ID, PasswordSpec{DisplayName: "s"}); err != nil {
		t.Fatal(err)
	}
	stored := func() (application.Application, serviceprincipal.ServicePrincipal, tenant.Group, tenant.Tenant, tenant.User) {
		a, _ := f.d.Application(f.ctx, System(), f.api.ID)
		sp, _ := f.d.ServicePrincipal(f.ctx, System(), f.apiSP.ID)
		g, _ := f.d.Group(f.ctx, System(), f.joined.ID)
		tn, _ := f.d.ResolveTenant(f.ctx, System(), f.con.ID)
		u, _ := f.d.User(f.ctx, System(), f.bob.ID)
		return a.Clone(), sp.Clone(), g.Clone(), tn.Clone(), u.Clone() // independent of any aliasing
	}
	a0, sp0, g0, t0, u0 := stored()
	for _, actor := range []Actor{System(), UserActor(f.alice.ID), UserActor(f.admin.ID)} {
		a, err := f.d.Application(f.ctx, actor, f.api.ID)
		if err != nil || len(a.PasswordCredentials) == 0 {
			t.Fatalf("%s reads the API: %+v, %v", actor, a.PasswordCredentials, err)
		}
		a.PasswordCredentials[0].DisplayName = "changed"
		a.Owners = append(a.Owners[:0:0], "someone")
		sp, err := f.d.ServicePrincipal(f.ctx, actor, f.apiSP.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sp.AppRoles {
			sp.AppRoles[i].IsEnabled = !sp.AppRoles[i].IsEnabled
		}
		sp.Tags = append(sp.Tags, "changed")
		g, err := f.d.Group(f.ctx, actor, f.joined.ID)
		if err != nil || len(g.Members) == 0 {
			t.Fatalf("%s reads a group: %+v, %v", actor, g, err)
		}
		g.Members[0].ID = "changed"
		tn, err := f.d.ResolveTenant(f.ctx, actor, f.con.ID)
		if err != nil || len(tn.VerifiedDomains) == 0 {
			t.Fatal(err)
		}
		tn.VerifiedDomains[0].Name = "changed.example"
		page, err := f.d.Users(f.ctx, actor, f.con.ID, PageRequest{})
		if err != nil || len(page.Items) == 0 {
			t.Fatal(err)
		}
		for i := range page.Items {
			page.Items[i].DisplayName = "changed"
		}
	}
	a1, sp1, g1, t1, u1 := stored()
	for name, d := range map[string]string{
		"application":       cmp.Diff(a0, a1),
		"service principal": cmp.Diff(sp0, sp1),
		"group":             cmp.Diff(g0, g1),
		"tenant":            cmp.Diff(t0, t1),
		"user":              cmp.Diff(u0, u1),
	} {
		if d != "" {
			t.Errorf("changing a read %s changed the stored one (-before +after):\n%s", name, d)
		}
	}
}

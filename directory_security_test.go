package tenantry

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// lastEvent returns the newest audit event.
func (f *fixture) lastEvent() (e struct {
	Action        string
	Before, After string
}) {
	f.t.Helper()
	ev := f.events()
	last := ev[len(ev)-1]
	e.Action, e.Before, e.After = last.Action, string(last.Before), string(last.After)
	return e
}

func TestGroupMembershipAuditNamesOnlyTheMember(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	var members []tenant.Ref
	for i := range 40 {
		u := f.user(tn.ID, fmt.Sprintf("m%d@contoso.onmicrosoft.com", i))
		members = append(members, tenant.Ref{ID: u.ID, Type: tenant.MemberUser})
	}
	g, err := f.d.CreateGroup(f.ctx, System(), tn.ID, GroupSpec{DisplayName: "Big", Members: members})
	if err != nil {
		t.Fatal(err)
	}
	newcomer := f.user(tn.ID, "new@contoso.onmicrosoft.com")
	if _, err := f.d.AddGroupMember(f.ctx, System(), g.ID, tenant.Ref{ID: newcomer.ID, Type: tenant.MemberUser}); err != nil {
		t.Fatal(err)
	}
	check := func(action, field, other string) {
		t.Helper()
		e := f.lastEvent()
		if e.Action != action {
			t.Fatalf("last event %s, want %s", e.Action, action)
		}
		got, empty := e.After, e.Before
		if field == "before" {
			got, empty = e.Before, e.After
		}
		var rec struct {
			Member tenant.Ref `json:"member"`
		}
		if err := json.Unmarshal([]byte(got), &rec); err != nil || rec.Member.ID != newcomer.ID || rec.Member.Type != tenant.MemberUser {
			t.Fatalf("%s %s = %s, want the member %s", action, field, got, newcomer.ID)
		}
		if empty != "" {
			t.Fatalf("%s records the other side too: %s", action, empty)
		}
		if strings.Contains(e.Before+e.After, other) || len(e.Before)+len(e.After) > 200 {
			t.Fatalf("%s records the member list (%d bytes)", action, len(e.Before)+len(e.After))
		}
	}
	check("group.addMember", "after", members[0].ID)
	if _, err := f.d.RemoveGroupMember(f.ctx, System(), g.ID, newcomer.ID); err != nil {
		t.Fatal(err)
	}
	check("group.removeMember", "before", members[0].ID)
}

func TestRegisterRefusesCallerBuiltCredentials(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	member := f.user(tn.ID, "member@contoso.onmicrosoft.com")
	start := f.clock.Now()
	pw, err := application.NewPasswordCredential("0d000000-0000-4000-8000-000000000001", "mine", "a-secret-of-16-chars", start, start.AddDate(100, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	key := application.KeyCredential{KeyID: "0d000000-0000-4000-8000-000000000002", Type: "AsymmetricX509Cert", Usage: "Verify", Key: []byte("not a certificate"), StartDateTime: start, EndDateTime: start.AddDate(100, 0, 0)}
	fic := application.FederatedIdentityCredential{ID: "0d000000-0000-4000-8000-000000000003", Name: "gh", Issuer: "https://issuer.example.com", Subject: "me", Audiences: []string{application.TokenExchangeAudience}}
	for _, tc := range []struct {
		field string
		app   application.Application
	}{
		{"passwordCredentials", application.Application{DisplayName: "P", PasswordCredentials: []application.PasswordCredential{pw.Stored()}}},
		{"keyCredentials", application.Application{DisplayName: "K", KeyCredentials: []application.KeyCredential{key}}},
		{"federatedIdentityCredentials", application.Application{DisplayName: "F", FederatedIdentityCredentials: []application.FederatedIdentityCredential{fic}}},
	} {
		before := len(f.events())
		_, err := f.d.CreateApplication(f.ctx, UserActor(member.ID), tn.ID, tc.app)
		var fe *tenant.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Fatalf("register with %s: err = %v, want a FieldError naming it", tc.field, err)
		}
		if after := len(f.events()); after != before {
			t.Fatalf("refused registration wrote %d events", after-before)
		}
	}
	// Manifests, which may carry credentials, are applied by System only.
	if _, err := f.d.Apply(f.ctx, UserActor(member.ID), Manifest{Tenants: []ManifestTenant{{ID: tn.ID, DisplayName: tn.DisplayName,
		Applications: []application.Application{{AppID: "0d000000-0000-4000-8000-0000000000aa", DisplayName: "M", PasswordCredentials: []application.PasswordCredential{pw.Stored()}}}}}}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("manifest by a user: %v", err)
	}
	// A user's app starts without credentials; AddPassword adds one, audited.
	a, err := f.d.CreateApplication(f.ctx, UserActor(member.ID), tn.ID, application.Application{DisplayName: "Clean"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.AddPassword(f.ctx, UserActor(member.ID), a.ID, PasswordSpec{DisplayName: "generated"}); err != nil {
		t.Fatal(err)
	}
	if e := f.lastEvent(); e.Action != "application.addPassword" {
		t.Fatalf("last event %s, want application.addPassword", e.Action)
	}
	// Writing through the stored credential's pointers and slices in
	// UpdateApplication is refused too.
	for _, tc := range []struct {
		field string
		fn    func(a *application.Application)
	}{
		{"passwordCredentials", func(a *application.Application) { a.PasswordCredentials[0].SecretHash.Digest[0] ^= 1 }},
		{"passwordCredentials", func(a *application.Application) { a.PasswordCredentials[0].EndDateTime = start.AddDate(100, 0, 0) }},
		{"keyCredentials", func(a *application.Application) { a.KeyCredentials = append(a.KeyCredentials, key) }},
		{"federatedIdentityCredentials", func(a *application.Application) {
			a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, fic)
		}},
	} {
		stored, _ := f.d.Application(f.ctx, System(), a.ID)
		_, err := f.d.UpdateApplication(f.ctx, UserActor(member.ID), a.ID, func(a *application.Application) error { tc.fn(a); return nil })
		var fe *tenant.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Fatalf("update of %s: err = %v, want a FieldError naming it", tc.field, err)
		}
		if now, _ := f.d.Application(f.ctx, System(), a.ID); !cmp.Equal(stored, now) {
			t.Fatalf("refused update changed the application: %s", cmp.Diff(stored, now))
		}
	}
}

func TestHomeServicePrincipalOwnersFollowTheApplication(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	bob := f.user(tn.ID, "bob@contoso.onmicrosoft.com")
	carol := f.user(tn.ID, "carol@contoso.onmicrosoft.com")
	mallory := f.user(tn.ID, "mallory@contoso.onmicrosoft.com")
	const roleID = "0e000000-0000-4000-8000-000000000001"
	a := f.app(tn.ID, application.Application{DisplayName: "API", Owners: []string{bob.ID}, AppRoles: []application.AppRole{
		{ID: roleID, Value: "Api.Admin", DisplayName: "Admin", Description: "Admin", AllowedMemberTypes: []string{application.MemberTypeUser}, IsEnabled: true},
	}})
	owners := func() []string {
		t.Helper()
		sp, err := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, a.AppID)
		if err != nil {
			t.Fatal(err)
		}
		return sp.Owners
	}
	spID := func() string {
		sp, _ := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, a.AppID)
		return sp.ID
	}()
	if _, err := f.d.AddOwner(f.ctx, UserActor(bob.ID), a.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	if got := owners(); !sameSet(got, []string{bob.ID, carol.ID}) {
		t.Fatalf("home SP owners after AddOwner = %v", got)
	}
	if _, err := f.d.UpdateServicePrincipal(f.ctx, UserActor(carol.ID), spID, func(sp *serviceprincipal.ServicePrincipal) error { sp.Notes = "carol"; return nil }); err != nil {
		t.Fatalf("an owner cannot manage the home SP: %v", err)
	}
	if _, err := f.d.RemoveOwner(f.ctx, UserActor(bob.ID), a.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	if got := owners(); !sameSet(got, []string{bob.ID}) {
		t.Fatalf("home SP owners after RemoveOwner = %v", got)
	}
	if _, err := f.d.UpdateServicePrincipal(f.ctx, UserActor(carol.ID), spID, func(sp *serviceprincipal.ServicePrincipal) error { sp.Notes = "still mine"; return nil }); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a removed owner manages the home SP: %v", err)
	}
	if _, err := f.d.AssignAppRole(f.ctx, UserActor(carol.ID), AssignmentSpec{ResourceID: spID, PrincipalID: carol.ID, AppRoleID: roleID}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a removed owner assigns herself the API's role: %v", err)
	}
	// The service principal's owners are not a second list an owner edits.
	if _, err := f.d.UpdateServicePrincipal(f.ctx, UserActor(bob.ID), spID, func(sp *serviceprincipal.ServicePrincipal) error {
		sp.Owners = append(sp.Owners, mallory.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := owners(); !sameSet(got, []string{bob.ID}) {
		t.Fatalf("UpdateServicePrincipal changed the owners: %v", got)
	}
	// Owners changed through UpdateApplication follow too.
	if _, err := f.d.UpdateApplication(f.ctx, UserActor(bob.ID), a.ID, func(a *application.Application) error {
		a.Owners = append(a.Owners, mallory.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := owners(); !sameSet(got, []string{bob.ID, mallory.ID}) {
		t.Fatalf("home SP owners after UpdateApplication = %v", got)
	}
	if r, err := f.d.Report(f.ctx, System(), tn.ID, ReportOptions{}); err != nil || len(r.DivergentOwners) != 0 {
		t.Fatalf("report: %v, divergent owners %v", err, r.DivergentOwners)
	}
	// A manifest-created application's home SP has its owners.
	const appID = "0e000000-0000-4000-8000-0000000000aa"
	if _, err := f.d.Apply(f.ctx, System(), Manifest{Tenants: []ManifestTenant{{ID: tn.ID, DisplayName: tn.DisplayName,
		Applications: []application.Application{{AppID: appID, DisplayName: "Declared", Owners: []string{bob.ID}}}}}}); err != nil {
		t.Fatal(err)
	}
	if sp, err := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, appID); err != nil || !sameSet(sp.Owners, []string{bob.ID}) {
		t.Fatalf("manifest home SP owners = %v (%v)", sp.Owners, err)
	}
}

func TestReportListsDivergentHomeOwners(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	bob := f.user(tn.ID, "bob@contoso.onmicrosoft.com")
	a := f.app(tn.ID, application.Application{DisplayName: "API", Owners: []string{bob.ID}})
	// A record written around the Directory.
	err := f.st.Update(f.ctx, func(tx store.Tx) error {
		sp, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(a.AppID, tn.ID))
		if err != nil {
			return err
		}
		sp = sp.Clone()
		sp.Owners = nil
		return store.ServicePrincipals.Put(tx, sp)
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.d.Report(f.ctx, System(), tn.ID, ReportOptions{})
	if err != nil || len(r.DivergentOwners) != 1 || r.DivergentOwners[0].AppID != a.AppID {
		t.Fatalf("report: %v, divergent owners %v", err, r.DivergentOwners)
	}
}

func TestUserPrincipalNameNamespace(t *testing.T) {
	f := newFixture(t)
	contoso, err := f.d.CreateTenant(f.ctx, System(), TenantSpec{DisplayName: "Contoso", Domains: []string{"contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	fabrikam, err := f.d.CreateTenant(f.ctx, System(), TenantSpec{DisplayName: "Fabrikam", Domains: []string{"fabrikam.com"}})
	if err != nil {
		t.Fatal(err)
	}
	fadmin := f.user(fabrikam.ID, "admin@fabrikam.com", tenant.RoleGlobalAdministrator)
	for _, tc := range []struct {
		actor Actor
		upn   string
		guest bool
		ok    bool
	}{
		{UserActor(fadmin.ID), "ceo@contoso.com", false, false},                  // another organisation's domain
		{UserActor(fadmin.ID), "ceo@CONTOSO.com", false, false},                  // in any case
		{UserActor(fadmin.ID), "ceo@contoso.onmicrosoft.com", false, false},      // another tenant's initial domain
		{UserActor(fadmin.ID), "x@unclaimed.example.com", false, false},          // a domain the tenant has not verified
		{UserActor(fadmin.ID), "x#EXT#@fabrikam.com", false, false},              // a member cannot look like a guest
		{UserActor(fadmin.ID), "ceo_contoso.com#EXT#@fabrikam.com", true, false}, // a guest lives in the initial domain
		{UserActor(fadmin.ID), "ceo@fabrikam.onmicrosoft.com", true, false},      // a guest carries #EXT#
		{UserActor(fadmin.ID), "#EXT#@fabrikam.onmicrosoft.com", true, false},    // with an alias before it
		{UserActor(fadmin.ID), "ceo_contoso.com#EXT#@contoso.onmicrosoft.com", true, false},
		{System(), "ceo@contoso.com", false, false}, // not even System() takes a verified domain of another tenant
		{System(), "ceo_contoso.com#EXT#@contoso.com", true, false},
		{UserActor(fadmin.ID), "ana@fabrikam.com", false, true},
		{UserActor(fadmin.ID), "ben@fabrikam.onmicrosoft.com", false, true},
		{UserActor(fadmin.ID), "ceo_contoso.com#EXT#@fabrikam.onmicrosoft.com", true, true},
		{System(), "seed@unclaimed.example.com", false, true}, // System() seeds a domain nobody verified
	} {
		spec := UserSpec{UserPrincipalName: tc.upn, Guest: tc.guest}
		if tc.guest {
			spec.HomeTenantID = contoso.ID
		}
		before := len(f.events())
		_, err := f.d.CreateUser(f.ctx, tc.actor, fabrikam.ID, spec)
		if tc.ok {
			if err != nil {
				t.Fatalf("CreateUser(%s by %s): %v", tc.upn, tc.actor, err)
			}
			continue
		}
		var fe *tenant.FieldError
		if !errors.As(err, &fe) || fe.Field != "userPrincipalName" || !errors.Is(err, tenant.ErrInvalid) {
			t.Fatalf("CreateUser(%s by %s) = %v, want a FieldError naming userPrincipalName", tc.upn, tc.actor, err)
		}
		if len(f.events()) != before {
			t.Fatalf("refused CreateUser(%s) wrote an event", tc.upn)
		}
	}
	// The real owner of the domain still creates its user.
	if _, err := f.d.CreateUser(f.ctx, System(), contoso.ID, UserSpec{UserPrincipalName: "ceo@contoso.com"}); err != nil {
		t.Fatalf("contoso cannot create its own user: %v", err)
	}
	// Manifests follow the same rule.
	_, err = f.d.Apply(f.ctx, System(), Manifest{Tenants: []ManifestTenant{{ID: fabrikam.ID, DisplayName: fabrikam.DisplayName,
		Users: []ManifestUser{{UserPrincipalName: "cfo@contoso.com"}}}}})
	var fe *tenant.FieldError
	if !errors.As(err, &fe) || fe.Field != "userPrincipalName" {
		t.Fatalf("manifest user in another tenant's domain: %v", err)
	}
}

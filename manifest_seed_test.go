package tenantry

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// Ids a development seed hard-codes.
const (
	seedTenant    = "22220000-0000-4000-8000-000000000001"
	seedAdmin     = "22220000-0000-4000-8000-0000000000a1"
	seedAda       = "22220000-0000-4000-8000-0000000000a2"
	seedAPI       = "22220000-0000-4000-8000-0000000000b1"
	seedAPIObj    = "22220000-0000-4000-8000-0000000000b2"
	seedDaemon    = "22220000-0000-4000-8000-0000000000c1"
	seedDaemonSP  = "22220000-0000-4000-8000-0000000000c2"
	seedWeb       = "22220000-0000-4000-8000-0000000000d1"
	seedGroup     = "22220000-0000-4000-8000-0000000000e1"
	seedRoleRead  = "22220000-0000-4000-8000-0000000000f1"
	seedRoleAppr  = "22220000-0000-4000-8000-0000000000f2"
	seedScopeRead = "22220000-0000-4000-8000-0000000000f3"
	seedSecret    = "daemon-dev-secret-0123456789"
	seedPassword  = "correct horse battery staple"
)

func seedManifest() Manifest {
	return Manifest{Tenants: []ManifestTenant{{
		ID: seedTenant, DisplayName: "Contoso", Domains: []string{"contoso.com"},
		Users: []ManifestUser{
			{ID: seedAdmin, UserPrincipalName: "admin@contoso.com", DisplayName: "Admin", Password: seedPassword, DirectoryRoles: []string{"Global Administrator"}},
			{ID: seedAda, UserPrincipalName: "ada@contoso.com", DisplayName: "Ada", Mail: "ada@contoso.com"},
		},
		Applications: []application.Application{
			{ID: seedAPIObj, AppID: seedAPI, DisplayName: "Orders API", IdentifierURIs: []string{"api://" + seedAPI},
				AppRoles: []application.AppRole{
					{ID: seedRoleRead, Value: "Orders.Read.All", DisplayName: "Read all", Description: "Read all orders", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true},
					{ID: seedRoleAppr, Value: "Orders.Approve", DisplayName: "Approve", Description: "Approve orders", AllowedMemberTypes: []string{application.MemberTypeUser}, IsEnabled: true},
				},
				API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{{ID: seedScopeRead, Value: "Orders.Read", Type: "User", IsEnabled: true,
					AdminConsentDisplayName: "Read orders", AdminConsentDescription: "Read orders"}}}},
			{AppID: seedDaemon, DisplayName: "Orders Daemon",
				RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: seedAPI, ResourceAccess: []application.ResourceAccess{{ID: seedRoleRead, Type: application.AccessRole}}}},
				PasswordCredentials:    []application.PasswordCredential{{DisplayName: "dev", SecretText: seedSecret}}},
			{AppID: seedWeb, DisplayName: "Orders Web"},
		},
		ServicePrincipals: []ManifestServicePrincipal{{ID: seedDaemonSP, AppID: seedDaemon}},
		Groups: []ManifestGroup{
			{ID: seedGroup, DisplayName: "Approvers", SecurityEnabled: true, Members: []ManifestMember{{UserPrincipalName: "ada@contoso.com"}}},
			{DisplayName: "Everyone", SecurityEnabled: true, Members: []ManifestMember{{Group: "Approvers"}, {UserPrincipalName: "admin@contoso.com"}, {AppID: seedDaemon}}},
		},
		Consents: []ManifestConsent{{ClientAppID: seedDaemon}},
		Grants: []ManifestGrant{
			{ClientAppID: seedWeb, ResourceAppID: seedAPI, Scope: "Orders.Read"},
			{ClientAppID: seedWeb, ResourceAppID: seedWeb, ConsentType: consent.Principal, UserPrincipalName: "ada@contoso.com", Scope: "openid profile offline_access"},
		},
		Assignments: []ManifestAssignment{{ResourceAppID: seedAPI, Role: "Orders.Approve", Group: "Approvers"}},
	}}}
}

// A development seed creates its objects with the ids it gives, stores a
// chosen client secret as a digest that authenticates the client, hashes
// user passwords, builds groups (nested included), grants with explicit
// scopes and group assignments, and applies again without a change.
func TestManifestSeedsDevelopmentDirectory(t *testing.T) {
	f := newFixture(t)
	m := seedManifest()
	changes, err := f.d.Apply(f.ctx, System(), m)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range changes {
		kinds = append(kinds, c.Kind)
	}
	for _, k := range []string{"tenant", "user", "directoryRole", "application", "servicePrincipal", "group", "oauth2PermissionGrant", "appRoleAssignment"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("changes lack a %s: %v", k, changes)
		}
	}

	// The client secret authenticates the daemon, whose token names the
	// service principal by the seed's id.
	tok, err := f.d.Issuer().Token(f.ctx, TokenRequest{GrantType: GrantClientCredentials, Tenant: seedTenant,
		ClientID: seedDaemon, ClientSecret: seedSecret, Scope: "api://" + seedAPI + "/.default"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.d.Issuer().ValidateAccessToken(f.ctx, tok.AccessToken, seedAPI)
	if err != nil {
		t.Fatal(err)
	}
	if p.ObjectID != seedDaemonSP || !slices.Contains(p.Roles, "Orders.Read.All") {
		t.Errorf("daemon token: oid %s roles %v; want %s with Orders.Read.All", p.ObjectID, p.Roles, seedDaemonSP)
	}
	if _, err := f.d.Issuer().Token(f.ctx, TokenRequest{GrantType: GrantClientCredentials, Tenant: seedTenant,
		ClientID: seedDaemon, ClientSecret: seedSecret + "x", Scope: "api://" + seedAPI + "/.default"}); err == nil {
		t.Error("a wrong secret got a token")
	}
	// The password signs the admin in.
	u, err := f.d.Issuer().SignIn(f.ctx, SignInRequest{Tenant: "contoso.com", UserPrincipalName: "admin@contoso.com", Password: seedPassword})
	if err != nil || u.ID != seedAdmin {
		t.Fatalf("sign-in: %s, %v; want %s", u.ID, err, seedAdmin)
	}

	err = f.d.st.View(f.ctx, func(tx store.ReadTx) error {
		ada, err := store.Users.Get(tx, seedAda)
		if err != nil {
			return err
		}
		if ada.Mail != "ada@contoso.com" || ada.PasswordHash != nil {
			t.Errorf("ada: mail %q, password hash %v", ada.Mail, ada.PasswordHash)
		}
		if _, err := store.Applications.Get(tx, seedAPIObj); err != nil {
			return err
		}
		daemon, err := store.Applications.One(tx, store.AppByAppID, seedDaemon)
		if err != nil {
			return err
		}
		if pc := daemon.PasswordCredentials; len(pc) != 1 || pc[0].SecretText != "" || pc[0].SecretHash == nil || pc[0].Hint != seedSecret[:3] || pc[0].KeyID == "" {
			t.Errorf("stored secret: %+v", pc)
		}
		everyone, found, err := findGroup(tx, seedTenant, "", "Everyone")
		if err != nil || !found {
			t.Fatalf("group Everyone: %v %v", found, err)
		}
		if !everyone.HasMember(seedGroup) || !everyone.HasMember(seedAdmin) || !everyone.HasMember(seedDaemonSP) {
			t.Errorf("Everyone's members: %+v", everyone.Members)
		}
		as, err := store.Assignments.Lookup(tx, store.AssignmentByPrincipal, seedGroup)
		if err != nil {
			return err
		}
		if len(as) != 1 || as[0].AppRoleID != seedRoleAppr {
			t.Errorf("group assignments: %+v", as)
		}
		web, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(seedWeb, seedTenant))
		if err != nil {
			return err
		}
		gs, err := store.Grants.Lookup(tx, store.GrantByClient, web.ID)
		if err != nil {
			return err
		}
		var scopes []string
		for _, g := range gs {
			scopes = append(scopes, g.ConsentType+":"+g.Scope)
		}
		slices.Sort(scopes)
		if want := []string{"AllPrincipals:Orders.Read", "Principal:offline_access openid profile"}; !slices.Equal(scopes, want) {
			t.Errorf("web grants %v, want %v", scopes, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Neither the secret nor the password is in the changes or the audit log.
	var events []store.AuditEvent
	if err := f.d.st.View(f.ctx, func(tx store.ReadTx) error {
		var err error
		events, err = tx.Audit(0, 10000)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(struct {
		C []Change
		E []store.AuditEvent
	}{changes, events})
	for _, s := range []string{seedSecret, seedPassword} {
		if strings.Contains(string(raw), s) {
			t.Errorf("changes or audit log contain %q", s)
		}
	}

	for _, what := range []string{"plan", "apply"} {
		var again []Change
		if what == "plan" {
			again, err = f.d.Plan(f.ctx, System(), m)
		} else {
			again, err = f.d.Apply(f.ctx, System(), m)
		}
		if err != nil || len(again) != 0 {
			t.Errorf("%s again = %v, %v; want no change", what, again, err)
		}
	}
}

// A refused manifest names the object (its path and name) and the field,
// and applies nothing, not even what precedes the refused object.
func TestManifestErrorsNameObjectAndField(t *testing.T) {
	cases := []struct {
		name, path, field string
		edit              func(m *Manifest)
	}{
		{"short secret", "tenants[0].applications[1]", "passwordCredentials[0].secretText", func(m *Manifest) {
			m.Tenants[0].Applications[1].PasswordCredentials[0].SecretText = "too-short"
		}},
		{"long secret", "tenants[0].applications[1]", "passwordCredentials[0].secretText", func(m *Manifest) {
			m.Tenants[0].Applications[1].PasswordCredentials[0].SecretText = strings.Repeat("s", 65)
		}},
		{"short password", "tenants[0].users[0]", "password", func(m *Manifest) { m.Tenants[0].Users[0].Password = "short" }},
		{"unknown directory role", "tenants[0].users[0]", "directoryRoles[0]", func(m *Manifest) {
			m.Tenants[0].Users[0].DirectoryRoles = []string{"Chief Wizard"}
		}},
		{"user id not a GUID", "tenants[0].users[1]", "id", func(m *Manifest) { m.Tenants[0].Users[1].ID = "ada" }},
		{"application id taken", "tenants[0].applications[0]", "id", func(m *Manifest) { m.Tenants[0].Applications[0].ID = seedAda }},
		{"service principal id not a GUID", "tenants[0].servicePrincipals[0]", "id", func(m *Manifest) { m.Tenants[0].ServicePrincipals[0].ID = "sp" }},
		{"unknown group member", "tenants[0].groups[0]", "members[0].userPrincipalName", func(m *Manifest) {
			m.Tenants[0].Groups[0].Members[0].UserPrincipalName = "nobody@contoso.com"
		}},
		{"group member declared later", "tenants[0].groups[0]", "members[1].group", func(m *Manifest) {
			m.Tenants[0].Groups[0].Members = append(m.Tenants[0].Groups[0].Members, ManifestMember{Group: "Everyone"})
		}},
		{"unpublished scope", "tenants[0].oauth2PermissionGrants[0]", "scope", func(m *Manifest) { m.Tenants[0].Grants[0].Scope = "Orders.Delete" }},
		{"sign-in scope on an API", "tenants[0].oauth2PermissionGrants[0]", "scope", func(m *Manifest) { m.Tenants[0].Grants[0].Scope = "openid" }},
		{"principal grant without a user", "tenants[0].oauth2PermissionGrants[1]", "userPrincipalName", func(m *Manifest) { m.Tenants[0].Grants[1].UserPrincipalName = "" }},
		{"unknown role value", "tenants[0].assignments[0]", "role", func(m *Manifest) { m.Tenants[0].Assignments[0].Role = "Orders.Delete" }},
		{"two principals", "tenants[0].assignments[0]", "userPrincipalName", func(m *Manifest) {
			m.Tenants[0].Assignments[0].UserPrincipalName = "ada@contoso.com"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			m := seedManifest()
			c.edit(&m)
			for _, what := range []string{"plan", "apply"} {
				var err error
				if what == "plan" {
					_, err = f.d.Plan(f.ctx, System(), m)
				} else {
					_, err = f.d.Apply(f.ctx, System(), m)
				}
				var me *ManifestError
				if !errors.As(err, &me) {
					t.Fatalf("%s: %v; want a *ManifestError", what, err)
				}
				var fe *tenant.FieldError
				if me.Path != c.path || !errors.As(err, &fe) || fe.Field != c.field {
					t.Errorf("%s: %v; want path %s and field %s", what, err, c.path, c.field)
				}
				for _, s := range []string{seedSecret, seedPassword} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("%s: the error shows %q", what, s)
					}
				}
			}
			if err := f.d.st.View(f.ctx, func(tx store.ReadTx) error {
				_, err := store.Tenants.Get(tx, seedTenant)
				return err
			}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after a refused manifest the tenant exists (%v): it was half-applied", err)
			}
		})
	}
}

package tenantry

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/tenant"
)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	d     *Directory
	st    store.Store // the store d was built over
	clock *ManualClock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := NewManualClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	st := memory.New()
	d, err := New(context.Background(), Config{Store: st, Now: clock.Now, NewID: SequentialIDs(t.Name()), Tokens: TokenConfig{Algorithm: jose.ES256}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: context.Background(), d: d, st: st, clock: clock}
}

func (f *fixture) tenant(name string) tenant.Tenant {
	f.t.Helper()
	tn, err := f.d.CreateTenant(f.ctx, System(), TenantSpec{DisplayName: name})
	if err != nil {
		f.t.Fatal(err)
	}
	return tn
}

func (f *fixture) user(tenantID, upn string, roles ...string) tenant.User {
	f.t.Helper()
	u, err := f.d.CreateUser(f.ctx, System(), tenantID, UserSpec{UserPrincipalName: upn, DisplayName: upn})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range roles {
		if _, err := f.d.AssignDirectoryRole(f.ctx, System(), tenantID, DirectoryRoleSpec{PrincipalID: u.ID, RoleID: r}); err != nil {
			f.t.Fatal(err)
		}
	}
	return u
}

func (f *fixture) app(tenantID string, a application.Application) application.Application {
	f.t.Helper()
	out, err := f.d.CreateApplication(f.ctx, System(), tenantID, a)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) events() []store.AuditEvent {
	f.t.Helper()
	ev, err := f.d.auditLog(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return ev
}

func TestRegisterApplicationPermissions(t *testing.T) {
	f := newFixture(t)
	contoso := f.tenant("Contoso")
	other := f.tenant("Other")
	member := f.user(contoso.ID, "member@contoso.onmicrosoft.com")
	dev := f.user(contoso.ID, "dev@contoso.onmicrosoft.com", tenant.RoleApplicationDeveloper)
	admin := f.user(contoso.ID, "admin@contoso.onmicrosoft.com", tenant.RoleApplicationAdministrator)
	guest, err := f.d.CreateUser(f.ctx, System(), contoso.ID, UserSpec{UserPrincipalName: "g_other.com#EXT#@contoso.onmicrosoft.com", Guest: true, HomeTenantID: other.ID})
	if err != nil {
		t.Fatal(err)
	}
	disabled := f.user(contoso.ID, "off@contoso.onmicrosoft.com")
	if _, err := f.d.DisableUser(f.ctx, System(), disabled.ID); err != nil {
		t.Fatal(err)
	}
	stranger := f.user(other.ID, "x@other.onmicrosoft.com")

	closed := tenant.DefaultPolicy()
	closed.DefaultUserRolePermissions.AllowedToCreateApps = false
	for _, tc := range []struct {
		name      string
		actor     Actor
		closed    bool
		wantErr   error
		wantOwner bool
	}{
		{"member, switch on", UserActor(member.ID), false, nil, true},
		{"member, switch off", UserActor(member.ID), true, tenant.ErrForbidden, false},
		{"developer, switch off", UserActor(dev.ID), true, nil, true},
		{"app admin is not made owner", UserActor(admin.ID), true, nil, false},
		{"guest", UserActor(guest.ID), false, tenant.ErrForbidden, false},
		{"disabled user", UserActor(disabled.ID), false, tenant.ErrForbidden, false},
		{"user of another tenant", UserActor(stranger.ID), false, tenant.ErrForbidden, false},
		{"system", System(), true, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tenant.DefaultPolicy()
			if tc.closed {
				p = closed
			}
			if _, err := f.d.SetAuthorizationPolicy(f.ctx, System(), contoso.ID, p); err != nil {
				t.Fatal(err)
			}
			before := len(f.events())
			a, err := f.d.CreateApplication(f.ctx, tc.actor, contoso.ID, application.Application{DisplayName: "App"})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("CreateApplication error = %v, want %v", err, tc.wantErr)
			}
			after := len(f.events())
			if err != nil {
				if after != before {
					t.Fatalf("a refused registration wrote %d audit events", after-before)
				}
				return
			}
			if after != before+1 {
				t.Fatalf("registration wrote %d audit events, want 1", after-before)
			}
			if got := slices.Contains(a.Owners, tc.actor.UserID()); got != tc.wantOwner {
				t.Errorf("actor is owner = %v, want %v", got, tc.wantOwner)
			}
			if a.SignInAudience != application.AzureADMyOrg {
				t.Errorf("default signInAudience = %q, want AzureADMyOrg", a.SignInAudience)
			}
			if _, err := f.d.ServicePrincipalByAppID(f.ctx, System(), contoso.ID, a.AppID); err != nil {
				t.Errorf("home service principal: %v", err)
			}
		})
	}
}

func TestRegisterApplicationValidation(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	before := len(f.events())
	_, err := f.d.CreateApplication(f.ctx, System(), tn.ID, application.Application{
		DisplayName: "Bad", Web: &application.Web{RedirectURIs: []string{"http://evil.example.com/cb"}},
	})
	var fe *tenant.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, tenant.ErrInvalid) {
		t.Fatalf("error = %v, want a FieldError", err)
	}
	if fe.Field != "web.redirectUris[0]" {
		t.Errorf("field = %q, want web.redirectUris[0]", fe.Field)
	}
	if len(f.events()) != before {
		t.Error("a refused registration wrote an audit event")
	}
	var apps []application.Application
	_ = f.d.Store().View(f.ctx, func(tx store.ReadTx) error {
		apps, err = store.Applications.All(tx, "", "")
		return err
	})
	if len(apps) != 0 {
		t.Errorf("refused registration left %d applications", len(apps))
	}
}

func TestServicePrincipalAudience(t *testing.T) {
	f := newFixture(t)
	home, other := f.tenant("Home"), f.tenant("Other")
	single := f.app(home.ID, application.Application{DisplayName: "Single"})
	multi := f.app(home.ID, application.Application{DisplayName: "Multi", SignInAudience: application.AzureADMultipleOrgs})
	v2 := 2
	personal := f.app(home.ID, application.Application{DisplayName: "Personal", SignInAudience: application.PersonalMicrosoftAccount, API: &application.API{RequestedAccessTokenVersion: &v2}})

	if _, err := f.d.CreateServicePrincipal(f.ctx, System(), other.ID, single.AppID); !errors.Is(err, ErrAudience) {
		t.Errorf("single-tenant app in a foreign tenant: err = %v, want ErrAudience", err)
	}
	if _, err := f.d.CreateServicePrincipal(f.ctx, System(), other.ID, personal.AppID); !errors.Is(err, ErrAudience) {
		t.Errorf("personal-account app in an organization: err = %v, want ErrAudience", err)
	}
	sp, err := f.d.CreateServicePrincipal(f.ctx, System(), other.ID, multi.AppID)
	if err != nil {
		t.Fatal(err)
	}
	if sp.AppOwnerOrganizationID != home.ID || sp.TenantID != other.ID || !sp.AccountEnabled {
		t.Errorf("service principal = %+v", sp)
	}
	if _, err := f.d.CreateServicePrincipal(f.ctx, System(), other.ID, multi.AppID); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second service principal: err = %v, want ErrAlreadyExists", err)
	}
	member := f.user(other.ID, "m@other.onmicrosoft.com")
	if _, err := f.d.CreateServicePrincipal(f.ctx, UserActor(member.ID), other.ID, multi.AppID); !errors.Is(err, ErrForbidden) {
		t.Errorf("non-admin adding a foreign app: err = %v, want ErrForbidden", err)
	}
}

func apiApp() application.Application {
	return application.Application{
		DisplayName:    "API",
		SignInAudience: application.AzureADMultipleOrgs,
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{
			{ID: "aaaaaaaa-0000-4000-8000-000000000001", Value: "Files.Read", Type: application.ScopeTypeUser, IsEnabled: true},
			{ID: "aaaaaaaa-0000-4000-8000-000000000002", Value: "Files.ReadWrite.All", Type: application.ScopeTypeAdmin, IsEnabled: true},
			{ID: "aaaaaaaa-0000-4000-8000-000000000003", Value: "Files.Old", Type: application.ScopeTypeUser, IsEnabled: false},
		}},
		AppRoles: []application.AppRole{
			{ID: "bbbbbbbb-0000-4000-8000-000000000001", Value: "Files.Sync", DisplayName: "Sync", Description: "Sync", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true},
			{ID: "bbbbbbbb-0000-4000-8000-000000000002", Value: "Files.Admin", DisplayName: "Admin", Description: "Admin", AllowedMemberTypes: []string{application.MemberTypeUser}, IsEnabled: true},
		},
	}
}

func TestConsent(t *testing.T) {
	f := newFixture(t)
	home, other := f.tenant("Home"), f.tenant("Other")
	api := f.app(home.ID, apiApp())
	client := f.app(home.ID, application.Application{
		DisplayName: "Client", SignInAudience: application.AzureADMultipleOrgs,
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID, ResourceAccess: []application.ResourceAccess{
			{ID: "aaaaaaaa-0000-4000-8000-000000000001", Type: application.AccessScope},
			{ID: "bbbbbbbb-0000-4000-8000-000000000001", Type: application.AccessRole},
		}}},
	})
	user := f.user(other.ID, "user@other.onmicrosoft.com")
	admin := f.user(other.ID, "admin@other.onmicrosoft.com", tenant.RoleGlobalAdministrator)
	userScopes := func(vals ...string) ConsentSpec {
		return ConsentSpec{ClientAppID: client.AppID, Scopes: []consent.ScopeRequest{{ResourceAppID: api.AppID, Scopes: vals}}}
	}

	t.Run("admin scope needs an admin", func(t *testing.T) {
		_, err := f.d.Consent(f.ctx, UserActor(user.ID), other.ID, userScopes("Files.ReadWrite.All"))
		if !errors.Is(err, consent.ErrAdminConsentRequired) {
			t.Fatalf("err = %v, want ErrAdminConsentRequired", err)
		}
	})
	t.Run("disabled scope is refused", func(t *testing.T) {
		_, err := f.d.Consent(f.ctx, UserActor(user.ID), other.ID, userScopes("Files.Old"))
		if !errors.Is(err, consent.ErrScopeDisabled) {
			t.Fatalf("err = %v, want ErrScopeDisabled", err)
		}
	})
	t.Run("user consent creates both service principals and a Principal grant", func(t *testing.T) {
		res, err := f.d.Consent(f.ctx, UserActor(user.ID), other.ID, userScopes("Files.Read"))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Created) != 2 || len(res.Grants) != 1 || len(res.Assignments) != 0 {
			t.Fatalf("created %d SPs, %d grants, %d assignments; want 2, 1, 0", len(res.Created), len(res.Grants), len(res.Assignments))
		}
		g := res.Grants[0]
		if g.ConsentType != consent.Principal || g.PrincipalID != user.ID || g.Scope != "Files.Read" || g.ClientID != res.ClientServicePrincipal.ID {
			t.Errorf("grant = %+v", g)
		}
	})
	t.Run("policy none refuses user consent", func(t *testing.T) {
		p := tenant.DefaultPolicy()
		p.SetUserConsent(tenant.UserConsentNone)
		if _, err := f.d.SetAuthorizationPolicy(f.ctx, System(), other.ID, p); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = f.d.SetAuthorizationPolicy(f.ctx, System(), other.ID, tenant.DefaultPolicy()) }()
		_, err := f.d.Consent(f.ctx, UserActor(user.ID), other.ID, userScopes("Files.Read"))
		if !errors.Is(err, consent.ErrUserConsentDisabled) {
			t.Fatalf("err = %v, want ErrUserConsentDisabled", err)
		}
	})
	t.Run("tenant-wide needs an admin", func(t *testing.T) {
		_, err := f.d.Consent(f.ctx, UserActor(user.ID), other.ID, ConsentSpec{ClientAppID: client.AppID, Default: true, TenantWide: true})
		if !errors.Is(err, tenant.ErrForbidden) {
			t.Fatalf("err = %v, want ErrForbidden", err)
		}
	})
	t.Run("admin consent grants requiredResourceAccess", func(t *testing.T) {
		res, err := f.d.Consent(f.ctx, UserActor(admin.ID), other.ID, ConsentSpec{ClientAppID: client.AppID, Default: true, TenantWide: true})
		if err != nil {
			t.Fatal(err)
		}
		// One tenant-wide grant on the API, and the basic sign-in set
		// tenant-wide (on the client itself, Microsoft Graph being absent):
		// admin consent lets every user sign in.
		if len(res.Grants) != 2 || res.Grants[0].ConsentType != consent.AllPrincipals || res.Grants[0].Scope != "Files.Read" ||
			res.Grants[1].ConsentType != consent.AllPrincipals || res.Grants[1].Scope != "email offline_access openid profile" {
			t.Errorf("grants = %+v", res.Grants)
		}
		if len(res.Assignments) != 1 || res.Assignments[0].AppRoleID != "bbbbbbbb-0000-4000-8000-000000000001" || res.Assignments[0].PrincipalID != res.ClientServicePrincipal.ID {
			t.Errorf("assignments = %+v", res.Assignments)
		}
		// Idempotent: again creates no second assignment.
		res2, err := f.d.Consent(f.ctx, UserActor(admin.ID), other.ID, ConsentSpec{ClientAppID: client.AppID, Default: true, TenantWide: true})
		if err != nil || len(res2.Assignments) != 0 || len(res2.Created) != 0 {
			t.Errorf("second admin consent: %v, %d assignments, %d created", err, len(res2.Assignments), len(res2.Created))
		}
	})
	t.Run("revoke narrows then deletes", func(t *testing.T) {
		gs, err := f.d.Grants(f.ctx, System(), mustSP(t, f, client.AppID, other.ID).ID, PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var mine consent.Grant
		for _, g := range gs.Items {
			if g.ConsentType == consent.Principal {
				mine = g
			}
		}
		stranger := f.user(other.ID, "s@other.onmicrosoft.com")
		if err := f.d.DeleteGrant(f.ctx, UserActor(stranger.ID), mine.ID); !errors.Is(err, tenant.ErrForbidden) {
			t.Errorf("another user revoking: err = %v, want ErrForbidden", err)
		}
		if err := f.d.revokeGrant(f.ctx, UserActor(user.ID), mine.ID, []string{"Files.Read"}); err != nil {
			t.Fatal(err)
		}
		err = f.d.Store().View(f.ctx, func(tx store.ReadTx) error {
			_, err := store.Grants.Get(tx, mine.ID)
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("grant with no scope left: err = %v, want deleted", err)
		}
	})
}

func mustSP(t *testing.T, f *fixture, appID, tenantID string) (sp struct{ ID string }) {
	t.Helper()
	s, err := f.d.ServicePrincipalByAppID(f.ctx, System(), tenantID, appID)
	if err != nil {
		t.Fatal(err)
	}
	sp.ID = s.ID
	return sp
}

func TestAssignAppRole(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	api := f.app(tn.ID, apiApp())
	sp, err := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, api.AppID)
	if err != nil {
		t.Fatal(err)
	}
	u := f.user(tn.ID, "u@contoso.onmicrosoft.com")
	client := f.app(tn.ID, application.Application{DisplayName: "C"})
	csp, _ := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, client.AppID)
	for _, tc := range []struct {
		name      string
		principal string
		role      string
		wantErr   error
	}{
		{"user gets a User role", u.ID, "bbbbbbbb-0000-4000-8000-000000000002", nil},
		{"user cannot get an Application role", u.ID, "bbbbbbbb-0000-4000-8000-000000000001", tenant.ErrInvalid},
		{"client gets an Application role", csp.ID, "bbbbbbbb-0000-4000-8000-000000000001", nil},
		{"default access", u.ID, application.DefaultAccessRoleID, nil},
		{"unknown role", u.ID, "bbbbbbbb-0000-4000-8000-00000000000f", tenant.ErrInvalid},
		{"duplicate", u.ID, "bbbbbbbb-0000-4000-8000-000000000002", store.ErrAlreadyExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.d.AssignAppRole(f.ctx, System(), AssignmentSpec{ResourceID: sp.ID, PrincipalID: tc.principal, AppRoleID: tc.role})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
	// A disabled role can no longer be assigned.
	if _, err := f.d.UpdateApplication(f.ctx, System(), api.ID, func(a *application.Application) error {
		a.AppRoles[1].IsEnabled = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	other := f.user(tn.ID, "o@contoso.onmicrosoft.com")
	if _, err := f.d.AssignAppRole(f.ctx, System(), AssignmentSpec{ResourceID: sp.ID, PrincipalID: other.ID, AppRoleID: "bbbbbbbb-0000-4000-8000-000000000002"}); !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("assigning a disabled role: err = %v, want ErrInvalid", err)
	}
}

func TestSoftDeleteRestorePurge(t *testing.T) {
	f := newFixture(t)
	home, other := f.tenant("Home"), f.tenant("Other")
	a := f.app(home.ID, application.Application{DisplayName: "App", SignInAudience: application.AzureADMultipleOrgs})
	foreign, err := f.d.CreateServicePrincipal(f.ctx, System(), other.ID, a.AppID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.d.DeleteApplication(f.ctx, System(), a.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.d.DeleteApplication(f.ctx, System(), a.ID); !errors.Is(err, ErrDeleted) {
		t.Errorf("second delete: %v, want ErrDeleted", err)
	}
	if _, err := f.d.UpdateApplication(f.ctx, System(), a.ID, func(*application.Application) error { return nil }); !errors.Is(err, ErrDeleted) {
		t.Errorf("update of a deleted app: %v, want ErrDeleted", err)
	}
	r, err := f.d.Report(f.ctx, System(), "", ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.OrphanedServicePrincipals) != 2 {
		t.Errorf("orphaned service principals while deleted = %d, want 2 (home and foreign)", len(r.OrphanedServicePrincipals))
	}
	f.clock.Advance(29 * 24 * time.Hour)
	restored, err := f.d.RestoreApplication(f.ctx, System(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, restored); diff != "" {
		t.Errorf("restored app differs (-before +after):\n%s", diff)
	}
	if err := f.d.DeleteApplication(f.ctx, System(), a.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(31 * 24 * time.Hour)
	if _, err := f.d.RestoreApplication(f.ctx, System(), a.ID); !errors.Is(err, ErrRestoreExpired) {
		t.Errorf("restore after 31 days: %v, want ErrRestoreExpired", err)
	}
	if err := f.d.PurgeApplication(f.ctx, System(), a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Application(f.ctx, System(), a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("purged app: %v", err)
	}
	if _, err := f.d.ServicePrincipalByAppID(f.ctx, System(), home.ID, a.AppID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("home service principal after purge: %v", err)
	}
	if _, err := f.d.ServicePrincipal(f.ctx, System(), foreign.ID); err != nil {
		t.Errorf("foreign service principal after purge: %v (it stays, orphaned)", err)
	}
	r, _ = f.d.Report(f.ctx, System(), other.ID, ReportOptions{})
	if len(r.OrphanedServicePrincipals) != 1 || r.OrphanedServicePrincipals[0].ID != foreign.ID {
		t.Errorf("orphans in Other = %+v", r.OrphanedServicePrincipals)
	}
}

func TestReport(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	owner := f.user(tn.ID, "o@contoso.onmicrosoft.com")
	owned, err := f.d.CreateApplication(f.ctx, UserActor(owner.ID), tn.ID, application.Application{DisplayName: "Owned"})
	if err != nil {
		t.Fatal(err)
	}
	orphan := f.app(tn.ID, application.Application{DisplayName: "Nobody's"})
	soon, err := f.d.AddPassword(f.ctx, System(), owned.ID, PasswordSpec{End: f.clock.Now().Add(10 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.AddPassword(f.ctx, System(), owned.ID, PasswordSpec{End: f.clock.Now().Add(100 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	api := f.app(tn.ID, apiApp())
	admin := f.user(tn.ID, "a@contoso.onmicrosoft.com", tenant.RoleGlobalAdministrator)
	if _, err := f.d.Consent(f.ctx, UserActor(admin.ID), tn.ID, ConsentSpec{ClientAppID: orphan.AppID, TenantWide: true,
		Scopes: []consent.ScopeRequest{{ResourceAppID: api.AppID, Scopes: []string{"Files.Read", "Files.ReadWrite.All"}}}}); err != nil {
		t.Fatal(err)
	}
	r, err := f.d.Report(f.ctx, System(), tn.ID, ReportOptions{Within: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var noOwner []string
	for _, a := range r.ApplicationsWithoutOwners {
		noOwner = append(noOwner, a.DisplayName)
	}
	if diff := cmp.Diff([]string{"API", "Nobody's"}, sorted(noOwner)); diff != "" {
		t.Errorf("apps without owners (-want +got):\n%s", diff)
	}
	if len(r.ExpiringCredentials) != 1 || r.ExpiringCredentials[0].KeyID != soon.KeyID {
		t.Errorf("expiring credentials = %+v, want the 10-day secret only", r.ExpiringCredentials)
	}
	if len(r.AdminScopeGrants) != 1 || !slices.Equal(r.AdminScopeGrants[0].AdminScopes, []string{"Files.ReadWrite.All"}) {
		t.Errorf("admin scope grants = %+v", r.AdminScopeGrants)
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

func TestManifestPlanApplyIdempotent(t *testing.T) {
	f := newFixture(t)
	apiID, clientID := "0f0e0d0c-0000-4000-8000-00000000a001", "0f0e0d0c-0000-4000-8000-00000000c001"
	api := apiApp()
	api.AppID = apiID
	m := Manifest{Tenants: []ManifestTenant{
		{
			ID: "11110000-0000-4000-8000-000000000001", DisplayName: "Contoso",
			Users: []ManifestUser{{UserPrincipalName: "admin@contoso.onmicrosoft.com", DisplayName: "Admin", DirectoryRoles: []string{tenant.RoleGlobalAdministrator}}},
			Applications: []application.Application{api, {AppID: clientID, DisplayName: "Client", SignInAudience: application.AzureADMultipleOrgs,
				RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: apiID, ResourceAccess: []application.ResourceAccess{
					{ID: "aaaaaaaa-0000-4000-8000-000000000001", Type: application.AccessScope},
					{ID: "bbbbbbbb-0000-4000-8000-000000000001", Type: application.AccessRole}}}}}},
		},
		{
			ID: "11110000-0000-4000-8000-000000000002", DisplayName: "Fabrikam",
			Users:             []ManifestUser{{UserPrincipalName: "clerk@fabrikam.onmicrosoft.com", DisplayName: "Clerk"}},
			ServicePrincipals: []ManifestServicePrincipal{{AppID: apiID, AppRoleAssignmentRequired: true}},
			Consents:          []ManifestConsent{{ClientAppID: clientID}},
			Assignments:       []ManifestAssignment{{ResourceAppID: apiID, Role: "Files.Admin", UserPrincipalName: "clerk@fabrikam.onmicrosoft.com"}},
		},
	}}
	plan, err := f.d.Plan(f.ctx, System(), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 {
		t.Fatal("empty plan for an empty directory")
	}
	if _, err := f.d.ResolveTenant(f.ctx, System(), "11110000-0000-4000-8000-000000000001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Plan wrote to the directory: %v", err)
	}
	before := len(f.events())
	applied, err := f.d.Apply(f.ctx, System(), m)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plan, applied); diff != "" {
		t.Errorf("applied changes differ from the plan:\n%s", diff)
	}
	if n := len(f.events()) - before; n != len(applied) {
		t.Errorf("Apply wrote %d audit events for %d changes, want one per change", n, len(applied))
	}
	sp, err := f.d.ServicePrincipalByAppID(f.ctx, System(), "11110000-0000-4000-8000-000000000002", apiID)
	if err != nil || !sp.AppRoleAssignmentRequired {
		t.Fatalf("API service principal in Fabrikam: %+v, %v", sp, err)
	}
	again, err := f.d.Plan(f.ctx, System(), m)
	if err != nil || len(again) != 0 {
		t.Fatalf("plan after apply = %v, %v; want no change", again, err)
	}
	before = len(f.events())
	if ch, err := f.d.Apply(f.ctx, System(), m); err != nil || len(ch) != 0 {
		t.Fatalf("second apply = %v, %v", ch, err)
	}
	if n := len(f.events()) - before; n != 0 {
		t.Errorf("a no-op apply wrote %d audit events", n)
	}
	// A change shows as an update with its modified properties.
	m.Tenants[0].Applications[1].DisplayName = "Client v2"
	plan, err = f.d.Plan(f.ctx, System(), m)
	if err != nil || len(plan) != 1 || plan[0].Action != "update" {
		t.Fatalf("plan after a rename = %+v, %v", plan, err)
	}
	wantMods := []ModifiedProperty{{Name: "displayName", OldValue: json.RawMessage(`"Client"`), NewValue: json.RawMessage(`"Client v2"`)}}
	if diff := cmp.Diff(wantMods, plan[0].Modified); diff != "" {
		t.Errorf("modified properties of a rename (-want +got):\n%s", diff)
	}
	if _, err := f.d.Apply(f.ctx, UserActor("someone"), m); !errors.Is(err, ErrForbidden) {
		t.Errorf("Apply by a user: %v, want ErrForbidden", err)
	}
}

func TestGroupsRefuseCycles(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	a, err := f.d.CreateGroup(f.ctx, System(), tn.ID, GroupSpec{DisplayName: "A"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.d.CreateGroup(f.ctx, System(), tn.ID, GroupSpec{DisplayName: "B", Members: []tenant.Ref{{ID: a.ID, Type: tenant.MemberGroup}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.AddGroupMember(f.ctx, System(), a.ID, tenant.Ref{ID: b.ID, Type: tenant.MemberGroup}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("cycle: err = %v, want ErrInvalidRequest", err)
	}
	other := f.tenant("Other")
	stranger := f.user(other.ID, "s@other.onmicrosoft.com")
	if _, err := f.d.AddGroupMember(f.ctx, System(), a.ID, tenant.Ref{ID: stranger.ID, Type: tenant.MemberUser}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("member of another tenant: err = %v, want ErrInvalidRequest", err)
	}
}

func TestAuditRedactsSecrets(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	a := f.app(tn.ID, application.Application{DisplayName: "App"})
	cred, err := f.d.AddPassword(f.ctx, System(), a.ID, PasswordSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.CreateUser(f.ctx, System(), tn.ID, UserSpec{UserPrincipalName: "p@contoso.onmicrosoft.com", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range f.events() {
		for _, forbidden := range []string{cred.SecretText, "secretHash", "passwordHash", "correct horse"} {
			if strings.Contains(string(e.Before), forbidden) || strings.Contains(string(e.After), forbidden) {
				t.Errorf("audit event %d (%s) contains %q", e.Seq, e.Action, forbidden)
			}
		}
	}
	u, err := f.d.Issuer().SignIn(f.ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: "p@contoso.onmicrosoft.com", Password: "correct horse battery"})
	if err != nil || u.UserPrincipalName != "p@contoso.onmicrosoft.com" {
		t.Errorf("SignIn = %v, %v", u.UserPrincipalName, err)
	}
	if _, err := f.d.Issuer().SignIn(f.ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: "p@contoso.onmicrosoft.com", Password: "wrong"}); !errors.Is(err, &TokenError{Code: 50126}) {
		t.Errorf("SignIn with a wrong password: %v, want AADSTS50126", err)
	}
	if _, err := f.d.Issuer().SignIn(f.ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: "nobody@contoso.onmicrosoft.com", Password: "wrong"}); !errors.Is(err, &TokenError{Code: 50126}) {
		t.Errorf("SignIn of an unknown user: %v, want AADSTS50126 (no account enumeration)", err)
	}
}

// A changed object is audited by its modified properties; a created one
// whole.
func TestAuditModifiedProperties(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	u := f.user(tn.ID, "m@contoso.onmicrosoft.com")
	if _, err := f.d.DisableUser(f.ctx, System(), u.ID); err != nil {
		t.Fatal(err)
	}
	ev := f.events()
	last := ev[len(ev)-1]
	if last.Action != "user.disable" || string(last.Before) != `{"accountEnabled":true}` || string(last.After) != `{"accountEnabled":false}` {
		t.Errorf("disable event = %s before=%s after=%s", last.Action, last.Before, last.After)
	}
	created := ev[len(ev)-2]
	var whole tenant.User
	if err := json.Unmarshal(created.After, &whole); err != nil || whole.ID != u.ID || created.Before != nil {
		t.Errorf("create event after=%s before=%s (%v)", created.After, created.Before, err)
	}
}

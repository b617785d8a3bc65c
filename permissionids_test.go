package tenantry

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

// byValueApp declares a role and a scope by value only.
func byValueApp() application.Application {
	return application.Application{
		DisplayName:    "Orders API",
		IdentifierURIs: []string{"api://contoso.onmicrosoft.com/orders"},
		AppRoles: []application.AppRole{{AllowedMemberTypes: []string{application.MemberTypeUser, application.MemberTypeApplication},
			Value: "Orders.Read", DisplayName: "Read orders", Description: "Read orders", IsEnabled: true}},
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{{Value: "Orders.Manage", Type: application.ScopeTypeUser, IsEnabled: true,
			AdminConsentDisplayName: "Manage orders", AdminConsentDescription: "Manage orders"}}},
	}
}

func TestRoleAndScopeIDsAreGenerated(t *testing.T) {
	create := func() application.Application {
		f := newFixture(t) // the same id source for the same test name
		tn := f.tenant("Contoso")
		return f.app(tn.ID, byValueApp())
	}
	a, b := create(), create()
	roleID, scopeID := a.AppRoles[0].ID, a.API.OAuth2PermissionScopes[0].ID
	for _, id := range []string{roleID, scopeID} {
		if _, err := uuid.Parse(id); err != nil {
			t.Fatalf("generated id %q: %v", id, err)
		}
	}
	if roleID == scopeID {
		t.Fatal("the role and the scope got the same id")
	}
	if diff := cmp.Diff(a.AppRoles, b.AppRoles); diff != "" {
		t.Errorf("a deterministic id source gave other role ids:\n%s", diff)
	}
	if a.API.OAuth2PermissionScopes[0].ID != b.API.OAuth2PermissionScopes[0].ID {
		t.Error("a deterministic id source gave other scope ids")
	}
}

func TestUpdateByValueKeepsIDs(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	a := f.app(tn.ID, byValueApp())
	roleID, scopeID := a.AppRoles[0].ID, a.API.OAuth2PermissionScopes[0].ID
	got, err := f.d.UpdateApplication(f.ctx, System(), a.ID, func(x *application.Application) error {
		// The caller sends its declaration again, ids left out, plus a new role.
		decl := byValueApp()
		x.AppRoles = append(decl.AppRoles, application.AppRole{AllowedMemberTypes: []string{application.MemberTypeUser},
			Value: "Orders.Write", DisplayName: "Write orders", Description: "Write orders", IsEnabled: true})
		x.API.OAuth2PermissionScopes = decl.API.OAuth2PermissionScopes
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.AppRoles[0].ID != roleID || got.API.OAuth2PermissionScopes[0].ID != scopeID {
		t.Errorf("ids changed: role %s→%s, scope %s→%s", roleID, got.AppRoles[0].ID, scopeID, got.API.OAuth2PermissionScopes[0].ID)
	}
	if id := got.AppRoles[1].ID; id == "" || id == roleID || id == scopeID {
		t.Errorf("new role id %q", id)
	}
	sp, err := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, a.AppID)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := sp.RoleByValue("Orders.Write"); !ok || r.ID != got.AppRoles[1].ID {
		t.Errorf("service principal's copy: %+v, %t", r, ok)
	}
}

func TestManifestRolesByValueApplyOnce(t *testing.T) {
	f := newFixture(t)
	const tid, appID = "11110000-0000-4000-8000-000000000001", "22220000-0000-4000-8000-000000000001"
	app := byValueApp()
	app.AppID = appID
	app.IdentifierURIs = []string{"api://" + appID}
	m := Manifest{Tenants: []ManifestTenant{{ID: tid, DisplayName: "Contoso",
		Users:        []ManifestUser{{UserPrincipalName: "clerk@contoso.onmicrosoft.com"}},
		Applications: []application.Application{app},
		Assignments:  []ManifestAssignment{{ResourceAppID: appID, Role: "Orders.Read", UserPrincipalName: "clerk@contoso.onmicrosoft.com"}},
	}}}
	if _, err := f.d.Apply(f.ctx, System(), m); err != nil {
		t.Fatal(err)
	}
	stored, err := f.d.ApplicationByAppID(f.ctx, System(), appID)
	if err != nil || stored.AppRoles[0].ID == "" || stored.API.OAuth2PermissionScopes[0].ID == "" {
		t.Fatalf("applied: %+v, %v", stored.AppRoles, err)
	}
	if plan, err := f.d.Plan(f.ctx, System(), m); err != nil || len(plan) != 0 {
		t.Fatalf("plan after apply: %v, %v; want no change", plan, err)
	}
	if ch, err := f.d.Apply(f.ctx, System(), m); err != nil || len(ch) != 0 {
		t.Fatalf("second apply: %v, %v", ch, err)
	}
	again, _ := f.d.ApplicationByAppID(f.ctx, System(), appID)
	if diff := cmp.Diff(stored, again); diff != "" {
		t.Errorf("the second apply changed the application:\n%s", diff)
	}
}

func TestAssignAppRoleByValue(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	u := f.user(tn.ID, "clerk@contoso.onmicrosoft.com")
	decl := byValueApp()
	decl.AppRoles = append(decl.AppRoles, application.AppRole{AllowedMemberTypes: []string{application.MemberTypeUser},
		Value: "Orders.Old", DisplayName: "Old", Description: "Old", IsEnabled: false})
	a := f.app(tn.ID, decl)
	sp, err := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, a.AppID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.d.AssignAppRole(f.ctx, System(), AssignmentSpec{ResourceID: sp.ID, PrincipalID: u.ID, AppRoleValue: "Orders.Read"})
	if err != nil {
		t.Fatal(err)
	}
	if role, _ := sp.RoleByValue("Orders.Read"); got.AppRoleID != role.ID || got.AppRoleID != a.AppRoles[0].ID {
		t.Errorf("assigned role %s, want %s", got.AppRoleID, role.ID)
	}
	for name, spec := range map[string]AssignmentSpec{
		"unknown value":      {ResourceID: sp.ID, PrincipalID: u.ID, AppRoleValue: "orders.read"},
		"disabled role":      {ResourceID: sp.ID, PrincipalID: u.ID, AppRoleValue: "Orders.Old"},
		"both id and value":  {ResourceID: sp.ID, PrincipalID: u.ID, AppRoleValue: "Orders.Read", AppRoleID: a.AppRoles[0].ID},
		"value and default":  {ResourceID: sp.ID, PrincipalID: u.ID, AppRoleValue: "Orders.Read", AppRoleID: application.DefaultAccessRoleID},
		"neither id nor one": {ResourceID: sp.ID, PrincipalID: u.ID},
	} {
		if _, err := f.d.AssignAppRole(f.ctx, System(), spec); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("%s: %v, want tenant.ErrInvalid", name, err)
		}
	}
}

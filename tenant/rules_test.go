package tenant_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/tenant"
)

const (
	rulesTenantID = "11111111-1111-4111-8111-111111111111"
	rulesUserID   = "0a000000-0000-4000-8000-000000000001"
)

func rulesCaller(enabled bool, userType string, roles ...string) tenant.Caller {
	u := tenant.User{ID: rulesUserID, TenantID: rulesTenantID, AccountEnabled: enabled, UserType: userType, UserPrincipalName: "a@contoso.com"}
	if userType == tenant.Guest {
		u.HomeTenantID = "22222222-2222-4222-8222-222222222222"
	}
	return tenant.Caller{User: u, Roles: roles}
}

func rulesTenant(allowedToCreateApps bool) tenant.Tenant {
	t := tenant.Tenant{ID: rulesTenantID, DisplayName: "Contoso", Policy: tenant.DefaultPolicy()}
	t.Policy.DefaultUserRolePermissions.AllowedToCreateApps = allowedToCreateApps
	return t
}

// checkForbidden fails unless err is nil (want true) or a
// *tenant.ForbiddenError matching tenant.ErrForbidden (want false).
func checkForbidden(t *testing.T, name string, err error, allowed bool) {
	t.Helper()
	if allowed {
		if err != nil {
			t.Errorf("%s: got %v, want allowed", name, err)
		}
		return
	}
	var fe *tenant.ForbiddenError
	if !errors.Is(err, tenant.ErrForbidden) || !errors.As(err, &fe) || fe.Reason == "" {
		t.Errorf("%s: got %v, want a ForbiddenError with a reason", name, err)
	}
}

func TestRulesCanRegisterApplications(t *testing.T) {
	system := tenant.SystemCaller()
	for _, tc := range []struct {
		name    string
		switch_ bool
		caller  tenant.Caller
		allowed bool
	}{
		{"system", false, system, true},
		{"zero caller", true, tenant.Caller{}, false},
		{"zero caller with roles", true, tenant.Caller{Roles: tenant.Roles{tenant.RoleGlobalAdministrator}}, false},
		{"member, switch on", true, rulesCaller(true, tenant.Member), true},
		{"member, switch off", false, rulesCaller(true, tenant.Member), false},
		{"disabled member", true, rulesCaller(false, tenant.Member), false},
		{"disabled Global Administrator", true, rulesCaller(false, tenant.Member, tenant.RoleGlobalAdministrator), false},
		{"guest, switch on", true, rulesCaller(true, tenant.Guest), false},
		{"guest Application Developer", false, rulesCaller(true, tenant.Guest, tenant.RoleApplicationDeveloper), true},
		{"Application Developer, switch off", false, rulesCaller(true, tenant.Member, tenant.RoleApplicationDeveloper), true},
		{"Global Administrator, switch off", false, rulesCaller(true, tenant.Member, tenant.RoleGlobalAdministrator), true},
		{"Application Administrator, switch off", false, rulesCaller(true, tenant.Member, tenant.RoleApplicationAdministrator), true},
		{"Cloud Application Administrator, switch off", false, rulesCaller(true, tenant.Member, tenant.RoleCloudApplicationAdministrator), true},
		{"Privileged Role Administrator, switch off", false, rulesCaller(true, tenant.Member, tenant.RolePrivilegedRoleAdministrator), false},
		{"Privileged Role Administrator, switch on", true, rulesCaller(true, tenant.Member, tenant.RolePrivilegedRoleAdministrator), true},
	} {
		checkForbidden(t, tc.name, tenant.CanRegisterApplications(rulesTenant(tc.switch_), tc.caller), tc.allowed)
	}
}

func TestRulesCanGrantTenantWide(t *testing.T) {
	for _, tc := range []struct {
		name          string
		caller        tenant.Caller
		graphRoles    bool
		allowed       bool
		allowedNoGrph bool
	}{
		{"system", tenant.SystemCaller(), true, true, true},
		{"zero caller", tenant.Caller{}, true, false, false},
		{"member", rulesCaller(true, tenant.Member), false, false, false},
		{"Application Developer", rulesCaller(true, tenant.Member, tenant.RoleApplicationDeveloper), false, false, false},
		{"Global Administrator", rulesCaller(true, tenant.Member, tenant.RoleGlobalAdministrator), true, true, true},
		{"Privileged Role Administrator", rulesCaller(true, tenant.Member, tenant.RolePrivilegedRoleAdministrator), true, true, true},
		{"Application Administrator", rulesCaller(true, tenant.Member, tenant.RoleApplicationAdministrator), true, false, true},
		{"Cloud Application Administrator", rulesCaller(true, tenant.Member, tenant.RoleCloudApplicationAdministrator), true, false, true},
		{"disabled Global Administrator", rulesCaller(false, tenant.Member, tenant.RoleGlobalAdministrator), true, false, false},
		{"guest Global Administrator", rulesCaller(true, tenant.Guest, tenant.RoleGlobalAdministrator), true, true, true},
		{"several roles", rulesCaller(true, tenant.Member, tenant.RoleApplicationDeveloper, tenant.RoleApplicationAdministrator), false, false, true},
	} {
		checkForbidden(t, tc.name+" with Graph app roles", tenant.CanGrantTenantWide(tc.caller, true), tc.allowed)
		checkForbidden(t, tc.name+" without Graph app roles", tenant.CanGrantTenantWide(tc.caller, false), tc.allowedNoGrph)
	}
}

func TestRulesRoles(t *testing.T) {
	r := tenant.Roles{tenant.RoleApplicationDeveloper, tenant.RoleCloudApplicationAdministrator}
	if !r.Has(tenant.RoleGlobalAdministrator, tenant.RoleApplicationDeveloper) || r.Has(tenant.RoleGlobalAdministrator) || r.Has() {
		t.Error("Roles.Has")
	}
	for _, tc := range []struct {
		roles tenant.Roles
		admin bool
	}{
		{nil, false},
		{tenant.Roles{tenant.RoleGlobalAdministrator}, true},
		{tenant.Roles{tenant.RoleApplicationAdministrator}, true},
		{tenant.Roles{tenant.RoleCloudApplicationAdministrator}, true},
		{tenant.Roles{tenant.RolePrivilegedRoleAdministrator}, false},
		{tenant.Roles{tenant.RoleApplicationDeveloper}, false},
	} {
		if got := tc.roles.IsAppAdmin(); got != tc.admin {
			t.Errorf("%v.IsAppAdmin() = %v, want %v", tc.roles, got, tc.admin)
		}
		c := rulesCaller(true, tenant.Member, tc.roles...)
		if got := tenant.OwnerOnRegister(c); got != !tc.admin {
			t.Errorf("OwnerOnRegister(%v) = %v, want %v", tc.roles, got, !tc.admin)
		}
	}
	if tenant.OwnerOnRegister(tenant.SystemCaller()) || tenant.OwnerOnRegister(tenant.Caller{}) {
		t.Error("the system caller or the zero caller became an owner")
	}
	if !tenant.SystemCaller().IsSystem() || (tenant.Caller{}).IsSystem() {
		t.Error("IsSystem")
	}
	for id, name := range map[string]string{
		tenant.RoleGlobalAdministrator:           "Global Administrator",
		tenant.RolePrivilegedRoleAdministrator:   "Privileged Role Administrator",
		tenant.RoleApplicationAdministrator:      "Application Administrator",
		tenant.RoleCloudApplicationAdministrator: "Cloud Application Administrator",
		tenant.RoleApplicationDeveloper:          "Application Developer",
		"00000000-0000-0000-0000-000000000000":   "",
	} {
		if got := tenant.RoleName(id); got != name {
			t.Errorf("RoleName(%s) = %q, want %q", id, got, name)
		}
	}
	checkForbidden(t, "CanManageDirectory system", tenant.CanManageDirectory(tenant.SystemCaller()), true)
	checkForbidden(t, "CanManageDirectory zero caller", tenant.CanManageDirectory(tenant.Caller{}), false)
	checkForbidden(t, "CanManageDirectory Global Administrator", tenant.CanManageDirectory(rulesCaller(true, tenant.Member, tenant.RoleGlobalAdministrator)), true)
	checkForbidden(t, "CanManageDirectory Application Administrator", tenant.CanManageDirectory(rulesCaller(true, tenant.Member, tenant.RoleApplicationAdministrator)), false)
}

func TestRulesUserConsent(t *testing.T) {
	self := func(p string) string { return "ManagePermissionGrantsForSelf." + p }
	for _, tc := range []struct {
		name     string
		assigned []string
		want     tenant.UserConsent
	}{
		{"nil list: disabled", nil, tenant.UserConsentNone},
		{"empty list: disabled", []string{}, tenant.UserConsentNone},
		{"legacy", []string{self(tenant.PolicyUserDefaultLegacy)}, tenant.UserConsentAll},
		{"recommended", []string{self(tenant.PolicyUserDefaultRecommended)}, tenant.UserConsentAll},
		{"low", []string{self(tenant.PolicyUserDefaultLow)}, tenant.UserConsentLowRisk},
		{"prefix compared case-insensitively", []string{"managePermissionGrantsForSelf." + tenant.PolicyUserDefaultLow}, tenant.UserConsentLowRisk},
		{"policy id compared case-insensitively", []string{"MANAGEPERMISSIONGRANTSFORSELF.MICROSOFT-USER-DEFAULT-LEGACY"}, tenant.UserConsentAll},
		{"most permissive wins", []string{self(tenant.PolicyUserDefaultLow), self(tenant.PolicyUserDefaultLegacy)}, tenant.UserConsentAll},
		{"most permissive wins in any order", []string{self(tenant.PolicyUserDefaultLegacy), self(tenant.PolicyUserDefaultLow)}, tenant.UserConsentAll},
		{"owned-resource entries are not user consent", []string{"ManagePermissionGrantsForOwnedResource.DeveloperConsent"}, tenant.UserConsentNone},
		{"unknown custom policy", []string{self("my-custom-policy")}, tenant.UserConsentNone},
		{"policy id without prefix", []string{tenant.PolicyUserDefaultLegacy}, tenant.UserConsentNone},
	} {
		p := tenant.DefaultPolicy()
		p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = tc.assigned
		if got := p.UserConsent(); got != tc.want {
			t.Errorf("%s: UserConsent() = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := tenant.DefaultPolicy().UserConsent(); got != tenant.UserConsentAll {
		t.Errorf("default policy: UserConsent() = %v, want all (recommended policy)", got)
	}
	for c, s := range map[tenant.UserConsent]string{tenant.UserConsentNone: "none", tenant.UserConsentLowRisk: "lowRisk", tenant.UserConsentAll: "all", 7: "UserConsent(7)"} {
		if c.String() != s {
			t.Errorf("String() = %q, want %q", c.String(), s)
		}
	}
}

func TestRulesSetUserConsent(t *testing.T) {
	const owned = "ManagePermissionGrantsForOwnedResource.DeveloperConsent"
	for _, tc := range []struct {
		name   string
		before []string
		set    tenant.UserConsent
		want   []string
	}{
		{"none from default", []string{"ManagePermissionGrantsForSelf." + tenant.PolicyUserDefaultRecommended}, tenant.UserConsentNone, []string{}},
		{"none keeps owned-resource entries", []string{owned, "managepermissiongrantsforself.microsoft-user-default-low"}, tenant.UserConsentNone, []string{owned}},
		{"low replaces all self entries", []string{"ManagePermissionGrantsForSelf.a", owned, "ManagePermissionGrantsForSelf.b"}, tenant.UserConsentLowRisk,
			[]string{owned, "ManagePermissionGrantsForSelf." + tenant.PolicyUserDefaultLow}},
		{"all from nothing", nil, tenant.UserConsentAll, []string{"ManagePermissionGrantsForSelf." + tenant.PolicyUserDefaultLegacy}},
	} {
		p := tenant.DefaultPolicy()
		p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = tc.before
		p.SetUserConsent(tc.set)
		got := p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned
		if !slices.Equal(got, tc.want) || got == nil {
			t.Errorf("%s: assigned = %#v, want %#v", tc.name, got, tc.want)
		}
		if p.UserConsent() != tc.set {
			t.Errorf("%s: UserConsent() after SetUserConsent(%v) = %v", tc.name, tc.set, p.UserConsent())
		}
	}
	// SetUserConsent must not write through to a clone's list.
	p := tenant.DefaultPolicy()
	c := p.Clone()
	c.SetUserConsent(tenant.UserConsentNone)
	if p.UserConsent() != tenant.UserConsentAll {
		t.Error("SetUserConsent on a clone changed the original")
	}
}

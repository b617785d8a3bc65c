package tenant_test

import (
	"testing"
	"time"

	"github.com/tenantry/tenantry/tenant"
)

func TestTenantAndUserEqual(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tn := tenant.Tenant{ID: "t", DisplayName: "Contoso", CreatedDateTime: now, Policy: tenant.DefaultPolicy(),
		VerifiedDomains: []tenant.VerifiedDomain{{Name: "contoso.com", IsDefault: true}}}
	other := tn.Clone()
	other.CreatedDateTime = now.In(time.FixedZone("UTC+1", 3600))
	if !tn.Equal(other) {
		t.Error("the same tenant with its creation time in another zone is not Equal")
	}
	other.VerifiedDomains[0].IsDefault = false
	if tn.Equal(other) {
		t.Error("a change of a verified domain is Equal")
	}
	other = tn.Clone()
	other.Policy.DefaultUserRolePermissions.AllowedToCreateApps = !tn.Policy.DefaultUserRolePermissions.AllowedToCreateApps
	if tn.Equal(other) {
		t.Error("a change of the authorization policy is Equal")
	}
	u := tenant.User{ID: "u", DisplayName: "Ann", AccountEnabled: true, PasswordHash: &tenant.PasswordHash{Hash: []byte{1}}}
	v := u.Clone()
	if !u.Equal(v) {
		t.Error("a user's clone is not Equal")
	}
	v.PasswordHash.Hash[0] = 2
	if u.Equal(v) {
		t.Error("a change of the password hash is Equal")
	}
}

package tenant_test

import (
	"errors"
	"testing"

	"github.com/tenantry/tenantry/tenant"
)

func TestCheckUserPrincipalName(t *testing.T) {
	tn := tenant.Tenant{ID: rulesTenantID, DisplayName: "Contoso", VerifiedDomains: []tenant.VerifiedDomain{
		{Name: "contoso.com", IsDefault: true}, {Name: "contoso.onmicrosoft.com", IsInitial: true},
	}}
	for _, tc := range []struct {
		upn, userType string
		ok            bool
	}{
		{"a@contoso.com", tenant.Member, true},
		{"a@Contoso.COM", tenant.Member, true},
		{"a@contoso.onmicrosoft.com", tenant.Member, true},
		{"a@fabrikam.com", tenant.Member, false},
		{"a@sub.contoso.com", tenant.Member, false},
		{"a#EXT#@contoso.onmicrosoft.com", tenant.Member, false},
		{"a#ext#@contoso.onmicrosoft.com", tenant.Member, false},
		{"a_fabrikam.com#EXT#@contoso.onmicrosoft.com", tenant.Guest, true},
		{"a_fabrikam.com#ext#@contoso.onmicrosoft.com", tenant.Guest, true},
		{"a_fabrikam.com#EXT#@contoso.com", tenant.Guest, false},
		{"a_fabrikam.com#EXT#x@contoso.onmicrosoft.com", tenant.Guest, false},
		{"#EXT#@contoso.onmicrosoft.com", tenant.Guest, false},
		{"a@contoso.onmicrosoft.com", tenant.Guest, false},
		{"contoso.com", tenant.Member, false},
		{"a@", tenant.Member, false},
	} {
		err := tn.CheckUserPrincipalName(tc.upn, tc.userType)
		var fe *tenant.FieldError
		if tc.ok != (err == nil) || (err != nil && (!errors.As(err, &fe) || fe.Field != "userPrincipalName")) {
			t.Errorf("CheckUserPrincipalName(%q, %s) = %v, want ok=%v", tc.upn, tc.userType, err, tc.ok)
		}
	}
}

func TestInvitedAddress(t *testing.T) {
	for _, tc := range []struct {
		u    tenant.User
		want string
	}{
		{tenant.User{UserType: tenant.Guest, Mail: "Carol@Fabrikam.com", UserPrincipalName: "x_y.com#EXT#@c.onmicrosoft.com"}, "Carol@Fabrikam.com"},
		{tenant.User{UserType: tenant.Guest, UserPrincipalName: "carol_fabrikam.com#EXT#@c.onmicrosoft.com"}, "carol@fabrikam.com"},
		{tenant.User{UserType: tenant.Guest, UserPrincipalName: "c_a_rol_fabrikam.com#EXT#@c.onmicrosoft.com"}, "c_a_rol@fabrikam.com"},
		{tenant.User{UserType: tenant.Guest, UserPrincipalName: "carol#EXT#@c.onmicrosoft.com"}, ""},
		{tenant.User{UserType: tenant.Guest, UserPrincipalName: "_#EXT#@c.onmicrosoft.com"}, ""},
		{tenant.User{UserType: tenant.Member, Mail: "a@b.com", UserPrincipalName: "a@b.com"}, ""},
	} {
		if got := tc.u.InvitedAddress(); got != tc.want {
			t.Errorf("InvitedAddress(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
}

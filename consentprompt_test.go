package tenantry

import (
	"errors"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/tenant"
)

func TestConsentPromptRefusesAsAuthorize(t *testing.T) {
	e := newFT(t)
	iss := e.d.Issuer()
	base := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
	for _, tc := range []struct {
		name      string
		edit      func(*AuthorizeRequest)
		code      int
		validated bool // refusals after the client and redirect URI are valid come with a prompt
	}{
		{"unknown client", func(r *AuthorizeRequest) { r.ClientID = "0a000000-0000-4000-8000-0000000000ff" }, 700016, false},
		{"redirect mismatch", func(r *AuthorizeRequest) { r.RedirectURI = "https://evil.example/auth" }, 50011, false},
		{"no reply address", func(r *AuthorizeRequest) { r.ClientID, r.RedirectURI = ftDaemonApp, "" }, 500113, false},
		{"unknown tenant", func(r *AuthorizeRequest) { r.Tenant = "nowhere.example" }, 90002, false},
		{"malformed tenant", func(r *AuthorizeRequest) { r.Tenant = "not_a_tenant" }, 900023, false},
		{"response type", func(r *AuthorizeRequest) { r.ResponseType = "token" }, 700054, true},
		{"bad challenge", func(r *AuthorizeRequest) { r.CodeChallenge = "short" }, 9002313, true},
		{"user of another tenant", func(r *AuthorizeRequest) { r.UserID = e.carol.ID }, 50020, true},
		{"two resources", func(r *AuthorizeRequest) {
			r.Scope = ftURI(ftOrdersApp) + "/Orders.Read " + ftURI(ftDownApp) + "/Files.Read"
		}, 700022, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			tc.edit(&req)
			p, err := iss.ConsentPrompt(e.ctx, req)
			if !errors.Is(err, &TokenError{Code: tc.code}) {
				t.Fatalf("ConsentPrompt: %v, want AADSTS%d", err, tc.code)
			}
			if (p != nil) != tc.validated {
				t.Errorf("prompt %+v with the refusal, want one: %v", p, tc.validated)
			}
			_, aerr := iss.Authorize(e.ctx, req)
			if !errors.Is(aerr, &TokenError{Code: tc.code}) {
				t.Errorf("Authorize: %v, ConsentPrompt AADSTS%d", aerr, tc.code)
			}
			// Before sign-in the same refusal, where it does not depend on the user.
			if tc.name != "user of another tenant" {
				req.UserID = ""
				if _, err := iss.ConsentPrompt(e.ctx, req); !errors.Is(err, &TokenError{Code: tc.code}) {
					t.Errorf("before sign-in: %v, want AADSTS%d", err, tc.code)
				}
			}
		})
	}
}

func TestConsentPromptListsMissingPermissions(t *testing.T) {
	e := newFT(t)
	iss := e.d.Issuer()
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid profile")
	before, err := iss.ConsentPrompt(e.ctx, AuthorizeRequest{Tenant: req.Tenant, ClientID: req.ClientID, RedirectURI: req.RedirectURI, ResponseType: "code", Scope: req.Scope})
	if err != nil || before.ConsentNeeded || before.TenantID != e.conID || before.ClientDisplayName != "Orders Web" || before.RedirectURI != ftWebRedirect {
		t.Fatalf("before sign-in: %+v, %v", before, err)
	}
	p, err := iss.ConsentPrompt(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !p.ConsentNeeded || !p.UserCanConsent || p.CanConsentForOrganization || p.VerifiedPublisher != nil || p.TenantDisplayName != "Contoso" {
		t.Fatalf("prompt %+v", p)
	}
	var got []string
	for _, perm := range p.Permissions {
		got = append(got, perm.ResourceDisplayName+":"+perm.Value+":"+perm.DisplayName+":"+string(perm.Type))
	}
	want := []string{
		"Microsoft Graph:openid:Sign you in:delegated",
		"Microsoft Graph:profile:View your basic profile:delegated",
		"Orders API:Orders.Read:Orders.Read:delegated",
		// Combined consent: Orders API lists Orders Web as a known client
		// and asks for Files.Read itself.
		"Downstream Files API:Files.Read:Files.Read:delegated",
	}
	if len(got) != len(want) {
		t.Fatalf("permissions %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("permission %d: %q, want %q", i, got[i], want[i])
		}
	}
	// Nothing was recorded; once Authorize records the consent, none is needed.
	if again, err := iss.ConsentPrompt(e.ctx, req); err != nil || !again.ConsentNeeded {
		t.Fatalf("ConsentPrompt recorded something: %+v %v", again, err)
	}
	if _, err := iss.Authorize(e.ctx, req); err != nil {
		t.Fatal(err)
	}
	after, err := iss.ConsentPrompt(e.ctx, req)
	if err != nil || after.ConsentNeeded || len(after.Permissions) != 0 {
		t.Fatalf("after consent: %+v %v", after, err)
	}
	// Only the new scope is asked for.
	req.Scope = ftURI(ftOrdersApp) + "/Orders.Read " + ftURI(ftOrdersApp) + "/Orders.Write openid"
	inc, err := iss.ConsentPrompt(e.ctx, req)
	if err != nil || !inc.ConsentNeeded {
		t.Fatalf("incremental: %+v %v", inc, err)
	}
	for _, perm := range inc.Permissions {
		if perm.Value == "Orders.Read" || perm.Value == "openid" {
			t.Errorf("granted permission %s asked again", perm.Value)
		}
	}
}

func TestConsentPromptAdminAndPolicy(t *testing.T) {
	e := newFT(t)
	iss := e.d.Issuer()
	admin := e.authz(ftWebApp, ftWebRedirect, e.admin.ID, ftURI(ftOrdersApp)+"/Orders.Admin openid")
	p, err := iss.ConsentPrompt(e.ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	// An Admin-type scope: never the user's own consent, an
	// administrator's on behalf of the organization.
	if p.UserCanConsent || !p.CanConsentForOrganization {
		t.Fatalf("admin prompt %+v", p)
	}
	found := false
	for _, perm := range p.Permissions {
		found = found || (perm.Value == "Orders.Admin" && perm.AdminOnly)
	}
	if !found {
		t.Errorf("Orders.Admin not listed as admin-only: %+v", p.Permissions)
	}
	alice := admin
	alice.UserID = e.alice.ID
	if p, err := iss.ConsentPrompt(e.ctx, alice); err != nil || p.UserCanConsent || p.CanConsentForOrganization {
		t.Fatalf("alice: %+v %v", p, err)
	}
	// The prompt agrees with Authorize: alice may not, even asking for the organization.
	alice.ConsentFor = ConsentForOrganization
	if _, err := iss.Authorize(e.ctx, alice); !errors.Is(err, ErrConsentRequired) {
		t.Fatalf("alice for the organization: %v", err)
	}
	admin.ConsentFor = ConsentForOrganization
	if _, err := iss.Authorize(e.ctx, admin); err != nil {
		t.Fatalf("admin for the organization: %v", err)
	}
	// The organization's consent covers bob without a prompt.
	bob := admin
	bob.UserID, bob.ConsentFor = e.bob.ID, ConsentForUser
	if p, err := iss.ConsentPrompt(e.ctx, bob); err != nil || p.ConsentNeeded {
		t.Fatalf("bob after the organization's consent: %+v %v", p, err)
	}
	grants, err := e.d.allGrants(e.ctx, e.sp(t, ftWebApp, e.conID).ID)
	if err != nil {
		t.Fatal(err)
	}
	tenantWide := false
	for _, g := range grants {
		tenantWide = tenantWide || (g.ConsentType == consent.AllPrincipals && slices.Contains(g.Scopes(), "Orders.Admin"))
	}
	if !tenantWide {
		t.Errorf("no AllPrincipals grant of Orders.Admin: %+v", grants)
	}

	// A tenant whose policy forbids user consent.
	pol := tenant.DefaultPolicy()
	pol.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = nil
	ftOK(e.d.SetAuthorizationPolicy(e.ctx, System(), e.conID, pol))(t)
	req := e.authz(ftWeb2App, ftWeb2Redirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
	p, err = iss.ConsentPrompt(e.ctx, req)
	if err != nil || !p.ConsentNeeded || p.UserCanConsent || p.CanConsentForOrganization {
		t.Fatalf("policy none: %+v %v", p, err)
	}
	if _, err := iss.Authorize(e.ctx, req); !errors.Is(err, ErrAdminConsentRequired) {
		t.Fatalf("Authorize under policy none: %v", err)
	}
}

func TestAdminConsentEndpointAPI(t *testing.T) {
	e := newFT(t)
	iss := e.d.Issuer()
	req := AdminConsentRequest{Tenant: e.conID, ClientID: ftWebApp, RedirectURI: ftWebRedirect}
	if p, err := iss.AdminConsentPrompt(e.ctx, AdminConsentRequest{Tenant: e.conID, ClientID: ftWebApp, RedirectURI: "https://evil.example/"}); p != nil || !errors.Is(err, &TokenError{Code: 50011}) {
		t.Fatalf("redirect mismatch: %+v %v", p, err)
	}
	req.UserID = e.alice.ID
	p, err := iss.AdminConsentPrompt(e.ctx, req)
	if err != nil || p.CanConsentForOrganization {
		t.Fatalf("alice: %+v %v", p, err)
	}
	if _, err := iss.AdminConsent(e.ctx, req); !errors.Is(err, ErrAdminConsentRequired) {
		t.Fatalf("alice's admin consent: %v", err)
	}
	req.UserID = e.admin.ID
	if p, err = iss.AdminConsentPrompt(e.ctx, req); err != nil || !p.CanConsentForOrganization || len(p.Permissions) == 0 {
		t.Fatalf("admin: %+v %v", p, err)
	}
	resp, err := iss.AdminConsent(e.ctx, req)
	if err != nil || resp.TenantID != e.conID {
		t.Fatalf("admin consent: %+v %v", resp, err)
	}
	for _, g := range resp.Result.Grants {
		if g.ConsentType != consent.AllPrincipals {
			t.Errorf("grant %+v is not tenant-wide", g)
		}
	}
	if len(resp.Result.Grants) == 0 {
		t.Fatal("no grant")
	}
	// Alice signs in without a prompt.
	if p, err := iss.ConsentPrompt(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")); err != nil || p.ConsentNeeded {
		t.Fatalf("after admin consent: %+v %v", p, err)
	}
}

func TestDeviceCodePrompt(t *testing.T) {
	e := newFT(t)
	iss := e.d.Issuer()
	da, err := iss.DeviceCode(e.ctx, DeviceCodeRequest{Tenant: "organizations", ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := iss.DeviceCodePrompt(e.ctx, " "+da.UserCode[:4]+" "+da.UserCode[4:])
	if err != nil || p.ClientDisplayName != "Orders Desktop" || p.Tenant != "organizations" || p.UserCode != da.UserCode {
		t.Fatalf("prompt %+v %v", p, err)
	}
	if _, err := iss.DeviceCodePrompt(e.ctx, "BCDFGHJKL"); !errors.Is(err, &TokenError{Code: 70018}) {
		t.Fatalf("unknown code: %v", err)
	}
	if err := iss.DenyDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.DeviceCodePrompt(e.ctx, da.UserCode); !errors.Is(err, ErrCodeRedeemed) {
		t.Fatalf("declined code: %v", err)
	}
}

func TestDescribeCode(t *testing.T) {
	d, ok := DescribeCode(50011)
	if !ok || d.Error != OAuthInvalidRequest || len(d.Descriptions) != 1 || d.Descriptions[0] == "" {
		t.Fatalf("50011: %+v", d)
	}
	if _, ok := DescribeCode(1); ok {
		t.Fatal("code 1 described")
	}
	// 65001 is invalid_grant as usual; its variants do not change that.
	if d, _ := DescribeCode(65001); d.Error != OAuthInvalidGrant {
		t.Errorf("65001: %+v", d)
	}
}

// An authorization the user declined records nothing: still-missing
// consent is refused with AADSTS65004 even where she may consent, and
// nothing is missing once consent exists.
func TestAuthorizeConsentDeclined(t *testing.T) {
	e := newFT(t)
	bob := ftOK(e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "dee@contoso.com"}))(t)
	req := e.authz(ftWebApp, ftWebRedirect, bob.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
	req.ConsentFor = ConsentDeclined
	count := func() int {
		evs, err := e.d.auditLog(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	before := count()
	_, err := e.d.Issuer().Authorize(e.ctx, req)
	ftWantErr(t, err, 65004, OAuthAccessDenied)
	if after := count(); after != before {
		t.Fatalf("a declined authorization wrote %d audit events", after-before)
	}
	req.ConsentFor = ConsentForUser
	e.signIn(t, req)
	req.ConsentFor = ConsentDeclined
	if _, err := e.d.Issuer().Authorize(e.ctx, req); err != nil {
		t.Fatalf("declined with nothing missing: %v", err)
	}
}

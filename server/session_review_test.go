package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/tenant"
)

// A browser's session ends when the user's sign-in sessions are revoked
// (revokeSignInSessions): the cookie signed before the revocation no
// longer signs her in, so prompt=none needs a sign-in, an interactive
// request shows the sign-in page, and signing in again works at once.
func TestRevokedSessionSignsNobodyIn(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n")
	if got := redirectParams(t, b.signInAndConsent(q, "alice@contoso.onmicrosoft.com", alicePassword), webRedirect+"?"); got.Get("code") == "" {
		t.Fatalf("first sign-in: %v", got)
	}
	if _, err := p.dir.RevokeSignInSessions(p.ctx, tenantry.System(), p.alice.ID); err != nil {
		t.Fatal(err)
	}
	silent := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s2", "n")
	silent.Set("prompt", "none")
	if got := redirectParams(t, b.get(p.authorizePath()+"?"+silent.Encode()), webRedirect+"?"); got.Get("error") != "login_required" || got.Get("code") != "" {
		t.Fatalf("prompt=none after revocation: %v", got)
	}
	pg := b.get(p.authorizePath() + "?" + q.Encode())
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `id="signin-form"`) {
		t.Fatalf("interactive request after revocation: %d %q\n%s", pg.status, pg.header.Get("Location"), pg.body)
	}
	pg = b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	if got := redirectParams(t, pg, webRedirect+"?"); got.Get("code") == "" {
		t.Fatalf("sign-in after revocation: %v", got)
	}
	if got := redirectParams(t, b.get(p.authorizePath()+"?"+silent.Encode()), webRedirect+"?"); got.Get("code") == "" {
		t.Fatalf("new session after revocation: %v", got)
	}
	// The device code page asks for a sign-in again too.
	b2 := p.browser()
	b2.signInAndConsent(p.authorizeQuery(p.desktop.AppID, loopbackRequest, "query", "s", "n"), "alice@contoso.onmicrosoft.com", alicePassword)
	if _, err := p.dir.RevokeSignInSessions(p.ctx, tenantry.System(), p.alice.ID); err != nil {
		t.Fatal(err)
	}
	status, _, da := p.post("/"+p.tenant.ID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {p.desktop.AppID}, "scope": {notesURI + "/Notes.Read openid"}})
	if status != http.StatusOK {
		t.Fatalf("devicecode: %d %v", status, da)
	}
	pg = b2.submit(b2.get("/devicelogin"), "devicecode-form", url.Values{"user_code": {da["user_code"].(string)}})
	if !strings.Contains(pg.body, `id="signin-form"`) {
		t.Fatalf("device code after revocation:\n%s", pg.body)
	}
}

// "Return to the application without consenting" consents to nothing,
// even when the user may consent by the time she presses it (she was
// made an administrator, the tenant's policy changed): the admin consent
// endpoint and the authorization answer the refusal.
func TestBackButtonNeverConsents(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	pg := b.get("/" + p.tenant.ID + "/adminconsent?" + url.Values{"client_id": {p.web.AppID}, "redirect_uri": {webRedirect}, "state": {"x"}}.Encode())
	pg = b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	if !strings.Contains(pg.body, `id="back"`) {
		t.Fatalf("approval page:\n%s", pg.body)
	}
	if _, err := p.dir.AssignDirectoryRole(p.ctx, tenantry.System(), p.tenant.ID, tenantry.DirectoryRoleSpec{PrincipalID: p.alice.ID, RoleID: tenant.RoleGlobalAdministrator}); err != nil {
		t.Fatal(err)
	}
	got := redirectParams(t, b.submit(pg, "approval-form", url.Values{"tenantry_step": {"back"}}), webRedirect+"?")
	if got.Get("admin_consent") != "" || got.Get("error") != "access_denied" || got.Get("state") != "x" {
		t.Errorf("admin consent's back: %v", got)
	}
	if n := p.grantsOf(p.web.AppID); n != 0 {
		t.Fatalf("admin consent's back recorded %d grants", n)
	}

	pol := tenant.DefaultPolicy()
	pol.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = nil
	if _, err := p.dir.SetAuthorizationPolicy(p.ctx, tenantry.System(), p.tenant.ID, pol); err != nil {
		t.Fatal(err)
	}
	bb := p.browser()
	pg = bb.get(p.authorizePath() + "?" + p.authorizeQuery(p.desktop.AppID, loopbackRequest, "query", "s", "n").Encode())
	pg = bb.submit(pg, "signin-form", url.Values{"username": {"boss@contoso.onmicrosoft.com"}, "password": {adminPassword}})
	if !strings.Contains(pg.body, `id="accept"`) {
		t.Fatalf("consent page:\n%s", pg.body)
	}
	// The administrator's consent page posted with back (the approval
	// page's button, had the page been one) records nothing.
	got = redirectParams(t, bb.submit(pg, "consent-form", url.Values{"tenantry_step": {"back"}}), loopbackRequest)
	if got.Get("code") != "" || got.Get("error") != "access_denied" {
		t.Errorf("authorization's back: %v", got)
	}
	if n := p.grantsOf(p.desktop.AppID); n != 0 {
		t.Fatalf("authorization's back recorded %d grants", n)
	}
}

package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
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

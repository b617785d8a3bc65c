package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/tenant"
)

func TestAdminConsentOverHTTP(t *testing.T) {
	p := newPagesFixture(t, nil)
	for _, c := range []struct {
		name, path string
		scope      string
	}{
		{"v1", "/adminconsent", ""},
		{"v2", "/v2.0/adminconsent", notesURI + "/.default"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPagesFixture(t, nil)
			c.path = "/" + p.tenant.ID + c.path
			b := p.browser()
			q := url.Values{"client_id": {p.web.AppID}, "redirect_uri": {webRedirect}, "state": {longState}}
			if c.scope != "" {
				q.Set("scope", c.scope)
			}
			pg := b.get(c.path + "?" + q.Encode())
			pg = b.submit(pg, "signin-form", url.Values{"username": {"boss@contoso.onmicrosoft.com"}, "password": {adminPassword}})
			if pg.status != http.StatusOK || !strings.Contains(pg.body, "Consent on behalf of your organization") || !strings.Contains(pg.body, "Read all users&#39; notes") {
				t.Fatalf("admin consent page: %d\n%s", pg.status, pg.body)
			}
			got := redirectParams(t, b.submit(pg, "consent-form", url.Values{"tenantry_step": {"accept"}}), webRedirect+"?")
			if got.Get("admin_consent") != "True" || got.Get("tenant") != p.tenant.ID || got.Get("state") != longState || got.Get("scope") != c.scope {
				t.Fatalf("redirect %v", got)
			}
			if n := p.grantsOf(p.web.AppID); n == 0 {
				t.Fatal("admin consent recorded no grant")
			}
			// Alice now signs in without a consent page.
			ab := p.browser()
			pg = ab.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
			got = redirectParams(t, ab.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}}), webRedirect+"?")
			if got.Get("code") == "" {
				t.Fatalf("after admin consent: %v", got)
			}
		})
	}
	// Open redirects are refused with a page; a non-administrator gets the
	// admin-approval page, and going back redirects with the refusal.
	pg := p.browser().get("/" + p.tenant.ID + "/adminconsent?" + url.Values{"client_id": {p.web.AppID}, "redirect_uri": {"https://evil.example/"}}.Encode())
	if pg.status != http.StatusBadRequest || pg.header.Get("Location") != "" || !strings.Contains(pg.body, "AADSTS50011") {
		t.Fatalf("open redirect: %d %v", pg.status, pg.header)
	}
	b := p.browser()
	pg = b.get("/" + p.tenant.ID + "/adminconsent?" + url.Values{"client_id": {p.web.AppID}, "redirect_uri": {webRedirect}, "state": {"x"}}.Encode())
	pg = b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	if !strings.Contains(pg.body, "Need admin approval") {
		t.Fatalf("non-administrator: %d\n%s", pg.status, pg.body)
	}
	got := redirectParams(t, b.submit(pg, "approval-form", url.Values{"tenantry_step": {"back"}}), webRedirect+"?")
	if got.Get("error") == "" || got.Get("admin_consent") != "" || got.Get("state") != "x" {
		t.Fatalf("back: %v", got)
	}
}

func TestNeedAdminApproval(t *testing.T) {
	p := newPagesFixture(t, nil)
	pol := tenant.DefaultPolicy()
	pol.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = nil
	if _, err := p.dir.SetAuthorizationPolicy(p.ctx, tenantry.System(), p.tenant.ID, pol); err != nil {
		t.Fatal(err)
	}
	b := p.browser()
	pg := b.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
	pg = b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	if !strings.Contains(pg.body, "Need admin approval") || strings.Contains(pg.body, `id="accept"`) {
		t.Fatalf("approval page:\n%s", pg.body)
	}
	got := redirectParams(t, b.submit(pg, "approval-form", url.Values{"tenantry_step": {"back"}}), webRedirect+"?")
	if got.Get("error") != "access_denied" || !strings.HasPrefix(got.Get("error_description"), "AADSTS65004") || got.Get("state") != "s" {
		t.Fatalf("back to the app: %v", got)
	}
	// The administrator consents on behalf of the organization from the
	// authorization's consent page.
	ab := p.browser()
	pg = ab.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
	pg = ab.submit(pg, "signin-form", url.Values{"username": {"boss@contoso.onmicrosoft.com"}, "password": {adminPassword}})
	if !strings.Contains(pg.body, `id="org-consent"`) {
		t.Fatalf("admin's consent page has no organization checkbox:\n%s", pg.body)
	}
	if got := redirectParams(t, ab.submit(pg, "consent-form", url.Values{"tenantry_step": {"accept"}, "org_consent": {"on"}}), webRedirect+"?"); got.Get("code") == "" {
		t.Fatalf("admin accept: %v", got)
	}
	pg = b.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s3", "n").Encode())
	if got := redirectParams(t, pg, webRedirect+"?"); got.Get("code") == "" {
		t.Fatalf("alice after the organization's consent: %v", got)
	}
}

func TestDeviceFlowOverHTTP(t *testing.T) {
	p := newPagesFixture(t, nil)
	start := func() map[string]any {
		status, _, da := p.post("/"+p.tenant.ID+"/oauth2/v2.0/devicecode", url.Values{"client_id": {p.desktop.AppID}, "scope": {notesURI + "/Notes.Read openid offline_access"}})
		if status != http.StatusOK {
			t.Fatalf("devicecode: %d %v", status, da)
		}
		return da
	}
	poll := func(da map[string]any) (int, map[string]any) {
		status, _, body := p.post("/"+p.tenant.ID+"/oauth2/v2.0/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {p.desktop.AppID}, "device_code": {da["device_code"].(string)}})
		return status, body
	}
	da := start()
	if da["verification_uri"] != p.base+"/devicelogin" {
		t.Fatalf("verification_uri %v", da["verification_uri"])
	}
	b := p.browser()
	pg := b.get("/devicelogin")
	if !strings.Contains(pg.body, `id="usercode"`) {
		t.Fatalf("device page:\n%s", pg.body)
	}
	wrong := b.submit(pg, "devicecode-form", url.Values{"user_code": {"BCDFGHJKL"}})
	if !strings.Contains(wrong.body, tenantry.Refuse(tenantry.RefuseBadUserCode, "").ErrorDescription) || !strings.Contains(wrong.body, `id="usercode"`) {
		t.Fatalf("wrong code:\n%s", wrong.body)
	}
	pg = b.submit(wrong, "devicecode-form", url.Values{"user_code": {da["user_code"].(string)}})
	pg = b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	if !strings.Contains(pg.body, "Are you trying to sign in to Notes Desktop?") {
		t.Fatalf("confirmation:\n%s", pg.body)
	}
	if status, body := poll(da); status != http.StatusBadRequest || body["error"] != "authorization_pending" {
		t.Fatalf("before approval: %d %v", status, body)
	}
	done := b.submit(pg, "deviceconfirm-form", url.Values{"tenantry_step": {"continue"}})
	if !strings.Contains(done.body, "You have signed in") {
		t.Fatalf("done:\n%s", done.body)
	}
	if status, body := poll(da); status != http.StatusOK || body["access_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("after approval: %d %v", status, body)
	}
	// Signed in already: a second code goes straight to the confirmation;
	// Cancel declines it.
	da = start()
	pg = b.submit(b.get("/devicelogin"), "devicecode-form", url.Values{"user_code": {da["user_code"].(string)}})
	if !strings.Contains(pg.body, "Are you trying to sign in") {
		t.Fatalf("second code:\n%s", pg.body)
	}
	b.submit(pg, "deviceconfirm-form", url.Values{"tenantry_step": {"cancel"}})
	if status, body := poll(da); status != http.StatusBadRequest || body["error"] != "authorization_declined" {
		t.Fatalf("after denial: %d %v", status, body)
	}
	// A post without the anti-forgery token is refused.
	if got := b.post("/devicelogin", url.Values{"tenantry_step": {"code"}, "user_code": {"BCDFGHJKL"}}); got.status != http.StatusForbidden {
		t.Errorf("forged post: %d", got.status)
	}
}

func TestLogoutFollowsOnlyRegisteredURIs(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	pg := b.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
	b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	logout := "/" + p.tenant.ID + "/oauth2/v2.0/logout?"
	evil := b.get(logout + url.Values{"post_logout_redirect_uri": {"https://evil.example/"}, "client_id": {p.web.AppID}}.Encode())
	if evil.status != http.StatusOK || evil.header.Get("Location") != "" || !strings.Contains(evil.body, "You signed out") {
		t.Fatalf("open redirect: %d %v", evil.status, evil.header)
	}
	if !strings.Contains(strings.Join(evil.header["Set-Cookie"], "\n"), "__Host-tenantry_session=;") {
		t.Errorf("session not cleared: %v", evil.header["Set-Cookie"])
	}
	// Without a client the URI is not followed either.
	if pg := b.get(logout + url.Values{"post_logout_redirect_uri": {webRedirect}}.Encode()); pg.header.Get("Location") != "" {
		t.Errorf("followed without a client: %v", pg.header)
	}
	got := redirectParams(t, b.get(logout+url.Values{"post_logout_redirect_uri": {webRedirect}, "client_id": {p.web.AppID}, "state": {"bye"}}.Encode()), webRedirect+"?")
	if got.Get("state") != "bye" {
		t.Errorf("logout redirect %v", got)
	}
	hint := "eyJhbGciOiJub25lIn0." + b64(`{"aud":"`+p.desktop.AppID+`"}`) + ".sig"
	redirectParams(t, b.get(logout+url.Values{"post_logout_redirect_uri": {loopbackRequest}, "id_token_hint": {hint}}.Encode()), loopbackRequest)
	// Signed out: prompt=none needs a sign-in again.
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n")
	q.Set("prompt", "none")
	if got := redirectParams(t, b.get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?"); got.Get("error") != "login_required" {
		t.Errorf("after logout: %v", got)
	}
}

var usernameValue = regexp.MustCompile(`(id="username"[^>]*value=")[^"]*"`)

func TestSignInMessages(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	start := b.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
	try := func(user, password string) string {
		pg := b.submit(start, "signin-form", url.Values{"username": {user}, "password": {password}})
		if pg.status != http.StatusOK || !strings.Contains(pg.body, `role="alert"`) {
			t.Fatalf("sign-in refusal: %d\n%s", pg.status, pg.body)
		}
		return usernameValue.ReplaceAllString(pg.body, `$1"`)
	}
	wrong := try("alice@contoso.onmicrosoft.com", "not her password")
	unknown := try("nobody@contoso.onmicrosoft.com", "not her password")
	if wrong != unknown {
		t.Errorf("a wrong password and an unknown user differ:\n%s\n---\n%s", wrong, unknown)
	}
	if !strings.Contains(wrong, "Your account or password is incorrect.") {
		t.Errorf("message:\n%s", wrong)
	}
	for range tenantry.DefaultLockoutThreshold {
		try("alice@contoso.onmicrosoft.com", "still not her password")
	}
	locked := try("alice@contoso.onmicrosoft.com", alicePassword)
	if !strings.Contains(locked, "Your account is locked") {
		t.Errorf("after %d failures:\n%s", tenantry.DefaultLockoutThreshold+1, locked)
	}
	if _, err := p.dir.CreateUser(p.ctx, tenantry.System(), p.tenant.ID, tenantry.UserSpec{UserPrincipalName: "off@contoso.onmicrosoft.com", Password: alicePassword, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	if off := try("off@contoso.onmicrosoft.com", alicePassword); !strings.Contains(off, "disabled") {
		t.Errorf("disabled account:\n%s", off)
	}
}

func TestAutoSignIn(t *testing.T) {
	var asked []server.AutoSignIn
	var p *pagesFixture
	p = newPagesFixture(t, func(f *fixture, cfg *server.Config) {
		cfg.AutoSignIn = func(_ context.Context, req server.AutoSignIn) (string, bool) {
			asked = append(asked, req)
			if req.LoginHint == "alice@contoso.onmicrosoft.com" {
				return p.alice.ID, true
			}
			return "", false
		}
	})
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n")
	q.Set("login_hint", "alice@contoso.onmicrosoft.com")
	// prompt=none is honoured: consent is missing.
	q.Set("prompt", "none")
	if got := redirectParams(t, p.browser().get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?"); got.Get("error") != "interaction_required" {
		t.Fatalf("prompt=none: %v", got)
	}
	q.Del("prompt")
	got := redirectParams(t, p.browser().get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?")
	if got.Get("code") == "" || p.grantsOf(p.web.AppID) == 0 {
		t.Fatalf("auto sign-in: %v", got)
	}
	if len(asked) != 2 || asked[1].ClientID != p.web.AppID || asked[1].Tenant != p.tenant.ID {
		t.Errorf("asked %+v", asked)
	}
	// Declined: the sign-in page.
	q.Set("login_hint", "someone@else.example")
	if pg := p.browser().get(p.authorizePath() + "?" + q.Encode()); !strings.Contains(pg.body, `id="signin"`) {
		t.Errorf("declined auto sign-in: %d", pg.status)
	}
}

func TestErrorCodePageAndStyleSheet(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	pg := b.get("/error?code=50011")
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "does not match the redirect URIs") || !strings.Contains(pg.body, `lang="en"`) {
		t.Fatalf("error page: %d\n%s", pg.status, pg.body)
	}
	if pg := b.get("/error?code=1"); pg.status != http.StatusNotFound {
		t.Errorf("unknown code: %d", pg.status)
	}
	css := b.get("/static/tenantry.css")
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, ":focus-visible") {
		t.Fatalf("style sheet: %d %v", css.status, css.header)
	}
	// The JSON errors point to the page.
	_, _, body := p.get("/nowhere.example/v2.0/.well-known/openid-configuration")
	if body["error_uri"] != p.base+"/error?code=90002" {
		t.Errorf("error_uri %v", body["error_uri"])
	}
	// Pages load nothing from elsewhere.
	for _, path := range []string{"/devicelogin", "/error?code=50011", p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode()} {
		pg := b.get(path)
		if strings.Contains(pg.body, "http://") || strings.Contains(pg.body, "https://") && !strings.Contains(path, "authorize") {
			t.Errorf("%s refers to another site:\n%s", path, pg.body)
		}
	}
}

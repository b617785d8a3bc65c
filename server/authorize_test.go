package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/token"
)

// longState is a state as interactive clients send it: a long base64
// blob with characters that need escaping.
const longState = "eyJpZCI6IjAxMjM0NTY3LTg5YWItNGNkZS05ZjAxLTIzNDU2Nzg5YWJjZCIsIm1ldGEiOnsiaW50ZXJhY3Rpb25UeXBlIjoicmVkaXJlY3QifX0=+/+/=="

// signInAndConsent drives the sign-in and consent pages from an
// authorization request and returns the answer to Accept.
func (b *browser) signInAndConsent(q url.Values, user, password string) page {
	b.t.Helper()
	pg := b.get(b.f.authorizePath() + "?" + q.Encode())
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `id="username"`) || !strings.Contains(pg.body, `autocomplete="current-password"`) {
		b.t.Fatalf("sign-in page: %d\n%s", pg.status, pg.body)
	}
	pg = b.submit(pg, "signin-form", url.Values{"username": {user}, "password": {password}})
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `id="accept"`) {
		b.t.Fatalf("consent page: %d %v\n%s", pg.status, pg.header, pg.body)
	}
	for _, want := range []string{"Read your notes", "Allows the app to read your notes.", "Sign you in", "Notes API", "Publisher: unverified"} {
		if !strings.Contains(pg.body, want) {
			b.t.Errorf("consent page lacks %q", want)
		}
	}
	return b.submit(pg, "consent-form", url.Values{"tenantry_step": {"accept"}})
}

func TestCodeFlowOverHTTP(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", longState, "nonce-123")
	pg := b.signInAndConsent(q, "alice@contoso.onmicrosoft.com", alicePassword)
	got := redirectParams(t, pg, webRedirect+"?")
	if got.Get("state") != longState || got.Get("code") == "" || got.Get("error") != "" {
		t.Fatalf("redirect parameters %v", got)
	}
	status, _, tok := p.post("/"+p.tenant.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {p.web.AppID}, "client_secret": {p.webSecret},
		"code": {got.Get("code")}, "redirect_uri": {webRedirect}, "code_verifier": {testVerifier},
	})
	if status != http.StatusOK {
		t.Fatalf("redeem: %d %v", status, tok)
	}
	if c := claimsOf(t, tok["id_token"].(string)); c["nonce"] != "nonce-123" || c["oid"] != p.alice.ID {
		t.Errorf("ID token claims %v", c)
	}
	v, err := token.NewValidator(p.dir.Issuer().ValidatorConfig(p.notes.AppID, notesURI))
	if err != nil {
		t.Fatal(err)
	}
	pr, err := v.Validate(p.ctx, tok["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Scopes) != 1 || pr.Scopes[0] != "Notes.Read" || pr.ObjectID != p.alice.ID {
		t.Errorf("access token principal %+v", pr)
	}
	// Signed in and consented: the next request goes straight back, and
	// prompt=none too.
	q.Set("prompt", "none")
	q.Set("state", "second")
	again := redirectParams(t, b.get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?")
	if again.Get("code") == "" || again.Get("state") != "second" {
		t.Fatalf("silent request: %v", again)
	}
}

var (
	nonceRE = regexp.MustCompile(`<script nonce="([^"]+)">`)
)

func TestFormPostToLoopbackOnAnyPort(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	q := p.authorizeQuery(p.desktop.AppID, loopbackRequest, "form_post", longState, "n-2")
	pg := b.signInAndConsent(q, "alice@contoso.onmicrosoft.com", alicePassword)
	if pg.status != http.StatusOK {
		t.Fatalf("form_post page: %d %v", pg.status, pg.header)
	}
	action, v := parseForm(t, pg.body, "formpost")
	if action != loopbackRequest || v.Get("state") != longState || v.Get("code") == "" {
		t.Fatalf("form_post form: %s %v", action, v)
	}
	m := nonceRE.FindStringSubmatch(pg.body)
	csp := pg.header.Get("Content-Security-Policy")
	if m == nil || !strings.Contains(csp, "script-src 'nonce-"+m[1]+"'") || !strings.Contains(csp, "form-action 'self' "+loopbackRequest) {
		t.Errorf("script nonce %v, CSP %q", m, csp)
	}
	if !strings.Contains(pg.body, `<noscript>`) || !strings.Contains(pg.body, `id="continue"`) {
		t.Error("no visible submit button without JavaScript")
	}
	status, _, tok := p.post("/"+p.tenant.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {p.desktop.AppID},
		"code": {v.Get("code")}, "redirect_uri": {loopbackRequest}, "code_verifier": {testVerifier},
	})
	if status != http.StatusOK || claimsOf(t, tok["id_token"].(string))["nonce"] != "n-2" {
		t.Fatalf("redeem: %d %v", status, tok)
	}
	// A wrong verifier is refused.
	status, _, _ = p.post("/"+p.tenant.ID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {p.desktop.AppID},
		"code": {v.Get("code")}, "redirect_uri": {loopbackRequest}, "code_verifier": {strings.Repeat("x", 43)},
	})
	if status != http.StatusBadRequest {
		t.Errorf("second redemption with a wrong verifier: %d", status)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	pg := b.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
	pg = b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	var session *http.Cookie
	for _, c := range (&http.Response{Header: pg.header}).Cookies() {
		if c.Name == "__Host-tenantry_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie: %v", pg.header["Set-Cookie"])
	}
	if !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.MaxAge != 8*3600 {
		t.Errorf("session cookie %+v", session)
	}
	if strings.Contains(session.Value, p.alice.ID) {
		t.Error("the session cookie shows the user id in the clear")
	}
	// A tampered cookie is no session: prompt=none answers login_required.
	u, _ := url.Parse(p.base)
	jar := b.c.Jar
	cs := jar.Cookies(u)
	for _, c := range cs {
		if c.Name == "__Host-tenantry_session" {
			c.Value = c.Value[:len(c.Value)-2] + "AA"
			jar.SetCookies(u, []*http.Cookie{c})
		}
	}
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s2", "n")
	q.Set("prompt", "none")
	got := redirectParams(t, b.get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?")
	if got.Get("error") != "login_required" {
		t.Errorf("tampered session: %v", got)
	}
}

func TestPromptNoneWithoutSession(t *testing.T) {
	p := newPagesFixture(t, nil)
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", longState, "n")
	q.Set("prompt", "none")
	got := redirectParams(t, p.browser().get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?")
	if got.Get("error") != "login_required" || !strings.HasPrefix(got.Get("error_description"), "AADSTS50058") || got.Get("state") != longState || got.Get("code") != "" {
		t.Fatalf("prompt=none: %v", got)
	}
	// In fragment mode, the error is in the fragment.
	q.Set("response_mode", "fragment")
	pg := p.browser().get(p.authorizePath() + "?" + q.Encode())
	loc, err := url.Parse(pg.header.Get("Location"))
	if err != nil || pg.status != http.StatusFound || loc.RawQuery != "" {
		t.Fatalf("fragment: %d %q", pg.status, pg.header.Get("Location"))
	}
	if frag, _ := url.ParseQuery(loc.EscapedFragment()); frag.Get("error") != "login_required" || frag.Get("state") != longState {
		t.Fatalf("fragment parameters %v", frag)
	}
	// In form_post mode, the error is posted.
	q.Set("response_mode", "form_post")
	pg = p.browser().get(p.authorizePath() + "?" + q.Encode())
	_, v := parseForm(t, pg.body, "formpost")
	if v.Get("error") != "login_required" || v.Get("state") != longState {
		t.Fatalf("form_post error: %v", v)
	}
}

func TestUnvalidatedRequestsGetAPage(t *testing.T) {
	p := newPagesFixture(t, nil)
	for _, c := range []struct {
		name, path string
		edit       func(url.Values)
		code       string
	}{
		{"redirect mismatch", p.authorizePath(), func(q url.Values) { q.Set("redirect_uri", "https://evil.example/steal") }, "AADSTS50011"},
		{"unknown client", p.authorizePath(), func(q url.Values) { q.Set("client_id", "00000000-1111-4222-8333-444444444444") }, "AADSTS700016"},
		{"unknown tenant", "/nowhere.example/oauth2/v2.0/authorize", func(url.Values) {}, "AADSTS90002"},
		{"duplicate parameter", p.authorizePath(), func(q url.Values) { q.Add("redirect_uri", webRedirect) }, "AADSTS9002313"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n")
			c.edit(q)
			pg := p.browser().get(c.path + "?" + q.Encode())
			if pg.status != http.StatusBadRequest || pg.header.Get("Location") != "" || !strings.HasPrefix(pg.header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %v", pg.status, pg.header)
			}
			if !strings.Contains(pg.body, c.code) || strings.Contains(pg.body, "evil.example") && c.name != "redirect mismatch" {
				t.Errorf("page lacks %s:\n%s", c.code, pg.body)
			}
		})
	}
	// Once the client and redirect URI are valid, errors go there.
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n")
	q.Set("response_type", "token")
	if got := redirectParams(t, p.browser().get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?"); got.Get("error") != "unsupported_response_type" || got.Get("state") != "s" {
		t.Errorf("response_type: %v", got)
	}
	q.Set("response_type", "code")
	q.Set("response_mode", "bogus")
	if got := redirectParams(t, p.browser().get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?"); got.Get("error") != "invalid_request" {
		t.Errorf("response_mode: %v", got)
	}
}

func TestCSRFRefusesForgedPosts(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	pg := b.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
	action, v := parseForm(t, pg.body, "signin-form")
	v.Set("username", "alice@contoso.onmicrosoft.com")
	v.Set("password", alicePassword)
	for name, token := range map[string]string{"none": "", "wrong": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		w := url.Values{}
		for k, vs := range v {
			w[k] = vs
		}
		if token == "" {
			w.Del("tenantry_csrf")
		} else {
			w.Set("tenantry_csrf", token)
		}
		got := b.post(action, w)
		if got.status != http.StatusForbidden || strings.Contains(strings.Join(got.header["Set-Cookie"], ";"), "__Host-tenantry_session=") {
			t.Errorf("%s token: %d %v", name, got.status, got.header)
		}
	}
	// Another browser's token is refused too.
	other := p.browser()
	opg := other.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
	_, ov := parseForm(t, opg.body, "signin-form")
	w := url.Values{}
	for k, vs := range v {
		w[k] = vs
	}
	w.Set("tenantry_csrf", ov.Get("tenantry_csrf"))
	if got := b.post(action, w); got.status != http.StatusForbidden {
		t.Errorf("another browser's token: %d", got.status)
	}
	// Signed in, a forged Accept records no consent.
	pg = b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	action, v = parseForm(t, pg.body, "consent-form")
	v.Set("tenantry_step", "accept")
	v.Del("tenantry_csrf")
	if got := b.post(action, v); got.status != http.StatusForbidden || got.header.Get("Location") != "" {
		t.Fatalf("forged accept: %d %v", got.status, got.header)
	}
	if n := p.grantsOf(p.web.AppID); n != 0 {
		t.Errorf("a forged accept recorded %d grants", n)
	}
}

// grantsOf counts the delegated grants of appID's client in the tenant.
func (p *pagesFixture) grantsOf(appID string) int {
	p.t.Helper()
	sp, err := p.dir.ServicePrincipalByAppID(p.ctx, tenantry.System(), p.tenant.ID, appID)
	if err != nil {
		return 0
	}
	n := 0
	var after string
	for {
		pg, err := p.dir.Grants(p.ctx, tenantry.System(), sp.ID, tenantry.PageRequest{Cursor: after})
		if err != nil {
			p.t.Fatal(err)
		}
		for _, g := range pg.Items {
			if g.ConsentType == consent.Principal || g.ConsentType == consent.AllPrincipals {
				n++
			}
		}
		if pg.Next == "" {
			return n
		}
		after = pg.Next
	}
}

func TestCancelConsent(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	pg := b.get(p.authorizePath() + "?" + p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n").Encode())
	pg = b.submit(pg, "signin-form", url.Values{"username": {"alice@contoso.onmicrosoft.com"}, "password": {alicePassword}})
	got := redirectParams(t, b.submit(pg, "consent-form", url.Values{"tenantry_step": {"cancel"}}), webRedirect+"?")
	if got.Get("error") != "access_denied" || !strings.HasPrefix(got.Get("error_description"), "AADSTS65004") || got.Get("state") != "s" {
		t.Fatalf("cancel: %v", got)
	}
	if n := p.grantsOf(p.web.AppID); n != 0 {
		t.Errorf("a cancelled consent recorded %d grants", n)
	}
}

// A public client's authorization request without PKCE, or with the plain
// method, is refused at its (validated) redirect URI.
func TestPublicClientNeedsPKCE(t *testing.T) {
	var p *pagesFixture
	p = newPagesFixture(t, func(f *fixture, cfg *server.Config) {
		cfg.AutoSignIn = func(_ context.Context, req server.AutoSignIn) (string, bool) { return p.alice.ID, true }
	})
	for name, edit := range map[string]func(url.Values){
		"no code_challenge": func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		"plain":             func(q url.Values) { q.Set("code_challenge", testVerifier); q.Set("code_challenge_method", "plain") },
	} {
		q := p.authorizeQuery(p.desktop.AppID, loopbackRequest, "query", "s-1", "")
		edit(q)
		got := redirectParams(t, p.browser().get(p.authorizePath()+"?"+q.Encode()), loopbackRequest+"?")
		if got.Get("error") != "invalid_request" || !strings.Contains(got.Get("error_description"), "AADSTS9002325") || got.Get("state") != "s-1" || got.Get("code") != "" {
			t.Errorf("%s: %v", name, got)
		}
	}
}

// With a session, prompt=login and prompt=select_account show the sign-in
// page again, prompt=consent the consent page again, and no prompt goes
// straight back with a code.
func TestPromptsWithASession(t *testing.T) {
	p := newPagesFixture(t, nil)
	b := p.browser()
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n")
	redirectParams(t, b.signInAndConsent(q, "alice@contoso.onmicrosoft.com", alicePassword), webRedirect+"?")
	if got := redirectParams(t, b.get(p.authorizePath()+"?"+q.Encode()), webRedirect+"?"); got.Get("code") == "" {
		t.Fatalf("no prompt with a session: %v", got)
	}
	for _, prompt := range []string{"login", "select_account"} {
		q.Set("prompt", prompt)
		pg := b.get(p.authorizePath() + "?" + q.Encode())
		if pg.status != http.StatusOK || !strings.Contains(pg.body, `id="password"`) || pg.header.Get("Location") != "" {
			t.Errorf("prompt=%s: %d, sign-in page %v", prompt, pg.status, strings.Contains(pg.body, `id="password"`))
		}
	}
	q.Set("prompt", "consent")
	pg := b.get(p.authorizePath() + "?" + q.Encode())
	if pg.status != http.StatusOK || !strings.Contains(pg.body, `id="accept"`) {
		t.Errorf("prompt=consent: %d, consent page %v", pg.status, strings.Contains(pg.body, `id="accept"`))
	}
}

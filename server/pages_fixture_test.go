package server_test

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

const (
	scopeNotesRead  = "6e1c3a2b-1f2e-4d3c-9b8a-7f6e5d4c3b2a"
	notesURI        = "api://contoso.onmicrosoft.com/notes"
	webRedirect     = "https://web.example.com/auth"
	alicePassword   = "correct horse battery staple"
	adminPassword   = "administrators' long password"
	testVerifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	loopbackBase    = "http://localhost"
	loopbackRequest = "http://localhost:53123"
)

// pagesFixture adds to the fixture what the pages need: an API publishing
// a delegated scope, a web app and a public client asking for it, a user
// and the administrator with passwords.
type pagesFixture struct {
	*fixture
	notes     application.Application
	web       application.Application
	desktop   application.Application
	webSecret string
	alice     tenant.User
	admin     tenant.User
}

func newPagesFixture(t testing.TB, edit func(*fixture, *server.Config)) *pagesFixture {
	t.Helper()
	f := newFixtureWith(t, edit)
	p := &pagesFixture{fixture: f}
	sys := tenantry.System()
	var err error
	if p.notes, err = f.dir.CreateApplication(f.ctx, sys, f.tenant.ID, application.Application{
		DisplayName: "Notes API", IdentifierURIs: []string{notesURI},
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{{
			ID: scopeNotesRead, Value: "Notes.Read", Type: application.ScopeTypeUser, IsEnabled: true,
			AdminConsentDisplayName: "Read all users' notes", AdminConsentDescription: "Allows the app to read the notes of all users.",
			UserConsentDisplayName: "Read your notes", UserConsentDescription: "Allows the app to read your notes.",
		}}},
	}); err != nil {
		t.Fatal(err)
	}
	rra := []application.RequiredResourceAccess{{ResourceAppID: p.notes.AppID, ResourceAccess: []application.ResourceAccess{{ID: scopeNotesRead, Type: application.AccessScope}}}}
	if p.web, err = f.dir.CreateApplication(f.ctx, sys, f.tenant.ID, application.Application{
		DisplayName: "Notes Web", Web: &application.Web{RedirectURIs: []string{webRedirect}}, RequiredResourceAccess: rra,
	}); err != nil {
		t.Fatal(err)
	}
	pw, err := f.dir.AddPassword(f.ctx, sys, p.web.ID, tenantry.PasswordSpec{DisplayName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	p.webSecret = pw.SecretText
	if p.desktop, err = f.dir.CreateApplication(f.ctx, sys, f.tenant.ID, application.Application{
		DisplayName: "Notes Desktop", PublicClient: &application.RedirectURIs{RedirectURIs: []string{loopbackBase}},
		IsFallbackPublicClient: true, RequiredResourceAccess: rra,
	}); err != nil {
		t.Fatal(err)
	}
	if p.alice, err = f.dir.CreateUser(f.ctx, sys, f.tenant.ID, tenantry.UserSpec{UserPrincipalName: "alice@contoso.onmicrosoft.com", DisplayName: "Alice", Password: alicePassword}); err != nil {
		t.Fatal(err)
	}
	if p.admin, err = f.dir.CreateUser(f.ctx, sys, f.tenant.ID, tenantry.UserSpec{UserPrincipalName: "boss@contoso.onmicrosoft.com", DisplayName: "Boss", Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.AssignDirectoryRole(f.ctx, sys, f.tenant.ID, tenantry.DirectoryRoleSpec{PrincipalID: p.admin.ID, RoleID: tenant.RoleGlobalAdministrator}); err != nil {
		t.Fatal(err)
	}
	return p
}

// browser is a user agent with cookies that does not follow redirects.
type browser struct {
	t testing.TB
	f *pagesFixture
	c *http.Client
}

func (p *pagesFixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: p.client.Transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: p.t, f: p, c: c}
}

// page is an answer: status, headers and body.
type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	pg := page{resp.StatusCode, resp.Header, string(raw)}
	if strings.HasPrefix(pg.header.Get("Content-Type"), "text/html") {
		checkPageHeaders(b.t, req.URL.Path, pg.header)
	}
	return pg
}

func (b *browser) get(pathAndQuery string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.f.base+pathAndQuery, nil)
	return b.do(req)
}

func (b *browser) post(path string, v url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.f.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submit posts the page's form (the first, or the one with id) with its
// hidden fields, the extra values and the button pressed (name=value).
func (b *browser) submit(pg page, formID string, extra url.Values) page {
	b.t.Helper()
	action, v := parseForm(b.t, pg.body, formID)
	for k, vs := range extra {
		v[k] = vs
	}
	return b.post(action, v)
}

var (
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)" id="([^"]*)">(.*?)</form>`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// parseForm returns the action and hidden fields of form formID.
func parseForm(t testing.TB, body, formID string) (string, url.Values) {
	t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(body, -1) {
		if formID != "" && m[2] != formID {
			continue
		}
		v := url.Values{}
		for _, h := range hiddenRE.FindAllStringSubmatch(m[3], -1) {
			v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		return html.UnescapeString(m[1]), v
	}
	t.Fatalf("no form %q in\n%s", formID, body)
	return "", nil
}

// checkPageHeaders checks the security headers every page carries.
func checkPageHeaders(t testing.TB, path string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "img-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "*") {
		t.Errorf("%s: CSP %q is permissive", path, csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: headers %v", path, h)
	}
}

// authorizeQuery is an authorization request of client at redirect.
func (p *pagesFixture) authorizeQuery(client, redirect, mode, state, nonce string) url.Values {
	return url.Values{
		"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"}, "response_mode": {mode},
		"scope": {notesURI + "/Notes.Read openid profile offline_access"}, "state": {state}, "nonce": {nonce},
		"code_challenge": {token.S256Challenge(testVerifier)}, "code_challenge_method": {"S256"},
		// Parameters clients send that the server ignores.
		"client_info": {"1"}, "x-client-SKU": {"MSAL.Go"}, "x-client-VER": {"1.4.2"}, "claims": {`{"access_token":{"xms_cc":{"values":["CP1"]}}}`},
		"client-request-id": {"0f5e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"},
	}
}

func (p *pagesFixture) authorizePath() string { return "/" + p.tenant.ID + "/oauth2/v2.0/authorize" }

// redirectParams returns the query parameters of a redirect to prefix.
func redirectParams(t testing.TB, pg page, prefix string) url.Values {
	t.Helper()
	loc := pg.header.Get("Location")
	if pg.status != http.StatusFound || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("want a redirect to %s, got %d %q\n%s", prefix, pg.status, loc, pg.body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// claimsOf decodes a JWT's payload (its signature is checked elsewhere).
func claimsOf(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

package tenantrytest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/token"
)

// Queued users are signed in first, one per request, in order; then the
// login_hint's user (any letter case); else nobody.
func TestAutoSignInDecision(t *testing.T) {
	srv := NewServer(t)
	contoso := srv.CreateTenant("Contoso")
	ada, bob := srv.CreateUser(contoso, "ada"), srv.CreateUser(contoso, "bob")
	ctx := context.Background()
	srv.QueueSignIn(bob, ada)
	hinted := strings.ToUpper(ada.UserPrincipalName)
	for i, want := range []string{bob.ID, ada.ID, ada.ID} {
		if got, ok := srv.autoSignIn(ctx, hinted); !ok || got != want {
			t.Errorf("request %d signed in %q (%v), want %q", i, got, ok, want)
		}
	}
	for _, hint := range []string{"", "nobody@contoso.onmicrosoft.com", strings.Repeat("a", 300)} {
		if got, ok := srv.autoSignIn(ctx, hint); ok {
			t.Errorf("login_hint %.20q signed in %q", hint, got)
		}
	}
}

// WithoutLoginHintSignIn ignores login_hint; queued users still sign in.
func TestWithoutLoginHintSignIn(t *testing.T) {
	srv := NewServer(t, WithoutLoginHintSignIn())
	contoso := srv.CreateTenant("Contoso")
	ada := srv.CreateUser(contoso, "ada")
	ctx := context.Background()
	if got, ok := srv.autoSignIn(ctx, ada.UserPrincipalName); ok {
		t.Errorf("login_hint signed in %q", got)
	}
	srv.QueueSignIn(ada)
	if got, ok := srv.autoSignIn(ctx, ""); !ok || got != ada.ID {
		t.Errorf("queued sign-in: %q %v", got, ok)
	}
}

// The authorize endpoint redirects with a code, without a page, for the
// login_hint's user; the code redeems with PKCE at the token endpoint.
func TestAuthorizeSignsInWithoutAPage(t *testing.T) {
	srv := NewServer(t)
	contoso := srv.CreateTenant("Contoso")
	api := srv.CreateAPI(contoso, "Orders", Scopes("Orders.Read"))
	app := srv.CreateApp(contoso, "Web")
	ada := srv.CreateUser(contoso, "ada")
	verifier := opaque()
	q := url.Values{
		"client_id": {app.AppID}, "response_type": {"code"}, "redirect_uri": {"https://localhost/callback"},
		"scope": {api.Scope("Orders.Read")}, "state": {"s1"}, "login_hint": {ada.UserPrincipalName},
		"code_challenge": {token.S256Challenge(verifier)}, "code_challenge_method": {"S256"},
	}
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(srv.Authority(contoso.ID) + "/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Fatalf("authorize: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := c.PostForm(srv.Authority(contoso.ID)+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {app.AppID}, "client_secret": {srv.AddSecret(app)},
		"code": {loc.Query().Get("code")}, "redirect_uri": {"https://localhost/callback"}, "code_verifier": {verifier},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok.Body.Close()
	if tok.StatusCode != http.StatusOK {
		t.Fatalf("redemption: %d", tok.StatusCode)
	}
}

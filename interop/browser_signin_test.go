package interop_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenantrytest"
)

// webFlow is a web app's authorization code flow with PKCE whose redirect
// URI is a loopback callback the browser lands on.
type webFlow struct {
	e        *env
	app      application.Application
	cb       *callback
	cfg      oauth2.Config
	verifier string
}

// newWebFlow registers a web app (http://localhost/callback, the Orders
// API's delegated scope) with its callback; nobody has consented to it.
func (e *env) newWebFlow() *webFlow {
	e.t.Helper()
	app, secret := e.webApp("http://localhost/callback")
	cb := newCallback(e.t)
	return &webFlow{e: e, app: app, cb: cb, verifier: oauth2.GenerateVerifier(), cfg: oauth2.Config{
		ClientID: app.AppID, ClientSecret: secret, RedirectURL: cb.uri(),
		Endpoint: oauth2.Endpoint{AuthURL: e.authority(e.contoso.ID) + "/oauth2/v2.0/authorize", TokenURL: e.authority(e.contoso.ID) + "/oauth2/v2.0/token"},
		Scopes:   []string{"openid", "profile", "offline_access", apiURI + "/Orders.Read"},
	}}
}

// authURL is the authorization request's URL with this state.
func (f *webFlow) authURL(state string, opts ...oauth2.AuthCodeOption) string {
	return f.cfg.AuthCodeURL(state, append(opts, oauth2.S256ChallengeOption(f.verifier))...)
}

// redeem exchanges the code at the token endpoint with the test's HTTP
// client and returns the access token's principal.
func (f *webFlow) redeem(code string) string {
	f.e.t.Helper()
	tok, err := f.cfg.Exchange(context.WithValue(f.e.ctx, oauth2.HTTPClient, f.e.client), code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		f.e.t.Fatalf("redeeming the code: %v", err)
	}
	return f.e.validate(tok.AccessToken).ObjectID
}

// signIn types the user name and password on the sign-in page with the
// keyboard and presses Sign in.
func (b *tab) signIn(upn, password string) {
	b.t.Helper()
	b.do("waiting for the sign-in page", chromedp.WaitVisible(chromedp.ID("signin")))
	b.submit("signing in as "+upn,
		chromedp.SendKeys(chromedp.ID("username"), upn),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("signin")),
	)
}

// landed waits for the app's callback page and returns what the browser
// brought there.
func (b *tab) landed(cb *callback) url.Values {
	b.t.Helper()
	b.do("waiting for the redirect URI", chromedp.WaitVisible(chromedp.ID("landed")))
	return cb.next(b.t)
}

// The sign-in page in a real browser: a wrong password shows the error in
// the aria-live region and stays on the page with the user name kept; the
// right password goes on to the consent page, which lists the permission
// with its user consent text; Accept lands at the redirect URI with a code
// and the state, and the code redeems for a token of the user.
func TestBrowserSignInAndUserConsent(t *testing.T) {
	e := newEnv(t, tenantrytest.WithoutLoginHintSignIn())
	f := e.newWebFlow()
	alice := e.user("alice@"+e.contoso.VerifiedDomains[0].Name, "Alice-Passw0rd!")
	b := e.newTab()

	b.do("opening the authorize URL", chromedp.Navigate(f.authURL("state-α 1")), chromedp.WaitVisible(chromedp.ID("username")))
	if got := b.text("#error"); got != "" {
		t.Fatalf("the sign-in page starts with an error: %q", got)
	}
	b.screenshot("signin")
	b.signIn(alice.UserPrincipalName, "not-her-password")
	b.do("waiting for the sign-in error", chromedp.WaitVisible(chromedp.ID("error")))
	if msg := b.text("#error"); !strings.Contains(msg, "Your account or password is incorrect.") {
		t.Fatalf("wrong password: error region says %q", msg)
	}
	if live := eval[string](b, `document.getElementById("error").getAttribute("aria-live")`); live == "" {
		t.Fatal("the error region has no aria-live")
	}
	if got := run(b, "reading the user name", chromedp.Value(chromedp.ID("username"))); got != alice.UserPrincipalName {
		t.Fatalf("user name after a wrong password: %q", got)
	}
	if ok := eval[bool](b, `!!document.getElementById("signin") && !document.getElementById("accept")`); !ok {
		t.Fatal("a wrong password left the sign-in page")
	}
	b.screenshot("signin-error")
	b.do("clearing the password", chromedp.Clear(chromedp.ID("password")))
	b.submit("signing in with the right password",
		chromedp.SendKeys(chromedp.ID("password"), "Alice-Passw0rd!"),
		chromedp.Click(chromedp.ID("signin")))

	b.do("waiting for the consent page", chromedp.WaitVisible(chromedp.ID("accept")))
	perms := b.text(".permissions")
	if !strings.Contains(perms, "Read your orders") || strings.Contains(perms, "Read the signed-in user's orders") {
		t.Fatalf("the consent page lists %q, want the user consent texts", perms)
	}
	if n := eval[int](b, `document.querySelectorAll("#org-consent").length`); n != 0 {
		t.Fatal("a user who is not an administrator is offered consent for the organization")
	}
	b.screenshot("consent-user")
	b.submit("accepting", chromedp.Click(chromedp.ID("accept")))
	got := b.landed(f.cb)
	if got.Get("state") != "state-α 1" || got.Get("code") == "" || got.Get("error") != "" {
		t.Fatalf("the redirect URI got %v", got)
	}
	if oid := f.redeem(got.Get("code")); oid != alice.ID {
		t.Fatalf("the code is for %s, want %s", oid, alice.ID)
	}
}

// Cancel on the consent page sends the browser to the redirect URI with
// access_denied (AADSTS65004) and the state, and grants nothing.
func TestBrowserConsentCancel(t *testing.T) {
	e := newEnv(t, tenantrytest.WithoutLoginHintSignIn())
	f := e.newWebFlow()
	alice := e.user("alice@"+e.contoso.VerifiedDomains[0].Name, "Alice-Passw0rd!")
	b := e.newTab()
	b.do("opening the authorize URL", chromedp.Navigate(f.authURL("s-cancel")))
	b.signIn(alice.UserPrincipalName, "Alice-Passw0rd!")
	b.do("waiting for the consent page", chromedp.WaitVisible(chromedp.ID("cancel")))
	b.submit("cancelling", chromedp.Click(chromedp.ID("cancel")))
	got := b.landed(f.cb)
	if got.Get("error") != "access_denied" || !strings.Contains(got.Get("error_description"), "AADSTS65004") || got.Get("state") != "s-cancel" || got.Get("code") != "" {
		t.Fatalf("the redirect URI got %v", got)
	}
	if grants := e.grants(e.contoso.ID, f.app.AppID); len(grants) != 0 {
		t.Fatalf("cancelled consent left grants %+v", grants)
	}
}

package interop_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

// noRedirects is the test's HTTP client that stops at the first redirect,
// as a test of the answer needs.
func (e *env) noRedirects() *http.Client {
	return &http.Client{Transport: e.client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// golang.org/x/oauth2's authorization code flow with PKCE (S256): the
// authorize endpoint signs the login_hint's user in without a page and
// redirects with the code; Exchange redeems it with the verifier, and
// go-oidc verifies the ID token's nonce.
func TestOAuth2AuthorizationCodePKCE(t *testing.T) {
	e := newEnv(t)
	const redirect = "https://web.contoso.com/signin-oidc"
	app, secret := e.webApp(redirect)
	e.consent(e.contoso.ID, app)
	alice := e.user("alice@"+e.contoso.VerifiedDomains[0].Name, "Alice-Passw0rd!")
	cfg := oauth2.Config{ClientID: app.AppID, ClientSecret: secret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: e.base + "/" + e.contoso.ID + "/oauth2/v2.0/authorize", TokenURL: e.base + "/" + e.contoso.ID + "/oauth2/v2.0/token"},
		Scopes:   []string{"openid", "profile", "offline_access", apiURI + "/Orders.Read"}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-42", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("login_hint", alice.UserPrincipalName), oauth2.SetAuthURLParam("nonce", "n-42"))
	resp, err := e.noRedirects().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("authorize answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "state-42" {
		t.Fatalf("state %q", loc.Query().Get("state"))
	}
	ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.client)
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if p := e.validate(tok.AccessToken); p.ObjectID != alice.ID || tok.RefreshToken == "" {
		t.Fatalf("principal %+v, refresh token %v", p, tok.RefreshToken != "")
	}
	raw, _ := tok.Extra("id_token").(string)
	provider, err := oidc.NewProvider(oidc.ClientContext(e.ctx, e.client), e.base+"/"+e.contoso.ID+"/v2.0")
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: app.AppID}).Verify(oidc.ClientContext(e.ctx, e.client), raw)
	if err != nil || idt.Nonce != "n-42" {
		t.Fatalf("ID token: %v (nonce %q)", err, idt.Nonce)
	}
	// A second exchange of the same code is refused (AADSTS54005).
	_, err = cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "AADSTS54005") {
		t.Fatalf("replayed code: %v", err)
	}
	// A wrong verifier is refused (AADSTS50148).
	verifier2 := oauth2.GenerateVerifier()
	resp, err = e.noRedirects().Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier2), oauth2.SetAuthURLParam("login_hint", alice.UserPrincipalName)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	_, err = cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if !errors.As(err, &re) || !strings.Contains(re.ErrorDescription, "AADSTS50148") {
		t.Fatalf("wrong verifier: %v", err)
	}
}

// formPost reads the auto-submitting form of a form_post answer and
// submits it as a browser without JavaScript would (its Continue button).
func formPost(client *http.Client, body string) (*http.Response, error) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	var action string
	form := url.Values{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch {
			case n.Data == "form" && action == "":
				action = attr["action"]
			case n.Data == "input" && attr["type"] == "hidden" && attr["name"] != "":
				form.Set(attr["name"], attr["value"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if action == "" {
		return nil, errors.New("no form in the answer")
	}
	return client.PostForm(action, form)
}

// MSAL Go's public client, unmodified, signs in interactively: PKCE,
// response_mode=form_post to its loopback listener on a random port,
// prompt=select_account; the "browser" is the test's HTTP client, which
// submits the form_post page to the listener. Then a silent call from the
// cache and a silent refresh.
func TestMSALPublicClientInteractive(t *testing.T) {
	e := newEnv(t)
	app := e.desktop()
	e.consent(e.contoso.ID, app)
	alice := e.user("alice@"+e.contoso.VerifiedDomains[0].Name, "Alice-Passw0rd!")
	c := e.publicClient(app.AppID)
	scopes := []string{apiURI + "/Orders.Read"}
	var asked *url.URL
	open := func(u string) error {
		asked, _ = url.Parse(u)
		resp, err := e.noRedirects().Get(u)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New("authorize answered " + resp.Status)
		}
		posted, err := formPost(http.DefaultClient, string(body))
		if err != nil {
			return err
		}
		posted.Body.Close()
		return nil
	}
	r, err := c.AcquireTokenInteractive(e.ctx, scopes, public.WithLoginHint(alice.UserPrincipalName), public.WithOpenURL(open))
	if err != nil {
		t.Fatal(err)
	}
	q := asked.Query()
	if q.Get("response_mode") != "form_post" || q.Get("code_challenge_method") != "S256" || !strings.HasPrefix(q.Get("redirect_uri"), "http://localhost:") {
		t.Fatalf("MSAL asked %v", q)
	}
	if p := e.validate(r.AccessToken); p.ObjectID != alice.ID {
		t.Fatalf("principal %+v", p)
	}
	before := e.requests("token")
	if s, err := c.AcquireTokenSilent(e.ctx, scopes, public.WithSilentAccount(r.Account)); err != nil || s.AccessToken != r.AccessToken || e.requests("token") != before {
		t.Fatalf("silent call from the cache: %v", err)
	}
	s, err := c.AcquireTokenSilent(e.ctx, scopes, public.WithSilentAccount(r.Account), public.WithClaims(`{"access_token":{"xms_cc":{"values":["CP1"]}}}`))
	if err != nil || e.requests("token") != before+1 {
		t.Fatalf("silent refresh: %v", err)
	}
	e.validate(s.AccessToken)
}

package tenantrytest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/token"
)

// The token helpers run a flow through the Server's Issuer in process, as
// the token endpoint would for a client: everything the model refuses is
// refused, with the *tenantry.TokenError a real tenant's AADSTS code names.
// They make only what a client brings itself — a client secret when the
// app has none from this Server, a PKCE verifier, a nonce — and grant
// nothing: consent with Grant or Consent first, as an administrator would
// (a user's own consent at sign-in is recorded where the tenant allows it,
// as Entra does).

// AppToken returns an app-only access token for api, obtained by the app in
// the tenant with client credentials ("{api}/.default") and a client
// secret. It fails t with the AADSTS error when the tenant refuses, e.g.
// when the app has no service principal there (700016) or is not
// consented to.
func (s *Server) AppToken(t testing.TB, in Tenant, app, api App) string {
	t.Helper()
	resp, err := s.RequestAppToken(context.Background(), in, app, api)
	if err != nil {
		t.Fatalf("tenantrytest: app token for %q from %q in %q: %v", api.Name, app.Name, in.Name, err)
	}
	return resp.AccessToken
}

// RequestAppToken is [Server.AppToken] returning the token response, or
// the refusal as a *tenantry.TokenError.
func (s *Server) RequestAppToken(ctx context.Context, in Tenant, app, api App) (*tenantry.TokenResponse, error) {
	secret, err := s.secret(ctx, app)
	if err != nil {
		return nil, err
	}
	return s.dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: in.ID, EndpointVersion: token.Version2, GrantType: tenantry.GrantClientCredentials,
		ClientID: app.AppID, ClientSecret: secret, Scope: api.Default(),
	})
}

// UserToken returns an access token for the user, obtained by the app with
// the authorization code flow and PKCE at the user's tenant: Authorize as
// the signed-in user (recording her consent where the tenant allows it),
// then the code's redemption at the token endpoint (with a client secret
// when the redirect URI is a web app's). scopes are the scope parameter's
// values, such as api.Scope("Orders.Read") or "openid"; none means
// "openid profile". It fails t with the AADSTS error when the tenant
// refuses.
func (s *Server) UserToken(t testing.TB, app App, user User, scopes ...string) string {
	t.Helper()
	resp, err := s.RequestUserToken(context.Background(), app, user, scopes...)
	if err != nil {
		t.Fatalf("tenantrytest: user token of %q for %q: %v", user.UserPrincipalName, app.Name, err)
	}
	return resp.AccessToken
}

// RequestUserToken is [Server.UserToken] returning the token response
// (with ID and refresh tokens when the scopes ask for them), or the
// refusal as a *tenantry.TokenError.
func (s *Server) RequestUserToken(ctx context.Context, app App, user User, scopes ...string) (*tenantry.TokenResponse, error) {
	a, err := s.dir.Application(ctx, tenantry.System(), app.ID)
	if err != nil {
		return nil, err
	}
	redirect := firstRedirectURI(a)
	if redirect == "" {
		return nil, fmt.Errorf("tenantrytest: %q has no redirect URI for the authorization code flow (see RedirectURIs, Public, SPA)", app.Name)
	}
	scope := strings.Join(scopes, " ")
	if scope == "" {
		scope = "openid profile"
	}
	verifier, nonce := opaque(), opaque()
	iss := s.dir.Issuer()
	az, err := iss.Authorize(ctx, tenantry.AuthorizeRequest{
		Tenant: user.TenantID, EndpointVersion: token.Version2, ClientID: app.AppID, RedirectURI: redirect,
		ResponseType: "code", Scope: scope, Nonce: nonce, UserID: user.ID,
		CodeChallenge: token.S256Challenge(verifier), CodeChallengeMethod: "S256",
	})
	if err != nil {
		return nil, err
	}
	req := tenantry.TokenRequest{
		Tenant: user.TenantID, EndpointVersion: token.Version2, GrantType: tenantry.GrantAuthorizationCode,
		ClientID: app.AppID, Code: az.Code, RedirectURI: redirect, CodeVerifier: verifier, Scope: scope,
	}
	if az.Platform == application.PlatformWeb {
		if req.ClientSecret, err = s.secret(ctx, app); err != nil {
			return nil, err
		}
	}
	return iss.Token(ctx, req)
}

// firstRedirectURI returns the app's first redirect URI: web, then spa,
// then publicClient.
func firstRedirectURI(a application.Application) string {
	for _, p := range []application.RedirectURIPlatform{application.PlatformWeb, application.PlatformSPA, application.PlatformPublic} {
		if uris := a.RedirectURIsOf(p); len(uris) > 0 {
			return uris[0]
		}
	}
	return ""
}

// secret returns the last secret this Server added to the app, adding one
// when there is none.
func (s *Server) secret(ctx context.Context, app App) (string, error) {
	s.mu.Lock()
	secret, ok := s.secrets[app.AppID]
	s.mu.Unlock()
	if ok {
		return secret, nil
	}
	if app.ID == "" {
		return "", errors.New("tenantrytest: the zero App")
	}
	pw, err := s.dir.AddPassword(ctx, tenantry.System(), app.ID, tenantry.PasswordSpec{DisplayName: "tenantrytest"})
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.secrets[app.AppID] = pw.SecretText
	s.mu.Unlock()
	return pw.SecretText, nil
}

// opaque returns 32 random bytes in base64url: a PKCE verifier or a nonce.
func opaque() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

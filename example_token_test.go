package tenantry_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/token"
)

// Fixed ids, so that the examples print stable issuers and audiences.
const (
	exTenant    = "7d3f1c2a-5b8e-4c1d-9a0f-2e6b4d8c1a30"
	exAPI       = "3b9e2c4d-1a5f-4e8b-9c7d-6f0a2b1c3d4e"
	exDaemon    = "5c1d3e2f-4a6b-4c8d-8e9f-0a1b2c3d4e5f"
	exWebApp    = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	exScopeRead = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
	exRoleSync  = "2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7a8b"
	exRedirect  = "https://orders.contoso.com/auth"
	exVerifier  = "M25iVXpKU3puUjFaYWg3T1NDTDQtcW1ROUY5YXlwalNoc0hhakxifmZHag"
)

var exStart = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

// exSetup builds Contoso with an API (v2 tokens, one delegated scope, one
// application permission), a daemon holding the permission, and a web app
// holding the scope for every user. It returns the directory, the two
// client secrets and the id of user Alice.
func exSetup(ctx context.Context) (dir *tenantry.Directory, daemonSecret, webSecret, alice string) {
	clock := tenantry.NewManualClock(exStart)
	dir, err := tenantry.New(ctx, tenantry.Config{Now: clock.Now, NewID: tenantry.SequentialIDs("example"), Tokens: tenantry.TokenConfig{Algorithm: token.ES256}})
	if err != nil {
		log.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	_, err = dir.CreateTenant(ctx, tenantry.System(), tenantry.TenantSpec{ID: exTenant, DisplayName: "Contoso", Domains: []string{"contoso.com"}})
	must(err)
	u, err := dir.CreateUser(ctx, tenantry.System(), exTenant, tenantry.UserSpec{UserPrincipalName: "alice@contoso.com", DisplayName: "Alice"})
	must(err)
	v2 := 2
	_, err = dir.CreateApplication(ctx, tenantry.System(), exTenant, application.Application{
		AppID: exAPI, DisplayName: "Orders API", IdentifierURIs: []string{"api://" + exAPI},
		API: &application.API{RequestedAccessTokenVersion: &v2, OAuth2PermissionScopes: []application.PermissionScope{
			{ID: exScopeRead, Value: "Orders.Read", Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: "Read orders"},
		}},
		AppRoles: []application.AppRole{{ID: exRoleSync, Value: "Orders.Sync", DisplayName: "Sync", Description: "Sync orders", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	})
	must(err)
	daemon, err := dir.CreateApplication(ctx, tenantry.System(), exTenant, application.Application{
		AppID: exDaemon, DisplayName: "Orders Sync",
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: exAPI, ResourceAccess: []application.ResourceAccess{{ID: exRoleSync, Type: application.AccessRole}}}},
	})
	must(err)
	web, err := dir.CreateApplication(ctx, tenantry.System(), exTenant, application.Application{
		AppID: exWebApp, DisplayName: "Orders Web", SignInAudience: application.AzureADMultipleOrgs, Web: &application.Web{RedirectURIs: []string{exRedirect}},
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: exAPI, ResourceAccess: []application.ResourceAccess{{ID: exScopeRead, Type: application.AccessScope}}}},
	})
	must(err)
	ds, err := dir.AddPassword(ctx, tenantry.System(), daemon.ID, tenantry.PasswordSpec{DisplayName: "daemon"})
	must(err)
	ws, err := dir.AddPassword(ctx, tenantry.System(), web.ID, tenantry.PasswordSpec{DisplayName: "web"})
	must(err)
	for _, client := range []string{exDaemon, exWebApp} {
		_, err := dir.Consent(ctx, tenantry.System(), exTenant, tenantry.ConsentSpec{ClientAppID: client, Default: true, TenantWide: true})
		must(err)
	}
	return dir, ds.SecretText, ws.SecretText, u.ID
}

// exClaims decodes the payload of a JWT, for printing.
func exClaims(raw string) map[string]any {
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	if err != nil {
		log.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		log.Fatal(err)
	}
	return m
}

// A daemon gets an app-only token with client credentials; the API
// validates it with the Directory's keys.
func ExampleIssuer_Token_clientCredentials() {
	ctx := context.Background()
	dir, daemonSecret, _, _ := exSetup(ctx)
	defer dir.Close()

	tr, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: "contoso.com", GrantType: tenantry.GrantClientCredentials,
		ClientID: exDaemon, ClientSecret: daemonSecret, Scope: "api://" + exAPI + "/.default",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token_type:", tr.TokenType, "expires_in:", tr.ExpiresIn, "refresh token:", tr.RefreshToken != "")

	p, err := dir.Issuer().ValidateAccessToken(ctx, tr.AccessToken, exAPI)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("issuer:", p.Claims.Issuer)
	fmt.Println("audience:", p.Claims.Audience[0] == exAPI, "client:", p.AppID == exDaemon, "azpacr:", p.Claims.AuthorizedPartyACR)
	fmt.Println("app-only:", p.IsApp, "roles:", p.Roles, "version:", p.Version)
	fmt.Println("expires:", time.Unix(p.Claims.ExpiresAt, 0).UTC().Format(time.RFC3339))
	// Output:
	// token_type: Bearer expires_in: 3600 refresh token: false
	// issuer: https://login.microsoftonline.com/7d3f1c2a-5b8e-4c1d-9a0f-2e6b4d8c1a30/v2.0
	// audience: true client: true azpacr: 1
	// app-only: true roles: [Orders.Sync] version: 2.0
	// expires: 2026-04-01T09:00:00Z
}

// Token errors carry Entra's OAuth error, AADSTS code and HTTP status, and
// match with errors.Is by code.
func ExampleTokenError() {
	ctx := context.Background()
	dir, _, _, _ := exSetup(ctx)
	defer dir.Close()

	_, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: exTenant, GrantType: tenantry.GrantClientCredentials,
		ClientID: exDaemon, ClientSecret: "not-the-secret-value", Scope: "api://" + exAPI + "/.default",
	})
	var te *tenantry.TokenError
	if errors.As(err, &te) {
		fmt.Println(te.ErrorCode, te.Code, te.Status)
	}
	fmt.Println("invalid secret:", errors.Is(err, tenantry.ErrInvalidClientSecret))
	fmt.Println("expired secret:", errors.Is(err, tenantry.ErrClientSecretExpired))
	fmt.Println("by code:", errors.Is(err, &tenantry.TokenError{Code: 7000215}))

	_, err = dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: "common", GrantType: tenantry.GrantClientCredentials,
		ClientID: exDaemon, ClientSecret: "not-the-secret-value", Scope: "api://" + exAPI + "/.default",
	})
	fmt.Println("/common:", errors.Is(err, &tenantry.TokenError{Code: 50059, ErrorCode: tenantry.OAuthInvalidRequest}))
	// Output:
	// invalid_client 7000215 401
	// invalid secret: true
	// expired secret: false
	// by code: true
	// /common: true
}

// A signed-in user authorizes the web app (authorization code with PKCE);
// the app redeems the code for an access token, an ID token, a refresh
// token and client_info, then refreshes.
func ExampleIssuer_Authorize() {
	ctx := context.Background()
	dir, _, webSecret, alice := exSetup(ctx)
	defer dir.Close()

	ar, err := dir.Issuer().Authorize(ctx, tenantry.AuthorizeRequest{
		Tenant: "organizations", ClientID: exWebApp, RedirectURI: exRedirect, ResponseType: "code",
		Scope: "api://" + exAPI + "/Orders.Read openid profile offline_access", State: "xyz", Nonce: "n-42",
		CodeChallenge: token.S256Challenge(exVerifier), CodeChallengeMethod: token.PKCES256, UserID: alice,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("redirect to the registered URI with state:", strings.HasPrefix(ar.Location(), exRedirect+"?") && ar.State == "xyz")

	tr, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: "organizations", GrantType: tenantry.GrantAuthorizationCode, ClientID: exWebApp, ClientSecret: webSecret,
		Code: ar.Code, RedirectURI: exRedirect, CodeVerifier: exVerifier, ClientInfo: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("scope:", tr.Scope == "api://"+exAPI+"/Orders.Read openid profile offline_access")
	at := exClaims(tr.AccessToken)
	fmt.Println("access token: scp", at["scp"], "user", at["oid"] == alice, "aud", at["aud"] == exAPI)
	id := exClaims(tr.IDToken)
	fmt.Println("ID token: aud", id["aud"] == exWebApp, "nonce", id["nonce"], "tid", id["tid"])
	ci, _ := base64.RawURLEncoding.DecodeString(tr.ClientInfo)
	fmt.Println("client_info:", strings.Replace(string(ci), alice, "{alice}", 1))

	// The refresh token is rotated.
	rt, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: exTenant, GrantType: tenantry.GrantRefreshToken, ClientID: exWebApp, ClientSecret: webSecret, RefreshToken: tr.RefreshToken,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new refresh token:", rt.RefreshToken != "" && rt.RefreshToken != tr.RefreshToken, "scp", exClaims(rt.AccessToken)["scp"])

	// The same code cannot be redeemed twice, and redeeming it again
	// revokes the refresh tokens issued from it.
	_, err = dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: "organizations", GrantType: tenantry.GrantAuthorizationCode, ClientID: exWebApp, ClientSecret: webSecret,
		Code: ar.Code, RedirectURI: exRedirect, CodeVerifier: exVerifier,
	})
	fmt.Println("code reuse:", errors.Is(err, &tenantry.TokenError{Code: 54005}))
	_, err = dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: exTenant, GrantType: tenantry.GrantRefreshToken, ClientID: exWebApp, ClientSecret: webSecret, RefreshToken: rt.RefreshToken,
	})
	fmt.Println("refresh after code reuse revoked:", errors.Is(err, &tenantry.TokenError{Code: 70008}))
	// Output:
	// redirect to the registered URI with state: true
	// scope: true
	// access token: scp Orders.Read user true aud true
	// ID token: aud true nonce n-42 tid 7d3f1c2a-5b8e-4c1d-9a0f-2e6b4d8c1a30
	// client_info: {"uid":"{alice}","utid":"7d3f1c2a-5b8e-4c1d-9a0f-2e6b4d8c1a30"}
	// new refresh token: true scp Orders.Read
	// code reuse: true
	// refresh after code reuse revoked: true
}

// The JWKS document is what a resource server outside the process uses:
// it parses with go-jose and verifies the Directory's tokens.
func ExampleIssuer_JWKS() {
	ctx := context.Background()
	dir, daemonSecret, _, _ := exSetup(ctx)
	defer dir.Close()

	tr, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: exTenant, GrantType: tenantry.GrantClientCredentials,
		ClientID: exDaemon, ClientSecret: daemonSecret, Scope: exAPI + "/.default",
	})
	if err != nil {
		log.Fatal(err)
	}
	doc, err := dir.Issuer().JWKS(ctx, exTenant, 2)
	if err != nil {
		log.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		log.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tr.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		log.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	payload, err := jws.Verify(keys[0])
	fmt.Println("published keys:", len(set.Keys), "signing key found:", len(keys) == 1)
	fmt.Println("verified:", err == nil, "same payload:", strings.Contains(tr.AccessToken, base64.RawURLEncoding.EncodeToString(payload)))
	// Output:
	// published keys: 1 signing key found: true
	// verified: true same payload: true
}

// Issuer.ValidatorConfig configures a token.Validator for an API: both
// token versions, optionally restricted to some tenants.
func ExampleIssuer_ValidatorConfig() {
	ctx := context.Background()
	dir, daemonSecret, _, _ := exSetup(ctx)
	defer dir.Close()

	tr, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		Tenant: exTenant, GrantType: tenantry.GrantClientCredentials,
		ClientID: exDaemon, ClientSecret: daemonSecret, Scope: "api://" + exAPI + "/.default",
	})
	if err != nil {
		log.Fatal(err)
	}
	cfg := dir.Issuer().ValidatorConfig(exAPI, "api://"+exAPI)
	cfg.AllowedTenants = []string{exTenant}
	v, err := token.NewValidator(cfg)
	if err != nil {
		log.Fatal(err)
	}
	p, err := v.Validate(ctx, tr.AccessToken)
	fmt.Println("valid:", err == nil, "has role Orders.Sync:", p.HasRole("Orders.Sync"))

	cfg = dir.Issuer().ValidatorConfig(exAPI)
	cfg.AllowedTenants = []string{"00000000-0000-4000-8000-000000000000"}
	other, err := token.NewValidator(cfg)
	if err != nil {
		log.Fatal(err)
	}
	_, err = other.Validate(ctx, tr.AccessToken)
	fmt.Println("other tenant only:", errors.Is(err, token.ErrTenant))

	wrongAudience, err := token.NewValidator(dir.Issuer().ValidatorConfig(exWebApp))
	if err != nil {
		log.Fatal(err)
	}
	_, err = wrongAudience.Validate(ctx, tr.AccessToken)
	fmt.Println("another API:", errors.Is(err, token.ErrAudience))
	// Output:
	// valid: true has role Orders.Sync: true
	// other tenant only: true
	// another API: true
}

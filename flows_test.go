package tenantry

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t thumbprints of test certificates
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// The flow fixture: two tenants (Contoso, home of every application, and
// Fabrikam), a v2 API with a downstream v2 API (for on-behalf-of), a v1 API,
// daemons, a web app, a second web app, a SPA and a public client.

var ftStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	ftOrdersApp = "0a000000-0000-4000-8000-000000000001" // v2 API, multi-tenant, middle tier for OBO
	ftLegacyApp = "0a000000-0000-4000-8000-000000000002" // v1 API, single-tenant
	ftDownApp   = "0a000000-0000-4000-8000-000000000003" // v2 API downstream of Orders
	ftDaemonApp = "0a000000-0000-4000-8000-000000000004" // multi-tenant daemon
	ftSingleApp = "0a000000-0000-4000-8000-000000000005" // single-tenant daemon
	ftWebApp    = "0a000000-0000-4000-8000-000000000006" // web app (confidential), multi-tenant
	ftWeb2App   = "0a000000-0000-4000-8000-000000000007" // second web app, for pairwise sub
	ftSPAApp    = "0a000000-0000-4000-8000-000000000008" // single-page app
	ftPublicApp = "0a000000-0000-4000-8000-000000000009" // desktop app, public client flows allowed

	ftScopeRead   = "0b000000-0000-4000-8000-000000000001" // Orders.Read (User)
	ftScopeWrite  = "0b000000-0000-4000-8000-000000000002" // Orders.Write (User)
	ftScopeAdmin  = "0b000000-0000-4000-8000-000000000003" // Orders.Admin (Admin)
	ftScopeFiles  = "0b000000-0000-4000-8000-000000000004" // Files.Read on Downstream (User)
	ftScopeFilesW = "0b000000-0000-4000-8000-000000000005" // Files.Write on Downstream (User)

	ftRoleManage = "0c000000-0000-4000-8000-000000000001" // Orders.Manage (User)
	ftRoleSync   = "0c000000-0000-4000-8000-000000000002" // Orders.Sync (Application)
	ftRoleAudit  = "0c000000-0000-4000-8000-000000000003" // Orders.Audit (Application)
	ftRoleLegacy = "0c000000-0000-4000-8000-000000000004" // Legacy.Sync (Application) on the v1 API

	ftWebRedirect    = "https://web.contoso.com/auth"
	ftWeb2Redirect   = "https://web2.contoso.com/auth"
	ftSPARedirect    = "https://spa.contoso.com/"
	ftPublicRedirect = "http://localhost"
	ftLegacyURI      = "https://contoso.com/legacy"
	ftVerifier       = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	ftFedIssuer      = "https://token.actions.githubusercontent.com"
	ftFedSubject     = "repo:contoso/orders:ref:refs/heads/main"
	ftFedKID         = "gh-test-key-1"
)

func ftURI(appID string) string { return "api://" + appID }

// ftTB is what the fixture needs of *testing.T and *rapid.T.
type ftTB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// ftEnv is a populated Directory with the ids a test needs.
type ftEnv struct {
	ctx    context.Context
	d      *Directory
	st     store.Store // the store d was built over
	clock  *ManualClock
	cfg    TokenConfig
	conID  string // Contoso
	fabID  string // Fabrikam
	admin  tenant.User
	alice  tenant.User
	bob    tenant.User // member of clerks
	fadmin tenant.User
	carol  tenant.User
	clerks tenant.Group
	apps   map[string]application.Application // by appId
	secret map[string]string                  // client secret by appId
	keyID  map[string]string                  // password keyId by appId
}

// ftOpt tweaks the token configuration of the fixture.
type ftOpt func(*TokenConfig)

func newFT(t ftTB, opts ...ftOpt) *ftEnv {
	t.Helper()
	clock := NewManualClock(ftStart)
	cfg := TokenConfig{
		Algorithm: jose.ES256,
		FederatedKeys: func(_ context.Context, issuer string) (token.KeySource, error) {
			if issuer != ftFedIssuer {
				return nil, errors.New("unknown federated issuer " + issuer)
			}
			return token.StaticKeySet(token.PublicKey{ID: ftFedKID, Algorithm: jose.RS256, Key: &ftFedKey(t).PublicKey}), nil
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	st := ftFixtureStore()
	if st == nil {
		st = memory.New()
	}
	d, err := New(ctx, Config{Store: st, Now: clock.Now, NewID: SequentialIDs("flows"), Tokens: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	e := &ftEnv{ctx: ctx, d: d, st: st, clock: clock, cfg: cfg, apps: map[string]application.Application{}, secret: map[string]string{}, keyID: map[string]string{}}
	con := ftOK(d.CreateTenant(ctx, System(), TenantSpec{DisplayName: "Contoso", Domains: []string{"contoso.com"}}))(t)
	fab := ftOK(d.CreateTenant(ctx, System(), TenantSpec{DisplayName: "Fabrikam", Domains: []string{"fabrikam.com"}}))(t)
	e.conID, e.fabID = con.ID, fab.ID
	user := func(tid, upn, name string) tenant.User {
		return ftOK(d.CreateUser(ctx, System(), tid, UserSpec{UserPrincipalName: upn, DisplayName: name, Mail: upn}))(t)
	}
	e.admin = user(con.ID, "admin@contoso.com", "Contoso Admin")
	ftOK(d.AssignDirectoryRole(ctx, System(), con.ID, DirectoryRoleSpec{PrincipalID: e.admin.ID, RoleID: tenant.RoleGlobalAdministrator}))(t)
	e.alice = user(con.ID, "alice@contoso.com", "Alice")
	e.bob = user(con.ID, "bob@contoso.com", "Bob")
	e.fadmin = user(fab.ID, "admin@fabrikam.com", "Fabrikam Admin")
	ftOK(d.AssignDirectoryRole(ctx, System(), fab.ID, DirectoryRoleSpec{PrincipalID: e.fadmin.ID, RoleID: tenant.RoleGlobalAdministrator}))(t)
	e.carol = user(fab.ID, "carol@fabrikam.com", "Carol")
	e.clerks = ftOK(d.CreateGroup(ctx, System(), con.ID, GroupSpec{DisplayName: "Clerks", SecurityEnabled: true, Members: []tenant.Ref{{ID: e.bob.ID, Type: tenant.MemberUser}}}))(t)

	v2 := 2
	scope := func(id, v, typ string) application.PermissionScope {
		return application.PermissionScope{ID: id, Value: v, Type: typ, IsEnabled: true, AdminConsentDisplayName: v, UserConsentDisplayName: v}
	}
	role := func(id, v, member string) application.AppRole {
		return application.AppRole{ID: id, Value: v, DisplayName: v, Description: v, AllowedMemberTypes: []string{member}, IsEnabled: true}
	}
	rra := func(resource string, access ...application.ResourceAccess) application.RequiredResourceAccess {
		return application.RequiredResourceAccess{ResourceAppID: resource, ResourceAccess: access}
	}
	sc := func(id string) application.ResourceAccess {
		return application.ResourceAccess{ID: id, Type: application.AccessScope}
	}
	ro := func(id string) application.ResourceAccess {
		return application.ResourceAccess{ID: id, Type: application.AccessRole}
	}
	register := func(a application.Application) {
		a = ftOK(d.CreateApplication(ctx, System(), con.ID, a))(t)
		e.apps[a.AppID] = a
	}
	register(application.Application{
		AppID: ftDownApp, DisplayName: "Downstream Files API", SignInAudience: application.AzureADMultipleOrgs,
		IdentifierURIs: []string{ftURI(ftDownApp)},
		API: &application.API{RequestedAccessTokenVersion: &v2, OAuth2PermissionScopes: []application.PermissionScope{
			scope(ftScopeFiles, "Files.Read", application.ScopeTypeUser), scope(ftScopeFilesW, "Files.Write", application.ScopeTypeUser),
		}},
	})
	register(application.Application{
		AppID: ftOrdersApp, DisplayName: "Orders API", SignInAudience: application.AzureADMultipleOrgs,
		IdentifierURIs: []string{ftURI(ftOrdersApp)},
		API: &application.API{
			RequestedAccessTokenVersion: &v2,
			KnownClientApplications:     []string{ftWebApp},
			OAuth2PermissionScopes: []application.PermissionScope{
				scope(ftScopeRead, "Orders.Read", application.ScopeTypeUser),
				scope(ftScopeWrite, "Orders.Write", application.ScopeTypeUser),
				scope(ftScopeAdmin, "Orders.Admin", application.ScopeTypeAdmin),
			},
		},
		AppRoles: []application.AppRole{
			role(ftRoleManage, "Orders.Manage", application.MemberTypeUser),
			role(ftRoleSync, "Orders.Sync", application.MemberTypeApplication),
			role(ftRoleAudit, "Orders.Audit", application.MemberTypeApplication),
		},
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(ftDownApp, sc(ftScopeFiles))},
	})
	register(application.Application{
		AppID: ftLegacyApp, DisplayName: "Legacy API", SignInAudience: application.AzureADMyOrg,
		IdentifierURIs: []string{ftLegacyURI},
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{
			scope("0b000000-0000-4000-8000-000000000009", "Legacy.Read", application.ScopeTypeUser),
		}},
		AppRoles: []application.AppRole{role(ftRoleLegacy, "Legacy.Sync", application.MemberTypeApplication)},
	})
	register(application.Application{
		AppID: ftDaemonApp, DisplayName: "Orders Daemon", SignInAudience: application.AzureADMultipleOrgs,
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(ftOrdersApp, ro(ftRoleSync), ro(ftRoleAudit)), rra(ftLegacyApp, ro(ftRoleLegacy))},
	})
	register(application.Application{
		AppID: ftSingleApp, DisplayName: "Single-tenant Daemon", SignInAudience: application.AzureADMyOrg,
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(ftOrdersApp, ro(ftRoleSync))},
	})
	register(application.Application{
		AppID: ftWebApp, DisplayName: "Orders Web", SignInAudience: application.AzureADMultipleOrgs,
		Web:                    &application.Web{RedirectURIs: []string{ftWebRedirect}},
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(ftOrdersApp, sc(ftScopeRead), sc(ftScopeWrite))},
	})
	register(application.Application{
		AppID: ftWeb2App, DisplayName: "Orders Web Two", SignInAudience: application.AzureADMultipleOrgs,
		Web:                    &application.Web{RedirectURIs: []string{ftWeb2Redirect}},
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(ftOrdersApp, sc(ftScopeRead))},
	})
	register(application.Application{
		AppID: ftSPAApp, DisplayName: "Orders SPA", SignInAudience: application.AzureADMultipleOrgs,
		SPA:                    &application.RedirectURIs{RedirectURIs: []string{ftSPARedirect}},
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(ftOrdersApp, sc(ftScopeRead))},
	})
	register(application.Application{
		AppID: ftPublicApp, DisplayName: "Orders Desktop", SignInAudience: application.AzureADMultipleOrgs,
		PublicClient:           &application.RedirectURIs{RedirectURIs: []string{ftPublicRedirect}},
		IsFallbackPublicClient: true,
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(ftOrdersApp, sc(ftScopeRead))},
	})
	for _, id := range []string{ftOrdersApp, ftDaemonApp, ftSingleApp, ftWebApp, ftWeb2App} {
		p := ftOK(d.AddPassword(ctx, System(), e.apps[id].ID, PasswordSpec{DisplayName: "fixture"}))(t)
		e.secret[id], e.keyID[id] = p.SecretText, p.KeyID
	}
	// Contoso's administrator grants the daemons their application
	// permissions.
	for _, id := range []string{ftDaemonApp, ftSingleApp} {
		ftOK(d.Consent(ctx, UserActor(e.admin.ID), con.ID, ConsentSpec{ClientAppID: id, Default: true, TenantWide: true}))(t)
	}
	return e
}

// ftOK returns a function that fails t if err is not nil and otherwise
// returns v: ftOK(f())(t).
func ftOK[T any](v T, err error) func(ftTB) T {
	return func(t ftTB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (e *ftEnv) app(t ftTB, appID string) application.Application {
	t.Helper()
	return ftOK(e.d.ApplicationByAppID(e.ctx, System(), appID))(t)
}

func (e *ftEnv) sp(t ftTB, appID, tenantID string) serviceprincipal.ServicePrincipal {
	t.Helper()
	return ftOK(e.d.ServicePrincipalByAppID(e.ctx, System(), tenantID, appID))(t)
}

// cc runs client credentials with a secret.
func (e *ftEnv) cc(tenantSeg, clientID, secret, scope string) (*TokenResponse, error) {
	return e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: tenantSeg, GrantType: GrantClientCredentials, ClientID: clientID, ClientSecret: secret, Scope: scope})
}

// authz is an authorization request with the defaults of a web sign-in.
func (e *ftEnv) authz(clientID, redirect, userID, scope string) AuthorizeRequest {
	return AuthorizeRequest{
		Tenant: e.conID, ClientID: clientID, RedirectURI: redirect, ResponseType: "code", Scope: scope,
		State: "st-1", Nonce: "n-0S6_WzA2Mj", CodeChallenge: token.S256Challenge(ftVerifier), CodeChallengeMethod: token.PKCES256,
		UserID: userID,
	}
}

// redeem redeems code for req's client (with its secret when it has one).
func (e *ftEnv) redeem(req AuthorizeRequest, code string) (*TokenResponse, error) {
	return e.d.Issuer().Token(e.ctx, TokenRequest{
		Tenant: req.Tenant, GrantType: GrantAuthorizationCode, ClientID: req.ClientID, ClientSecret: e.secret[req.ClientID],
		Code: code, RedirectURI: req.RedirectURI, CodeVerifier: ftVerifier, ClientInfo: true,
	})
}

// signIn runs Authorize and redeems the code; it fails t on error.
func (e *ftEnv) signIn(t ftTB, req AuthorizeRequest) *TokenResponse {
	t.Helper()
	ar, err := e.d.Issuer().Authorize(e.ctx, req)
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	tr, err := e.redeem(req, ar.Code)
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	return tr
}

// webSignIn signs user into the web app for Orders.Read with a refresh token
// and an ID token.
func (e *ftEnv) webSignIn(t ftTB, userID string) *TokenResponse {
	t.Helper()
	return e.signIn(t, e.authz(ftWebApp, ftWebRedirect, userID, ftURI(ftOrdersApp)+"/Orders.Read openid profile offline_access"))
}

func (e *ftEnv) refresh(clientID, rt, scope string) (*TokenResponse, error) {
	return e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: clientID, ClientSecret: e.secret[clientID], RefreshToken: rt, Scope: scope})
}

// ftWantErr checks that err is a *TokenError with the AADSTS code and OAuth
// error, matchable with errors.Is, with the status the endpoint answers.
func ftWantErr(t ftTB, err error, code int, oauth string) *TokenError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want AADSTS%d %s", code, oauth)
	}
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("got %T %v, want *TokenError AADSTS%d", err, err, code)
	}
	if te.Code != code || te.ErrorCode != oauth {
		t.Fatalf("got AADSTS%d %s (%s), want AADSTS%d %s", te.Code, te.ErrorCode, te.ErrorDescription, code, oauth)
	}
	if !errors.Is(err, &TokenError{Code: code}) || !errors.Is(err, &TokenError{Code: code, ErrorCode: oauth}) {
		t.Fatalf("errors.Is does not match AADSTS%d: %v", code, err)
	}
	if errors.Is(err, &TokenError{Code: code, ErrorCode: "no_such_error"}) {
		t.Fatalf("errors.Is matches a different OAuth error: %v", err)
	}
	wantStatus := http.StatusBadRequest
	if oauth == OAuthInvalidClient {
		wantStatus = http.StatusUnauthorized
	}
	if te.Status != wantStatus {
		t.Fatalf("AADSTS%d: status %d, want %d", code, te.Status, wantStatus)
	}
	if !strings.Contains(te.Error(), "AADSTS") {
		t.Fatalf("Error() lacks the AADSTS code: %q", te.Error())
	}
	return te
}

// ftSegments splits a compact JWS and decodes header and payload.
func ftSegments(t ftTB, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("segment is not unpadded base64url: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("segment is not JSON: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

func ftClaims(t ftTB, raw string) map[string]any {
	t.Helper()
	_, c := ftSegments(t, raw)
	return c
}

// ftStrings reads a string-array claim.
func ftStrings(c map[string]any, name string) []string {
	v, _ := c[name].([]any)
	var out []string
	for _, x := range v {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// ftScp splits the scp claim, sorted.
func ftScp(c map[string]any) []string {
	s, _ := c["scp"].(string)
	out := strings.Fields(s)
	slices.Sort(out)
	return out
}

// Test keys and certificates for client assertions and the federated
// issuer. RSA generation is slow, so each key is made once.
var (
	ftRSAOnce  sync.Once
	ftRSAKeys  [3]*rsa.PrivateKey // [0] client cert, [1] second client cert, [2] federated issuer
	ftRSAError error
)

func ftRSA(t ftTB, i int) *rsa.PrivateKey {
	t.Helper()
	ftRSAOnce.Do(func() {
		for j := range ftRSAKeys {
			if ftRSAKeys[j], ftRSAError = rsa.GenerateKey(rand.Reader, 2048); ftRSAError != nil {
				return
			}
		}
	})
	if ftRSAError != nil {
		t.Fatal(ftRSAError)
	}
	return ftRSAKeys[i]
}

func ftFedKey(t ftTB) *rsa.PrivateKey { return ftRSA(t, 2) }

// ftCert self-signs a certificate for key, valid over [notBefore, notAfter).
func ftCert(t ftTB, key crypto.Signer, serial int64, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "orders-daemon"}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ftSignJWT signs claims with key and alg, with extra header members.
func ftSignJWT(t ftTB, key crypto.Signer, alg jose.SignatureAlgorithm, headers map[string]any, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range headers {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// ftAssertionClaims are the claims MSAL puts in a certificate assertion
// for tenantID's v2 token endpoint, valid for 10 minutes from now.
func ftAssertionClaims(clientID, tenantID string, now time.Time) map[string]any {
	return map[string]any{
		"aud": "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token",
		"iss": clientID, "sub": clientID, "jti": "5f0e5a8e-3f5c-4c41-9d39-3e3d0d3b1a11",
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
}

// ftMSALHeader is MSAL's assertion header: x5t#S256 in standard padded
// base64.
func ftMSALHeader(cert *x509.Certificate) map[string]any {
	sum := sha256.Sum256(cert.Raw)
	return map[string]any{"x5t#S256": base64.StdEncoding.EncodeToString(sum[:])}
}

func ftX5THeader(cert *x509.Certificate) map[string]any {
	sum := sha1.Sum(cert.Raw) //nolint:gosec // x5t is SHA-1 by definition
	return map[string]any{"x5t": base64.RawURLEncoding.EncodeToString(sum[:])}
}

// ftAssertionCC runs client credentials with a client assertion.
func (e *ftEnv) assertionCC(tenantSeg, clientID, assertion, scope string) (*TokenResponse, error) {
	return e.d.Issuer().Token(e.ctx, TokenRequest{
		Tenant: tenantSeg, GrantType: GrantClientCredentials, ClientID: clientID,
		ClientAssertionType: token.ClientAssertionType, ClientAssertion: assertion, Scope: scope,
	})
}

// ftFedToken is a GitHub-style OIDC token signed by the federated issuer.
func ftFedToken(t ftTB, iss, sub, aud string, now time.Time, life time.Duration) string {
	return ftSignJWT(t, ftFedKey(t), jose.RS256, map[string]any{"kid": ftFedKID}, map[string]any{
		"iss": iss, "sub": sub, "aud": aud, "jti": "f9d6a1de-0c5a-4f8b-9e2a-1b7a4c2d3e4f",
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(life).Unix(), "repository": "contoso/orders",
	})
}

// ---------------------------------------------------------------------------
// Client credentials.

func TestFlowClientCredentialsSecretV2(t *testing.T) {
	e := newFT(t)
	tr, err := e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default")
	if err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.ExtExpiresIn != 3600 || tr.RefreshToken != "" || tr.IDToken != "" || tr.Scope != "" {
		t.Fatalf("response = %+v", tr)
	}
	h, c := ftSegments(t, tr.AccessToken)
	if h["alg"] != "ES256" || h["typ"] != "JWT" || h["kid"] == nil {
		t.Fatalf("header = %v", h)
	}
	if _, ok := h["x5t"]; ok {
		t.Fatalf("v2 token has x5t header: %v", h)
	}
	daemonSP := e.sp(t, ftDaemonApp, e.conID)
	want := map[string]any{
		"aud": ftOrdersApp, "iss": "https://login.microsoftonline.com/" + e.conID + "/v2.0", "ver": "2.0",
		"azp": ftDaemonApp, "azpacr": "1", "tid": e.conID, "oid": daemonSP.ID, "sub": daemonSP.ID,
		"iat": float64(ftStart.Unix()), "nbf": float64(ftStart.Unix()), "exp": float64(ftStart.Add(time.Hour).Unix()),
		"roles": []any{"Orders.Audit", "Orders.Sync"},
	}
	for k, v := range want {
		if diff := cmp.Diff(v, c[k]); diff != "" {
			t.Errorf("claim %s (-want +got):\n%s", k, diff)
		}
	}
	// idtyp is an optional claim the resource has not asked for.
	for _, absent := range []string{"appid", "appidacr", "scp", "name", "upn", "preferred_username", "idtyp"} {
		if _, ok := c[absent]; ok {
			t.Errorf("v2 app-only token has %s", absent)
		}
	}
	if uti, _ := c["uti"].(string); len(uti) < 16 {
		t.Errorf("uti = %q", uti)
	}
	p, err := e.d.Issuer().ValidateAccessToken(e.ctx, tr.AccessToken, ftOrdersApp)
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsApp || p.AppID != ftDaemonApp || p.TenantID != e.conID || p.Version != token.Version2 || !slices.Equal(p.Roles, []string{"Orders.Audit", "Orders.Sync"}) {
		t.Fatalf("principal = %+v", p)
	}
	// A second token has a fresh uti.
	tr2, err := e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default")
	if err != nil {
		t.Fatal(err)
	}
	if ftClaims(t, tr2.AccessToken)["uti"] == c["uti"] {
		t.Fatal("two tokens share a uti")
	}
}

func TestFlowClientCredentialsV1(t *testing.T) {
	e := newFT(t)
	iss := "https://sts.windows.net/" + e.conID + "/"
	for _, tc := range []struct {
		name, resource, aud string
	}{
		{"identifier URI", ftLegacyURI, ftLegacyURI},
		{"identifier URI with trailing slash", ftLegacyURI + "/", ftLegacyURI + "/"},
		{"appId", ftLegacyApp, ftLegacyApp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], tc.resource+"/.default")
			if err != nil {
				t.Fatal(err)
			}
			h, c := ftSegments(t, tr.AccessToken)
			if h["x5t"] == nil || h["x5t"] != h["kid"] {
				t.Errorf("v1 header: x5t %v, kid %v; want equal and present", h["x5t"], h["kid"])
			}
			want := map[string]any{
				"aud": tc.aud, "iss": iss, "ver": "1.0", "appid": ftDaemonApp, "appidacr": "1", "tid": e.conID,
				"roles": []any{"Legacy.Sync"}, "oid": e.sp(t, ftDaemonApp, e.conID).ID,
			}
			for k, v := range want {
				if diff := cmp.Diff(v, c[k]); diff != "" {
					t.Errorf("claim %s (-want +got):\n%s", k, diff)
				}
			}
			for _, absent := range []string{"azp", "azpacr", "scp"} {
				if _, ok := c[absent]; ok {
					t.Errorf("v1 token has %s", absent)
				}
			}
			p, err := e.d.Issuer().ValidateAccessToken(e.ctx, tr.AccessToken, ftLegacyApp)
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != token.Version1 || p.AppID != ftDaemonApp || !p.IsApp {
				t.Fatalf("principal = %+v", p)
			}
		})
	}
}

func TestFlowClientCredentialsRefusals(t *testing.T) {
	orders := ftURI(ftOrdersApp) + "/.default"
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, e *ftEnv)
		req    func(e *ftEnv) TokenRequest
		code   int
		oauth  string
		substr string // in the description
	}{
		{
			name: "wrong secret",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftWebApp], Scope: orders}
			},
			code: 7000215, oauth: OAuthInvalidClient,
		},
		{
			name: "secret of the key id instead of the value",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.keyID[ftDaemonApp], Scope: orders}
			},
			code: 7000215, oauth: OAuthInvalidClient,
		},
		{
			name: "expired secret",
			setup: func(t *testing.T, e *ftEnv) {
				p := ftOK(e.d.AddPassword(e.ctx, System(), e.apps[ftDaemonApp].ID, PasswordSpec{DisplayName: "short", Secret: "short-lived-secret-0123", End: ftStart.Add(time.Hour)}))(t)
				e.secret["short"] = p.SecretText
				e.clock.Advance(2 * time.Hour)
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret["short"], Scope: orders}
			},
			code: 7000222, oauth: OAuthInvalidClient,
		},
		{
			name: "secret not yet valid",
			setup: func(t *testing.T, e *ftEnv) {
				p := ftOK(e.d.AddPassword(e.ctx, System(), e.apps[ftDaemonApp].ID, PasswordSpec{DisplayName: "future", Secret: "future-secret-0123456", Start: ftStart.Add(time.Hour)}))(t)
				e.secret["future"] = p.SecretText
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret["future"], Scope: orders}
			},
			code: 7000222, oauth: OAuthInvalidClient,
		},
		{
			name: "removed secret",
			setup: func(t *testing.T, e *ftEnv) {
				if _, err := e.d.RemovePassword(e.ctx, System(), e.apps[ftDaemonApp].ID, e.keyID[ftDaemonApp]); err != nil {
					t.Fatal(err)
				}
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 7000215, oauth: OAuthInvalidClient,
		},
		{
			name: "no credential",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, Scope: orders}
			},
			code:  7000218,
			oauth: OAuthInvalidClient,
		},
		{
			name: "assertion type without assertion",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientAssertionType: "urn:example:wrong", ClientAssertion: "x.y.z", Scope: orders}
			},
			code: 90014, oauth: OAuthInvalidRequest,
		},
		{
			name: "scope without /.default",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: ftURI(ftOrdersApp) + "/Orders.Read"}
			},
			code: 1002012, oauth: OAuthInvalidScope,
		},
		{
			name: "two resources",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders + " " + ftLegacyURI + "/.default"}
			},
			code: 1002012, oauth: OAuthInvalidScope,
		},
		{
			name: "no scope",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: "openid profile offline_access"}
			},
			code: 900144, oauth: OAuthInvalidRequest,
		},
		{
			name: "unknown resource",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: "api://no-such-api/.default"}
			},
			code: 500011, oauth: OAuthInvalidResource,
		},
		{
			name: "unknown resource appId",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: "0d000000-0000-4000-8000-000000000000/.default"}
			},
			code: 500011, oauth: OAuthInvalidResource,
		},
		{
			name: "resource without service principal in the tenant",
			setup: func(t *testing.T, e *ftEnv) {
				ftOK(e.d.CreateServicePrincipal(e.ctx, System(), e.fabID, ftDaemonApp))(t)
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.fabID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 500011, oauth: OAuthInvalidResource,
		},
		{
			name: "soft-deleted resource",
			setup: func(t *testing.T, e *ftEnv) {
				if err := e.d.DeleteApplication(e.ctx, System(), e.apps[ftOrdersApp].ID); err != nil {
					t.Fatal(err)
				}
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 500011, oauth: OAuthInvalidResource,
		},
		{
			name: "client without service principal in the tenant",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.fabID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 7000229, oauth: OAuthInvalidClient,
		},
		{
			name: "client service principal disabled",
			setup: func(t *testing.T, e *ftEnv) {
				ftOK(e.d.DisableServicePrincipal(e.ctx, System(), e.sp(t, ftDaemonApp, e.conID).ID))(t)
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 7000112, oauth: OAuthUnauthorizedClient,
		},
		{
			name: "resource service principal disabled",
			setup: func(t *testing.T, e *ftEnv) {
				ftOK(e.d.DisableServicePrincipal(e.ctx, System(), e.sp(t, ftOrdersApp, e.conID).ID))(t)
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 7000112, oauth: OAuthUnauthorizedClient,
		},
		{
			name: "client application soft-deleted",
			setup: func(t *testing.T, e *ftEnv) {
				if err := e.d.DeleteApplication(e.ctx, System(), e.apps[ftDaemonApp].ID); err != nil {
					t.Fatal(err)
				}
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 700016, oauth: OAuthUnauthorizedClient,
		},
		{
			name: "unknown client",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: "0d000000-0000-4000-8000-000000000001", ClientSecret: "whatever-secret-value", Scope: orders}
			},
			code: 700016, oauth: OAuthUnauthorizedClient,
		},
		{
			name: "single-tenant app at a foreign tenant",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.fabID, ClientID: ftSingleApp, ClientSecret: e.secret[ftSingleApp], Scope: orders}
			},
			code: 700016, oauth: OAuthUnauthorizedClient,
		},
		{
			name: "single-tenant app at a foreign tenant's domain",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: "fabrikam.com", ClientID: ftSingleApp, ClientSecret: e.secret[ftSingleApp], Scope: orders}
			},
			code: 700016, oauth: OAuthUnauthorizedClient,
		},
		{
			name: "/common",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: "common", ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 50059, oauth: OAuthInvalidRequest,
		},
		{
			name: "/organizations",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: "organizations", ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 50059, oauth: OAuthInvalidRequest,
		},
		{
			name: "/consumers for a work-and-school app",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: "consumers", ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 9002332, oauth: OAuthInvalidRequest,
		},
		{
			name: "unknown tenant id",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: "0e000000-0000-4000-8000-000000000000", ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 90002, oauth: OAuthInvalidTenant,
		},
		{
			name: "unknown tenant domain",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: "nowhere.example.com", ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 90002, oauth: OAuthInvalidTenant,
		},
		{
			name: "malformed tenant",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: "not-a-tenant", ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 900023, oauth: OAuthInvalidRequest,
		},
		{
			name: "appRoleAssignmentRequired on the resource, client not assigned",
			setup: func(t *testing.T, e *ftEnv) {
				ftOK(e.d.UpdateServicePrincipal(e.ctx, System(), e.sp(t, ftOrdersApp, e.conID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
					sp.AppRoleAssignmentRequired = true
					return nil
				}))(t)
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Scope: orders}
			},
			code: 501051, oauth: OAuthInvalidClient,
		},
		{
			name: "appRoleAssignmentRequired, the client's only role disabled",
			setup: func(t *testing.T, e *ftEnv) {
				ftOK(e.d.UpdateServicePrincipal(e.ctx, System(), e.sp(t, ftOrdersApp, e.conID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
					sp.AppRoleAssignmentRequired = true
					return nil
				}))(t)
				ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
					for i := range a.AppRoles {
						a.AppRoles[i].IsEnabled = a.AppRoles[i].ID == ftRoleManage
					}
					return nil
				}))(t)
			},
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders}
			},
			code: 501051, oauth: OAuthInvalidClient,
		},
		{
			name: "unsupported grant type",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, GrantType: "urn:ietf:params:oauth:grant-type:saml1_1-bearer", ClientID: ftDaemonApp}
			},
			code: 70003, oauth: OAuthUnsupportedGrantType,
		},
		{
			name: "no grant type",
			req: func(e *ftEnv) TokenRequest {
				return TokenRequest{Tenant: e.conID, GrantType: "-", ClientID: ftDaemonApp}
			},
			code: 900144, oauth: OAuthInvalidRequest,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFT(t)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			req := tc.req(e)
			switch req.GrantType {
			case "":
				req.GrantType = GrantClientCredentials
			case "-":
				req.GrantType = ""
			}
			tr, err := e.d.Issuer().Token(e.ctx, req)
			if tr != nil {
				t.Fatalf("got a token response with the error: %+v", tr)
			}
			te := ftWantErr(t, err, tc.code, tc.oauth)
			for _, secret := range e.secret {
				if strings.Contains(te.ErrorDescription, secret) {
					t.Fatalf("description leaks a secret: %q", te.ErrorDescription)
				}
			}
		})
	}
}

func TestFlowClientCredentialsRoles(t *testing.T) {
	e := newFT(t)
	orders := ftURI(ftOrdersApp) + "/.default"
	roles := func() []string {
		t.Helper()
		tr, err := e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], orders)
		if err != nil {
			t.Fatal(err)
		}
		return ftStrings(ftClaims(t, tr.AccessToken), "roles")
	}
	if got := roles(); !slices.Equal(got, []string{"Orders.Audit", "Orders.Sync"}) {
		t.Fatalf("roles = %v", got)
	}
	// Invariant 5, stricter than Entra: a disabled role leaves the tokens of
	// existing assignees at once.
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		for i := range a.AppRoles {
			if a.AppRoles[i].ID == ftRoleAudit {
				a.AppRoles[i].IsEnabled = false
			}
		}
		return nil
	}))(t)
	if got := roles(); !slices.Equal(got, []string{"Orders.Sync"}) {
		t.Fatalf("roles after disabling Orders.Audit = %v", got)
	}
	// Removing the assignment removes the role; a client without any role
	// still gets a token (no appRoleAssignmentRequired), with no roles.
	for _, a := range ftOK(e.d.Assignments(e.ctx, System(), e.sp(t, ftDaemonApp, e.conID).ID, PageRequest{}))(t).Items {
		if err := e.d.UnassignAppRole(e.ctx, UserActor(e.admin.ID), a.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := roles(); len(got) != 0 {
		t.Fatalf("roles after unassigning = %v", got)
	}
	// A client of another tenant holds the roles granted there, not home's.
	tr, err := e.cc(e.conID, ftWebApp, e.secret[ftWebApp], orders)
	if err != nil {
		t.Fatal(err)
	}
	if c := ftClaims(t, tr.AccessToken); c["roles"] != nil {
		t.Fatalf("web app holds roles: %v", c["roles"])
	}
	// A time-bound assignment counts only within its window.
	start, end := ftStart.Add(time.Hour), ftStart.Add(2*time.Hour)
	ftOK(e.d.AssignAppRole(e.ctx, UserActor(e.admin.ID), AssignmentSpec{ResourceID: e.sp(t, ftOrdersApp, e.conID).ID, PrincipalID: e.sp(t, ftDaemonApp, e.conID).ID, AppRoleID: ftRoleSync, Start: &start, End: &end}))(t)
	if got := roles(); len(got) != 0 {
		t.Fatalf("roles before the assignment starts = %v", got)
	}
	e.clock.Advance(90 * time.Minute)
	if got := roles(); !slices.Equal(got, []string{"Orders.Sync"}) {
		t.Fatalf("roles within the assignment window = %v", got)
	}
	e.clock.Advance(time.Hour)
	if got := roles(); len(got) != 0 {
		t.Fatalf("roles after the assignment ended = %v", got)
	}
}

func TestFlowClientCredentialsForeignTenant(t *testing.T) {
	e := newFT(t)
	// Admin consent in Fabrikam for everything the daemon requires fails:
	// the single-tenant v1 API cannot be provisioned there.
	if _, err := e.d.Consent(e.ctx, UserActor(e.fadmin.ID), e.fabID, ConsentSpec{ClientAppID: ftDaemonApp, Default: true, TenantWide: true}); !errors.Is(err, ErrAudience) {
		t.Fatalf("consent naming a single-tenant API in a foreign tenant: %v, want ErrAudience", err)
	}
	// Fabrikam's administrator adds both apps and grants the application
	// permissions one by one.
	daemonSP := ftOK(e.d.CreateServicePrincipal(e.ctx, UserActor(e.fadmin.ID), e.fabID, ftDaemonApp))(t)
	ordersSP := ftOK(e.d.CreateServicePrincipal(e.ctx, UserActor(e.fadmin.ID), e.fabID, ftOrdersApp))(t)
	for _, r := range []string{ftRoleSync, ftRoleAudit} {
		ftOK(e.d.AssignAppRole(e.ctx, UserActor(e.fadmin.ID), AssignmentSpec{ResourceID: ordersSP.ID, PrincipalID: daemonSP.ID, AppRoleID: r}))(t)
	}
	for _, seg := range []string{e.fabID, "fabrikam.com", "FABRIKAM.com", strings.ToUpper(e.fabID)} {
		tr, err := e.cc(seg, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default")
		if err != nil {
			t.Fatalf("at %s: %v", seg, err)
		}
		c := ftClaims(t, tr.AccessToken)
		if c["tid"] != e.fabID || c["oid"] != e.sp(t, ftDaemonApp, e.fabID).ID || !slices.Equal(ftStrings(c, "roles"), []string{"Orders.Audit", "Orders.Sync"}) {
			t.Fatalf("at %s: claims %v", seg, c)
		}
	}
	// The single-tenant v1 API is not in Fabrikam: its permission was not
	// granted, and no token is issued for it there.
	_, err := e.cc(e.fabID, ftDaemonApp, e.secret[ftDaemonApp], ftLegacyURI+"/.default")
	ftWantErr(t, err, 500011, OAuthInvalidResource)
	// A formerly multi-tenant app made single-tenant keeps its foreign
	// service principal but gets no token there (invariant 3).
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftDaemonApp].ID, func(a *application.Application) error {
		a.SignInAudience = application.AzureADMyOrg
		return nil
	}))(t)
	_, err = e.cc(e.fabID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default")
	ftWantErr(t, err, 700016, OAuthUnauthorizedClient)
	if _, err := e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"); err != nil {
		t.Fatalf("home tenant after the audience change: %v", err)
	}
}

func TestFlowClientCredentialsCertificate(t *testing.T) {
	orders := ftURI(ftOrdersApp) + "/.default"
	type fixture struct {
		e     *ftEnv
		cert  *x509.Certificate // registered, key 0
		other *x509.Certificate // not registered, key 1
	}
	setup := func(t *testing.T) fixture {
		e := newFT(t)
		cert := ftCert(t, ftRSA(t, 0), 1, ftStart.Add(-time.Hour), ftStart.Add(365*24*time.Hour))
		ftOK(e.d.AddKey(e.ctx, System(), e.apps[ftDaemonApp].ID, KeySpec{DisplayName: "daemon cert", Certificate: cert}))(t)
		return fixture{e: e, cert: cert, other: ftCert(t, ftRSA(t, 1), 2, ftStart.Add(-time.Hour), ftStart.Add(365*24*time.Hour))}
	}
	t.Run("PS256 MSAL style, reused", func(t *testing.T) {
		f := setup(t)
		e := f.e
		h := ftMSALHeader(f.cert)
		if !strings.HasSuffix(h["x5t#S256"].(string), "=") {
			t.Fatal("the fixture's x5t#S256 should be padded standard base64")
		}
		a := ftSignJWT(t, ftRSA(t, 0), jose.PS256, h, ftAssertionClaims(ftDaemonApp, e.conID, e.clock.Now()))
		for i := range 2 {
			tr, err := e.assertionCC(e.conID, ftDaemonApp, a, orders)
			if err != nil {
				t.Fatalf("use %d: %v", i+1, err)
			}
			c := ftClaims(t, tr.AccessToken)
			if c["azpacr"] != "2" || c["azp"] != ftDaemonApp {
				t.Fatalf("use %d: azp %v azpacr %v", i+1, c["azp"], c["azpacr"])
			}
			e.clock.Advance(time.Minute)
		}
	})
	t.Run("audience is the tenant's issuer", func(t *testing.T) {
		f := setup(t)
		e := f.e
		claims := ftAssertionClaims(ftDaemonApp, e.conID, e.clock.Now())
		claims["aud"] = "https://login.microsoftonline.com/" + e.conID + "/v2.0"
		if _, err := e.assertionCC(e.conID, ftDaemonApp, ftSignJWT(t, ftRSA(t, 0), jose.RS256, ftX5THeader(f.cert), claims), orders); err != nil {
			t.Fatal(err)
		}
		claims["aud"] = "https://login.microsoftonline.com/" + e.fabID + "/v2.0"
		_, err := e.assertionCC(e.conID, ftDaemonApp, ftSignJWT(t, ftRSA(t, 0), jose.RS256, ftX5THeader(f.cert), claims), orders)
		ftWantErr(t, err, 700027, OAuthInvalidClient)
	})
	t.Run("RS256 with x5t, v1 endpoint audience, v1 token", func(t *testing.T) {
		f := setup(t)
		e := f.e
		claims := ftAssertionClaims(ftDaemonApp, e.conID, e.clock.Now())
		claims["aud"] = "https://login.microsoftonline.com/contoso.com/oauth2/token"
		a := ftSignJWT(t, ftRSA(t, 0), jose.RS256, ftX5THeader(f.cert), claims)
		tr, err := e.assertionCC(e.conID, ftDaemonApp, a, ftLegacyURI+"/.default")
		if err != nil {
			t.Fatal(err)
		}
		if c := ftClaims(t, tr.AccessToken); c["appidacr"] != "2" {
			t.Fatalf("appidacr = %v", c["appidacr"])
		}
	})
	for _, tc := range []struct {
		name      string
		assertion func(t *testing.T, f fixture) string
		code      int
	}{
		{"wrong audience", func(t *testing.T, f fixture) string {
			return ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(f.cert), ftAssertionClaims(ftDaemonApp, f.e.fabID, f.e.clock.Now()))
		}, 700027},
		{"expired", func(t *testing.T, f fixture) string {
			a := ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(f.cert), ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now()))
			f.e.clock.Advance(20 * time.Minute)
			return a
		}, 700024},
		{"not yet valid", func(t *testing.T, f fixture) string {
			c := ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now().Add(time.Hour))
			return ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(f.cert), c)
		}, 700024},
		{"future iat without nbf", func(t *testing.T, f fixture) string {
			// exp − iat is within AssertionMaxLifetime, but the assertion
			// would be usable for three days.
			c := ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now().Add(72*time.Hour))
			delete(c, "nbf")
			return ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(f.cert), c)
		}, 700024},
		{"unknown certificate", func(t *testing.T, f fixture) string {
			return ftSignJWT(t, ftRSA(t, 1), jose.PS256, ftMSALHeader(f.other), ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now()))
		}, 700027},
		{"signed by another key", func(t *testing.T, f fixture) string {
			return ftSignJWT(t, ftRSA(t, 1), jose.PS256, ftMSALHeader(f.cert), ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now()))
		}, 700027},
		{"expired certificate credential", func(t *testing.T, f fixture) string {
			short := ftCert(t, ftRSA(t, 1), 3, ftStart.Add(-time.Hour), ftStart.Add(time.Hour))
			ftOK(f.e.d.AddKey(f.e.ctx, System(), f.e.apps[ftDaemonApp].ID, KeySpec{DisplayName: "short cert", Certificate: short}))(t)
			f.e.clock.Advance(2 * time.Hour)
			return ftSignJWT(t, ftRSA(t, 1), jose.PS256, ftMSALHeader(short), ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now()))
		}, 700027},
		{"removed certificate", func(t *testing.T, f fixture) string {
			app := f.e.app(t, ftDaemonApp)
			if _, err := f.e.d.RemoveKey(f.e.ctx, System(), app.ID, app.KeyCredentials[0].KeyID); err != nil {
				t.Fatal(err)
			}
			return ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(f.cert), ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now()))
		}, 700027},
		{"EC key", func(t *testing.T, f fixture) string {
			ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			cert := ftCert(t, ec, 4, ftStart.Add(-time.Hour), ftStart.Add(24*time.Hour))
			ftOK(f.e.d.AddKey(f.e.ctx, System(), f.e.apps[ftDaemonApp].ID, KeySpec{DisplayName: "ec cert", Certificate: cert}))(t)
			return ftSignJWT(t, ec, jose.ES256, ftMSALHeader(cert), ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now()))
		}, 700027},
		{"issuer is another app", func(t *testing.T, f fixture) string {
			c := ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now())
			c["iss"], c["sub"] = ftWebApp, ftWebApp
			return ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(f.cert), c)
		}, 700027},
		{"subject differs from issuer", func(t *testing.T, f fixture) string {
			c := ftAssertionClaims(ftDaemonApp, f.e.conID, f.e.clock.Now())
			c["sub"] = ftWebApp
			return ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(f.cert), c)
		}, 700027},
		{"not a JWT", func(t *testing.T, f fixture) string { return "not-a-jwt" }, 700027},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			a := tc.assertion(t, f)
			_, err := f.e.assertionCC(f.e.conID, ftDaemonApp, a, orders)
			ftWantErr(t, err, tc.code, OAuthInvalidClient)
		})
	}
}

func TestFlowClientCredentialsFederated(t *testing.T) {
	orders := ftURI(ftOrdersApp) + "/.default"
	setup := func(t *testing.T) *ftEnv {
		e := newFT(t)
		ftOK(e.d.AddFederatedCredential(e.ctx, System(), e.apps[ftDaemonApp].ID, application.FederatedIdentityCredential{Name: "github-main", Issuer: ftFedIssuer, Subject: ftFedSubject}))(t)
		return e
	}
	t.Run("match, reused", func(t *testing.T) {
		e := setup(t)
		a := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
		for i := range 2 {
			tr, err := e.assertionCC(e.conID, ftDaemonApp, a, orders)
			if err != nil {
				t.Fatalf("use %d: %v", i+1, err)
			}
			c := ftClaims(t, tr.AccessToken)
			if c["azp"] != ftDaemonApp || c["azpacr"] != "2" || !slices.Equal(ftStrings(c, "roles"), []string{"Orders.Audit", "Orders.Sync"}) {
				t.Fatalf("claims = %v", c)
			}
			e.clock.Advance(time.Minute)
		}
	})
	for _, tc := range []struct {
		name      string
		assertion func(t *testing.T, e *ftEnv) string
		code      int
	}{
		{"issuer mismatch", func(t *testing.T, e *ftEnv) string {
			return ftFedToken(t, "https://gitlab.example.com", ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
		}, 700211},
		{"audience mismatch", func(t *testing.T, e *ftEnv) string {
			return ftFedToken(t, ftFedIssuer, ftFedSubject, "api://SomethingElse", e.clock.Now(), 10*time.Minute)
		}, 700212},
		{"subject mismatch", func(t *testing.T, e *ftEnv) string {
			return ftFedToken(t, ftFedIssuer, "repo:contoso/orders:ref:refs/heads/evil", application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
		}, 700213},
		{"subject differs in case only", func(t *testing.T, e *ftEnv) string {
			return ftFedToken(t, ftFedIssuer, strings.ToUpper(ftFedSubject), application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
		}, 700213},
		{"expired", func(t *testing.T, e *ftEnv) string {
			a := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
			e.clock.Advance(20 * time.Minute)
			return a
		}, 700024},
		{"signed by another key", func(t *testing.T, e *ftEnv) string {
			return ftSignJWT(t, ftRSA(t, 1), jose.RS256, map[string]any{"kid": ftFedKID}, map[string]any{
				"iss": ftFedIssuer, "sub": ftFedSubject, "aud": application.TokenExchangeAudience,
				"iat": e.clock.Now().Unix(), "nbf": e.clock.Now().Unix(), "exp": e.clock.Now().Add(10 * time.Minute).Unix(),
			})
		}, 70021},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			_, err := e.assertionCC(e.conID, ftDaemonApp, tc.assertion(t, e), orders)
			ftWantErr(t, err, tc.code, OAuthInvalidClient)
		})
	}
	t.Run("a user token of this service", func(t *testing.T) {
		e := setup(t)
		iss := "https://login.microsoftonline.com/" + e.conID + "/v2.0"
		ftOK(e.d.AddFederatedCredential(e.ctx, System(), e.apps[ftDaemonApp].ID, application.FederatedIdentityCredential{Name: "entra", Issuer: iss, Subject: e.alice.ID}))(t)
		user := e.webSignIn(t, e.alice.ID).AccessToken
		_, err := e.assertionCC(e.conID, ftDaemonApp, user, orders)
		ftWantErr(t, err, 700229, OAuthInvalidClient)
	})
	t.Run("credential removed", func(t *testing.T) {
		e := setup(t)
		a := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
		if _, err := e.assertionCC(e.conID, ftDaemonApp, a, orders); err != nil {
			t.Fatal(err)
		}
		app := e.app(t, ftDaemonApp)
		if _, err := e.d.RemoveFederatedCredential(e.ctx, System(), app.ID, app.FederatedIdentityCredentials[0].ID); err != nil {
			t.Fatal(err)
		}
		_, err := e.assertionCC(e.conID, ftDaemonApp, a, orders)
		ftWantErr(t, err, 700027, OAuthInvalidClient)
	})
}

// ---------------------------------------------------------------------------
// Authorization code.

func TestFlowAuthorizationCodeWeb(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid profile offline_access")
	ar, err := e.d.Issuer().Authorize(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if ar.State != "st-1" || ar.Platform != application.PlatformWeb || ar.RedirectURI != ftWebRedirect || len(ar.Code) < 32 {
		t.Fatalf("authorize response = %+v", ar)
	}
	if loc := ar.Location(); !strings.HasPrefix(loc, ftWebRedirect+"?") || !strings.Contains(loc, "state=st-1") || !strings.Contains(loc, "code=") {
		t.Fatalf("Location() = %q", loc)
	}
	// Alice's consent was recorded as hers (Principal), for the web app on
	// the API and, through knownClientApplications, for the API on its
	// downstream API.
	webSP, ordersSP, downSP := e.sp(t, ftWebApp, e.conID), e.sp(t, ftOrdersApp, e.conID), e.sp(t, ftDownApp, e.conID)
	grants := ftResourceGrants(t, e, webSP.ID, e.alice.ID, "email offline_access openid profile")
	if len(grants) != 1 || grants[0].ConsentType != consent.Principal || grants[0].PrincipalID != e.alice.ID || grants[0].ResourceID != ordersSP.ID || grants[0].Scope != "Orders.Read" {
		t.Fatalf("web app grants = %+v", grants)
	}
	combined := ftOK(e.d.Grants(e.ctx, System(), ordersSP.ID, PageRequest{}))(t).Items
	if len(combined) != 1 || combined[0].ConsentType != consent.Principal || combined[0].PrincipalID != e.alice.ID || combined[0].ResourceID != downSP.ID || combined[0].Scope != "Files.Read" {
		t.Fatalf("combined consent grants = %+v", combined)
	}
	tr, err := e.redeem(req, ar.Code)
	if err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.IDToken == "" || !strings.HasPrefix(tr.RefreshToken, "1.tnr.") {
		t.Fatalf("response = %+v", tr)
	}
	if got := strings.Fields(tr.Scope); !slices.Contains(got, ftURI(ftOrdersApp)+"/Orders.Read") || !slices.Contains(got, "openid") || !slices.Contains(got, "offline_access") {
		t.Fatalf("scope = %q", tr.Scope)
	}
	c := ftClaims(t, tr.AccessToken)
	want := map[string]any{
		"aud": ftOrdersApp, "iss": "https://login.microsoftonline.com/" + e.conID + "/v2.0", "ver": "2.0",
		"azp": ftWebApp, "azpacr": "1", "oid": e.alice.ID, "tid": e.conID, "scp": "Orders.Read",
		"name": "Alice", "preferred_username": "alice@contoso.com",
	}
	for k, v := range want {
		if diff := cmp.Diff(v, c[k]); diff != "" {
			t.Errorf("access claim %s (-want +got):\n%s", k, diff)
		}
	}
	if c["roles"] != nil || c["idtyp"] != nil {
		t.Errorf("delegated token has roles %v / idtyp %v", c["roles"], c["idtyp"])
	}
	p, err := e.d.Issuer().ValidateAccessToken(e.ctx, tr.AccessToken, ftOrdersApp)
	if err != nil {
		t.Fatal(err)
	}
	if p.IsApp || !p.HasScope("Orders.Read") || p.HasScope("Orders.Write") || p.ObjectID != e.alice.ID {
		t.Fatalf("principal = %+v", p)
	}
	// ID token: for the web app, with the nonce, oid, tid and a pairwise sub.
	idh, id := ftSegments(t, tr.IDToken)
	if _, ok := idh["x5t"]; ok {
		t.Errorf("ID token header has x5t: %v", idh)
	}
	wantID := map[string]any{
		"aud": ftWebApp, "iss": "https://login.microsoftonline.com/" + e.conID + "/v2.0", "ver": "2.0",
		"nonce": "n-0S6_WzA2Mj", "oid": e.alice.ID, "tid": e.conID, "preferred_username": "alice@contoso.com", "name": "Alice",
		"iat": float64(ftStart.Unix()), "exp": float64(ftStart.Add(time.Hour).Unix()),
	}
	for k, v := range wantID {
		if diff := cmp.Diff(v, id[k]); diff != "" {
			t.Errorf("ID claim %s (-want +got):\n%s", k, diff)
		}
	}
	for _, absent := range []string{"at_hash", "c_hash", "scp"} {
		if _, ok := id[absent]; ok {
			t.Errorf("ID token from /token has %s", absent)
		}
	}
	sub, _ := id["sub"].(string)
	if len(sub) != 43 || sub == e.alice.ID {
		t.Errorf("ID token sub = %q, want a 43-character pairwise value", sub)
	}
	// client_info: unpadded base64url of {"uid","utid"}.
	if strings.ContainsAny(tr.ClientInfo, "=+/") {
		t.Fatalf("client_info %q is not unpadded base64url", tr.ClientInfo)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tr.ClientInfo)
	if err != nil {
		t.Fatal(err)
	}
	var ci map[string]string
	if err := json.Unmarshal(raw, &ci); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"uid": e.alice.ID, "utid": e.conID}, ci); diff != "" {
		t.Fatalf("client_info (-want +got):\n%s", diff)
	}
	// The sign-in and the redemption are audited.
	ev := ftOK(e.d.auditLog(e.ctx))(t)
	if n := len(ev); n < 2 || ev[n-2].Action != "signIn.authorize" || ev[n-1].Action != "token.redeemCode" {
		t.Fatalf("last audit events: %+v", ev[max(0, n-2):])
	}
	for _, x := range ev {
		if strings.Contains(string(x.After), ar.Code) || strings.Contains(string(x.After), ftVerifier) {
			t.Fatal("audit log holds the code or the verifier")
		}
	}
}

func TestFlowAuthorizationCodePairwiseSubject(t *testing.T) {
	e := newFT(t)
	id1 := ftClaims(t, e.webSignIn(t, e.alice.ID).IDToken)
	id2 := ftClaims(t, e.signIn(t, e.authz(ftWeb2App, ftWeb2Redirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")).IDToken)
	if id1["oid"] != id2["oid"] || id1["oid"] != e.alice.ID {
		t.Fatalf("oid differs between apps: %v %v", id1["oid"], id2["oid"])
	}
	if id1["sub"] == id2["sub"] {
		t.Fatalf("sub %v is the same for two client apps", id1["sub"])
	}
	again := ftClaims(t, e.webSignIn(t, e.alice.ID).IDToken)
	if again["sub"] != id1["sub"] {
		t.Fatalf("sub not stable for the same user and app: %v then %v", id1["sub"], again["sub"])
	}
	bob := ftClaims(t, e.webSignIn(t, e.bob.ID).IDToken)
	if bob["sub"] == id1["sub"] {
		t.Fatal("two users share a sub")
	}
}

func TestFlowAuthorizationCodeWithoutPKCE(t *testing.T) {
	e := newFT(t)
	// A confidential web client may omit PKCE.
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	req.CodeChallenge, req.CodeChallengeMethod = "", ""
	ar, err := e.d.Issuer().Authorize(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect})
	if err != nil {
		t.Fatal(err)
	}
	if tr.RefreshToken != "" || tr.IDToken != "" || tr.ClientInfo != "" {
		t.Fatalf("no offline_access/openid/client_info asked, got %+v", tr)
	}
	// plain is allowed for web clients.
	req.CodeChallenge, req.CodeChallengeMethod = ftVerifier, token.PKCEPlain
	ar, err = e.d.Issuer().Authorize(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.redeem(req, ar.Code); err != nil {
		t.Fatal(err)
	}
}

func TestFlowAuthorizationCodePublicClients(t *testing.T) {
	for _, tc := range []struct {
		name, client, redirect string
		platform               application.RedirectURIPlatform
	}{
		{"spa", ftSPAApp, ftSPARedirect, application.PlatformSPA},
		{"public client on a loopback port", ftPublicApp, "http://localhost:53124", application.PlatformPublic},
		{"public client on another loopback port", ftPublicApp, "http://localhost:8400", application.PlatformPublic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFT(t)
			req := e.authz(tc.client, tc.redirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
			ar, err := e.d.Issuer().Authorize(e.ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if ar.Platform != tc.platform || ar.RedirectURI != tc.redirect {
				t.Fatalf("authorize response = %+v", ar)
			}
			// A public client must not present a secret.
			_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: tc.client, ClientSecret: "some-secret-value-1234", Code: ar.Code, RedirectURI: tc.redirect, CodeVerifier: ftVerifier})
			ftWantErr(t, err, 700025, OAuthInvalidClient)
			tr, err := e.redeem(req, ar.Code)
			if err != nil {
				t.Fatal(err)
			}
			c := ftClaims(t, tr.AccessToken)
			if c["azpacr"] != "0" || c["azp"] != tc.client || c["scp"] != "Orders.Read" {
				t.Fatalf("claims = %v", c)
			}
			// PKCE is mandatory, and must be S256.
			for _, m := range []struct{ challenge, method string }{{"", ""}, {ftVerifier, token.PKCEPlain}, {ftVerifier, ""}} {
				r := req
				r.CodeChallenge, r.CodeChallengeMethod = m.challenge, m.method
				_, err := e.d.Issuer().Authorize(e.ctx, r)
				ftWantErr(t, err, 9002325, OAuthInvalidRequest)
			}
		})
	}
}

func TestFlowAuthorizationCodeRefusals(t *testing.T) {
	readScope := ftURI(ftOrdersApp) + "/Orders.Read openid offline_access"
	type authFail struct {
		name   string
		setup  func(t *testing.T, e *ftEnv)
		req    func(e *ftEnv) AuthorizeRequest
		code   int
		oauth  string
		wraps  error
		sub    string
		noSP   string // appId that must not get a service principal in Fabrikam
		grants int    // web app grants expected afterwards in Contoso (-1: skip)
	}
	for _, tc := range []authFail{
		{name: "redirect URI not registered", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, "https://evil.example.com/auth", e.alice.ID, readScope)
		}, code: 50011, oauth: OAuthInvalidRequest},
		{name: "redirect URI differs in path", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect+"/x", e.alice.ID, readScope)
		}, code: 50011, oauth: OAuthInvalidRequest},
		{name: "redirect URI of another platform's app", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftSPARedirect, e.alice.ID, readScope)
		}, code: 50011, oauth: OAuthInvalidRequest},
		{name: "loopback with another path", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftPublicApp, "http://localhost:53124/other", e.alice.ID, readScope)
		}, code: 50011, oauth: OAuthInvalidRequest},
		{name: "https loopback", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftPublicApp, "https://localhost:53124", e.alice.ID, readScope)
		}, code: 50011, oauth: OAuthInvalidRequest},
		{name: "unknown client", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz("0d000000-0000-4000-8000-000000000009", ftWebRedirect, e.alice.ID, readScope)
		}, code: 700016, oauth: OAuthUnauthorizedClient},
		{name: "response_type token", req: func(e *ftEnv) AuthorizeRequest {
			r := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
			r.ResponseType = "token"
			return r
		}, code: 700054, oauth: "unsupported_response_type"},
		{name: "malformed S256 challenge", req: func(e *ftEnv) AuthorizeRequest {
			r := e.authz(ftSPAApp, ftSPARedirect, e.alice.ID, readScope)
			r.CodeChallenge = "short"
			return r
		}, code: 9002313, oauth: OAuthInvalidRequest},
		{name: "user consent disabled by policy", setup: func(t *testing.T, e *ftEnv) {
			p := tenant.DefaultPolicy()
			p.SetUserConsent(tenant.UserConsentNone)
			ftOK(e.d.SetAuthorizationPolicy(e.ctx, UserActor(e.admin.ID), e.conID, p))(t)
		}, req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
		}, code: 90094, oauth: OAuthConsentRequired, wraps: consent.ErrUserConsentDisabled, grants: 0},
		{name: "Admin-type scope", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Admin openid")
		}, code: 90094, oauth: OAuthConsentRequired, wraps: consent.ErrAdminConsentRequired, grants: 0},
		{name: "Admin-type scope next to a User-type one", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read "+ftURI(ftOrdersApp)+"/Orders.Admin")
		}, code: 90094, oauth: OAuthConsentRequired, wraps: consent.ErrAdminConsentRequired, grants: 0},
		{name: "prompt=none without consent", req: func(e *ftEnv) AuthorizeRequest {
			r := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
			r.Prompt = "none"
			return r
		}, code: 65001, oauth: OAuthInteractionRequired, sub: OAuthConsentRequired, grants: 0},
		{name: "scope the resource does not publish", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Delete")
		}, code: 65001, oauth: OAuthConsentRequired, wraps: consent.ErrUnknownScope, grants: 0},
		{name: "scope on two resources", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read "+ftURI(ftDownApp)+"/Files.Read")
		}, code: 700022, oauth: OAuthInvalidScope, grants: 0},
		{name: "user of another tenant at this tenant", req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.carol.ID, readScope)
		}, code: 50020, oauth: OAuthInvalidGrant, noSP: ftWebApp},
		{name: "disabled user", setup: func(t *testing.T, e *ftEnv) {
			ftOK(e.d.DisableUser(e.ctx, System(), e.alice.ID))(t)
		}, req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
		}, code: 50057, oauth: OAuthInvalidGrant, grants: 0},
		{name: "unknown tenant", req: func(e *ftEnv) AuthorizeRequest {
			r := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
			r.Tenant = "nowhere.example.com"
			return r
		}, code: 90002, oauth: OAuthInvalidTenant},
		{name: "client service principal disabled", setup: func(t *testing.T, e *ftEnv) {
			ftOK(e.d.DisableServicePrincipal(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID))(t)
		}, req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
		}, code: 7000112, oauth: OAuthUnauthorizedClient, grants: -1},
		{name: "appRoleAssignmentRequired on the client, user not assigned", setup: func(t *testing.T, e *ftEnv) {
			ftOK(e.d.Consent(e.ctx, UserActor(e.admin.ID), e.conID, ConsentSpec{ClientAppID: ftWebApp, Default: true, TenantWide: true}))(t)
			ftOK(e.d.UpdateServicePrincipal(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
				sp.AppRoleAssignmentRequired = true
				return nil
			}))(t)
		}, req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
		}, code: 50105, oauth: OAuthInvalidGrant, grants: 2},
		{name: "appRoleAssignmentRequired on the resource, user not assigned", setup: func(t *testing.T, e *ftEnv) {
			ftOK(e.d.Consent(e.ctx, UserActor(e.admin.ID), e.conID, ConsentSpec{ClientAppID: ftWebApp, Default: true, TenantWide: true}))(t)
			ftOK(e.d.UpdateServicePrincipal(e.ctx, System(), e.sp(t, ftOrdersApp, e.conID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
				sp.AppRoleAssignmentRequired = true
				return nil
			}))(t)
		}, req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
		}, code: 50105, oauth: OAuthInvalidGrant, grants: 2},
		{name: "appRoleAssignmentRequired on the client, no consent yet", setup: func(t *testing.T, e *ftEnv) {
			ftOK(e.d.UpdateServicePrincipal(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
				sp.AppRoleAssignmentRequired = true
				return nil
			}))(t)
		}, req: func(e *ftEnv) AuthorizeRequest {
			return e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
		}, code: 90094, oauth: OAuthConsentRequired, wraps: consent.ErrAdminConsentRequired, grants: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFT(t)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			before := len(ftOK(e.d.auditLog(e.ctx))(t))
			ar, err := e.d.Issuer().Authorize(e.ctx, tc.req(e))
			if ar != nil {
				t.Fatalf("got a response with the error: %+v", ar)
			}
			te := ftWantErr(t, err, tc.code, tc.oauth)
			if tc.wraps != nil && !errors.Is(err, tc.wraps) {
				t.Fatalf("error does not wrap %v: %v", tc.wraps, err)
			}
			if te.SubError != tc.sub {
				t.Fatalf("suberror %q, want %q", te.SubError, tc.sub)
			}
			if after := len(ftOK(e.d.auditLog(e.ctx))(t)); after != before {
				t.Fatalf("a refused authorization wrote %d audit events", after-before)
			}
			if tc.noSP != "" {
				if _, err := e.d.ServicePrincipalByAppID(e.ctx, System(), e.fabID, tc.noSP); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("service principal of %s in Fabrikam: %v", tc.noSP, err)
				}
			}
			if tc.grants >= 0 {
				if sp, err := e.d.ServicePrincipalByAppID(e.ctx, System(), e.conID, ftWebApp); err == nil {
					if n := len(ftOK(e.d.Grants(e.ctx, System(), sp.ID, PageRequest{}))(t).Items); n != tc.grants {
						t.Fatalf("web app holds %d grants, want %d", n, tc.grants)
					}
				}
			}
		})
	}
}

func TestFlowAuthorizationCodeRedemptionRefusals(t *testing.T) {
	readScope := ftURI(ftOrdersApp) + "/Orders.Read openid offline_access"
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, e *ftEnv, r *TokenRequest)
		code   int
		oauth  string
	}{
		{"code reuse", func(t *testing.T, e *ftEnv, r *TokenRequest) {
			if _, err := e.d.Issuer().Token(e.ctx, *r); err != nil {
				t.Fatal(err)
			}
		}, 54005, OAuthInvalidGrant},
		{"wrong verifier", func(t *testing.T, e *ftEnv, r *TokenRequest) {
			r.CodeVerifier = strings.Repeat("a", 43)
		}, 50148, OAuthInvalidGrant},
		{"no verifier", func(t *testing.T, e *ftEnv, r *TokenRequest) { r.CodeVerifier = "" }, 50148, OAuthInvalidGrant},
		{"the challenge as verifier", func(t *testing.T, e *ftEnv, r *TokenRequest) {
			r.CodeVerifier = token.S256Challenge(ftVerifier)
		}, 50148, OAuthInvalidGrant},
		{"wrong client", func(t *testing.T, e *ftEnv, r *TokenRequest) {
			r.ClientID, r.ClientSecret = ftWeb2App, e.secret[ftWeb2App]
		}, 70000, OAuthInvalidGrant},
		{"wrong redirect URI", func(t *testing.T, e *ftEnv, r *TokenRequest) {
			r.RedirectURI = ftWeb2Redirect
		}, 70000, OAuthInvalidGrant},
		{"expired code", func(t *testing.T, e *ftEnv, r *TokenRequest) {
			e.clock.Advance(10*time.Minute + time.Second)
		}, 70008, OAuthInvalidGrant},
		{"code at another tenant", func(t *testing.T, e *ftEnv, r *TokenRequest) { r.Tenant = e.fabID }, 700005, OAuthInvalidGrant},
		{"code at another tenant's domain", func(t *testing.T, e *ftEnv, r *TokenRequest) { r.Tenant = "fabrikam.com" }, 700005, OAuthInvalidGrant},
		{"no client secret", func(t *testing.T, e *ftEnv, r *TokenRequest) { r.ClientSecret = "" }, 7000218, OAuthInvalidClient},
		{"wrong client secret", func(t *testing.T, e *ftEnv, r *TokenRequest) { r.ClientSecret = e.secret[ftWeb2App] }, 7000215, OAuthInvalidClient},
		{"unknown code", func(t *testing.T, e *ftEnv, r *TokenRequest) { r.Code = "bm8tc3VjaC1jb2Rl" }, 70000, OAuthInvalidGrant},
		{"no code", func(t *testing.T, e *ftEnv, r *TokenRequest) { r.Code = "" }, 900144, OAuthInvalidRequest},
		{"user disabled after authorize", func(t *testing.T, e *ftEnv, r *TokenRequest) {
			ftOK(e.d.DisableUser(e.ctx, System(), e.alice.ID))(t)
		}, 50057, OAuthInvalidGrant},
		{"consent revoked after authorize", func(t *testing.T, e *ftEnv, r *TokenRequest) {
			for _, g := range ftOK(e.d.Grants(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID, PageRequest{}))(t).Items {
				if err := e.d.DeleteGrant(e.ctx, UserActor(e.alice.ID), g.ID); err != nil {
					t.Fatal(err)
				}
			}
		}, 65001, OAuthInvalidGrant},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFT(t)
			areq := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, readScope)
			ar := ftOK(e.d.Issuer().Authorize(e.ctx, areq))(t)
			r := TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect, CodeVerifier: ftVerifier}
			tc.mutate(t, e, &r)
			tr, err := e.d.Issuer().Token(e.ctx, r)
			if tr != nil {
				t.Fatalf("got tokens: %+v", tr)
			}
			ftWantErr(t, err, tc.code, tc.oauth)
		})
	}
}

func TestFlowAuthorizationCodeFailedRedemptionKeepsCode(t *testing.T) {
	// A failed redemption (wrong verifier) does not burn the code, and a
	// successful one does: the next use is 54005.
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	bad := TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect, CodeVerifier: strings.Repeat("b", 50)}
	_, err := e.d.Issuer().Token(e.ctx, bad)
	ftWantErr(t, err, 50148, OAuthInvalidGrant)
	if _, err := e.redeem(req, ar.Code); err != nil {
		t.Fatal(err)
	}
	_, err = e.redeem(req, ar.Code)
	ftWantErr(t, err, 54005, OAuthInvalidGrant)
}

func TestFlowAuthorizationCodeConsent(t *testing.T) {
	t.Run("prompt=none after consent", func(t *testing.T) {
		e := newFT(t)
		e.webSignIn(t, e.alice.ID)
		req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
		req.Prompt = "none"
		if _, err := e.redeem(req, ftOK(e.d.Issuer().Authorize(e.ctx, req))(t).Code); err != nil {
			t.Fatal(err)
		}
		// Another user still has no consent.
		req.UserID = e.bob.ID
		_, err := e.d.Issuer().Authorize(e.ctx, req)
		ftWantErr(t, err, 65001, OAuthInteractionRequired)
	})
	t.Run("admin consent covers every user", func(t *testing.T) {
		e := newFT(t)
		p := tenant.DefaultPolicy()
		p.SetUserConsent(tenant.UserConsentNone)
		ftOK(e.d.SetAuthorizationPolicy(e.ctx, UserActor(e.admin.ID), e.conID, p))(t)
		ftOK(e.d.Consent(e.ctx, UserActor(e.admin.ID), e.conID, ConsentSpec{ClientAppID: ftWebApp, Default: true, TenantWide: true}))(t)
		for _, u := range []string{e.alice.ID, e.bob.ID} {
			req := e.authz(ftWebApp, ftWebRedirect, u, ftURI(ftOrdersApp)+"/Orders.Read "+ftURI(ftOrdersApp)+"/Orders.Write openid")
			req.Prompt = "none"
			tr := e.signIn(t, req)
			if got := ftScp(ftClaims(t, tr.AccessToken)); !slices.Equal(got, []string{"Orders.Read", "Orders.Write"}) {
				t.Fatalf("scp = %v", got)
			}
		}
		// Only the admin's grant exists: nobody consented for self.
		for _, g := range ftOK(e.d.Grants(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID, PageRequest{}))(t).Items {
			if g.ConsentType != consent.AllPrincipals {
				t.Fatalf("unexpected grant %+v", g)
			}
		}
	})
	t.Run(".default uses what was consented", func(t *testing.T) {
		e := newFT(t)
		ftOK(e.d.Consent(e.ctx, UserActor(e.admin.ID), e.conID, ConsentSpec{ClientAppID: ftWebApp, Default: true, TenantWide: true}))(t)
		tr := e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/.default openid"))
		if got := ftScp(ftClaims(t, tr.AccessToken)); !slices.Equal(got, []string{"Orders.Read", "Orders.Write"}) {
			t.Fatalf("scp = %v", got)
		}
	})
	t.Run("incremental consent", func(t *testing.T) {
		e := newFT(t)
		e.webSignIn(t, e.alice.ID)
		tr := e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Write"))
		if got := ftScp(ftClaims(t, tr.AccessToken)); !slices.Equal(got, []string{"Orders.Write"}) {
			t.Fatalf("scp = %v", got)
		}
		grants := ftResourceGrants(t, e, e.sp(t, ftWebApp, e.conID).ID, e.alice.ID, "email offline_access openid profile")
		if len(grants) != 1 || grants[0].Scope != "Orders.Read Orders.Write" {
			t.Fatalf("grants = %+v", grants)
		}
	})
	t.Run("disabled scope is not granted", func(t *testing.T) {
		e := newFT(t)
		ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
			for i := range a.API.OAuth2PermissionScopes {
				if a.API.OAuth2PermissionScopes[i].ID == ftScopeWrite {
					a.API.OAuth2PermissionScopes[i].IsEnabled = false
				}
			}
			return nil
		}))(t)
		_, err := e.d.Issuer().Authorize(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Write"))
		if err == nil || !errors.Is(err, consent.ErrScopeDisabled) {
			t.Fatalf("consent to a disabled scope: %v", err)
		}
	})
}

func TestFlowAuthorizationCodeMultiTenant(t *testing.T) {
	for _, seg := range []func(e *ftEnv) string{
		func(e *ftEnv) string { return e.fabID },
		func(e *ftEnv) string { return "fabrikam.com" },
		func(e *ftEnv) string { return "common" },
		func(e *ftEnv) string { return "organizations" },
	} {
		e := newFT(t)
		s := seg(e)
		t.Run(s, func(t *testing.T) {
			if _, err := e.d.ServicePrincipalByAppID(e.ctx, System(), e.fabID, ftWebApp); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("web app already in Fabrikam: %v", err)
			}
			req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
			req.Tenant = s
			tr := e.signIn(t, req)
			webSP := e.sp(t, ftWebApp, e.fabID)
			ordersSP := e.sp(t, ftOrdersApp, e.fabID)
			if webSP.AppOwnerOrganizationID != e.conID || ordersSP.AppOwnerOrganizationID != e.conID {
				t.Fatalf("foreign service principals: %+v %+v", webSP, ordersSP)
			}
			grants := ftResourceGrants(t, e, webSP.ID, e.carol.ID, "email offline_access openid profile")
			if len(grants) != 1 || grants[0].TenantID != e.fabID || grants[0].PrincipalID != e.carol.ID || grants[0].ResourceID != ordersSP.ID {
				t.Fatalf("grants in Fabrikam = %+v", grants)
			}
			c := ftClaims(t, tr.AccessToken)
			if c["tid"] != e.fabID || c["oid"] != e.carol.ID || c["iss"] != "https://login.microsoftonline.com/"+e.fabID+"/v2.0" {
				t.Fatalf("claims = %v", c)
			}
			if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, tr.AccessToken, ftOrdersApp); err != nil {
				t.Fatal(err)
			}
			// Fabrikam can restrict the app's validator to itself; Contoso's
			// tokens are then refused.
			v := ftOK(ftValidator(e, []string{ftOrdersApp}, e.fabID))(t)
			if _, err := v.Validate(e.ctx, tr.AccessToken); err != nil {
				t.Fatal(err)
			}
			own := e.webSignIn(t, e.alice.ID)
			if _, err := v.Validate(e.ctx, own.AccessToken); !errors.Is(err, token.ErrTenant) {
				t.Fatalf("Contoso token at a Fabrikam-only validator: %v", err)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Refresh tokens.

func TestFlowRefreshRotation(t *testing.T) {
	e := newFT(t)
	first := e.webSignIn(t, e.alice.ID)
	e.clock.Advance(30 * time.Minute)
	second, err := e.refresh(ftWebApp, first.RefreshToken, "")
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if second.IDToken == "" || second.Scope != first.Scope {
		t.Fatalf("refreshed response = %+v, want the same scope %q and an ID token", second, first.Scope)
	}
	c := ftClaims(t, second.AccessToken)
	if c["scp"] != "Orders.Read" || c["oid"] != e.alice.ID || c["iat"] != float64(ftStart.Add(30*time.Minute).Unix()) {
		t.Fatalf("refreshed claims = %v", c)
	}
	if id := ftClaims(t, second.IDToken); id["nonce"] != nil {
		t.Fatalf("ID token from a refresh echoes the nonce %v", id["nonce"])
	}
	// The old refresh token stays valid (as in Entra), and so does the new.
	for i, rt := range []string{first.RefreshToken, second.RefreshToken} {
		if _, err := e.refresh(ftWebApp, rt, ""); err != nil {
			t.Fatalf("refresh token %d: %v", i+1, err)
		}
	}
	// A narrower scope works, a scope not consented does not.
	if tr, err := e.refresh(ftWebApp, second.RefreshToken, ftURI(ftOrdersApp)+"/Orders.Read"); err != nil || tr.RefreshToken != "" {
		t.Fatalf("narrower scope: %+v, %v (no offline_access asked: no refresh token)", tr, err)
	}
	_, err = e.refresh(ftWebApp, second.RefreshToken, ftURI(ftOrdersApp)+"/Orders.Write offline_access")
	te := ftWantErr(t, err, 65001, OAuthInvalidGrant)
	if te.SubError != OAuthConsentRequired {
		t.Fatalf("suberror %q", te.SubError)
	}
	// The refresh token is bound to its client.
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftWeb2App, ClientSecret: e.secret[ftWeb2App], RefreshToken: second.RefreshToken})
	ftWantErr(t, err, 70000, OAuthInvalidGrant)
	// ... and to its tenant.
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: second.RefreshToken})
	ftWantErr(t, err, 700005, OAuthInvalidGrant)
	// common and the home tenant's domain are fine.
	for _, seg := range []string{"common", "contoso.com", "organizations"} {
		if _, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: seg, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: second.RefreshToken}); err != nil {
			t.Fatalf("at %s: %v", seg, err)
		}
	}
}

func TestFlowRefreshForAnotherResource(t *testing.T) {
	// A refresh token is bound to user and client, not to a resource: the
	// web app redeems it for the downstream API once consented.
	e := newFT(t)
	tr := e.webSignIn(t, e.alice.ID)
	_, err := e.refresh(ftWebApp, tr.RefreshToken, ftURI(ftDownApp)+"/Files.Read")
	ftWantErr(t, err, 65001, OAuthInvalidGrant)
	e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftDownApp)+"/Files.Read"))
	got, err := e.refresh(ftWebApp, tr.RefreshToken, ftURI(ftDownApp)+"/Files.Read")
	if err != nil {
		t.Fatal(err)
	}
	if c := ftClaims(t, got.AccessToken); c["aud"] != ftDownApp || c["scp"] != "Files.Read" {
		t.Fatalf("claims = %v", c)
	}
}

func TestFlowRefreshRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		event func(t *testing.T, e *ftEnv)
		code  int
		oauth string
		sub   string
	}{
		{"sign-in sessions revoked", func(t *testing.T, e *ftEnv) {
			ftOK(e.d.RevokeSignInSessions(e.ctx, System(), e.alice.ID))(t)
		}, 50173, OAuthInvalidGrant, "bad_token"},
		{"grant revoked", func(t *testing.T, e *ftEnv) {
			for _, g := range ftOK(e.d.Grants(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID, PageRequest{}))(t).Items {
				if err := e.d.DeleteGrant(e.ctx, UserActor(e.alice.ID), g.ID); err != nil {
					t.Fatal(err)
				}
			}
		}, 65001, OAuthInvalidGrant, OAuthConsentRequired},
		{"scope revoked from the grant", func(t *testing.T, e *ftEnv) {
			e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Write"))
			for _, g := range ftOK(e.d.Grants(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID, PageRequest{}))(t).Items {
				if err := e.d.revokeGrant(e.ctx, UserActor(e.alice.ID), g.ID, []string{"Orders.Read"}); err != nil {
					t.Fatal(err)
				}
			}
		}, 65001, OAuthInvalidGrant, OAuthConsentRequired},
		{"scope disabled by the API", func(t *testing.T, e *ftEnv) {
			ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
				a.API.OAuth2PermissionScopes[0].IsEnabled = false
				return nil
			}))(t)
		}, 65001, OAuthInvalidGrant, OAuthConsentRequired},
		{"user disabled", func(t *testing.T, e *ftEnv) {
			ftOK(e.d.DisableUser(e.ctx, System(), e.alice.ID))(t)
		}, 50057, OAuthInvalidGrant, ""},
		{"client service principal disabled", func(t *testing.T, e *ftEnv) {
			ftOK(e.d.DisableServicePrincipal(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID))(t)
		}, 7000112, OAuthUnauthorizedClient, ""},
		{"resource service principal disabled", func(t *testing.T, e *ftEnv) {
			ftOK(e.d.DisableServicePrincipal(e.ctx, System(), e.sp(t, ftOrdersApp, e.conID).ID))(t)
		}, 7000112, OAuthUnauthorizedClient, ""},
		{"client app soft-deleted", func(t *testing.T, e *ftEnv) {
			if err := e.d.DeleteApplication(e.ctx, System(), e.apps[ftWebApp].ID); err != nil {
				t.Fatal(err)
			}
		}, 700016, OAuthUnauthorizedClient, ""},
		{"resource app soft-deleted", func(t *testing.T, e *ftEnv) {
			if err := e.d.DeleteApplication(e.ctx, System(), e.apps[ftOrdersApp].ID); err != nil {
				t.Fatal(err)
			}
		}, 500011, OAuthInvalidResource, ""},
		{"client secret removed", func(t *testing.T, e *ftEnv) {
			if _, err := e.d.RemovePassword(e.ctx, System(), e.apps[ftWebApp].ID, e.keyID[ftWebApp]); err != nil {
				t.Fatal(err)
			}
		}, 7000215, OAuthInvalidClient, ""},
		{"client secret expired", func(t *testing.T, e *ftEnv) {
			ftOK(e.d.AddPassword(e.ctx, System(), e.apps[ftWebApp].ID, PasswordSpec{Secret: "short-lived-secret-0002", End: e.clock.Now().Add(time.Hour)}))(t)
			e.secret[ftWebApp] = "short-lived-secret-0002"
			e.clock.Advance(2 * time.Hour)
		}, 7000222, OAuthInvalidClient, ""},
		{"appRoleAssignmentRequired set on the client", func(t *testing.T, e *ftEnv) {
			ftOK(e.d.UpdateServicePrincipal(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
				sp.AppRoleAssignmentRequired = true
				return nil
			}))(t)
		}, 50105, OAuthInvalidGrant, ""},
		{"inactive for 90 days", func(t *testing.T, e *ftEnv) {
			ftOK(e.d.AddPassword(e.ctx, System(), e.apps[ftWebApp].ID, PasswordSpec{Secret: "long-lived-secret-0001", End: ftStart.Add(400 * 24 * time.Hour)}))(t)
			e.secret[ftWebApp] = "long-lived-secret-0001"
			e.clock.Advance(90*24*time.Hour + time.Minute)
		}, 700082, OAuthInvalidGrant, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFT(t)
			tr := e.webSignIn(t, e.alice.ID)
			e.clock.Advance(time.Minute)
			if _, err := e.refresh(ftWebApp, tr.RefreshToken, ""); err != nil {
				t.Fatalf("before the event: %v", err)
			}
			tc.event(t, e)
			got, err := e.refresh(ftWebApp, tr.RefreshToken, "")
			if got != nil {
				t.Fatalf("got tokens after the event: %+v", got)
			}
			te := ftWantErr(t, err, tc.code, tc.oauth)
			if te.SubError != tc.sub {
				t.Fatalf("suberror %q, want %q", te.SubError, tc.sub)
			}
		})
	}
}

func TestFlowRefreshAfterRecovery(t *testing.T) {
	e := newFT(t)
	tr := e.webSignIn(t, e.alice.ID)
	ftOK(e.d.RevokeSignInSessions(e.ctx, System(), e.alice.ID))(t)
	_, err := e.refresh(ftWebApp, tr.RefreshToken, "")
	te := ftWantErr(t, err, 50173, OAuthInvalidGrant)
	if !strings.Contains(te.ErrorDescription, "TokensValidFrom") {
		t.Errorf("description %q does not name TokensValidFrom", te.ErrorDescription)
	}
	// A sign-in after the revocation yields a working refresh token; the
	// old one stays dead.
	e.clock.Advance(time.Second)
	fresh := e.webSignIn(t, e.alice.ID)
	if _, err := e.refresh(ftWebApp, fresh.RefreshToken, ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(ftWebApp, tr.RefreshToken, "")
	ftWantErr(t, err, 50173, OAuthInvalidGrant)
	// A refresh token issued from a refresh keeps the original sign-in
	// time: revocation kills the whole chain.
	chained, err := e.refresh(ftWebApp, fresh.RefreshToken, "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	ftOK(e.d.RevokeSignInSessions(e.ctx, System(), e.alice.ID))(t)
	_, err = e.refresh(ftWebApp, chained.RefreshToken, "")
	ftWantErr(t, err, 50173, OAuthInvalidGrant)
	// A restored application gets tokens again.
	e.clock.Advance(time.Second)
	fresh = e.webSignIn(t, e.alice.ID)
	if err := e.d.DeleteApplication(e.ctx, System(), e.apps[ftWebApp].ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(ftWebApp, fresh.RefreshToken, "")
	ftWantErr(t, err, 700016, OAuthUnauthorizedClient)
	ftOK(e.d.RestoreApplication(e.ctx, System(), e.apps[ftWebApp].ID))(t)
	if _, err := e.refresh(ftWebApp, fresh.RefreshToken, ""); err != nil {
		t.Fatalf("after restore: %v", err)
	}
}

func TestFlowRefreshSPAFixedLifetime(t *testing.T) {
	e := newFT(t)
	rt0 := e.signIn(t, e.authz(ftSPAApp, ftSPARedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")).RefreshToken
	e.clock.Advance(23 * time.Hour)
	tr, err := e.refresh(ftSPAApp, rt0, "")
	if err != nil {
		t.Fatal(err)
	}
	if c := ftClaims(t, tr.AccessToken); c["azpacr"] != "0" {
		t.Fatalf("SPA token azpacr = %v", c["azpacr"])
	}
	// The new refresh token keeps the original 24-hour end.
	e.clock.Advance(time.Hour + time.Second)
	for _, rt := range []string{rt0, tr.RefreshToken} {
		_, err := e.refresh(ftSPAApp, rt, "")
		ftWantErr(t, err, 700084, OAuthInvalidGrant)
	}
	// A public desktop client's refresh token is not limited that way.
	e2 := newFT(t)
	req := e2.authz(ftPublicApp, "http://localhost:6000", e2.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read offline_access")
	rt := e2.signIn(t, req).RefreshToken
	e2.clock.Advance(30 * 24 * time.Hour)
	if _, err := e2.refresh(ftPublicApp, rt, ""); err != nil {
		t.Fatalf("public client refresh after 30 days: %v", err)
	}
}

func TestFlowRefreshTampered(t *testing.T) {
	e := newFT(t)
	rt := e.webSignIn(t, e.alice.ID).RefreshToken
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, bad := range []string{
		flip(rt, len(rt)/2), flip(rt, len(rt)-2), flip(rt, len("1.tnr.")+1), flip(rt, 0),
		rt[:len(rt)-4], rt + "AAAA", "1.tnr.", "", "garbage", strings.Replace(rt, "1.tnr.", "2.tnr.", 1),
	} {
		_, err := e.refresh(ftWebApp, bad, "")
		ftWantErr(t, err, 9002313, OAuthInvalidGrant)
	}
	// A refresh token of another Directory (another sealing key) is refused.
	other := newFT(t)
	foreign := other.webSignIn(t, other.alice.ID).RefreshToken
	_, err := e.refresh(ftWebApp, foreign, "")
	ftWantErr(t, err, 9002313, OAuthInvalidGrant)
}

// ---------------------------------------------------------------------------
// On-behalf-of.

// obo exchanges assertion at the Orders API (the middle tier) for scope.
func (e *ftEnv) obo(clientID, assertion, scope string) (*TokenResponse, error) {
	return e.d.Issuer().Token(e.ctx, TokenRequest{
		Tenant: e.conID, GrantType: GrantJWTBearer, ClientID: clientID, ClientSecret: e.secret[clientID],
		Assertion: assertion, RequestedTokenUse: "on_behalf_of", Scope: scope,
	})
}

func TestFlowOnBehalfOf(t *testing.T) {
	down := ftURI(ftDownApp)
	t.Run("combined consent through knownClientApplications", func(t *testing.T) {
		e := newFT(t)
		user := e.webSignIn(t, e.alice.ID)
		if aud := ftClaims(t, user.AccessToken)["aud"]; aud != ftOrdersApp {
			t.Fatalf("incoming token aud = %v", aud)
		}
		e.clock.Advance(5 * time.Minute)
		tr, err := e.obo(ftOrdersApp, user.AccessToken, down+"/Files.Read offline_access")
		if err != nil {
			t.Fatal(err)
		}
		c := ftClaims(t, tr.AccessToken)
		want := map[string]any{"aud": ftDownApp, "azp": ftOrdersApp, "azpacr": "1", "oid": e.alice.ID, "tid": e.conID, "scp": "Files.Read"}
		for k, v := range want {
			if diff := cmp.Diff(v, c[k]); diff != "" {
				t.Errorf("claim %s (-want +got):\n%s", k, diff)
			}
		}
		if tr.RefreshToken == "" || tr.Scope != down+"/Files.Read offline_access" {
			t.Fatalf("response = %+v", tr)
		}
		if p, err := e.d.Issuer().ValidateAccessToken(e.ctx, tr.AccessToken, ftDownApp); err != nil || p.IsApp {
			t.Fatalf("downstream validation: %+v, %v", p, err)
		}
		// .default gives what is granted to the middle tier, no more.
		tr, err = e.obo(ftOrdersApp, user.AccessToken, down+"/.default")
		if err != nil {
			t.Fatal(err)
		}
		if got := ftScp(ftClaims(t, tr.AccessToken)); !slices.Equal(got, []string{"Files.Read"}) {
			t.Fatalf(".default scp = %v", got)
		}
		// A scope not granted to the middle tier is refused.
		_, err = e.obo(ftOrdersApp, user.AccessToken, down+"/Files.Write")
		te := ftWantErr(t, err, 65001, OAuthInvalidGrant)
		if te.SubError != OAuthConsentRequired {
			t.Fatalf("suberror %q", te.SubError)
		}
		// The user's roles on the middle tier are not carried downstream.
		if c := ftClaims(t, tr.AccessToken); c["roles"] != nil {
			t.Fatalf("downstream token carries roles %v", c["roles"])
		}
	})
	t.Run("admin consent for the middle tier", func(t *testing.T) {
		e := newFT(t)
		// Web2 is not a known client of the Orders API: no combined consent.
		user := e.signIn(t, e.authz(ftWeb2App, ftWeb2Redirect, e.bob.ID, ftURI(ftOrdersApp)+"/Orders.Read"))
		_, err := e.obo(ftOrdersApp, user.AccessToken, down+"/Files.Read")
		ftWantErr(t, err, 65001, OAuthInvalidGrant)
		ftOK(e.d.Consent(e.ctx, UserActor(e.admin.ID), e.conID, ConsentSpec{ClientAppID: ftOrdersApp, Default: true, TenantWide: true}))(t)
		tr, err := e.obo(ftOrdersApp, user.AccessToken, down+"/Files.Read")
		if err != nil {
			t.Fatal(err)
		}
		if c := ftClaims(t, tr.AccessToken); c["oid"] != e.bob.ID || c["scp"] != "Files.Read" || c["azp"] != ftOrdersApp {
			t.Fatalf("claims = %v", c)
		}
	})
	t.Run("certificate-authenticated middle tier", func(t *testing.T) {
		e := newFT(t)
		user := e.webSignIn(t, e.alice.ID)
		cert := ftCert(t, ftRSA(t, 0), 7, ftStart.Add(-time.Hour), ftStart.Add(24*time.Hour))
		ftOK(e.d.AddKey(e.ctx, System(), e.apps[ftOrdersApp].ID, KeySpec{DisplayName: "mid", Certificate: cert}))(t)
		a := ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(cert), ftAssertionClaims(ftOrdersApp, e.conID, e.clock.Now()))
		tr, err := e.d.Issuer().Token(e.ctx, TokenRequest{
			Tenant: e.conID, GrantType: GrantJWTBearer, ClientID: ftOrdersApp, ClientAssertionType: token.ClientAssertionType, ClientAssertion: a,
			Assertion: user.AccessToken, RequestedTokenUse: "on_behalf_of", Scope: down + "/Files.Read",
		})
		if err != nil {
			t.Fatal(err)
		}
		if c := ftClaims(t, tr.AccessToken); c["azpacr"] != "2" {
			t.Fatalf("azpacr = %v", c["azpacr"])
		}
	})
}

func TestFlowOnBehalfOfRefusals(t *testing.T) {
	down := ftURI(ftDownApp) + "/Files.Read"
	for _, tc := range []struct {
		name  string
		req   func(t *testing.T, e *ftEnv, user string) TokenRequest
		code  int
		oauth string
	}{
		{"app-only incoming token", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			tr := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t)
			return TokenRequest{ClientID: ftOrdersApp, Assertion: tr.AccessToken}
		}, 7000114, OAuthUnauthorizedClient},
		{"token for another audience", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			return TokenRequest{ClientID: ftWeb2App, Assertion: user}
		}, 50013, OAuthInvalidGrant},
		{"token for the downstream API presented by it", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			ftOK(e.d.AddPassword(e.ctx, System(), e.apps[ftDownApp].ID, PasswordSpec{Secret: "downstream-secret-0001"}))(t)
			e.secret[ftDownApp] = "downstream-secret-0001"
			return TokenRequest{ClientID: ftDownApp, Assertion: user, Scope: ftURI(ftOrdersApp) + "/Orders.Read"}
		}, 50013, OAuthInvalidGrant},
		{"expired incoming token", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			e.clock.Advance(2 * time.Hour)
			return TokenRequest{ClientID: ftOrdersApp, Assertion: user}
		}, 500133, OAuthInvalidGrant},
		{"tampered incoming token", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			parts := strings.Split(user, ".")
			c := ftClaims(t, user)
			c["scp"] = "Orders.Read Orders.Write Orders.Admin"
			b, _ := json.Marshal(c)
			parts[1] = base64.RawURLEncoding.EncodeToString(b)
			return TokenRequest{ClientID: ftOrdersApp, Assertion: strings.Join(parts, ".")}
		}, 50013, OAuthInvalidGrant},
		{"token signed by another directory", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			other := newFT(t)
			return TokenRequest{ClientID: ftOrdersApp, Assertion: other.webSignIn(t, other.alice.ID).AccessToken}
		}, 50013, OAuthInvalidGrant},
		{"garbage assertion", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			return TokenRequest{ClientID: ftOrdersApp, Assertion: "not.a.token"}
		}, 50013, OAuthInvalidGrant},
		{"no requested_token_use", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			return TokenRequest{ClientID: ftOrdersApp, Assertion: user, RequestedTokenUse: "-"}
		}, 900144, OAuthInvalidRequest},
		{"no assertion", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			return TokenRequest{ClientID: ftOrdersApp}
		}, 900144, OAuthInvalidRequest},
		{"wrong middle-tier secret", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			return TokenRequest{ClientID: ftOrdersApp, ClientSecret: e.secret[ftWebApp], Assertion: user}
		}, 7000215, OAuthInvalidClient},
		{"middle tier without credential", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			return TokenRequest{ClientID: ftOrdersApp, ClientSecret: "-", Assertion: user}
		}, 7000218, OAuthInvalidClient},
		{"user's sessions revoked", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			ftOK(e.d.RevokeSignInSessions(e.ctx, System(), e.alice.ID))(t)
			return TokenRequest{ClientID: ftOrdersApp, Assertion: user}
		}, 50173, OAuthInvalidGrant},
		{"user disabled", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			ftOK(e.d.DisableUser(e.ctx, System(), e.alice.ID))(t)
			return TokenRequest{ClientID: ftOrdersApp, Assertion: user}
		}, 50057, OAuthInvalidGrant},
		{"middle tier disabled", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			ftOK(e.d.DisableServicePrincipal(e.ctx, System(), e.sp(t, ftOrdersApp, e.conID).ID))(t)
			return TokenRequest{ClientID: ftOrdersApp, Assertion: user}
		}, 7000112, OAuthUnauthorizedClient},
		{"at another tenant", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			return TokenRequest{Tenant: e.fabID, ClientID: ftOrdersApp, Assertion: user}
		}, 700005, OAuthInvalidGrant},
		{"unknown middle tier", func(t *testing.T, e *ftEnv, user string) TokenRequest {
			return TokenRequest{ClientID: "0d000000-0000-4000-8000-00000000000a", ClientSecret: "some-secret-value-123", Assertion: user}
		}, 700016, OAuthUnauthorizedClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFT(t)
			user := e.webSignIn(t, e.alice.ID).AccessToken
			r := tc.req(t, e, user)
			r.GrantType = GrantJWTBearer
			if r.Tenant == "" {
				r.Tenant = e.conID
			}
			switch r.ClientSecret {
			case "":
				r.ClientSecret = e.secret[r.ClientID]
			case "-":
				r.ClientSecret = ""
			}
			switch r.RequestedTokenUse {
			case "":
				r.RequestedTokenUse = "on_behalf_of"
			case "-":
				r.RequestedTokenUse = ""
			}
			if r.Scope == "" {
				r.Scope = down
			}
			tr, err := e.d.Issuer().Token(e.ctx, r)
			if tr != nil {
				t.Fatalf("got tokens: %+v", tr)
			}
			ftWantErr(t, err, tc.code, tc.oauth)
		})
	}
}

// ---------------------------------------------------------------------------
// Device code.

func (e *ftEnv) poll(clientID, deviceCode string) (*TokenResponse, error) {
	return e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantDeviceCode, ClientID: clientID, DeviceCode: deviceCode, ClientInfo: true})
}

func TestFlowDeviceCode(t *testing.T) {
	e := newFT(t)
	da, err := e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read openid offline_access"})
	if err != nil {
		t.Fatal(err)
	}
	if da.ExpiresIn != 900 || da.Interval != 5 || da.VerificationURI != "https://microsoft.com/devicelogin" || len(da.UserCode) != 9 || len(da.DeviceCode) < 32 || !strings.Contains(da.Message, da.UserCode) {
		t.Fatalf("device authorization = %+v", da)
	}
	if b, _ := json.Marshal(da); strings.Contains(string(b), "verification_uri_complete") {
		t.Fatalf("device authorization JSON has verification_uri_complete: %s", b)
	}
	// Pending: HTTP 400 authorization_pending, as MSAL expects.
	for range 2 {
		_, err = e.poll(ftPublicApp, da.DeviceCode)
		te := ftWantErr(t, err, 70016, OAuthAuthorizationPending)
		if te.Status != http.StatusBadRequest {
			t.Fatalf("pending status %d", te.Status)
		}
	}
	// The user enters the code (case and spaces do not matter) and approves.
	e.clock.Advance(time.Minute)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), " "+strings.ToLower(da.UserCode)+" "); err != nil {
		t.Fatal(err)
	}
	// Approving again is refused.
	err = e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode)
	ftWantErr(t, err, 54005, OAuthInvalidGrant)
	// Another client cannot redeem the device code.
	_, err = e.poll(ftSPAApp, da.DeviceCode)
	ftWantErr(t, err, 70018, OAuthBadVerificationCode)
	tr, err := e.poll(ftPublicApp, da.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	if tr.RefreshToken == "" || tr.IDToken == "" || tr.ClientInfo == "" {
		t.Fatalf("response = %+v", tr)
	}
	c := ftClaims(t, tr.AccessToken)
	if c["oid"] != e.alice.ID || c["azp"] != ftPublicApp || c["azpacr"] != "0" || c["scp"] != "Orders.Read" {
		t.Fatalf("claims = %v", c)
	}
	// Tokens once: the second poll is refused.
	_, err = e.poll(ftPublicApp, da.DeviceCode)
	ftWantErr(t, err, 54005, OAuthInvalidGrant)
	// The refresh token works for the public client without a secret.
	if _, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftPublicApp, RefreshToken: tr.RefreshToken}); err != nil {
		t.Fatal(err)
	}
}

func TestFlowDeviceCodeRefusals(t *testing.T) {
	scope := ftURI(ftOrdersApp) + "/Orders.Read offline_access"
	t.Run("declined", func(t *testing.T) {
		e := newFT(t)
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: scope}))(t)
		if err := e.d.Issuer().DenyDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode); err != nil {
			t.Fatal(err)
		}
		_, err := e.poll(ftPublicApp, da.DeviceCode)
		ftWantErr(t, err, 70020, OAuthAuthorizationDeclined)
		// No consent was recorded by a declined request.
		if gs := ftOK(e.d.Grants(e.ctx, System(), e.sp(t, ftPublicApp, e.conID).ID, PageRequest{}))(t).Items; len(gs) != 0 {
			t.Fatalf("grants after decline: %+v", gs)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e := newFT(t)
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: scope}))(t)
		e.clock.Advance(15*time.Minute + time.Second)
		err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode)
		ftWantErr(t, err, 70019, OAuthExpiredToken)
		_, err = e.poll(ftPublicApp, da.DeviceCode)
		ftWantErr(t, err, 70019, OAuthExpiredToken)
	})
	t.Run("approved then expired before the poll", func(t *testing.T) {
		e := newFT(t)
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: scope}))(t)
		if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(16 * time.Minute)
		_, err := e.poll(ftPublicApp, da.DeviceCode)
		ftWantErr(t, err, 70019, OAuthExpiredToken)
	})
	t.Run("bad codes", func(t *testing.T) {
		e := newFT(t)
		ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: scope}))(t)
		_, err := e.poll(ftPublicApp, "bm8tc3VjaC1kZXZpY2UtY29kZQ")
		ftWantErr(t, err, 70018, OAuthBadVerificationCode)
		err = e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), "BCDFGHJKL")
		ftWantErr(t, err, 70018, OAuthBadVerificationCode)
	})
	t.Run("confidential client", func(t *testing.T) {
		e := newFT(t)
		_, err := e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftWebApp, Scope: scope})
		ftWantErr(t, err, 7000218, OAuthInvalidClient)
	})
	t.Run("unknown client", func(t *testing.T) {
		e := newFT(t)
		_, err := e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: "0d000000-0000-4000-8000-00000000000b", Scope: scope})
		ftWantErr(t, err, 700016, OAuthUnauthorizedClient)
	})
	t.Run("invalid scope", func(t *testing.T) {
		e := newFT(t)
		_, err := e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read " + ftURI(ftDownApp) + "/Files.Read"})
		ftWantErr(t, err, 700022, OAuthInvalidScope)
	})
	t.Run("user of another tenant", func(t *testing.T) {
		e := newFT(t)
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: scope}))(t)
		err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.carol.ID), da.UserCode)
		ftWantErr(t, err, 50020, OAuthInvalidGrant)
		// At /organizations the user's own tenant is used, and the app gets
		// its service principal there.
		da = ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: "organizations", ClientID: ftPublicApp, Scope: scope}))(t)
		if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.carol.ID), da.UserCode); err != nil {
			t.Fatal(err)
		}
		tr, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: "organizations", GrantType: GrantDeviceCode, ClientID: ftPublicApp, DeviceCode: da.DeviceCode})
		if err != nil {
			t.Fatal(err)
		}
		if c := ftClaims(t, tr.AccessToken); c["tid"] != e.fabID || c["oid"] != e.carol.ID {
			t.Fatalf("claims = %v", c)
		}
	})
	t.Run("consent needed and refused", func(t *testing.T) {
		e := newFT(t)
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Admin"}))(t)
		err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode)
		ftWantErr(t, err, 90094, OAuthConsentRequired)
		_, err = e.poll(ftPublicApp, da.DeviceCode)
		ftWantErr(t, err, 70016, OAuthAuthorizationPending)
	})
	t.Run("user disabled after approval", func(t *testing.T) {
		e := newFT(t)
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: scope}))(t)
		if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode); err != nil {
			t.Fatal(err)
		}
		ftOK(e.d.DisableUser(e.ctx, System(), e.alice.ID))(t)
		_, err := e.poll(ftPublicApp, da.DeviceCode)
		ftWantErr(t, err, 50057, OAuthInvalidGrant)
	})
}

func TestFlowAuthorizationCodeSingleTenantApp(t *testing.T) {
	e := newFT(t)
	intranet := ftOK(e.d.CreateApplication(e.ctx, System(), e.conID, application.Application{
		DisplayName: "Intranet", SignInAudience: application.AzureADMyOrg,
		Web: &application.Web{RedirectURIs: []string{"https://intranet.contoso.com/auth"}},
	}))(t)
	ftOK(e.d.AddPassword(e.ctx, System(), intranet.ID, PasswordSpec{Secret: "intranet-secret-00001"}))(t)
	e.secret[intranet.AppID] = "intranet-secret-00001"
	req := e.authz(intranet.AppID, "https://intranet.contoso.com/auth", e.alice.ID, "openid profile")
	tr := e.signIn(t, req)
	if id := ftClaims(t, tr.IDToken); id["aud"] != intranet.AppID || id["tid"] != e.conID {
		t.Fatalf("ID token = %v", id)
	}
	for _, seg := range []string{"common", "organizations"} {
		r := req
		r.Tenant = seg
		_, err := e.d.Issuer().Authorize(e.ctx, r)
		ftWantErr(t, err, 50194, OAuthInvalidRequest)
	}
	r := req
	r.Tenant, r.UserID = e.fabID, e.carol.ID
	_, err := e.d.Issuer().Authorize(e.ctx, r)
	ftWantErr(t, err, 700016, OAuthUnauthorizedClient)
	if _, err := e.d.ServicePrincipalByAppID(e.ctx, System(), e.fabID, intranet.AppID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("single-tenant app got a service principal in Fabrikam: %v", err)
	}
}

func TestFlowAuthorizationCodeAssignment(t *testing.T) {
	e := newFT(t)
	ftOK(e.d.Consent(e.ctx, UserActor(e.admin.ID), e.conID, ConsentSpec{ClientAppID: ftWebApp, Default: true, TenantWide: true}))(t)
	ordersSP := e.sp(t, ftOrdersApp, e.conID)
	ftOK(e.d.UpdateServicePrincipal(e.ctx, System(), ordersSP.ID, func(sp *serviceprincipal.ServicePrincipal) error {
		sp.AppRoleAssignmentRequired = true
		return nil
	}))(t)
	// Alice is not assigned; Bob is, through the Clerks group.
	_, err := e.d.Issuer().Authorize(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read"))
	ftWantErr(t, err, 50105, OAuthInvalidGrant)
	ftOK(e.d.AssignAppRole(e.ctx, System(), AssignmentSpec{ResourceID: ordersSP.ID, PrincipalID: e.clerks.ID, AppRoleID: ftRoleManage}))(t)
	tr := e.webSignIn(t, e.bob.ID)
	c := ftClaims(t, tr.AccessToken)
	if !slices.Equal(ftStrings(c, "roles"), []string{"Orders.Manage"}) || c["scp"] != "Orders.Read" {
		t.Fatalf("claims = %v", c)
	}
	// The role is dropped at once when disabled; the group assignment no
	// longer counts as assignment either (invariants 5 and 6).
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		for i := range a.AppRoles {
			if a.AppRoles[i].ID == ftRoleManage {
				a.AppRoles[i].IsEnabled = false
			}
		}
		return nil
	}))(t)
	_, err = e.refresh(ftWebApp, tr.RefreshToken, "")
	ftWantErr(t, err, 50105, OAuthInvalidGrant)
	// Default access (no role) satisfies the requirement without a role
	// claim.
	ftOK(e.d.AssignAppRole(e.ctx, System(), AssignmentSpec{ResourceID: ordersSP.ID, PrincipalID: e.alice.ID, AppRoleID: application.DefaultAccessRoleID}))(t)
	tr = e.webSignIn(t, e.alice.ID)
	if c := ftClaims(t, tr.AccessToken); c["roles"] != nil {
		t.Fatalf("default access produced roles %v", c["roles"])
	}
	// Removing bob from the group revokes his access.
	ftOK(e.d.RemoveGroupMember(e.ctx, System(), e.clerks.ID, e.bob.ID))(t)
	_, err = e.d.Issuer().Authorize(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.bob.ID, ftURI(ftOrdersApp)+"/Orders.Read"))
	ftWantErr(t, err, 50105, OAuthInvalidGrant)
}

// ---------------------------------------------------------------------------
// Validation, JWKS and key rotation.

func TestFlowValidateIssuedTokens(t *testing.T) {
	e := newFT(t)
	v2 := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken
	v1 := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftLegacyURI+"/.default"))(t).AccessToken
	user := e.webSignIn(t, e.alice.ID).AccessToken
	ordersV := ftOK(ftValidator(e, []string{ftOrdersApp, ftURI(ftOrdersApp)}))(t)
	legacyV := ftOK(ftValidator(e, []string{ftLegacyApp, ftLegacyURI}, e.conID))(t)
	for _, tc := range []struct {
		name string
		v    *token.Validator
		raw  string
		want error
	}{
		{"v2 app-only", ordersV, v2, nil},
		{"v2 delegated", ordersV, user, nil},
		{"v1 app-only", legacyV, v1, nil},
		{"v1 at the v2 API", ordersV, v1, token.ErrAudience},
		{"v2 at the v1 API", legacyV, v2, token.ErrAudience},
		{"not a token", ordersV, "abc", token.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Validate(e.ctx, tc.raw)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Validate: %v, want %v", err, tc.want)
			}
		})
	}
	// ValidateAccessToken takes the audiences from the application.
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, v1, ftLegacyApp); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, v1, ftOrdersApp); !errors.Is(err, token.ErrAudience) {
		t.Fatalf("v1 token at the Orders API: %v", err)
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, v2, "0d000000-0000-4000-8000-00000000000c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown API: %v", err)
	}
	// Expiry follows the injected clock.
	e.clock.Advance(time.Hour + time.Second)
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, v2, ftOrdersApp); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("after expiry: %v", err)
	}
	// A Validator of another Directory does not know the keys.
	other := newFT(t)
	if _, err := other.d.Issuer().ValidateAccessToken(other.ctx, user, ftOrdersApp); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("other directory: %v", err)
	}
}

// ftVerifyWithJWKS verifies raw with the key of the JWKS document its kid
// names, using go-jose only, and returns the payload.
func ftVerifyWithJWKS(t ftTB, jwks []byte, raw string, alg jose.SignatureAlgorithm) ([]byte, error) {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS does not parse with go-jose: %v", err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		return nil, errors.New("kid " + kid + " not in the JWKS")
	}
	return jws.Verify(keys[0])
}

func TestFlowJWKS(t *testing.T) {
	e := newFT(t)
	tokens := []string{
		ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken,
		ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftLegacyURI+"/.default"))(t).AccessToken,
	}
	tr := e.webSignIn(t, e.alice.ID)
	tokens = append(tokens, tr.AccessToken, tr.IDToken)
	for _, version := range []token.Version{1, 2} {
		jwks := ftOK(e.d.Issuer().JWKS(e.ctx, e.conID, version))(t)
		var doc struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(jwks, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Keys) != 1 {
			t.Fatalf("v%d JWKS has %d keys, want the active one (its successor appears within the lead)", version, len(doc.Keys))
		}
		var wantIss any = "https://login.microsoftonline.com/" + e.conID + "/v2.0"
		if version == 1 {
			wantIss = nil // Entra's v1 keys name no issuer
		}
		for _, k := range doc.Keys {
			if k["kid"] == nil || k["kid"] != k["x5t"] || k["use"] != "sig" || k["issuer"] != wantIss || k["d"] != nil {
				t.Fatalf("v%d JWKS key = %v", version, k)
			}
		}
		for i, raw := range tokens {
			payload, err := ftVerifyWithJWKS(t, jwks, raw, jose.ES256)
			if err != nil {
				t.Fatalf("token %d does not verify with the v%d JWKS: %v", i, version, err)
			}
			_, claims := ftSegments(t, raw)
			var got map[string]any
			if err := json.Unmarshal(payload, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(claims, got); diff != "" {
				t.Fatalf("payload differs (-token +verified):\n%s", diff)
			}
		}
	}
}

// TestFlowJWKSTenantSegment: the key issuer follows what the authority's
// tenant segment stands for, as Entra's discovery keys do, so that a
// key-issuer check (token.Validator's included) accepts the tenant's tokens.
func TestFlowJWKSTenantSegment(t *testing.T) {
	e := newFT(t)
	template := "https://login.microsoftonline.com/{tenantid}/v2.0"
	for _, tc := range []struct{ segment, issuer string }{
		{"common", template},
		{"organizations", template},
		{"Common", template},
		{"consumers", "https://login.microsoftonline.com/" + tenant.ConsumersID + "/v2.0"},
		{e.conID, "https://login.microsoftonline.com/" + e.conID + "/v2.0"},
		{strings.ToUpper(e.conID), "https://login.microsoftonline.com/" + e.conID + "/v2.0"},
		{"contoso.com", "https://login.microsoftonline.com/" + e.conID + "/v2.0"},
		{"fabrikam.com", "https://login.microsoftonline.com/" + e.fabID + "/v2.0"},
	} {
		var doc struct {
			Keys []struct {
				Issuer string `json:"issuer"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(ftOK(e.d.Issuer().JWKS(e.ctx, tc.segment, 2))(t), &doc); err != nil {
			t.Fatal(err)
		}
		for _, k := range doc.Keys {
			if k.Issuer != tc.issuer {
				t.Errorf("JWKS(%q) key issuer = %q, want %q", tc.segment, k.Issuer, tc.issuer)
			}
		}
	}
	// A token of the tenant verifies under the key set of its domain with
	// the key issuer kept.
	raw := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken
	for _, seg := range []string{"contoso.com", "common", e.conID} {
		keys := ftOK(token.ParseJWKS(ftOK(e.d.Issuer().JWKS(e.ctx, seg, 2))(t)))(t)
		v := ftOK(token.NewValidator(token.ValidatorConfig{
			Keys: keys, Issuers: []string{template}, Audiences: []string{ftOrdersApp},
			Algorithms: []jose.SignatureAlgorithm{jose.ES256}, Now: e.clock.Now,
		}))(t)
		if _, err := v.Validate(e.ctx, raw); err != nil {
			t.Errorf("token against the %s key set: %v", seg, err)
		}
	}
	// Unknown tenants and versions are errors.
	for _, seg := range []string{"nowhere.example", "00000000-0000-0000-0000-000000000001"} {
		_, err := e.d.Issuer().JWKS(e.ctx, seg, 2)
		ftWantErr(t, err, 90002, OAuthInvalidTenant)
	}
	_, err := e.d.Issuer().JWKS(e.ctx, "not a tenant", 2)
	ftWantErr(t, err, 900023, OAuthInvalidRequest)
	for _, version := range []token.Version{0, 3, -1} {
		if _, err := e.d.Issuer().JWKS(e.ctx, e.conID, version); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("JWKS version %d: err = %v, want ErrInvalidRequest", version, err)
		}
	}
}

// TestFlowV1TokenAgainstV2KeySet: an API accepting both versions with
// the v2 key set, as token.ValidatorConfig advises, accepts the v1 tokens
// the Directory issues.
func TestFlowV1TokenAgainstV2KeySet(t *testing.T) {
	e := newFT(t)
	v1 := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftLegacyURI+"/.default"))(t).AccessToken
	v2 := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken
	for _, seg := range []string{"common", e.conID} {
		v := ftOK(token.NewValidator(token.ValidatorConfig{
			Keys:      ftOK(token.ParseJWKS(ftOK(e.d.Issuer().JWKS(e.ctx, seg, 2))(t)))(t),
			Issuers:   []string{"https://sts.windows.net/{tenantid}/", "https://login.microsoftonline.com/{tenantid}/v2.0"},
			Audiences: []string{ftOrdersApp, ftLegacyURI}, Algorithms: []jose.SignatureAlgorithm{jose.ES256}, Now: e.clock.Now,
		}))(t)
		for name, raw := range map[string]string{"v1": v1, "v2": v2} {
			if _, err := v.Validate(e.ctx, raw); err != nil {
				t.Errorf("%s token against the %s v2 key set: %v", name, seg, err)
			}
		}
	}
	// The key set of another tenant does not verify them.
	v := ftOK(token.NewValidator(token.ValidatorConfig{
		Keys:      ftOK(token.ParseJWKS(ftOK(e.d.Issuer().JWKS(e.ctx, e.fabID, 2))(t)))(t),
		Issuers:   []string{"https://sts.windows.net/{tenantid}/"},
		Audiences: []string{ftLegacyURI}, Algorithms: []jose.SignatureAlgorithm{jose.ES256}, Now: e.clock.Now,
	}))(t)
	if _, err := v.Validate(e.ctx, v1); !errors.Is(err, token.ErrIssuer) {
		t.Errorf("v1 token against another tenant's key set: err = %v, want token.ErrIssuer", err)
	}
}

func TestFlowKeyRotation(t *testing.T) {
	e := newFT(t)
	scope := ftURI(ftOrdersApp) + "/.default"
	old := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], scope))(t).AccessToken
	oldKid := ftOK(jose.ParseSignedCompact(old, []jose.SignatureAlgorithm{jose.ES256}))(t).Signatures[0].Header.KeyID
	kids := func() []string {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(ftOK(e.d.Issuer().JWKS(e.ctx, e.conID, 2))(t), &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KeyID)
		}
		return out
	}
	if !slices.Contains(kids(), oldKid) {
		t.Fatal("signing key not published")
	}
	e.clock.Advance(10 * time.Minute)
	if err := e.d.Issuer().ForceRotateKeys(e.ctx); err != nil {
		t.Fatal(err)
	}
	fresh := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], scope))(t).AccessToken
	newKid := ftOK(jose.ParseSignedCompact(fresh, []jose.SignatureAlgorithm{jose.ES256}))(t).Signatures[0].Header.KeyID
	if newKid == oldKid {
		t.Fatal("rotation did not change the signing key")
	}
	if ks := kids(); !slices.Contains(ks, oldKid) || !slices.Contains(ks, newKid) || len(ks) != 2 {
		t.Fatalf("JWKS after rotation = %v, want retired and active", ks)
	}
	// Both validate: the retired key is still published.
	for _, raw := range []string{old, fresh} {
		if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, raw, ftOrdersApp); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	// Past the old token's expiry it fails on time, its key still known.
	e.clock.Advance(55 * time.Minute)
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, old, ftOrdersApp); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("old token after expiry: %v", err)
	}
	if !slices.Contains(kids(), oldKid) {
		t.Fatal("retired key unpublished before its overlap ended")
	}
	// Past the overlap (7 days) the retired key is gone from the JWKS and
	// from validation, even before a new rotation runs.
	e.clock.Advance(token.DefaultOverlap)
	if slices.Contains(kids(), oldKid) {
		t.Fatalf("retired key still published after its overlap: %v", kids())
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, old, ftOrdersApp); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("old token after the overlap: %v", err)
	}
	if changed := ftOK(e.d.Issuer().RotateKeys(e.ctx))(t); !changed {
		t.Fatal("rotation after the overlap did not drop the retired key")
	}
	// New tokens keep validating.
	now := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], scope))(t).AccessToken
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, now, ftOrdersApp); err != nil {
		t.Fatal(err)
	}
	// A rotation is audited.
	found := false
	for _, ev := range ftOK(e.d.auditLog(e.ctx))(t) {
		found = found || ev.Action == "signingKeys.rotate"
	}
	if !found {
		t.Fatal("no signingKeys.rotate audit event")
	}
}

func TestFlowWithdrawKey(t *testing.T) {
	e := newFT(t)
	scope := ftURI(ftOrdersApp) + "/.default"
	kidOf := func(raw string) string {
		return ftOK(jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256}))(t).Signatures[0].Header.KeyID
	}
	kids := func() []string {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(ftOK(e.d.Issuer().JWKS(e.ctx, e.conID, 2))(t), &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KeyID)
		}
		return out
	}
	old := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], scope))(t).AccessToken
	oldKid := kidOf(old)
	// A forced rotation keeps the key trusted for the overlap; withdrawal
	// does not.
	if err := e.d.Issuer().ForceRotateKeys(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, old, ftOrdersApp); err != nil {
		t.Fatalf("retired key no longer accepted: %v", err)
	}
	mid := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], scope))(t).AccessToken
	midKid := kidOf(mid)
	for _, kid := range []string{oldKid, midKid} { // a retired key, then the active one
		if err := e.d.Issuer().WithdrawKey(e.ctx, kid); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(kids(), kid) {
			t.Fatalf("withdrawn key %s still published: %v", kid, kids())
		}
	}
	for _, raw := range []string{old, mid} {
		if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, raw, ftOrdersApp); !errors.Is(err, token.ErrUnknownKey) {
			t.Fatalf("token signed by a withdrawn key: err = %v, want token.ErrUnknownKey", err)
		}
	}
	// Signing continues with a new key; its successor is not due yet.
	fresh := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], scope))(t).AccessToken
	if k := kidOf(fresh); k == oldKid || k == midKid {
		t.Fatalf("signed with a withdrawn key %s", k)
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, fresh, ftOrdersApp); err != nil {
		t.Fatal(err)
	}
	if ks := kids(); len(ks) != 1 {
		t.Fatalf("JWKS after withdrawal = %v, want the new active key", ks)
	}
	if err := e.d.Issuer().WithdrawKey(e.ctx, oldKid); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("withdrawing an unknown key: err = %v", err)
	}
	var withdrawn []string
	for _, ev := range ftOK(e.d.auditLog(e.ctx))(t) {
		if ev.Action == "signingKeys.withdraw" {
			withdrawn = append(withdrawn, ev.TargetID)
		}
	}
	if !slices.Equal(withdrawn, []string{oldKid, midKid}) {
		t.Fatalf("withdraw audit events name %v", withdrawn)
	}
}

func TestFlowRS256(t *testing.T) {
	// Entra's default algorithm; one Directory with RSA keys.
	e := newFT(t, func(c *TokenConfig) { c.Algorithm = "" })
	v2 := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken
	v1 := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftLegacyURI+"/.default"))(t).AccessToken
	for _, raw := range []string{v1, v2} {
		h, _ := ftSegments(t, raw)
		if h["alg"] != "RS256" {
			t.Fatalf("alg = %v", h["alg"])
		}
		payload, err := ftVerifyWithJWKS(t, ftOK(e.d.Issuer().JWKS(e.ctx, e.conID, 2))(t), raw, jose.RS256)
		if err != nil || len(payload) == 0 {
			t.Fatalf("RS256 token does not verify with the JWKS: %v", err)
		}
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, v2, ftOrdersApp); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, v1, ftLegacyApp); err != nil {
		t.Fatal(err)
	}
	// JWKS keys carry n, e and an x5c consistent with them (go-jose checks).
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(ftOK(e.d.Issuer().JWKS(e.ctx, e.conID, 1))(t), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if _, ok := k.Key.(*rsa.PublicKey); !ok || len(k.Certificates) != 1 {
			t.Fatalf("JWKS key %s: %T with %d certificates", k.KeyID, k.Key, len(k.Certificates))
		}
	}
}

func TestFlowAuthorizationCodeFirstConsentInForeignTenant(t *testing.T) {
	// The first sign-in of a multi-tenant app in a tenant where it has no
	// service principal yet records exactly the scopes asked for (dynamic
	// consent), like any later sign-in; it neither adds the app's other
	// requiredResourceAccess scopes nor loses scopes outside them.
	t.Run("no over-grant", func(t *testing.T) {
		e := newFT(t)
		req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
		req.Tenant = e.fabID
		tr := e.signIn(t, req)
		if got := ftScp(ftClaims(t, tr.AccessToken)); !slices.Equal(got, []string{"Orders.Read"}) {
			t.Fatalf("scp = %v", got)
		}
		grants := ftResourceGrants(t, e, e.sp(t, ftWebApp, e.fabID).ID, e.carol.ID, "email offline_access openid profile")
		if len(grants) != 1 || grants[0].Scope != "Orders.Read" || grants[0].ConsentType != consent.Principal {
			t.Fatalf("first consent in Fabrikam recorded %+v, want carol's Orders.Read only", grants)
		}
	})
	t.Run("scope outside requiredResourceAccess", func(t *testing.T) {
		e := newFT(t)
		req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, ftURI(ftDownApp)+"/Files.Read")
		req.Tenant = e.fabID
		ar, err := e.d.Issuer().Authorize(e.ctx, req)
		if err != nil {
			t.Fatalf("first dynamic consent for a scope outside requiredResourceAccess: %v", err)
		}
		tr, err := e.redeem(req, ar.Code)
		if err != nil {
			t.Fatal(err)
		}
		if c := ftClaims(t, tr.AccessToken); c["aud"] != ftDownApp || c["scp"] != "Files.Read" || c["tid"] != e.fabID {
			t.Fatalf("claims = %v", c)
		}
	})
}

func TestFlowDeviceCodePolledAtAnotherTenant(t *testing.T) {
	e := newFT(t)
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read"}))(t)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode); err != nil {
		t.Fatal(err)
	}
	tr, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantDeviceCode, ClientID: ftPublicApp, DeviceCode: da.DeviceCode})
	if err == nil {
		t.Fatal("a Contoso device code redeemed at Fabrikam's endpoint gave a token for tid " + ftClaims(t, tr.AccessToken)["tid"].(string))
	}
	ftWantErr(t, err, 700005, OAuthInvalidGrant)
	// The right tenant still works.
	if _, err := e.poll(ftPublicApp, da.DeviceCode); err != nil {
		t.Fatal(err)
	}
}

func TestFlowAuthorizationCodePreAuthorized(t *testing.T) {
	e := newFT(t)
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		a.API.PreAuthorizedApplications = []application.PreAuthorizedApplication{{AppID: ftWeb2App, DelegatedPermissionIDs: []string{ftScopeRead}}}
		return nil
	}))(t)
	// Pre-authorized scope: no prompt, so prompt=none succeeds, and the
	// consent is recorded as the user's own grant.
	req := e.authz(ftWeb2App, ftWeb2Redirect, e.bob.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	req.Prompt = "none"
	tr := e.signIn(t, req)
	if c := ftClaims(t, tr.AccessToken); c["scp"] != "Orders.Read" {
		t.Fatalf("claims = %v", c)
	}
	// A scope not pre-authorized needs the prompt.
	req.Scope = ftURI(ftOrdersApp) + "/Orders.Write"
	_, err := e.d.Issuer().Authorize(e.ctx, req)
	ftWantErr(t, err, 65001, OAuthInteractionRequired)
	// Pre-authorization waives the prompt, not the tenant's policy: where
	// users cannot consent, an administrator must.
	p := tenant.DefaultPolicy()
	p.SetUserConsent(tenant.UserConsentNone)
	ftOK(e.d.SetAuthorizationPolicy(e.ctx, UserActor(e.admin.ID), e.conID, p))(t)
	req.UserID, req.Scope, req.Prompt = e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read", ""
	_, err = e.d.Issuer().Authorize(e.ctx, req)
	ftWantErr(t, err, 90094, OAuthConsentRequired)
}

func TestFlowAuthorizationCodeV1Endpoint(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
	req.EndpointVersion = 1
	tr := e.signIn(t, req)
	id := ftClaims(t, tr.IDToken)
	if id["ver"] != "1.0" || id["iss"] != "https://sts.windows.net/"+e.conID+"/" || id["unique_name"] != "alice@contoso.com" {
		t.Fatalf("v1 ID token = %v", id)
	}
	// The access token's version is the resource's choice, not the
	// endpoint's.
	if c := ftClaims(t, tr.AccessToken); c["ver"] != "2.0" {
		t.Fatalf("access token ver = %v", c["ver"])
	}
	// A v1 resource gets v1 delegated tokens with appid/upn/amr.
	tr = e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftLegacyURI+"/Legacy.Read"))
	c := ftClaims(t, tr.AccessToken)
	if c["ver"] != "1.0" || c["aud"] != ftLegacyURI || c["appid"] != ftWebApp || c["appidacr"] != "1" || c["upn"] != "alice@contoso.com" || c["scp"] != "Legacy.Read" {
		t.Fatalf("v1 delegated claims = %v", c)
	}
	if h, _ := ftSegments(t, tr.AccessToken); h["x5t"] != h["kid"] {
		t.Fatalf("v1 delegated header = %v", h)
	}
}

// TestFlowAIOAndRH: every access and ID token carries Entra's opaque aio
// and rh claims, and a v1 ID token's header carries x5t = kid.
func TestFlowAIOAndRH(t *testing.T) {
	e := newFT(t)
	b64url := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	rhShape := regexp.MustCompile(`^0\.[A-Za-z0-9_-]+\.$`)
	v1 := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
	v1.EndpointVersion = 1
	v1Tokens := e.signIn(t, v1)
	v2Tokens := e.webSignIn(t, e.alice.ID)
	legacy := e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftLegacyURI+"/Legacy.Read openid"))
	tokens := map[string]string{
		"app-only v2":          ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken,
		"app-only v1":          ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftLegacyURI+"/.default"))(t).AccessToken,
		"delegated v2":         v2Tokens.AccessToken,
		"delegated v1":         legacy.AccessToken,
		"ID token v2 endpoint": v2Tokens.IDToken,
		"ID token v1 endpoint": v1Tokens.IDToken,
	}
	seen := map[string]string{}
	for name, raw := range tokens {
		h, c := ftSegments(t, raw)
		aio, _ := c["aio"].(string)
		rh, _ := c["rh"].(string)
		if !b64url.MatchString(aio) || !rhShape.MatchString(rh) {
			t.Errorf("%s: aio = %q, rh = %q", name, aio, rh)
		}
		for _, v := range []string{aio, rh} {
			if other, dup := seen[v]; dup {
				t.Errorf("%s and %s share %q", name, other, v)
			}
			seen[v] = name
		}
		wantX5T := c["ver"] == "1.0"
		if x5t, ok := h["x5t"]; ok != wantX5T || (ok && x5t != h["kid"]) {
			t.Errorf("%s (ver %v): header %v", name, c["ver"], h)
		}
	}
}

// ---------------------------------------------------------------------------
// Optional claims and claims mapping.

// TestFlowAppOnlyIDType: idtyp is an optional claim, as in Entra: app-only
// tokens carry idtyp "app" only for a resource that lists it, and
// token.Principal tells them apart either way.
func TestFlowAppOnlyIDType(t *testing.T) {
	e := newFT(t)
	scope := ftURI(ftOrdersApp) + "/.default"
	check := func(want any) {
		t.Helper()
		raw := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], scope))(t).AccessToken
		if got := ftClaims(t, raw)["idtyp"]; got != want {
			t.Fatalf("idtyp = %v, want %v", got, want)
		}
		if p := ftOK(e.d.Issuer().ValidateAccessToken(e.ctx, raw, ftOrdersApp))(t); !p.IsApp {
			t.Fatalf("principal of an app-only token: %+v", p)
		}
	}
	check(nil)
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		a.OptionalClaims = &application.OptionalClaims{AccessToken: []application.OptionalClaim{{Name: "idtyp"}}}
		return nil
	}))(t)
	check("app")
	// Without include_user_token, delegated tokens carry no idtyp.
	tr := e.webSignIn(t, e.alice.ID)
	if c := ftClaims(t, tr.AccessToken); c["idtyp"] != nil {
		t.Fatalf("delegated idtyp = %v", c["idtyp"])
	}
}

func TestFlowOptionalClaims(t *testing.T) {
	e := newFT(t)
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		a.OptionalClaims = &application.OptionalClaims{AccessToken: []application.OptionalClaim{
			{Name: "email"}, {Name: "acct"}, {Name: "idtyp", AdditionalProperties: []string{"include_user_token"}},
		}}
		a.GroupMembershipClaims = "SecurityGroup"
		a.API.AcceptMappedClaims = true // the claims mapping below applies
		return nil
	}))(t)
	ftOK(e.d.UpdateServicePrincipal(e.ctx, System(), e.sp(t, ftOrdersApp, e.conID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
		sp.ClaimsMapping = map[string]string{"employee_upn": "user.userprincipalname"}
		return nil
	}))(t)
	c := ftClaims(t, e.webSignIn(t, e.bob.ID).AccessToken)
	want := map[string]any{"email": "bob@contoso.com", "acct": float64(0), "idtyp": "user", "groups": []any{e.clerks.ID}, "employee_upn": "bob@contoso.com"}
	for k, v := range want {
		if diff := cmp.Diff(v, c[k]); diff != "" {
			t.Errorf("claim %s (-want +got):\n%s", k, diff)
		}
	}
	// App-only tokens carry none of the user claims.
	cc := ftClaims(t, ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken)
	for _, k := range []string{"email", "acct", "employee_upn", "groups"} {
		if _, ok := cc[k]; ok {
			t.Errorf("app-only token has %s", k)
		}
	}
}

func TestFlowOptionalClaimUPN(t *testing.T) {
	// upn is an optional access-token claim of v2 (Entra access-token claims reference); asking
	// for it must put the user's UPN in the token, not break issuance.
	e := newFT(t)
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		a.OptionalClaims = &application.OptionalClaims{AccessToken: []application.OptionalClaim{{Name: "upn"}}}
		return nil
	}))(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	tr, err := e.redeem(req, ar.Code)
	if err != nil {
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatal("the upn optional claim made signing fail with an untyped error: " + err.Error())
		}
		t.Fatal(err)
	}
	if c := ftClaims(t, tr.AccessToken); c["upn"] != "alice@contoso.com" {
		t.Fatalf("upn = %v", c["upn"])
	}
}

func TestFlowClaimsMappingOfStandardClaim(t *testing.T) {
	// A claims mapping naming a standard claim must not make the token
	// endpoint fail with an internal error: the standard claim wins (or the
	// mapping is refused when it is set).
	e := newFT(t)
	setAcceptMappedClaims(t, e, ftOrdersApp, true)
	_, err := e.d.UpdateServicePrincipal(e.ctx, System(), e.sp(t, ftOrdersApp, e.conID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
		sp.ClaimsMapping = map[string]string{"name": "user.mail"}
		return nil
	})
	if err != nil {
		return // refused at configuration: fine
	}
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	tr, err := e.redeem(req, ar.Code)
	if err != nil {
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatal("a claims mapping of a standard claim made signing fail with an untyped error: " + err.Error())
		}
		t.Fatal(err)
	}
	if c := ftClaims(t, tr.AccessToken); c["name"] != "Alice" {
		t.Fatalf("name = %v", c["name"])
	}
}

func TestFlowRefreshTokenCanonicalEncoding(t *testing.T) {
	// Flipping any byte of a refresh token must make it invalid, also in
	// the last base64 character, whose low bits are padding when the sealed
	// length is not a multiple of 3.
	e := newFT(t)
	tested := 0
	for _, extra := range []string{"", " openid", " profile", " email", " openid email", " openid profile", " openid profile email"} {
		rt := e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read offline_access"+extra)).RefreshToken
		if (len(rt)-len("1.tnr."))%4 == 0 {
			continue
		}
		tested++
		for x := 1; x < 256; x++ {
			b := []byte(rt)
			b[len(b)-1] ^= byte(x)
			if _, err := e.refresh(ftWebApp, string(b), ""); err == nil {
				t.Fatalf("refresh token with last byte %q→%q accepted", rt[len(rt)-1], b[len(b)-1])
			}
		}
	}
	if tested == 0 {
		t.Fatal("no refresh token with padding bits in its last character")
	}
}

func TestFlowAuthorizationCodeGuest(t *testing.T) {
	// A guest signs in at the resource tenant: tid is that tenant, oid the
	// guest object there, and idp names the home tenant (Entra B2B guest sign-in).
	e := newFT(t)
	g := ftOK(e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "carol_fabrikam.com#EXT#@contoso.com", DisplayName: "Carol (guest)", Guest: true, HomeTenantID: e.fabID}))(t)
	tr := e.signIn(t, e.authz(ftWebApp, ftWebRedirect, g.ID, ftURI(ftOrdersApp)+"/Orders.Read openid"))
	for _, raw := range []string{tr.AccessToken, tr.IDToken} {
		c := ftClaims(t, raw)
		idp, _ := c["idp"].(string)
		if c["tid"] != e.conID || c["oid"] != g.ID || !strings.Contains(idp, e.fabID) {
			t.Fatalf("guest claims = %v", c)
		}
	}
	// A member has no idp.
	if c := ftClaims(t, e.webSignIn(t, e.alice.ID).AccessToken); c["idp"] != nil {
		t.Fatalf("member token has idp %v", c["idp"])
	}
}

// ftValidator builds a validator over the Issuer's keys for the given
// audiences, restricted to allowedTenants when any are given.
func ftValidator(e *ftEnv, audiences []string, allowedTenants ...string) (*token.Validator, error) {
	cfg := e.d.Issuer().ValidatorConfig(audiences...)
	cfg.AllowedTenants = allowedTenants
	return token.NewValidator(cfg)
}

// Adversarial tests: variations on each security rule, tried through the
// public API as an attacker would, beyond the rule's own tests.

package tenantry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// ---------------------------------------------------------------------------
// Resource and client audience at issuance.

// A multi-tenant client narrowed to its home tenant after a foreign sign-in:
// its refresh tokens there (also narrowed to OIDC scopes, also on the v1
// endpoint) and its device codes stop working.
func TestAttackAudienceClientNarrowedV1AndOIDCOnly(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	req.Tenant, req.EndpointVersion = e.fabID, 1
	carol := e.signIn(t, req)
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.fabID, ClientID: ftPublicApp, Scope: "openid offline_access"}))(t)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.carol.ID), da.UserCode); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ftWebApp, ftPublicApp} {
		ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[id].ID, func(a *application.Application) error {
			a.SignInAudience = application.AzureADMyOrg
			return nil
		}))(t)
	}
	for _, scope := range []string{"", "openid", "openid offline_access", ftURI(ftOrdersApp) + "/.default"} {
		_, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, EndpointVersion: 1, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: carol.RefreshToken, Scope: scope})
		ftWantErr(t, err, 700016, OAuthUnauthorizedClient)
		_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: "organizations", GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: carol.RefreshToken, Scope: scope})
		if err == nil {
			t.Fatalf("refresh at /organizations of a narrowed client, scope %q: issued", scope)
		}
	}
	_, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantDeviceCode, ClientID: ftPublicApp, DeviceCode: da.DeviceCode})
	ftWantErr(t, err, 700016, OAuthUnauthorizedClient)
}

// A resource named by an identifier URI with a trailing slash, or by an
// upper-case appId, after narrowing.
func TestAttackAudienceResourceSpellings(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	req.Tenant = e.fabID
	carol := e.signIn(t, req)
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		a.SignInAudience = application.AzureADMyOrg
		return nil
	}))(t)
	for _, scope := range []string{
		ftURI(ftOrdersApp) + "//Orders.Read", ftURI(ftOrdersApp) + "//.default",
		strings.ToUpper(ftOrdersApp) + "/Orders.Read", "API://" + ftOrdersApp + "/Orders.Read",
	} {
		_, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: carol.RefreshToken, Scope: scope})
		if err == nil {
			t.Fatalf("scope %q: token issued for a narrowed resource in a foreign tenant", scope)
		}
	}
}

// ---------------------------------------------------------------------------
// E-mail claims.

// ---------------------------------------------------------------------------
// The userPrincipalName namespace.

func TestAttackUPNNamespaceVariants(t *testing.T) {
	e := newFT(t)
	for _, upn := range []string{
		"eve@FABRIKAM.COM", "eve@Fabrikam.Com", "eve@fabrikam.onmicrosoft.com", "eve@FABRIKAM.onmicrosoft.com",
		"eve_x.com#EXT#@fabrikam.onmicrosoft.com", "eve_x.com#ext#@contoso.com",
	} {
		if _, err := e.d.CreateUser(e.ctx, UserActor(e.admin.ID), e.conID, UserSpec{UserPrincipalName: upn, Guest: strings.Contains(strings.ToUpper(upn), "#EXT#"), HomeTenantID: e.fabID}); err == nil {
			t.Errorf("Contoso's admin created %q", upn)
		}
	}
	// System: the same domain with a trailing dot (the same DNS name) is
	// another tenant's verified domain.
	if u, err := e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "ceo@fabrikam.com."}); err == nil {
		t.Errorf("System created %q in Contoso although fabrikam.com is Fabrikam's verified domain", u.UserPrincipalName)
	}
}

// Manifests (System) obey the namespace too.
func TestAttackUPNViaManifest(t *testing.T) {
	e := newFT(t)
	_, err := e.d.Apply(e.ctx, System(), Manifest{Tenants: []ManifestTenant{{ID: e.fabID, DisplayName: "Fabrikam", Users: []ManifestUser{{UserPrincipalName: "eve@contoso.com"}}}}})
	if err == nil {
		t.Error("manifest created eve@contoso.com in Fabrikam")
	}
	_, err = e.d.Apply(e.ctx, System(), Manifest{Tenants: []ManifestTenant{{ID: "11111111-2222-4333-8444-555555555555", DisplayName: "Squat", Domains: []string{"CONTOSO.COM"}}}})
	if err == nil {
		t.Error("manifest created a tenant verifying Contoso's domain")
	}
	if _, err := e.d.Apply(e.ctx, UserActor(e.admin.ID), Manifest{Tenants: []ManifestTenant{{ID: e.conID, DisplayName: "Contoso"}}}); !errors.Is(err, ErrForbidden) {
		t.Errorf("manifest applied by a user: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Pre-authorization under the low-risk policy.

func TestAttackPreAuthorizedLowRiskForeignUnverified(t *testing.T) {
	e := newFT(t)
	const readID = "0e000000-0000-4000-8000-000000000001"
	api := ftOK(e.d.CreateApplication(e.ctx, System(), e.fabID, application.Application{
		DisplayName: "Fabrikam API", SignInAudience: application.AzureADMultipleOrgs,
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{{ID: readID, Value: "Data.Read", Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: "r", UserConsentDisplayName: "r"}}},
	}))(t)
	cli := ftOK(e.d.CreateApplication(e.ctx, System(), e.fabID, application.Application{
		DisplayName: "Fabrikam CLI", SignInAudience: application.AzureADMultipleOrgs, IsFallbackPublicClient: true,
		PublicClient: &application.RedirectURIs{RedirectURIs: []string{"http://localhost"}},
	}))(t)
	ftOK(e.d.UpdateApplication(e.ctx, System(), api.ID, func(a *application.Application) error {
		a.API.PreAuthorizedApplications = []application.PreAuthorizedApplication{{AppID: cli.AppID, DelegatedPermissionIDs: []string{readID}}}
		return nil
	}))(t)
	p := tenant.DefaultPolicy()
	p.SetUserConsent(tenant.UserConsentLowRisk)
	ftOK(e.d.SetAuthorizationPolicy(e.ctx, UserActor(e.admin.ID), e.conID, p))(t)
	for _, prompt := range []string{"none", ""} {
		req := AuthorizeRequest{Tenant: e.conID, ClientID: cli.AppID, RedirectURI: "http://localhost", ResponseType: "code", Scope: api.AppID + "/Data.Read",
			CodeChallenge: token.S256Challenge(ftVerifier), CodeChallengeMethod: token.PKCES256, UserID: e.alice.ID, Prompt: prompt}
		if _, err := e.d.Issuer().Authorize(e.ctx, req); err == nil {
			t.Errorf("prompt %q: a foreign unverified app signed in under the low-risk policy via pre-authorization", prompt)
		}
	}
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: cli.AppID, Scope: api.AppID + "/Data.Read"}))(t)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode); err == nil {
		t.Error("device flow: a foreign unverified app approved under the low-risk policy via pre-authorization")
	}
	if _, err := e.d.ServicePrincipalByAppID(e.ctx, System(), e.conID, cli.AppID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("service principal of the CLI in Contoso: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Sign-in scopes.

// With user consent off: sign-in scopes alone, without openid, and
// prompt=consent.
func TestAttackSignInScopesUserConsentOff(t *testing.T) {
	e := newFT(t)
	app := ftOK(e.d.CreateApplication(e.ctx, System(), e.conID, application.Application{DisplayName: "Intranet", Web: &application.Web{RedirectURIs: []string{"https://intranet.contoso.com/cb"}}}))(t)
	p := tenant.DefaultPolicy()
	p.SetUserConsent(tenant.UserConsentNone)
	ftOK(e.d.SetAuthorizationPolicy(e.ctx, UserActor(e.admin.ID), e.conID, p))(t)
	for _, scope := range []string{"offline_access", "email", "profile", "openid", app.AppID + "/.default", app.AppID + "/.default openid"} {
		for _, prompt := range []string{"", "consent", "none"} {
			req := AuthorizeRequest{Tenant: e.conID, ClientID: app.AppID, RedirectURI: "https://intranet.contoso.com/cb", ResponseType: "code", Scope: scope, UserID: e.alice.ID, Prompt: prompt}
			if _, err := e.d.Issuer().Authorize(e.ctx, req); err == nil {
				t.Errorf("scope %q prompt %q: signed in without consent where users may not consent", scope, prompt)
			}
		}
	}
}

// After revocation: OBO refresh tokens, v1 endpoint refresh.
func TestAttackSignInScopesRevokedOBOAndV1(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	req.EndpointVersion = 1
	web := e.signIn(t, req)
	obo := ftOK(e.obo(ftOrdersApp, web.AccessToken, ftURI(ftDownApp)+"/Files.Read offline_access"))(t)
	if obo.RefreshToken == "" {
		t.Fatal("no OBO refresh token")
	}
	for _, appID := range []string{ftWebApp, ftOrdersApp} {
		for _, g := range ftOK(e.d.allGrants(e.ctx, e.sp(t, appID, e.conID).ID))(t) {
			if g.ConsentType == consent.Principal && g.PrincipalID == e.alice.ID {
				if err := e.d.DeleteGrant(e.ctx, UserActor(e.alice.ID), g.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, scope := range []string{"", "openid offline_access", "offline_access", ftURI(ftDownApp) + "/.default"} {
		if _, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, EndpointVersion: 1, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: web.RefreshToken, Scope: scope}); err == nil {
			t.Errorf("web refresh scope %q after revocation: issued", scope)
		}
		if _, err := e.refresh(ftOrdersApp, obo.RefreshToken, scope); err == nil {
			t.Errorf("OBO refresh scope %q after revocation: issued", scope)
		}
	}
}

// ---------------------------------------------------------------------------
// Guests.

// A linked guest after her home account is disabled or revoked: OBO with
// her access token, and a device sign-in.
func TestAttackGuestHomeRevokedOBOAndDevice(t *testing.T) {
	e := newFT(t)
	g := invitedCarol(t, e)
	ftOK(e.d.RedeemInvitation(e.ctx, UserActor(e.carol.ID), g.ID))(t)
	web := e.webSignIn(t, g.ID)
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read offline_access"}))(t)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(g.ID), da.UserCode); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	ftOK(e.d.RevokeSignInSessions(e.ctx, UserActor(e.fadmin.ID), e.carol.ID))(t)
	if _, err := e.obo(ftOrdersApp, web.AccessToken, ftURI(ftDownApp)+"/Files.Read"); err == nil {
		t.Error("OBO with a guest's token minted before her home sessions were revoked: issued")
	}
	ftOK(e.d.DisableUser(e.ctx, UserActor(e.fadmin.ID), e.carol.ID))(t)
	if _, err := e.poll(ftPublicApp, da.DeviceCode); err == nil {
		t.Error("device code approved by a guest, polled after her home account was disabled: issued")
	}
	da2 := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read"}))(t)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(g.ID), da2.UserCode); err == nil {
		t.Error("a guest whose home account is disabled approved a device code")
	}
}

// A linked guest with a password of her own in the resource tenant signs
// in there although her home account is disabled.
func TestAttackGuestPasswordSignInIgnoresHome(t *testing.T) {
	e := newFT(t)
	g := ftOK(e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "carol_fabrikam.com#EXT#@contoso.onmicrosoft.com", Guest: true, HomeUserID: e.carol.ID, Password: "guest password 123"}))(t)
	ftOK(e.d.DisableUser(e.ctx, UserActor(e.fadmin.ID), e.carol.ID))(t)
	if _, err := e.d.Issuer().SignIn(e.ctx, SignInRequest{Tenant: e.conID, UserPrincipalName: g.UserPrincipalName, Password: "guest password 123"}); err == nil {
		t.Error("SignIn of a guest whose home account is disabled succeeded")
	}
}

// ---------------------------------------------------------------------------
// PKCE.

func TestAttackPKCEVariants(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	// Challenge recorded, no verifier sent.
	_, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect})
	if err == nil {
		t.Error("code issued with a challenge redeemed without a verifier")
	}
	// The S256 challenge itself as a "plain" verifier.
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect, CodeVerifier: req.CodeChallenge})
	if err == nil {
		t.Error("code redeemed with its challenge as verifier")
	}
	// Public client, plain method.
	pub := e.authz(ftPublicApp, ftPublicRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	pub.CodeChallenge, pub.CodeChallengeMethod = ftVerifier, "plain"
	if _, err := e.d.Issuer().Authorize(e.ctx, pub); err == nil {
		t.Error("public client with plain PKCE")
	}
	pub.CodeChallengeMethod = "s256"
	pub.CodeChallenge = token.S256Challenge(ftVerifier)
	if _, err := e.d.Issuer().Authorize(e.ctx, pub); err == nil {
		t.Log("lower-case s256 accepted")
	}
}

// ---------------------------------------------------------------------------
// Unbounded caller data.

func ftCodeBytes(t ftTB, e *ftEnv) int {
	n := 0
	for _, c := range ftCodes(t, e) {
		n += len(c.Data)
	}
	return n
}

func ftAuditBytes(t ftTB, e *ftEnv) int {
	n := 0
	for _, ev := range ftOK(e.d.auditLog(e.ctx))(t) {
		n += len(ev.Before) + len(ev.After) + len(ev.TargetID) + len(ev.Action) + len(ev.Actor) + len(ev.TenantID)
	}
	return n
}

func ftSignInBytes(t ftTB, e *ftEnv) int {
	evs, _, err := e.d.st.SignIns(e.ctx, store.SignInFilter{}, store.LogPage{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		n += len(b)
	}
	return n
}

// Every field a caller controls at the authorize, device and token
// endpoints, 1 MB long: nothing that size reaches the store, the audit log
// or the sign-in log.
func TestAttackOversizedFields(t *testing.T) {
	e := newFT(t)
	big := strings.Repeat("A", 1<<20)
	const limit = 16 << 10 // far above any bounded record, far below 1 MB
	check := func(name string, run func() error) {
		t.Helper()
		codes, audit, signins := ftCodeBytes(t, e), ftAuditBytes(t, e), ftSignInBytes(t, e)
		err := run()
		if d := ftCodeBytes(t, e) - codes; d > limit {
			t.Errorf("%s: codes grew by %d bytes (err %v)", name, d, err)
		}
		if d := ftAuditBytes(t, e) - audit; d > limit {
			t.Errorf("%s: audit log grew by %d bytes (err %v)", name, d, err)
		}
		if d := ftSignInBytes(t, e) - signins; d > limit {
			t.Errorf("%s: sign-in log grew by %d bytes (err %v)", name, d, err)
		}
		if err != nil && len(err.Error()) > 4096 {
			t.Errorf("%s: error of %d bytes", name, len(err.Error()))
		}
	}
	authz := func(mut func(r *AuthorizeRequest)) func() error {
		return func() error {
			r := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
			mut(&r)
			_, err := e.d.Issuer().Authorize(e.ctx, r)
			return err
		}
	}
	check("authorize nonce", authz(func(r *AuthorizeRequest) { r.Nonce = big }))
	check("authorize state", authz(func(r *AuthorizeRequest) { r.State = big }))
	check("authorize client_id", authz(func(r *AuthorizeRequest) { r.ClientID = big }))
	check("authorize redirect_uri", authz(func(r *AuthorizeRequest) { r.RedirectURI = big }))
	check("authorize tenant", authz(func(r *AuthorizeRequest) { r.Tenant = big }))
	check("authorize prompt", authz(func(r *AuthorizeRequest) { r.Prompt = big }))
	check("authorize response_type", authz(func(r *AuthorizeRequest) { r.ResponseType = big }))
	check("authorize code_challenge", authz(func(r *AuthorizeRequest) { r.CodeChallenge = big }))
	check("authorize correlation", authz(func(r *AuthorizeRequest) { r.CorrelationID = big }))
	check("authorize user", authz(func(r *AuthorizeRequest) { r.UserID = big }))
	tok := func(r TokenRequest) func() error {
		return func() error { _, err := e.d.Issuer().Token(e.ctx, r); return err }
	}
	check("token client_id", tok(TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: big, ClientSecret: "x", Scope: ftURI(ftOrdersApp) + "/.default"}))
	check("token tenant", tok(TokenRequest{Tenant: big, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientSecret: "x", Scope: ftURI(ftOrdersApp) + "/.default"}))
	check("token grant_type", tok(TokenRequest{Tenant: e.conID, GrantType: big, ClientID: ftDaemonApp}))
	check("token secret", tok(TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientSecret: big, Scope: ftURI(ftOrdersApp) + "/.default"}))
	check("token assertion", tok(TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientAssertionType: token.ClientAssertionType, ClientAssertion: big, Scope: ftURI(ftOrdersApp) + "/.default"}))
	check("token assertion type", tok(TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientAssertionType: big, ClientAssertion: "x", Scope: ftURI(ftOrdersApp) + "/.default"}))
	check("token code", tok(TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: big, RedirectURI: ftWebRedirect, CodeVerifier: big}))
	check("token refresh", tok(TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftWebApp, RefreshToken: "1.tnr." + big}))
	check("token obo", tok(TokenRequest{Tenant: e.conID, GrantType: GrantJWTBearer, ClientID: ftOrdersApp, ClientSecret: e.secret[ftOrdersApp], Assertion: big, RequestedTokenUse: "on_behalf_of", Scope: ftURI(ftDownApp) + "/Files.Read"}))
	check("token device", tok(TokenRequest{Tenant: e.conID, GrantType: GrantDeviceCode, ClientID: ftPublicApp, DeviceCode: big}))
	check("token correlation", tok(TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: ftURI(ftOrdersApp) + "/.default", CorrelationID: big}))
	check("device tenant", func() error {
		_, err := e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: big, ClientID: ftPublicApp, Scope: "openid"})
		return err
	})
	check("device client", func() error {
		_, err := e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: big, Scope: "openid"})
		return err
	})
	check("device user code", func() error { return e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), big) })
	check("sign-in upn", func() error {
		_, err := e.d.Issuer().SignIn(e.ctx, SignInRequest{Tenant: e.conID, UserPrincipalName: big, Password: "x"})
		return err
	})
	check("sign-in tenant", func() error {
		_, err := e.d.Issuer().SignIn(e.ctx, SignInRequest{Tenant: big, UserPrincipalName: "alice@contoso.com", Password: "x"})
		return err
	})
}

// A 1 MB nonce goes into the stored authorization code.
func TestAttackNonceStoredUnbounded(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
	req.Nonce = strings.Repeat("n", 1<<20)
	before := ftCodeBytes(t, e)
	_, err := e.d.Issuer().Authorize(e.ctx, req)
	if grew := ftCodeBytes(t, e) - before; err == nil && grew > 1<<19 {
		t.Errorf("Authorize stored a %d-byte code record for a 1 MB nonce; caller input must be bounded before it is stored", grew)
	}
}

// Owners' free-text credential names.
func TestAttackCredentialDisplayNameUnbounded(t *testing.T) {
	e := newFT(t)
	before := ftAuditBytes(t, e)
	_, err := e.d.AddPassword(e.ctx, System(), e.apps[ftWebApp].ID, PasswordSpec{DisplayName: strings.Repeat("d", 1<<20)})
	if grew := ftAuditBytes(t, e) - before; err == nil && grew > 1<<19 {
		t.Errorf("AddPassword stored and audited a 1 MB displayName (%d audit bytes)", grew)
	}
}

// ---------------------------------------------------------------------------
// Client-assertion lifetime.

func TestAttackAssertionLifetimeVariants(t *testing.T) {
	e := newFT(t)
	orders := ftURI(ftOrdersApp) + "/.default"
	cert := ftCert(t, ftRSA(t, 0), 1, ftStart.Add(-time.Hour), ftStart.Add(365*24*time.Hour))
	ftOK(e.d.AddKey(e.ctx, System(), e.apps[ftDaemonApp].ID, KeySpec{Certificate: cert}))(t)
	now := e.clock.Now()
	for name, claims := range map[string]map[string]any{
		"nbf in the past, exp a day ahead": {"nbf": now.Add(-time.Hour).Unix(), "iat": now.Add(-time.Hour).Unix(), "exp": now.Add(24 * time.Hour).Unix()},
		"no nbf, no iat, exp a year ahead": {"nbf": nil, "iat": nil, "exp": now.Add(365 * 24 * time.Hour).Unix()},
		"nbf in the skew, exp 2h":          {"nbf": now.Add(4 * time.Minute).Unix(), "iat": nil, "exp": now.Add(2 * time.Hour).Unix()},
		"iat far future, nbf now":          {"nbf": now.Unix(), "iat": now.Add(48 * time.Hour).Unix(), "exp": now.Add(30 * time.Minute).Unix()},
		"exp as string":                    {"exp": "99999999999"},
		"exp float huge":                   {"exp": 1e18},
	} {
		c := ftAssertionClaims(ftDaemonApp, e.conID, now)
		for k, v := range claims {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		a := ftSignJWT(t, ftRSA(t, 0), jose.RS256, ftMSALHeader(cert), c)
		if _, err := e.assertionCC(e.conID, ftDaemonApp, a, orders); err == nil {
			t.Errorf("%s: assertion accepted", name)
		}
	}
}

// A federated (workload identity) assertion is a client assertion too.
func TestAttackFederatedAssertionLifetime(t *testing.T) {
	e := newFT(t)
	ftOK(e.d.AddFederatedCredential(e.ctx, System(), e.apps[ftDaemonApp].ID, application.FederatedIdentityCredential{Name: "github-main", Issuer: ftFedIssuer, Subject: ftFedSubject}))(t)
	a := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*365*24*time.Hour)
	if _, err := e.assertionCC(e.conID, ftDaemonApp, a, ftURI(ftOrdersApp)+"/.default"); err == nil {
		t.Errorf("a federated assertion valid for 10 years authenticated the client (AssertionMaxLifetime %v)", e.d.tokens.cfg.AssertionMaxLifetime)
	}
}

// ---------------------------------------------------------------------------
// Code and refresh token replay.

// A code replayed under strict rotation (rotated chain), and at another
// authority segment.
func TestAttackCodeReplayStrictAndSegments(t *testing.T) {
	e := newFT(t, ftStrict)
	req := e.authz(ftPublicApp, ftPublicRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	first := ftOK(e.redeem(req, ar.Code))(t)
	rt1 := ftOK(e.publicRefresh(e.d, first.RefreshToken))(t).RefreshToken
	e.clock.Advance(time.Minute)
	rt2 := ftOK(e.publicRefresh(e.d, rt1))(t).RefreshToken
	// Replay at /common by another client id.
	_, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: "common", GrantType: GrantAuthorizationCode, ClientID: ftSPAApp, Code: ar.Code, RedirectURI: ftPublicRedirect, CodeVerifier: ftVerifier})
	if err == nil {
		t.Fatal("replay issued tokens")
	}
	if _, err := e.publicRefresh(e.d, rt2); err == nil {
		t.Error("the current refresh token of a strictly rotated chain survived the replay of its code")
	}
}

// A device code polled again after its tokens were issued: the refresh
// token from the first poll.
func TestAttackDeviceCodeRepoll(t *testing.T) {
	e := newFT(t)
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read offline_access"}))(t)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode); err != nil {
		t.Fatal(err)
	}
	first := ftOK(e.poll(ftPublicApp, da.DeviceCode))(t)
	_, err := e.poll(ftPublicApp, da.DeviceCode)
	if err == nil {
		t.Fatal("second poll issued tokens")
	}
	if _, err := e.publicRefresh(e.d, first.RefreshToken); err != nil {
		t.Logf("refresh after a device code re-poll refused: %v", err)
	} else {
		t.Log("device code re-poll leaves the first refresh token valid")
	}
}

// Strict rotation: a stolen token used with a scope that yields no refresh
// token, interleaved with the legitimate client's rotation.
func TestAttackStrictRotationNoOfflineAccess(t *testing.T) {
	e := newFT(t, ftStrict)
	rt0 := e.publicSignIn(t, e.alice.ID).RefreshToken
	scoped := func(rt, scope string) (*TokenResponse, error) {
		return e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftPublicApp, RefreshToken: rt, Scope: scope})
	}
	ftOK(scoped(rt0, ftURI(ftOrdersApp)+"/Orders.Read"))(t) // attacker, no rotation
	rt1 := ftOK(e.publicRefresh(e.d, rt0))(t).RefreshToken  // legitimate
	e.clock.Advance(time.Minute)
	if _, err := scoped(rt0, ftURI(ftOrdersApp)+"/Orders.Read"); err == nil {
		t.Error("superseded token accepted when the refresh asks for no offline_access")
	}
	if _, err := e.publicRefresh(e.d, rt1); err == nil {
		t.Log("chain still alive after the reuse (expected revoked)")
	}
}

// ---------------------------------------------------------------------------
// Smuggled credentials through UpdateApplication.

func TestAttackUpdateApplicationCredentialEdits(t *testing.T) {
	e := newFT(t)
	dev := ftOK(e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "dev@contoso.com"}))(t)
	ftOK(e.d.AssignDirectoryRole(e.ctx, System(), e.conID, DirectoryRoleSpec{PrincipalID: dev.ID, RoleID: tenant.RoleApplicationDeveloper}))(t)
	app := ftOK(e.d.CreateApplication(e.ctx, UserActor(dev.ID), e.conID, application.Application{DisplayName: "Dev App"}))(t)
	ftOK(e.d.AddPassword(e.ctx, UserActor(dev.ID), app.ID, PasswordSpec{}))(t)
	ftOK(e.d.AddFederatedCredential(e.ctx, UserActor(dev.ID), app.ID, application.FederatedIdentityCredential{Name: "github-main", Issuer: ftFedIssuer, Subject: ftFedSubject}))(t)
	for name, fn := range map[string]func(a *application.Application){
		"extend secret": func(a *application.Application) {
			a.PasswordCredentials[0].EndDateTime = a.PasswordCredentials[0].EndDateTime.AddDate(100, 0, 0)
		},
		"swap digest":    func(a *application.Application) { a.PasswordCredentials[0].SecretHash.Digest[0] ^= 1 },
		"change subject": func(a *application.Application) { a.FederatedIdentityCredentials[0].Subject = "repo:evil/*" },
		"change issuer":  func(a *application.Application) { a.FederatedIdentityCredentials[0].Issuer = "https://evil.example" },
		"drop then re-add": func(a *application.Application) {
			a.PasswordCredentials = append([]application.PasswordCredential(nil), a.PasswordCredentials...)
			a.PasswordCredentials[0].Hint = "abc"
		},
	} {
		if _, err := e.d.UpdateApplication(e.ctx, UserActor(dev.ID), app.ID, func(a *application.Application) error { fn(a); return nil }); err == nil {
			t.Errorf("%s: UpdateApplication changed a credential", name)
		}
	}
}

// ---------------------------------------------------------------------------
// Owners through UpdateApplication.

func TestAttackOwnersChangedByUpdateApplication(t *testing.T) {
	e := newFT(t)
	const roleID = "0f000000-0000-4000-8000-000000000001"
	app := ftOK(e.d.CreateApplication(e.ctx, System(), e.conID, application.Application{
		DisplayName: "Owned API", Owners: []string{e.alice.ID, e.bob.ID},
		AppRoles: []application.AppRole{{ID: roleID, Value: "Admin", DisplayName: "Admin", Description: "d", AllowedMemberTypes: []string{application.MemberTypeUser}, IsEnabled: true}},
	}))(t)
	ftOK(e.d.UpdateApplication(e.ctx, UserActor(e.alice.ID), app.ID, func(a *application.Application) error {
		a.Owners = []string{e.alice.ID}
		return nil
	}))(t)
	sp := e.sp(t, app.AppID, e.conID)
	if _, err := e.d.AssignAppRole(e.ctx, UserActor(e.bob.ID), AssignmentSpec{ResourceID: sp.ID, PrincipalID: e.bob.ID, AppRoleID: roleID}); err == nil {
		t.Error("an owner removed through UpdateApplication assigned herself the API's role")
	}
	if _, err := e.d.UpdateServicePrincipal(e.ctx, UserActor(e.bob.ID), sp.ID, func(s *serviceprincipal.ServicePrincipal) error { s.AppRoleAssignmentRequired = true; return nil }); err == nil {
		t.Error("an owner removed through UpdateApplication updated the home service principal")
	}
	// Soft delete and restore keep the lists in step.
	ftOK(e.d.AddOwner(e.ctx, UserActor(e.alice.ID), app.ID, e.bob.ID))(t)
	if err := e.d.DeleteApplication(e.ctx, UserActor(e.alice.ID), app.ID); err != nil {
		t.Fatal(err)
	}
	ftOK(e.d.RestoreApplication(e.ctx, UserActor(e.alice.ID), app.ID))(t)
	ftOK(e.d.RemoveOwner(e.ctx, UserActor(e.alice.ID), app.ID, e.bob.ID))(t)
	if _, err := e.d.AssignAppRole(e.ctx, UserActor(e.bob.ID), AssignmentSpec{ResourceID: sp.ID, PrincipalID: e.bob.ID, AppRoleID: roleID}); err == nil {
		t.Error("a removed owner assigned herself the role after a delete/restore")
	}
}

// ---------------------------------------------------------------------------
// Audit size of membership removal.

func TestAttackGroupRemoveAuditSize(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Big")
	var members []tenant.Ref
	for i := range 300 {
		u := f.user(tn.ID, "u"+strings.Repeat("x", 3)+string(rune('a'+i%26))+itoa(i)+"@big.onmicrosoft.com")
		members = append(members, tenant.Ref{ID: u.ID, Type: tenant.MemberUser})
	}
	g, err := f.d.CreateGroup(f.ctx, System(), tn.ID, GroupSpec{DisplayName: "All", Members: members})
	if err != nil {
		t.Fatal(err)
	}
	n := len(f.events())
	if _, err := f.d.RemoveGroupMember(f.ctx, System(), g.ID, members[0].ID); err != nil {
		t.Fatal(err)
	}
	ev := f.events()
	if len(ev) != n+1 {
		t.Fatalf("%d events", len(ev)-n)
	}
	if sz := len(ev[n].Before) + len(ev[n].After); sz > 2048 {
		t.Errorf("removing one member of 300 audited %d bytes", sz)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// ---------------------------------------------------------------------------
// Smart lockout.

func TestAttackLockoutVariants(t *testing.T) {
	dirs, clock, tn, _ := lockoutDirs(t, 1, LockoutConfig{})
	d := dirs[0]
	ctx := context.Background()
	second, err := d.CreateTenant(ctx, System(), TenantSpec{DisplayName: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	variants := []string{lockoutUPN, strings.ToUpper(lockoutUPN), "P@Contoso.OnMicrosoft.com", "p@CONTOSO.onmicrosoft.com"}
	for i := range DefaultLockoutThreshold {
		_, _ = d.Issuer().SignIn(ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: variants[i%len(variants)], Password: "wrong"})
	}
	for _, seg := range []string{tn.ID, "common", "organizations", "contoso.onmicrosoft.com", "CONTOSO.ONMICROSOFT.COM", second.ID} {
		for _, upn := range variants {
			_, err := d.Issuer().SignIn(ctx, SignInRequest{Tenant: seg, UserPrincipalName: upn, Password: lockoutPass})
			if !errors.Is(err, &TokenError{Code: 50053}) {
				t.Errorf("locked account, segment %q upn %q: %v, want AADSTS50053", seg, upn, err)
			}
		}
	}
	// Failures while locked do not reset the lock's clock, and the lock
	// ends.
	clock.Advance(61 * time.Second)
	if _, err := d.Issuer().SignIn(ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: lockoutUPN, Password: lockoutPass}); err != nil {
		t.Errorf("after the lockout: %v", err)
	}
}

// A failure the lockout counts, from a user id in the lockout record of
// another tenant's user with the same upn spelled differently, is not
// possible; but failures counted against a user that is then disabled and
// re-enabled keep counting.
func TestAttackLockoutSurvivesReEnable(t *testing.T) {
	dirs, _, tn, u := lockoutDirs(t, 1, LockoutConfig{})
	d := dirs[0]
	ctx := context.Background()
	for range DefaultLockoutThreshold {
		_, _ = d.Issuer().SignIn(ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: lockoutUPN, Password: "wrong"})
	}
	ftOK(d.DisableUser(ctx, System(), u.ID))(t)
	ftOK(d.EnableUser(ctx, System(), u.ID))(t)
	if _, err := d.Issuer().SignIn(ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: lockoutUPN, Password: lockoutPass}); !errors.Is(err, &TokenError{Code: 50053}) {
		t.Errorf("after disable/enable: %v, want still locked", err)
	}
}

// ---------------------------------------------------------------------------
// Withdrawn keys.

func TestAttackWithdrawnKeyEverywhere(t *testing.T) {
	kek := make([]byte, 32)
	kek[1] = 9
	e := newFT(t, func(c *TokenConfig) { c.KeyEncryptionKey = kek })
	other := ftOK(New(e.ctx, Config{Store: e.st, Now: e.clock.Now, Tokens: e.cfg}))(t)
	defer other.Close()
	web := e.webSignIn(t, e.alice.ID)
	app := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken
	kid := ftOK(jose.ParseSignedCompact(app, []jose.SignatureAlgorithm{jose.ES256}))(t).Signatures[0].Header.KeyID
	// The other process has loaded the key.
	if _, err := other.Issuer().ValidateAccessToken(e.ctx, app, ftOrdersApp); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Issuer().WithdrawKey(e.ctx, kid); err != nil {
		t.Fatal(err)
	}
	for _, seg := range []string{e.conID, "common", "organizations", "contoso.com", "CONTOSO.COM", "consumers"} {
		for _, v := range []token.Version{1, 2} {
			raw, err := e.d.Issuer().JWKS(e.ctx, seg, v)
			if err != nil {
				continue
			}
			if strings.Contains(string(raw), kid) {
				t.Errorf("JWKS %s v%d still publishes the withdrawn key", seg, v)
			}
		}
	}
	if _, err := e.d.Issuer().KeySource().PublicKey(e.ctx, kid); err == nil {
		t.Error("KeySource still returns the withdrawn key")
	}
	if v, err := token.NewValidator(e.d.Issuer().ValidatorConfig(ftOrdersApp)); err == nil {
		if _, err := v.Validate(e.ctx, app); err == nil {
			t.Error("ValidatorConfig validator accepts a token of the withdrawn key")
		}
	}
	if _, err := e.obo(ftOrdersApp, web.AccessToken, ftURI(ftDownApp)+"/Files.Read"); err == nil {
		t.Error("OBO accepted an assertion signed by the withdrawn key")
	}
	// Rotation after the withdrawal does not bring it back.
	ftOK(e.d.Issuer().RotateKeys(e.ctx))(t)
	if err := e.d.Issuer().ForceRotateKeys(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, app, ftOrdersApp); err == nil {
		t.Error("a rotation resurrected the withdrawn key")
	}
	// The other process drops it after its reload interval, and never
	// signs with it again.
	e.clock.Advance(2 * time.Minute)
	if _, err := other.Issuer().ValidateAccessToken(e.ctx, app, ftOrdersApp); err == nil {
		t.Error("another process still accepts the withdrawn key after its reload interval")
	}
	fresh := ftOK(other.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: ftURI(ftOrdersApp) + "/.default"}))(t).AccessToken
	if k := ftOK(jose.ParseSignedCompact(fresh, []jose.SignatureAlgorithm{jose.ES256}))(t).Signatures[0].Header.KeyID; k == kid {
		t.Error("another process signs with the withdrawn key")
	}
}

// A process that has not reloaded yet signs with a key withdrawn by another
// process: the tokens it mints in that window validate nowhere else.
func TestAttackWithdrawnKeySignedByStaleProcess(t *testing.T) {
	kek := make([]byte, 32)
	kek[2] = 3
	e := newFT(t, func(c *TokenConfig) { c.KeyEncryptionKey = kek })
	other := ftOK(New(e.ctx, Config{Store: e.st, Now: e.clock.Now, Tokens: e.cfg}))(t)
	defer other.Close()
	app := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken
	kid := ftOK(jose.ParseSignedCompact(app, []jose.SignatureAlgorithm{jose.ES256}))(t).Signatures[0].Header.KeyID
	if err := e.d.Issuer().WithdrawKey(e.ctx, kid); err != nil {
		t.Fatal(err)
	}
	stale := ftOK(other.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: ftURI(ftOrdersApp) + "/.default"}))(t).AccessToken
	if k := ftOK(jose.ParseSignedCompact(stale, []jose.SignatureAlgorithm{jose.ES256}))(t).Signatures[0].Header.KeyID; k == kid {
		t.Logf("a process that has not reloaded yet (KeyRefreshInterval %v) signs with the withdrawn key", e.cfg.KeyRefreshInterval)
	}
}

// ---------------------------------------------------------------------------
// The zero Actor.

func TestAttackZeroActorEverywhere(t *testing.T) {
	e := newFT(t)
	webSP := e.sp(t, ftWebApp, e.conID)
	grants := ftOK(e.d.allGrants(e.ctx, e.sp(t, ftDaemonApp, e.conID).ID))(t)
	_ = grants
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: "openid"}))(t)
	appObj := e.apps[ftWebApp].ID
	for _, actor := range []Actor{{}, UserActor("")} {
		events := ftAuditCount(t, e)
		calls := map[string]func() error{
			"CreateTenant": func() error { _, err := e.d.CreateTenant(e.ctx, actor, TenantSpec{DisplayName: "x"}); return err },
			"SetAuthorizationPolicy": func() error {
				_, err := e.d.SetAuthorizationPolicy(e.ctx, actor, e.conID, tenant.DefaultPolicy())
				return err
			},
			"CreateUser": func() error {
				_, err := e.d.CreateUser(e.ctx, actor, e.conID, UserSpec{UserPrincipalName: "z@contoso.com"})
				return err
			},
			"EnableUser":           func() error { _, err := e.d.EnableUser(e.ctx, actor, e.alice.ID); return err },
			"DisableUser":          func() error { _, err := e.d.DisableUser(e.ctx, actor, e.alice.ID); return err },
			"RevokeSignInSessions": func() error { _, err := e.d.RevokeSignInSessions(e.ctx, actor, e.alice.ID); return err },
			"RedeemInvitation":     func() error { _, err := e.d.RedeemInvitation(e.ctx, actor, e.alice.ID); return err },
			"CreateGroup": func() error {
				_, err := e.d.CreateGroup(e.ctx, actor, e.conID, GroupSpec{DisplayName: "g"})
				return err
			},
			"AddGroupMember": func() error {
				_, err := e.d.AddGroupMember(e.ctx, actor, e.clerks.ID, tenant.Ref{ID: e.alice.ID, Type: tenant.MemberUser})
				return err
			},
			"RemoveGroupMember": func() error { _, err := e.d.RemoveGroupMember(e.ctx, actor, e.clerks.ID, e.bob.ID); return err },
			"AssignDirectoryRole": func() error {
				_, err := e.d.AssignDirectoryRole(e.ctx, actor, e.conID, DirectoryRoleSpec{PrincipalID: e.alice.ID, RoleID: tenant.RoleGlobalAdministrator})
				return err
			},
			"UnassignDirectoryRole": func() error { return e.d.UnassignDirectoryRole(e.ctx, actor, "x") },
			"CreateApplication": func() error {
				_, err := e.d.CreateApplication(e.ctx, actor, e.conID, application.Application{DisplayName: "z"})
				return err
			},
			"UpdateApplication": func() error {
				_, err := e.d.UpdateApplication(e.ctx, actor, appObj, func(*application.Application) error { return nil })
				return err
			},
			"AddOwner":             func() error { _, err := e.d.AddOwner(e.ctx, actor, appObj, e.alice.ID); return err },
			"RemoveOwner":          func() error { _, err := e.d.RemoveOwner(e.ctx, actor, appObj, e.alice.ID); return err },
			"SetVerifiedPublisher": func() error { _, err := e.d.SetVerifiedPublisher(e.ctx, actor, appObj, nil); return err },
			"DeleteApplication":    func() error { return e.d.DeleteApplication(e.ctx, actor, appObj) },
			"RestoreApplication":   func() error { _, err := e.d.RestoreApplication(e.ctx, actor, appObj); return err },
			"PurgeApplication":     func() error { return e.d.PurgeApplication(e.ctx, actor, appObj) },
			"AddPassword":          func() error { _, err := e.d.AddPassword(e.ctx, actor, appObj, PasswordSpec{}); return err },
			"RemovePassword":       func() error { _, err := e.d.RemovePassword(e.ctx, actor, appObj, e.keyID[ftWebApp]); return err },
			"AddKey": func() error {
				_, err := e.d.AddKey(e.ctx, actor, appObj, KeySpec{Certificate: ftCert(t, ftRSA(t, 0), 9, ftStart.Add(-time.Hour), ftStart.Add(time.Hour))})
				return err
			},
			"RemoveKey": func() error { _, err := e.d.RemoveKey(e.ctx, actor, appObj, "x"); return err },
			"AddFederatedCredential": func() error {
				_, err := e.d.AddFederatedCredential(e.ctx, actor, appObj, application.FederatedIdentityCredential{Name: "f", Issuer: ftFedIssuer, Subject: "s"})
				return err
			},
			"RemoveFederatedCredential": func() error { _, err := e.d.RemoveFederatedCredential(e.ctx, actor, appObj, "x"); return err },
			"CreateServicePrincipal":    func() error { _, err := e.d.CreateServicePrincipal(e.ctx, actor, e.fabID, ftWebApp); return err },
			"UpdateServicePrincipal": func() error {
				_, err := e.d.UpdateServicePrincipal(e.ctx, actor, webSP.ID, func(*serviceprincipal.ServicePrincipal) error { return nil })
				return err
			},
			"EnableServicePrincipal":  func() error { _, err := e.d.EnableServicePrincipal(e.ctx, actor, webSP.ID); return err },
			"DisableServicePrincipal": func() error { _, err := e.d.DisableServicePrincipal(e.ctx, actor, webSP.ID); return err },
			"DeleteServicePrincipal":  func() error { return e.d.DeleteServicePrincipal(e.ctx, actor, webSP.ID) },
			"AssignAppRole": func() error {
				_, err := e.d.AssignAppRole(e.ctx, actor, AssignmentSpec{ResourceID: webSP.ID, PrincipalID: e.alice.ID, AppRoleID: application.DefaultAccessRoleID})
				return err
			},
			"UnassignAppRole": func() error { return e.d.UnassignAppRole(e.ctx, actor, "x") },
			"Consent": func() error {
				_, err := e.d.Consent(e.ctx, actor, e.conID, ConsentSpec{ClientAppID: ftWebApp, Default: true, TenantWide: true})
				return err
			},
			"RevokeGrant":             func() error { return e.d.DeleteGrant(e.ctx, actor, grants[0].ID) },
			"Apply":                   func() error { _, err := e.d.Apply(e.ctx, actor, Manifest{}); return err },
			"Plan":                    func() error { _, err := e.d.Plan(e.ctx, actor, Manifest{}); return err },
			"Application":             func() error { _, err := e.d.Application(e.ctx, actor, appObj); return err },
			"ApplicationByAppID":      func() error { _, err := e.d.ApplicationByAppID(e.ctx, actor, ftWebApp); return err },
			"Applications":            func() error { _, err := e.d.Applications(e.ctx, actor, e.conID, PageRequest{}); return err },
			"Assignments":             func() error { _, err := e.d.Assignments(e.ctx, actor, e.alice.ID, PageRequest{}); return err },
			"Audit":                   func() error { _, err := e.d.Audit(e.ctx, actor, e.conID, AuditQuery{}); return err },
			"Grants":                  func() error { _, err := e.d.Grants(e.ctx, actor, webSP.ID, PageRequest{}); return err },
			"Group":                   func() error { _, err := e.d.Group(e.ctx, actor, e.clerks.ID); return err },
			"Groups":                  func() error { _, err := e.d.Groups(e.ctx, actor, e.conID, PageRequest{}); return err },
			"ResolveTenant":           func() error { _, err := e.d.ResolveTenant(e.ctx, actor, "contoso.com"); return err },
			"ServicePrincipal":        func() error { _, err := e.d.ServicePrincipal(e.ctx, actor, webSP.ID); return err },
			"ServicePrincipalByAppID": func() error { _, err := e.d.ServicePrincipalByAppID(e.ctx, actor, e.conID, ftWebApp); return err },
			"ServicePrincipals":       func() error { _, err := e.d.ServicePrincipals(e.ctx, actor, e.conID, PageRequest{}); return err },
			"User":                    func() error { _, err := e.d.User(e.ctx, actor, e.alice.ID); return err },
			"UserByPrincipalName":     func() error { _, err := e.d.UserByPrincipalName(e.ctx, actor, "alice@contoso.com"); return err },
			"Users":                   func() error { _, err := e.d.Users(e.ctx, actor, e.conID, PageRequest{}); return err },
			"Report":                  func() error { _, err := e.d.Report(e.ctx, actor, e.conID, ReportOptions{}); return err },
			"SignIns":                 func() error { _, err := e.d.SignIns(e.ctx, actor, e.conID, SignInQuery{}); return err },
			"ApproveDeviceCode":       func() error { return e.d.Issuer().ApproveDeviceCode(e.ctx, actor, da.UserCode) },
			"DenyDeviceCode":          func() error { return e.d.Issuer().DenyDeviceCode(e.ctx, actor, da.UserCode) },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, ErrForbidden) {
				t.Errorf("%s with %v: err = %v, want ErrForbidden", name, actor, err)
			}
		}
		if n := ftAuditCount(t, e); n != events {
			t.Errorf("the zero Actor wrote %d audit events", n-events)
		}
	}
	// Authorize with no user is the zero Actor too.
	r := e.authz(ftWebApp, ftWebRedirect, "", ftURI(ftOrdersApp)+"/Orders.Read")
	if _, err := e.d.Issuer().Authorize(e.ctx, r); err == nil {
		t.Error("Authorize without a user issued a code")
	}
}

// ---------------------------------------------------------------------------
// Secrets in logs, audit, sign-in log and errors.

func TestAttackNoSecretsAnywhere(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	kek := make([]byte, 32)
	kek[3] = 5
	e := newFT(t, func(c *TokenConfig) {
		c.KeyEncryptionKey = kek
		c.FederatedKeys = func(context.Context, string) (token.KeySource, error) {
			return nil, errors.New("unreachable issuer")
		}
	})
	// A second Directory over the same store, with the logger, does the
	// flows.
	d := ftOK(New(e.ctx, Config{Store: e.st, Now: e.clock.Now, Logger: logger, Tokens: e.cfg}))(t)
	defer d.Close()
	const pass = "Sup3r-Secret-Passw0rd!"
	u := ftOK(d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "pw@contoso.com", Password: pass}))(t)
	var secrets []string
	add := func(s ...string) {
		for _, x := range s {
			if x != "" {
				secrets = append(secrets, x)
			}
		}
	}
	add(pass, e.secret[ftWebApp], e.secret[ftDaemonApp])
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for range 12 {
		_, err := d.Issuer().SignIn(e.ctx, SignInRequest{Tenant: e.conID, UserPrincipalName: u.UserPrincipalName, Password: pass + "x"})
		keep(err)
	}
	add(pass + "x")
	iss := d.Issuer()
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	ar := ftOK(iss.Authorize(e.ctx, req))(t)
	add(ar.Code, ftVerifier)
	tr := ftOK(iss.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect, CodeVerifier: ftVerifier}))(t)
	add(tr.AccessToken, tr.RefreshToken, tr.IDToken)
	_, err := iss.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect, CodeVerifier: ftVerifier})
	keep(err)
	_, err = iss.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: "wrong-secret-value-1234", RefreshToken: tr.RefreshToken})
	keep(err)
	add("wrong-secret-value-1234")
	_, err = iss.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantJWTBearer, ClientID: ftOrdersApp, ClientSecret: e.secret[ftOrdersApp], Assertion: tr.AccessToken + "x", RequestedTokenUse: "on_behalf_of", Scope: ftURI(ftDownApp) + "/Files.Read"})
	keep(err)
	da := ftOK(iss.DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: "openid"}))(t)
	add(da.DeviceCode, da.UserCode)
	keep(iss.ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode))
	_, err = iss.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantDeviceCode, ClientID: ftPublicApp, DeviceCode: da.DeviceCode})
	keep(err)
	_, err = iss.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantDeviceCode, ClientID: ftPublicApp, DeviceCode: da.DeviceCode})
	keep(err)
	p := ftOK(d.AddPassword(e.ctx, System(), e.apps[ftWebApp].ID, PasswordSpec{DisplayName: "logged"}))(t)
	add(p.SecretText)
	ftOK(d.AddFederatedCredential(e.ctx, System(), e.apps[ftDaemonApp].ID, application.FederatedIdentityCredential{Name: "github-main", Issuer: ftFedIssuer, Subject: ftFedSubject}))(t)
	fed := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
	add(fed)
	_, err = iss.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientAssertionType: token.ClientAssertionType, ClientAssertion: fed, Scope: ftURI(ftOrdersApp) + "/.default"})
	keep(err)
	kid := ftOK(jose.ParseSignedCompact(tr.AccessToken, []jose.SignatureAlgorithm{jose.ES256}))(t).Signatures[0].Header.KeyID
	keep(iss.WithdrawKey(e.ctx, kid))
	ftOK(iss.RotateKeys(e.ctx))(t)

	if !strings.Contains(buf.String(), "account locked") || !strings.Contains(buf.String(), "signingKeys.withdraw") || len(errs) < 5 {
		t.Fatalf("the scenario did not reach the logger (%d bytes) or its refusals (%d)", buf.Len(), len(errs))
	}
	var hay []string
	hay = append(hay, buf.String())
	for _, ev := range ftOK(d.auditLog(e.ctx))(t) {
		b, _ := json.Marshal(ev)
		hay = append(hay, string(b))
	}
	evs, _, err := e.st.SignIns(e.ctx, store.SignInFilter{}, store.LogPage{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		hay = append(hay, string(b))
	}
	for _, err := range errs {
		hay = append(hay, err.Error())
		for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
			hay = append(hay, u.Error())
		}
	}
	for _, s := range secrets {
		probe := s
		if len(probe) > 24 {
			probe = probe[len(probe)/2-8 : len(probe)/2+8] // a piece from the middle
		}
		for _, h := range hay {
			if strings.Contains(h, probe) {
				i := strings.Index(h, probe)
				lo, hi := max(0, i-80), min(len(h), i+80)
				t.Errorf("secret %.12q… found: …%s…", s, h[lo:hi])
				break
			}
		}
	}
}

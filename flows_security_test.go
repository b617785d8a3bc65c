package tenantry

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// A code issued without code_challenge refuses a code_verifier (PKCE
// downgrade, RFC 9700 §2.1.1); the refused redemption leaves the code
// usable without one.
func TestSecurityPKCEDowngradeRefused(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	req.CodeChallenge, req.CodeChallengeMethod = "", ""
	ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	_, err := e.redeem(req, ar.Code) // sends ftVerifier
	ftWantErr(t, err, 50148, OAuthInvalidGrant)
	if _, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect}); err != nil {
		t.Fatalf("redeeming without a verifier after the refusal: %v", err)
	}
}

// ftAuditCount returns the number of audit events.
func ftAuditCount(t ftTB, e *ftEnv) int {
	t.Helper()
	return len(ftOK(e.d.auditLog(e.ctx))(t))
}

// ftCodes returns every stored code.
func ftCodes(t ftTB, e *ftEnv) []store.Code {
	t.Helper()
	var out []store.Code
	if err := e.d.Store().View(e.ctx, func(tx store.ReadTx) error {
		var err error
		out, err = store.Codes.All(tx, "", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// Scope parameters are bounded at every entry point before anything is
// stored or audited, only their parsed form is kept, and error descriptions
// do not echo long scope lists.
func TestSecurityScopeBounds(t *testing.T) {
	e := newFT(t)
	huge := strings.Repeat("api://x/"+strings.Repeat("a", 1000)+" ", 1000) // ~1 MB
	many := strings.Repeat("openid ", 100+1)
	for name, scope := range map[string]string{"1 MB": huge, "too many values": many} {
		t.Run(name, func(t *testing.T) {
			events, codes := ftAuditCount(t, e), len(ftCodes(t, e))
			_, err := e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: scope})
			ftWantErr(t, err, 70011, OAuthInvalidScope)
			_, err = e.d.Issuer().Authorize(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, scope))
			ftWantErr(t, err, 70011, OAuthInvalidScope)
			_, err = e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], scope)
			ftWantErr(t, err, 70011, OAuthInvalidScope)
			rt := e.webSignIn(t, e.alice.ID).RefreshToken
			events, codes = events+1, codes+1 // the sign-in's authorize event and code
			_, err = e.refresh(ftWebApp, rt, scope)
			ftWantErr(t, err, 70011, OAuthInvalidScope)
			if n := ftAuditCount(t, e); n != events+1 { // + token.redeemCode
				t.Fatalf("audit events %d, want %d", n, events+1)
			}
			if n := len(ftCodes(t, e)); n != codes {
				t.Fatalf("codes %d, want %d", n, codes)
			}
		})
	}
	t.Run("parsed form stored, nothing audited", func(t *testing.T) {
		raw := "openid \t openid  " + ftURI(ftOrdersApp) + "/Orders.Read   " + ftURI(ftOrdersApp) + "/Orders.Read offline_access"
		want := ftURI(ftOrdersApp) + "/Orders.Read openid offline_access"
		events := ftAuditCount(t, e)
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: raw}))(t)
		// An unauthenticated request changes no directory object: the
		// sign-in log records it, the audit log does not grow.
		if n := ftAuditCount(t, e); n != events {
			t.Fatalf("a device code request appended %d audit events", n-events)
		}
		found := false
		for _, c := range ftCodes(t, e) {
			if c.Kind == codeKindDevice && strings.Contains(string(c.Data), want) {
				found = true
			}
			if strings.Contains(string(c.Data), "\t") || strings.Contains(string(c.Data), "openid  ") {
				t.Fatalf("raw scope stored: %s", c.Data)
			}
		}
		if !found {
			t.Fatalf("device code %s not stored with scope %q", da.UserCode, want)
		}
		ar := ftOK(e.d.Issuer().Authorize(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, raw)))(t)
		ev := ftOK(e.d.auditLog(e.ctx))(t)
		if last := ev[len(ev)-1]; last.Action != "signIn.authorize" || !strings.Contains(string(last.After), `"scope":"`+want+`"`) {
			t.Fatalf("audited %s %s, want scope %q", last.Action, last.After, want)
		}
		_ = ar
	})
	t.Run("error descriptions are capped", func(t *testing.T) {
		var unknown []string
		for i := range 90 {
			unknown = append(unknown, ftURI(ftOrdersApp)+"/Unknown.Scope."+strings.Repeat("x", 40)+strconv.Itoa(i))
		}
		_, err := e.d.Issuer().Authorize(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, strings.Join(unknown, " ")))
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatalf("unknown scopes: %v", err)
		}
		if len(te.ErrorDescription) > 1100 || strings.Contains(te.ErrorDescription, "Unknown.Scope."+strings.Repeat("x", 40)+"89") {
			t.Fatalf("description of %d bytes echoes the scope list: %s", len(te.ErrorDescription), te.ErrorDescription)
		}
	})
}

// Expired device codes are removed on the day they expire, not only on
// later days: an unauthenticated caller cannot pile them up.
func TestSecurityExpiredDeviceCodesPurgedSameDay(t *testing.T) {
	e := newFT(t)
	for range 5 {
		ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: "openid"}))(t)
	}
	e.clock.Advance(20 * time.Minute) // past the 15-minute lifetime, same day
	ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: "openid"}))(t)
	n := 0
	for _, c := range ftCodes(t, e) {
		if c.Kind == codeKindDevice || c.Kind == codeKindUser {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("device and user codes after expiry = %d, want only the 2 new ones", n)
	}
}

// A grant's scope string never exceeds Entra's 3,850 characters: a consent
// that would make it longer is refused and writes nothing.
func TestSecurityGrantScopeLengthCapped(t *testing.T) {
	e := newFT(t)
	var scopes []application.PermissionScope
	var values []string
	for i := range 60 {
		v := "Very.Long.Scope.Name." + strings.Repeat("x", 48) + fmt.Sprintf("%02d", i)
		values = append(values, v)
		scopes = append(scopes, application.PermissionScope{ID: fmt.Sprintf("0d000000-0000-4000-8000-0000000000%02d", i), Value: v, Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: v, UserConsentDisplayName: v})
	}
	api := ftOK(e.d.CreateApplication(e.ctx, System(), e.conID, application.Application{DisplayName: "Wide API", API: &application.API{OAuth2PermissionScopes: scopes}}))(t)
	_, err := e.d.Consent(e.ctx, UserActor(e.alice.ID), e.conID, ConsentSpec{ClientAppID: ftWebApp, Scopes: []consent.ScopeRequest{{ResourceAppID: api.AppID, Scopes: values}}})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("consent to %d characters of scopes: %v", len(strings.Join(values, " ")), err)
	}
	for _, g := range ftOK(e.d.allGrants(e.ctx, e.sp(t, ftWebApp, e.conID).ID))(t) {
		if len(g.Scope) > consent.MaxGrantScopeLength {
			t.Fatalf("grant of %d characters stored", len(g.Scope))
		}
	}
	// Half of them fit.
	ftOK(e.d.Consent(e.ctx, UserActor(e.alice.ID), e.conID, ConsentSpec{ClientAppID: ftWebApp, Scopes: []consent.ScopeRequest{{ResourceAppID: api.AppID, Scopes: values[:30]}}}))(t)
}

// An API whose sign-in audience is narrowed to its home tenant after other
// tenants consented gets no more tokens minted for it there, by any grant,
// and its validator refuses the tokens minted before.
func TestSecurityResourceAudienceNarrowedAfterConsent(t *testing.T) {
	e := newFT(t)
	orders := ftURI(ftOrdersApp)
	// Fabrikam consents: Carol signs in to the web app for Orders, the
	// daemon gets its application permissions, a device sign-in is
	// approved, and the web app's token reaches Orders as middle tier.
	req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, orders+"/Orders.Read openid offline_access")
	req.Tenant = e.fabID
	carol := e.signIn(t, req)
	daemon := ftOK(e.d.CreateApplication(e.ctx, System(), e.conID, application.Application{
		DisplayName: "Fabrikam-bound Daemon", SignInAudience: application.AzureADMultipleOrgs,
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: ftOrdersApp, ResourceAccess: []application.ResourceAccess{{ID: ftRoleSync, Type: application.AccessRole}}}},
	}))(t)
	secret := ftOK(e.d.AddPassword(e.ctx, System(), daemon.ID, PasswordSpec{DisplayName: "s"}))(t).SecretText
	ftOK(e.d.Consent(e.ctx, UserActor(e.fadmin.ID), e.fabID, ConsentSpec{ClientAppID: daemon.AppID, Default: true, TenantWide: true}))(t)
	if _, err := e.cc(e.fabID, daemon.AppID, secret, orders+"/.default"); err != nil {
		t.Fatalf("client credentials in Fabrikam before narrowing: %v", err)
	}
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.fabID, ClientID: ftPublicApp, Scope: orders + "/Orders.Read"}))(t)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.carol.ID), da.UserCode); err != nil {
		t.Fatal(err)
	}
	da2 := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.fabID, ClientID: ftPublicApp, Scope: orders + "/Orders.Read"}))(t)
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, carol.AccessToken, ftOrdersApp); err != nil {
		t.Fatalf("validation before narrowing: %v", err)
	}
	own := e.webSignIn(t, e.alice.ID)

	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		a.SignInAudience = application.AzureADMyOrg
		return nil
	}))(t)

	_, err := e.cc(e.fabID, daemon.AppID, secret, orders+"/.default")
	ftWantErr(t, err, 500011, OAuthInvalidResource)
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: carol.RefreshToken})
	ftWantErr(t, err, 500011, OAuthInvalidResource)
	_, err = e.d.Issuer().Authorize(e.ctx, req)
	ftWantErr(t, err, 500011, OAuthInvalidResource)
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantDeviceCode, ClientID: ftPublicApp, DeviceCode: da.DeviceCode})
	ftWantErr(t, err, 500011, OAuthInvalidResource)
	err = e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.carol.ID), da2.UserCode)
	ftWantErr(t, err, 500011, OAuthInvalidResource)
	// Orders as middle tier in Fabrikam is now an app the tenant cannot use.
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantJWTBearer, ClientID: ftOrdersApp, ClientSecret: e.secret[ftOrdersApp], Assertion: carol.AccessToken, RequestedTokenUse: "on_behalf_of", Scope: ftURI(ftDownApp) + "/Files.Read"})
	ftWantErr(t, err, 700016, OAuthUnauthorizedClient)
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, carol.AccessToken, ftOrdersApp); !errors.Is(err, token.ErrTenant) {
		t.Fatalf("validating a Fabrikam token of a single-tenant API: %v, want token.ErrTenant", err)
	}
	// The home tenant is unaffected.
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, own.AccessToken, ftOrdersApp); err != nil {
		t.Fatal(err)
	}
	if _, err := e.refresh(ftWebApp, own.RefreshToken, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], orders+"/.default"); err != nil {
		t.Fatal(err)
	}
}

// Redeeming an authorization code again revokes the refresh tokens issued
// from it (RFC 6749 §4.1.2), across their whole rotation chain, and only
// those.
func TestSecurityCodeReplayRevokesRefreshChain(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	first := ftOK(e.redeem(req, ar.Code))(t)
	e.clock.Advance(time.Minute)
	second := ftOK(e.refresh(ftWebApp, first.RefreshToken, ""))(t)
	other := e.webSignIn(t, e.alice.ID) // another sign-in, another code
	e.clock.Advance(time.Minute)
	events := ftAuditCount(t, e)
	_, err := e.redeem(req, ar.Code)
	ftWantErr(t, err, 54005, OAuthInvalidGrant)
	if n := ftAuditCount(t, e); n != events+1 {
		t.Fatalf("audit events after the replay: %d, want %d", n, events+1)
	}
	for _, rt := range []string{first.RefreshToken, second.RefreshToken} {
		_, err := e.refresh(ftWebApp, rt, "")
		ftWantErr(t, err, 70008, OAuthInvalidGrant)
	}
	// Replaying again is refused the same way and changes nothing more.
	_, err = e.redeem(req, ar.Code)
	ftWantErr(t, err, 54005, OAuthInvalidGrant)
	if n := ftAuditCount(t, e); n != events+1 {
		t.Fatalf("audit events after a second replay: %d, want %d", n, events+1)
	}
	if _, err := e.refresh(ftWebApp, other.RefreshToken, ""); err != nil {
		t.Fatalf("a chain from another code: %v", err)
	}
	// The mark outlives the day's purge of expired codes.
	e.clock.Advance(3 * 24 * time.Hour)
	e.webSignIn(t, e.bob.ID) // purges
	_, err = e.refresh(ftWebApp, second.RefreshToken, "")
	ftWantErr(t, err, 70008, OAuthInvalidGrant)
}

func ftStrict(c *TokenConfig) { c.RefreshTokenRotation = RefreshRotationStrict }

// publicSignIn signs user into the desktop app (a public client) with a
// refresh token.
func (e *ftEnv) publicSignIn(t ftTB, userID string) *TokenResponse {
	t.Helper()
	return e.signIn(t, e.authz(ftPublicApp, ftPublicRedirect, userID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access"))
}

func (e *ftEnv) publicRefresh(d *Directory, rt string) (*TokenResponse, error) {
	return d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftPublicApp, RefreshToken: rt})
}

// Strict rotation: a public client's superseded refresh token is refused
// and its reuse revokes the chain; the token just superseded is accepted
// within the grace period; confidential clients keep Entra's behaviour.
func TestSecurityStrictRefreshRotation(t *testing.T) {
	t.Run("reuse revokes the chain", func(t *testing.T) {
		e := newFT(t, ftStrict)
		rt0 := e.publicSignIn(t, e.alice.ID).RefreshToken
		rt1 := ftOK(e.publicRefresh(e.d, rt0))(t).RefreshToken
		e.clock.Advance(time.Minute)
		rt2 := ftOK(e.publicRefresh(e.d, rt1))(t).RefreshToken
		e.clock.Advance(time.Minute)
		events := ftAuditCount(t, e)
		_, err := e.publicRefresh(e.d, rt0) // superseded twice over
		ftWantErr(t, err, 70008, OAuthInvalidGrant)
		if n := ftAuditCount(t, e); n != events+1 {
			t.Fatalf("audit events after the reuse: %d, want %d", n, events+1)
		}
		for _, rt := range []string{rt2, rt1, rt0} {
			_, err := e.publicRefresh(e.d, rt)
			ftWantErr(t, err, 70008, OAuthInvalidGrant)
		}
		// Another chain of the same user is unaffected.
		other := e.publicSignIn(t, e.alice.ID).RefreshToken
		ftOK(e.publicRefresh(e.d, other))(t)
	})
	t.Run("grace period for concurrent refreshes", func(t *testing.T) {
		e := newFT(t, ftStrict)
		rt0 := e.publicSignIn(t, e.alice.ID).RefreshToken
		rt1 := ftOK(e.publicRefresh(e.d, rt0))(t).RefreshToken
		e.clock.Advance(5 * time.Second)
		rt1b := ftOK(e.publicRefresh(e.d, rt0))(t).RefreshToken // concurrent: within 10 s
		ftOK(e.publicRefresh(e.d, rt1b))(t)
		e.clock.Advance(time.Minute)
		_, err := e.publicRefresh(e.d, rt1) // superseded by rt1b's refresh
		ftWantErr(t, err, 70008, OAuthInvalidGrant)
	})
	t.Run("state is shared through the store", func(t *testing.T) {
		kek := make([]byte, 32)
		kek[0] = 7
		e2 := newFT(t, ftStrict, func(c *TokenConfig) { c.KeyEncryptionKey = kek })
		other := ftOK(New(e2.ctx, Config{Store: e2.st, Now: e2.clock.Now, Tokens: e2.cfg}))(t)
		defer other.Close()
		rt0 := e2.publicSignIn(t, e2.alice.ID).RefreshToken
		ftOK(e2.publicRefresh(e2.d, rt0))(t)
		e2.clock.Advance(time.Minute)
		_, err := e2.publicRefresh(other, rt0) // reused through another process
		ftWantErr(t, err, 70008, OAuthInvalidGrant)
	})
	t.Run("confidential clients and the default keep old tokens valid", func(t *testing.T) {
		e := newFT(t, ftStrict)
		rt0 := e.webSignIn(t, e.alice.ID).RefreshToken
		ftOK(e.refresh(ftWebApp, rt0, ""))(t)
		e.clock.Advance(time.Minute)
		ftOK(e.refresh(ftWebApp, rt0, ""))(t)
		d := newFT(t)
		p0 := d.publicSignIn(t, d.alice.ID).RefreshToken
		ftOK(d.publicRefresh(d.d, p0))(t)
		d.clock.Advance(time.Minute)
		ftOK(d.publicRefresh(d.d, p0))(t)
	})
}

// Pre-authorization (api.preAuthorizedApplications) waives the consent
// prompt only: the consenting tenant's policy still decides, so a foreign
// API cannot create service principals or grants in a tenant whose users
// may not consent, at sign-in or in the device flow.
func TestSecurityPreAuthorizationKeepsTenantPolicy(t *testing.T) {
	e := newFT(t)
	// Fabrikam publishes an API that pre-authorizes its own web app and
	// desktop app.
	const readID = "0e000000-0000-4000-8000-000000000001"
	api := ftOK(e.d.CreateApplication(e.ctx, System(), e.fabID, application.Application{
		DisplayName: "Fabrikam API", SignInAudience: application.AzureADMultipleOrgs,
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{{ID: readID, Value: "Data.Read", Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: "r", UserConsentDisplayName: "r"}}},
	}))(t)
	web := ftOK(e.d.CreateApplication(e.ctx, System(), e.fabID, application.Application{
		DisplayName: "Fabrikam Web", SignInAudience: application.AzureADMultipleOrgs,
		Web: &application.Web{RedirectURIs: []string{"https://web.fabrikam.com/cb"}},
	}))(t)
	cli := ftOK(e.d.CreateApplication(e.ctx, System(), e.fabID, application.Application{
		DisplayName: "Fabrikam CLI", SignInAudience: application.AzureADMultipleOrgs, IsFallbackPublicClient: true,
		PublicClient: &application.RedirectURIs{RedirectURIs: []string{"http://localhost"}},
	}))(t)
	ftOK(e.d.UpdateApplication(e.ctx, System(), api.ID, func(a *application.Application) error {
		a.API.PreAuthorizedApplications = []application.PreAuthorizedApplication{{AppID: web.AppID, DelegatedPermissionIDs: []string{readID}}, {AppID: cli.AppID, DelegatedPermissionIDs: []string{readID}}}
		return nil
	}))(t)
	// Contoso forbids user consent.
	p := tenant.DefaultPolicy()
	p.SetUserConsent(tenant.UserConsentNone)
	ftOK(e.d.SetAuthorizationPolicy(e.ctx, UserActor(e.admin.ID), e.conID, p))(t)
	noSPs := func() {
		t.Helper()
		for _, id := range []string{api.AppID, web.AppID, cli.AppID} {
			if _, err := e.d.ServicePrincipalByAppID(e.ctx, System(), e.conID, id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("service principal of %s in Contoso: %v", id, err)
			}
		}
	}
	req := AuthorizeRequest{Tenant: e.conID, ClientID: web.AppID, RedirectURI: "https://web.fabrikam.com/cb", ResponseType: "code", Scope: api.AppID + "/Data.Read", UserID: e.alice.ID}
	for _, prompt := range []string{"", "none"} {
		req.Prompt = prompt
		_, err := e.d.Issuer().Authorize(e.ctx, req)
		if !errors.Is(err, consent.ErrUserConsentDisabled) {
			t.Fatalf("prompt %q: pre-authorized sign-in where users may not consent: %v", prompt, err)
		}
		noSPs()
	}
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: cli.AppID, Scope: api.AppID + "/Data.Read"}))(t)
	err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode)
	if !errors.Is(err, consent.ErrUserConsentDisabled) {
		t.Fatalf("pre-authorized device sign-in where users may not consent: %v", err)
	}
	noSPs()

	// Where users may consent, pre-authorization waives the prompt:
	// prompt=none succeeds, and the grant is the user's own.
	req.Tenant, req.UserID, req.Prompt = e.fabID, e.carol.ID, "none"
	ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	if ar.Code == "" {
		t.Fatal("no code")
	}
	grants := ftOK(e.d.allGrants(e.ctx, e.sp(t, web.AppID, e.fabID).ID))(t)
	if !slices.ContainsFunc(grants, func(g consent.Grant) bool {
		return g.ConsentType == consent.Principal && g.PrincipalID == e.carol.ID && strings.Contains(g.Scope, "Data.Read")
	}) {
		t.Fatalf("grants = %+v", grants)
	}
}

// ftResourceGrants returns the grants of the client service principal
// clientSPID other than the sign-in grant, after checking that the sign-in
// grant of userID (on the client itself, Microsoft Graph being absent from
// the fixture) records exactly signIn.
func ftResourceGrants(t ftTB, e *ftEnv, clientSPID, userID, signIn string) []consent.Grant {
	t.Helper()
	var out []consent.Grant
	found := false
	for _, g := range ftOK(e.d.allGrants(e.ctx, clientSPID))(t) {
		if g.ResourceID != clientSPID {
			out = append(out, g)
			continue
		}
		if g.ConsentType == consent.Principal && g.PrincipalID == userID {
			found = true
			if g.Scope != signIn {
				t.Fatalf("sign-in grant of %s records %q, want %q", userID, g.Scope, signIn)
			}
		}
	}
	if !found {
		t.Fatalf("no sign-in grant for %s", userID)
	}
	return out
}

// Sign-in scopes need consent like any other permission: they are recorded
// in the user's delegated grant (on Microsoft Graph where it is present,
// else on the client itself), a sign-in needs that grant or admin consent,
// and a refresh, even one narrowed to "openid offline_access", fails once
// the grant is gone.
func TestSecuritySignInScopesNeedConsent(t *testing.T) {
	signIn := "openid profile email offline_access"
	homeApp := func(t *testing.T, e *ftEnv) application.Application {
		return ftOK(e.d.CreateApplication(e.ctx, System(), e.conID, application.Application{
			DisplayName: "Intranet", Web: &application.Web{RedirectURIs: []string{"https://intranet.contoso.com/cb"}},
		}))(t)
	}
	authz := func(e *ftEnv, app application.Application, userID, scope string) AuthorizeRequest {
		return AuthorizeRequest{Tenant: e.conID, ClientID: app.AppID, RedirectURI: "https://intranet.contoso.com/cb", ResponseType: "code", Scope: scope, UserID: userID}
	}
	noUserConsent := func(t *testing.T, e *ftEnv) {
		p := tenant.DefaultPolicy()
		p.SetUserConsent(tenant.UserConsentNone)
		ftOK(e.d.SetAuthorizationPolicy(e.ctx, UserActor(e.admin.ID), e.conID, p))(t)
	}
	t.Run("no sign-in without consent where users may not consent", func(t *testing.T) {
		e := newFT(t)
		app := homeApp(t, e)
		noUserConsent(t, e)
		_, err := e.d.Issuer().Authorize(e.ctx, authz(e, app, e.alice.ID, signIn))
		ftWantErr(t, err, 90094, OAuthConsentRequired)
		if !errors.Is(err, consent.ErrUserConsentDisabled) {
			t.Fatalf("err = %v, want ErrUserConsentDisabled", err)
		}
		// The device flow alike.
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: "openid profile"}))(t)
		err = e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode)
		ftWantErr(t, err, 90094, OAuthConsentRequired)
		// An administrator's consent for every user admits the sign-in.
		ftOK(e.d.Consent(e.ctx, UserActor(e.admin.ID), e.conID, ConsentSpec{ClientAppID: app.AppID, Scopes: []consent.ScopeRequest{{Scopes: strings.Fields(signIn)}}, TenantWide: true}))(t)
		ar := ftOK(e.d.Issuer().Authorize(e.ctx, authz(e, app, e.alice.ID, signIn)))(t)
		if ar.Code == "" {
			t.Fatal("no code")
		}
	})
	t.Run("prompt=none needs the sign-in consent", func(t *testing.T) {
		e := newFT(t)
		app := homeApp(t, e)
		req := authz(e, app, e.alice.ID, "openid profile")
		req.Prompt = "none"
		_, err := e.d.Issuer().Authorize(e.ctx, req)
		ftWantErr(t, err, 65001, OAuthInteractionRequired)
		req.Prompt = ""
		ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
		req.Prompt = "none"
		ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	})
	t.Run("recorded in the user's grant, refused after revocation", func(t *testing.T) {
		e := newFT(t)
		req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read "+signIn)
		tr := e.signIn(t, req)
		webSP := e.sp(t, ftWebApp, e.conID).ID
		ftResourceGrants(t, e, webSP, e.alice.ID, "email offline_access openid profile")
		// Sign-in only, on another app: the grant is the sign-in grant
		// alone, with the whole basic sign-in set.
		only := e.signIn(t, e.authz(ftWeb2App, ftWeb2Redirect, e.alice.ID, "openid offline_access"))
		web2SP := e.sp(t, ftWeb2App, e.conID).ID
		ftResourceGrants(t, e, web2SP, e.alice.ID, "email offline_access openid profile")
		// Alice revokes her grants.
		for _, sp := range []string{webSP, web2SP} {
			for _, g := range ftOK(e.d.allGrants(e.ctx, sp))(t) {
				if err := e.d.DeleteGrant(e.ctx, UserActor(e.alice.ID), g.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, c := range []struct{ client, rt string }{{ftWebApp, tr.RefreshToken}, {ftWeb2App, only.RefreshToken}} {
			for _, scope := range []string{"", "openid offline_access"} {
				_, err := e.refresh(c.client, c.rt, scope)
				ftWantErr(t, err, 65001, OAuthInvalidGrant)
			}
		}
	})
	t.Run("on Microsoft Graph when it is present", func(t *testing.T) {
		e := newFT(t)
		graph := ftOK(e.d.CreateApplication(e.ctx, System(), e.conID, application.Application{AppID: application.MicrosoftGraphAppID, DisplayName: "Microsoft Graph", SignInAudience: application.AzureADMultipleOrgs}))(t)
		_ = graph
		app := homeApp(t, e)
		ftOK(e.d.Issuer().Authorize(e.ctx, authz(e, app, e.alice.ID, "openid profile")))(t)
		graphSP := e.sp(t, application.MicrosoftGraphAppID, e.conID)
		grants := ftOK(e.d.allGrants(e.ctx, e.sp(t, app.AppID, e.conID).ID))(t)
		if len(grants) != 1 || grants[0].ResourceID != graphSP.ID || grants[0].Scope != "email offline_access openid profile" || grants[0].PrincipalID != e.alice.ID {
			t.Fatalf("grants = %+v, want alice's basic sign-in set on Microsoft Graph", grants)
		}
	})
}

// The downstream API of an on-behalf-of exchange is checked too.
func TestSecurityResourceAudienceOnBehalfOf(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
	req.Tenant = e.fabID
	carol := e.signIn(t, req) // combined consent: Orders on Downstream in Fabrikam
	obo := func() error {
		_, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantJWTBearer, ClientID: ftOrdersApp, ClientSecret: e.secret[ftOrdersApp], Assertion: carol.AccessToken, RequestedTokenUse: "on_behalf_of", Scope: ftURI(ftDownApp) + "/Files.Read"})
		return err
	}
	if err := obo(); err != nil {
		t.Fatalf("on-behalf-of before narrowing: %v", err)
	}
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[ftDownApp].ID, func(a *application.Application) error {
		a.SignInAudience = application.AzureADMyOrg
		return nil
	}))(t)
	ftWantErr(t, obo(), 500011, OAuthInvalidResource)
}

// Strict rotation covers the device code flow's refresh tokens too.
func TestSecurityStrictRefreshRotationDeviceCode(t *testing.T) {
	e := newFT(t, ftStrict)
	da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read offline_access"}))(t)
	if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), da.UserCode); err != nil {
		t.Fatal(err)
	}
	rt0 := ftOK(e.poll(ftPublicApp, da.DeviceCode))(t).RefreshToken
	ftOK(e.publicRefresh(e.d, rt0))(t)
	e.clock.Advance(time.Minute)
	_, err := e.publicRefresh(e.d, rt0)
	ftWantErr(t, err, 70008, OAuthInvalidGrant)
}

// Under strict rotation an expired superseded token, or one presented for
// another client, is refused without revoking the chain.
func TestSecurityStrictRotationIgnoresExpiredAndForeignTokens(t *testing.T) {
	e := newFT(t, ftStrict, func(c *TokenConfig) { c.RefreshTokenLifetime = time.Hour })
	rt0 := e.publicSignIn(t, e.alice.ID).RefreshToken
	e.clock.Advance(50 * time.Minute)
	rt1 := ftOK(e.publicRefresh(e.d, rt0))(t).RefreshToken
	_, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftSPAApp, RefreshToken: rt0})
	ftWantErr(t, err, 70000, OAuthInvalidGrant)
	e.clock.Advance(20 * time.Minute) // rt0 expired, rt1 not
	_, err = e.publicRefresh(e.d, rt0)
	ftWantErr(t, err, 700082, OAuthInvalidGrant)
	if _, err := e.publicRefresh(e.d, rt1); err != nil {
		t.Fatalf("the current token after an expired and a foreign one: %v", err)
	}
}

// Concurrent refreshes with the same token under strict rotation all
// succeed (the grace period), and the chain stays usable.
func TestSecurityStrictRotationConcurrentRefreshes(t *testing.T) {
	e := newFT(t, ftStrict)
	rt0 := e.publicSignIn(t, e.alice.ID).RefreshToken
	var wg sync.WaitGroup
	out := make([]*TokenResponse, 8)
	errs := make([]error, len(out))
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = e.publicRefresh(e.d, rt0)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent refresh %d: %v", i, err)
		}
	}
	if _, err := e.publicRefresh(e.d, out[len(out)-1].RefreshToken); err != nil {
		t.Fatalf("refresh after the concurrent ones: %v", err)
	}
}

// A request for the client itself ("{client}/.default", no OIDC scope) is a
// sign-in to the client and is judged as one: where users may not consent
// it needs an administrator (Authorize and the device flow alike), where
// they may it records the user's sign-in grant, and a refresh narrowed to
// it fails once the user's grants are gone.
func TestSecuritySelfDefaultNeedsSignInConsent(t *testing.T) {
	t.Run("user consent disabled", func(t *testing.T) {
		e := newFT(t)
		p := tenant.DefaultPolicy()
		p.SetUserConsent(tenant.UserConsentNone)
		ftOK(e.d.SetAuthorizationPolicy(e.ctx, UserActor(e.admin.ID), e.conID, p))(t)
		_, err := e.d.Issuer().Authorize(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.bob.ID, ftWebApp+"/.default"))
		ftWantErr(t, err, 90094, OAuthConsentRequired)
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftPublicApp + "/.default"}))(t)
		err = e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(e.bob.ID), da.UserCode)
		ftWantErr(t, err, 90094, OAuthConsentRequired)
		// An administrator's consent for every user admits the sign-in.
		ftOK(e.d.Consent(e.ctx, UserActor(e.admin.ID), e.conID, ConsentSpec{ClientAppID: ftWebApp, Default: true, TenantWide: true}))(t)
		e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.bob.ID, ftWebApp+"/.default"))
	})
	t.Run("user consent recorded", func(t *testing.T) {
		e := newFT(t)
		tr := e.signIn(t, e.authz(ftWeb2App, ftWeb2Redirect, e.alice.ID, ftWeb2App+"/.default"))
		if c := ftClaims(t, tr.AccessToken); c["aud"] != ftWeb2App || c["oid"] != e.alice.ID {
			t.Fatalf("claims = %v, want alice's token for the client itself", c)
		}
		web2SP := e.sp(t, ftWeb2App, e.conID).ID
		ftResourceGrants(t, e, web2SP, e.alice.ID, "email offline_access openid profile")
	})
	t.Run("refresh after the grant is revoked", func(t *testing.T) {
		e := newFT(t)
		tr := e.signIn(t, e.authz(ftWeb2App, ftWeb2Redirect, e.alice.ID, "openid offline_access"))
		ftOK(e.refresh(ftWeb2App, tr.RefreshToken, ftWeb2App+"/.default"))(t)
		for _, g := range ftOK(e.d.allGrants(e.ctx, e.sp(t, ftWeb2App, e.conID).ID))(t) {
			if err := e.d.DeleteGrant(e.ctx, UserActor(e.alice.ID), g.ID); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.refresh(ftWeb2App, tr.RefreshToken, ftWeb2App+"/.default")
		ftWantErr(t, err, 65001, OAuthInvalidGrant)
	})
}

// On-behalf-of to the middle tier itself ("{client}/.default") needs some
// consent of the user to the middle tier: once the user has deleted every
// grant of the web app and of the middle tier, the middle tier can no
// longer renew its access to her identity.
func TestSecuritySelfOnBehalfOfNeedsConsent(t *testing.T) {
	e := newFT(t)
	user := e.webSignIn(t, e.alice.ID) // aud = Orders
	ftOK(e.obo(ftOrdersApp, user.AccessToken, ftOrdersApp+"/.default"))(t)
	for _, appID := range []string{ftWebApp, ftOrdersApp} {
		for _, g := range ftOK(e.d.allGrants(e.ctx, e.sp(t, appID, e.conID).ID))(t) {
			if g.PrincipalID == e.alice.ID {
				if err := e.d.DeleteGrant(e.ctx, UserActor(e.alice.ID), g.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	e.clock.Advance(50 * time.Minute)
	_, err := e.obo(ftOrdersApp, user.AccessToken, ftOrdersApp+"/.default")
	ftWantErr(t, err, 65001, OAuthInvalidGrant)
}

package interop_test

import (
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/token"
)

// webApp registers a confidential web app in Contoso that signs users in.
func (e *env) webApp(redirect string) (application.Application, string) {
	e.t.Helper()
	app := e.must(e.dir.CreateApplication(e.ctx, tenantry.System(), e.contoso.ID, application.Application{
		DisplayName: "Orders Web", SignInAudience: application.AzureADMultipleOrgs,
		Web: &application.Web{RedirectURIs: []string{redirect}},
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: e.api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: scopeID, Type: application.AccessScope}}}},
	}))
	return app, e.secret(app)
}

// signInInProcess runs the code flow through the Issuer (the user has
// signed in) and returns the token response.
func (e *env) signInInProcess(app application.Application, secret, redirect, userID, nonce string) *tenantry.TokenResponse {
	e.t.Helper()
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	ar, err := e.dir.Issuer().Authorize(e.ctx, tenantry.AuthorizeRequest{Tenant: e.contoso.ID, ClientID: app.AppID, RedirectURI: redirect, ResponseType: "code",
		Scope: apiURI + "/Orders.Read openid profile email offline_access", Nonce: nonce, UserID: userID,
		CodeChallenge: token.S256Challenge(verifier), CodeChallengeMethod: token.PKCES256})
	if err != nil {
		e.t.Fatal(err)
	}
	tr, err := e.dir.Issuer().Token(e.ctx, tenantry.TokenRequest{Tenant: e.contoso.ID, GrantType: tenantry.GrantAuthorizationCode, ClientID: app.AppID,
		ClientSecret: secret, Code: ar.Code, RedirectURI: redirect, CodeVerifier: verifier})
	if err != nil {
		e.t.Fatal(err)
	}
	return tr
}

// go-oidc's Provider reads the server's discovery document and its
// Verifier accepts the ID tokens: the tenant's issuer byte for byte, and
// the common endpoint's templated issuer only with InsecureIssuerURLContext
// (as against Entra).
func TestGoOIDCVerifiesIDTokens(t *testing.T) {
	e := newEnv(t)
	const redirect = "https://web.contoso.com/signin-oidc"
	app, secret := e.webApp(redirect)
	alice := e.admin[e.contoso.ID]
	tr := e.signInInProcess(app, secret, redirect, alice.ID, "n-0S6_WzA2Mj")
	ctx := oidc.ClientContext(e.ctx, e.client)
	issuer := e.base + "/" + e.contoso.ID + "/v2.0"
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: app.AppID}).Verify(ctx, tr.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		OID   string `json:"oid"`
		TID   string `json:"tid"`
		Nonce string `json:"nonce"`
		Name  string `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Issuer != issuer || claims.OID != alice.ID || claims.TID != e.contoso.ID || claims.Nonce != "n-0S6_WzA2Mj" || !strings.EqualFold(claims.Name, alice.UserPrincipalName) {
		t.Fatalf("ID token %+v %+v", idt, claims)
	}
	// Another app's ID token is refused (audience).
	if _, err := provider.Verifier(&oidc.Config{ClientID: e.api.AppID}).Verify(ctx, tr.IDToken); err == nil {
		t.Fatal("an ID token for another client verified")
	}
	// The common endpoint announces "{tenantid}": go-oidc refuses it unless
	// told the issuer differs, then verifies against the tenant's issuer.
	if _, err := oidc.NewProvider(ctx, e.base+"/common/v2.0"); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("common provider without InsecureIssuerURLContext: %v", err)
	}
	common, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, issuer), e.base+"/common/v2.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := common.Verifier(&oidc.Config{ClientID: app.AppID}).Verify(ctx, tr.IDToken); err != nil {
		t.Fatalf("common provider: %v", err)
	}
	// The userinfo endpoint is Microsoft Graph's, as in Entra's document.
	if provider.UserInfoEndpoint() != "https://graph.microsoft.com/oidc/userinfo" {
		t.Fatalf("userinfo endpoint %q", provider.UserInfoEndpoint())
	}
}

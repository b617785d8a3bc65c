package interop_test

import (
	"errors"
	"strings"
	"testing"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

// desktop registers a public client (public client flows allowed) in
// Contoso with a loopback redirect URI and the API's delegated scope.
func (e *env) desktop() application.Application {
	e.t.Helper()
	return e.must(e.dir.CreateApplication(e.ctx, tenantry.System(), e.contoso.ID, application.Application{
		DisplayName: "Orders Desktop", IsFallbackPublicClient: true,
		PublicClient: &application.RedirectURIs{RedirectURIs: []string{"http://localhost"}},
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: e.api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: scopeID, Type: application.AccessScope}}}},
	}))
}

func (e *env) publicClient(clientID string) public.Client {
	e.t.Helper()
	c, err := public.New(clientID, public.WithAuthority(e.authority(e.contoso.ID)), public.WithHTTPClient(e.client), public.WithInstanceDiscovery(false))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) user(upn, password string) tenant.User {
	e.t.Helper()
	u, err := e.dir.CreateUser(e.ctx, tenantry.System(), e.contoso.ID, tenantry.UserSpec{UserPrincipalName: upn, Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// MSAL's public client with the password grant (user realm discovery,
// then the grant), then a silent call, and what it surfaces for a wrong
// password, a disabled account and a locked one.
func TestMSALPublicClientPassword(t *testing.T) {
	e := newEnv(t)
	app := e.desktop()
	e.consent(e.contoso.ID, app)
	upn := "alice@" + e.contoso.VerifiedDomains[0].Name
	alice := e.user(upn, "Alice-Passw0rd!")
	c := e.publicClient(app.AppID)
	scopes := []string{apiURI + "/Orders.Read"}
	//lint:ignore SA1019 the password grant is what this test checks
	r, err := c.AcquireTokenByUsernamePassword(e.ctx, scopes, upn, "Alice-Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	if p := e.validate(r.AccessToken); p.ObjectID != alice.ID || r.Account.HomeAccountID != alice.ID+"."+e.contoso.ID {
		t.Fatalf("principal %+v, account %+v", p, r.Account)
	}
	// Silent: from the cache, then with a refresh token once the access
	// token is gone from it.
	before := e.requests("token")
	s, err := c.AcquireTokenSilent(e.ctx, scopes, public.WithSilentAccount(r.Account))
	if err != nil || s.AccessToken != r.AccessToken || e.requests("token") != before {
		t.Fatalf("silent call: %v (token requests %d → %d)", err, before, e.requests("token"))
	}
	s, err = c.AcquireTokenSilent(e.ctx, scopes, public.WithSilentAccount(r.Account), public.WithClaims(`{"access_token":{"xms_cc":{"values":["CP1"]}}}`))
	if err != nil || e.requests("token") != before+1 {
		t.Fatalf("silent refresh: %v (token requests %d → %d)", err, before, e.requests("token"))
	}
	e.validate(s.AccessToken)

	surfaces := func(name, password, want string) {
		t.Helper()
		//lint:ignore SA1019 the password grant is what this test checks
		_, err := c.AcquireTokenByUsernamePassword(e.ctx, scopes, upn, password)
		var ce msalerrors.CallErr
		if !errors.As(err, &ce) || ce.Resp.StatusCode != 400 || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: MSAL surfaced %v, want a 400 CallErr with %s", name, err, want)
		}
		t.Logf("%s: MSAL surfaces %d %s", name, ce.Resp.StatusCode, firstLine(err.Error()))
	}
	surfaces("wrong password", "not-her-password", "AADSTS50126")
	if _, err := e.dir.DisableUser(e.ctx, tenantry.System(), alice.ID); err != nil {
		t.Fatal(err)
	}
	surfaces("disabled user", "Alice-Passw0rd!", "AADSTS50057")
	// The refresh token stops working too.
	if _, err := c.AcquireTokenSilent(e.ctx, scopes, public.WithSilentAccount(r.Account), public.WithClaims(`{"access_token":{"nbf":{"essential":true}}}`)); err == nil || !strings.Contains(err.Error(), "AADSTS50057") {
		t.Fatalf("silent refresh of a disabled user: %v", err)
	}
	if _, err := e.dir.EnableUser(e.ctx, tenantry.System(), alice.ID); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		//lint:ignore SA1019 the password grant is what this test checks
		_, _ = c.AcquireTokenByUsernamePassword(e.ctx, scopes, upn, "not-her-password")
	}
	surfaces("locked account", "Alice-Passw0rd!", "AADSTS50053")
}

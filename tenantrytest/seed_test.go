package tenantrytest_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenantrytest"
	"github.com/tenantry/tenantry/token"
)

// validate checks raw with the Issuer's own validator for the API.
func validate(t *testing.T, srv *tenantrytest.Server, api tenantrytest.App, raw string) *token.Principal {
	t.Helper()
	v, err := token.NewValidator(srv.Issuer().ValidatorConfig(api.Audiences()...))
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Validate(context.Background(), raw)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	return p
}

// The seeding helpers build what Entra would hold: a tenant with its
// initial domain, an API with its App ID URI, roles and scopes, and a
// client whose requiredResourceAccess and consent Grant wrote.
func TestSeedingObeysTheModel(t *testing.T) {
	s := newSeeded(t)
	srv, ctx, sys := s.srv, context.Background(), tenantry.System()
	if s.contoso.Domain != "contoso.onmicrosoft.com" || s.contoso.Name != "Contoso" {
		t.Errorf("tenant = %+v", s.contoso)
	}
	if s.api.IdentifierURI != "api://contoso.onmicrosoft.com/orders" {
		t.Errorf("IdentifierURI = %q", s.api.IdentifierURI)
	}
	api, err := srv.Directory().Application(ctx, sys, s.api.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := api.RoleByValue("Orders.Read.All"); !ok {
		t.Error("the API has no role Orders.Read.All")
	}
	if sc, ok := api.ScopeByValue("Orders.Read"); !ok || sc.Type != application.ScopeTypeUser {
		t.Errorf("scope Orders.Read = %+v, %v", sc, ok)
	}
	if api.SignInAudience != application.AzureADMyOrg || api.AccessTokenVersion() != 2 {
		t.Errorf("API audience %s, token version %d", api.SignInAudience, api.AccessTokenVersion())
	}
	daemon, err := srv.Directory().Application(ctx, sys, s.daemon.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(daemon.RequiredResourceAccess) != 1 || daemon.RequiredResourceAccess[0].ResourceAppID != s.api.AppID ||
		daemon.RequiredResourceAccess[0].ResourceAccess[0].Type != application.AccessRole {
		t.Errorf("requiredResourceAccess = %+v", daemon.RequiredResourceAccess)
	}
	if got := daemon.RedirectURIsOf(application.PlatformWeb); !slices.Equal(got, []string{"https://localhost/callback"}) {
		t.Errorf("web redirect URIs = %v", got)
	}
	sp, err := srv.Directory().ServicePrincipalByAppID(ctx, sys, s.contoso.ID, s.daemon.AppID)
	if err != nil {
		t.Fatal(err)
	}
	asg, err := srv.Directory().Assignments(ctx, sys, sp.ID, tenantry.PageRequest{})
	if err != nil || len(asg.Items) != 1 {
		t.Fatalf("assignments of the daemon: %v, %v", asg.Items, err)
	}
}

// AppToken is a client credentials token with the role Grant consented.
func TestAppToken(t *testing.T) {
	s := newSeeded(t)
	raw := s.srv.AppToken(t, s.contoso, s.daemon, s.api)
	p := validate(t, s.srv, s.api, raw)
	if !p.IsApp || p.TenantID != s.contoso.ID || p.AppID != s.daemon.AppID || !slices.Equal(p.Roles, []string{"Orders.Read.All"}) {
		t.Errorf("principal = %+v", p)
	}
	if c := claims(t, raw); c["ver"] != "2.0" || c["aud"] != s.api.AppID {
		t.Errorf("ver %v aud %v", c["ver"], c["aud"])
	}
}

// An API created without TokenVersion gets Entra's default, v1 tokens:
// the v1 issuer and the App ID URI as audience.
func TestDefaultTokenVersionIsEntras(t *testing.T) {
	srv := tenantrytest.NewServer(t)
	contoso := srv.CreateTenant("Contoso")
	api := srv.CreateAPI(contoso, "Legacy API", tenantrytest.Roles("Read"))
	app := srv.CreateApp(contoso, "Daemon", tenantrytest.Requires(api, "Read"))
	srv.Consent(contoso, app)
	raw := srv.AppToken(t, contoso, app, api)
	c := claims(t, raw)
	if c["ver"] != "1.0" || c["iss"] != srv.URL()+"/"+contoso.ID+"/" || c["aud"] != "api://contoso.onmicrosoft.com/legacy-api" {
		t.Errorf("ver %v iss %v aud %v", c["ver"], c["iss"], c["aud"])
	}
	validate(t, srv, api, raw)
}

// UserToken runs Authorize and the code redemption with PKCE: the user's
// consent to a User scope is recorded at sign-in, and a role assigned to
// her reaches the token.
func TestUserToken(t *testing.T) {
	s := newSeeded(t)
	srv := s.srv
	web := srv.CreateApp(s.contoso, "Orders Web")
	ada := srv.CreateUser(s.contoso, "ada")
	srv.AssignRole(ada, s.api, "Orders.Read.All")
	resp, err := srv.RequestUserToken(context.Background(), web, ada, "openid", "offline_access", s.api.Scope("Orders.Read"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.IDToken == "" || resp.RefreshToken == "" {
		t.Errorf("no ID or refresh token for openid offline_access")
	}
	p := validate(t, srv, s.api, resp.AccessToken)
	if p.IsApp || p.ObjectID != ada.ID || p.AppID != web.AppID || !slices.Equal(p.Scopes, []string{"Orders.Read"}) ||
		!slices.Equal(p.Roles, []string{"Orders.Read.All"}) || p.Username != ada.UserPrincipalName {
		t.Errorf("principal = %+v", p)
	}
}

// Public clients and SPAs get user tokens with PKCE and no secret.
func TestPublicClient(t *testing.T) {
	s := newSeeded(t)
	cli := s.srv.CreateApp(s.contoso, "CLI", tenantrytest.Public())
	ada := s.srv.CreateUser(s.contoso, "ada")
	raw := s.srv.UserToken(t, cli, ada, s.api.Scope("Orders.Read"))
	if c := claims(t, raw); c["azpacr"] != "0" {
		t.Errorf("azpacr = %v, want 0 (public client)", c["azpacr"])
	}
	a, err := s.srv.Directory().Application(context.Background(), tenantry.System(), cli.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.PasswordCredentials) != 0 {
		t.Error("a secret was added to a public client's user sign-in")
	}
	spa := s.srv.CreateApp(s.contoso, "SPA", tenantrytest.SPA("https://spa.example/"))
	if c := claims(t, s.srv.UserToken(t, spa, ada, s.api.Scope("Orders.Read"))); c["azpacr"] != "0" {
		t.Errorf("SPA azpacr = %v, want 0", c["azpacr"])
	}
}

// An Admin scope needs an administrator: the user's own consent is
// refused, and the admin consent Grant records lets her through.
func TestAdminScopeNeedsAdminConsent(t *testing.T) {
	srv := tenantrytest.NewServer(t)
	contoso := srv.CreateTenant("Contoso")
	api := srv.CreateAPI(contoso, "Orders", tenantrytest.TokenVersion(2), tenantrytest.AdminScopes("Orders.ReadWrite.All"))
	web := srv.CreateApp(contoso, "Web")
	ada := srv.CreateUser(contoso, "ada")
	_, err := srv.RequestUserToken(context.Background(), web, ada, api.Scope("Orders.ReadWrite.All"))
	var te *tenantry.TokenError
	if !errors.As(err, &te) || (te.Code != 65001 && te.Code != 90094) {
		t.Fatalf("user consent to an Admin scope: %v, want AADSTS65001 or 90094", err)
	}
	srv.Grant(web, api, "Orders.ReadWrite.All")
	p := validate(t, srv, api, srv.UserToken(t, web, ada, api.Scope("Orders.ReadWrite.All")))
	if !slices.Equal(p.Scopes, []string{"Orders.ReadWrite.All"}) {
		t.Errorf("scopes = %v", p.Scopes)
	}
}

// Admin makes a Global Administrator, who may consent for the tenant; a
// plain user may not.
func TestAdminUser(t *testing.T) {
	s := newSeeded(t)
	admin := s.srv.CreateUser(s.contoso, "admin", tenantrytest.Admin(), tenantrytest.Password("correct horse battery"))
	plain := s.srv.CreateUser(s.contoso, "bob")
	app := s.srv.CreateApp(s.contoso, "Reports", tenantrytest.Requires(s.api, "Orders.Read.All"))
	ctx, dir := context.Background(), s.srv.Directory()
	spec := tenantry.ConsentSpec{ClientAppID: app.AppID, Default: true, TenantWide: true}
	if _, err := dir.Consent(ctx, tenantry.UserActor(plain.ID), s.contoso.ID, spec); !errors.Is(err, tenantry.ErrForbidden) {
		t.Errorf("a plain user's admin consent: %v, want ErrForbidden", err)
	}
	if _, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), s.contoso.ID, spec); err != nil {
		t.Errorf("the administrator's consent: %v", err)
	}
	if _, err := s.srv.Issuer().SignIn(ctx, tenantry.SignInRequest{Tenant: s.contoso.ID, UserPrincipalName: admin.UserPrincipalName, Password: admin.Password}); err != nil {
		t.Errorf("sign-in with the password: %v", err)
	}
	u, err := dir.User(ctx, tenantry.System(), admin.ID)
	if err != nil || u.DisplayName != "admin" || !strings.HasSuffix(u.UserPrincipalName, "@contoso.onmicrosoft.com") {
		t.Errorf("user = %+v, %v", u, err)
	}
}

// A multi-tenant app consented in another tenant gets that tenant's
// token there; AssignRole on an app assigns its service principal.
func TestMultiTenant(t *testing.T) {
	srv := tenantrytest.NewServer(t)
	contoso, fabrikam := srv.CreateTenant("Contoso"), srv.CreateTenant("Fabrikam")
	api := srv.CreateAPI(contoso, "Orders", tenantrytest.MultiTenant(), tenantrytest.TokenVersion(2), tenantrytest.Roles("Orders.Read.All", "Orders.Sync"))
	daemon := srv.CreateApp(contoso, "Sync", tenantrytest.MultiTenant(), tenantrytest.Requires(api, "Orders.Read.All"))
	srv.Consent(fabrikam, daemon)
	srv.AssignRole(daemon, api, "Orders.Sync") // in Contoso, the daemon's home
	p := validate(t, srv, api, srv.AppToken(t, fabrikam, daemon, api))
	if p.TenantID != fabrikam.ID || !slices.Equal(p.Roles, []string{"Orders.Read.All"}) {
		t.Errorf("Fabrikam token: %+v", p)
	}
	p = validate(t, srv, api, srv.AppToken(t, contoso, daemon, api))
	if p.TenantID != contoso.ID || !slices.Equal(p.Roles, []string{"Orders.Sync"}) {
		t.Errorf("Contoso token: %+v", p)
	}
}

// Permissions are named by value and must exist: a value the API does
// not publish fails the test, naming it.
func TestUnknownPermissionFails(t *testing.T) {
	msg := failure(t, func(tb testing.TB) {
		srv := tenantrytest.NewServer(tb)
		contoso := srv.CreateTenant("Contoso")
		api := srv.CreateAPI(contoso, "Orders", tenantrytest.Scopes("Orders.Read"))
		srv.Grant(srv.CreateApp(contoso, "App"), api, "Orders.Write")
	})
	if !strings.Contains(msg, `no application role or scope "Orders.Write"`) {
		t.Fatalf("failure = %q", msg)
	}
}

package tenantrytest

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

// The seeding helpers below each make one call to the Directory as
// tenantry.System(), so every rule of the model applies (a single-tenant
// app has no service principal elsewhere, a scope must be published
// before it is granted, …), and fail the test given to NewServer on any
// error. Tests of the refusals themselves call Server.Directory().

// Tenant is a tenant created by [Server.CreateTenant].
type Tenant struct {
	// ID is the tenant id (the tid claim).
	ID string
	// Domain is the tenant's initial domain, {name}.onmicrosoft.com.
	Domain string
	// Name is the tenant's display name.
	Name string
}

// App is an application created by [Server.CreateApp] or
// [Server.CreateAPI].
type App struct {
	// ID is the application's object id.
	ID string
	// AppID is the client id (appId).
	AppID string
	// TenantID is the id of the app's home tenant.
	TenantID string
	// Name is the app's display name.
	Name string
	// IdentifierURI is the app's first App ID URI ("" when it has none).
	IdentifierURI string
}

// Resource returns the app's name as a resource of scopes: its
// IdentifierURI, else its AppID.
func (a App) Resource() string {
	if a.IdentifierURI != "" {
		return a.IdentifierURI
	}
	return a.AppID
}

// Scope returns the full name of one of the app's delegated scopes as a
// client requests it: "{Resource()}/{value}".
func (a App) Scope(value string) string { return a.Resource() + "/" + value }

// Default returns the app's static scope "{Resource()}/.default", which
// client credentials and admin-consented clients request.
func (a App) Default() string { return a.Resource() + "/.default" }

// Audiences returns the values an access token for the app may carry as
// aud: its AppID (v2 tokens) and its IdentifierURI (v1 tokens), for
// token.ValidatorConfig.Audiences.
func (a App) Audiences() []string {
	if a.IdentifierURI == "" {
		return []string{a.AppID}
	}
	return []string{a.AppID, a.IdentifierURI}
}

// User is a user created by [Server.CreateUser].
type User struct {
	// ID is the user's object id (the oid claim).
	ID string
	// TenantID is the id of the user's tenant.
	TenantID string
	// UserPrincipalName is the user's sign-in name.
	UserPrincipalName string
	// Password is the user's password ("" when created without one).
	Password string
}

// AppOption configures an application created by [Server.CreateApp] or
// [Server.CreateAPI].
type AppOption func(*appSpec)

type appSpec struct {
	app      application.Application
	web      []string
	webSet   bool
	requires []requirement
}

type requirement struct {
	api   App
	perms []string
}

// MultiTenant makes the app multi-tenant (AzureADMultipleOrgs): other
// tenants may consent to it. Apps are single-tenant (AzureADMyOrg) by
// default, as Graph creates them.
func MultiTenant() AppOption { return Audience(application.AzureADMultipleOrgs) }

// Audience sets the app's signInAudience (application.AzureADMyOrg,
// AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount or
// PersonalMicrosoftAccount).
func Audience(signInAudience string) AppOption {
	return func(s *appSpec) { s.app.SignInAudience = signInAudience }
}

// RedirectURIs sets the web platform's redirect URIs (a confidential web
// app), replacing CreateApp's default https://localhost/callback.
func RedirectURIs(uris ...string) AppOption {
	return func(s *appSpec) { s.web, s.webSet = uris, true }
}

// Public makes the app a public client (desktop, mobile, CLI): its
// redirect URIs go to the publicClient platform (default
// http://localhost, any port), it has no web redirect URI, and it may use
// the device code flow (isFallbackPublicClient). It authenticates with
// PKCE alone.
func Public(redirectURIs ...string) AppOption {
	return func(s *appSpec) {
		if len(redirectURIs) == 0 {
			redirectURIs = []string{"http://localhost"}
		}
		s.app.PublicClient = &application.RedirectURIs{RedirectURIs: redirectURIs}
		s.app.IsFallbackPublicClient = true
		s.web, s.webSet = nil, true
	}
}

// SPA makes the app a single-page application: its redirect URIs go to
// the spa platform (PKCE, no secret) and it has no web redirect URI.
func SPA(redirectURIs ...string) AppOption {
	return func(s *appSpec) {
		s.app.SPA = &application.RedirectURIs{RedirectURIs: redirectURIs}
		s.web, s.webSet = nil, true
	}
}

// Roles publishes app roles with these values, assignable to users,
// groups and applications; an application permission is a role granted
// to a client.
func Roles(values ...string) AppOption {
	return func(s *appSpec) {
		for _, v := range values {
			s.app.AppRoles = append(s.app.AppRoles, application.AppRole{
				Value: v, DisplayName: v, Description: v, IsEnabled: true,
				AllowedMemberTypes: []string{application.MemberTypeUser, application.MemberTypeApplication},
			})
		}
	}
}

// Scopes publishes delegated scopes with these values that users may
// consent to (type User).
func Scopes(values ...string) AppOption { return scopes(application.ScopeTypeUser, values) }

// AdminScopes publishes delegated scopes with these values that only an
// administrator may consent to (type Admin).
func AdminScopes(values ...string) AppOption { return scopes(application.ScopeTypeAdmin, values) }

func scopes(typ string, values []string) AppOption {
	return func(s *appSpec) {
		if s.app.API == nil {
			s.app.API = &application.API{}
		}
		for _, v := range values {
			s.app.API.OAuth2PermissionScopes = append(s.app.API.OAuth2PermissionScopes, application.PermissionScope{
				Value: v, Type: typ, IsEnabled: true, AdminConsentDisplayName: v, AdminConsentDescription: v,
				UserConsentDisplayName: v, UserConsentDescription: v,
			})
		}
	}
}

// TokenVersion sets the format of the access tokens issued for the app
// (api.requestedAccessTokenVersion): 1 or 2. Without it Entra's default
// applies: v1 tokens (issuer https://sts.windows.net/{tid}/, aud the App
// ID URI requested) for apps of organizations.
func TokenVersion(v int) AppOption {
	return func(s *appSpec) {
		if s.app.API == nil {
			s.app.API = &application.API{}
		}
		s.app.API.RequestedAccessTokenVersion = &v
	}
}

// IdentifierURI sets the app's App ID URI, replacing CreateAPI's default
// api://{tenant domain}/{name}.
func IdentifierURI(uri string) AppOption {
	return func(s *appSpec) { s.app.IdentifierURIs = []string{uri} }
}

// Requires adds permissions on api to the app's requiredResourceAccess:
// each value names an app role of api (an application permission) or,
// when no role has it, one of its scopes (a delegated permission).
// Nothing is granted until a consent ([Server.Consent]).
func Requires(api App, permissions ...string) AppOption {
	return func(s *appSpec) { s.requires = append(s.requires, requirement{api, permissions}) }
}

// CreateTenant creates a tenant named name, with the initial domain
// {name}.onmicrosoft.com (letters and digits of the name, lower-cased).
func (s *Server) CreateTenant(name string) Tenant {
	s.t.Helper()
	t, err := s.dir.CreateTenant(context.Background(), tenantry.System(), tenantry.TenantSpec{DisplayName: name})
	if err != nil {
		s.t.Fatalf("tenantrytest: create tenant %q: %v", name, err)
	}
	return Tenant{ID: t.ID, Domain: t.DefaultDomain(), Name: t.DisplayName}
}

// CreateApp registers an application in the tenant: by default a
// single-tenant confidential web app with the redirect URI
// https://localhost/callback and no credential (add one with AddSecret or
// AddCertificate; the token helpers add a secret when they need one).
func (s *Server) CreateApp(in Tenant, name string, opts ...AppOption) App {
	s.t.Helper()
	return s.create(in, name, false, opts)
}

// CreateAPI registers a web API in the tenant: an application with the
// App ID URI api://{tenant domain}/{name} (name lower-cased, spaces as
// dashes) and no redirect URI, publishing the roles and scopes the
// options give (Roles, Scopes, AdminScopes).
func (s *Server) CreateAPI(in Tenant, name string, opts ...AppOption) App {
	s.t.Helper()
	return s.create(in, name, true, opts)
}

func (s *Server) create(in Tenant, name string, api bool, opts []AppOption) App {
	s.t.Helper()
	spec := appSpec{app: application.Application{DisplayName: name}}
	if api {
		spec.app.IdentifierURIs = []string{"api://" + in.Domain + "/" + slug(name)}
		spec.webSet = true
	}
	for _, opt := range opts {
		opt(&spec)
	}
	if !spec.webSet {
		spec.web = []string{"https://localhost/callback"}
	}
	if len(spec.web) > 0 {
		spec.app.Web = &application.Web{RedirectURIs: spec.web}
	}
	for _, r := range spec.requires {
		rra, err := s.resolve(r.api, r.perms)
		if err != nil {
			s.t.Fatalf("tenantrytest: create app %q: %v", name, err)
		}
		spec.app.RequiredResourceAccess = mergeAccess(spec.app.RequiredResourceAccess, rra)
	}
	a, err := s.dir.CreateApplication(context.Background(), tenantry.System(), in.ID, spec.app)
	if err != nil {
		s.t.Fatalf("tenantrytest: create app %q: %v", name, err)
	}
	return appHandle(a)
}

func appHandle(a application.Application) App {
	h := App{ID: a.ID, AppID: a.AppID, TenantID: a.TenantID, Name: a.DisplayName}
	if len(a.IdentifierURIs) > 0 {
		h.IdentifierURI = a.IdentifierURIs[0]
	}
	return h
}

// slug is name lower-cased with runs of other characters than letters and
// digits as one dash.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "api"
	}
	return b.String()
}

// resolve turns permission values of api into its requiredResourceAccess
// entry.
func (s *Server) resolve(api App, perms []string) (application.RequiredResourceAccess, error) {
	out := application.RequiredResourceAccess{ResourceAppID: api.AppID}
	a, err := s.dir.Application(context.Background(), tenantry.System(), api.ID)
	if err != nil {
		return out, err
	}
	for _, v := range perms {
		if r, ok := a.RoleByValue(v); ok && r.Allows(application.MemberTypeApplication) {
			out.ResourceAccess = append(out.ResourceAccess, application.ResourceAccess{ID: r.ID, Type: application.AccessRole})
		} else if sc, ok := a.ScopeByValue(v); ok {
			out.ResourceAccess = append(out.ResourceAccess, application.ResourceAccess{ID: sc.ID, Type: application.AccessScope})
		} else {
			return out, fmt.Errorf("tenantrytest: %q publishes no application role or scope %q", api.Name, v)
		}
	}
	return out, nil
}

// mergeAccess adds add's permissions to list, once each.
func mergeAccess(list []application.RequiredResourceAccess, add application.RequiredResourceAccess) []application.RequiredResourceAccess {
	for i := range list {
		if list[i].ResourceAppID != add.ResourceAppID {
			continue
		}
		for _, ra := range add.ResourceAccess {
			dup := false
			for _, have := range list[i].ResourceAccess {
				dup = dup || have == ra
			}
			if !dup {
				list[i].ResourceAccess = append(list[i].ResourceAccess, ra)
			}
		}
		return list
	}
	return append(list, add)
}

// AddSecret adds a client secret to the app and returns it; the token
// helpers use the last secret added this way.
func (s *Server) AddSecret(app App) string {
	s.t.Helper()
	pw, err := s.dir.AddPassword(context.Background(), tenantry.System(), app.ID, tenantry.PasswordSpec{DisplayName: "tenantrytest"})
	if err != nil {
		s.t.Fatalf("tenantrytest: add secret to %q: %v", app.Name, err)
	}
	s.mu.Lock()
	s.secrets[app.AppID] = pw.SecretText
	s.mu.Unlock()
	return pw.SecretText
}

// AddCertificate registers a new self-signed certificate (RSA-2048, valid
// for a year from the Server's clock) on the app and returns it with its
// private key, for certificate client assertions (private_key_jwt). The
// certificates of one Server never share a key; keys are generated once
// per process and reused by later Servers.
func (s *Server) AddCertificate(app App) (*x509.Certificate, crypto.Signer) {
	s.t.Helper()
	s.mu.Lock()
	n := s.certs
	s.certs++
	s.mu.Unlock()
	key, err := certKey(n)
	if err != nil {
		s.t.Fatalf("%v", err)
	}
	cert, err := newClientCertificate(key, app.Name, s.clock.Now())
	if err != nil {
		s.t.Fatalf("%v", err)
	}
	if _, err := s.dir.AddKey(context.Background(), tenantry.System(), app.ID, tenantry.KeySpec{DisplayName: "tenantrytest", Certificate: cert}); err != nil {
		s.t.Fatalf("tenantrytest: add certificate to %q: %v", app.Name, err)
	}
	return cert, key
}

// UserOption configures a user created by [Server.CreateUser].
type UserOption func(*userSpec)

type userSpec struct {
	spec  tenantry.UserSpec
	roles []string
}

// Password gives the user a password, for sign-in pages and
// Issuer.SignIn.
func Password(p string) UserOption { return func(u *userSpec) { u.spec.Password = p } }

// DisplayName sets the user's display name (the name claim).
func DisplayName(name string) UserOption { return func(u *userSpec) { u.spec.DisplayName = name } }

// Admin makes the user a Global Administrator of her tenant.
func Admin() UserOption { return DirectoryRole(tenant.RoleGlobalAdministrator) }

// DirectoryRole assigns the user a directory role (tenant.Role*), such as
// tenant.RoleApplicationAdministrator.
func DirectoryRole(roleID string) UserOption {
	return func(u *userSpec) { u.roles = append(u.roles, roleID) }
}

// CreateUser creates a member user in the tenant. A upn without "@" gets
// the tenant's domain: CreateUser(contoso, "ada") is
// ada@contoso.onmicrosoft.com.
func (s *Server) CreateUser(in Tenant, upn string, opts ...UserOption) User {
	s.t.Helper()
	if !strings.Contains(upn, "@") {
		upn += "@" + in.Domain
	}
	u := userSpec{spec: tenantry.UserSpec{UserPrincipalName: upn}}
	for _, opt := range opts {
		opt(&u)
	}
	if u.spec.DisplayName == "" {
		u.spec.DisplayName, _, _ = strings.Cut(upn, "@")
	}
	ctx := context.Background()
	created, err := s.dir.CreateUser(ctx, tenantry.System(), in.ID, u.spec)
	if err != nil {
		s.t.Fatalf("tenantrytest: create user %q: %v", upn, err)
	}
	for _, role := range u.roles {
		if _, err := s.dir.AssignDirectoryRole(ctx, tenantry.System(), in.ID, tenantry.DirectoryRoleSpec{PrincipalID: created.ID, RoleID: role}); err != nil {
			s.t.Fatalf("tenantrytest: assign role %s to %q: %v", role, upn, err)
		}
	}
	return User{ID: created.ID, TenantID: in.ID, UserPrincipalName: created.UserPrincipalName, Password: u.spec.Password}
}

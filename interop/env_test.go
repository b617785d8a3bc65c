package interop_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/tenantrytest"
	"github.com/tenantry/tenantry/token"
)

// env is a tenantrytest server with two tenants: Contoso publishes the Orders
// API; Fabrikam is a customer.
type env struct {
	t        *testing.T
	ctx      context.Context
	dir      *tenantry.Directory
	base     string
	client   *http.Client
	contoso  tenant.Tenant
	fabrikam tenant.Tenant
	api      application.Application
	admin    map[string]tenant.User // per tenant id
	srv      *tenantrytest.Server
}

// requests returns how many requests the server answered at endpoint.
func (e *env) requests(endpoint string) int {
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Endpoint == endpoint {
			n++
		}
	}
	return n
}

const (
	apiURI   = "api://contoso.onmicrosoft.com/orders"
	roleRead = "5d2f3c1e-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
	scopeID  = "6e3f4d2a-8b9c-4d0e-9f1a-2b3c4d5e6f70"
)

func newEnv(t *testing.T, opts ...tenantrytest.Option) *env {
	t.Helper()
	srv := tenantrytest.NewServer(t, opts...)
	e := &env{t: t, ctx: context.Background(), srv: srv, dir: srv.Directory(), base: srv.URL(), client: srv.Client(), admin: map[string]tenant.User{}}
	e.contoso = e.tenant("Contoso")
	e.fabrikam = e.tenant("Fabrikam")
	e.api = e.must(e.dir.CreateApplication(e.ctx, tenantry.System(), e.contoso.ID, application.Application{
		DisplayName: "Orders API", SignInAudience: application.AzureADMultipleOrgs, IdentifierURIs: []string{apiURI},
		AppRoles: []application.AppRole{{ID: roleRead, Value: "Orders.Read.All", DisplayName: "Read all orders", Description: "Read all orders",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{{ID: scopeID, Value: "Orders.Read", Type: application.ScopeTypeUser,
			AdminConsentDisplayName: "Read orders", AdminConsentDescription: "Read the signed-in user's orders",
			UserConsentDisplayName: "Read your orders", UserConsentDescription: "Read your orders", IsEnabled: true}}},
	}))
	return e
}

func (e *env) must(app application.Application, err error) application.Application {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	return app
}

func (e *env) tenant(name string) tenant.Tenant {
	e.t.Helper()
	tn, err := e.dir.CreateTenant(e.ctx, tenantry.System(), tenantry.TenantSpec{DisplayName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	admin, err := e.dir.CreateUser(e.ctx, tenantry.System(), tn.ID, tenantry.UserSpec{UserPrincipalName: "admin@" + tn.VerifiedDomains[0].Name, Password: "Admin-Passw0rd!"})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.dir.AssignDirectoryRole(e.ctx, tenantry.System(), tn.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator}); err != nil {
		e.t.Fatal(err)
	}
	e.admin[tn.ID] = admin
	return tn
}

// authority is what MSAL and azidentity take: the server and a tenant.
func (e *env) authority(tenantID string) string { return e.base + "/" + tenantID }

// daemon registers a confidential client in Contoso requiring the API's
// app role, with the given audience.
func (e *env) daemon(name, audience string) application.Application {
	e.t.Helper()
	return e.must(e.dir.CreateApplication(e.ctx, tenantry.System(), e.contoso.ID, application.Application{
		DisplayName: name, SignInAudience: audience,
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: e.api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: roleRead, Type: application.AccessRole}}}},
	}))
}

// secret adds a client secret to app.
func (e *env) secret(app application.Application) string {
	e.t.Helper()
	pw, err := e.dir.AddPassword(e.ctx, tenantry.System(), app.ID, tenantry.PasswordSpec{DisplayName: "interop"})
	if err != nil {
		e.t.Fatal(err)
	}
	return pw.SecretText
}

// certificate adds a self-signed certificate to app.
func (e *env) certificate(app application.Application) (*x509.Certificate, crypto.Signer) {
	e.t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: app.DisplayName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: app.DisplayName}}, &key.PublicKey, key)
	if err != nil {
		e.t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.dir.AddKey(e.ctx, tenantry.System(), app.ID, tenantry.KeySpec{DisplayName: "interop", Certificate: cert}); err != nil {
		e.t.Fatal(err)
	}
	return cert, key
}

// consent is the tenant admin's consent to everything app requires.
func (e *env) consent(tenantID string, app application.Application) {
	e.t.Helper()
	if _, err := e.dir.Consent(e.ctx, tenantry.UserActor(e.admin[tenantID].ID), tenantID, tenantry.ConsentSpec{ClientAppID: app.AppID, Default: true, TenantWide: true}); err != nil {
		e.t.Fatal(err)
	}
}

// validate validates an access token for the Orders API and returns its
// principal.
func (e *env) validate(raw string) *token.Principal {
	e.t.Helper()
	p, err := e.dir.Issuer().ValidateAccessToken(e.ctx, raw, e.api.AppID)
	if err != nil {
		e.t.Fatalf("access token does not validate: %v", err)
	}
	return p
}

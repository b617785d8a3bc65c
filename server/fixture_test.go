package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// testKey is one RSA key for every test directory (generating one costs
// tens of milliseconds).
var testKey = sync.OnceValue(func() *token.Key {
	k, err := token.GenerateKey(token.RS256, time.Now(), nil)
	if err != nil {
		panic(err)
	}
	return k
})

// fixture is a TLS test server over a Directory with a tenant, an API
// publishing an app role and a scope, and a confidential client granted
// the role.
type fixture struct {
	t       testing.TB
	h       http.Handler
	ctx     context.Context
	srv     *httptest.Server
	dir     *tenantry.Directory
	base    string
	client  *http.Client
	tenant  tenant.Tenant
	api     application.Application
	app     application.Application
	secret  string
	records []server.Record
	mu      sync.Mutex
}

const roleRead = "5d2f3c1e-7a8b-4c9d-8e0f-1a2b3c4d5e6f"

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith is newFixture with the server's configuration changed by
// edit (when not nil) before the server is built.
func newFixtureWith(t testing.TB, edit func(*fixture, *server.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	ts := httptest.NewUnstartedServer(nil)
	base := "https://" + ts.Listener.Addr().String()
	dir, err := tenantry.New(ctx, tenantry.Config{Tokens: tenantry.TokenConfig{
		InitialKey: testKey(), Authority: token.Authority{V2Base: base, V1Base: base},
		VerificationURI: base + "/devicelogin",
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, dir: dir, base: base}
	cfg := server.Config{Issuer: dir.Issuer(), OnRequest: func(r server.Record) {
		f.mu.Lock()
		f.records = append(f.records, r)
		f.mu.Unlock()
	}}
	if edit != nil {
		edit(f, &cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = s
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.h = s
	ts.StartTLS()
	t.Cleanup(ts.Close)
	t.Cleanup(func() { dir.Close() })
	f.srv, f.client = ts, ts.Client()
	sys := tenantry.System()
	if f.tenant, err = dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso"}); err != nil {
		t.Fatal(err)
	}
	if f.api, err = dir.CreateApplication(ctx, sys, f.tenant.ID, application.Application{
		DisplayName: "Orders API", IdentifierURIs: []string{"api://contoso.onmicrosoft.com/orders"},
		AppRoles: []application.AppRole{{ID: roleRead, Value: "Orders.Read.All", DisplayName: "Read all orders", Description: "Read all orders",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	}); err != nil {
		t.Fatal(err)
	}
	if f.app, err = dir.CreateApplication(ctx, sys, f.tenant.ID, application.Application{
		DisplayName: "Orders Daemon",
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: f.api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: roleRead, Type: application.AccessRole}}}},
	}); err != nil {
		t.Fatal(err)
	}
	pw, err := dir.AddPassword(ctx, sys, f.app.ID, tenantry.PasswordSpec{DisplayName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	f.secret = pw.SecretText
	admin, err := dir.CreateUser(ctx, sys, f.tenant.ID, tenantry.UserSpec{UserPrincipalName: "admin@contoso.onmicrosoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.AssignDirectoryRole(ctx, sys, f.tenant.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator}); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), f.tenant.ID, tenantry.ConsentSpec{ClientAppID: f.app.AppID, Default: true, TenantWide: true}); err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends a request and returns the status, headers and decoded JSON body.
func (f *fixture) do(req *http.Request) (int, http.Header, map[string]any) {
	f.t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	var body map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Fatalf("%s %s: body is not JSON: %v\n%s", req.Method, req.URL.Path, err, raw)
		}
	}
	return resp.StatusCode, resp.Header, body
}

func (f *fixture) get(path string) (int, http.Header, map[string]any) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.base+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.do(req)
}

func (f *fixture) post(path string, form url.Values) (int, http.Header, map[string]any) {
	f.t.Helper()
	return f.postRaw(path, form.Encode(), nil)
}

func (f *fixture) postRaw(path, body string, header http.Header) (int, http.Header, map[string]any) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.base+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return f.do(req)
}

func (f *fixture) ccForm() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {f.app.AppID}, "client_secret": {f.secret}, "scope": {"api://contoso.onmicrosoft.com/orders/.default"}}
}

var _ = tls.VersionTLS12

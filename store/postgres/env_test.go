package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/token"
)

// tokenEnv is a directory with an API publishing an application
// permission and a daemon holding it by admin consent, with a secret.
type tokenEnv struct {
	d        *tenantry.Directory
	tenantID string
	domain   string
	api      application.Application
	client   application.Application
	secret   string
	roleID   string
}

// kek is the key-encryption key every Directory of the tests shares.
var kek = []byte("0123456789abcdef0123456789abcdef")

const roleSync = "bbbbbbbb-0000-4000-8000-000000000001"

// newDirectory opens a Directory over st.
func newDirectory(t testing.TB, st store.Store, alg token.Algorithm) *tenantry.Directory {
	t.Helper()
	d, err := tenantry.New(context.Background(), tenantry.Config{Store: st,
		Tokens: tenantry.TokenConfig{Algorithm: alg, KeyEncryptionKey: kek, KeyRefreshInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newTokenEnv(t testing.TB, st store.Store, alg token.Algorithm) *tokenEnv {
	t.Helper()
	ctx := context.Background()
	d := newDirectory(t, st, alg)
	sys := tenantry.System()
	ten, err := d.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso", Domains: []string{"contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	api, err := d.CreateApplication(ctx, sys, ten.ID, application.Application{
		DisplayName: "Files API", SignInAudience: application.AzureADMyOrg,
		IdentifierURIs: []string{"api://contoso.com/files"},
		AppRoles: []application.AppRole{{ID: roleSync, Value: "Files.Sync", DisplayName: "Sync", Description: "Sync",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	client, err := d.CreateApplication(ctx, sys, ten.ID, application.Application{
		DisplayName: "Daemon", SignInAudience: application.AzureADMyOrg,
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: roleSync, Type: application.AccessRole}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := d.AddPassword(ctx, sys, client.ID, tenantry.PasswordSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Consent(ctx, sys, ten.ID, tenantry.ConsentSpec{ClientAppID: client.AppID, Default: true, TenantWide: true}); err != nil {
		t.Fatal(err)
	}
	return &tokenEnv{d: d, tenantID: ten.ID, domain: "contoso.com", api: api, client: client, secret: cred.SecretText, roleID: roleSync}
}

// request is a client-credentials request for the API, the tenant named
// by id (or by domain) and the resource by identifier URI (or appId).
func (e *tokenEnv) request(byDomain, byAppID bool) tenantry.TokenRequest {
	req := tenantry.TokenRequest{GrantType: tenantry.GrantClientCredentials, Tenant: e.tenantID, ClientID: e.client.AppID,
		ClientSecret: e.secret, Scope: e.api.IdentifierURIs[0] + "/.default"}
	if byDomain {
		req.Tenant = e.domain
	}
	if byAppID {
		req.Scope = e.api.AppID + "/.default"
	}
	return req
}

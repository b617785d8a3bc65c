package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// A directory served over HTTPS with Entra's URL layout: a client reads the
// discovery document and gets a token at its token endpoint.
func ExampleNew() {
	ctx := context.Background()
	ts := httptest.NewUnstartedServer(nil)
	base := "https://" + ts.Listener.Addr().String()
	dir, err := tenantry.New(ctx, tenantry.Config{Tokens: tenantry.TokenConfig{
		Authority: token.Authority{V2Base: base, V1Base: base}, VerificationURI: base + "/devicelogin",
	}})
	if err != nil {
		panic(err)
	}
	defer dir.Close()
	h, err := server.New(server.Config{Issuer: dir.Issuer()})
	if err != nil {
		panic(err)
	}
	ts.Config.Handler = h
	ts.StartTLS()
	defer ts.Close()

	// A tenant, an API with an app role, and a daemon granted it.
	sys := tenantry.System()
	contoso, _ := dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso"})
	api, _ := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{DisplayName: "Orders API",
		IdentifierURIs: []string{"api://contoso.onmicrosoft.com/orders"},
		AppRoles: []application.AppRole{{ID: "5d2f3c1e-7a8b-4c9d-8e0f-1a2b3c4d5e6f", Value: "Orders.Read.All", DisplayName: "Read all orders",
			Description: "Read all orders", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}}})
	daemon, _ := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{DisplayName: "Daemon",
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: "5d2f3c1e-7a8b-4c9d-8e0f-1a2b3c4d5e6f", Type: application.AccessRole}}}}})
	secret, _ := dir.AddPassword(ctx, sys, daemon.ID, tenantry.PasswordSpec{DisplayName: "example"})
	admin, _ := dir.CreateUser(ctx, sys, contoso.ID, tenantry.UserSpec{UserPrincipalName: "admin@contoso.onmicrosoft.com"})
	_, _ = dir.AssignDirectoryRole(ctx, sys, contoso.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator})
	if _, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), contoso.ID, tenantry.ConsentSpec{ClientAppID: daemon.AppID, Default: true, TenantWide: true}); err != nil {
		panic(err)
	}

	client := ts.Client()
	resp, err := client.Get(base + "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if err != nil {
		panic(err)
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	fmt.Println("issuer names the tenant's id:", doc.Issuer == base+"/"+contoso.ID+"/v2.0")

	resp, err = client.PostForm(doc.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {daemon.AppID},
		"client_secret": {secret.SecretText}, "scope": {"api://contoso.onmicrosoft.com/orders/.default"}})
	if err != nil {
		panic(err)
	}
	var tr struct {
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, tr.TokenType, tr.ExpiresIn > 0, strings.Count(tr.AccessToken, "."))

	// A wrong secret: Entra's error JSON with a 401.
	resp, _ = client.PostForm(doc.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {daemon.AppID},
		"client_secret": {"not-the-secret"}, "scope": {"api://contoso.onmicrosoft.com/orders/.default"}})
	var e struct {
		Error      string `json:"error"`
		ErrorCodes []int  `json:"error_codes"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, e.Error, e.ErrorCodes, resp.StatusCode == http.StatusUnauthorized)
	// Output:
	// issuer names the tenant's id: true
	// 200 Bearer true 2
	// 401 invalid_client [7000215] true
}

package tenantrytest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"

	"github.com/tenantry/tenantry/tenantrytest"
	"github.com/tenantry/tenantry/token"
)

// A daemon obtains an app-only token over HTTP, as any OAuth client does,
// and an API validates it with the keys the fake publishes. In a test,
// tenantrytest.NewServer(t) replaces Start and Close.
func ExampleNewServer() {
	srv, err := tenantrytest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// Seed: a tenant, an API publishing an application permission, and a
	// daemon granted it (requiredResourceAccess plus admin consent).
	contoso := srv.CreateTenant("Contoso")
	api := srv.CreateAPI(contoso, "Orders", tenantrytest.TokenVersion(2), tenantrytest.Roles("Orders.Read.All"))
	daemon := srv.CreateApp(contoso, "Orders Sync")
	srv.Grant(daemon, api, "Orders.Read.All")
	secret := srv.AddSecret(daemon)

	// The client: a plain form POST to the tenant's v2 token endpoint.
	resp, err := srv.Client().PostForm(srv.Authority(contoso.ID)+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {daemon.AppID},
		"client_secret": {secret}, "scope": {api.Default()},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, tok.ExpiresIn)

	// The API: a validator fetching the tenant's JWKS over HTTPS, on the
	// fake's clock.
	v, err := token.NewValidator(token.ValidatorConfig{
		Keys: token.NewRemoteKeySet(srv.Authority(contoso.ID)+"/discovery/v2.0/keys",
			token.RemoteOptions{HTTPClient: srv.Client(), Now: srv.Now}),
		Issuers:   []string{srv.URL() + "/" + contoso.ID + "/v2.0"},
		Audiences: api.Audiences(),
		Now:       srv.Now,
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := v.Validate(context.Background(), tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.TenantID == contoso.ID, p.AppID == daemon.AppID, p.Roles)

	// Refusals are Entra's: a wrong secret is 401 invalid_client, AADSTS7000215.
	bad, err := srv.Client().PostForm(srv.Authority(contoso.ID)+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {daemon.AppID},
		"client_secret": {"not-the-secret"}, "scope": {api.Default()},
	})
	if err != nil {
		log.Fatal(err)
	}
	bad.Body.Close()
	last := srv.LastError()
	fmt.Println(bad.StatusCode == http.StatusUnauthorized, last.Error, last.Code)
	// Output:
	// 200 3600
	// true true [Orders.Read.All]
	// true invalid_client 7000215
}

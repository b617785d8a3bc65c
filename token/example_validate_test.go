package token_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tenantry/tenantry/token"
)

// ExampleValidator validates tokens for a multi-tenant API that serves two
// customer tenants, accepting v1 and v2 tokens. The tokens are minted with a
// Keyring here, and the API reads the key set it publishes from bytes; in
// production the key source is a RemoteKeySet on Entra's
// https://login.microsoftonline.com/common/discovery/v2.0/keys.
func ExampleValidator() {
	const (
		contoso  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		fabrikam = "0d7c4b2e-8a31-4d5f-9c6b-3e2f1a0b9c8d"
		api      = "6e74172b-be56-4843-9ff4-e66a39bb12e3" // the API's appId
		daemon   = "a913e9a4-2e3f-4c2d-9d7e-5f4b6a1c2d3e" // a client's appId
	)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

	// The issuer side: an RS256 key set (Entra's algorithm).
	keys, _, err := token.Rotate(nil, now.Add(-time.Hour), token.RotationPolicy{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	ring, err := token.NewKeyring(keys, now)
	if err != nil {
		log.Fatal(err)
	}
	mint := func(version token.Version, tenant string) string {
		raw, err := ring.Sign(token.DefaultAlgorithm, token.BuildAccess(token.Access{
			Version: version, TenantID: tenant, Audience: api, ClientAppID: daemon,
			ClientAuth: token.ClientAuthCertificate, AppOnly: true,
			ClientObjectID: "3f2c1d4e-5b6a-4789-8abc-def012345678",
			Roles:          []string{"Orders.Read.All"}, IssuedAt: now.Add(-time.Minute),
		}), token.SignOptions{X5T: version == 1})
		if err != nil {
			log.Fatal(err)
		}
		return raw
	}

	// The resource-server side: the v2 key set, as Entra publishes it for
	// the common endpoint (keys scoped to the {tenantid} issuer template).
	jwks, err := ring.JWKS("https://login.microsoftonline.com/{tenantid}/v2.0")
	if err != nil {
		log.Fatal(err)
	}
	keySet, err := token.ParseJWKS(jwks)
	if err != nil {
		log.Fatal(err)
	}
	v, err := token.NewValidator(token.ValidatorConfig{
		Keys: keySet,
		Issuers: []string{
			"https://login.microsoftonline.com/{tenantid}/v2.0", // v2 tokens
			"https://sts.windows.net/{tenantid}/",               // v1 tokens
		},
		AllowedTenants: []string{contoso, fabrikam},
		Audiences:      []string{api},
		Now:            func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	for _, raw := range []string{mint(2, contoso), mint(1, fabrikam)} {
		p, err := v.Validate(ctx, raw)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("v%s tenant=%s app=%s appOnly=%v roles=%v\n",
			p.Version, p.TenantID[:8], p.AppID[:8], p.IsApp, p.Roles)
	}

	// A token from any other tenant is refused, although Entra signed it.
	_, err = v.Validate(ctx, mint(2, "9188040d-6c67-4c5b-b112-36a304b66dad"))
	fmt.Println(errors.Is(err, token.ErrTenant))

	// Output:
	// v2.0 tenant=72f988bf app=a913e9a4 appOnly=true roles=[Orders.Read.All]
	// v1.0 tenant=0d7c4b2e app=a913e9a4 appOnly=true roles=[Orders.Read.All]
	// true
}

// ExampleValidator_Authenticate protects an HTTP API: the authenticator
// validates the bearer token, RequireScopeOrRole authorizes users by scope
// and daemons by app role.
func ExampleValidator_Authenticate() {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	keys, _, err := token.Rotate(nil, now.Add(-time.Hour), token.RotationPolicy{}, nil)
	if err != nil {
		log.Fatal(err)
	}
	ring, err := token.NewKeyring(keys, now)
	if err != nil {
		log.Fatal(err)
	}
	const tenant, api = "72f988bf-86f1-41af-91ab-2d7cd011db47", "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	v, err := token.NewValidator(token.ValidatorConfig{
		Keys:      ring,
		Issuers:   []string{token.Authority{}.Issuer(2, tenant)},
		Audiences: []string{api},
		Now:       func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}

	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := token.FromContext(r.Context())
		fmt.Fprintf(w, "orders for %s", p.Username)
	})
	handler := v.Middleware(token.RequireScopeOrRole([]string{"Orders.Read"}, []string{"Orders.Read.All"})(orders))

	call := func(scopes ...string) {
		req := httptest.NewRequest(http.MethodGet, "/orders", nil)
		if scopes != nil {
			raw, err := ring.Sign(token.DefaultAlgorithm, token.BuildAccess(token.Access{
				TenantID: tenant, Audience: api, ClientAppID: "a913e9a4-2e3f-4c2d-9d7e-5f4b6a1c2d3e",
				UserObjectID: "00000000-0000-0000-66f3-3332eca7ea81", Subject: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
				Username: "meganb@contoso.com", Scopes: scopes, IssuedAt: now.Add(-time.Minute),
			}), token.SignOptions{})
			if err != nil {
				log.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+raw)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		// Errors have a challenge and no body; successes the reverse.
		fmt.Printf("%d %s%s\n", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body.String())
	}
	call()               // no token
	call("Orders.Read")  // allowed
	call("Profile.Read") // authenticated, not authorized
	// Output:
	// 401 Bearer realm=""
	// 200 orders for meganb@contoso.com
	// 403 Bearer realm="", error="insufficient_scope", error_description="The token lacks the required scope or role", scope="Orders.Read"
}

package application_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

func ExampleApplication_Validate() {
	app := application.Application{
		ID:             "0b8c1e52-6d3f-4a7e-9b21-5c4d3e2f1a09",
		AppID:          "8f2d5a61-3c7b-4e9a-b1d2-7e6f5a4b3c21",
		TenantID:       "b5a3c8d2-4f1e-4a6b-9c7d-2e8f0a1b3c4d",
		DisplayName:    "Contoso Portal",
		SignInAudience: application.AzureADMyOrg,
		IdentifierURIs: []string{"api://8f2d5a61-3c7b-4e9a-b1d2-7e6f5a4b3c21"},
		Web: &application.Web{RedirectURIs: []string{
			"https://portal.contoso.com/signin-oidc",
			"http://portal.contoso.com/signin-oidc", // http only for localhost
		}},
		CreatedDateTime: time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC),
	}
	err := app.Validate(application.ValidationContext{
		TenantID:        "b5a3c8d2-4f1e-4a6b-9c7d-2e8f0a1b3c4d",
		VerifiedDomains: []string{"contoso.com", "contoso.onmicrosoft.com"},
	})

	var fe *tenant.FieldError
	if errors.As(err, &fe) {
		fmt.Println(fe.Field)
	}
	fmt.Println(errors.Is(err, tenant.ErrInvalid))
	fmt.Println(err)
	// Output:
	// web.redirectUris[1]
	// true
	// invalid web.redirectUris[1]: must use https; http is allowed only for localhost and 127.0.0.1
}

func ExampleApplication_MatchRedirectURI() {
	app := application.Application{
		SignInAudience: application.AzureADMyOrg,
		PublicClient:   &application.RedirectURIs{RedirectURIs: []string{"http://localhost/callback"}},
		SPA:            &application.RedirectURIs{RedirectURIs: []string{"https://shop.contoso.com"}},
	}
	for _, uri := range []string{
		"http://localhost:53117/callback", // loopback: any port
		"http://127.0.0.1:53117/callback", // another host
		"https://shop.contoso.com/",       // "/" appended to a path-less URI
		"https://shop.contoso.com/Cart",   // paths must match exactly
	} {
		platform, ok := app.MatchRedirectURI(uri)
		fmt.Println(uri, platform, ok)
	}
	// Output:
	// http://localhost:53117/callback publicClient true
	// http://127.0.0.1:53117/callback  false
	// https://shop.contoso.com/ spa true
	// https://shop.contoso.com/Cart  false
}

func ExampleValidateChange() {
	old := application.Application{
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{
			{ID: "9b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", Value: "Orders.Read", Type: "User", IsEnabled: true},
		}},
	}
	removed := old.Clone()
	removed.API.OAuth2PermissionScopes = nil
	fmt.Println(application.ValidateChange(old, removed))

	// Disable first, then remove.
	disabled := old.Clone()
	disabled.API.OAuth2PermissionScopes[0].IsEnabled = false
	fmt.Println(application.ValidateChange(old, disabled))
	fmt.Println(application.ValidateChange(disabled, removed))
	// Output:
	// invalid api.oauth2PermissionScopes: removes the enabled scope 9b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e ("Orders.Read"); set isEnabled to false first, then remove it
	// <nil>
	// <nil>
}

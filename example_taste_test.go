package tenantry_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
)

// The README's "A taste", verbatim (TestReadmeTaste keeps the two equal):
// a multi-tenant API and a daemon registered in Contoso, consented in
// Fabrikam, and an app-only token issued there.
func Example_taste() {
	ctx := context.Background()
	dir, err := tenantry.New(ctx, tenantry.Config{}) // memory store, RS256 keys like Entra's
	if err != nil {
		log.Fatal(err)
	}
	sys := tenantry.System() // the operator, obtained on purpose: the zero Actor is refused
	contoso, _ := dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso"})
	fabrikam, _ := dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Fabrikam"})

	// Contoso publishes an API with an application permission, and a daemon requiring it.
	const syncRole = "4f1b6f6e-8d0a-4b8e-9a55-7d8c2b1e0c01"
	api, _ := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{
		DisplayName: "Orders API", SignInAudience: application.AzureADMultipleOrgs,
		AppRoles: []application.AppRole{{ID: syncRole, Value: "Orders.Sync", DisplayName: "Sync orders", Description: "Sync orders",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	})
	daemon, _ := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{
		DisplayName: "Orders Sync", SignInAudience: application.AzureADMultipleOrgs,
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: syncRole, Type: application.AccessRole}}}},
	})
	secret, _ := dir.AddPassword(ctx, sys, daemon.ID, tenantry.PasswordSpec{DisplayName: "daemon"}) // shown once

	// Admin consent in Fabrikam creates both service principals there and grants the role.
	_, _ = dir.Consent(ctx, sys, fabrikam.ID, tenantry.ConsentSpec{ClientAppID: daemon.AppID, Default: true, TenantWide: true})

	tok, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		GrantType: tenantry.GrantClientCredentials, Tenant: fabrikam.ID,
		ClientID: daemon.AppID, ClientSecret: secret.SecretText, Scope: api.AppID + "/.default",
	})
	if err != nil {
		log.Fatal(err) // a *tenantry.TokenError with Entra's error, AADSTS code and description
	}
	p, _ := dir.Issuer().ValidateAccessToken(ctx, tok.AccessToken, api.AppID)
	fmt.Println(p.TenantID == fabrikam.ID, p.Roles)
	// Output: true [Orders.Sync]
}

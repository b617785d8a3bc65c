package tenantry_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// Register an API in its home tenant, admin-consent a client to it in
// another tenant and issue an app-only token there.
func Example() {
	ctx := context.Background()
	clock := tenantry.NewManualClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	dir, err := tenantry.New(ctx, tenantry.Config{Now: clock.Now, Tokens: tenantry.TokenConfig{Algorithm: token.ES256}})
	if err != nil {
		panic(err)
	}
	home, _ := dir.CreateTenant(ctx, tenantry.System(), tenantry.TenantSpec{DisplayName: "Contoso"})
	other, _ := dir.CreateTenant(ctx, tenantry.System(), tenantry.TenantSpec{DisplayName: "Fabrikam"})

	api, err := dir.CreateApplication(ctx, tenantry.System(), home.ID, application.Application{
		DisplayName:    "Inventory API",
		SignInAudience: application.AzureADMultipleOrgs,
		AppRoles: []application.AppRole{{
			ID: "4f1b6f6e-8d0a-4b8e-9a55-7d8c2b1e0c01", Value: "Inventory.Read.All", DisplayName: "Read inventory",
			Description: "Read all inventory", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true,
		}},
	})
	if err != nil {
		panic(err)
	}
	client, _ := dir.CreateApplication(ctx, tenantry.System(), home.ID, application.Application{
		DisplayName:    "Inventory Sync",
		SignInAudience: application.AzureADMultipleOrgs,
		RequiredResourceAccess: []application.RequiredResourceAccess{{
			ResourceAppID:  api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: "4f1b6f6e-8d0a-4b8e-9a55-7d8c2b1e0c01", Type: application.AccessRole}},
		}},
	})
	secret, _ := dir.AddPassword(ctx, tenantry.System(), client.ID, tenantry.PasswordSpec{})

	// An administrator of Fabrikam consents for the whole tenant.
	admin, _ := dir.CreateUser(ctx, tenantry.System(), other.ID, tenantry.UserSpec{UserPrincipalName: "admin@fabrikam.onmicrosoft.com"})
	_, _ = dir.AssignDirectoryRole(ctx, tenantry.System(), other.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator})
	res, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), other.ID, tenantry.ConsentSpec{ClientAppID: client.AppID, Default: true, TenantWide: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("service principals created in Fabrikam:", len(res.Created))

	tok, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		GrantType: tenantry.GrantClientCredentials, Tenant: other.ID,
		ClientID: client.AppID, ClientSecret: secret.SecretText, Scope: api.AppID + "/.default",
	})
	if err != nil {
		panic(err)
	}
	p, err := dir.Issuer().ValidateAccessToken(ctx, tok.AccessToken, api.AppID)
	if err != nil {
		panic(err)
	}
	fmt.Println("tenant is Fabrikam:", p.TenantID == other.ID)
	fmt.Println("app-only:", p.IsApp, "roles:", p.Roles)

	// A wrong secret is refused the way Entra refuses it.
	_, err = dir.Issuer().Token(ctx, tenantry.TokenRequest{
		GrantType: tenantry.GrantClientCredentials, Tenant: other.ID,
		ClientID: client.AppID, ClientSecret: "not-the-secret-at-all", Scope: api.AppID + "/.default",
	})
	te := tenantry.AsTokenError(err)
	fmt.Println(te.ErrorCode, te.Code, te.Status)
	// Output:
	// service principals created in Fabrikam: 2
	// tenant is Fabrikam: true
	// app-only: true roles: [Inventory.Read.All]
	// invalid_client 7000215 401
}

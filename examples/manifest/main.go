// Command manifest registers applications as code: a Manifest declares a
// tenant, its users, an API with app roles, a daemon that requires one of
// them, the admin consent and a user's role assignment. Plan shows what
// Apply would change without changing anything; Apply makes the directory
// match in one transaction; applying the same manifest again changes
// nothing; an edited manifest plans exactly the edit. The daemon then gets
// a token carrying the role the manifest consented to.
//
//	go run ./examples/manifest
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

func main() {
	if err := run(context.Background(), os.Stdout, tenantry.Config{}); err != nil {
		log.Fatal(err)
	}
}

// Natural keys of the manifest: a manifest names its tenants, apps and
// roles by stable ids, so that it can be applied again and again.
const (
	contosoID      = "6f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7"
	ordersAPI      = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"
	ordersSync     = "1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
	ordersSyncObj  = "2e3f4a5b-6c7d-4e8f-9a01-b2c3d4e5f6a7" // the daemon's object id
	roleOrdersSync = "3f4a5b6c-7d8e-4f90-a1b2-c3d4e5f6a7b8"
	roleApprover   = "4a5b6c7d-8e9f-4a01-b2c3-d4e5f6a7b8c9"
)

// manifest is what a repository would keep as JSON or YAML and apply from
// its pipeline.
func manifest() tenantry.Manifest {
	return tenantry.Manifest{Tenants: []tenantry.ManifestTenant{{
		ID: contosoID, DisplayName: "Contoso", Domains: []string{"contoso.com"},
		Users: []tenantry.ManifestUser{
			{UserPrincipalName: "admin@contoso.com", DisplayName: "Contoso Admin", DirectoryRoles: []string{tenant.RoleGlobalAdministrator}},
			{UserPrincipalName: "ada@contoso.com", DisplayName: "Ada"},
		},
		Applications: []application.Application{
			{
				AppID: ordersAPI, DisplayName: "Orders API", IdentifierURIs: []string{"api://" + ordersAPI},
				AppRoles: []application.AppRole{
					{ID: roleOrdersSync, Value: "Orders.Sync", DisplayName: "Sync orders", Description: "Synchronise all orders", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true},
					{ID: roleApprover, Value: "Orders.Approve", DisplayName: "Approvers", Description: "Approve orders", AllowedMemberTypes: []string{application.MemberTypeUser}, IsEnabled: true},
				},
			},
			{
				ID: ordersSyncObj, AppID: ordersSync, DisplayName: "Orders Sync",
				RequiredResourceAccess: []application.RequiredResourceAccess{{
					ResourceAppID:  ordersAPI,
					ResourceAccess: []application.ResourceAccess{{ID: roleOrdersSync, Type: application.AccessRole}},
				}},
			},
		},
		Consents:    []tenantry.ManifestConsent{{ClientAppID: ordersSync}},
		Assignments: []tenantry.ManifestAssignment{{ResourceAppID: ordersAPI, Role: "Orders.Approve", UserPrincipalName: "ada@contoso.com"}},
	}}}
}

func run(ctx context.Context, w io.Writer, cfg tenantry.Config) error {
	dir, err := tenantry.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	m := manifest()

	// Plan first: nothing changes yet.
	plan, err := dir.Plan(ctx, tenantry.System(), m)
	if err != nil {
		return err
	}
	printChanges(w, "plan", plan)

	// Apply makes the plan real, in one transaction.
	applied, err := dir.Apply(ctx, tenantry.System(), m)
	if err != nil {
		return err
	}
	printChanges(w, "apply", applied)

	// The same manifest again: the directory already matches.
	again, err := dir.Apply(ctx, tenantry.System(), m)
	if err != nil {
		return err
	}
	printChanges(w, "apply again", again)

	// An edit to the manifest plans exactly that edit.
	m.Tenants[0].Applications[0].DisplayName = "Contoso Orders API"
	edit, err := dir.Plan(ctx, tenantry.System(), m)
	if err != nil {
		return err
	}
	printChanges(w, "plan after renaming the API", edit)
	if _, err := dir.Apply(ctx, tenantry.System(), m); err != nil {
		return err
	}

	// Secrets are not part of a manifest: they are created by the
	// directory and shown once.
	secret, err := dir.AddPassword(ctx, tenantry.System(), ordersSyncObj, tenantry.PasswordSpec{DisplayName: "pipeline"})
	if err != nil {
		return err
	}
	tok, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{
		GrantType: tenantry.GrantClientCredentials, Tenant: "contoso.com",
		ClientID: ordersSync, ClientSecret: secret.SecretText, Scope: "api://" + ordersAPI + "/.default",
	})
	if err != nil {
		return err
	}
	p, err := dir.Issuer().ValidateAccessToken(ctx, tok.AccessToken, ordersAPI)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "daemon token: roles=%s tenant is Contoso=%t\n", strings.Join(p.Roles, ","), p.TenantID == contosoID)
	return nil
}

func printChanges(w io.Writer, title string, changes []tenantry.Change) {
	fmt.Fprintf(w, "%s (%d):\n", title, len(changes))
	for _, c := range changes {
		fmt.Fprintf(w, "  %s\n", c)
	}
}

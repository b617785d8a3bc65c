// Command quickstart registers a multi-tenant API and a client app in
// tenant Contoso, admin-consents the client in tenant Fabrikam (which
// creates both service principals there), assigns an app role to a
// Fabrikam user, issues an app-only access token with client credentials,
// and prints the objects and the audit trail.
//
// The audit trail begins with a tenant the program did not create: New
// makes sure every directory has Entra's consumers tenant
// (9188040d-6c67-4c5b-b112-36a304b66dad), where personal Microsoft accounts
// live: their tokens carry its id as tid, only apps whose sign-in audience
// admits personal accounts (AzureADandPersonalMicrosoftAccount,
// PersonalMicrosoftAccount) serve them, and the "consumers" authority
// segment resolves to it.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

func main() {
	if err := run(context.Background(), os.Stdout, tenantry.Config{}); err != nil {
		log.Fatal(err)
	}
}

// Well-known ids of the example's roles and scopes, so that manifests and
// code can refer to them.
const (
	scopeOrdersRead  = "5b3c0b1e-3f0e-4a53-9c6e-6f6a1d3e0a01"
	scopeOrdersAdmin = "5b3c0b1e-3f0e-4a53-9c6e-6f6a1d3e0a02"
	roleOrdersManage = "5b3c0b1e-3f0e-4a53-9c6e-6f6a1d3e0a03"
	roleOrdersSync   = "5b3c0b1e-3f0e-4a53-9c6e-6f6a1d3e0a04"
)

func run(ctx context.Context, w io.Writer, cfg tenantry.Config) error {
	dir, err := tenantry.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer dir.Close()

	contoso, err := dir.CreateTenant(ctx, tenantry.System(), tenantry.TenantSpec{DisplayName: "Contoso", Domains: []string{"contoso.com"}})
	if err != nil {
		return err
	}
	fabrikam, err := dir.CreateTenant(ctx, tenantry.System(), tenantry.TenantSpec{DisplayName: "Fabrikam", Domains: []string{"fabrikam.com"}})
	if err != nil {
		return err
	}
	dev, err := dir.CreateUser(ctx, tenantry.System(), contoso.ID, tenantry.UserSpec{UserPrincipalName: "dev@contoso.com", DisplayName: "Dana Developer"})
	if err != nil {
		return err
	}
	admin, err := dir.CreateUser(ctx, tenantry.System(), fabrikam.ID, tenantry.UserSpec{UserPrincipalName: "admin@fabrikam.com", DisplayName: "Fabrikam Admin"})
	if err != nil {
		return err
	}
	if _, err := dir.AssignDirectoryRole(ctx, tenantry.System(), fabrikam.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator}); err != nil {
		return err
	}
	clerk, err := dir.CreateUser(ctx, tenantry.System(), fabrikam.ID, tenantry.UserSpec{UserPrincipalName: "clerk@fabrikam.com", DisplayName: "Casey Clerk"})
	if err != nil {
		return err
	}

	// A member developer of Contoso registers the API (and becomes its owner).
	v2 := 2
	api, err := dir.CreateApplication(ctx, tenantry.UserActor(dev.ID), contoso.ID, application.Application{
		DisplayName:    "Contoso Orders API",
		SignInAudience: application.AzureADMultipleOrgs,
		API: &application.API{
			RequestedAccessTokenVersion: &v2,
			OAuth2PermissionScopes: []application.PermissionScope{
				{ID: scopeOrdersRead, Value: "Orders.Read", Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: "Read orders"},
				{ID: scopeOrdersAdmin, Value: "Orders.ReadWrite.All", Type: application.ScopeTypeAdmin, IsEnabled: true, AdminConsentDisplayName: "Manage all orders"},
			},
		},
		AppRoles: []application.AppRole{
			{ID: roleOrdersManage, Value: "Orders.Manage", DisplayName: "Order managers", Description: "Manage orders", AllowedMemberTypes: []string{application.MemberTypeUser}, IsEnabled: true},
			{ID: roleOrdersSync, Value: "Orders.Sync", DisplayName: "Order sync daemons", Description: "Synchronise orders", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true},
		},
	})
	if err != nil {
		return err
	}
	api, err = dir.UpdateApplication(ctx, tenantry.UserActor(dev.ID), api.ID, func(a *application.Application) error {
		a.IdentifierURIs = []string{"api://" + a.AppID}
		return nil
	})
	if err != nil {
		return err
	}

	client, err := dir.CreateApplication(ctx, tenantry.UserActor(dev.ID), contoso.ID, application.Application{
		DisplayName:    "Contoso Orders Sync",
		SignInAudience: application.AzureADMultipleOrgs,
		Web:            &application.Web{RedirectURIs: []string{"https://orders.contoso.com/auth/callback"}},
		RequiredResourceAccess: []application.RequiredResourceAccess{{
			ResourceAppID: api.AppID,
			ResourceAccess: []application.ResourceAccess{
				{ID: scopeOrdersRead, Type: application.AccessScope},
				{ID: roleOrdersSync, Type: application.AccessRole},
			},
		}},
	})
	if err != nil {
		return err
	}
	secret, err := dir.AddPassword(ctx, tenantry.UserActor(dev.ID), client.ID, tenantry.PasswordSpec{DisplayName: "sync daemon"})
	if err != nil {
		return err
	}

	// Fabrikam's administrator consents for the whole tenant: both service
	// principals appear in Fabrikam, with a delegated grant and an
	// application permission.
	res, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), fabrikam.ID, tenantry.ConsentSpec{ClientAppID: client.AppID, Default: true, TenantWide: true})
	if err != nil {
		return err
	}
	apiSP, err := dir.ServicePrincipalByAppID(ctx, tenantry.System(), fabrikam.ID, api.AppID)
	if err != nil {
		return err
	}
	if _, err := dir.AssignAppRole(ctx, tenantry.UserActor(admin.ID), tenantry.AssignmentSpec{ResourceID: apiSP.ID, PrincipalID: clerk.ID, AppRoleID: roleOrdersManage}); err != nil {
		return err
	}

	fmt.Fprintf(w, "tenants: %s (%s), %s (%s)\n", contoso.DisplayName, contoso.DefaultDomain(), fabrikam.DisplayName, fabrikam.DefaultDomain())
	fmt.Fprintf(w, "and the consumers tenant %s, which New creates in every directory: personal Microsoft accounts sign in there (audit event #1)\n", tenant.ConsumersID)
	fmt.Fprintf(w, "api %q appId=%s audience=%s identifierUri=%s owners=%d\n", api.DisplayName, api.AppID, api.SignInAudience, api.IdentifierURIs[0], len(api.Owners))
	fmt.Fprintf(w, "client %q appId=%s secret hint=%s… (%d chars, shown once)\n", client.DisplayName, client.AppID, secret.Hint, len(secret.SecretText))
	fmt.Fprintf(w, "consent in %s created %d service principals:\n", fabrikam.DisplayName, len(res.Created))
	for _, sp := range res.Created {
		fmt.Fprintf(w, "  servicePrincipal %q id=%s appOwnerOrganizationId=%s\n", sp.DisplayName, sp.ID, sp.AppOwnerOrganizationID)
	}
	for _, g := range res.Grants {
		fmt.Fprintf(w, "  oauth2PermissionGrant consentType=%s scope=%q\n", g.ConsentType, g.Scope)
	}
	for _, a := range res.Assignments {
		role, _ := apiSP.RoleByID(a.AppRoleID)
		fmt.Fprintf(w, "  appRoleAssignment %s -> %s role=%s\n", a.PrincipalDisplayName, a.ResourceDisplayName, role.Value)
	}
	held, err := dir.Assignments(ctx, tenantry.System(), clerk.ID, tenantry.PageRequest{})
	if err != nil {
		return err
	}
	for _, a := range held.Items {
		role, _ := apiSP.RoleByID(a.AppRoleID)
		fmt.Fprintf(w, "user %s holds %s on %s\n", clerk.UserPrincipalName, role.Value, a.ResourceDisplayName)
	}

	// The client authenticates with its secret and gets an app-only token
	// for the API in Fabrikam.
	tok, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{GrantType: tenantry.GrantClientCredentials,
		Tenant: fabrikam.ID, ClientID: client.AppID, ClientSecret: secret.SecretText, Scope: "api://" + api.AppID + "/.default",
	})
	if err != nil {
		return err
	}
	p, err := dir.Issuer().ValidateAccessToken(ctx, tok.AccessToken, api.AppID)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "client credentials token: ver=%s tid=%s clientMatches=%t roles=%s expires_in=%d\n",
		p.Version, tenantName(p.TenantID, contoso, fabrikam), p.AppID == client.AppID, strings.Join(p.Roles, ","), tok.ExpiresIn)

	events, err := dir.Audit(ctx, tenantry.System(), "", tenantry.AuditQuery{Page: tenantry.PageRequest{Size: tenantry.MaxPageSize}})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "audit trail (%d events):\n", len(events.Items))
	for _, e := range events.Items {
		fmt.Fprintf(w, "  #%d %s %-28s %s %s\n", e.Seq, e.Time.Format(time.RFC3339), e.Action, e.Actor, e.TargetKind)
	}
	return nil
}

func tenantName(id string, ts ...tenant.Tenant) string {
	for _, t := range ts {
		if t.ID == id {
			return t.DisplayName
		}
	}
	return id
}

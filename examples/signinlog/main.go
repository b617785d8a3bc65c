// Command signinlog runs a few flows against one tenant — an app-only
// token, a refused client secret, a password sign-in that fails and one
// that succeeds, an authorization code for the signed-in user — and prints
// the directory's two ledgers side by side: the audit log, which records
// every change to the directory, and the sign-in log, which records every
// request to the token service, issued or refused, with its AADSTS code
// but never a secret, code or token. Contoso's Global Administrator reads
// her tenant's sign-ins; a user without the role is refused.
//
//	go run ./examples/signinlog
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

func main() {
	if err := run(context.Background(), os.Stdout, tenantry.Config{}); err != nil {
		log.Fatal(err)
	}
}

const (
	roleSync  = "8d3f6a52-1c2b-4e7d-9a10-3b5c7d9e1f01"
	scopeRead = "8d3f6a52-1c2b-4e7d-9a10-3b5c7d9e1f02"
	redirect  = "https://orders.contoso.com/signin"
	alicePass = "correct horse battery staple"
)

func run(ctx context.Context, w io.Writer, cfg tenantry.Config) error {
	dir, err := tenantry.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	sys := tenantry.System()
	names := map[string]string{} // object ids and appIds → names, for printing

	contoso, err := dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso", Domains: []string{"contoso.com"}})
	if err != nil {
		return err
	}
	names[contoso.ID] = "Contoso"
	admin, err := dir.CreateUser(ctx, sys, contoso.ID, tenantry.UserSpec{UserPrincipalName: "admin@contoso.com", DisplayName: "Admin"})
	if err != nil {
		return err
	}
	alice, err := dir.CreateUser(ctx, sys, contoso.ID, tenantry.UserSpec{UserPrincipalName: "alice@contoso.com", DisplayName: "Alice", Password: alicePass})
	if err != nil {
		return err
	}
	names[admin.ID], names[alice.ID] = "admin", "alice"
	ga, err := dir.AssignDirectoryRole(ctx, sys, contoso.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator})
	if err != nil {
		return err
	}
	names[ga.ID] = "admin: Global Administrator"
	api, err := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{
		DisplayName:    "Orders API",
		IdentifierURIs: []string{"api://contoso.com/orders"},
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{{ID: scopeRead, Value: "Orders.Read",
			Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: "Read orders"}}},
		AppRoles: []application.AppRole{{ID: roleSync, Value: "Orders.Sync", DisplayName: "Sync orders", Description: "Sync orders",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	})
	if err != nil {
		return err
	}
	daemon, err := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{
		DisplayName: "Orders Sync",
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: roleSync, Type: application.AccessRole}}}},
	})
	if err != nil {
		return err
	}
	web, err := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{
		DisplayName: "Orders Web",
		Web:         &application.Web{RedirectURIs: []string{redirect}},
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: scopeRead, Type: application.AccessScope}}}},
	})
	if err != nil {
		return err
	}
	for _, a := range []application.Application{api, daemon, web} {
		names[a.ID], names[a.AppID] = a.DisplayName, a.DisplayName
	}
	secret, err := dir.AddPassword(ctx, sys, daemon.ID, tenantry.PasswordSpec{DisplayName: "sync"})
	if err != nil {
		return err
	}
	webSecret, err := dir.AddPassword(ctx, sys, web.ID, tenantry.PasswordSpec{DisplayName: "web"})
	if err != nil {
		return err
	}
	// The administrator grants the daemon its application permission and
	// the web app its delegated one, for every user.
	for _, client := range []string{daemon.AppID, web.AppID} {
		if _, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), contoso.ID, tenantry.ConsentSpec{ClientAppID: client, Default: true, TenantWide: true}); err != nil {
			return err
		}
	}
	for _, appID := range []string{api.AppID, daemon.AppID, web.AppID} {
		sp, err := dir.ServicePrincipalByAppID(ctx, tenantry.UserActor(admin.ID), contoso.ID, appID)
		if err != nil {
			return err
		}
		names[sp.ID] = names[appID] + " (service principal)"
	}

	// The flows.
	iss := dir.Issuer()
	cc := tenantry.TokenRequest{GrantType: tenantry.GrantClientCredentials, Tenant: "contoso.com", ClientID: daemon.AppID,
		ClientSecret: secret.SecretText, Scope: "api://contoso.com/orders/.default"}
	appOnly, err := iss.Token(ctx, cc)
	if err != nil {
		return err
	}
	cc.ClientSecret = "an-old-secret-that-was-rotated-away-0001"
	if _, err := iss.Token(ctx, cc); err == nil {
		return errors.New("a wrong secret was accepted")
	}
	signIn := tenantry.SignInRequest{Tenant: "contoso.com", UserPrincipalName: "Alice@Contoso.com", Password: "not her password"}
	if _, err := iss.SignIn(ctx, signIn); err == nil {
		return errors.New("a wrong password was accepted")
	}
	signIn.Password = alicePass
	if _, err := iss.SignIn(ctx, signIn); err != nil {
		return err
	}
	// The sign-in page passes its request's correlation id on; the
	// authorization and the code's redemption share it.
	const correlation = "5d1e7c3a-0b2f-4f6e-8a9d-1c2b3a4d5e6f"
	ar, err := iss.Authorize(ctx, tenantry.AuthorizeRequest{Tenant: contoso.ID, ClientID: web.AppID, RedirectURI: redirect, ResponseType: "code",
		Scope: "api://contoso.com/orders/Orders.Read", UserID: alice.ID, CorrelationID: correlation})
	if err != nil {
		return err
	}
	delegated, err := iss.Token(ctx, tenantry.TokenRequest{GrantType: tenantry.GrantAuthorizationCode, Tenant: contoso.ID, ClientID: web.AppID,
		ClientSecret: webSecret.SecretText, Code: ar.Code, RedirectURI: redirect, CorrelationID: correlation})
	if err != nil {
		return err
	}
	secrets := []string{secret.SecretText, webSecret.SecretText, alicePass, ar.Code, appOnly.AccessToken, delegated.AccessToken}

	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	// Both logs are read as Contoso's Global Administrator: reads are
	// scoped to her tenant.
	auditPage, err := dir.Audit(ctx, tenantry.UserActor(admin.ID), contoso.ID, tenantry.AuditQuery{Page: tenantry.PageRequest{Size: tenantry.MaxPageSize}})
	if err != nil {
		return err
	}
	audit := auditPage.Items
	fmt.Fprintln(w, "audit log (changes to the directory):")
	for _, e := range audit {
		if e.TenantID != contoso.ID {
			continue // the consumers tenant, created with the directory
		}
		actor := e.Actor
		if id, ok := strings.CutPrefix(actor, "user:"); ok {
			actor = name(id)
		}
		fmt.Fprintf(w, "  %-24s %-16s %-31s by %s\n", e.Action, e.TargetKind, name(e.TargetID), actor)
	}

	signIns, err := dir.SignIns(ctx, tenantry.UserActor(admin.ID), contoso.ID, tenantry.SignInQuery{Page: tenantry.PageRequest{Size: tenantry.MaxPageSize}})
	if err != nil {
		return err
	}
	events := signIns.Items
	fmt.Fprintln(w, "sign-in log (requests to the token service), as Contoso's Global Administrator reads it:")
	fmt.Fprintf(w, "  %-18s %-12s %-11s %-31s %-10s %s\n", "flow", "credential", "client", "user or service principal", "resource", "result")
	for _, e := range events {
		who := name(e.UserID)
		if e.ServicePrincipalID != "" {
			who = name(e.ServicePrincipalID)
		}
		result := "success"
		if e.Outcome == store.SignInFailure {
			result = fmt.Sprintf("AADSTS%d %s", e.ErrorCode, e.OAuthError)
		}
		same := ""
		if e.CorrelationID == correlation {
			same = " (same correlation id)"
		}
		fmt.Fprintf(w, "  %-18s %-12s %-11s %-31s %-10s %s%s\n",
			e.GrantType, e.ClientCredentialType, name(e.ClientAppID), who, name(e.ResourceAppID), result, same)
	}
	_, err = dir.SignIns(ctx, tenantry.UserActor(alice.ID), contoso.ID, tenantry.SignInQuery{})
	fmt.Fprintln(w, "alice reads the sign-in log: forbidden:", errors.Is(err, tenantry.ErrForbidden))

	// Neither ledger holds a secret, a password, a code or a token.
	var logged []string
	for _, e := range audit {
		b, _ := json.Marshal(e)
		logged = append(logged, string(b))
	}
	for _, e := range events {
		b, _ := json.Marshal(e)
		logged = append(logged, string(b))
	}
	found := 0
	for _, secret := range secrets {
		for _, l := range logged {
			if strings.Contains(l, secret) {
				found++
			}
		}
	}
	fmt.Fprintln(w, "secrets, passwords, codes or tokens in either log:", found)
	return nil
}

// Command disableuser shows that revocation is central: Ada is signed in
// to two apps, each holding an access and a refresh token for the Orders
// API. Her administrator disables her account once, with DisableUser, and
// from then on neither app can refresh her tokens and she cannot sign in
// to either (AADSTS50057), while a daemon's app-only tokens, which act for
// no user, keep coming. Access tokens already issued stay valid until they
// expire (an hour), as in Entra.
//
//	go run ./examples/disableuser
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

func main() {
	if err := run(context.Background(), os.Stdout, tenantry.Config{}); err != nil {
		log.Fatal(err)
	}
}

const (
	scopeRead = "9d2f1b5c-3e4a-4b6c-8d7e-0f1a2b3c4d01"
	roleSync  = "9d2f1b5c-3e4a-4b6c-8d7e-0f1a2b3c4d02"
)

// app is a registered client and its secret.
type app struct {
	name, appID, secret, redirect string
}

func run(ctx context.Context, w io.Writer, cfg tenantry.Config) error {
	cfg.Tokens.Algorithm = token.ES256
	dir, err := tenantry.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	sys := tenantry.System()

	contoso, err := dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso", Domains: []string{"contoso.com"}})
	if err != nil {
		return err
	}
	admin, err := dir.CreateUser(ctx, sys, contoso.ID, tenantry.UserSpec{UserPrincipalName: "admin@contoso.com", DisplayName: "Contoso Admin"})
	if err != nil {
		return err
	}
	if _, err := dir.AssignDirectoryRole(ctx, sys, contoso.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator}); err != nil {
		return err
	}
	ada, err := dir.CreateUser(ctx, sys, contoso.ID, tenantry.UserSpec{UserPrincipalName: "ada@contoso.com", DisplayName: "Ada"})
	if err != nil {
		return err
	}
	v2 := 2
	api, err := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{
		DisplayName: "Orders API",
		API: &application.API{RequestedAccessTokenVersion: &v2, OAuth2PermissionScopes: []application.PermissionScope{
			{ID: scopeRead, Value: "Orders.Read", Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: "Read orders"},
		}},
		AppRoles: []application.AppRole{{ID: roleSync, Value: "Orders.Sync", DisplayName: "Sync", Description: "Sync orders",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	})
	if err != nil {
		return err
	}
	// register creates a client of the API, consented for the tenant.
	register := func(name, redirect string, access application.ResourceAccess) (app, error) {
		a := application.Application{DisplayName: name,
			RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID, ResourceAccess: []application.ResourceAccess{access}}}}
		if redirect != "" {
			a.Web = &application.Web{RedirectURIs: []string{redirect}}
		}
		reg, err := dir.CreateApplication(ctx, sys, contoso.ID, a)
		if err != nil {
			return app{}, err
		}
		secret, err := dir.AddPassword(ctx, sys, reg.ID, tenantry.PasswordSpec{DisplayName: name})
		if err != nil {
			return app{}, err
		}
		_, err = dir.Consent(ctx, tenantry.UserActor(admin.ID), contoso.ID, tenantry.ConsentSpec{ClientAppID: reg.AppID, Default: true, TenantWide: true})
		return app{name: name, appID: reg.AppID, secret: secret.SecretText, redirect: redirect}, err
	}
	read := application.ResourceAccess{ID: scopeRead, Type: application.AccessScope}
	portal, err := register("Orders Portal", "https://orders.contoso.com/signin", read)
	if err != nil {
		return err
	}
	mobile, err := register("Orders Mobile Backend", "https://m.orders.contoso.com/signin", read)
	if err != nil {
		return err
	}
	daemon, err := register("Orders Sync", "", application.ResourceAccess{ID: roleSync, Type: application.AccessRole})
	if err != nil {
		return err
	}

	iss := dir.Issuer()
	signIn := func(a app) (*tenantry.TokenResponse, error) {
		ar, err := iss.Authorize(ctx, tenantry.AuthorizeRequest{
			Tenant: contoso.ID, ClientID: a.appID, RedirectURI: a.redirect, ResponseType: "code",
			Scope: api.AppID + "/Orders.Read offline_access", UserID: ada.ID,
		})
		if err != nil {
			return nil, err
		}
		return iss.Token(ctx, tenantry.TokenRequest{Tenant: contoso.ID, GrantType: tenantry.GrantAuthorizationCode,
			ClientID: a.appID, ClientSecret: a.secret, Code: ar.Code, RedirectURI: a.redirect})
	}
	refresh := func(a app, rt string) error {
		_, err := iss.Token(ctx, tenantry.TokenRequest{Tenant: contoso.ID, GrantType: tenantry.GrantRefreshToken,
			ClientID: a.appID, ClientSecret: a.secret, RefreshToken: rt})
		return err
	}
	appOnly := func() error {
		_, err := iss.Token(ctx, tenantry.TokenRequest{Tenant: contoso.ID, GrantType: tenantry.GrantClientCredentials,
			ClientID: daemon.appID, ClientSecret: daemon.secret, Scope: api.AppID + "/.default"})
		return err
	}
	outcome := func(err error) string {
		switch {
		case err == nil:
			return "ok"
		case errors.Is(err, tenantry.ErrUserDisabled):
			return "refused: AADSTS50057, the user account is disabled"
		default:
			return "refused: " + err.Error()
		}
	}

	refreshTokens := map[string]string{}
	var accessToken string
	for _, a := range []app{portal, mobile} {
		tok, err := signIn(a)
		if err != nil {
			return err
		}
		refreshTokens[a.name], accessToken = tok.RefreshToken, tok.AccessToken
		fmt.Fprintf(w, "Ada signs in to %s, which refreshes her token: %s\n", a.name, outcome(refresh(a, tok.RefreshToken)))
	}

	// One call, by the tenant's administrator.
	if _, err := dir.DisableUser(ctx, tenantry.UserActor(admin.ID), ada.ID); err != nil {
		return err
	}
	fmt.Fprintln(w, "admin disables Ada")

	for _, a := range []app{portal, mobile} {
		fmt.Fprintf(w, "%s refreshes Ada's token: %s\n", a.name, outcome(refresh(a, refreshTokens[a.name])))
		_, err := signIn(a)
		fmt.Fprintf(w, "Ada signs in to %s: %s\n", a.name, outcome(err))
	}
	fmt.Fprintf(w, "%s gets an app-only token: %s\n", daemon.name, outcome(appOnly()))
	// A JWT is checked by its signature and lifetime, so one issued before
	// stays valid until it expires: keep access tokens short-lived.
	_, err = iss.ValidateAccessToken(ctx, accessToken, api.AppID)
	fmt.Fprintf(w, "the API validates Ada's access token issued before: %s (until it expires)\n", outcome(err))
	return nil
}

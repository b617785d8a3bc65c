// Command timebound grants an app role for a window of time, as
// just-in-time access does: Ada is assigned the Orders API's
// Orders.Approve role from one hour from now for two hours. Before the
// window her token for the API carries no role, inside it the role, and
// after it neither a new sign-in nor a refresh of the token she got inside
// the window brings the role back. The program runs on a manual clock, so
// the hours pass at once.
//
//	go run ./examples/timebound
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
	"github.com/tenantry/tenantry/token"
)

func main() {
	start := time.Now().UTC().Truncate(time.Second)
	if err := run(context.Background(), os.Stdout, tenantry.Config{}, start); err != nil {
		log.Fatal(err)
	}
}

const (
	scopeRead    = "8c1e0a4b-2d3f-4a5b-9c6d-7e8f9a0b1c2d"
	roleApprover = "8c1e0a4b-2d3f-4a5b-9c6d-7e8f9a0b1c2e"
	portalURL    = "https://orders.contoso.com/signin"
)

func run(ctx context.Context, w io.Writer, cfg tenantry.Config, start time.Time) error {
	clock := tenantry.NewManualClock(start)
	cfg.Now = clock.Now
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
		AppRoles: []application.AppRole{{ID: roleApprover, Value: "Orders.Approve", DisplayName: "Approvers", Description: "Approve orders",
			AllowedMemberTypes: []string{application.MemberTypeUser}, IsEnabled: true}},
	})
	if err != nil {
		return err
	}
	portal, err := dir.CreateApplication(ctx, sys, contoso.ID, application.Application{
		DisplayName: "Orders Portal", Web: &application.Web{RedirectURIs: []string{portalURL}},
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: scopeRead, Type: application.AccessScope}}}},
	})
	if err != nil {
		return err
	}
	secret, err := dir.AddPassword(ctx, sys, portal.ID, tenantry.PasswordSpec{DisplayName: "portal"})
	if err != nil {
		return err
	}
	consent, err := dir.Consent(ctx, sys, contoso.ID, tenantry.ConsentSpec{ClientAppID: portal.AppID, Default: true, TenantWide: true})
	if err != nil {
		return err
	}
	apiSPID := consent.Grants[0].ResourceID // the API's service principal in Contoso

	// The window: from one hour from now, for two hours.
	from, until := start.Add(time.Hour), start.Add(3*time.Hour)
	if _, err := dir.AssignAppRole(ctx, sys, tenantry.AssignmentSpec{
		ResourceID: apiSPID, PrincipalID: ada.ID, AppRoleID: roleApprover, Start: &from, End: &until,
	}); err != nil {
		return err
	}
	fmt.Fprintln(w, "Orders.Approve assigned to Ada from +1h to +3h")

	iss := dir.Issuer()
	roles := func(tok *tenantry.TokenResponse) (string, error) {
		p, err := iss.ValidateAccessToken(ctx, tok.AccessToken, api.AppID)
		if err != nil {
			return "", err
		}
		if len(p.Roles) == 0 {
			return "none", nil
		}
		return strings.Join(p.Roles, ","), nil
	}
	// signIn runs the authorization code flow for Ada in the portal.
	signIn := func() (*tenantry.TokenResponse, error) {
		ar, err := iss.Authorize(ctx, tenantry.AuthorizeRequest{
			Tenant: contoso.ID, ClientID: portal.AppID, RedirectURI: portalURL, ResponseType: "code",
			Scope: api.AppID + "/Orders.Read offline_access", UserID: ada.ID,
		})
		if err != nil {
			return nil, err
		}
		return iss.Token(ctx, tenantry.TokenRequest{
			Tenant: contoso.ID, GrantType: tenantry.GrantAuthorizationCode, ClientID: portal.AppID, ClientSecret: secret.SecretText,
			Code: ar.Code, RedirectURI: portalURL,
		})
	}
	report := func(what string, tok *tenantry.TokenResponse) error {
		r, err := roles(tok)
		if err != nil {
			return err
		}
		at := clock.Now().Sub(start)
		fmt.Fprintf(w, "+%dh%02dm  %-26s roles=%s\n", int(at.Hours()), int(at.Minutes())%60, what, r)
		return nil
	}

	tok, err := signIn()
	if err != nil {
		return err
	}
	if err := report("sign-in before the window", tok); err != nil {
		return err
	}

	clock.Advance(90 * time.Minute)
	inside, err := signIn()
	if err != nil {
		return err
	}
	if err := report("sign-in inside the window", inside); err != nil {
		return err
	}

	clock.Advance(90 * time.Minute) // at +3h the window has closed
	refreshed, err := iss.Token(ctx, tenantry.TokenRequest{
		Tenant: contoso.ID, GrantType: tenantry.GrantRefreshToken, ClientID: portal.AppID, ClientSecret: secret.SecretText,
		RefreshToken: inside.RefreshToken,
	})
	if err != nil {
		return err
	}
	if err := report("refresh after the window", refreshed); err != nil {
		return err
	}
	after, err := signIn()
	if err != nil {
		return err
	}
	return report("sign-in after the window", after)
}

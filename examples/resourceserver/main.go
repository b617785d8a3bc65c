// Command resourceserver runs an HTTP API protected by tenantry's token
// validator and middleware, and calls it the way clients would: without a
// token (401 with a WWW-Authenticate challenge), with an app-only token
// lacking the required role (403), with one that holds it (200), and with a
// delegated user token carrying the required scope (200).
//
//	go run ./examples/resourceserver
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/token"
)

func main() {
	if err := run(context.Background(), os.Stdout, tenantry.Config{}); err != nil {
		log.Fatal(err)
	}
}

const (
	roleRead  = "6e0f5c1a-7b1d-4c55-8f8e-2b2f6a0d9a01"
	scopeRead = "6e0f5c1a-7b1d-4c55-8f8e-2b2f6a0d9a02"
)

func run(ctx context.Context, w io.Writer, cfg tenantry.Config) error {
	cfg.Tokens.Algorithm = token.ES256
	dir, err := tenantry.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	tn, err := dir.CreateTenant(ctx, tenantry.System(), tenantry.TenantSpec{DisplayName: "Contoso"})
	if err != nil {
		return err
	}
	v2 := 2
	api, err := dir.CreateApplication(ctx, tenantry.System(), tn.ID, application.Application{
		DisplayName: "Reports API",
		API: &application.API{RequestedAccessTokenVersion: &v2, OAuth2PermissionScopes: []application.PermissionScope{
			{ID: scopeRead, Value: "Reports.Read", Type: application.ScopeTypeUser, IsEnabled: true},
		}},
		AppRoles: []application.AppRole{{ID: roleRead, Value: "Reports.Read.All", DisplayName: "Read all reports", Description: "Read all reports",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	})
	if err != nil {
		return err
	}

	// The API validates tokens for its appId, from this tenant only.
	vcfg := dir.Issuer().ValidatorConfig(api.AppID)
	vcfg.AllowedTenants = []string{tn.ID}
	v, err := token.NewValidator(vcfg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /reports", token.RequireScopeOrRole([]string{"Reports.Read"}, []string{"Reports.Read.All"})(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			p, _ := token.FromContext(r.Context())
			kind := "user"
			if p.IsApp {
				kind = "app"
			}
			fmt.Fprintf(w, "reports for %s caller", kind)
		})))
	srv := httptest.NewServer(v.Middleware(mux))
	defer srv.Close()

	call := func(label, bearer string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/reports", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(w, "%-22s -> %d", label, resp.StatusCode)
		if c := resp.Header.Get("WWW-Authenticate"); c != "" {
			fmt.Fprintf(w, " WWW-Authenticate: %s", c)
		}
		if resp.StatusCode == http.StatusOK {
			fmt.Fprintf(w, " %q", strings.TrimSpace(string(body)))
		}
		fmt.Fprintln(w)
		return nil
	}

	// A daemon without the application permission, then with it.
	daemon, err := dir.CreateApplication(ctx, tenantry.System(), tn.ID, application.Application{DisplayName: "Nightly export"})
	if err != nil {
		return err
	}
	secret, err := dir.AddPassword(ctx, tenantry.System(), daemon.ID, tenantry.PasswordSpec{})
	if err != nil {
		return err
	}
	appToken := func() (string, error) {
		r, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{GrantType: tenantry.GrantClientCredentials, Tenant: tn.ID,
			ClientID: daemon.AppID, ClientSecret: secret.SecretText, Scope: api.AppID + "/.default"})
		if err != nil {
			return "", err
		}
		return r.AccessToken, nil
	}
	if err := call("no token", ""); err != nil {
		return err
	}
	if err := call("malformed token", "not-a-jwt"); err != nil {
		return err
	}
	tok, err := appToken()
	if err != nil {
		return err
	}
	if err := call("app token, no role", tok); err != nil {
		return err
	}
	apiSP, _ := dir.ServicePrincipalByAppID(ctx, tenantry.System(), tn.ID, api.AppID)
	daemonSP, _ := dir.ServicePrincipalByAppID(ctx, tenantry.System(), tn.ID, daemon.AppID)
	if _, err := dir.AssignAppRole(ctx, tenantry.System(), tenantry.AssignmentSpec{ResourceID: apiSP.ID, PrincipalID: daemonSP.ID, AppRoleID: roleRead}); err != nil {
		return err
	}
	if tok, err = appToken(); err != nil {
		return err
	}
	if err := call("app token with role", tok); err != nil {
		return err
	}

	// A user signs in to a web app that calls the API with a delegated token.
	web, err := dir.CreateApplication(ctx, tenantry.System(), tn.ID, application.Application{
		DisplayName: "Reports portal", Web: &application.Web{RedirectURIs: []string{"https://portal.contoso.com/signin"}},
	})
	if err != nil {
		return err
	}
	webSecret, err := dir.AddPassword(ctx, tenantry.System(), web.ID, tenantry.PasswordSpec{})
	if err != nil {
		return err
	}
	user, err := dir.CreateUser(ctx, tenantry.System(), tn.ID, tenantry.UserSpec{UserPrincipalName: "ana@contoso.onmicrosoft.com", DisplayName: "Ana"})
	if err != nil {
		return err
	}
	verifier := "M25iVXpKU3puUjFaYWg3T1NDTDQtcW1ROUY5YXlwalNoc0hhakxifmZHag"
	// The user consents to Reports.Read at sign-in (the tenant's default
	// policy allows it); PKCE binds the code to this client.
	code, err := dir.Issuer().Authorize(ctx, tenantry.AuthorizeRequest{
		Tenant: tn.ID, ClientID: web.AppID, RedirectURI: "https://portal.contoso.com/signin", ResponseType: "code",
		Scope: "openid " + api.AppID + "/Reports.Read", CodeChallenge: token.S256Challenge(verifier), CodeChallengeMethod: "S256",
		State: "xyz", UserID: user.ID,
	})
	if err != nil {
		return err
	}
	resp, err := dir.Issuer().Token(ctx, tenantry.TokenRequest{GrantType: tenantry.GrantAuthorizationCode, Tenant: tn.ID, ClientID: web.AppID,
		ClientSecret: webSecret.SecretText, Code: code.Code, RedirectURI: code.RedirectURI, CodeVerifier: verifier})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "user consent recorded; token scope: %s\n", strings.ReplaceAll(resp.Scope, api.AppID, "{api}"))
	return call("user token with scope", resp.AccessToken)
}

package tenantrytest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/tenantrytest"
)

// The token endpoint refuses what a real tenant refuses, with Entra's
// status, OAuth error and AADSTS code, and the record says so.
func TestTokenEndpointIsStrict(t *testing.T) {
	s := newSeeded(t)
	srv := s.srv
	fabrikam := srv.CreateTenant("Fabrikam")
	multi := srv.CreateApp(s.contoso, "Multi", tenantrytest.MultiTenant())
	srv.AddSecret(multi)
	tests := []struct {
		name   string
		tenant string
		edit   func(f url.Values)
		status int
		oauth  string
		code   int
	}{
		{"wrong secret", s.contoso.ID, func(f url.Values) { f.Set("client_secret", "not-the-secret-at-all") }, 401, "invalid_client", 7000215},
		{"unknown app", s.contoso.ID, func(f url.Values) { f.Set("client_id", "11111111-2222-3333-4444-555555555555") }, 400, "unauthorized_client", 700016},
		{"single-tenant app in another tenant", fabrikam.ID, nil, 400, "unauthorized_client", 700016},
		{"multi-tenant app not consented in the tenant", fabrikam.ID, func(f url.Values) {
			f.Set("client_id", multi.AppID)
			f.Set("client_secret", srv.AddSecret(multi))
		}, 401, "invalid_client", 7000229},
		{"no secret", s.contoso.ID, func(f url.Values) { f.Del("client_secret") }, 401, "invalid_client", 7000218},
		{"unknown tenant", "nowhere.example", nil, 400, "invalid_tenant", 90002},
		{"scope without /.default", s.contoso.ID, func(f url.Values) { f.Set("scope", s.api.Scope("Orders.Read")) }, 400, "invalid_scope", 1002012},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := s.ccForm()
			if tc.edit != nil {
				tc.edit(f)
			}
			status, body := post(t, srv.Client(), srv.Authority(tc.tenant)+"/oauth2/v2.0/token", f)
			if status != tc.status || body["error"] != tc.oauth {
				t.Fatalf("%d %v, want %d %s", status, body["error"], tc.status, tc.oauth)
			}
			if d, _ := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS") {
				t.Errorf("error_description = %q", d)
			}
			last := srv.LastError()
			if last.Endpoint != "token" || last.Status != tc.status || last.Error != tc.oauth || last.Code != tc.code || last.Tenant != tc.tenant {
				t.Errorf("LastError = %+v, want %d %s AADSTS%d", last, tc.status, tc.oauth, tc.code)
			}
			if last.CorrelationID == "" || body["correlation_id"] != last.CorrelationID {
				t.Errorf("correlation id: recorded %q, answered %v", last.CorrelationID, body["correlation_id"])
			}
		})
	}
}

// The in-process helpers refuse as the endpoint does: the Request
// variants return the *tenantry.TokenError, the plain ones fail the test
// with its AADSTS text.
func TestHelpersRefuseLikeTheTenant(t *testing.T) {
	s := newSeeded(t)
	fabrikam := s.srv.CreateTenant("Fabrikam")
	_, err := s.srv.RequestAppToken(context.Background(), fabrikam, s.daemon, s.api)
	var te *tenantry.TokenError
	if !errors.As(err, &te) || !errors.Is(err, tenantry.ErrApplicationNotFound) || te.ErrorCode != "unauthorized_client" {
		t.Fatalf("single-tenant daemon in Fabrikam: %v", err)
	}
	msg := failure(t, func(tb testing.TB) { s.srv.AppToken(tb, fabrikam, s.daemon, s.api) })
	if !strings.Contains(msg, "AADSTS700016") {
		t.Errorf("AppToken failure = %q, want the AADSTS700016 text", msg)
	}
	// A user of Fabrikam cannot sign in to Contoso's single-tenant app.
	eve := s.srv.CreateUser(fabrikam, "eve")
	web := s.srv.CreateApp(s.contoso, "Web")
	_, err = s.srv.RequestUserToken(context.Background(), web, eve, s.api.Scope("Orders.Read"))
	if !errors.As(err, &te) {
		t.Fatalf("foreign user at a single-tenant app: %v, want a TokenError", err)
	}
	msg = failure(t, func(tb testing.TB) { s.srv.UserToken(tb, web, eve, s.api.Scope("Orders.Read")) })
	if !strings.Contains(msg, "AADSTS") {
		t.Errorf("UserToken failure = %q", msg)
	}
	// An unknown scope of the API.
	ada := s.srv.CreateUser(s.contoso, "ada")
	if _, err := s.srv.RequestUserToken(context.Background(), web, ada, s.api.Scope("Orders.Delete")); !errors.As(err, &te) {
		t.Errorf("unpublished scope: %v, want a TokenError", err)
	}
	// An app whose only redirect URIs were removed cannot use the code flow.
	daemonless := s.srv.CreateApp(s.contoso, "No redirect", tenantrytest.RedirectURIs())
	if _, err := s.srv.RequestUserToken(context.Background(), daemonless, ada); err == nil || !strings.Contains(err.Error(), "no redirect URI") {
		t.Errorf("app without redirect URI: %v", err)
	}
}

// The v1 endpoint takes resource=, the v2 endpoint refuses it (AADSTS901002).
func TestResourceParameter(t *testing.T) {
	s := newSeeded(t)
	f := s.ccForm()
	f.Del("scope")
	f.Set("resource", s.api.IdentifierURI)
	if status, body := post(t, s.srv.Client(), s.srv.Authority(s.contoso.ID)+"/oauth2/token", f); status != http.StatusOK {
		t.Fatalf("v1 with resource: %d %v", status, body)
	}
	if status, _ := post(t, s.srv.Client(), s.srv.Authority(s.contoso.ID)+"/oauth2/v2.0/token", f); status != http.StatusBadRequest || s.srv.LastError().Code != 901002 {
		t.Fatalf("v2 with resource: %d %+v", status, s.srv.LastError())
	}
}

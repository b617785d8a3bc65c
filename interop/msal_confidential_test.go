package interop_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/tenantry/tenantry/application"
)

func (e *env) msalClient(authority, clientID string, cred confidential.Credential) confidential.Client {
	e.t.Helper()
	c, err := confidential.New(authority, clientID, cred, confidential.WithHTTPClient(e.client), confidential.WithInstanceDiscovery(false))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// MSAL Go's confidential client with a secret, a certificate and an
// assertion callback; a multi-tenant app in a second tenant through
// WithTenantID; the second call served from MSAL's cache.
func TestMSALConfidentialClient(t *testing.T) {
	e := newEnv(t)
	app := e.daemon("Orders Daemon", application.AzureADMultipleOrgs)
	e.consent(e.contoso.ID, app)
	e.consent(e.fabrikam.ID, app)
	secret := e.secret(app)
	cert, key := e.certificate(app)
	scopes := []string{apiURI + "/.default"}

	t.Run("secret", func(t *testing.T) {
		cred, err := confidential.NewCredFromSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		c := e.msalClient(e.authority(e.contoso.ID), app.AppID, cred)
		first, err := c.AcquireTokenByCredential(e.ctx, scopes)
		if err != nil {
			t.Fatal(err)
		}
		p := e.validate(first.AccessToken)
		if !p.IsApp || p.TenantID != e.contoso.ID || len(p.Roles) != 1 || p.Roles[0] != "Orders.Read.All" {
			t.Fatalf("principal %+v", p)
		}
		// The second call is served from MSAL's cache: no request.
		before := e.requests("token")
		again, err := c.AcquireTokenByCredential(e.ctx, scopes)
		if err != nil || again.AccessToken != first.AccessToken || e.requests("token") != before {
			t.Fatalf("second call: same token %v, token requests %d → %d, err %v", again.AccessToken == first.AccessToken, before, e.requests("token"), err)
		}
		// A multi-tenant app in a second tenant.
		other, err := c.AcquireTokenByCredential(e.ctx, scopes, confidential.WithTenantID(e.fabrikam.ID))
		if err != nil {
			t.Fatal(err)
		}
		if p := e.validate(other.AccessToken); p.TenantID != e.fabrikam.ID {
			t.Fatalf("WithTenantID: token of tenant %s, want %s", p.TenantID, e.fabrikam.ID)
		}
	})
	t.Run("certificate", func(t *testing.T) {
		cred, err := confidential.NewCredFromCert([]*x509.Certificate{cert}, key)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.msalClient(e.authority(e.contoso.ID), app.AppID, cred).AcquireTokenByCredential(e.ctx, scopes)
		if err != nil {
			t.Fatal(err)
		}
		if p := e.validate(r.AccessToken); p.Claims.AppIDACR != "2" && p.Claims.AuthorizedPartyACR != "2" {
			t.Fatalf("certificate client: appidacr %q azpacr %q", p.Claims.AppIDACR, p.Claims.AuthorizedPartyACR)
		}
	})
	t.Run("assertion callback", func(t *testing.T) {
		// The callback builds the assertion MSAL itself would (with the
		// certificate), here through a second MSAL credential's path: a
		// signed JWT for the token endpoint.
		calls := 0
		cred := confidential.NewCredFromAssertionCallback(func(ctx context.Context, o confidential.AssertionRequestOptions) (string, error) {
			calls++
			return signAssertion(cert, key, o.ClientID, o.TokenEndpoint)
		})
		r, err := e.msalClient(e.authority(e.contoso.ID), app.AppID, cred).AcquireTokenByCredential(e.ctx, scopes)
		if err != nil {
			t.Fatal(err)
		}
		if calls != 1 {
			t.Fatalf("assertion callback called %d times", calls)
		}
		e.validate(r.AccessToken)
	})
}

// What MSAL surfaces for the refusals: a CallErr carrying Entra's JSON.
func TestMSALConfidentialClientErrors(t *testing.T) {
	e := newEnv(t)
	app := e.daemon("Orders Daemon", application.AzureADMultipleOrgs)
	e.consent(e.contoso.ID, app)
	secret := e.secret(app)
	single := e.daemon("Single-tenant Daemon", application.AzureADMyOrg)
	e.consent(e.contoso.ID, single)
	singleSecret := e.secret(single)
	scopes := []string{apiURI + "/.default"}
	for _, c := range []struct {
		name, tenant, clientID, secret, want string
	}{
		{"wrong secret", e.contoso.ID, app.AppID, "not-the-secret-of-this-app", "AADSTS7000215"},
		{"unknown app", e.contoso.ID, "3f1c5e2a-9b8d-4c7e-a6f5-0e1d2c3b4a59", secret, "AADSTS700016"},
		{"not consented in the tenant", e.fabrikam.ID, app.AppID, secret, "AADSTS7000229"},
		{"single-tenant app from another tenant", e.fabrikam.ID, single.AppID, singleSecret, "AADSTS700016"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cred, err := confidential.NewCredFromSecret(c.secret)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.msalClient(e.authority(c.tenant), c.clientID, cred).AcquireTokenByCredential(e.ctx, scopes)
			var ce msalerrors.CallErr
			if !errors.As(err, &ce) {
				t.Fatalf("got %T %v, want msal errors.CallErr", err, err)
			}
			if ce.Resp.StatusCode/100 != 4 || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("MSAL surfaced %d %v, want %s", ce.Resp.StatusCode, err, c.want)
			}
			t.Logf("MSAL surfaces: %d %s", ce.Resp.StatusCode, firstLine(err.Error()))
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\\r\\n")
	line, _, _ = strings.Cut(line, "\r\n")
	if len(line) > 240 {
		line = line[:240] + "…"
	}
	return line
}

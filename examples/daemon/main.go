// Command daemon is a background service that authenticates with a
// certificate (a private_key_jwt client assertion shaped like MSAL's:
// PS256, x5t#S256 header) and uses the client credentials grant to call an
// API in a customer's tenant, caching the token until shortly before it
// expires.
//
//	go run ./examples/daemon
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"os"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

func main() {
	if err := run(context.Background(), os.Stdout, tenantry.Config{}); err != nil {
		log.Fatal(err)
	}
}

const roleExport = "7a2c9d10-1e4f-4b3a-9c61-0d5e8f1a2b01"

// tokenSource hands out a cached app-only token and asks the directory for
// a new one when less than five minutes remain (as MSAL does).
type tokenSource struct {
	mu      sync.Mutex
	fetch   func(ctx context.Context) (*tenantry.TokenResponse, error)
	now     func() time.Time
	token   string
	expires time.Time
	fetches int
}

func (s *tokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.now().Add(5*time.Minute).Before(s.expires) {
		return s.token, nil
	}
	r, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	s.fetches++
	s.token, s.expires = r.AccessToken, s.now().Add(time.Duration(r.ExpiresIn)*time.Second)
	return s.token, nil
}

func run(ctx context.Context, w io.Writer, cfg tenantry.Config) error {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dir, err := tenantry.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	vendor, err := dir.CreateTenant(ctx, tenantry.System(), tenantry.TenantSpec{DisplayName: "Vendor"})
	if err != nil {
		return err
	}
	customer, err := dir.CreateTenant(ctx, tenantry.System(), tenantry.TenantSpec{DisplayName: "Customer"})
	if err != nil {
		return err
	}
	// The customer's own API, and the vendor's multi-tenant daemon that
	// needs its Export.All application permission.
	api, err := dir.CreateApplication(ctx, tenantry.System(), customer.ID, application.Application{
		DisplayName: "Customer Data API",
		AppRoles: []application.AppRole{{ID: roleExport, Value: "Export.All", DisplayName: "Export all data", Description: "Export all data",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	})
	if err != nil {
		return err
	}
	daemon, err := dir.CreateApplication(ctx, tenantry.System(), vendor.ID, application.Application{
		DisplayName: "Vendor Export Daemon", SignInAudience: application.AzureADMultipleOrgs,
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: roleExport, Type: application.AccessRole}}}},
	})
	if err != nil {
		return err
	}
	key, cert, err := selfSigned(cfg.Now())
	if err != nil {
		return err
	}
	if _, err := dir.AddKey(ctx, tenantry.System(), daemon.ID, tenantry.KeySpec{DisplayName: "daemon cert", Certificate: cert}); err != nil {
		return err
	}
	admin, err := dir.CreateUser(ctx, tenantry.System(), customer.ID, tenantry.UserSpec{UserPrincipalName: "admin@customer.onmicrosoft.com"})
	if err != nil {
		return err
	}
	if _, err := dir.AssignDirectoryRole(ctx, tenantry.System(), customer.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator}); err != nil {
		return err
	}
	if _, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), customer.ID, tenantry.ConsentSpec{ClientAppID: daemon.AppID, Default: true, TenantWide: true}); err != nil {
		return err
	}

	endpoint := "https://login.microsoftonline.com/" + customer.ID + "/oauth2/v2.0/token"
	ts := &tokenSource{now: cfg.Now, fetch: func(ctx context.Context) (*tenantry.TokenResponse, error) {
		assertion, err := clientAssertion(key, cert, daemon.AppID, endpoint, cfg.Now())
		if err != nil {
			return nil, err
		}
		return dir.Issuer().Token(ctx, tenantry.TokenRequest{
			GrantType: tenantry.GrantClientCredentials, Tenant: customer.ID, ClientID: daemon.AppID,
			ClientAssertionType: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", ClientAssertion: assertion,
			Scope: api.AppID + "/.default",
		})
	}}
	for i := 0; i < 3; i++ {
		tok, err := ts.Token(ctx)
		if err != nil {
			return err
		}
		p, err := dir.Issuer().ValidateAccessToken(ctx, tok, api.AppID)
		if err != nil {
			return err
		}
		// v1 tokens (the API did not ask for v2) carry appid/appidacr;
		// "2" means a certificate authenticated the client.
		fmt.Fprintf(w, "call %d: ver=%s app-only=%t tenant=Customer:%t roles=%v appidacr=%s\n", i+1, p.Version, p.IsApp, p.TenantID == customer.ID, p.Roles, p.Claims.AppIDACR)
	}
	fmt.Fprintf(w, "token requests: %d (the token was cached)\n", ts.fetches)

	// The customer withdraws the permission: revocation is immediate for
	// new tokens.
	daemonSP, _ := dir.ServicePrincipalByAppID(ctx, tenantry.System(), customer.ID, daemon.AppID)
	if _, err := dir.DisableServicePrincipal(ctx, tenantry.UserActor(admin.ID), daemonSP.ID); err != nil {
		return err
	}
	_, err = ts.fetch(ctx)
	te := tenantry.AsTokenError(err)
	fmt.Fprintf(w, "after the customer disabled the daemon: %s AADSTS%d\n", te.ErrorCode, te.Code)
	return nil
}

// clientAssertion builds an MSAL-style certificate assertion.
func clientAssertion(key *rsa.PrivateKey, cert *x509.Certificate, clientID, aud string, now time.Time) (string, error) {
	thumb := sha256.Sum256(cert.Raw)
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t#S256", base64.StdEncoding.EncodeToString(thumb[:]))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: key}, opts)
	if err != nil {
		return "", err
	}
	claims, _ := json.Marshal(map[string]any{
		"aud": aud, "iss": clientID, "sub": clientID, "jti": uuid.NewString(),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	jws, err := signer.Sign(claims)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func selfSigned(now time.Time) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vendor-export-daemon"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

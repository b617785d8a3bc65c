package tenantry

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// benchSetup builds a directory with an API, a confidential client with
// an admin-consented application permission, a user with a delegated
// grant, and returns what the benchmarks need.
type benchEnv struct {
	d        *Directory
	clock    *ManualClock
	tenantID string
	api      application.Application
	client   application.Application
	secret   string
	userID   string
}

func newBenchEnv(b *testing.B, alg jose.SignatureAlgorithm) *benchEnv {
	b.Helper()
	ctx := context.Background()
	clock := NewManualClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	d, err := New(ctx, Config{Now: clock.Now, Tokens: TokenConfig{Algorithm: alg, KeyRefreshInterval: time.Hour}})
	if err != nil {
		b.Fatal(err)
	}
	tn, _ := d.CreateTenant(ctx, System(), TenantSpec{DisplayName: "Contoso"})
	api, err := d.CreateApplication(ctx, System(), tn.ID, apiApp())
	if err != nil {
		b.Fatal(err)
	}
	v2 := 2
	api, _ = d.UpdateApplication(ctx, System(), api.ID, func(a *application.Application) error {
		a.IdentifierURIs = []string{"api://" + a.AppID}
		a.API.RequestedAccessTokenVersion = &v2
		return nil
	})
	client, _ := d.CreateApplication(ctx, System(), tn.ID, application.Application{
		DisplayName: "Daemon",
		Web:         &application.Web{RedirectURIs: []string{"https://app.contoso.com/cb"}},
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID, ResourceAccess: []application.ResourceAccess{
			{ID: "aaaaaaaa-0000-4000-8000-000000000001", Type: application.AccessScope},
			{ID: "bbbbbbbb-0000-4000-8000-000000000001", Type: application.AccessRole},
		}}},
	})
	cred, _ := d.AddPassword(ctx, System(), client.ID, PasswordSpec{})
	admin, _ := d.CreateUser(ctx, System(), tn.ID, UserSpec{UserPrincipalName: "admin@contoso.onmicrosoft.com", DisplayName: "Admin"})
	_, _ = d.AssignDirectoryRole(ctx, System(), tn.ID, DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator})
	if _, err := d.Consent(ctx, UserActor(admin.ID), tn.ID, ConsentSpec{ClientAppID: client.AppID, Default: true, TenantWide: true}); err != nil {
		b.Fatal(err)
	}
	return &benchEnv{d: d, clock: clock, tenantID: tn.ID, api: api, client: client, secret: cred.SecretText, userID: admin.ID}
}

// BenchmarkIssuance compares client-credentials issuance from the memory
// store (secret check, service principals, assignments, Entra claims,
// signature) with the raw signature of a SHA-256 digest alone, in the same
// run.
func BenchmarkIssuance(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		b.Run(fmt.Sprintf("RawSign/%s", alg), func(b *testing.B) {
			var signer crypto.Signer
			var opts crypto.SignerOpts = crypto.SHA256
			if alg == jose.RS256 {
				k, _ := rsa.GenerateKey(rand.Reader, 2048)
				signer = k
			} else {
				k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				signer = k
			}
			digest := sha256.Sum256([]byte("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0"))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := signer.Sign(rand.Reader, digest[:], opts); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("ClientCredentials/%s", alg), func(b *testing.B) {
			env := newBenchEnv(b, alg)
			req := TokenRequest{GrantType: GrantClientCredentials, Tenant: env.tenantID, ClientID: env.client.AppID, ClientSecret: env.secret, Scope: env.api.IdentifierURIs[0] + "/.default"}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := env.d.Issuer().Token(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRedeemAndRefresh measures authorization-code redemption (with
// PKCE and a confidential client) and refresh-token redemption, ES256.
func BenchmarkRedeemAndRefresh(b *testing.B) {
	env := newBenchEnv(b, jose.ES256)
	ctx := context.Background()
	verifier := "dBjftJeZ4CVP-mJ92K9ZBhtXbm1Zv0zGJ5Yf4Q6E1x0aVn6b2p0"
	authorize := AuthorizeRequest{Tenant: env.tenantID, ClientID: env.client.AppID, RedirectURI: "https://app.contoso.com/cb", ResponseType: "code",
		Scope: "openid offline_access " + env.api.IdentifierURIs[0] + "/Files.Read", CodeChallenge: token.S256Challenge(verifier), CodeChallengeMethod: "S256", UserID: env.userID}
	redeem := func(code string) (*TokenResponse, error) {
		return env.d.Issuer().Token(ctx, TokenRequest{GrantType: GrantAuthorizationCode, Tenant: env.tenantID, ClientID: env.client.AppID, ClientSecret: env.secret,
			Code: code, RedirectURI: authorize.RedirectURI, CodeVerifier: verifier})
	}
	b.Run("AuthorizeAndRedeem", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ar, err := env.d.Issuer().Authorize(ctx, authorize)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := redeem(ar.Code); err != nil {
				b.Fatal(err)
			}
		}
	})
	ar, err := env.d.Issuer().Authorize(ctx, authorize)
	if err != nil {
		b.Fatal(err)
	}
	first, err := redeem(ar.Code)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Refresh", func(b *testing.B) {
		req := TokenRequest{GrantType: GrantRefreshToken, Tenant: env.tenantID, ClientID: env.client.AppID, ClientSecret: env.secret, RefreshToken: first.RefreshToken}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := env.d.Issuer().Token(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMutation measures Directory mutations on the memory store: each
// is a transaction with validation and one audit event.
func BenchmarkMutation(b *testing.B) {
	env := newBenchEnv(b, jose.ES256)
	ctx := context.Background()
	sp, err := env.d.ServicePrincipalByAppID(ctx, System(), env.tenantID, env.api.AppID)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("EnableServicePrincipal or DisableServicePrincipal", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := env.d.setServicePrincipalEnabled(ctx, System(), sp.ID, i%2 == 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UserConsent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := env.d.Consent(ctx, UserActor(env.userID), env.tenantID, ConsentSpec{ClientAppID: env.client.AppID,
				Scopes: []consent.ScopeRequest{{ResourceAppID: env.api.AppID, Scopes: []string{"Files.Read"}}}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

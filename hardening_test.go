package tenantry

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// A purged application's appId cannot be registered again while service
// principals (with their grants and roles) still reference it, and only
// System may choose an appId at all.
func TestAppIDReuseAfterPurge(t *testing.T) {
	f := newFixture(t)
	home, other, third := f.tenant("Home"), f.tenant("Other"), f.tenant("Third")
	a := f.app(home.ID, application.Application{DisplayName: "Daemon", SignInAudience: application.AzureADMultipleOrgs})
	foreign, err := f.d.CreateServicePrincipal(f.ctx, System(), other.ID, a.AppID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.d.DeleteApplication(f.ctx, System(), a.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.d.PurgeApplication(f.ctx, System(), a.ID); err != nil {
		t.Fatal(err)
	}
	mallory := f.user(third.ID, "mallory@third.onmicrosoft.com")
	_, err = f.d.CreateApplication(f.ctx, UserActor(mallory.ID), third.ID, application.Application{AppID: a.AppID, DisplayName: "Evil", SignInAudience: application.AzureADMultipleOrgs})
	var fe *tenant.FieldError
	if !errors.As(err, &fe) || fe.Field != "appId" {
		t.Fatalf("a user choosing the appId: err = %v, want a FieldError on appId", err)
	}
	if _, err := f.d.CreateApplication(f.ctx, System(), third.ID, application.Application{AppID: a.AppID, DisplayName: "Evil"}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("System() reusing a referenced appId: err = %v, want ErrAlreadyExists", err)
	}
	if err := f.d.DeleteServicePrincipal(f.ctx, System(), foreign.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.CreateApplication(f.ctx, System(), third.ID, application.Application{AppID: a.AppID, DisplayName: "Reborn"}); err != nil {
		t.Fatalf("appId free again after its orphans were deleted: %v", err)
	}
}

// Publisher verification, the publisher domain and deletion are managed
// by the directory, not by owners.
func TestServerManagedApplicationFields(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	owner := f.user(tn.ID, "o@contoso.onmicrosoft.com")
	a, err := f.d.CreateApplication(f.ctx, UserActor(owner.ID), tn.ID, application.Application{
		DisplayName: "App", VerifiedPublisher: &application.VerifiedPublisher{VerifiedPublisherID: "forged"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.VerifiedPublisher != nil {
		t.Fatal("a user registered an app with a verified publisher")
	}
	now := f.clock.Now()
	a, err = f.d.UpdateApplication(f.ctx, UserActor(owner.ID), a.ID, func(x *application.Application) error {
		x.VerifiedPublisher = &application.VerifiedPublisher{VerifiedPublisherID: "forged"}
		x.PublisherDomain = "microsoft.com"
		x.DeletedDateTime = &now
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.VerifiedPublisher != nil || a.PublisherDomain != tn.DefaultDomain() || a.IsDeleted() {
		t.Fatalf("owner changed server-managed fields: %+v %q %v", a.VerifiedPublisher, a.PublisherDomain, a.DeletedDateTime)
	}
	if _, err := f.d.SetVerifiedPublisher(f.ctx, UserActor(owner.ID), a.ID, &application.VerifiedPublisher{VerifiedPublisherID: "1"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("owner verifying itself: %v", err)
	}
	a, err = f.d.SetVerifiedPublisher(f.ctx, System(), a.ID, &application.VerifiedPublisher{VerifiedPublisherID: "1234567", DisplayName: "Contoso"})
	if err != nil || a.VerifiedPublisher == nil || a.VerifiedPublisher.VerifiedPublisherID != "1234567" {
		t.Fatalf("SetVerifiedPublisher = %+v, %v", a.VerifiedPublisher, err)
	}
}

// A disabled administrator loses every power at once.
func TestDisabledAdminIsPowerless(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	admin := f.user(tn.ID, "ga@contoso.onmicrosoft.com", tenant.RoleGlobalAdministrator)
	a := f.app(tn.ID, application.Application{DisplayName: "App"})
	if _, err := f.d.DisableUser(f.ctx, System(), admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.EnableUser(f.ctx, UserActor(admin.ID), admin.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("disabled admin re-enabling itself: %v", err)
	}
	if _, err := f.d.AddPassword(f.ctx, UserActor(admin.ID), a.ID, PasswordSpec{}); !errors.Is(err, ErrForbidden) {
		t.Errorf("disabled admin adding a secret: %v", err)
	}
	if _, err := f.d.CreateUser(f.ctx, UserActor(admin.ID), tn.ID, UserSpec{UserPrincipalName: "x@contoso.onmicrosoft.com"}); !errors.Is(err, ErrForbidden) {
		t.Errorf("disabled admin adding a user: %v", err)
	}
}

// Re-applying a manifest that does not mention an app's certificates or
// federated credentials keeps them.
func TestManifestKeepsCredentials(t *testing.T) {
	f := newFixture(t)
	appID := "0f0e0d0c-0000-4000-8000-00000000b001"
	m := Manifest{Tenants: []ManifestTenant{{ID: "11110000-0000-4000-8000-000000000009", DisplayName: "Contoso",
		Applications: []application.Application{{AppID: appID, DisplayName: "Daemon"}}}}}
	if _, err := f.d.Apply(f.ctx, System(), m); err != nil {
		t.Fatal(err)
	}
	a, err := f.d.ApplicationByAppID(f.ctx, System(), appID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.AddKey(f.ctx, System(), a.ID, KeySpec{DisplayName: "cert", Certificate: testCert(t, f.clock.Now())}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.AddFederatedCredential(f.ctx, System(), a.ID, application.FederatedIdentityCredential{Name: "github-main", Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:o/r:ref:refs/heads/main"}); err != nil {
		t.Fatal(err)
	}
	plan, err := f.d.Plan(f.ctx, System(), m)
	if err != nil || len(plan) != 0 {
		t.Fatalf("plan = %v, %v; want no change", plan, err)
	}
	a, _ = f.d.ApplicationByAppID(f.ctx, System(), appID)
	if len(a.KeyCredentials) != 1 || len(a.FederatedIdentityCredentials) != 1 {
		t.Fatalf("credentials lost: %d keys, %d federated", len(a.KeyCredentials), len(a.FederatedIdentityCredentials))
	}
}

func testCert(t *testing.T, now time.Time) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "t"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Pre-authorization never puts an Admin-type scope into a user's own grant,
// nor any scope where the tenant's policy forbids user consent.
func TestPreAuthorizedAdminScopeNeedsAdmin(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	p := tenant.DefaultPolicy()
	p.SetUserConsent(tenant.UserConsentNone)
	if _, err := f.d.SetAuthorizationPolicy(f.ctx, System(), tn.ID, p); err != nil {
		t.Fatal(err)
	}
	web := f.app(tn.ID, application.Application{DisplayName: "Web", Web: &application.Web{RedirectURIs: []string{"https://web.contoso.com/cb"}}})
	api := apiApp()
	api.API.PreAuthorizedApplications = []application.PreAuthorizedApplication{{AppID: web.AppID, DelegatedPermissionIDs: []string{"aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002"}}}
	apiApp := f.app(tn.ID, api)
	u := f.user(tn.ID, "u@contoso.onmicrosoft.com")
	req := AuthorizeRequest{Tenant: tn.ID, ClientID: web.AppID, RedirectURI: "https://web.contoso.com/cb", ResponseType: "code", UserID: u.ID}
	req.Scope = apiApp.AppID + "/Files.Read"
	if _, err := f.d.Issuer().Authorize(f.ctx, req); !errors.Is(err, &TokenError{Code: 90094}) || !errors.Is(err, consent.ErrUserConsentDisabled) {
		t.Fatalf("pre-authorized User scope with user consent off: err = %v, want consent refused", err)
	}
	req.Scope = apiApp.AppID + "/Files.ReadWrite.All"
	_, err := f.d.Issuer().Authorize(f.ctx, req)
	if !errors.Is(err, &TokenError{Code: 90094}) || !errors.Is(err, consent.ErrUserConsentDisabled) && !errors.Is(err, consent.ErrAdminConsentRequired) {
		t.Fatalf("pre-authorized Admin scope: err = %v, want consent refused", err)
	}
}

// Device codes and authorization codes do not pile up: issuing removes
// codes that expired on earlier days.
func TestExpiredCodesArePurged(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	pub := f.app(tn.ID, application.Application{DisplayName: "CLI", IsFallbackPublicClient: true, PublicClient: &application.RedirectURIs{RedirectURIs: []string{"http://localhost"}}})
	for i := 0; i < 5; i++ {
		if _, err := f.d.Issuer().DeviceCode(f.ctx, DeviceCodeRequest{Tenant: tn.ID, ClientID: pub.AppID, Scope: "openid"}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		var n int
		_ = f.d.Store().View(f.ctx, func(tx store.ReadTx) error {
			all, err := store.Codes.All(tx, "", "")
			n = len(all)
			return err
		})
		return n
	}
	if n := count(); n != 10 {
		t.Fatalf("codes after 5 device authorizations = %d, want 10 (device + user codes)", n)
	}
	f.clock.Advance(3 * 24 * time.Hour)
	if _, err := f.d.Issuer().DeviceCode(f.ctx, DeviceCodeRequest{Tenant: tn.ID, ClientID: pub.AppID, Scope: "openid"}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("codes after expiry = %d, want only the 2 new ones", n)
	}
}

// SignIn answers a disabled account with a wrong password exactly as an
// unknown account.
func TestSignInDoesNotRevealAccounts(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	u, err := f.d.CreateUser(f.ctx, System(), tn.ID, UserSpec{UserPrincipalName: "d@contoso.onmicrosoft.com", Password: "right password"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.DisableUser(f.ctx, System(), u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.Issuer().SignIn(f.ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: u.UserPrincipalName, Password: "wrong password"}); !errors.Is(err, &TokenError{Code: 50126}) {
		t.Errorf("disabled account, wrong password: %v, want 50126", err)
	}
	if _, err := f.d.Issuer().SignIn(f.ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: u.UserPrincipalName, Password: "right password"}); !errors.Is(err, &TokenError{Code: 50057}) {
		t.Errorf("disabled account, right password: %v, want 50057", err)
	}
}

// A refresh token obtained on behalf of a user by a confidential middle
// tier needs the middle tier's credential again, even when the app also
// allows public client flows.
func TestOBORefreshNeedsCredential(t *testing.T) {
	e := newFT(t)
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.app(t, ftOrdersApp).ID, func(a *application.Application) error {
		a.IsFallbackPublicClient = true
		return nil
	}))(t)
	user := e.webSignIn(t, e.alice.ID)
	tr, err := e.obo(ftOrdersApp, user.AccessToken, ftURI(ftDownApp)+"/Files.Read offline_access")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftOrdersApp, RefreshToken: tr.RefreshToken})
	ftWantErr(t, err, 7000218, OAuthInvalidClient)
	if _, err := e.refresh(ftOrdersApp, tr.RefreshToken, ""); err != nil {
		t.Fatalf("with the secret: %v", err)
	}
}

// The keys of a federated issuer are fetched outside the store
// transaction, and only for an issuer one of the client's federated
// credentials names: an assertion claiming any other issuer never makes
// the directory contact it.
func TestFederatedIssuerContactedOnlyWhenTrusted(t *testing.T) {
	calls := 0
	clock := NewManualClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	d, err := New(context.Background(), Config{Now: clock.Now, NewID: SequentialIDs(t.Name()), Tokens: TokenConfig{Algorithm: jose.ES256,
		FederatedKeys: func(ctx context.Context, issuer string) (token.KeySource, error) {
			calls++
			return token.StaticKeySet(), nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), d: d, clock: clock}
	tn := f.tenant("Contoso")
	api := f.app(tn.ID, apiApp())
	app := f.app(tn.ID, application.Application{DisplayName: "Workload"})
	if _, err := d.AddFederatedCredential(f.ctx, System(), app.ID, application.FederatedIdentityCredential{Name: "ci-job", Issuer: "https://issuer.example.com", Subject: "job"}); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	assertion := func(iss string) string {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		claims, _ := json.Marshal(map[string]any{"iss": iss, "sub": "job", "aud": "api://AzureADTokenExchange", "exp": clock.Now().Add(time.Hour).Unix(), "iat": clock.Now().Unix()})
		jws, _ := signer.Sign(claims)
		s, _ := jws.CompactSerialize()
		return s
	}
	req := TokenRequest{GrantType: GrantClientCredentials, Tenant: tn.ID, ClientID: app.AppID, ClientAssertionType: token.ClientAssertionType, Scope: api.AppID + "/.default"}
	req.ClientAssertion = assertion("https://evil.example.com")
	_, err = d.Issuer().Token(f.ctx, req)
	if !errors.Is(err, &TokenError{Code: 700211}) || calls != 0 {
		t.Fatalf("untrusted issuer: err = %v, key fetches = %d; want 700211 and none", err, calls)
	}
	req.ClientAssertion = assertion("https://issuer.example.com")
	_, err = d.Issuer().Token(f.ctx, req)
	if !errors.Is(err, &TokenError{Code: 70021}) || calls != 1 {
		t.Fatalf("trusted issuer, unknown key: err = %v, key fetches = %d; want 70021 and one", err, calls)
	}
}

// A user without an administrator role may own at most MaxObjectsPerUser
// applications through registration.
func TestRegistrationCapForNonAdmins(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	u := f.user(tn.ID, "prolific@contoso.onmicrosoft.com")
	admin := f.user(tn.ID, "admin@contoso.onmicrosoft.com", tenant.RoleApplicationAdministrator)
	for i := 0; i < MaxObjectsPerUser; i++ {
		if _, err := f.d.CreateApplication(f.ctx, UserActor(u.ID), tn.ID, application.Application{DisplayName: "App"}); err != nil {
			t.Fatalf("registration %d: %v", i+1, err)
		}
	}
	if _, err := f.d.CreateApplication(f.ctx, UserActor(u.ID), tn.ID, application.Application{DisplayName: "One too many"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("registration %d: err = %v, want ErrForbidden", MaxObjectsPerUser+1, err)
	}
	if _, err := f.d.CreateApplication(f.ctx, UserActor(admin.ID), tn.ID, application.Application{DisplayName: "Admin's"}); err != nil {
		t.Fatalf("an administrator is not capped: %v", err)
	}
}

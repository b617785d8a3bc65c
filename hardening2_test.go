package tenantry

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

// A federated (workload identity) assertion is bounded by
// AssertionMaxLifetime as a certificate assertion is: a token valid for
// ten years does not authenticate the client.
func TestFederatedAssertionLifetimeBounded(t *testing.T) {
	e := newFT(t)
	ftOK(e.d.AddFederatedCredential(e.ctx, System(), e.apps[ftDaemonApp].ID, application.FederatedIdentityCredential{Name: "github-main", Issuer: ftFedIssuer, Subject: ftFedSubject}))(t)
	long := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*365*24*time.Hour)
	_, err := e.assertionCC(e.conID, ftDaemonApp, long, ftURI(ftOrdersApp)+"/.default")
	ftWantErr(t, err, 700024, OAuthInvalidClient)
	short := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
	ftOK(e.assertionCC(e.conID, ftDaemonApp, short, ftURI(ftOrdersApp)+"/.default"))(t)
}

// The nonce, which the code record keeps, is bounded before anything is
// stored.
func TestAuthorizeNonceBounded(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid")
	req.Nonce = strings.Repeat("n", 1<<20)
	codes, events := len(ftCodes(t, e)), ftAuditCount(t, e)
	_, err := e.d.Issuer().Authorize(e.ctx, req)
	ftWantErr(t, err, 9002313, OAuthInvalidRequest)
	if len(ftCodes(t, e)) != codes || ftAuditCount(t, e) != events {
		t.Fatal("a refused authorization request stored a code or an audit event")
	}
	req.Nonce = strings.Repeat("n", MaxNonceLength)
	ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
}

// A credential's display name is bounded: a 1 MB one is refused with a
// field error and nothing is stored or audited.
func TestCredentialDisplayNameBounded(t *testing.T) {
	e := newFT(t)
	events := ftAuditCount(t, e)
	_, err := e.d.AddPassword(e.ctx, System(), e.apps[ftWebApp].ID, PasswordSpec{DisplayName: strings.Repeat("d", 1<<20)})
	var fe *tenant.FieldError
	if !errors.Is(err, tenant.ErrInvalid) || !errors.As(err, &fe) || !strings.HasSuffix(fe.Field, ".displayName") {
		t.Fatalf("AddPassword with a 1 MB display name: %v, want a field error on displayName", err)
	}
	if ftAuditCount(t, e) != events {
		t.Fatal("a refused AddPassword wrote an audit event")
	}
}

// "fabrikam.com." names Fabrikam's verified domain: not even System may
// give a Contoso user a principal name in it.
func TestUPNTrailingDotDomain(t *testing.T) {
	e := newFT(t)
	for _, upn := range []string{"ceo@fabrikam.com.", "ceo@fabrikam..com", "ceo@-fabrikam.com", "ceo@fabrikam com"} {
		if u, err := e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: upn}); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("CreateUser %q: %+v, %v; want a field error", upn, u.UserPrincipalName, err)
		}
	}
}

// A linked guest's own password does not sign her in while her home
// account is disabled or its sessions revoked.
func TestGuestPasswordSignInFollowsHome(t *testing.T) {
	e := newFT(t)
	g := ftOK(e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "carol_fabrikam.com#EXT#@contoso.onmicrosoft.com", Guest: true, HomeUserID: e.carol.ID, Password: "guest password 123"}))(t)
	signIn := func() error {
		_, err := e.d.Issuer().SignIn(e.ctx, SignInRequest{Tenant: e.conID, UserPrincipalName: g.UserPrincipalName, Password: "guest password 123"})
		return err
	}
	if err := signIn(); err != nil {
		t.Fatalf("guest sign-in: %v", err)
	}
	ftOK(e.d.DisableUser(e.ctx, UserActor(e.fadmin.ID), e.carol.ID))(t)
	ftWantErr(t, signIn(), 50057, OAuthInvalidGrant)
	ftOK(e.d.EnableUser(e.ctx, UserActor(e.fadmin.ID), e.carol.ID))(t)
	e.clock.Advance(time.Second)
	ftOK(e.d.RevokeSignInSessions(e.ctx, UserActor(e.fadmin.ID), e.carol.ID))(t)
	ftWantErr(t, signIn(), 50173, OAuthInvalidGrant)
}

// A deleted API validates no token, not even one minted before.
func TestValidateAccessTokenOfDeletedAPI(t *testing.T) {
	e := newFT(t)
	tr := ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t)
	ftOK(e.d.Issuer().ValidateAccessToken(e.ctx, tr.AccessToken, ftOrdersApp))(t)
	if err := e.d.DeleteApplication(e.ctx, System(), e.apps[ftOrdersApp].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, tr.AccessToken, ftOrdersApp); !errors.Is(err, ErrDeleted) {
		t.Fatalf("token of a deleted API: %v, want ErrDeleted", err)
	}
}

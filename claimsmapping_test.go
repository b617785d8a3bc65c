package tenantry

import (
	"testing"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
)

// setClaimsMapping sets the claims mapping of appID's service principal in
// tenantID as actor.
func setClaimsMapping(t *testing.T, e *ftEnv, actor Actor, appID, tenantID string, mapping map[string]string) {
	t.Helper()
	ftOK(e.d.UpdateServicePrincipal(e.ctx, actor, e.sp(t, appID, tenantID).ID, func(sp *serviceprincipal.ServicePrincipal) error {
		sp.ClaimsMapping = mapping
		return nil
	}))(t)
}

// setAcceptMappedClaims sets api.acceptMappedClaims of appID.
func setAcceptMappedClaims(t *testing.T, e *ftEnv, appID string, accept bool) {
	t.Helper()
	ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[appID].ID, func(a *application.Application) error {
		if a.API == nil {
			a.API = &application.API{}
		}
		a.API.AcceptMappedClaims = accept
		return nil
	}))(t)
}

// A foreign tenant's administrator maps user.mail to claim names that
// relying parties read as a verified address, on a multi-tenant API's
// service principal in her tenant. The API did not set
// api.acceptMappedClaims, so Entra issues no token for it there
// (AADSTS50146): neither a new sign-in nor a refresh of an earlier one.
func TestClaimsMappingWithoutAcceptMappedClaimsIsRefused(t *testing.T) {
	e := newFT(t)
	mallory := ftOK(e.d.CreateUser(e.ctx, UserActor(e.fadmin.ID), e.fabID, UserSpec{UserPrincipalName: "mallory@fabrikam.com", DisplayName: "M", Mail: "ceo@contoso.com"}))(t)
	req := e.authz(ftWebApp, ftWebRedirect, mallory.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	req.Tenant = e.fabID
	before := e.signIn(t, req) // consents, provisions Orders in Fabrikam
	pending := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
	setClaimsMapping(t, e, UserActor(e.fadmin.ID), ftOrdersApp, e.fabID, map[string]string{"verified_primary_email": "user.mail", "mail": "user.mail"})

	// The sign-in is refused at once, as the token endpoint would refuse it.
	_, err := e.d.Issuer().Authorize(e.ctx, req)
	ftWantErr(t, err, 50146, OAuthInvalidRequest)
	// A code issued before the mapping, and a refresh token, are refused
	// at the token endpoint.
	tr, err := e.redeem(req, pending.Code)
	if err == nil {
		c := ftClaims(t, tr.AccessToken)
		t.Fatalf("access token issued for Orders (acceptMappedClaims false) under a foreign tenant's claims mapping: verified_primary_email=%v mail=%v", c["verified_primary_email"], c["mail"])
	}
	ftWantErr(t, err, 50146, OAuthInvalidRequest)
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.fabID, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: before.RefreshToken})
	ftWantErr(t, err, 50146, OAuthInvalidRequest)

	// Without the mapping the API's tokens are issued again.
	setClaimsMapping(t, e, UserActor(e.fadmin.ID), ftOrdersApp, e.fabID, nil)
	c := ftClaims(t, e.signIn(t, req).AccessToken)
	if c["verified_primary_email"] != nil || c["mail"] != nil {
		t.Fatalf("claims of a removed mapping: %v", c)
	}
}

// Client credentials obey the same rule: a claims mapping on the resource's
// service principal refuses app-only tokens for it unless the resource
// accepts mapped claims.
func TestClaimsMappingRefusesClientCredentials(t *testing.T) {
	e := newFT(t)
	orders := ftURI(ftOrdersApp) + "/.default"
	setClaimsMapping(t, e, System(), ftOrdersApp, e.conID, map[string]string{"employee_upn": "user.userprincipalname"})
	_, err := e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], orders)
	ftWantErr(t, err, 50146, OAuthInvalidRequest)
	// Another resource without a mapping is unaffected.
	ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftLegacyURI+"/.default"))(t)
	setAcceptMappedClaims(t, e, ftOrdersApp, true)
	cc := ftClaims(t, ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], orders))(t).AccessToken)
	if _, ok := cc["employee_upn"]; ok {
		t.Fatalf("app-only token carries a user attribute: %v", cc)
	}
}

// With api.acceptMappedClaims the API opted in: the mapping of its service
// principal applies in every tenant (the foreign one included, which is
// why Entra asks the API to opt in), except to email and xms_edov, which
// come from verified domains only.
func TestClaimsMappingAppliesWithAcceptMappedClaims(t *testing.T) {
	e := newFT(t)
	setAcceptMappedClaims(t, e, ftOrdersApp, true)
	setClaimsMapping(t, e, System(), ftOrdersApp, e.conID, map[string]string{"employee_upn": "user.userprincipalname", "email": "user.mail", "xms_edov": "user.mail"})
	c := ftClaims(t, e.webSignIn(t, e.alice.ID).AccessToken)
	if c["employee_upn"] != "alice@contoso.com" || c["email"] != nil || c["xms_edov"] != nil {
		t.Fatalf("mapped claims: employee_upn=%v email=%v xms_edov=%v", c["employee_upn"], c["email"], c["xms_edov"])
	}

	mallory := ftOK(e.d.CreateUser(e.ctx, UserActor(e.fadmin.ID), e.fabID, UserSpec{UserPrincipalName: "mallory@fabrikam.com", DisplayName: "M", Mail: "ceo@contoso.com"}))(t)
	req := e.authz(ftWebApp, ftWebRedirect, mallory.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	req.Tenant = e.fabID
	e.signIn(t, req)
	setClaimsMapping(t, e, UserActor(e.fadmin.ID), ftOrdersApp, e.fabID, map[string]string{"mail": "user.mail"})
	if c := ftClaims(t, e.signIn(t, req).AccessToken); c["mail"] != "ceo@contoso.com" {
		t.Fatalf("mapping of the accepting API's service principal in Fabrikam: mail=%v", c["mail"])
	}
}

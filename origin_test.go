package tenantry

import "testing"

// Only a single-page application's code and refresh token redemptions may
// come from a browser (an Origin): every other client type and grant is
// refused with AADSTS9002326, and the refused code stays unredeemed.
func TestCrossOriginRedemption(t *testing.T) {
	e := newFT(t)
	const origin = "https://spa.contoso.com"
	// A web app's code redeemed from a browser: refused, code kept.
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	ar, err := e.d.Issuer().Authorize(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	redeem := func(req AuthorizeRequest, code, origin string) (*TokenResponse, error) {
		return e.d.Issuer().Token(e.ctx, TokenRequest{
			Tenant: req.Tenant, GrantType: GrantAuthorizationCode, ClientID: req.ClientID, ClientSecret: e.secret[req.ClientID],
			Code: code, RedirectURI: req.RedirectURI, CodeVerifier: ftVerifier, Origin: origin,
		})
	}
	_, err = redeem(req, ar.Code, origin)
	ftWantErr(t, err, 9002326, OAuthInvalidRequest)
	web, err := redeem(req, ar.Code, "")
	if err != nil {
		t.Fatalf("the refused cross-origin redemption consumed the code: %v", err)
	}
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: web.RefreshToken, Origin: origin})
	ftWantErr(t, err, 9002326, OAuthInvalidRequest)
	// A SPA's code and refresh token from its origin: accepted.
	spa := e.authz(ftSPAApp, ftSPARedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	ar, err = e.d.Issuer().Authorize(e.ctx, spa)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := redeem(spa, ar.Code, origin)
	if err != nil {
		t.Fatalf("SPA redemption from its origin: %v", err)
	}
	if _, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftSPAApp, RefreshToken: tr.RefreshToken, Origin: origin}); err != nil {
		t.Fatalf("SPA refresh from its origin: %v", err)
	}
	// Client credentials from a browser: refused before anything is read.
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantClientCredentials, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Scope: ftURI(ftOrdersApp) + "/.default", Origin: origin})
	ftWantErr(t, err, 9002326, OAuthInvalidRequest)
}

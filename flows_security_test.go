package tenantry

import (
	"testing"
)

// A code issued without code_challenge refuses a code_verifier (PKCE
// downgrade, RFC 9700 §2.1.1); the refused redemption leaves the code
// usable without one.
func TestSecurityPKCEDowngradeRefused(t *testing.T) {
	e := newFT(t)
	req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
	req.CodeChallenge, req.CodeChallengeMethod = "", ""
	ar := ftOK(e.d.Authorize(e.ctx, req))(t)
	_, err := e.redeem(req, ar.Code) // sends ftVerifier
	ftWantErr(t, err, 50148, OAuthInvalidGrant)
	if _, err := e.d.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], Code: ar.Code, RedirectURI: ftWebRedirect}); err != nil {
		t.Fatalf("redeeming without a verifier after the refusal: %v", err)
	}
}

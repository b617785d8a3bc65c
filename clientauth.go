package tenantry

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// authenticate checks the client's credentials; fed is the federated
// assertion prepareFederated verified for the request (or nil). public says
// whether the flow admits a public client (no credential).
func (s *tokenService) authenticate(ctx context.Context, app application.Application, t tenant.Tenant, req TokenRequest, fed *federatedResult, now time.Time, public bool) (token.ClientAuth, error) {
	hasSecret, hasAssertion := req.ClientSecret != "", req.ClientAssertion != "" || req.ClientAssertionType != ""
	if public {
		if hasSecret || hasAssertion {
			return 0, tokenErr(OAuthInvalidClient, 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		}
		return token.ClientAuthPublic, nil
	}
	switch {
	case hasAssertion:
		if req.ClientAssertionType != token.ClientAssertionType {
			return 0, tokenErr(OAuthInvalidRequest, 90014, "The required field 'client_assertion_type' is missing or not %s.", token.ClientAssertionType)
		}
		return s.authenticateAssertion(ctx, app, t, req, fed, now)
	case hasSecret:
		for _, p := range app.PasswordCredentials {
			if p.Matches(req.ClientSecret) {
				if !p.ActiveAt(now) {
					return 0, tokenErr(OAuthInvalidClient, 7000222, "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app.", app.AppID)
				}
				return token.ClientAuthSecret, nil
			}
		}
		return 0, tokenErr(OAuthInvalidClient, 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.AppID)
	}
	return 0, tokenErr(OAuthInvalidClient, 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func (s *tokenService) tokenEndpoints(t tenant.Tenant) []string {
	base := s.cfg.Authority.V2Base
	if base == "" {
		base = "https://login.microsoftonline.com"
	}
	names := []string{t.ID}
	for _, d := range t.VerifiedDomains {
		names = append(names, d.Name)
	}
	var out []string
	for _, n := range names {
		out = append(out, base+"/"+n+"/oauth2/v2.0/token", base+"/"+n+"/oauth2/token")
	}
	return out
}

func (s *tokenService) authenticateAssertion(ctx context.Context, app application.Application, t tenant.Tenant, req TokenRequest, fed *federatedResult, now time.Time) (token.ClientAuth, error) {
	ua, err := token.ParseClientAssertion(req.ClientAssertion)
	if err != nil {
		return 0, tokenErr(OAuthInvalidClient, 700027, "Client assertion failed signature validation or is malformed.").with(err)
	}
	// A self-signed assertion (iss = sub = client id) is verified with a
	// registered certificate.
	if ua.Issuer == app.AppID {
		type registered struct {
			cert *x509.Certificate
			cred application.KeyCredential
		}
		var regs []registered
		var list []*x509.Certificate
		for _, k := range app.KeyCredentials {
			if k.Type != application.KeyTypeX509 || k.Usage != application.KeyUsageVerify {
				continue
			}
			c, err := k.Certificate()
			if err != nil {
				continue
			}
			regs = append(regs, registered{c, k})
			list = append(list, c)
		}
		cert, ok := token.MatchCertificate(ua.Header, list)
		if !ok {
			return 0, tokenErr(OAuthInvalidClient, 700027, "Client assertion contains an invalid signature. The key was not found on app '%s'.", app.AppID)
		}
		for _, r := range regs {
			if r.cert == cert && !r.cred.ActiveAt(now) {
				return 0, tokenErr(OAuthInvalidClient, 700027, "Client assertion contains an invalid signature. The key used is expired.")
			}
		}
		_, err := ua.Verify(cert.PublicKey, token.AssertionRules{ClientID: app.AppID, Audiences: s.tokenEndpoints(t), Now: now, MaxLifetime: s.cfg.AssertionMaxLifetime})
		switch {
		case errors.Is(err, token.ErrAssertionTime):
			return 0, tokenErr(OAuthInvalidClient, 700024, "Client assertion is not within its valid time range.").with(err)
		case err != nil:
			return 0, tokenErr(OAuthInvalidClient, 700027, "Client assertion failed signature validation.").with(err)
		}
		return token.ClientAuthCertificate, nil
	}
	return s.authenticateFederated(app, ua, fed)
}

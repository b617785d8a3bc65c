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
			return 0, errPublicClientCredential.new()
		}
		return token.ClientAuthPublic, nil
	}
	switch {
	case hasAssertion:
		if req.ClientAssertionType != token.ClientAssertionType {
			return 0, errAssertionTypeMissing.new(token.ClientAssertionType)
		}
		return s.authenticateAssertion(ctx, app, t, req, fed, now)
	case hasSecret:
		for _, p := range app.PasswordCredentials {
			if p.Matches(req.ClientSecret) {
				if !p.ActiveAt(now) {
					return 0, errSecretExpired.new(app.AppID)
				}
				return token.ClientAuthSecret, nil
			}
		}
		return 0, errInvalidSecret.new(app.AppID)
	}
	return 0, errNoCredential.new()
}

// assertionAudiences are the audiences a client assertion for tenant t may
// name: the tenant's token endpoints (v2 and v1, by id or verified
// domain), as MSAL and Entra's documentation use, and the tenant's v2
// issuer, which generic OpenID Connect clients put there (OpenID Connect
// Core §9 as corrected in 2025 recommends the issuer, closing audience
// injection; Entra's behaviour for it is undocumented). Another tenant's
// endpoints and issuer are refused.
func (s *tokenService) assertionAudiences(t tenant.Tenant) []string {
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
	return append(out, s.cfg.Authority.Issuer(token.Version2, t.ID))
}

func (s *tokenService) authenticateAssertion(ctx context.Context, app application.Application, t tenant.Tenant, req TokenRequest, fed *federatedResult, now time.Time) (token.ClientAuth, error) {
	ua, err := token.ParseClientAssertion(req.ClientAssertion)
	if err != nil {
		return 0, errAssertionMalformed.new().with(err)
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
			return 0, errAssertionKeyNotFound.new(app.AppID)
		}
		for _, r := range regs {
			if r.cert == cert && !r.cred.ActiveAt(now) {
				return 0, errAssertionKeyExpired.new()
			}
		}
		_, err := ua.Verify(cert.PublicKey, token.AssertionRules{ClientID: app.AppID, Audiences: s.assertionAudiences(t), Now: now, MaxLifetime: s.cfg.AssertionMaxLifetime})
		switch {
		case errors.Is(err, token.ErrAssertionTime):
			return 0, errAssertionTimeRange.new().with(err)
		case err != nil:
			return 0, errAssertionSignature.new().with(err)
		}
		return token.ClientAuthCertificate, nil
	}
	return s.authenticateFederated(app, ua, fed)
}

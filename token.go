package tenantry

import (
	"context"
	"strings"

	"github.com/tenantry/tenantry/token"
)

// Grant types accepted by Issuer.Token.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	// GrantPassword is the resource owner password credentials grant
	// (RFC 6749 §4.3), which Entra still serves for work accounts and
	// Microsoft discourages: the client handles the user's password.
	GrantPassword = "password"
)

// TokenRequest is a request to the token endpoint, field for field as the
// form parameters of Entra's /{tenant}/oauth2/v2.0/token.
type TokenRequest struct {
	// Tenant is the authority's tenant segment: a tenant id, a verified
	// domain, "common", "organizations" or "consumers".
	Tenant string
	// EndpointVersion is 1 for /oauth2/token and 2 (or 0) for
	// /oauth2/v2.0/token; it decides the ID token's version.
	EndpointVersion token.Version
	// GrantType is one of the Grant* constants.
	GrantType string
	// ClientID is the client's appId.
	ClientID string
	// ClientSecret, or ClientAssertionType and ClientAssertion,
	// authenticate a confidential client.
	ClientSecret        string
	ClientAssertionType string // client_assertion_type, urn:ietf:params:oauth:client-assertion-type:jwt-bearer
	ClientAssertion     string // client_assertion: a signed JWT
	// Scope is the space-separated scope list.
	Scope string
	// Code, RedirectURI and CodeVerifier redeem an authorization code.
	Code, RedirectURI, CodeVerifier string
	// RefreshToken redeems a refresh token.
	RefreshToken string
	// Assertion and RequestedTokenUse ("on_behalf_of") are the on-behalf-of
	// parameters.
	Assertion, RequestedTokenUse string
	// DeviceCode polls the device code flow.
	DeviceCode string
	// Username and Password are the user's credentials of the password
	// grant; the password is checked as Issuer.SignIn checks it (smart
	// lockout included) and is never stored or logged.
	Username, Password string
	// ClientInfo asks for the client_info field (client_info=1).
	ClientInfo bool
	// Origin is the Origin header of a browser's cross-origin request
	// (a server passes it; empty otherwise). Only a single-page
	// application's code and refresh token redemptions may come from a
	// browser: any other grant or client type is refused with
	// AADSTS9002326, as Entra refuses it.
	Origin string
	// CorrelationID ties the request to the caller's logs (a server passes
	// the client-request-id header); it is recorded in the sign-in log.
	// Empty means a new GUID, returned in TokenResponse.CorrelationID and
	// TokenError.CorrelationID.
	CorrelationID string
}

// TokenResponse is a successful token response.
type TokenResponse struct {
	// TokenType is "Bearer" (token_type).
	TokenType string `json:"token_type"`
	// Scope is the space-separated scopes the access token grants (scope);
	// empty for client credentials.
	Scope string `json:"scope,omitempty"`
	// ExpiresIn is the access token's lifetime in seconds (expires_in):
	// TokenConfig.AccessTokenLifetime.
	ExpiresIn int `json:"expires_in"`
	// ExtExpiresIn is Entra's extended lifetime in seconds (ext_expires_in),
	// equal to ExpiresIn.
	ExtExpiresIn int `json:"ext_expires_in"`
	// AccessToken is the signed access token (access_token).
	AccessToken string `json:"access_token"`
	// RefreshToken is the refresh token (refresh_token), when the grant
	// issues one.
	RefreshToken string `json:"refresh_token,omitempty"`
	// IDToken is the signed ID token (id_token), when the openid scope asked
	// for one.
	IDToken string `json:"id_token,omitempty"`
	// ClientInfo is base64url JSON with the user's object id (uid) and
	// tenant id (utid) (client_info), when TokenRequest.ClientInfo asked for
	// it.
	ClientInfo string `json:"client_info,omitempty"`
	// CorrelationID is the request's correlation id, as recorded in the
	// sign-in log; Entra answers it in a header, not in the body.
	CorrelationID string `json:"-"`
}

// Token runs the grant named by req.GrantType and records the request,
// issued or refused, in the sign-in log (see Directory.SignIns). The
// response and a refusal's *TokenError carry the request's correlation id.
func (d *Issuer) Token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	ctx, rec := d.startSignIn(ctx, req.GrantType, req.Tenant, req.ClientID, req.CorrelationID)
	// A federated assertion is verified before any store transaction; the
	// result goes to the grant with the request.
	fed := d.prepareFederated(ctx, req)
	resp, err := d.grant(ctx, req, fed)
	rec.ev.ClientCredentialType = clientCredentialType(&req, fed, err == nil)
	err = d.endSignIn(ctx, rec, err)
	if resp != nil {
		resp.CorrelationID = rec.ev.CorrelationID
	}
	return resp, err
}

// grant runs the grant named by req.GrantType.
func (d *core) grant(ctx context.Context, req TokenRequest, fed *federatedResult) (*TokenResponse, error) {
	if req.Origin != "" && req.GrantType != GrantAuthorizationCode && req.GrantType != GrantRefreshToken {
		return nil, errCrossOrigin.new()
	}
	switch req.GrantType {
	case GrantClientCredentials:
		return d.clientCredentials(ctx, req, fed)
	case GrantAuthorizationCode:
		return d.redeemCode(ctx, req, fed)
	case GrantRefreshToken:
		return d.refresh(ctx, req, fed)
	case GrantJWTBearer:
		return d.onBehalfOf(ctx, req, fed)
	case GrantDeviceCode:
		return d.pollDeviceCode(ctx, req, fed)
	case GrantPassword:
		return d.passwordGrant(ctx, req, fed)
	case "":
		return nil, errMissingParameter.new("grant_type")
	}
	return nil, errUnsupportedGrantType.new(safe(req.GrantType))
}

// safe trims caller-supplied text for error descriptions.
func safe(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// sign signs claims with the active key (v1 tokens carry x5t).
func (s *tokenService) sign(ctx context.Context, claims any, x5t bool) (string, error) {
	ring, err := s.keyring(ctx)
	if err != nil {
		return "", err
	}
	return ring.Sign(s.cfg.Algorithm, claims, token.SignOptions{X5T: x5t})
}

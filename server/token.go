package server

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/token"
)

// token serves /{tenant}/oauth2/v2.0/token and /{tenant}/oauth2/token:
// every grant, with client_secret_post, client_secret_basic and
// private_key_jwt client authentication.
func (s *Server) token(x *exchange) {
	origin := x.r.Header.Get("Origin")
	if x.r.Method == http.MethodOptions && origin != "" && x.r.Header.Get("Access-Control-Request-Method") != "" {
		s.preflight(x, origin)
		return
	}
	f, err := s.postForm(x, "token")
	if err != nil {
		s.writeError(x, err)
		return
	}
	req, basic, err := s.tokenRequest(x, f)
	if err != nil {
		s.writeError(x, err)
		return
	}
	resp, err := s.iss.Token(x.ctx, req)
	if err != nil {
		te := s.refusal(x, err)
		if basic && te.Status == http.StatusUnauthorized {
			// RFC 6749 §5.2: a client that authenticated with HTTP Basic
			// gets the scheme's challenge; clients using the body get
			// none (some then skip reading the reply).
			x.w.Header().Set("WWW-Authenticate", `Basic realm="`+s.baseStr+`"`)
		}
		s.writeError(x, te)
		return
	}
	x.rec.CorrelationID = resp.CorrelationID
	if origin != "" {
		// Only a single-page application's redemption succeeds from a
		// browser (the Issuer refuses the rest): it may read the answer,
		// never with credentials.
		x.w.Header().Set("Access-Control-Allow-Origin", origin)
		x.w.Header().Set("Vary", "Origin")
	}
	s.writeJSON(x, http.StatusOK, resp, "")
}

// preflight answers a browser's CORS preflight of a token request: POST
// with the headers MSAL.js sends; the POST itself decides.
func (s *Server) preflight(x *exchange, origin string) {
	h := x.headers()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, client-request-id, return-client-request-id, x-client-SKU, x-client-VER, x-client-OS, x-client-CPU, x-client-current-telemetry, x-client-last-telemetry, x-ms-lib-capability")
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Vary", "Origin")
	x.rec.Status = http.StatusNoContent
	x.w.WriteHeader(http.StatusNoContent)
}

// tokenRequest translates the form of a token request; basic reports
// whether the client authenticated with HTTP Basic.
func (s *Server) tokenRequest(x *exchange, f form) (tenantry.TokenRequest, bool, error) {
	req := tenantry.TokenRequest{
		Tenant:              x.tenant,
		EndpointVersion:     token.Version(x.version),
		GrantType:           f.get("grant_type"),
		ClientID:            f.get("client_id"),
		ClientSecret:        f.get("client_secret"),
		ClientAssertionType: f.get("client_assertion_type"),
		ClientAssertion:     f.get("client_assertion"),
		Scope:               f.get("scope"),
		Code:                f.get("code"),
		RedirectURI:         f.get("redirect_uri"),
		CodeVerifier:        f.get("code_verifier"),
		RefreshToken:        f.get("refresh_token"),
		Assertion:           f.get("assertion"),
		RequestedTokenUse:   f.get("requested_token_use"),
		DeviceCode:          f.get("device_code"),
		Username:            f.get("username"),
		Password:            f.get("password"),
		ClientInfo:          f.get("client_info") == "1",
		CorrelationID:       x.rec.CorrelationID,
		Origin:              x.r.Header.Get("Origin"),
	}
	if req.GrantType == "device_code" {
		// Some clients poll with the bare name instead of RFC 8628's URN.
		req.GrantType = tenantry.GrantDeviceCode
	}
	if err := s.resourceParameter(x, f, &req.Scope); err != nil {
		return req, false, err
	}
	basic := false
	if id, secret, ok, err := basicAuth(x.r); err != nil {
		return req, false, err
	} else if ok {
		basic = true
		switch {
		case req.ClientSecret != "" || req.ClientAssertion != "":
			return req, basic, tenantry.Refuse(tenantry.RefuseMalformed, "the client authenticated with more than one method")
		case req.ClientID != "" && req.ClientID != id:
			return req, basic, tenantry.Refuse(tenantry.RefuseMalformed, "client_id differs from the client authenticated with HTTP Basic")
		}
		req.ClientID, req.ClientSecret = id, secret
	}
	return req, basic, nil
}

// resourceParameter applies the v1 resource parameter: the v1 endpoints
// ask for a token for a resource (its scope is "{resource}/.default"); the
// v2 endpoints refuse the parameter (AADSTS901002).
func (s *Server) resourceParameter(x *exchange, f form, scope *string) error {
	resource, ok := f["resource"]
	if !ok {
		return nil
	}
	if x.version != 1 {
		return tenantry.Refuse(tenantry.RefuseResourceParameter, "")
	}
	if resource == "" {
		return tenantry.Refuse(tenantry.RefuseMissingParameter, "resource")
	}
	sc := strings.TrimSuffix(resource, "/") + "/.default"
	// The v1 scope parameter carries only OpenID Connect scopes.
	for _, v := range strings.Fields(*scope) {
		switch v {
		case "openid", "profile", "email", "offline_access":
			sc += " " + v
		}
	}
	*scope = sc
	return nil
}

// basicAuth reads HTTP Basic client authentication (RFC 6749 §2.3.1): the
// client id and secret are form-URL-encoded before they are joined.
func basicAuth(r *http.Request) (id, secret string, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", false, nil
	}
	scheme, cred, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, tenantry.Refuse(tenantry.RefuseMalformed, "the Authorization header of a token request must use the Basic scheme")
	}
	raw, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if derr != nil {
		return "", "", false, tenantry.Refuse(tenantry.RefuseMalformed, "the Basic credentials are not valid base64")
	}
	u, p, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false, tenantry.Refuse(tenantry.RefuseMalformed, "the Basic credentials lack a ':'")
	}
	if id, err = url.QueryUnescape(u); err != nil {
		return "", "", false, tenantry.Refuse(tenantry.RefuseMalformed, "the Basic client id is not form-URL-encoded")
	}
	if secret, err = url.QueryUnescape(p); err != nil {
		return "", "", false, tenantry.Refuse(tenantry.RefuseMalformed, "the Basic client secret is not form-URL-encoded")
	}
	return id, secret, true, nil
}

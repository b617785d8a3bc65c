package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/token"
)

// discoveryCache is the caching Entra's discovery answers carry.
const discoveryCache = "max-age=86400, private"

// discoveryV2 is the v2.0 OpenID Connect discovery document, field for
// field as Entra publishes it.
type discoveryV2 struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

// discoveryV1 is the v1 document: the endpoints without /v2.0, the v1
// issuer and v1's extra fields.
type discoveryV1 struct {
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	Issuer                            string   `json:"issuer"`
	MicrosoftMultiRefreshToken        bool     `json:"microsoft_multi_refresh_token"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"`
	HTTPLogoutSupported               bool     `json:"http_logout_supported"`
	FrontchannelLogoutSupported       bool     `json:"frontchannel_logout_supported"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CheckSessionIframe                string   `json:"check_session_iframe"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	KerberosEndpoint                  string   `json:"kerberos_endpoint"`
	TenantRegionScope                 *string  `json:"tenant_region_scope"`
	CloudInstanceName                 string   `json:"cloud_instance_name"`
	CloudGraphHostName                string   `json:"cloud_graph_host_name"`
	MSGraphHost                       string   `json:"msgraph_host"`
	RBACURL                           string   `json:"rbac_url"`
}

var (
	authMethods     = []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}
	responseModes   = []string{"query", "fragment", "form_post"}
	subjectTypes    = []string{"pairwise"}
	challengeMethod = []string{"S256", "plain"}
	grantTypes      = []string{"authorization_code", "client_credentials", "refresh_token", tenantry.GrantJWTBearer, tenantry.GrantDeviceCode}
	claimsV2        = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"}
	claimsV1        = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email", "given_name", "family_name", "nickname"}
)

// discovery serves the OpenID Connect discovery documents. The issuer
// names the tenant (its GUID, also when the path used a domain), or the
// "{tenantid}" template for common and organizations; the endpoints keep
// the path's tenant segment, as Entra's do.
func (s *Server) discovery(x *exchange) {
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		s.writeError(x, refuseMethod("discovery documents are read with GET"))
		return
	}
	version := token.Version(x.version)
	issuer, err := s.iss.IssuerFor(x.ctx, x.tenant, version)
	if err != nil {
		s.writeError(x, err)
		return
	}
	x.w.Header().Set("Access-Control-Allow-Origin", "*")
	alg := []string{string(s.iss.Algorithm())}
	t := url.PathEscape(x.tenant)
	host := s.base.Host
	if version == 1 {
		base := s.baseStr + "/" + t + "/oauth2/"
		s.writeJSON(x, http.StatusOK, discoveryV1{
			TokenEndpoint: base + "token", TokenEndpointAuthMethodsSupported: authMethods,
			JWKSURI: s.baseStr + "/" + t + "/discovery/keys", ResponseModesSupported: responseModes,
			SubjectTypesSupported: subjectTypes, IDTokenSigningAlgValuesSupported: alg,
			ResponseTypesSupported: []string{"code", "id_token", "code id_token", "token id_token", "token"},
			ScopesSupported:        []string{"openid"}, Issuer: issuer, MicrosoftMultiRefreshToken: true,
			AuthorizationEndpoint: base + "authorize", DeviceAuthorizationEndpoint: base + "devicecode",
			HTTPLogoutSupported: true, FrontchannelLogoutSupported: true, EndSessionEndpoint: base + "logout",
			ClaimsSupported: claimsV1, CheckSessionIframe: base + "checksession",
			UserinfoEndpoint: s.baseStr + "/" + t + "/openid/userinfo", KerberosEndpoint: s.baseStr + "/" + t + "/kerberos",
			TenantRegionScope: regionScope(x.tenant), CloudInstanceName: cloudInstance(host),
			CloudGraphHostName: "graph.windows.net", MSGraphHost: "graph.microsoft.com", RBACURL: "https://pas.windows.net",
		}, discoveryCache)
		return
	}
	base := s.baseStr + "/" + t + "/oauth2/v2.0/"
	s.writeJSON(x, http.StatusOK, discoveryV2{
		TokenEndpoint: base + "token", TokenEndpointAuthMethodsSupported: authMethods,
		JWKSURI: s.baseStr + "/" + t + "/discovery/v2.0/keys", ResponseModesSupported: responseModes,
		SubjectTypesSupported: subjectTypes, IDTokenSigningAlgValuesSupported: alg,
		ResponseTypesSupported: []string{"code", "id_token", "code id_token", "id_token token"},
		ScopesSupported:        []string{"openid", "profile", "email", "offline_access"}, Issuer: issuer,
		UserinfoEndpoint:      "https://graph.microsoft.com/oidc/userinfo",
		AuthorizationEndpoint: base + "authorize", DeviceAuthorizationEndpoint: base + "devicecode",
		HTTPLogoutSupported: true, FrontchannelLogoutSupported: true, EndSessionEndpoint: base + "logout",
		ClaimsSupported: claimsV2, KerberosEndpoint: s.baseStr + "/" + t + "/kerberos",
		CodeChallengeMethodsSupported: challengeMethod, GrantTypesSupported: grantTypes,
		TenantRegionScope: regionScope(x.tenant), CloudInstanceName: cloudInstance(host),
		CloudGraphHostName: "graph.windows.net", MSGraphHost: "graph.microsoft.com", RBACURL: "https://pas.windows.net",
	}, discoveryCache)
}

// regionScope is the tenant_region_scope field: null for the multi-tenant
// segments, "WW" (worldwide) for a tenant.
func regionScope(segment string) *string {
	switch strings.ToLower(segment) {
	case "common", "organizations", "consumers":
		return nil
	}
	ww := "WW"
	return &ww
}

// cloudInstance is the cloud_instance_name field: Entra's public cloud
// when the server stands in for it, else the server's own host.
func cloudInstance(host string) string {
	if strings.EqualFold(host, "login.microsoftonline.com") {
		return "microsoftonline.com"
	}
	return host
}

// keys serves the JSON Web Key Sets.
func (s *Server) keys(x *exchange) {
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		s.writeError(x, refuseMethod("key sets are read with GET"))
		return
	}
	jwks, err := s.iss.JWKS(x.ctx, x.tenant, token.Version(x.version))
	if err != nil {
		s.writeError(x, err)
		return
	}
	h := x.headers()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", discoveryCache)
	h.Set("Access-Control-Allow-Origin", "*")
	x.rec.Status = http.StatusOK
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(jwks)
}

// refuseMethod refuses a method an endpoint does not take.
func refuseMethod(why string) error {
	return tenantry.Refuse(tenantry.RefuseMalformed, why)
}

package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tenantry/tenantry"
)

// instanceMetadata is one cloud in MSAL's instance discovery answer.
type instanceMetadata struct {
	PreferredNetwork string   `json:"preferred_network"`
	PreferredCache   string   `json:"preferred_cache"`
	Aliases          []string `json:"aliases"`
}

type instanceDiscovery struct {
	TenantDiscoveryEndpoint string             `json:"tenant_discovery_endpoint"`
	APIVersion              string             `json:"api-version"`
	Metadata                []instanceMetadata `json:"metadata"`
}

// entraAliases are the hosts of Entra's public cloud, which the server
// answers for when it stands in for login.microsoftonline.com.
var entraAliases = []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"}

// instance serves MSAL's instance discovery
// (/common/discovery/instance?api-version=1.1&authorization_endpoint=…):
// an authority of this server is known (the server is its preferred
// network and the only alias, or Entra's aliases when it stands in for
// login.microsoftonline.com); any other is refused with AADSTS50049.
func (s *Server) instance(x *exchange) {
	f, err := s.queryForm(x)
	if err != nil {
		s.writeError(x, err)
		return
	}
	endpoint := f.get("authorization_endpoint")
	if endpoint == "" {
		s.writeError(x, tenantry.Refuse(tenantry.RefuseMissingParameter, "authorization_endpoint"))
		return
	}
	u, err := url.Parse(endpoint)
	host := s.base.Host
	aliases := []string{host}
	if strings.EqualFold(host, "login.microsoftonline.com") {
		aliases = entraAliases
	}
	known := false
	if err == nil && u.Scheme == s.base.Scheme {
		for _, a := range aliases {
			known = known || strings.EqualFold(u.Host, a)
		}
	}
	if !known {
		s.writeError(x, tenantry.Refuse(tenantry.RefuseUnknownInstance, endpoint))
		return
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if seg == "" {
		seg = "common"
	}
	x.w.Header().Set("Access-Control-Allow-Origin", "*")
	s.writeJSON(x, http.StatusOK, instanceDiscovery{
		TenantDiscoveryEndpoint: s.baseStr + "/" + url.PathEscape(seg) + "/v2.0/.well-known/openid-configuration",
		APIVersion:              "1.1",
		Metadata:                []instanceMetadata{{PreferredNetwork: host, PreferredCache: host, Aliases: aliases}},
	}, discoveryCache)
}

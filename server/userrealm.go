package server

import (
	"net/http"
	"net/url"
	"strings"
)

// userRealm is the answer of Entra's user realm discovery.
type userRealm struct {
	Ver               string `json:"ver"`
	AccountType       string `json:"account_type"`
	DomainName        string `json:"domain_name,omitempty"`
	CloudInstanceName string `json:"cloud_instance_name"`
	CloudAudienceURN  string `json:"cloud_audience_urn"`
}

// userRealm serves /common/UserRealm/{username}, which MSAL asks before a
// password grant: a domain of a tenant here is "Managed" (its users sign
// in with their passwords here), any other "Unknown". It tells whether a
// domain exists, as Entra's does, never whether an account does.
func (s *Server) userRealm(x *exchange, escaped string) {
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		s.writeError(x, refuseMethod("user realm discovery is read with GET"))
		return
	}
	name, err := url.PathUnescape(escaped)
	if err != nil {
		name = escaped
	}
	r := userRealm{Ver: "1.0", AccountType: "Unknown", CloudInstanceName: cloudInstance(s.base.Host), CloudAudienceURN: "urn:federation:MicrosoftOnline"}
	if _, domain, ok := strings.Cut(name, "@"); ok && domain != "" && !strings.ContainsAny(domain, "/@") {
		if _, err := s.iss.IssuerFor(x.ctx, domain, 2); err == nil {
			r.AccountType, r.DomainName = "Managed", strings.ToLower(domain)
		}
	}
	s.writeJSON(x, http.StatusOK, r, "")
}

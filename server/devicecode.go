package server

import (
	"net/http"

	"github.com/tenantry/tenantry"
)

// deviceCode serves /{tenant}/oauth2/v2.0/devicecode and
// /{tenant}/oauth2/devicecode (RFC 8628 §3.1): a public client asks for a
// device code and a user code; the user enters the code on the
// verification page and the client polls the token endpoint.
func (s *Server) deviceCode(x *exchange) {
	f, err := s.postForm(x, "devicecode")
	if err != nil {
		s.writeError(x, err)
		return
	}
	req := tenantry.DeviceCodeRequest{Tenant: x.tenant, ClientID: f.get("client_id"), Scope: f.get("scope"), CorrelationID: x.rec.CorrelationID}
	if err := s.resourceParameter(x, f, &req.Scope); err != nil {
		s.writeError(x, err)
		return
	}
	da, err := s.iss.DeviceCode(x.ctx, req)
	if err != nil {
		s.writeError(x, err)
		return
	}
	x.rec.CorrelationID = da.CorrelationID
	s.writeJSON(x, http.StatusOK, da, "")
}

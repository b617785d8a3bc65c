package server

import (
	"net/http"
	"strconv"

	"github.com/tenantry/tenantry"
)

// errorCode serves /error?code=N, the page the error_uri of every refusal
// points to: what the catalogue says about AADSTS code N.
func (s *Server) errorCode(x *exchange) {
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		s.errorPage(x, tenantry.Refuse(tenantry.RefuseMalformed, "the error page is read with GET"))
		return
	}
	f, err := s.queryForm(x)
	if err != nil {
		s.errorPage(x, err)
		return
	}
	raw := f.get("code")
	if raw == "" {
		s.render(x, http.StatusOK, "errorcode", pageData{Title: "Error code lookup"}, pageOptions{})
		return
	}
	code, err := strconv.Atoi(raw)
	d, ok := tenantry.DescribeCode(code)
	if err != nil || code <= 0 || !ok {
		s.render(x, http.StatusNotFound, "errorcode", pageData{Title: "Unknown error code", Error: "This server has no description of that error code."}, pageOptions{})
		return
	}
	s.render(x, http.StatusOK, "errorcode", pageData{Title: "AADSTS" + strconv.Itoa(code), Code: code, OAuthError: d.Error, Descriptions: d.Descriptions}, pageOptions{})
}

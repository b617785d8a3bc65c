package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tenantry/tenantry"
)

// form is a request's parameters, each given at most once.
type form map[string]string

// get returns the parameter's value ("" when absent).
func (f form) get(name string) string { return f[name] }

// parseValues turns url.Values into a form, refusing a repeated parameter
// (RFC 6749 §3.1, §3.2: "Request and response parameters MUST NOT be
// included more than once").
func parseValues(v url.Values) (form, error) {
	f := make(form, len(v))
	for k, vs := range v {
		if len(vs) > 1 {
			return nil, tenantry.Refuse(tenantry.RefuseDuplicateParameter, k)
		}
		f[k] = vs[0]
	}
	return f, nil
}

// postForm reads the body of a POST as an
// application/x-www-form-urlencoded form, bounded by the server's limit.
// The query string is not read: parameters come from the body only.
func (s *Server) postForm(x *exchange, endpoint string) (form, error) {
	if x.r.Method != http.MethodPost {
		return nil, tenantry.Refuse(tenantry.RefusePostOnly, x.r.Method)
	}
	ct := x.r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, tenantry.Refuse(tenantry.RefuseMalformed, "the "+endpoint+" endpoint takes a body of type application/x-www-form-urlencoded")
	}
	if x.r.ContentLength > s.maxBody {
		return nil, tenantry.Refuse(tenantry.RefuseMalformed, "the request body is larger than "+strconv.FormatInt(s.maxBody, 10)+" bytes")
	}
	body, err := io.ReadAll(http.MaxBytesReader(x.w, x.r.Body, s.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tenantry.Refuse(tenantry.RefuseMalformed, "the request body is larger than "+strconv.FormatInt(s.maxBody, 10)+" bytes")
		}
		return nil, tenantry.Refuse(tenantry.RefuseMalformed, "the request body could not be read")
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, tenantry.Refuse(tenantry.RefuseMalformed, "the request body is not a valid form")
	}
	return parseValues(v)
}

// queryForm reads the query string of a GET (or the body of a POST, for
// endpoints that take both, as authorize does).
func (s *Server) queryForm(x *exchange) (form, error) {
	if x.r.Method == http.MethodPost {
		return s.postForm(x, "authorize")
	}
	if len(x.r.URL.RawQuery) > int(s.maxBody) {
		return nil, tenantry.Refuse(tenantry.RefuseMalformed, "the query string is too long")
	}
	v, err := url.ParseQuery(x.r.URL.RawQuery)
	if err != nil {
		return nil, tenantry.Refuse(tenantry.RefuseMalformed, "the query string is not valid")
	}
	return parseValues(v)
}

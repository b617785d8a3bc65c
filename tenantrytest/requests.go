package tenantrytest

import (
	"bytes"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry/server"
)

// Request records one HTTP request the Server answered, or that an
// injected fault answered or cut short.
type Request struct {
	// Time is when the request arrived, on the Server's clock.
	Time time.Time
	// Method is the HTTP method.
	Method string
	// Endpoint names the endpoint as [server.Record] does: "token",
	// "keys", "discovery", "instance", "devicecode", "authorize", …;
	// "unknown" for a path that is not an endpoint.
	Endpoint string
	// Tenant is the authority's tenant segment as the request gave it.
	Tenant string
	// Status is the HTTP status of the answer; 0 when the connection was
	// reset or the client gave up during an injected delay.
	Status int
	// Error is the OAuth error of a refusal ("" on success).
	Error string
	// Code is the AADSTS code of a refusal (0 on success).
	Code int
	// CorrelationID is the request's correlation id: the client-request-id
	// header when it is a GUID, else one the Server made.
	CorrelationID string
	// Fault names the injected fault that answered or preceded the
	// request ("status", "delay", "reset", "broken-jwks",
	// "jwks-without"); "" when none did.
	Fault string
}

// Requests returns every request the Server has received, in the order
// their answers were completed. A request is recorded before its answer
// leaves the Server, so a client that has its response finds it here.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// LastError returns the last recorded request that was refused (an OAuth
// error or an AADSTS code, injected faults' included), or the zero
// Request when none was.
func (s *Server) LastError() Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.requests) - 1; i >= 0; i-- {
		if r := s.requests[i]; r.Error != "" || r.Code != 0 {
			return r
		}
	}
	return Request{}
}

// record is the server's OnRequest hook.
func (s *Server) record(r server.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fault := s.pending[r.CorrelationID]
	s.requests = append(s.requests, Request{
		Time: r.Time, Method: r.Method, Endpoint: r.Endpoint, Tenant: r.Tenant, Status: r.Status,
		Error: r.Error, Code: r.Code, CorrelationID: r.CorrelationID, Fault: fault,
	})
}

func (s *Server) appendRequest(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// Endpoints are the names [Server.Fail] and [Server.FailNext] take.
var endpoints = map[string]bool{"token": true, "keys": true, "discovery": true, "instance": true, "devicecode": true, "authorize": true}

// classify returns the endpoint and tenant segment of a request path, as
// package server names them.
func classify(path string) (endpoint, tenant string) { return server.Endpoint(path) }

// correlationID returns the request's client-request-id when it is a GUID
// (normalised as the server normalises it), else a new one set on the
// request, so that the server's record of it can be found.
func correlationID(r *http.Request) string {
	if id, err := uuid.Parse(r.Header.Get("client-request-id")); err == nil {
		return id.String()
	}
	id := uuid.NewString()
	r.Header.Set("client-request-id", id)
	return id
}

// buffered holds an answer until the handler is done, so that the record
// of a request is made before the client can read its response.
type buffered struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBuffered() *buffered { return &buffered{header: http.Header{}} }

func (b *buffered) Header() http.Header { return b.header }

func (b *buffered) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *buffered) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// flush writes the held answer to w.
func (b *buffered) flush(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

package tenantrytest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// A Fault is a failure injected at an endpoint to test a client's
// retries and error handling: [Status], [Delay], [Reset], [BrokenJWKS] or
// [JWKSWithout]. Arm one with [Server.Fail] or [Server.FailNext].
type Fault interface {
	// name is the fault's name in Request.Fault.
	name() string
	// keysOnly reports whether the fault applies to the keys endpoint only.
	keysOnly() bool
}

// statusFault answers with an HTTP status and Entra's error JSON.
type statusFault struct{ code int }

// delayFault waits, then lets the request through.
type delayFault struct{ d time.Duration }

// resetFault closes the connection without an answer.
type resetFault struct{}

// brokenJWKS answers the keys endpoint with a document that is not JSON.
type brokenJWKS struct{}

// jwksWithout answers the keys endpoint with its key set minus some keys.
type jwksWithout struct{ kids []string }

func (statusFault) name() string   { return "status" }
func (delayFault) name() string    { return "delay" }
func (resetFault) name() string    { return "reset" }
func (brokenJWKS) name() string    { return "broken-jwks" }
func (jwksWithout) name() string   { return "jwks-without" }
func (statusFault) keysOnly() bool { return false }
func (delayFault) keysOnly() bool  { return false }
func (resetFault) keysOnly() bool  { return false }
func (brokenJWKS) keysOnly() bool  { return true }
func (jwksWithout) keysOnly() bool { return true }

// Status answers with the HTTP status code, which must be 408, 429 or a
// 5xx (the statuses clients retry), and a body in Entra's error JSON:
// temporarily_unavailable for 429, 503 and 504, server_error otherwise,
// with AADSTS90033 ("A transient error has occurred"). Refusals a client
// must not retry come from the model, not from faults.
func Status(code int) Fault { return statusFault{code} }

// Delay holds the request for d of wall-clock time, then serves it. The
// wait ends early, without an answer, when the client gives up (the
// request's context is done) or the test ends.
func Delay(d time.Duration) Fault { return delayFault{d} }

// Reset closes the connection after reading the request, without an
// answer, as a crashed front end does. Go's http.Transport retries an
// idempotent request (a GET) once on a reused connection; arm enough
// faults for that.
func Reset() Fault { return resetFault{} }

// BrokenJWKS answers the keys endpoint with status 200 and a body that is
// not valid JSON.
func BrokenJWKS() Fault { return brokenJWKS{} }

// JWKSWithout answers the keys endpoint with the real key set minus the
// keys with these ids; without ids, minus every key (an empty set), as a
// stale or misconfigured cache does.
func JWKSWithout(kids ...string) Fault { return jwksWithout{kids: kids} }

// armed is a fault waiting at an endpoint: left requests more, or every
// request when left is negative.
type armed struct {
	fault Fault
	left  int
}

// Fail makes every request to endpoint ("token", "keys", "discovery",
// "instance", "devicecode" or "authorize") fail with fault, after the
// faults armed before it with FailNext, until [Server.ClearFaults].
func (s *Server) Fail(endpoint string, fault Fault) {
	s.t.Helper()
	s.arm(endpoint, -1, fault)
}

// FailNext makes the next n requests to endpoint fail with fault. Faults
// armed at one endpoint apply in the order they were armed: FailNext
// ("token", 1, Status(503)) then FailNext("token", 1, Delay(d)) fails the
// next token request, delays the one after, and lets the rest through.
func (s *Server) FailNext(endpoint string, n int, fault Fault) {
	s.t.Helper()
	if n <= 0 {
		s.t.Fatalf("tenantrytest: FailNext(%q, %d): n must be positive", endpoint, n)
	}
	s.arm(endpoint, n, fault)
}

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	clear(s.faults)
	s.mu.Unlock()
}

func (s *Server) arm(endpoint string, n int, fault Fault) {
	s.t.Helper()
	if !endpoints[endpoint] {
		s.t.Fatalf("tenantrytest: unknown endpoint %q (want token, keys, discovery, instance, devicecode or authorize)", endpoint)
	}
	switch f := fault.(type) {
	case nil:
		s.t.Fatalf("tenantrytest: nil Fault for %q", endpoint)
	case statusFault:
		if f.code != http.StatusRequestTimeout && f.code != http.StatusTooManyRequests && (f.code < 500 || f.code > 599) {
			s.t.Fatalf("tenantrytest: Status(%d): want 408, 429 or 5xx", f.code)
		}
	case delayFault:
		if f.d <= 0 {
			s.t.Fatalf("tenantrytest: Delay(%v): want a positive duration", f.d)
		}
	}
	if fault.keysOnly() && endpoint != "keys" {
		s.t.Fatalf("tenantrytest: %s applies to the keys endpoint, not %q", fault.name(), endpoint)
	}
	s.mu.Lock()
	s.faults[endpoint] = append(s.faults[endpoint], &armed{fault: fault, left: n})
	s.mu.Unlock()
}

// take returns the fault for the next request to endpoint, if any.
func (s *Server) take(endpoint string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[endpoint]
	if len(q) == 0 {
		return nil
	}
	a := q[0]
	if a.left > 0 {
		if a.left--; a.left == 0 {
			s.faults[endpoint] = slices.Delete(q, 0, 1)
		}
	}
	return a.fault
}

// middleware applies armed faults and holds every answer until the
// server has recorded it.
func (s *Server) middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		endpoint, tenant := classify(r.URL.Path)
		fault := s.take(endpoint)
		if fault == nil {
			b := newBuffered()
			h.ServeHTTP(b, r)
			b.flush(w)
			return
		}
		rec := Request{Time: s.clock.Now(), Method: r.Method, Endpoint: endpoint, Tenant: tenant, Fault: fault.name()}
		switch f := fault.(type) {
		case statusFault:
			rec.CorrelationID = correlationID(r)
			s.writeFault(w, f.code, &rec)
		case resetFault:
			rec.CorrelationID = correlationID(r)
			s.appendRequest(rec)
			reset(w)
		case brokenJWKS:
			rec.CorrelationID = correlationID(r)
			rec.Status = http.StatusOK
			s.appendRequest(rec)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(`{"keys":[{"kty":"RSA","use":"sig","kid":`))
		case delayFault:
			if !s.wait(r.Context(), f.d) {
				rec.CorrelationID = correlationID(r)
				s.appendRequest(rec)
				return
			}
			s.serveMarked(w, r, h, fault, nil)
		case jwksWithout:
			s.serveMarked(w, r, h, fault, func(b *buffered) { dropKeys(b, f.kids) })
		}
	})
}

// serveMarked serves the request, its record marked with the fault, and
// lets edit change the answer first.
func (s *Server) serveMarked(w http.ResponseWriter, r *http.Request, h http.Handler, fault Fault, edit func(*buffered)) {
	id := correlationID(r)
	s.mu.Lock()
	s.pending[id] = fault.name()
	s.mu.Unlock()
	b := newBuffered()
	h.ServeHTTP(b, r)
	s.mu.Lock()
	delete(s.pending, id)
	s.mu.Unlock()
	if edit != nil {
		edit(b)
	}
	b.flush(w)
}

// wait sleeps for d, reporting false when ctx or the test ended first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closing:
	}
	return false
}

// writeFault answers status in Entra's error JSON.
func (s *Server) writeFault(w http.ResponseWriter, status int, rec *Request) {
	oauth := "server_error"
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		oauth = "temporarily_unavailable"
	}
	const code = 90033
	now := s.clock.Now().UTC()
	trace := uuid.NewString()
	stamp := now.Format("2006-01-02 15:04:05Z")
	body, _ := json.Marshal(map[string]any{
		"error": oauth,
		"error_description": fmt.Sprintf("AADSTS%d: A transient error has occurred. Please try again.\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			code, trace, rec.CorrelationID, stamp),
		"error_codes": []int{code}, "timestamp": stamp, "trace_id": trace,
		"correlation_id": rec.CorrelationID, "error_uri": s.base + "/error?code=" + strconv.Itoa(code),
	})
	rec.Status, rec.Error, rec.Code = status, oauth, code
	s.appendRequest(*rec)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("x-ms-request-id", rec.CorrelationID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// reset closes the client's connection without an answer.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// dropKeys removes the keys with the given ids (every key without ids)
// from a JWKS answer.
func dropKeys(b *buffered, kids []string) {
	if b.status != http.StatusOK {
		return
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b.body.Bytes(), &doc); err != nil {
		return
	}
	kept := []json.RawMessage{}
	for _, k := range doc.Keys {
		var id struct {
			Kid string `json:"kid"`
		}
		_ = json.Unmarshal(k, &id)
		if len(kids) > 0 && !slices.Contains(kids, id.Kid) {
			kept = append(kept, k)
		}
	}
	out, err := json.Marshal(map[string]any{"keys": kept})
	if err != nil {
		return
	}
	b.body.Reset()
	b.body.Write(out)
	b.header.Set("Content-Length", strconv.Itoa(len(out)))
}

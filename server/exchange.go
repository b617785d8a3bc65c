package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry"
)

// exchange is one request and its answer.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	ctx     context.Context
	tenant  string // the authority's tenant segment, as given
	version int    // the endpoint's version, where it has one
	rec     Record
	// echoCorrelation answers the correlation id in the client-request-id
	// header (the client sent return-client-request-id: true).
	echoCorrelation bool
	// csrfSeed is the anti-forgery cookie set during this exchange.
	csrfSeed string
}

func (s *Server) newExchange(w http.ResponseWriter, r *http.Request) *exchange {
	x := &exchange{w: w, r: r, ctx: r.Context()}
	x.rec.Time = s.now()
	x.rec.Method = r.Method
	// The client's correlation id is echoed only when it is a GUID, so
	// that nothing a caller chooses reaches logs or replies unchecked.
	if id, err := uuid.Parse(r.Header.Get("client-request-id")); err == nil {
		x.rec.CorrelationID = id.String()
	} else {
		x.rec.CorrelationID = uuid.NewString()
	}
	x.echoCorrelation = r.Header.Get("return-client-request-id") == "true"
	return x
}

// finish logs the exchange and hands it to the observer.
func (s *Server) finish(x *exchange) {
	x.rec.Duration = time.Since(x.rec.Time)
	if x.rec.Status == 0 {
		x.rec.Status = http.StatusOK
	}
	level := slog.LevelInfo
	if x.rec.Status >= 500 {
		level = slog.LevelError
	}
	if s.log.Enabled(x.ctx, level) {
		s.log.LogAttrs(x.ctx, level, "request",
			slog.String("method", x.rec.Method), slog.String("endpoint", x.rec.Endpoint),
			slog.String("tenant", x.rec.Tenant), slog.Int("status", x.rec.Status),
			slog.String("correlation_id", x.rec.CorrelationID), slog.String("error", x.rec.Error),
			slog.Int("aadsts", x.rec.Code), slog.Duration("duration", x.rec.Duration))
	}
	if s.observe != nil {
		s.observe(x.rec)
	}
}

// headers sets the headers every answer carries.
func (x *exchange) headers() http.Header {
	h := x.w.Header()
	h.Set("x-ms-request-id", x.rec.CorrelationID)
	if x.echoCorrelation {
		h.Set("client-request-id", x.rec.CorrelationID)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	return h
}

// writeJSON answers v as JSON with status.
func (s *Server) writeJSON(x *exchange, status int, v any, cache string) {
	body, err := json.Marshal(v)
	if err != nil {
		s.writeError(x, tenantry.AsTokenError(err))
		return
	}
	h := x.headers()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if cache == "" {
		h.Set("Cache-Control", "no-store, no-cache")
		h.Set("Pragma", "no-cache")
	} else {
		h.Set("Cache-Control", cache)
	}
	x.rec.Status = status
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
}

// errorBody is Entra's error reply.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri,omitempty"`
	SubError         string `json:"suberror,omitempty"`
}

// refusal returns err as a *TokenError completed for the reply: trace and
// correlation ids, timestamp and error page. An error that is not a
// refusal becomes server_error (and is logged, without detail reaching the
// caller).
func (s *Server) refusal(x *exchange, err error) *tenantry.TokenError {
	var te *tenantry.TokenError
	if !errors.As(err, &te) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			te = tenantry.Refuse(tenantry.RefuseMalformed, "the request was cancelled")
		} else {
			s.log.LogAttrs(x.ctx, slog.LevelError, "internal error", slog.String("endpoint", x.rec.Endpoint),
				slog.String("correlation_id", x.rec.CorrelationID), slog.String("err", err.Error()))
			te = tenantry.AsTokenError(err)
		}
	}
	out := *te
	if out.TraceID != "" {
		// Already completed for this reply (the library leaves TraceID
		// empty): keep its ids and timestamp.
		return &out
	}
	out.TraceID = uuid.NewString()
	if out.CorrelationID == "" {
		out.CorrelationID = x.rec.CorrelationID
	}
	x.rec.CorrelationID = out.CorrelationID
	out.Timestamp = s.now().UTC()
	if out.Status == 0 {
		out.Status = http.StatusBadRequest
	}
	return &out
}

// writeError answers err in Entra's error JSON.
func (s *Server) writeError(x *exchange, err error) {
	te := s.refusal(x, err)
	x.rec.Error, x.rec.Code = te.ErrorCode, te.Code
	body := errorBody{
		Error: te.ErrorCode, ErrorDescription: te.ResponseDescription(), ErrorCodes: []int{te.Code},
		Timestamp: te.Timestamp.Format("2006-01-02 15:04:05Z"), TraceID: te.TraceID,
		CorrelationID: te.CorrelationID, SubError: te.SubError,
		ErrorURI: s.baseStr + "/error?code=" + strconv.Itoa(te.Code),
	}
	s.writeJSON(x, te.Status, body, "")
}

package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/tenantry/tenantry/server"
)

// newLogger returns a logger writing text or JSON records to w.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// requestLogger logs one record per request the server answered. A
// server.Record holds no query string, form value, secret, code or token:
// only what is logged here.
func requestLogger(logger *slog.Logger) func(server.Record) {
	return func(r server.Record) {
		level := slog.LevelInfo
		if r.Status >= 500 {
			level = slog.LevelError
		}
		logger.LogAttrs(context.Background(), level, "request",
			slog.String("correlation_id", r.CorrelationID),
			slog.String("method", r.Method),
			slog.String("endpoint", r.Endpoint),
			slog.String("tenant", r.Tenant),
			slog.Int("status", r.Status),
			slog.String("outcome", outcome(r)),
			slog.String("error", r.Error),
			slog.Int("aadsts", r.Code),
			slog.Duration("duration", r.Duration))
	}
}

// outcome summarises a request: success, refused (a caller error, 4xx) or
// failed (a server error, 5xx).
func outcome(r server.Record) string {
	switch {
	case r.Status >= 500:
		return "failed"
	case r.Status >= 400 || r.Error != "":
		return "refused"
	}
	return "success"
}

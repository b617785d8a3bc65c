package token

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// MiddlewareConfig tunes [Validator.Authenticate]. The zero value gives the
// challenges of an Entra-protected API: `Bearer realm=""`.
type MiddlewareConfig struct {
	// Realm is the realm of the WWW-Authenticate challenges; Entra-protected
	// APIs send an empty realm.
	Realm string
	// AuthorizationURI, when set, is added to challenges as
	// authorization_uri, as Microsoft Graph does
	// ("https://login.microsoftonline.com/common/oauth2/authorize"), so that
	// clients can discover where to obtain a token.
	AuthorizationURI string
	// Logger, when set, receives one record per rejected request: the
	// validation error at Debug level, key-source failures at Warn level. The
	// token itself is never logged.
	Logger *slog.Logger
}

// Middleware is [Validator.Authenticate] with the zero [MiddlewareConfig].
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return v.Authenticate(MiddlewareConfig{})(next)
}

// Authenticate returns net/http middleware that validates the bearer token in
// the Authorization header (RFC 6750 §2.1; query and form tokens are not
// accepted) and serves next with the [Principal] in the request context
// ([FromContext]). It answers, with an empty body:
//
//   - no Authorization header, or another scheme: 401 with a bare challenge,
//     `WWW-Authenticate: Bearer realm=""` (RFC 6750 §3.1: no error code);
//   - several Authorization headers or an empty token: 400, error="invalid_request";
//   - an invalid token: 401, `Bearer realm="", error="invalid_token",
//     error_description="…"`, where the description is a fixed text per
//     validation error and never echoes the token.
func (v *Validator) Authenticate(cfg MiddlewareConfig) func(http.Handler) http.Handler {
	c := &challenger{realm: cfg.Realm, authzURI: cfg.AuthorizationURI}
	log := cfg.Logger
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, status := bearerToken(r)
			switch status {
			case http.StatusUnauthorized:
				c.write(w, http.StatusUnauthorized, "", "", "")
				return
			case http.StatusBadRequest:
				c.write(w, http.StatusBadRequest, "invalid_request", "The Authorization header is malformed", "")
				return
			}
			p, err := v.Validate(r.Context(), raw)
			if err != nil {
				desc, known := describeError(err)
				if log != nil {
					level := slog.LevelDebug
					if !known {
						level = slog.LevelWarn
					}
					log.LogAttrs(r.Context(), level, "token: bearer token rejected",
						slog.String("error", err.Error()), slog.String("path", r.URL.Path))
				}
				c.write(w, http.StatusUnauthorized, "invalid_token", desc, "")
				return
			}
			ctx := context.WithValue(r.Context(), principalKey{}, &authContext{p: p, c: c})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// RequireScope returns middleware that lets a request through when its
// [Principal] has at least one of scopes (delegated permissions, like
// Microsoft.Identity.Web's RequiredScope), and otherwise answers 403 with
// `Bearer realm="", error="insufficient_scope", error_description="…",
// scope="…"`. App-only tokens carry no scopes; see [RequireScopeOrRole].
// Without a principal (no [Validator.Authenticate] in front) it answers 401.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	return requirePrincipal(func(p *Principal) bool { return p.HasAnyScope(scopes...) },
		"The token lacks the required scope", strings.Join(scopes, " "))
}

// RequireRole returns middleware that lets a request through when its
// [Principal] has the app role, and otherwise answers 403 with
// error="insufficient_scope" (or 401 without a principal).
func RequireRole(role string) func(http.Handler) http.Handler {
	return RequireAnyRole(role)
}

// RequireAnyRole returns middleware that lets a request through when its
// [Principal] has at least one of roles, and otherwise answers 403 with
// error="insufficient_scope" (or 401 without a principal).
func RequireAnyRole(roles ...string) func(http.Handler) http.Handler {
	return requirePrincipal(func(p *Principal) bool { return p.HasAnyRole(roles...) },
		"The token lacks the required role", "")
}

// RequireScopeOrRole accepts a delegated token with one of scopes or any token
// with one of roles — the usual rule for an API called both by users
// (scopes) and by daemons (application permissions, i.e. roles). Failures are
// answered as by [RequireScope].
func RequireScopeOrRole(scopes, roles []string) func(http.Handler) http.Handler {
	return requirePrincipal(func(p *Principal) bool { return p.HasAnyScope(scopes...) || p.HasAnyRole(roles...) },
		"The token lacks the required scope or role", strings.Join(scopes, " "))
}

func requirePrincipal(ok func(*Principal) bool, desc, scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ac, _ := r.Context().Value(principalKey{}).(*authContext)
			c := defaultChallenger
			if ac != nil && ac.c != nil {
				c = ac.c
			}
			if ac == nil || ac.p == nil {
				c.write(w, http.StatusUnauthorized, "", "", "")
				return
			}
			if !ok(ac.p) {
				c.write(w, http.StatusForbidden, "insufficient_scope", desc, scope)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bearerToken extracts the token from the Authorization header. The status is
// 0 on success, 401 when there is no bearer credential, 400 when the header
// is malformed.
func bearerToken(r *http.Request) (string, int) {
	vals := r.Header.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", http.StatusUnauthorized
	case 1:
	default:
		return "", http.StatusBadRequest
	}
	scheme, rest, _ := strings.Cut(vals[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", http.StatusUnauthorized
	}
	tok := strings.Trim(rest, " \t")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", http.StatusBadRequest
	}
	return tok, 0
}

// describeError maps a validation error to a fixed error_description; known is
// false for failures outside the token (key source unavailable).
func describeError(err error) (desc string, known bool) {
	for _, d := range errorDescriptions {
		if errors.Is(err, d.err) {
			return d.desc, true
		}
	}
	return "The token could not be validated", false
}

var errorDescriptions = []struct {
	err  error
	desc string
}{
	{ErrMalformed, "The token is malformed"},
	{ErrAlgorithm, "The token signature algorithm is not accepted"},
	{ErrUnknownKey, "The token signing key is unknown"},
	{ErrSignature, "The token signature is invalid"},
	{ErrExpired, "The token is expired"},
	{ErrNotYetValid, "The token is not yet valid"},
	{ErrIssuer, "The token issuer is not accepted"},
	{ErrTenant, "The token tenant is not accepted"},
	{ErrAudience, "The token audience is not accepted"},
	{ErrVersion, "The token version is not accepted"},
}

// authContext is what Authenticate stores in the request context.
type authContext struct {
	p *Principal
	c *challenger
}

// challenger writes RFC 6750 §3 challenges.
type challenger struct{ realm, authzURI string }

var defaultChallenger = &challenger{}

// write sends status with a WWW-Authenticate challenge; errCode "" gives a
// bare challenge.
func (c *challenger) write(w http.ResponseWriter, status int, errCode, desc, scope string) {
	var b strings.Builder
	b.WriteString("Bearer realm=")
	quoteChallenge(&b, c.realm)
	if c.authzURI != "" {
		b.WriteString(", authorization_uri=")
		quoteChallenge(&b, c.authzURI)
	}
	if errCode != "" {
		b.WriteString(", error=")
		quoteChallenge(&b, errCode)
		if desc != "" {
			b.WriteString(", error_description=")
			quoteChallenge(&b, desc)
		}
		if scope != "" {
			b.WriteString(", scope=")
			quoteChallenge(&b, scope)
		}
	}
	h := w.Header()
	h.Set("WWW-Authenticate", b.String())
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

// quoteChallenge writes s as an RFC 9110 quoted-string, dropping control characters.
func quoteChallenge(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

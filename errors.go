package tenantry

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// TokenError is an error of the token service, shaped like Entra's: the
// OAuth error value (RFC 6749 §5.2), the AADSTS code, a description, an
// optional suberror and the HTTP status an endpoint answers with. Match a
// specific code with errors.Is(err, &TokenError{Code: 7000215}) or inspect
// it with errors.As. Descriptions never contain secrets or tokens.
type TokenError struct {
	// OAuth is the OAuth error value, e.g. "invalid_client".
	OAuth string
	// Code is the AADSTS number, e.g. 7000215.
	Code int
	// Description explains the error in Entra's words.
	Description string
	// SubError refines the error (e.g. "consent_required", "bad_token").
	SubError string
	// Status is the HTTP status: 401 for invalid_client, else 400.
	Status int
	// Err is the underlying cause, if any.
	Err error
	// CorrelationID is the correlation id of the refused request, as
	// recorded in the sign-in log.
	CorrelationID string
}

// Error implements error: "tenantry: {oauth}: AADSTS{code}: {description}".
func (e *TokenError) Error() string {
	return fmt.Sprintf("tenantry: %s: AADSTS%d: %s", e.OAuth, e.Code, e.Description)
}

// Unwrap returns the cause.
func (e *TokenError) Unwrap() error { return e.Err }

// Is matches another *TokenError with the same AADSTS code (and the same
// OAuth value when the target sets one).
func (e *TokenError) Is(target error) bool {
	t, ok := target.(*TokenError)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.OAuth == "" || t.OAuth == e.OAuth)
}

// OAuth error values.
const (
	OAuthInvalidRequest        = "invalid_request"
	OAuthInvalidClient         = "invalid_client"
	OAuthInvalidGrant          = "invalid_grant"
	OAuthUnauthorizedClient    = "unauthorized_client"
	OAuthUnsupportedGrantType  = "unsupported_grant_type"
	OAuthInvalidScope          = "invalid_scope"
	OAuthInvalidResource       = "invalid_resource"
	OAuthConsentRequired       = "consent_required"
	OAuthInteractionRequired   = "interaction_required"
	OAuthAccessDenied          = "access_denied"
	OAuthAuthorizationPending  = "authorization_pending"
	OAuthAuthorizationDeclined = "authorization_declined"
	OAuthBadVerificationCode   = "bad_verification_code"
	OAuthExpiredToken          = "expired_token"
	OAuthInvalidTenant         = "invalid_tenant"
	OAuthServerError           = "server_error"
)

func tokenErr(oauth string, code int, format string, args ...any) *TokenError {
	status := http.StatusBadRequest
	if oauth == OAuthInvalidClient {
		status = http.StatusUnauthorized
	}
	return &TokenError{OAuth: oauth, Code: code, Description: capDescription(fmt.Sprintf(format, args...)), Status: status}
}

// maxDescription bounds an error description, so that no caller input
// (a long scope list, say) is echoed at length.
const maxDescription = 1024

func capDescription(s string) string {
	if len(s) <= maxDescription {
		return s
	}
	cut := maxDescription
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// listForError joins at most a few values for an error description, noting
// how many were left out.
func listForError(values []string) string {
	const show = 10
	n := min(len(values), show)
	shown := make([]string, n)
	for i, v := range values[:n] {
		shown[i] = safe(v)
	}
	if len(values) <= show {
		return strings.Join(shown, " ")
	}
	return fmt.Sprintf("%s (and %d more)", strings.Join(shown, " "), len(values)-show)
}

func (e *TokenError) with(cause error) *TokenError { e.Err = cause; return e }

func (e *TokenError) sub(s string) *TokenError { e.SubError = s; return e }

// AsTokenError returns err as a *TokenError, wrapping any other error as a
// server_error.
func AsTokenError(err error) *TokenError {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	return &TokenError{OAuth: OAuthServerError, Code: 90000, Description: "internal error", Status: http.StatusInternalServerError, Err: err}
}

package tenantry

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenantry/tenantry/tenant"
)

// Errors of Directory operations, besides the store's (store.ErrNotFound,
// store.ErrAlreadyExists, store.ErrConflict), validation errors
// (tenant.ErrInvalid) and consent errors (package consent).
var (
	// ErrForbidden: the actor may not perform the operation. It is
	// tenant.ErrForbidden, so both names match.
	ErrForbidden = tenant.ErrForbidden
	// ErrAudience: the application's sign-in audience does not admit the
	// tenant.
	ErrAudience = errors.New("tenantry: the application's sign-in audience does not admit this tenant")
	// ErrDeleted: the object is soft-deleted.
	ErrDeleted = errors.New("tenantry: object is deleted")
	// ErrNotDeleted: restore or purge of an object that is not deleted.
	ErrNotDeleted = errors.New("tenantry: object is not deleted")
	// ErrRestoreExpired: the 30-day restore window has passed.
	ErrRestoreExpired = errors.New("tenantry: restore window of 30 days has passed")
	// ErrInvalidRequest: an argument is missing or malformed.
	ErrInvalidRequest = errors.New("tenantry: invalid request")
)

// TokenError is a refusal of the token service, shaped like Entra's error
// response and named as golang.org/x/oauth2's RetrieveError names its
// fields: ErrorCode is the OAuth error value (RFC 6749 §5.2), ErrorDescription
// the message, ErrorURI a page about the error. Code is the AADSTS number,
// the field to match on: errors.Is(err, ErrInvalidClientSecret) or
// errors.Is(err, &TokenError{Code: 7000215}) (see [TokenError.Is]); inspect
// the rest with errors.As. Descriptions are bounded and never contain a
// secret, a code or a token.
//
// TraceID, CorrelationID and Timestamp are empty when the error leaves the
// library; an HTTP server fills them for the response, whose
// error_description [TokenError.ResponseDescription] writes as Entra does.
type TokenError struct {
	// ErrorCode is the OAuth error value, e.g. "invalid_client".
	ErrorCode string
	// ErrorDescription is the message in Entra's words, without the
	// "AADSTSnnnn: " prefix and the trace lines Entra appends.
	ErrorDescription string
	// ErrorURI is a page describing the error (RFC 6749 §5.2 error_uri);
	// empty unless a server sets it.
	ErrorURI string
	// Code is the AADSTS number, e.g. 7000215 (Entra's error_codes).
	Code int
	// SubError refines the error (e.g. "consent_required", "bad_token").
	SubError string
	// Status is the HTTP status of the token endpoint's answer: 401 for
	// invalid_client, 500 for server_error, else 400.
	Status int
	// TraceID identifies the request in the server's logs (Entra's trace_id).
	TraceID string
	// CorrelationID is the client's correlation id (client-request-id),
	// echoed as Entra's correlation_id; the Issuer sets it to the refused
	// request's id in the sign-in log.
	CorrelationID string
	// Timestamp is when the server answered.
	Timestamp time.Time
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error: "tenantry: {error}: AADSTS{code}: {description}".
func (e *TokenError) Error() string {
	if e.ErrorCode == "" {
		return fmt.Sprintf("tenantry: AADSTS%d: %s", e.Code, e.ErrorDescription)
	}
	return fmt.Sprintf("tenantry: %s: AADSTS%d: %s", e.ErrorCode, e.Code, e.ErrorDescription)
}

// ResponseDescription returns the error_description as Entra writes it:
// "AADSTS{code}: {description}" followed, for the fields that are set, by
// "\r\nTrace ID: …", "\r\nCorrelation ID: …" and "\r\nTimestamp:
// YYYY-MM-DD HH:MM:SSZ".
func (e *TokenError) ResponseDescription() string {
	var b strings.Builder
	fmt.Fprintf(&b, "AADSTS%d: %s", e.Code, e.ErrorDescription)
	if e.TraceID != "" {
		b.WriteString("\r\nTrace ID: " + e.TraceID)
	}
	if e.CorrelationID != "" {
		b.WriteString("\r\nCorrelation ID: " + e.CorrelationID)
	}
	if !e.Timestamp.IsZero() {
		b.WriteString("\r\nTimestamp: " + e.Timestamp.UTC().Format("2006-01-02 15:04:05Z"))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *TokenError) Unwrap() error { return e.Err }

// Is matches another *TokenError with the same AADSTS code (and the same
// OAuth error when the target sets ErrorCode), so the sentinels below and
// &TokenError{Code: n} match every refusal with that code.
func (e *TokenError) Is(target error) bool {
	t, ok := target.(*TokenError)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.ErrorCode == "" || t.ErrorCode == e.ErrorCode)
}

// OAuth error values.
const (
	OAuthInvalidRequest          = "invalid_request"
	OAuthInvalidClient           = "invalid_client"
	OAuthInvalidGrant            = "invalid_grant"
	OAuthUnauthorizedClient      = "unauthorized_client"
	OAuthUnsupportedGrantType    = "unsupported_grant_type"
	OAuthUnsupportedResponseType = "unsupported_response_type"
	OAuthInvalidScope            = "invalid_scope"
	OAuthInvalidResource         = "invalid_resource"
	OAuthConsentRequired         = "consent_required"
	OAuthInteractionRequired     = "interaction_required"
	OAuthAccessDenied            = "access_denied"
	OAuthAuthorizationPending    = "authorization_pending"
	OAuthAuthorizationDeclined   = "authorization_declined"
	OAuthBadVerificationCode     = "bad_verification_code"
	OAuthExpiredToken            = "expired_token"
	OAuthInvalidTenant           = "invalid_tenant"
	OAuthInvalidInstance         = "invalid_instance"
	OAuthLoginRequired           = "login_required"
	OAuthServerError             = "server_error"
)

// Sentinels for the refusals callers most often tell apart. Each matches,
// with errors.Is, every *TokenError carrying its AADSTS code, whatever the
// OAuth error and wording of the situation (see the catalogue in
// catalogue.go for all of them).
var (
	// ErrInvalidClientSecret: the client secret is wrong (AADSTS7000215).
	ErrInvalidClientSecret = sentinel(7000215, "invalid client secret")
	// ErrClientSecretExpired: the client secret has expired (AADSTS7000222).
	ErrClientSecretExpired = sentinel(7000222, "client secret expired")
	// ErrNoClientCredential: a confidential client sent neither a secret
	// nor an assertion (AADSTS7000218).
	ErrNoClientCredential = sentinel(7000218, "no client credential")
	// ErrInvalidClientAssertion: the client assertion's signature or key is
	// not valid (AADSTS700027).
	ErrInvalidClientAssertion = sentinel(700027, "invalid client assertion")
	// ErrNoServicePrincipal: the client application has no service
	// principal in the tenant (AADSTS7000229).
	ErrNoServicePrincipal = sentinel(7000229, "client has no service principal in the tenant")
	// ErrApplicationNotFound: the client application is not found, or
	// its sign-in audience does not admit the tenant (AADSTS700016).
	ErrApplicationNotFound = sentinel(700016, "application not found in the directory")
	// ErrApplicationDisabled: a service principal of the client or the
	// resource is disabled (AADSTS7000112).
	ErrApplicationDisabled = sentinel(7000112, "application disabled")
	// ErrResourceNotFound: the resource has no usable service principal in
	// the tenant (AADSTS500011).
	ErrResourceNotFound = sentinel(500011, "resource principal not found in the tenant")
	// ErrClientNotAssigned: the client is not assigned an app role where
	// the resource requires one (AADSTS501051).
	ErrClientNotAssigned = sentinel(501051, "client not assigned to a role of the resource")
	// ErrUserNotAssigned: the user is not assigned where the application
	// requires it (AADSTS50105).
	ErrUserNotAssigned = sentinel(50105, "user not assigned to a role of the application")
	// ErrConsentRequired: consent is missing (AADSTS65001; invalid_grant at
	// the token endpoint, interaction_required for prompt=none,
	// consent_required when Authorize cannot record it).
	ErrConsentRequired = sentinel(65001, "consent required")
	// ErrAdminConsentRequired: the tenant's policy does not let the user
	// give the consent asked for; an administrator must (AADSTS90094).
	ErrAdminConsentRequired = sentinel(90094, "admin consent required")
	// ErrInvalidScope: the scope parameter is not valid (AADSTS70011).
	ErrInvalidScope = sentinel(70011, "invalid scope")
	// ErrUserNotFound: the user account does not exist (AADSTS50034).
	ErrUserNotFound = sentinel(50034, "user account not found")
	// ErrUserDisabled: the user account (or a guest's home account) is
	// disabled (AADSTS50057).
	ErrUserDisabled = sentinel(50057, "user account disabled")
	// ErrInvalidCredentials: wrong user name or password (AADSTS50126).
	ErrInvalidCredentials = sentinel(50126, "invalid username or password")
	// ErrAccountLocked: the account is locked after repeated failed
	// sign-ins (AADSTS50053).
	ErrAccountLocked = sentinel(50053, "account locked")
	// ErrCodeRedeemed: the authorization or device code was already
	// redeemed (AADSTS54005).
	ErrCodeRedeemed = sentinel(54005, "code already redeemed")
	// ErrPKCEMismatch: the code_verifier does not match the authorization
	// request's code_challenge (AADSTS50148).
	ErrPKCEMismatch = sentinel(50148, "PKCE verification failed")
	// ErrGrantRevoked: the grant predates the user's session revocation
	// (AADSTS50173).
	ErrGrantRevoked = sentinel(50173, "grant revoked")
	// ErrTokenRevoked: the code or refresh token has expired or was revoked
	// (AADSTS70008).
	ErrTokenRevoked = sentinel(70008, "code or refresh token expired or revoked")
	// ErrAuthorizationPending: the device flow's user has not finished
	// (AADSTS70016); poll again.
	ErrAuthorizationPending = sentinel(70016, "authorization pending")
	// ErrDeviceCodeExpired: the device code has expired (AADSTS70019).
	ErrDeviceCodeExpired = sentinel(70019, "device code expired")
	// ErrTenantNotFound: the tenant does not exist (AADSTS90002).
	ErrTenantNotFound = sentinel(90002, "tenant not found")
)

func sentinel(code int, summary string) *TokenError {
	return &TokenError{Code: code, ErrorDescription: summary}
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

// AsTokenError returns err as a *TokenError, wrapping any other error as a
// server_error.
func AsTokenError(err error) *TokenError {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	return errInternal.new().with(err)
}

package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// LogPage selects a window of a log (the audit log or the sign-in log).
// Logs are read by Seq, never by time: a page starts after the cursor,
// which is the Seq of the last event of the previous page, so that events
// appended while a reader pages are neither skipped nor seen twice.
type LogPage struct {
	// After is the cursor: the Seq of the last event seen, 0 to start at
	// the beginning of the order (the oldest event, or the newest with
	// NewestFirst). With NewestFirst the page holds events older than
	// After.
	After int64
	Limit int // at most this many; 0 means DefaultPageSize
	// Order is the order of the page; the zero value is OldestFirst.
	Order LogOrder
}

// LogOrder is the order of a log page.
type LogOrder uint8

// The orders of a log page.
const (
	OldestFirst LogOrder = iota // ascending Seq, the zero value
	NewestFirst                 // descending Seq, as Entra's portal lists logs
)

// AuditFilter selects audit events. Every field that is set must match
// (exactly, case-sensitively); the zero AuditFilter matches every event.
type AuditFilter struct {
	// TenantID selects the events of one tenant.
	TenantID   string
	Actor      string // AuditEvent.Actor, e.g. a user's object id
	Action     string // e.g. "application.create"
	TargetKind string // a Kind name, e.g. "application"
	// TargetID selects the events of one target object, by id.
	TargetID string
	Since    time.Time // events at or after Since; zero: no bound
	Until    time.Time // events before Until; zero: no bound
}

// Match reports whether e passes f.
func (f *AuditFilter) Match(e *AuditEvent) bool {
	return (f.TenantID == "" || e.TenantID == f.TenantID) &&
		(f.Actor == "" || e.Actor == f.Actor) &&
		(f.Action == "" || e.Action == f.Action) &&
		(f.TargetKind == "" || e.TargetKind == f.TargetKind) &&
		(f.TargetID == "" || e.TargetID == f.TargetID) &&
		inRange(e.Time, f.Since, f.Until)
}

func inRange(t, since, until time.Time) bool {
	return (since.IsZero() || !t.Before(since)) && (until.IsZero() || t.Before(until))
}

// SignInOutcome says whether a sign-in or token request succeeded.
type SignInOutcome string

// The outcomes of a sign-in event.
const (
	SignInSuccess SignInOutcome = "success"
	SignInFailure SignInOutcome = "failure"
)

// SignInEvent records one token request or interactive sign-in, issued or
// refused, as Entra's sign-in log does (Microsoft Graph's signIn
// resource). It never holds a secret, a code, an assertion or a token:
// only who asked, for what, how, and the answer.
type SignInEvent struct {
	// Seq is assigned by the store when the event is appended.
	Seq int64 `json:"seq"`
	// Time is when the request arrived (Graph createdDateTime), stored in
	// UTC; required.
	Time time.Time `json:"createdDateTime"`
	// TenantID is the tenant the request was for, once resolved ("" when
	// the authority named no known tenant).
	TenantID string `json:"tenantId,omitempty"`
	// ClientAppID is the appId of the client, as sent when the request
	// was refused before the client was known.
	ClientAppID string `json:"appId,omitempty"`
	// ResourceAppID is the appId of the resource the token was for.
	ResourceAppID string `json:"resourceId,omitempty"`
	// UserID is the object id of the user of a delegated flow.
	UserID string `json:"userId,omitempty"`
	// ServicePrincipalID is the object id of the client's service
	// principal in TenantID: the principal of an app-only flow (client
	// credentials).
	ServicePrincipalID string `json:"servicePrincipalId,omitempty"`
	// GrantType is the OAuth grant_type of a token request
	// ("client_credentials", "authorization_code", "refresh_token", …) or
	// "authorize" for an interactive sign-in at the authorize endpoint.
	GrantType string `json:"grantType,omitempty"`
	// ClientCredentialType is how the client authenticated, in Graph's
	// terms: "none" (a public client), "clientSecret", "clientAssertion",
	// "federatedIdentityCredential", "certificate".
	ClientCredentialType string `json:"clientCredentialType,omitempty"`
	// Outcome is SignInSuccess or SignInFailure.
	Outcome SignInOutcome `json:"outcome"`
	// ErrorCode is the AADSTS code of a refusal (Graph's
	// status.errorCode), 0 on success.
	ErrorCode int `json:"errorCode,omitempty"`
	// OAuthError is the OAuth error of a refusal, e.g. "invalid_client".
	OAuthError string `json:"oauthError,omitempty"`
	// CorrelationID is the request's correlation id: the caller's, or a new
	// GUID when it sent none; token responses and errors carry it back.
	CorrelationID string `json:"correlationId,omitempty"`
	// RequestID is the id of the HTTP request, set by the caller that
	// appends the event; the Issuer leaves it empty.
	RequestID string `json:"requestId,omitempty"`
	// IPAddress is the client's IP address, set by the caller that appends
	// the event; the Issuer leaves it empty.
	IPAddress string `json:"ipAddress,omitempty"`
	// UserAgent is the client's User-Agent, set by the caller that appends
	// the event; the Issuer leaves it empty.
	UserAgent string `json:"userAgent,omitempty"`
}

// MaxSignInFieldLen bounds each string field of a stored SignInEvent, in
// bytes: a longer value (a client_id sent by an attacker, say) is cut at a
// character boundary, so the log cannot be made to grow by the request.
const MaxSignInFieldLen = 512

// PrepareSignIn checks e and returns it as a backend stores it: Seq
// cleared, Time in UTC, every string field cut to MaxSignInFieldLen. An
// event without a time or with an outcome other than SignInSuccess and
// SignInFailure, or a success that carries an error, is refused with an
// error matching ErrInvalid. Backends call it in AppendSignIn.
func PrepareSignIn(e SignInEvent) (SignInEvent, error) {
	switch {
	case e.Time.IsZero():
		return e, fmt.Errorf("%w: sign-in event without a time", ErrInvalid)
	case e.Outcome != SignInSuccess && e.Outcome != SignInFailure:
		return e, fmt.Errorf("%w: sign-in event with outcome %.32q", ErrInvalid, e.Outcome)
	case e.Outcome == SignInSuccess && (e.ErrorCode != 0 || e.OAuthError != ""):
		return e, fmt.Errorf("%w: successful sign-in event with error AADSTS%d %.32q", ErrInvalid, e.ErrorCode, e.OAuthError)
	}
	e.Seq = 0
	e.Time = e.Time.UTC()
	for _, s := range []*string{&e.TenantID, &e.ClientAppID, &e.ResourceAppID, &e.UserID, &e.ServicePrincipalID,
		&e.GrantType, &e.ClientCredentialType, &e.OAuthError, &e.CorrelationID, &e.RequestID, &e.IPAddress, &e.UserAgent} {
		if len(*s) > MaxSignInFieldLen {
			*s = cut(*s, MaxSignInFieldLen)
		}
	}
	return e, nil
}

// cut returns a copy of the longest prefix of s of at most n bytes that
// ends at a character boundary (the copy does not keep s alive).
func cut(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n])
}

// SignInFilter selects sign-in events. Every field that is set must match
// (exactly, case-sensitively); the zero SignInFilter matches every event.
type SignInFilter struct {
	TenantID           string        // SignInEvent.TenantID
	ClientAppID        string        // SignInEvent.ClientAppID
	ResourceAppID      string        // SignInEvent.ResourceAppID
	UserID             string        // SignInEvent.UserID
	ServicePrincipalID string        // SignInEvent.ServicePrincipalID
	GrantType          string        // SignInEvent.GrantType, e.g. "client_credentials"
	CorrelationID      string        // SignInEvent.CorrelationID
	Outcome            SignInOutcome // SignInSuccess or SignInFailure
	ErrorCode          int           // an AADSTS code; 0: any
	Since              time.Time     // events at or after Since; zero: no bound
	Until              time.Time     // events before Until; zero: no bound
}

// Match reports whether e passes f.
func (f *SignInFilter) Match(e *SignInEvent) bool {
	return (f.TenantID == "" || e.TenantID == f.TenantID) &&
		(f.ClientAppID == "" || e.ClientAppID == f.ClientAppID) &&
		(f.ResourceAppID == "" || e.ResourceAppID == f.ResourceAppID) &&
		(f.UserID == "" || e.UserID == f.UserID) &&
		(f.ServicePrincipalID == "" || e.ServicePrincipalID == f.ServicePrincipalID) &&
		(f.GrantType == "" || e.GrantType == f.GrantType) &&
		(f.CorrelationID == "" || e.CorrelationID == f.CorrelationID) &&
		(f.Outcome == "" || e.Outcome == f.Outcome) &&
		(f.ErrorCode == 0 || e.ErrorCode == f.ErrorCode) &&
		inRange(e.Time, f.Since, f.Until)
}

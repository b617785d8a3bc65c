package consent

import (
	"errors"
	"strings"

	"github.com/tenantry/tenantry/tenant"
)

// Sentinel errors of consent decisions. Decide returns them wrapped in an
// *Error, which names the resource and the scopes or roles concerned;
// match them with errors.Is.
var (
	// ErrAdminConsentRequired: the user may not consent to these
	// permissions for self; an administrator must consent for the tenant
	// (Entra's AADSTS90094 "needs admin approval").
	ErrAdminConsentRequired = errors.New("consent: admin consent required")
	// ErrUserConsentDisabled: the tenant's authorization policy assigns no
	// user consent policy, so every consent needs an administrator.
	ErrUserConsentDisabled = errors.New("consent: user consent is disabled")
	// ErrUnknownScope: the resource does not publish the requested scope
	// (or the scope is an app role, which cannot be requested dynamically).
	ErrUnknownScope = errors.New("consent: unknown scope")
	// ErrScopeDisabled: the resource publishes the scope but has disabled
	// it (isEnabled=false).
	ErrScopeDisabled = errors.New("consent: scope is disabled")
	// ErrUnknownRole: a requiredResourceAccess Role entry names an app role
	// the resource does not define, has disabled, or does not allow for
	// applications.
	ErrUnknownRole = errors.New("consent: unknown app role")
	// ErrUnknownResource: the resource application is not known (not in
	// Request.Resources) or is soft-deleted.
	ErrUnknownResource = errors.New("consent: unknown resource")
	// ErrUnknownClient: the client application is missing (no appId) or
	// soft-deleted.
	ErrUnknownClient = errors.New("consent: unknown client")
	// ErrInvalidRequest: the request is malformed, e.g. ".default" mixed
	// with explicit scopes, or user consent without a user.
	ErrInvalidRequest = errors.New("consent: invalid request")
)

// Error is a refused consent request. Code is one of the sentinels of this
// package, or tenant.ErrForbidden when the caller may not consent at all
// (disabled account, restricted guest, or tenant-wide consent by someone
// who is not a suitable administrator). errors.Is(err, Code) holds.
type Error struct {
	// Code is the sentinel: ErrAdminConsentRequired, ErrUserConsentDisabled,
	// ErrUnknownScope, ErrScopeDisabled, ErrUnknownRole, ErrUnknownResource,
	// ErrUnknownClient, ErrInvalidRequest or tenant.ErrForbidden.
	Code error
	// ClientAppID is the appId of the client the refused grant was for: the
	// request's client or, for combined consent (knownClientApplications),
	// the API whose own permissions were being consented. It may be empty.
	ClientAppID string
	// ResourceAppID is the appId of the resource concerned, if any.
	ResourceAppID string
	// Scopes are the scope values concerned (sorted), or the scope ids
	// where a requiredResourceAccess entry names an id that does not exist.
	Scopes []string
	// Roles are the app role ids concerned (ErrUnknownRole).
	Roles []string
	// Reason explains the refusal in words.
	Reason string
}

// Error returns e.g. "consent: admin consent required for scope(s)
// Files.ReadWrite.All on 00000003-0000-0000-c000-000000000000".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("consent: ")
	switch {
	case e.Code == nil:
		b.WriteString("refused")
	case errors.Is(e.Code, tenant.ErrForbidden):
		b.WriteString("forbidden")
	default:
		b.WriteString(strings.TrimPrefix(e.Code.Error(), "consent: "))
	}
	if len(e.Scopes) > 0 {
		b.WriteString(" for scope(s) ")
		b.WriteString(strings.Join(e.Scopes, " "))
	}
	if len(e.Roles) > 0 {
		b.WriteString(" for app role(s) ")
		b.WriteString(strings.Join(e.Roles, " "))
	}
	if e.ResourceAppID != "" {
		b.WriteString(" on ")
		b.WriteString(e.ResourceAppID)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns e.Code, so that errors.Is matches the sentinel.
func (e *Error) Unwrap() error { return e.Code }

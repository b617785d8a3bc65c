package tenant

import (
	"errors"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/deep"
	"github.com/tenantry/tenantry/internal/guid"
)

// User types.
const (
	Member = "Member"
	Guest  = "Guest"
)

// External user states of a guest.
const (
	PendingAcceptance = "PendingAcceptance"
	Accepted          = "Accepted"
)

// User is a user account in a tenant. JSON follows Graph's user resource;
// TenantID, HomeTenantID and PasswordHash are tenantry's own.
type User struct {
	// ID is the user's object id.
	ID string `json:"id"`
	// TenantID is the id of the tenant the user lives in.
	TenantID string `json:"tenantId"`
	// UserPrincipalName is the sign-in name, alias@domain in the tenant's
	// namespace (a guest's is alias_home.com#EXT#@{initial domain}).
	UserPrincipalName string `json:"userPrincipalName"`
	// DisplayName is the user's name.
	DisplayName string `json:"displayName,omitempty"`
	// GivenName is the user's first name.
	GivenName string `json:"givenName,omitempty"`
	// Surname is the user's last name.
	Surname string `json:"surname,omitempty"`
	// Mail is the user's e-mail address.
	Mail string `json:"mail,omitempty"`
	// AccountEnabled says whether the user may sign in and receive tokens.
	AccountEnabled bool `json:"accountEnabled"`
	// UserType is Member or Guest.
	UserType string `json:"userType"`
	// HomeTenantID is, for a guest, the tenant its identity comes from
	// (ConsumersID for personal accounts); empty for members.
	HomeTenantID string `json:"homeTenantId,omitempty"`
	// HomeUserID links a guest to its home account, the member user in
	// HomeTenantID it stands for, as Entra's B2B guests are bound to their
	// home identity when the invitation is redeemed. The home account's
	// accountEnabled and signInSessionsValidFromDateTime govern the
	// guest's tokens too. Set only by the Directory: at redemption by the
	// home user herself, or by System at creation.
	HomeUserID string `json:"homeUserId,omitempty"`
	// ExternalUserState is, for a guest, PendingAcceptance until its home
	// user redeems the invitation, then Accepted.
	ExternalUserState string `json:"externalUserState,omitempty"`
	// SignInSessionsValidFromDateTime: refresh tokens and sessions issued
	// before it are invalid (set by revokeSignInSessions).
	SignInSessionsValidFromDateTime time.Time `json:"signInSessionsValidFromDateTime"`
	// CreatedDateTime is when the user was created.
	CreatedDateTime time.Time `json:"createdDateTime"`
	// PasswordHash is the argon2id hash of the password used on sign-in
	// pages, or nil. It is never the password itself.
	PasswordHash *PasswordHash `json:"passwordHash,omitempty"`
}

// IsGuest reports whether u is a guest in its tenant.
func (u User) IsGuest() bool { return u.UserType == Guest }

// Equal reports whether u and o have the same properties: times are
// compared as instants (time.Time.Equal) and an empty collection equals a
// missing (nil) one, as Graph has no null collections; everything else as
// reflect.DeepEqual compares it.
func (u User) Equal(o User) bool { return deep.Equal(u, o) }

// Clone returns a deep copy of u.
func (u User) Clone() User {
	if u.PasswordHash != nil {
		h := u.PasswordHash.Clone()
		u.PasswordHash = &h
	}
	return u
}

// Validate checks u's own fields.
func (u User) Validate() error {
	var errs []error
	if !guid.Valid(u.ID) {
		errs = append(errs, &FieldError{Field: "id", Reason: "must be a GUID"})
	}
	if !guid.Valid(u.TenantID) {
		errs = append(errs, &FieldError{Field: "tenantId", Reason: "must be a GUID"})
	}
	at := strings.LastIndexByte(u.UserPrincipalName, '@')
	if at <= 0 || at == len(u.UserPrincipalName)-1 || strings.ContainsAny(u.UserPrincipalName, " \t\r\n") || len(u.UserPrincipalName) > 113 {
		errs = append(errs, &FieldError{Field: "userPrincipalName", Reason: "must be alias@domain without spaces, at most 113 characters"})
	}
	switch u.UserType {
	case Member:
		if u.HomeTenantID != "" {
			errs = append(errs, &FieldError{Field: "homeTenantId", Reason: "is only set for guests"})
		}
		if u.HomeUserID != "" {
			errs = append(errs, &FieldError{Field: "homeUserId", Reason: "is only set for guests"})
		}
	case Guest:
		if !guid.Valid(u.HomeTenantID) {
			errs = append(errs, &FieldError{Field: "homeTenantId", Reason: "a guest needs its home tenant id"})
		} else if u.HomeTenantID == u.TenantID {
			errs = append(errs, &FieldError{Field: "homeTenantId", Reason: "a guest's home is another tenant"})
		}
		if u.HomeUserID != "" && !guid.Valid(u.HomeUserID) {
			errs = append(errs, &FieldError{Field: "homeUserId", Reason: "must be a GUID"})
		}
	default:
		errs = append(errs, &FieldError{Field: "userType", Reason: "must be Member or Guest"})
	}
	if len(u.DisplayName) > 256 {
		errs = append(errs, &FieldError{Field: "displayName", Reason: "exceeds 256 characters"})
	}
	return errors.Join(errs...)
}

// SessionValid reports whether a session or refresh token issued at
// issuedAt is still valid for u: issued at or after the revocation time.
func (u User) SessionValid(issuedAt time.Time) bool {
	return !issuedAt.Before(u.SignInSessionsValidFromDateTime)
}

// InvitedAddress returns the address a guest was invited with: its mail,
// else the address encoded in its userPrincipalName
// ("alias_home.com#EXT#@..." stands for alias@home.com); "" for members.
func (u User) InvitedAddress() string {
	if !u.IsGuest() {
		return ""
	}
	if u.Mail != "" {
		return u.Mail
	}
	alias, _, ok := SplitUserPrincipalName(u.UserPrincipalName)
	if !ok || len(alias) <= len(GuestMarker) {
		return ""
	}
	alias = alias[:len(alias)-len(GuestMarker)]
	i := strings.LastIndexByte(alias, '_')
	if i <= 0 || i == len(alias)-1 {
		return ""
	}
	return alias[:i] + "@" + alias[i+1:]
}

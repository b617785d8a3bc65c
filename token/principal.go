package token

import (
	"context"
	"slices"
	"strings"
)

// Principal is the caller a validated access token represents: a user acting
// through a client application (delegated token, with scopes) or a client
// application acting as itself (app-only token, with app roles).
type Principal struct {
	// TenantID is the tid claim.
	TenantID string
	// ObjectID is the oid claim: the user's object id, or the client service
	// principal's for app-only tokens. Stable across applications within a
	// tenant; use it (with TenantID) as the key for authorization data.
	ObjectID string
	// Subject is the sub claim, pairwise per user and application.
	Subject string
	// AppID is the client application's appId: azp (v2) or appid (v1).
	AppID string
	// Name is the display name (name), when the token carries it.
	Name string
	// Username is preferred_username (v2) or, failing that, upn or
	// unique_name (v1; a guest's v1 token carries only unique_name). It is
	// mutable and for display only; never authorize on it.
	Username string
	// IsApp reports an app-only token (client credentials): idtyp "app", or,
	// without idtyp, a token with no scp whose oid equals its sub, as Entra's
	// app-only tokens are.
	IsApp bool
	// Scopes are the delegated scopes of the scp claim (user tokens only).
	Scopes []string
	// Roles are the app roles of the roles claim: the user's roles on the
	// API, or for app-only tokens the application permissions granted to the
	// client.
	Roles []string
	// Groups are the group object ids of the groups claim. Absent on group
	// overage (see AccessClaims.ClaimNames).
	Groups []string
	// Version is the token version of the ver claim ("1.0" or "2.0"; the
	// validator refuses any other).
	Version Version
	// Claims is the full claim set.
	Claims *AccessClaims
}

// PrincipalFromClaims derives the [Principal] of a claim set. It does not
// validate anything; use it only on claims returned by
// [Validator.ValidateClaims] or minted by this process.
func PrincipalFromClaims(c *AccessClaims) *Principal {
	p := &Principal{
		TenantID: c.TenantID,
		ObjectID: c.ObjectID,
		Subject:  c.Subject,
		AppID:    c.AuthorizedParty,
		Name:     c.Name,
		Username: c.PreferredUsername,
		Scopes:   strings.Fields(c.Scope),
		Roles:    c.Roles,
		Groups:   c.Groups,
		Claims:   c,
	}
	p.Version, _ = versionOf(c.Version)
	if p.AppID == "" {
		p.AppID = c.AppID
	}
	if p.Username == "" {
		p.Username = c.UPN
	}
	if p.Username == "" {
		p.Username = c.UniqueName
	}
	switch c.IDType {
	case "app":
		p.IsApp = true
	case "user":
		p.IsApp = false
	default:
		p.IsApp = c.Scope == "" && c.ObjectID != "" && c.ObjectID == c.Subject
	}
	return p
}

// HasScope reports whether the token grants the delegated scope (exact,
// case-sensitive match, as Entra's scope values are). App-only tokens have no
// scopes.
func (p *Principal) HasScope(scope string) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

// HasAnyScope reports whether the token grants at least one of scopes.
func (p *Principal) HasAnyScope(scopes ...string) bool {
	for _, s := range scopes {
		if p.HasScope(s) {
			return true
		}
	}
	return false
}

// HasRole reports whether the token carries the app role value (exact,
// case-sensitive match).
func (p *Principal) HasRole(role string) bool {
	return p != nil && slices.Contains(p.Roles, role)
}

// HasAnyRole reports whether the token carries at least one of roles.
func (p *Principal) HasAnyRole(roles ...string) bool {
	for _, r := range roles {
		if p.HasRole(r) {
			return true
		}
	}
	return false
}

// principalKey is the context key of the Principal.
type principalKey struct{}

// NewContext returns a copy of ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, &authContext{p: p})
}

// FromContext returns the Principal stored by [NewContext] (and by
// [Validator.Middleware]), if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	ac, ok := ctx.Value(principalKey{}).(*authContext)
	if !ok || ac.p == nil {
		return nil, false
	}
	return ac.p, true
}

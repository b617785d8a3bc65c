package consent

import (
	"slices"
	"strings"
	"time"
)

// Consent types of an oauth2PermissionGrant.
const (
	AllPrincipals = "AllPrincipals"
	Principal     = "Principal"
)

// MaxGrantScopeLength is the longest scope string a grant may hold, in
// characters, as Entra caps oauth2PermissionGrant.scope.
const MaxGrantScopeLength = 3850

// Grant is Microsoft Graph's oauth2PermissionGrant: delegated permissions
// (scopes) a client service principal holds on a resource service
// principal, for one user (Principal) or every user of the tenant
// (AllPrincipals).
type Grant struct {
	// ID is the grant's id.
	ID string `json:"id"`
	// TenantID is the id of the tenant the grant lives in.
	TenantID    string `json:"tenantId"`
	ClientID    string `json:"clientId"`    // client service principal object id
	ConsentType string `json:"consentType"` // AllPrincipals or Principal
	// PrincipalID is the object id of the user a Principal grant is for;
	// empty for AllPrincipals.
	PrincipalID string `json:"principalId,omitempty"`
	ResourceID  string `json:"resourceId"` // resource service principal object id
	// Scope is the granted scope values separated by spaces, at most
	// MaxGrantScopeLength characters.
	Scope string `json:"scope"`
	// CreatedDateTime is when the grant was created.
	CreatedDateTime time.Time `json:"x-createdDateTime"`
}

// Clone returns a copy of g.
func (g Grant) Clone() Grant { return g }

// Scopes returns the granted scope values.
func (g Grant) Scopes() []string { return strings.Fields(g.Scope) }

// Covers reports whether g applies to user userID (empty for app-only use).
func (g Grant) Covers(userID string) bool {
	return g.ConsentType == AllPrincipals || (userID != "" && g.PrincipalID == userID)
}

// JoinScopes returns the sorted, de-duplicated scopes as Graph's
// space-separated scope string.
func JoinScopes(scopes ...[]string) string {
	var all []string
	for _, s := range scopes {
		all = append(all, s...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) > 0 && all[0] == "" {
		all = all[1:]
	}
	return strings.Join(all, " ")
}

// GrantedScopes returns the sorted union of the scopes the grants give
// userID (empty for none) from client on resource.
func GrantedScopes(grants []Grant, clientID, resourceID, userID string) []string {
	var out []string
	for _, g := range grants {
		if g.ClientID == clientID && g.ResourceID == resourceID && g.Covers(userID) {
			out = append(out, g.Scopes()...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

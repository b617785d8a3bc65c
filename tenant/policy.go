package tenant

import (
	"fmt"
	"strings"
)

// Built-in permission grant (app consent) policy ids. Each is identical in
// every tenant.
const (
	PolicyUserDefaultLegacy      = "microsoft-user-default-legacy"
	PolicyUserDefaultLow         = "microsoft-user-default-low"
	PolicyUserDefaultRecommended = "microsoft-user-default-recommended"
)

// Role ids a tenant assigns to guests through authorizationPolicy.guestUserRoleId.
const (
	GuestRoleUser       = "a0b1b346-4d3e-4e8b-98f8-753987be4970" // same access as members
	GuestRoleGuest      = "10dae51f-b6af-4016-8d66-8c2a99b929b3" // limited access (default)
	GuestRoleRestricted = "2af84b1e-32c8-42b7-82bc-daa82404023b" // restricted access
)

const selfGrantPrefix = "managepermissiongrantsforself."

// AuthorizationPolicy holds the tenant-wide settings of Graph's
// authorizationPolicy singleton that tenantry enforces.
type AuthorizationPolicy struct {
	// DefaultUserRolePermissions are what member users without a directory
	// role may do.
	DefaultUserRolePermissions DefaultUserRolePermissions `json:"defaultUserRolePermissions"`
	// GuestUserRoleID is one of GuestRoleUser, GuestRoleGuest, GuestRoleRestricted.
	GuestUserRoleID string `json:"guestUserRoleId,omitempty"`
	// AllowInvitesFrom: none, adminsAndGuestInviters,
	// adminsGuestInvitersAndAllMembers or everyone.
	AllowInvitesFrom string `json:"allowInvitesFrom,omitempty"`
}

// DefaultUserRolePermissions are the permissions of member users that hold
// no directory role.
type DefaultUserRolePermissions struct {
	// AllowedToCreateApps is the "Users can register applications" switch.
	AllowedToCreateApps bool `json:"allowedToCreateApps"`
	// AllowedToCreateSecurityGroups is Graph allowedToCreateSecurityGroups,
	// kept as data: creating a group requires a Global Administrator.
	AllowedToCreateSecurityGroups bool `json:"allowedToCreateSecurityGroups"`
	// AllowedToReadOtherUsers, when false, hides other users from member
	// users that hold no directory role.
	AllowedToReadOtherUsers bool `json:"allowedToReadOtherUsers"`
	// PermissionGrantPoliciesAssigned lists entries such as
	// "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"; an
	// empty list disables user consent.
	PermissionGrantPoliciesAssigned []string `json:"permissionGrantPoliciesAssigned"`
}

// Clone returns a deep copy of p.
func (p AuthorizationPolicy) Clone() AuthorizationPolicy {
	p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = append([]string(nil), p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned...)
	return p
}

// DefaultPolicy returns the settings of a new tenant: members may register
// applications and consent to user-consentable permissions (the
// recommended policy), guests get limited access.
func DefaultPolicy() AuthorizationPolicy {
	return AuthorizationPolicy{
		DefaultUserRolePermissions: DefaultUserRolePermissions{
			AllowedToCreateApps:             true,
			AllowedToCreateSecurityGroups:   true,
			AllowedToReadOtherUsers:         true,
			PermissionGrantPoliciesAssigned: []string{"ManagePermissionGrantsForSelf." + PolicyUserDefaultRecommended},
		},
		GuestUserRoleID:  GuestRoleGuest,
		AllowInvitesFrom: "everyone",
	}
}

// UserConsent is the user consent setting of a tenant, derived from the
// permission grant policies assigned to default users.
type UserConsent int

const (
	// UserConsentNone: users cannot consent; an admin must.
	UserConsentNone UserConsent = iota
	// UserConsentLowRisk: users may consent to permissions classified low
	// (and the OpenID scopes) for apps from verified publishers or apps
	// registered in the tenant (policy microsoft-user-default-low).
	UserConsentLowRisk
	// UserConsentAll: users may consent to every permission that does not
	// require admin consent (microsoft-user-default-legacy and
	// microsoft-user-default-recommended).
	UserConsentAll
)

// String returns none, lowRisk or all.
func (c UserConsent) String() string {
	switch c {
	case UserConsentNone:
		return "none"
	case UserConsentLowRisk:
		return "lowRisk"
	case UserConsentAll:
		return "all"
	}
	return fmt.Sprintf("UserConsent(%d)", int(c))
}

// UserConsent returns the most permissive user consent the assigned
// policies allow. Policy names compare case-insensitively.
func (p AuthorizationPolicy) UserConsent() UserConsent {
	best := UserConsentNone
	for _, s := range p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned {
		l := strings.ToLower(s)
		if !strings.HasPrefix(l, selfGrantPrefix) {
			continue
		}
		switch strings.TrimPrefix(l, selfGrantPrefix) {
		case PolicyUserDefaultLegacy, PolicyUserDefaultRecommended:
			best = UserConsentAll
		case PolicyUserDefaultLow:
			if best < UserConsentLowRisk {
				best = UserConsentLowRisk
			}
		}
	}
	return best
}

// SetUserConsent replaces the self-consent entries of the assigned policies
// with the one matching c, keeping other entries (such as
// ManagePermissionGrantsForOwnedResource.*).
func (p *AuthorizationPolicy) SetUserConsent(c UserConsent) {
	var kept []string
	for _, s := range p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned {
		if !strings.HasPrefix(strings.ToLower(s), selfGrantPrefix) {
			kept = append(kept, s)
		}
	}
	switch c {
	case UserConsentLowRisk:
		kept = append(kept, "ManagePermissionGrantsForSelf."+PolicyUserDefaultLow)
	case UserConsentAll:
		kept = append(kept, "ManagePermissionGrantsForSelf."+PolicyUserDefaultLegacy)
	}
	if kept == nil {
		kept = []string{}
	}
	p.DefaultUserRolePermissions.PermissionGrantPoliciesAssigned = kept
}

func (p AuthorizationPolicy) validate() []error {
	var errs []error
	switch p.GuestUserRoleID {
	case "", GuestRoleUser, GuestRoleGuest, GuestRoleRestricted:
	default:
		errs = append(errs, &FieldError{Field: "authorizationPolicy.guestUserRoleId", Reason: "is not a guest role id"})
	}
	switch p.AllowInvitesFrom {
	case "", "none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone":
	default:
		errs = append(errs, &FieldError{Field: "authorizationPolicy.allowInvitesFrom", Reason: "is not a known value"})
	}
	return errs
}

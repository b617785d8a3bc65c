package store

import (
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/tenant"
)

// Index names shared by several kinds.
const (
	ByTenant = "tenant" // records of one tenant, key tenant id
)

// Index names of specific kinds.
const (
	TenantByDomain           = "domain"        // unique, lower-case domain name
	UserByUPN                = "upn"           // unique, lower-case userPrincipalName
	GroupByMember            = "member"        // groups that directly contain a member id
	RoleByPrincipal          = "principal"     // directory role assignments of a principal
	AppByAppID               = "appId"         // unique
	AppByIdentifierURI       = "identifierUri" // unique, exact URI
	AppByOwner               = "owner"         // applications of an owner
	SPByAppTenant            = "appTenant"     // unique, key AppTenantKey(appId, tenantId)
	SPByAppID                = "appId"         // service principals of an app in every tenant
	GrantByClient            = "client"        // grants held by a client SP
	GrantByResource          = "resource"      // grants on a resource SP
	GrantByPrincipal         = "principal"     // grants of one user
	GrantUnique              = "unique"        // unique (client, type, principal, resource)
	AssignmentByPrincipal    = "principal"     // assignments held by a principal
	AssignmentByResource     = "resource"      // assignments to a resource SP
	AssignmentUnique         = "unique"        // unique (principal, resource, appRoleId)
	KeyByState               = "state"         // signing keys by state
	CodeByExpiry             = "expiry"        // short-lived codes by expiry day
	DeletedApplicationsIndex = "deleted"       // key "deleted" for soft-deleted applications
)

// AppTenantKey is the key of SPByAppTenant.
func AppTenantKey(appID, tenantID string) string { return appID + "/" + tenantID }

func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// The record kinds of the domain model.
var (
	Tenants = NewCollection("tenant", func(t tenant.Tenant) string { return t.ID }, tenant.Tenant.Clone,
		IndexDef[tenant.Tenant]{Name: TenantByDomain, Unique: true, Keys: func(t tenant.Tenant) []string {
			keys := make([]string, 0, len(t.VerifiedDomains))
			for _, d := range t.VerifiedDomains {
				keys = append(keys, strings.ToLower(d.Name))
			}
			return SortedKeys(keys...)
		}})

	Users = NewCollection("user", func(u tenant.User) string { return u.ID }, tenant.User.Clone,
		IndexDef[tenant.User]{Name: ByTenant, Keys: func(u tenant.User) []string { return one(u.TenantID) }},
		IndexDef[tenant.User]{Name: UserByUPN, Unique: true, Keys: func(u tenant.User) []string { return one(strings.ToLower(u.UserPrincipalName)) }})

	Groups = NewCollection("group", func(g tenant.Group) string { return g.ID }, tenant.Group.Clone,
		IndexDef[tenant.Group]{Name: ByTenant, Keys: func(g tenant.Group) []string { return one(g.TenantID) }},
		IndexDef[tenant.Group]{Name: GroupByMember, Keys: func(g tenant.Group) []string { return SortedKeys(g.MemberIDs()...) }})

	DirectoryRoles = NewCollection("roleAssignment", func(a tenant.RoleAssignment) string { return a.ID }, tenant.RoleAssignment.Clone,
		IndexDef[tenant.RoleAssignment]{Name: ByTenant, Keys: func(a tenant.RoleAssignment) []string { return one(a.TenantID) }},
		IndexDef[tenant.RoleAssignment]{Name: RoleByPrincipal, Keys: func(a tenant.RoleAssignment) []string { return one(a.PrincipalID) }})

	Applications = NewCollection("application", func(a application.Application) string { return a.ID }, application.Application.Clone,
		IndexDef[application.Application]{Name: ByTenant, Keys: func(a application.Application) []string { return one(a.TenantID) }},
		IndexDef[application.Application]{Name: AppByAppID, Unique: true, Keys: func(a application.Application) []string { return one(a.AppID) }},
		IndexDef[application.Application]{Name: AppByIdentifierURI, Unique: true, Keys: func(a application.Application) []string {
			return SortedKeys(append([]string(nil), a.IdentifierURIs...)...)
		}},
		IndexDef[application.Application]{Name: AppByOwner, Keys: func(a application.Application) []string { return SortedKeys(a.Owners...) }},
		IndexDef[application.Application]{Name: DeletedApplicationsIndex, Keys: func(a application.Application) []string {
			if a.IsDeleted() {
				return []string{"deleted"}
			}
			return nil
		}})

	ServicePrincipals = NewCollection("servicePrincipal", func(s serviceprincipal.ServicePrincipal) string { return s.ID }, serviceprincipal.ServicePrincipal.Clone,
		IndexDef[serviceprincipal.ServicePrincipal]{Name: ByTenant, Keys: func(s serviceprincipal.ServicePrincipal) []string { return one(s.TenantID) }},
		IndexDef[serviceprincipal.ServicePrincipal]{Name: SPByAppTenant, Unique: true, Keys: func(s serviceprincipal.ServicePrincipal) []string {
			if s.AppID == "" {
				return nil
			}
			return []string{AppTenantKey(s.AppID, s.TenantID)}
		}},
		IndexDef[serviceprincipal.ServicePrincipal]{Name: SPByAppID, Keys: func(s serviceprincipal.ServicePrincipal) []string { return one(s.AppID) }})

	Grants = NewCollection("oauth2PermissionGrant", func(g consent.Grant) string { return g.ID }, consent.Grant.Clone,
		IndexDef[consent.Grant]{Name: ByTenant, Keys: func(g consent.Grant) []string { return one(g.TenantID) }},
		IndexDef[consent.Grant]{Name: GrantByClient, Keys: func(g consent.Grant) []string { return one(g.ClientID) }},
		IndexDef[consent.Grant]{Name: GrantByResource, Keys: func(g consent.Grant) []string { return one(g.ResourceID) }},
		IndexDef[consent.Grant]{Name: GrantByPrincipal, Keys: func(g consent.Grant) []string { return one(g.PrincipalID) }},
		IndexDef[consent.Grant]{Name: GrantUnique, Unique: true, Keys: func(g consent.Grant) []string {
			return []string{GrantKey(g.ClientID, g.ConsentType, g.PrincipalID, g.ResourceID)}
		}})

	Assignments = NewCollection("appRoleAssignment", func(a serviceprincipal.AppRoleAssignment) string { return a.ID }, serviceprincipal.AppRoleAssignment.Clone,
		IndexDef[serviceprincipal.AppRoleAssignment]{Name: ByTenant, Keys: func(a serviceprincipal.AppRoleAssignment) []string { return one(a.TenantID) }},
		IndexDef[serviceprincipal.AppRoleAssignment]{Name: AssignmentByPrincipal, Keys: func(a serviceprincipal.AppRoleAssignment) []string { return one(a.PrincipalID) }},
		IndexDef[serviceprincipal.AppRoleAssignment]{Name: AssignmentByResource, Keys: func(a serviceprincipal.AppRoleAssignment) []string { return one(a.ResourceID) }},
		IndexDef[serviceprincipal.AppRoleAssignment]{Name: AssignmentUnique, Unique: true, Keys: func(a serviceprincipal.AppRoleAssignment) []string {
			return []string{a.PrincipalID + "/" + a.ResourceID + "/" + a.AppRoleID}
		}})

	SigningKeys = NewCollection("signingKey", func(k SigningKey) string { return k.ID }, SigningKey.Clone,
		IndexDef[SigningKey]{Name: KeyByState, Keys: func(k SigningKey) []string { return one(k.State) }})

	Codes = NewCollection("code", func(c Code) string { return c.ID }, Code.Clone,
		IndexDef[Code]{Name: CodeByExpiry, Keys: func(c Code) []string { return one(c.ExpiresAt.UTC().Format("2006-01-02")) }})

	Lockouts = NewCollection("signInLockout", func(l SignInLockout) string { return l.ID }, SignInLockout.Clone,
		IndexDef[SignInLockout]{Name: ByTenant, Keys: func(l SignInLockout) []string { return one(l.TenantID) }})
)

// SignInLockout is the smart-lockout state of one account's password
// sign-in: the failures since the last successful sign-in and the end of
// the current lockout. It is operational state of the sign-in service, not
// a directory object.
type SignInLockout struct {
	ID          string    `json:"id"`                   // the user's object id
	TenantID    string    `json:"tenantId"`             // the user's tenant
	Failures    int       `json:"failures"`             // failed password sign-ins since the last success
	LastFailure time.Time `json:"lastFailure"`          // time of the latest failure
	LockedUntil time.Time `json:"lockedUntil,omitzero"` // end of the latest lockout; zero: none
}

// Clone returns a copy of l.
func (l SignInLockout) Clone() SignInLockout { return l }

// GrantKey is the key of GrantUnique.
func GrantKey(clientID, consentType, principalID, resourceID string) string {
	return clientID + "/" + consentType + "/" + principalID + "/" + resourceID
}

// SigningKey is a token-signing key as stored: the private key is sealed
// (AES-256-GCM under the operator's key-encryption key) and never stored in
// the clear.
type SigningKey struct {
	ID        string    `json:"id"`        // kid
	Algorithm string    `json:"alg"`       // the JWS algorithm, e.g. RS256
	State     string    `json:"state"`     // next, active, retired
	Sealed    []byte    `json:"sealed"`    // the private key, sealed with AES-256-GCM
	CreatedAt time.Time `json:"createdAt"` // when the key was made
}

// Clone returns a deep copy of k.
func (k SigningKey) Clone() SigningKey {
	k.Sealed = append([]byte(nil), k.Sealed...)
	return k
}

// Code is a short-lived, single-use artefact of the token service: an
// authorization code or a device code. Data is the flow's own state, as
// JSON; RedeemedAt marks single use.
type Code struct {
	ID string `json:"id"` // hash of the code, never the code itself
	// Kind is the artefact's kind: authorization_code, device_code,
	// user_code, or authorization_code_replayed for a code redeemed more
	// than once.
	Kind string `json:"kind"`
	// TenantID is the tenant the code was issued in.
	TenantID string `json:"tenantId"`
	// ExpiresAt is when the code stops being redeemable.
	ExpiresAt time.Time `json:"expiresAt"`
	// RedeemedAt is when the code was redeemed; nil until then.
	RedeemedAt *time.Time `json:"redeemedAt,omitempty"`
	// Data is the flow's state, as JSON.
	Data []byte `json:"data"`
}

// Clone returns a deep copy of c.
func (c Code) Clone() Code {
	c.Data = append([]byte(nil), c.Data...)
	if c.RedeemedAt != nil {
		t := *c.RedeemedAt
		c.RedeemedAt = &t
	}
	return c
}

// Kinds lists every kind of the domain model, for backends that create
// their schema up front.
func Kinds() []Kind {
	return []Kind{Tenants, Users, Groups, DirectoryRoles, Applications, ServicePrincipals, Grants, Assignments, SigningKeys, Codes, Lockouts}
}

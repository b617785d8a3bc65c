package tenant

// This file is the read rule: what a caller may read of the directory. It
// follows Entra's default user permissions (member users read the
// directory; guests read themselves, some properties of others, their
// groups and the tenant's applications; restricted guests read
// themselves) and is stricter where Entra leaks across tenants: nothing
// of another tenant is visible to a user, not even a multi-tenant
// application's object, which she reads through its service principal in
// her own tenant.

// ReadAccess is how much of her own tenant a caller may read.
type ReadAccess uint8

// The read accesses, from none to all.
const (
	// ReadNothing: the zero Caller, a disabled user, or a caller read
	// against a tenant she is not a user of.
	ReadNothing ReadAccess = iota
	// ReadOwn: a guest under the Restricted Guest User role: her own user
	// object, the app role assignments and delegated grants she holds,
	// and the organization's name and domains. No listing.
	ReadOwn
	// ReadLimited: a guest under the default Guest User role: ReadOwn,
	// plus other users by id or userPrincipalName (their public
	// properties only), the groups she directly belongs to, and the
	// tenant's applications and service principals by id. No listing:
	// guests cannot enumerate the directory.
	ReadLimited
	// ReadDirectory: a member user, a guest under the User role, or any
	// holder of an administrator role: every object of the tenant,
	// listings included (other users only while the tenant's
	// allowedToReadOtherUsers is on, for callers without a role).
	ReadDirectory
	// ReadEverything: the SystemCaller, in every tenant.
	ReadEverything
)

// ObjectKind names a kind of directory object for the read rule.
type ObjectKind uint8

// The kinds of object the read rule knows.
const (
	ObjectTenant ObjectKind = iota + 1 // the organization
	ObjectUser
	ObjectGroup
	ObjectApplication
	ObjectServicePrincipal
	ObjectGrant      // a delegated permission grant (oauth2PermissionGrant)
	ObjectAssignment // an app role assignment
)

// Object describes one directory object to the read rule.
type Object struct {
	// Kind is the kind of object.
	Kind ObjectKind
	// TenantID is the tenant the object lives in (for a tenant, its id;
	// for an application, its home tenant).
	TenantID string
	// ID is the object id; for a user it lets the rule recognise the
	// caller herself.
	ID string
	// HolderID is, for a grant or an assignment, the principal holding it
	// (the user of a Principal grant, the assignee of an assignment).
	HolderID string
	// Joined is, for a group, whether the caller is a direct member.
	Joined bool
}

// Sight is how much of an object a caller sees.
type Sight uint8

// The sights.
const (
	// Hidden: the caller does not see the object; the shell answers as if
	// it did not exist.
	Hidden Sight = iota
	// Limited: the caller sees the object's public properties only
	// (LimitedUser, LimitedTenant).
	Limited
	// Full: the caller sees the whole object.
	Full
)

// Reader is a caller as the read rule sees her: her tenant, her id, her
// access there and her directory roles. Build it with NewReader or
// SystemReader; the zero Reader reads nothing.
type Reader struct {
	// TenantID is the tenant the caller reads in.
	TenantID string
	// UserID is the caller's user id.
	UserID string
	// Access is how much of the directory the caller may read.
	Access ReadAccess
	// Roles are the caller's directory roles in TenantID.
	Roles Roles
	// OtherUsers is false when the tenant's allowedToReadOtherUsers is off
	// and the caller holds no role: she then sees no other user.
	OtherUsers bool
}

// SystemReader returns the Reader of the SystemCaller: it sees everything.
func SystemReader() Reader { return Reader{Access: ReadEverything, OtherUsers: true} }

// NewReader returns the Reader of c in t, the tenant c.User belongs to.
// The SystemCaller reads everything; the zero Caller, a disabled user and
// a user of another tenant read nothing. An enabled user holding an
// administrator role (Global, Privileged Role, Application or Cloud
// Application Administrator) reads the directory even as a guest, as
// Entra grants guests the powers of the roles they are assigned.
// Otherwise a member reads the directory, and a guest what the tenant's
// guestUserRoleId allows: the User role as a member, the Guest User role
// (the default, also for an unknown id) ReadLimited, the Restricted Guest
// User role ReadOwn.
func NewReader(t Tenant, c Caller) Reader {
	if c.system {
		return SystemReader()
	}
	if c.check() != nil || c.User.TenantID != t.ID || t.ID == "" {
		return Reader{}
	}
	r := Reader{TenantID: t.ID, UserID: c.User.ID, Roles: c.Roles, OtherUsers: true}
	admin := c.Roles.IsAppAdmin() || c.Roles.Has(RolePrivilegedRoleAdministrator)
	switch {
	case admin:
		r.Access = ReadDirectory
		return r
	case !c.User.IsGuest(), t.Policy.GuestUserRoleID == GuestRoleUser:
		r.Access = ReadDirectory
	case t.Policy.GuestUserRoleID == GuestRoleRestricted:
		r.Access = ReadOwn
	default:
		r.Access = ReadLimited
	}
	r.OtherUsers = t.Policy.DefaultUserRolePermissions.AllowedToReadOtherUsers
	return r
}

// IsSystem reports whether r is the SystemReader.
func (r Reader) IsSystem() bool { return r.Access == ReadEverything }

// Sees decides how much of o the reader sees. Nothing of another tenant is
// visible to a user: a multi-tenant application's object lives in its
// home tenant only, and users of other tenants read its service principal
// in their own tenant instead (as Graph serves GET /applications of the
// signed-in user's tenant only).
func (r Reader) Sees(o Object) Sight {
	switch {
	case r.Access == ReadEverything:
		return Full
	case r.Access == ReadNothing || o.TenantID != r.TenantID:
		return Hidden
	}
	own := (o.Kind == ObjectUser && o.ID == r.UserID) ||
		((o.Kind == ObjectGrant || o.Kind == ObjectAssignment) && o.HolderID != "" && o.HolderID == r.UserID)
	if own {
		return Full
	}
	if o.Kind == ObjectUser && !r.OtherUsers {
		return Hidden
	}
	if r.Access == ReadDirectory {
		return Full
	}
	switch o.Kind {
	case ObjectTenant:
		return Limited
	case ObjectUser:
		if r.Access == ReadLimited {
			return Limited
		}
	case ObjectGroup:
		if r.Access == ReadLimited && o.Joined {
			return Full
		}
	case ObjectApplication, ObjectServicePrincipal:
		if r.Access == ReadLimited {
			return Full
		}
	}
	return Hidden
}

// Lists reports whether the reader may list the objects of kind k in
// tenantID: System anywhere, a reader with ReadDirectory in her own
// tenant (users only while she may read other users). Guests never
// enumerate.
func (r Reader) Lists(k ObjectKind, tenantID string) bool {
	switch {
	case r.Access == ReadEverything:
		return true
	case r.Access != ReadDirectory || tenantID != r.TenantID:
		return false
	case k == ObjectUser:
		return r.OtherUsers
	}
	return true
}

// ReadsLogs reports whether the reader may read the activity logs (the
// audit log and the sign-in log) of tenantID ("" means every tenant,
// which only System may read). Entra admits Reports Reader, Security
// Reader, Security Administrator and Global Reader besides Global
// Administrator; of the roles tenantry models, only Global Administrator
// reads the logs.
func (r Reader) ReadsLogs(tenantID string) bool {
	if r.Access == ReadEverything {
		return true
	}
	return r.Access != ReadNothing && tenantID != "" && tenantID == r.TenantID && r.Roles.Has(RoleGlobalAdministrator)
}

// ReadsReport reports whether the reader may read the governance report
// of tenantID ("" means every tenant, which only System may read): Global,
// Application and Cloud Application Administrators of the tenant, who
// manage every application registration there.
func (r Reader) ReadsReport(tenantID string) bool {
	if r.Access == ReadEverything {
		return true
	}
	return r.Access != ReadNothing && tenantID != "" && tenantID == r.TenantID && r.Roles.IsAppAdmin()
}

// LimitedUser returns the public properties of u that a guest reads of
// other users: id, tenant, userPrincipalName, names, mail and userType.
func LimitedUser(u User) User {
	return User{
		ID: u.ID, TenantID: u.TenantID, UserPrincipalName: u.UserPrincipalName,
		DisplayName: u.DisplayName, GivenName: u.GivenName, Surname: u.Surname,
		Mail: u.Mail, UserType: u.UserType,
	}
}

// LimitedTenant returns the public properties of t that guests read: id,
// display name, type and verified domains (not its policy).
func LimitedTenant(t Tenant) Tenant {
	return Tenant{
		ID: t.ID, DisplayName: t.DisplayName, TenantType: t.TenantType,
		VerifiedDomains: append([]VerifiedDomain(nil), t.VerifiedDomains...),
	}
}

package tenant

import (
	"errors"
	"slices"
	"time"
)

// Directory role template ids (identical in every tenant).
const (
	RoleGlobalAdministrator           = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedRoleAdministrator   = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleApplicationAdministrator      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	RoleCloudApplicationAdministrator = "158c047a-c907-4556-b7ef-446551a6b5f7"
	RoleApplicationDeveloper          = "cf1c38e5-3621-4004-a7cb-879624dced7c"
)

// RoleName returns the display name of a supported role template id, or "".
func RoleName(id string) string {
	switch id {
	case RoleGlobalAdministrator:
		return "Global Administrator"
	case RolePrivilegedRoleAdministrator:
		return "Privileged Role Administrator"
	case RoleApplicationAdministrator:
		return "Application Administrator"
	case RoleCloudApplicationAdministrator:
		return "Cloud Application Administrator"
	case RoleApplicationDeveloper:
		return "Application Developer"
	}
	return ""
}

// RoleAssignment assigns a directory role to a principal (user, group or
// service principal) tenant-wide. JSON follows Graph's
// unifiedRoleAssignment.
type RoleAssignment struct {
	// ID is the assignment's id.
	ID string `json:"id"`
	// TenantID is the id of the tenant the assignment lives in.
	TenantID string `json:"tenantId"`
	// PrincipalID is the object id of the user, group or service principal
	// holding the role.
	PrincipalID string `json:"principalId"`
	// RoleDefinitionID is the id (template id) of a supported directory
	// role.
	RoleDefinitionID string `json:"roleDefinitionId"`
	// DirectoryScopeID is the scope of the assignment; only "/"
	// (tenant-wide) is supported.
	DirectoryScopeID string `json:"directoryScopeId"`
	// CreatedDateTime is when the role was assigned.
	CreatedDateTime time.Time `json:"createdDateTime"`
}

// Clone returns a copy of a.
func (a RoleAssignment) Clone() RoleAssignment { return a }

// Validate checks a's own fields.
func (a RoleAssignment) Validate() error {
	if RoleName(a.RoleDefinitionID) == "" {
		return &FieldError{Field: "roleDefinitionId", Reason: "is not a supported directory role"}
	}
	if a.DirectoryScopeID != "/" {
		return &FieldError{Field: "directoryScopeId", Reason: `must be "/" (tenant-wide)`}
	}
	return nil
}

// Roles is the set of directory role template ids a caller holds.
type Roles []string

// Has reports whether r contains any of ids.
func (r Roles) Has(ids ...string) bool {
	for _, id := range ids {
		if slices.Contains(r, id) {
			return true
		}
	}
	return false
}

// IsAppAdmin reports whether r may manage every application registration
// and service principal of the tenant.
func (r Roles) IsAppAdmin() bool {
	return r.Has(RoleGlobalAdministrator, RoleApplicationAdministrator, RoleCloudApplicationAdministrator)
}

// Errors of the tenant rules.
var (
	// ErrForbidden: the caller lacks a role or the tenant settings forbid
	// the operation.
	ErrForbidden = errors.New("tenant: operation not allowed")
)

// Caller is who performs an operation inside a tenant: a user with its
// directory roles, or the system itself (SystemCaller). The zero Caller,
// and any Caller without a user id, has no powers: every rule refuses it.
type Caller struct {
	// User is the calling user.
	User User
	// Roles are the directory roles the user holds in the tenant.
	Roles  Roles
	system bool
}

// SystemCaller returns the caller that stands for the operator or the
// library itself; it passes every rule. Obtain it only on purpose.
func SystemCaller() Caller { return Caller{system: true} }

// IsSystem reports whether c is the SystemCaller.
func (c Caller) IsSystem() bool { return c.system }

// check refuses callers that are neither the system nor an enabled user.
func (c Caller) check() error {
	if c.User.ID == "" {
		return forbidden("no caller: an operation needs the system or a user")
	}
	if !c.User.AccountEnabled {
		return forbidden("user account is disabled")
	}
	return nil
}

// CanRegisterApplications decides whether c may register an application in
// t. Admin roles and Application Developer always may (even when the switch
// is off); members may while "users can register applications" is on;
// guests never may; disabled users never may.
func CanRegisterApplications(t Tenant, c Caller) error {
	if c.system {
		return nil
	}
	if err := c.check(); err != nil {
		return err
	}
	if c.Roles.IsAppAdmin() || c.Roles.Has(RoleApplicationDeveloper) {
		return nil
	}
	if c.User.IsGuest() {
		return forbidden("guests cannot register applications")
	}
	if !t.Policy.DefaultUserRolePermissions.AllowedToCreateApps {
		return forbidden("users cannot register applications in this tenant")
	}
	return nil
}

// OwnerOnRegister reports whether the registering caller becomes the
// application's owner: members and Application Developers do, the
// administrator roles do not (as in Entra).
func OwnerOnRegister(c Caller) bool {
	return !c.system && c.User.ID != "" && !c.Roles.IsAppAdmin()
}

// CanGrantTenantWide reports whether c may grant tenant-wide (admin)
// consent. Global and Privileged Role Administrators may grant anything;
// Application and Cloud Application Administrators anything but Microsoft
// Graph's application permissions.
func CanGrantTenantWide(c Caller, graphAppPermissions bool) error {
	if c.system {
		return nil
	}
	if err := c.check(); err != nil {
		return err
	}
	if c.Roles.Has(RoleGlobalAdministrator, RolePrivilegedRoleAdministrator) {
		return nil
	}
	if c.Roles.Has(RoleApplicationAdministrator, RoleCloudApplicationAdministrator) {
		if graphAppPermissions {
			return forbidden("only a Global or Privileged Role Administrator may grant Microsoft Graph application permissions")
		}
		return nil
	}
	return forbidden("admin consent requires Global, Privileged Role, Application or Cloud Application Administrator")
}

// CanManageDirectory reports whether c may change tenant-wide objects:
// users, groups, role assignments and settings.
func CanManageDirectory(c Caller) error {
	if c.system {
		return nil
	}
	if err := c.check(); err != nil {
		return err
	}
	if c.Roles.Has(RoleGlobalAdministrator) {
		return nil
	}
	return forbidden("requires Global Administrator")
}

// ForbiddenError explains why a caller may not perform an operation. It
// matches ErrForbidden.
type ForbiddenError struct {
	// Reason says which rule refused the caller.
	Reason string
}

// Error implements error.
func (e *ForbiddenError) Error() string { return "tenant: forbidden: " + e.Reason }

// Is makes ForbiddenError match ErrForbidden.
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

func forbidden(reason string) error { return &ForbiddenError{Reason: reason} }

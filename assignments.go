package tenantry

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// AssignmentSpec describes an app role assignment.
type AssignmentSpec struct {
	// ResourceID is the resource service principal's object id.
	ResourceID string
	// PrincipalID is a user, group or service principal of the resource's
	// tenant.
	PrincipalID string
	// AppRoleID is a role of the resource, or
	// application.DefaultAccessRoleID for "default access".
	AppRoleID string
	// AppRoleValue names the role by its value instead (as tokens and
	// manifests do); set AppRoleID or AppRoleValue, not both.
	AppRoleValue string
	// Start and End optionally bound the assignment (just-in-time access).
	Start, End *time.Time
}

// AssignAppRole assigns an app role of a resource service principal, named
// by id or by value, to a user, group or client service principal of the
// same tenant. The role must exist, be enabled and allow the principal's
// member type (User for users and groups, Application for service
// principals). Owners of the resource
// service principal and application administrators may assign roles to
// users and groups; an assignment to a service principal is an application
// permission and needs an administrator who may grant admin consent.
func (d *Directory) AssignAppRole(ctx context.Context, actor Actor, spec AssignmentSpec) (serviceprincipal.AppRoleAssignment, error) {
	var out serviceprincipal.AppRoleAssignment
	err := d.mutate(ctx, actor, func(o *op) error {
		res, err := byID(o.tx, store.ServicePrincipals, spec.ResourceID)
		if err != nil {
			return err
		}
		if res.DeletedDateTime != nil {
			return fmt.Errorf("%w: service principal %s", ErrDeleted, res.ID)
		}
		ptype, pname, err := principalOf(o.tx, res.TenantID, spec.PrincipalID)
		if err != nil {
			return err
		}
		if err := o.requireAssigner(res, ptype); err != nil {
			return err
		}
		a, err := newAssignment(d.core, o, res, spec, ptype, pname)
		if err != nil {
			return err
		}
		if err := store.Assignments.Create(o.tx, a); err != nil {
			return err
		}
		out = a.Clone()
		return o.audit(res.TenantID, "appRoleAssignment.create", store.Assignments, a.ID, nil, auditedAssignment(a, res))
	})
	return out, err
}

func newAssignment(d *core, o *op, res serviceprincipal.ServicePrincipal, spec AssignmentSpec, ptype, pname string) (serviceprincipal.AppRoleAssignment, error) {
	a := serviceprincipal.AppRoleAssignment{
		ID: d.newID(), TenantID: res.TenantID, AppRoleID: spec.AppRoleID,
		PrincipalID: spec.PrincipalID, PrincipalType: ptype, PrincipalDisplayName: pname,
		ResourceID: res.ID, ResourceDisplayName: res.DisplayName, CreatedDateTime: o.now,
		StartDateTime: spec.Start, EndDateTime: spec.End,
	}
	if spec.Start != nil && spec.End != nil && !spec.End.After(*spec.Start) {
		return a, &tenant.FieldError{Field: "endDateTime", Reason: "must be after startDateTime"}
	}
	var role application.AppRole
	switch {
	case spec.AppRoleValue != "" && spec.AppRoleID != "":
		return a, &tenant.FieldError{Field: "appRoleId", Reason: "set the role's id or its value, not both"}
	case spec.AppRoleValue != "":
		r, ok := res.RoleByValue(spec.AppRoleValue)
		if !ok {
			return a, &tenant.FieldError{Field: "appRole", Reason: fmt.Sprintf("the resource has no role with value %.120q", spec.AppRoleValue)}
		}
		role, a.AppRoleID = r, r.ID
	case spec.AppRoleID == application.DefaultAccessRoleID:
		return a, nil
	default:
		r, ok := res.RoleByID(spec.AppRoleID)
		if !ok {
			return a, &tenant.FieldError{Field: "appRoleId", Reason: "is not a role of the resource"}
		}
		role = r
	}
	if !role.IsEnabled {
		return a, &tenant.FieldError{Field: "appRoleId", Reason: "the role is disabled"}
	}
	member := application.MemberTypeUser
	if ptype == serviceprincipal.PrincipalServicePrincipal {
		member = application.MemberTypeApplication
	}
	if !role.Allows(member) {
		return a, &tenant.FieldError{Field: "appRoleId", Reason: "the role does not allow member type " + member}
	}
	return a, nil
}

// principalOf finds the type and display name of a user, group or service
// principal of tenantID.
func principalOf(tx store.ReadTx, tenantID, id string) (string, string, error) {
	if u, err := store.Users.Get(tx, id); err == nil {
		if u.TenantID != tenantID {
			return "", "", invalid("principal %s belongs to another tenant", id)
		}
		return serviceprincipal.PrincipalUser, u.DisplayName, nil
	}
	if g, err := store.Groups.Get(tx, id); err == nil {
		if g.TenantID != tenantID {
			return "", "", invalid("principal %s belongs to another tenant", id)
		}
		return serviceprincipal.PrincipalGroup, g.DisplayName, nil
	}
	sp, err := byID(tx, store.ServicePrincipals, id)
	if err != nil {
		return "", "", fmt.Errorf("principal %s: %w", id, err)
	}
	if sp.TenantID != tenantID {
		return "", "", invalid("principal %s belongs to another tenant", id)
	}
	return serviceprincipal.PrincipalServicePrincipal, sp.DisplayName, nil
}

// UnassignAppRole deletes an app role assignment, with the same
// permissions as AssignAppRole.
func (d *Directory) UnassignAppRole(ctx context.Context, actor Actor, assignmentID string) error {
	return d.mutate(ctx, actor, func(o *op) error {
		a, err := byID(o.tx, store.Assignments, assignmentID)
		if err != nil {
			return err
		}
		res, err := store.ServicePrincipals.Get(o.tx, a.ResourceID)
		if err != nil {
			return err
		}
		if err := o.requireAssigner(res, a.PrincipalType); err != nil {
			return err
		}
		if err := store.Assignments.Delete(o.tx, a.ID); err != nil {
			return err
		}
		return o.audit(a.TenantID, "appRoleAssignment.delete", store.Assignments, a.ID, auditedAssignment(a, res), nil)
	})
}

// assignmentRecord is an app role assignment as the audit log records it:
// with the role's value beside its id, as Entra's audit log names the
// role of an assignment (AppRole.Value) among its modified properties.
type assignmentRecord struct {
	serviceprincipal.AppRoleAssignment
	AppRoleValue string `json:"appRoleValue,omitempty"`
}

// auditedAssignment returns a with the value of its role on res (none for
// default access or a role res no longer has).
func auditedAssignment(a serviceprincipal.AppRoleAssignment, res serviceprincipal.ServicePrincipal) assignmentRecord {
	r := assignmentRecord{AppRoleAssignment: a}
	if role, ok := res.RoleByID(a.AppRoleID); ok {
		r.AppRoleValue = role.Value
	}
	return r
}

// requireAssigner checks that the actor may assign (or unassign) a role of
// res to a principal of type ptype: an application permission (to a
// service principal) is admin consent, needing an administrator who may
// grant tenant-wide (Microsoft Graph's only by Global or Privileged Role
// Administrators); a role for a user or group needs an owner of res or an
// application administrator.
func (o *op) requireAssigner(res serviceprincipal.ServicePrincipal, ptype string) error {
	if ptype != serviceprincipal.PrincipalServicePrincipal {
		return o.requireSPManager(res)
	}
	c, err := o.caller(res.TenantID)
	if err != nil {
		return err
	}
	return tenant.CanGrantTenantWide(c, res.AppID == application.MicrosoftGraphAppID)
}

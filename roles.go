package tenantry

import (
	"context"
	"fmt"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// DirectoryRoleSpec names a directory role assignment: the user and the
// role definition (tenant.RoleGlobalAdministrator, ...).
type DirectoryRoleSpec struct {
	// PrincipalID is the object id of a user of the tenant.
	PrincipalID string
	// RoleID is the role definition's id (roleDefinitionId).
	RoleID string
}

// AssignDirectoryRole gives spec.PrincipalID (a user of tenantID) the
// directory role spec.RoleID. Requires Global Administrator.
func (d *Directory) AssignDirectoryRole(ctx context.Context, actor Actor, tenantID string, spec DirectoryRoleSpec) (tenant.RoleAssignment, error) {
	principalID, roleID := spec.PrincipalID, spec.RoleID
	var out tenant.RoleAssignment
	err := d.mutate(ctx, actor, func(o *op) error {
		if err := o.requireDirectoryAdmin(tenantID); err != nil {
			return err
		}
		u, err := byID(o.tx, store.Users, principalID)
		if err != nil {
			return err
		}
		if u.TenantID != tenantID {
			return invalid("user %s belongs to another tenant", principalID)
		}
		ra := tenant.RoleAssignment{ID: d.newID(), TenantID: tenantID, PrincipalID: principalID, RoleDefinitionID: roleID, DirectoryScopeID: "/", CreatedDateTime: o.now}
		if err := ra.Validate(); err != nil {
			return err
		}
		existing, err := store.DirectoryRoles.Lookup(o.tx, store.RoleByPrincipal, principalID)
		if err != nil {
			return err
		}
		for _, e := range existing {
			if e.RoleDefinitionID == roleID {
				return fmt.Errorf("%w: role already assigned", store.ErrAlreadyExists)
			}
		}
		if err := store.DirectoryRoles.Create(o.tx, ra); err != nil {
			return err
		}
		out = ra
		return o.audit(tenantID, "directoryRole.assign", store.DirectoryRoles, ra.ID, nil, ra)
	})
	return out, err
}

// UnassignDirectoryRole deletes a directory role assignment. Requires Global
// Administrator.
func (d *Directory) UnassignDirectoryRole(ctx context.Context, actor Actor, assignmentID string) error {
	return d.mutate(ctx, actor, func(o *op) error {
		ra, err := byID(o.tx, store.DirectoryRoles, assignmentID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(ra.TenantID); err != nil {
			return err
		}
		if err := store.DirectoryRoles.Delete(o.tx, ra.ID); err != nil {
			return err
		}
		return o.audit(ra.TenantID, "directoryRole.remove", store.DirectoryRoles, ra.ID, ra, nil)
	})
}

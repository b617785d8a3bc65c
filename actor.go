package tenantry

import (
	"fmt"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// Actor is who performs an operation: System, or a user given by object id
// with UserActor. A user acts within its own tenant, with its directory
// roles there.
type Actor struct{ userID string }

// System is the actor for operations done by the operator or the library
// itself; it passes every permission check.
var System = Actor{}

// UserActor returns the actor for the user with the given object id.
func UserActor(userID string) Actor { return Actor{userID: userID} }

// UserID returns the user's object id, or "" for System.
func (a Actor) UserID() string { return a.userID }

// String returns "system" or "user:{id}", as written in the audit log.
func (a Actor) String() string {
	if a.userID == "" {
		return "system"
	}
	return "user:" + a.userID
}

// caller loads the acting user (which must belong to tenantID) with its
// directory roles there.
func (o *op) caller(tenantID string) (tenant.Caller, error) {
	return loadCaller(o.tx, o.actor, tenantID)
}

func loadCaller(tx store.ReadTx, actor Actor, tenantID string) (tenant.Caller, error) {
	if actor.userID == "" {
		return tenant.Caller{}, nil
	}
	u, err := store.Users.Get(tx, actor.userID)
	if err != nil {
		return tenant.Caller{}, fmt.Errorf("tenantry: actor %s: %w", actor, err)
	}
	if u.TenantID != tenantID {
		return tenant.Caller{}, &tenant.ForbiddenError{Reason: "the actor is not a user of tenant " + tenantID}
	}
	if !u.AccountEnabled {
		return tenant.Caller{}, &tenant.ForbiddenError{Reason: "the actor's account is disabled"}
	}
	ras, err := store.DirectoryRoles.Lookup(tx, store.RoleByPrincipal, u.ID)
	if err != nil {
		return tenant.Caller{}, err
	}
	c := tenant.Caller{User: u}
	for _, ra := range ras {
		c.Roles = append(c.Roles, ra.RoleDefinitionID)
	}
	return c, nil
}

// requireAppManager checks that the actor may manage app: System, an owner,
// or an application administrator of the home tenant.
func (o *op) requireAppManager(app application.Application) error {
	c, err := o.caller(app.TenantID)
	if err != nil {
		return err
	}
	if c.User.ID == "" || c.Roles.IsAppAdmin() {
		return nil
	}
	if !c.User.AccountEnabled {
		return &tenant.ForbiddenError{Reason: "user account is disabled"}
	}
	for _, id := range app.Owners {
		if id == c.User.ID {
			return nil
		}
	}
	return &tenant.ForbiddenError{Reason: "only owners and application administrators may manage the application"}
}

// requireSPManager checks that the actor may manage sp in its tenant:
// System, an owner of sp, or an application administrator there.
func (o *op) requireSPManager(sp serviceprincipal.ServicePrincipal) error {
	c, err := o.caller(sp.TenantID)
	if err != nil {
		return err
	}
	if c.User.ID == "" || c.Roles.IsAppAdmin() {
		return nil
	}
	for _, id := range sp.Owners {
		if id == c.User.ID && c.User.AccountEnabled {
			return nil
		}
	}
	return &tenant.ForbiddenError{Reason: "only owners and application administrators may manage the service principal"}
}

func (o *op) requireDirectoryAdmin(tenantID string) error {
	c, err := o.caller(tenantID)
	if err != nil {
		return err
	}
	return tenant.CanManageDirectory(c)
}

package tenantry

import (
	"errors"
	"fmt"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// Actor is who performs an operation: the operator (System) or a user of
// a tenant (UserActor), who acts within her own tenant with her directory
// roles there. The zero Actor is no one: every operation refuses it with an
// error matching ErrForbidden and changes nothing, so an actor built from
// a token without an object id never gains powers.
type Actor struct {
	kind   actorKind
	userID string
}

type actorKind uint8

const (
	actorNone actorKind = iota
	actorSystem
	actorUser
)

// System returns the operator's actor: operations done by whoever runs the
// Directory, or by the library itself. It passes every permission check,
// so hand it only to trusted code; nothing a caller sends over a network
// should ever become it.
func System() Actor { return Actor{kind: actorSystem} }

// UserActor returns the actor for the user with the given object id. An
// empty id gives the zero Actor, which every operation refuses.
func UserActor(userID string) Actor {
	if userID == "" {
		return Actor{}
	}
	return Actor{kind: actorUser, userID: userID}
}

// UserID returns the user's object id, or "" for System and the zero Actor.
func (a Actor) UserID() string { return a.userID }

// IsSystem reports whether a is the operator's actor.
func (a Actor) IsSystem() bool { return a.kind == actorSystem }

// IsZero reports whether a is the zero Actor, which has no powers.
func (a Actor) IsZero() bool { return a.kind == actorNone }

// String returns "system", "user:{id}" or "none", as written in the audit
// log.
func (a Actor) String() string {
	switch a.kind {
	case actorSystem:
		return "system"
	case actorUser:
		return "user:" + a.userID
	}
	return "none"
}

// noActor refuses the zero Actor (a new error each time, so that no
// caller can change another's).
func noActor() error {
	return &tenant.ForbiddenError{Reason: "no actor: use tenantry.System() or tenantry.UserActor(id)"}
}

// caller loads the acting user (which must belong to tenantID) with its
// directory roles there.
func (o *op) caller(tenantID string) (tenant.Caller, error) {
	return loadCaller(o.tx, o.actor, tenantID)
}

func loadCaller(tx store.ReadTx, actor Actor, tenantID string) (tenant.Caller, error) {
	switch actor.kind {
	case actorSystem:
		return tenant.SystemCaller(), nil
	case actorNone:
		return tenant.Caller{}, noActor()
	}
	u, err := store.Users.Get(tx, actor.userID)
	if errors.Is(err, store.ErrNotFound) {
		// An id that names no user (say, a service principal's oid from an
		// app-only token) has no powers, as the zero Actor has none.
		return tenant.Caller{}, &tenant.ForbiddenError{Reason: "the actor is not a user of the directory"}
	} else if err != nil {
		return tenant.Caller{}, fmt.Errorf("tenantry: actor %s: %w", actor, err)
	}
	if u.TenantID != tenantID {
		return tenant.Caller{}, &tenant.ForbiddenError{Reason: "the actor is not a user of the object's tenant"}
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
	if c.IsSystem() || c.Roles.IsAppAdmin() {
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
	if c.IsSystem() || c.Roles.IsAppAdmin() {
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

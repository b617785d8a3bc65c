package tenantry

import (
	"context"
	"errors"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// Manifest declares tenants, users, groups, applications, service
// principals, consents, delegated permission grants and role assignments:
// app registration as code, and the seed of a development identity
// provider. Objects are matched by natural keys (tenant id,
// userPrincipalName, group displayName, appId), so a manifest can be
// applied again and again; Plan shows what Apply would change. Object ids
// given in a manifest (users, groups, applications, service principals)
// are the ids Apply creates the objects with, so that a developer's
// configuration can name them. An error of Plan or Apply about one object
// is a *ManifestError locating it.
type Manifest struct {
	// Tenants are the tenants the manifest declares, applied in order.
	Tenants []ManifestTenant `json:"tenants"`
}

// ManifestTenant is one tenant of a Manifest.
type ManifestTenant struct {
	// ID is the tenant id: the key that matches the tenant.
	ID string `json:"id"`
	// DisplayName is the tenant's name; a new tenant's initial
	// {name}.onmicrosoft.com domain is made from it.
	DisplayName string `json:"displayName"`
	// Domains are verified domains of the tenant; on creation the first
	// becomes the default domain. Apply adds missing ones and removes none.
	Domains []string `json:"domains,omitempty"`
	// Policy, when set, replaces the tenant's authorization policy; nil
	// keeps it (tenant.DefaultPolicy for a new tenant).
	Policy *tenant.AuthorizationPolicy `json:"authorizationPolicy,omitempty"`
	// Users are member users of the tenant.
	Users []ManifestUser `json:"users,omitempty"`
	// Groups are groups of the tenant, applied after its users and service
	// principals, in order: a group may contain groups declared before it.
	Groups []ManifestGroup `json:"groups,omitempty"`
	// Applications registered in this tenant (their home); appId is
	// required. A passwordCredentials entry may carry a caller-chosen
	// secretText (16 to 64 characters): Apply stores only its salted digest
	// and hint, as AddPassword does (see [PasswordSpec]), and keeps a stored
	// secret that matches it.
	Applications []application.Application `json:"applications,omitempty"`
	// ServicePrincipals to provision here, for apps of any tenant.
	ServicePrincipals []ManifestServicePrincipal `json:"servicePrincipals,omitempty"`
	// Consents are tenant-wide admin consents (".default").
	Consents []ManifestConsent `json:"consents,omitempty"`
	// Grants are delegated permission grants with explicit scopes, for all
	// users or for one.
	Grants []ManifestGrant `json:"oauth2PermissionGrants,omitempty"`
	// Assignments of app roles to users, groups and service principals of
	// this tenant.
	Assignments []ManifestAssignment `json:"assignments,omitempty"`
}

// ManifestUser is a member user with its directory roles.
type ManifestUser struct {
	// ID is the object id the user is created with; empty means a new one.
	// An existing user with another id is an error.
	ID string `json:"id,omitempty"`
	// UserPrincipalName is the user's sign-in name: the key that matches the
	// user.
	UserPrincipalName string `json:"userPrincipalName"`
	// DisplayName is the user's name.
	DisplayName string `json:"displayName,omitempty"`
	// Mail is the user's e-mail address (mail), set when Apply creates the
	// user.
	Mail string `json:"mail,omitempty"`
	// Password is the user's password for sign-in pages (8 to 256
	// characters), set when Apply creates the user and stored only as an
	// argon2id hash; an existing user's password is left as it is. Plan and
	// Apply never return or record it.
	Password string `json:"password,omitempty"`
	// DirectoryRoles are the directory roles the user holds, by role
	// template id or display name ("Global Administrator"); Apply adds
	// missing ones and removes none.
	DirectoryRoles []string `json:"directoryRoles,omitempty"`
}

// ManifestServicePrincipal provisions an app in the tenant.
type ManifestServicePrincipal struct {
	// ID is the object id the service principal is created with (also for
	// the home-tenant service principal Apply creates with its
	// application); empty means a new one. An existing service principal
	// with another id is an error.
	ID string `json:"id,omitempty"`
	// AppID is the appId of the application to provision.
	AppID string `json:"appId"`
	// AppRoleAssignmentRequired sets the service principal's
	// appRoleAssignmentRequired.
	AppRoleAssignmentRequired bool `json:"appRoleAssignmentRequired,omitempty"`
}

// ManifestConsent is an admin consent to everything the client requires.
type ManifestConsent struct {
	// ClientAppID is the appId of the client consented to.
	ClientAppID string `json:"clientAppId"`
}

// ManifestAssignment assigns the app role with value Role (empty for
// default access) of ResourceAppID's service principal to a user, a group,
// or the service principal of PrincipalAppID: exactly one of them.
type ManifestAssignment struct {
	// ResourceAppID is the appId of the resource that defines the role.
	ResourceAppID string `json:"resourceAppId"`
	// Role is the value of the app role; empty for default access.
	Role string `json:"role,omitempty"`
	// UserPrincipalName names the user assigned the role.
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	// Group is the displayName of the group of the tenant assigned the
	// role.
	Group string `json:"group,omitempty"`
	// PrincipalAppID is the appId of the client whose service principal is
	// assigned the role.
	PrincipalAppID string `json:"principalAppId,omitempty"`
}

// Change is one difference between a manifest and the directory: one
// object Apply creates or changes, and records with one audit event.
type Change struct {
	Action string `json:"action"` // create or update
	// Kind is the object's kind: tenant, user, directoryRole, group,
	// application, servicePrincipal, oauth2PermissionGrant or
	// appRoleAssignment.
	Kind string `json:"kind"`
	// Key is the object's natural key, such as a tenant id, a
	// userPrincipalName or an appId.
	Key string `json:"key"`
	// TenantID is the tenant of the object.
	TenantID string `json:"tenantId"`
	// Modified lists an update's modified properties, by Graph name with
	// old and new JSON values (secrets removed).
	Modified []ModifiedProperty `json:"modifiedProperties,omitempty"`
}

// String returns "action kind key".
func (c Change) String() string { return c.Action + " " + c.Kind + " " + c.Key }

var errNoChange = errors.New("no change")

// Plan returns the changes Apply would make, without making them. Only
// System plans, as only System applies: a manifest spans tenants.
func (d *Directory) Plan(ctx context.Context, actor Actor, m Manifest) ([]Change, error) {
	switch {
	case actor.IsZero():
		return nil, noActor()
	case !actor.IsSystem():
		return nil, &tenant.ForbiddenError{Reason: "only the system plans manifests"}
	}
	var plan []Change
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o := &op{d: d.core, tx: tx, now: d.clock(), actor: System()}
		p, err := d.applyIn(o, m)
		plan = p
		if err != nil {
			return err
		}
		return errNoChange // never commit a plan
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return plan, err
}

// Apply makes the directory match the manifest in one transaction and
// returns the changes. It is the one operation that changes several objects
// at once, and it writes one audit event per object it creates or changes,
// in its tenant: a created object whole, a changed one by its modified
// properties, as the operation that makes that change alone would record
// it (tenant.create, user.update, directoryRole.assign, group.create,
// group.update, application.create, servicePrincipal.create,
// oauth2PermissionGrant.create, appRoleAssignment.create, …). No secret or
// password reaches the returned changes or the audit log. Applying the same manifest again changes
// nothing and writes no event. Objects not named in the manifest are left
// alone. Only System may apply manifests.
func (d *Directory) Apply(ctx context.Context, actor Actor, m Manifest) ([]Change, error) {
	if actor != System() {
		return nil, &tenant.ForbiddenError{Reason: "only the system applies manifests"}
	}
	var plan []Change
	err := d.mutatePerObject(ctx, actor, func(o *op) error {
		p, err := d.applyIn(o, m)
		plan = p
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return errNoChange
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return plan, err
}

// manifestRun records what applying a manifest changes: each object as a
// Change and as that object's audit event.
type manifestRun struct {
	o    *op
	plan []Change
	// spIDs are the explicit service principal ids of the manifest, by
	// store.AppTenantKey.
	spIDs map[string]explicitID
}

// explicitID is an object id a manifest gives, and where.
type explicitID struct {
	id   string
	path string // the object's ManifestError.Path
}

// object names one object of a manifest run.
type object struct {
	tenantID string
	kind     string     // Change.Kind, and the audit action's prefix
	key      string     // natural key, Change.Key
	k        store.Kind // the audit event's target kind
	id       string     // the object id, the audit event's target
}

// created records a created object, whole; action is its audit action.
func (r *manifestRun) created(obj object, action string, v any) error {
	r.plan = append(r.plan, Change{Action: "create", Kind: obj.kind, Key: obj.key, TenantID: obj.tenantID})
	return r.o.audit(obj.tenantID, action, obj.k, obj.id, nil, v)
}

// updated records a changed object by its modified properties.
func (r *manifestRun) updated(obj object, before, after any) error {
	mods, _ := modifiedProperties(before, after)
	r.plan = append(r.plan, Change{Action: "update", Kind: obj.kind, Key: obj.key, TenantID: obj.tenantID, Modified: mods})
	return r.o.audit(obj.tenantID, obj.kind+".update", obj.k, obj.id, before, after)
}

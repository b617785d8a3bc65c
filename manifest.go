package tenantry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/internal/deep"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// Manifest declares tenants, users, applications, service principals,
// consents and role assignments: app registration as code. Objects are
// matched by natural keys (tenant id, userPrincipalName, appId), so a
// manifest can be applied again and again; Plan shows what Apply would
// change.
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
	// Applications registered in this tenant (their home); appId is
	// required.
	Applications []application.Application `json:"applications,omitempty"`
	// ServicePrincipals to provision here, for apps of any tenant.
	ServicePrincipals []ManifestServicePrincipal `json:"servicePrincipals,omitempty"`
	// Consents are tenant-wide admin consents (".default").
	Consents []ManifestConsent `json:"consents,omitempty"`
	// Assignments of app roles to users of this tenant.
	Assignments []ManifestAssignment `json:"assignments,omitempty"`
}

// ManifestUser is a member user with its directory roles.
type ManifestUser struct {
	// UserPrincipalName is the user's sign-in name: the key that matches the
	// user.
	UserPrincipalName string `json:"userPrincipalName"`
	// DisplayName is the user's name.
	DisplayName string `json:"displayName,omitempty"`
	// DirectoryRoles are the ids (role template ids) of the directory roles
	// the user holds; Apply adds missing ones and removes none.
	DirectoryRoles []string `json:"directoryRoles,omitempty"`
}

// ManifestServicePrincipal provisions an app in the tenant.
type ManifestServicePrincipal struct {
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
// default access) of ResourceAppID's service principal to a user, or to
// the service principal of PrincipalAppID.
type ManifestAssignment struct {
	// ResourceAppID is the appId of the resource that defines the role.
	ResourceAppID string `json:"resourceAppId"`
	// Role is the value of the app role; empty for default access.
	Role string `json:"role,omitempty"`
	// UserPrincipalName names the user assigned the role.
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	// PrincipalAppID is the appId of the client whose service principal is
	// assigned the role.
	PrincipalAppID string `json:"principalAppId,omitempty"`
}

// Change is one difference between a manifest and the directory: one
// object Apply creates or changes, and records with one audit event.
type Change struct {
	Action string `json:"action"` // create or update
	// Kind is the object's kind: tenant, user, directoryRole, application,
	// servicePrincipal, oauth2PermissionGrant or appRoleAssignment.
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
// it (tenant.create, user.update, directoryRole.assign, application.create,
// servicePrincipal.create, oauth2PermissionGrant.create,
// appRoleAssignment.create, …). Applying the same manifest again changes
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

func (d *core) applyIn(o *op, m Manifest) ([]Change, error) {
	r := &manifestRun{o: o}
	// Tenants, users and applications first: later sections refer to them.
	for _, mt := range m.Tenants {
		if err := d.applyTenant(r, mt); err != nil {
			return r.plan, fmt.Errorf("tenant %s: %w", mt.ID, err)
		}
	}
	for _, mt := range m.Tenants {
		for _, app := range mt.Applications {
			if err := d.applyApp(r, mt.ID, app); err != nil {
				return r.plan, fmt.Errorf("application %s: %w", app.AppID, err)
			}
		}
	}
	for _, mt := range m.Tenants {
		if err := d.applyLinks(r, mt); err != nil {
			return r.plan, fmt.Errorf("tenant %s: %w", mt.ID, err)
		}
	}
	return r.plan, nil
}

func (d *core) applyTenant(r *manifestRun, mt ManifestTenant) error {
	o := r.o
	t, err := store.Tenants.Get(o.tx, mt.ID)
	tobj := object{tenantID: mt.ID, kind: "tenant", key: mt.ID, k: store.Tenants, id: mt.ID}
	switch {
	case errors.Is(err, store.ErrNotFound):
		t = tenant.Tenant{ID: mt.ID, DisplayName: mt.DisplayName, TenantType: tenant.TypeAAD, Policy: tenant.DefaultPolicy(), CreatedDateTime: o.now}
		if mt.Policy != nil {
			t.Policy = mt.Policy.Clone()
		}
		for i, dom := range mt.Domains {
			t.VerifiedDomains = append(t.VerifiedDomains, tenant.VerifiedDomain{Name: strings.ToLower(dom), IsDefault: i == 0, Type: "Managed"})
		}
		t.VerifiedDomains = append(t.VerifiedDomains, tenant.VerifiedDomain{Name: tenant.InitialDomain(mt.DisplayName), IsInitial: true, IsDefault: len(mt.Domains) == 0, Type: "Managed"})
		if err := t.Validate(); err != nil {
			return err
		}
		if err := store.Tenants.Create(o.tx, t); err != nil {
			return err
		}
		if err := r.created(tobj, "tenant.create", t); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		nt := t.Clone()
		nt.DisplayName = mt.DisplayName
		if mt.Policy != nil {
			nt.Policy = mt.Policy.Clone()
		}
		for _, dom := range mt.Domains {
			if !nt.HasDomain(dom) {
				nt.VerifiedDomains = append(nt.VerifiedDomains, tenant.VerifiedDomain{Name: strings.ToLower(dom), Type: "Managed"})
			}
		}
		if !t.Equal(nt) {
			if err := nt.Validate(); err != nil {
				return err
			}
			if err := store.Tenants.Put(o.tx, nt); err != nil {
				return err
			}
			if err := r.updated(tobj, t, nt); err != nil {
				return err
			}
		}
	}
	cur, err := store.Tenants.Get(o.tx, mt.ID)
	if err != nil {
		return err
	}
	for _, mu := range mt.Users {
		u, err := store.Users.One(o.tx, store.UserByUPN, strings.ToLower(mu.UserPrincipalName))
		uobj := object{tenantID: mt.ID, kind: "user", key: mu.UserPrincipalName, k: store.Users, id: u.ID}
		switch {
		case errors.Is(err, store.ErrNotFound):
			u = tenant.User{ID: d.newID(), TenantID: mt.ID, UserPrincipalName: mu.UserPrincipalName, DisplayName: mu.DisplayName,
				AccountEnabled: true, UserType: tenant.Member, CreatedDateTime: o.now, SignInSessionsValidFromDateTime: o.now}
			if err := u.Validate(); err != nil {
				return err
			}
			if err := checkUPN(o, cur, u.UserPrincipalName, u.UserType); err != nil {
				return err
			}
			if err := store.Users.Create(o.tx, u); err != nil {
				return err
			}
			uobj.id = u.ID
			if err := r.created(uobj, "user.create", u); err != nil {
				return err
			}
		case err != nil:
			return err
		case u.TenantID != mt.ID:
			return invalid("user %s belongs to another tenant", mu.UserPrincipalName)
		case u.DisplayName != mu.DisplayName:
			nu := u.Clone()
			nu.DisplayName = mu.DisplayName
			if err := store.Users.Put(o.tx, nu); err != nil {
				return err
			}
			if err := r.updated(uobj, u, nu); err != nil {
				return err
			}
		}
		held, err := store.DirectoryRoles.Lookup(o.tx, store.RoleByPrincipal, u.ID)
		if err != nil {
			return err
		}
		for _, role := range mu.DirectoryRoles {
			if slices.ContainsFunc(held, func(r tenant.RoleAssignment) bool { return r.RoleDefinitionID == role }) {
				continue
			}
			ra := tenant.RoleAssignment{ID: d.newID(), TenantID: mt.ID, PrincipalID: u.ID, RoleDefinitionID: role, DirectoryScopeID: "/", CreatedDateTime: o.now}
			if err := ra.Validate(); err != nil {
				return err
			}
			if err := store.DirectoryRoles.Create(o.tx, ra); err != nil {
				return err
			}
			robj := object{tenantID: mt.ID, kind: "directoryRole", key: mu.UserPrincipalName + "/" + tenant.RoleName(role), k: store.DirectoryRoles, id: ra.ID}
			if err := r.created(robj, "directoryRole.assign", ra); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *core) applyApp(r *manifestRun, tenantID string, app application.Application) error {
	o := r.o
	if app.AppID == "" {
		return invalid("a manifest application needs its appId")
	}
	t, err := store.Tenants.Get(o.tx, tenantID)
	if err != nil {
		return err
	}
	cur, err := store.Applications.One(o.tx, store.AppByAppID, app.AppID)
	if errors.Is(err, store.ErrNotFound) {
		na := app.Clone()
		na.FillPermissionIDs(application.Application{}, d.newID)
		a, sp, err := d.createApp(o, t, na)
		if err != nil {
			return err
		}
		if err := r.created(object{tenantID: tenantID, kind: "application", key: a.AppID, k: store.Applications, id: a.ID}, "application.create", a); err != nil {
			return err
		}
		return r.created(object{tenantID: tenantID, kind: "servicePrincipal", key: a.AppID, k: store.ServicePrincipals, id: sp.ID}, "servicePrincipal.create", sp)
	}
	if err != nil {
		return err
	}
	if cur.TenantID != tenantID {
		return invalid("application %s is registered in tenant %s", app.AppID, cur.TenantID)
	}
	if cur.IsDeleted() {
		return fmt.Errorf("%w: application %s", ErrDeleted, app.AppID)
	}
	// The manifest names the application by appId: its id, home tenant and
	// creation time come from the stored object, and what it leaves out
	// (null) of owners and credentials stays as it is.
	a := app.Clone()
	a.ID, a.TenantID, a.CreatedDateTime = cur.ID, cur.TenantID, cur.CreatedDateTime
	if a.SignInAudience == "" {
		a.SignInAudience = application.AzureADMyOrg
	}
	if a.PasswordCredentials == nil {
		a.PasswordCredentials = cur.PasswordCredentials
	}
	if a.Owners == nil {
		a.Owners = cur.Owners
	}
	if a.KeyCredentials == nil {
		a.KeyCredentials = cur.KeyCredentials
	}
	if a.FederatedIdentityCredentials == nil {
		a.FederatedIdentityCredentials = cur.FederatedIdentityCredentials
	}
	a.FillPermissionIDs(cur, d.newID)
	changed, err := d.updateApp(o, cur, &a)
	if err != nil || !changed {
		return err
	}
	// The copies of roles and scopes its service principals keep follow
	// the application; its event covers them, as UpdateApplication's does.
	return r.updated(object{tenantID: tenantID, kind: "application", key: a.AppID, k: store.Applications, id: a.ID}, cur, a)
}

func (d *core) applyLinks(r *manifestRun, mt ManifestTenant) error {
	o := r.o
	for _, ms := range mt.ServicePrincipals {
		app, err := store.Applications.One(o.tx, store.AppByAppID, ms.AppID)
		if err != nil {
			return fmt.Errorf("service principal %s: %w", ms.AppID, err)
		}
		sp, created, err := d.ensureSP(o, app, mt.ID)
		if err != nil {
			return err
		}
		nsp := sp
		if sp.AppRoleAssignmentRequired != ms.AppRoleAssignmentRequired {
			nsp = sp.Clone()
			nsp.AppRoleAssignmentRequired = ms.AppRoleAssignmentRequired
			if err := store.ServicePrincipals.Put(o.tx, nsp); err != nil {
				return err
			}
		}
		spobj := object{tenantID: mt.ID, kind: "servicePrincipal", key: ms.AppID, k: store.ServicePrincipals, id: sp.ID}
		switch {
		case created:
			err = r.created(spobj, "servicePrincipal.create", nsp)
		case !nsp.Equal(sp):
			err = r.updated(spobj, sp, nsp)
		}
		if err != nil {
			return err
		}
	}
	for _, mc := range mt.Consents {
		if err := d.applyConsent(r, mt.ID, mc); err != nil {
			return fmt.Errorf("consent %s: %w", mc.ClientAppID, err)
		}
	}
	for _, ma := range mt.Assignments {
		a, err := d.applyAssignment(o, mt.ID, ma)
		if err != nil {
			return fmt.Errorf("assignment of %s on %s: %w", ma.Role, ma.ResourceAppID, err)
		}
		if a == nil {
			continue
		}
		key := ma.ResourceAppID + "/" + ma.Role + "/" + ma.UserPrincipalName + ma.PrincipalAppID
		if err := r.created(object{tenantID: mt.ID, kind: "appRoleAssignment", key: key, k: store.Assignments, id: a.ID}, "appRoleAssignment.create", *a); err != nil {
			return err
		}
	}
	return nil
}

// applyConsent grants a tenant-wide admin consent and records each object
// it creates or changes: service principals provisioned, delegated
// permission grants created or widened, app role assignments created.
func (d *core) applyConsent(r *manifestRun, tenantID string, mc ManifestConsent) error {
	o := r.o
	before := map[string]consent.Grant{}
	if sp, err := store.ServicePrincipals.One(o.tx, store.SPByAppTenant, store.AppTenantKey(mc.ClientAppID, tenantID)); err == nil {
		gs, err := store.Grants.Lookup(o.tx, store.GrantByClient, sp.ID)
		if err != nil {
			return err
		}
		for _, g := range gs {
			before[g.ID] = g
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	res, err := d.consentIn(o, tenantID, ConsentSpec{ClientAppID: mc.ClientAppID, Default: true, TenantWide: true})
	if err != nil {
		return err
	}
	appOf := func(spID string) string {
		if sp, err := store.ServicePrincipals.Get(o.tx, spID); err == nil {
			return sp.AppID
		}
		return spID
	}
	for _, sp := range res.Created {
		if err := r.created(object{tenantID: tenantID, kind: "servicePrincipal", key: sp.AppID, k: store.ServicePrincipals, id: sp.ID}, "servicePrincipal.create", sp); err != nil {
			return err
		}
	}
	for _, g := range res.Grants {
		gobj := object{tenantID: tenantID, kind: "oauth2PermissionGrant", key: mc.ClientAppID + "/" + appOf(g.ResourceID), k: store.Grants, id: g.ID}
		old, existed := before[g.ID]
		switch {
		case !existed:
			err = r.created(gobj, "oauth2PermissionGrant.create", g)
		case !deep.Equal(old, g):
			err = r.updated(gobj, old, g)
		}
		if err != nil {
			return err
		}
	}
	for _, a := range res.Assignments {
		key := appOf(a.ResourceID) + "/" + a.AppRoleID + "/" + mc.ClientAppID
		if err := r.created(object{tenantID: tenantID, kind: "appRoleAssignment", key: key, k: store.Assignments, id: a.ID}, "appRoleAssignment.create", a); err != nil {
			return err
		}
	}
	return nil
}

// applyAssignment creates the assignment ma names unless it exists; it
// returns the one it created, or nil.
func (d *core) applyAssignment(o *op, tenantID string, ma ManifestAssignment) (*serviceprincipal.AppRoleAssignment, error) {
	res, err := store.ServicePrincipals.One(o.tx, store.SPByAppTenant, store.AppTenantKey(ma.ResourceAppID, tenantID))
	if err != nil {
		return nil, err
	}
	roleID := application.DefaultAccessRoleID
	if ma.Role != "" {
		i := slices.IndexFunc(res.AppRoles, func(r application.AppRole) bool { return r.Value == ma.Role })
		if i < 0 {
			return nil, &tenant.FieldError{Field: "role", Reason: "the resource has no role " + ma.Role}
		}
		roleID = res.AppRoles[i].ID
	}
	var principalID string
	switch {
	case ma.UserPrincipalName != "":
		u, err := store.Users.One(o.tx, store.UserByUPN, strings.ToLower(ma.UserPrincipalName))
		if err != nil {
			return nil, err
		}
		principalID = u.ID
	case ma.PrincipalAppID != "":
		sp, err := store.ServicePrincipals.One(o.tx, store.SPByAppTenant, store.AppTenantKey(ma.PrincipalAppID, tenantID))
		if err != nil {
			return nil, err
		}
		principalID = sp.ID
	default:
		return nil, invalid("an assignment needs userPrincipalName or principalAppId")
	}
	existing, err := store.Assignments.Lookup(o.tx, store.AssignmentByPrincipal, principalID)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(existing, func(a serviceprincipal.AppRoleAssignment) bool {
		return a.ResourceID == res.ID && a.AppRoleID == roleID
	}) {
		return nil, nil
	}
	ptype, pname, err := principalOf(o.tx, tenantID, principalID)
	if err != nil {
		return nil, err
	}
	a, err := newAssignment(d, o, res, AssignmentSpec{ResourceID: res.ID, PrincipalID: principalID, AppRoleID: roleID}, ptype, pname)
	if err != nil {
		return nil, err
	}
	if err := store.Assignments.Create(o.tx, a); err != nil {
		return nil, err
	}
	return &a, nil
}

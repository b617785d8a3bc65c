package tenantry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/application"
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
	Tenants []ManifestTenant `json:"tenants"`
}

// ManifestTenant is one tenant of a Manifest.
type ManifestTenant struct {
	ID          string                      `json:"id"`
	DisplayName string                      `json:"displayName"`
	Domains     []string                    `json:"domains,omitempty"`
	Policy      *tenant.AuthorizationPolicy `json:"authorizationPolicy,omitempty"`
	Users       []ManifestUser              `json:"users,omitempty"`
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
	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName,omitempty"`
	DirectoryRoles    []string `json:"directoryRoles,omitempty"`
}

// ManifestServicePrincipal provisions an app in the tenant.
type ManifestServicePrincipal struct {
	AppID                     string `json:"appId"`
	AppRoleAssignmentRequired bool   `json:"appRoleAssignmentRequired,omitempty"`
}

// ManifestConsent is an admin consent to everything the client requires.
type ManifestConsent struct {
	ClientAppID string `json:"clientAppId"`
}

// ManifestAssignment assigns the app role with value Role (empty for
// default access) of ResourceAppID's service principal to a user, or to
// the service principal of PrincipalAppID.
type ManifestAssignment struct {
	ResourceAppID     string `json:"resourceAppId"`
	Role              string `json:"role,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	PrincipalAppID    string `json:"principalAppId,omitempty"`
}

// Change is one difference between a manifest and the directory.
type Change struct {
	Action string `json:"action"` // create or update
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	// Modified lists an update's modified properties, by Graph name with
	// old and new JSON values (secrets removed).
	Modified []ModifiedProperty `json:"modifiedProperties,omitempty"`
}

// String returns "action kind key".
func (c Change) String() string { return c.Action + " " + c.Kind + " " + c.Key }

var errNoChange = errors.New("no change")

// Plan returns the changes Apply would make, without making them.
func (d *Directory) Plan(ctx context.Context, m Manifest) ([]Change, error) {
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

// Apply makes the directory match the manifest in one transaction, with one
// audit event listing the changes, and returns them. Applying the same
// manifest again changes nothing and writes no event. Objects not named in
// the manifest are left alone. Only System may apply manifests.
func (d *Directory) Apply(ctx context.Context, actor Actor, m Manifest) ([]Change, error) {
	if actor != System() {
		return nil, &tenant.ForbiddenError{Reason: "only the system applies manifests"}
	}
	var plan []Change
	err := d.mutate(ctx, actor, func(o *op) error {
		p, err := d.applyIn(o, m)
		plan = p
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return errNoChange
		}
		return o.audit("", "manifest.apply", store.Tenants, "", nil, p)
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return plan, err
}

func (d *core) applyIn(o *op, m Manifest) ([]Change, error) {
	var plan []Change
	add := func(action, kind, key string, before, after any) {
		c := Change{Action: action, Kind: kind, Key: key}
		if mods, ok := modifiedProperties(before, after); ok {
			c.Modified = mods
		} else if before != nil || after != nil {
			c.Modified = []ModifiedProperty{{Name: kind, OldValue: redactJSON(before), NewValue: redactJSON(after)}}
		}
		plan = append(plan, c)
	}
	// Tenants, users and applications first: later sections refer to them.
	for _, mt := range m.Tenants {
		if err := d.applyTenant(o, mt, add); err != nil {
			return plan, fmt.Errorf("tenant %s: %w", mt.ID, err)
		}
	}
	for _, mt := range m.Tenants {
		for _, app := range mt.Applications {
			if err := d.applyApp(o, mt.ID, app, add); err != nil {
				return plan, fmt.Errorf("application %s: %w", app.AppID, err)
			}
		}
	}
	for _, mt := range m.Tenants {
		if err := d.applyLinks(o, mt, add); err != nil {
			return plan, fmt.Errorf("tenant %s: %w", mt.ID, err)
		}
	}
	return plan, nil
}

type addFunc func(action, kind, key string, before, after any)

func (d *core) applyTenant(o *op, mt ManifestTenant, add addFunc) error {
	t, err := store.Tenants.Get(o.tx, mt.ID)
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
		add("create", "tenant", t.ID, nil, nil)
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
			add("update", "tenant", t.ID, t, nt)
		}
	}
	cur, err := store.Tenants.Get(o.tx, mt.ID)
	if err != nil {
		return err
	}
	for _, mu := range mt.Users {
		u, err := store.Users.One(o.tx, store.UserByUPN, strings.ToLower(mu.UserPrincipalName))
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
			add("create", "user", mu.UserPrincipalName, nil, nil)
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
			add("update", "user", mu.UserPrincipalName, u, nu)
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
			add("create", "directoryRole", mu.UserPrincipalName+"/"+tenant.RoleName(role), nil, nil)
		}
	}
	return nil
}

func (d *core) applyApp(o *op, tenantID string, app application.Application, add addFunc) error {
	if app.AppID == "" {
		return invalid("a manifest application needs its appId")
	}
	t, err := store.Tenants.Get(o.tx, tenantID)
	if err != nil {
		return err
	}
	cur, err := store.Applications.One(o.tx, store.AppByAppID, app.AppID)
	if errors.Is(err, store.ErrNotFound) {
		a, err := d.createApp(o, t, app.Clone())
		if err != nil {
			return err
		}
		add("create", "application", a.AppID, nil, nil)
		return nil
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
	changed, err := d.updateApp(o, cur, &a)
	if err != nil || !changed {
		return err
	}
	add("update", "application", a.AppID, cur, a)
	return nil
}

func (d *core) applyLinks(o *op, mt ManifestTenant, add addFunc) error {
	for _, ms := range mt.ServicePrincipals {
		app, err := store.Applications.One(o.tx, store.AppByAppID, ms.AppID)
		if err != nil {
			return fmt.Errorf("service principal %s: %w", ms.AppID, err)
		}
		sp, created, err := d.ensureSP(o, app, mt.ID)
		if err != nil {
			return err
		}
		if created {
			add("create", "servicePrincipal", ms.AppID, nil, nil)
		}
		if sp.AppRoleAssignmentRequired != ms.AppRoleAssignmentRequired {
			nsp := sp.Clone()
			nsp.AppRoleAssignmentRequired = ms.AppRoleAssignmentRequired
			if err := store.ServicePrincipals.Put(o.tx, nsp); err != nil {
				return err
			}
			if !created {
				add("update", "servicePrincipal", ms.AppID, sp, nsp)
			}
		}
	}
	for _, mc := range mt.Consents {
		before, err := consentSnapshot(o.tx, mt.ID, mc.ClientAppID)
		if err != nil {
			return err
		}
		if _, err := d.consentIn(o, mt.ID, ConsentSpec{ClientAppID: mc.ClientAppID, Default: true, TenantWide: true}); err != nil {
			return fmt.Errorf("consent %s: %w", mc.ClientAppID, err)
		}
		after, err := consentSnapshot(o.tx, mt.ID, mc.ClientAppID)
		if err != nil {
			return err
		}
		if !slices.Equal(before, after) {
			action := "update"
			if len(before) == 0 {
				action = "create"
			}
			add(action, "consent", mc.ClientAppID, before, after)
		}
	}
	for _, ma := range mt.Assignments {
		changed, err := d.applyAssignment(o, mt.ID, ma)
		if err != nil {
			return fmt.Errorf("assignment of %s on %s: %w", ma.Role, ma.ResourceAppID, err)
		}
		if changed {
			add("create", "appRoleAssignment", ma.ResourceAppID+"/"+ma.Role+"/"+ma.UserPrincipalName+ma.PrincipalAppID, nil, nil)
		}
	}
	return nil
}

// consentSnapshot lists the grants and assignments held by a client's
// service principal in a tenant, for change detection.
func consentSnapshot(tx store.ReadTx, tenantID, clientAppID string) ([]string, error) {
	sp, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(clientAppID, tenantID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []string
	gs, err := store.Grants.Lookup(tx, store.GrantByClient, sp.ID)
	if err != nil {
		return nil, err
	}
	appOf := func(spID string) string {
		if res, err := store.ServicePrincipals.Get(tx, spID); err == nil {
			return res.AppID
		}
		return spID
	}
	for _, g := range gs {
		out = append(out, "grant "+g.ConsentType+" "+appOf(g.ResourceID)+" "+g.Scope)
	}
	as, err := store.Assignments.Lookup(tx, store.AssignmentByPrincipal, sp.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		out = append(out, "role "+appOf(a.ResourceID)+" "+a.AppRoleID)
	}
	slices.Sort(out)
	return out, nil
}

func (d *core) applyAssignment(o *op, tenantID string, ma ManifestAssignment) (bool, error) {
	res, err := store.ServicePrincipals.One(o.tx, store.SPByAppTenant, store.AppTenantKey(ma.ResourceAppID, tenantID))
	if err != nil {
		return false, err
	}
	roleID := application.DefaultAccessRoleID
	if ma.Role != "" {
		i := slices.IndexFunc(res.AppRoles, func(r application.AppRole) bool { return r.Value == ma.Role })
		if i < 0 {
			return false, &tenant.FieldError{Field: "role", Reason: "the resource has no role " + ma.Role}
		}
		roleID = res.AppRoles[i].ID
	}
	var principalID string
	switch {
	case ma.UserPrincipalName != "":
		u, err := store.Users.One(o.tx, store.UserByUPN, strings.ToLower(ma.UserPrincipalName))
		if err != nil {
			return false, err
		}
		principalID = u.ID
	case ma.PrincipalAppID != "":
		sp, err := store.ServicePrincipals.One(o.tx, store.SPByAppTenant, store.AppTenantKey(ma.PrincipalAppID, tenantID))
		if err != nil {
			return false, err
		}
		principalID = sp.ID
	default:
		return false, invalid("an assignment needs userPrincipalName or principalAppId")
	}
	existing, err := store.Assignments.Lookup(o.tx, store.AssignmentByPrincipal, principalID)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(existing, func(a serviceprincipal.AppRoleAssignment) bool {
		return a.ResourceID == res.ID && a.AppRoleID == roleID
	}) {
		return false, nil
	}
	ptype, pname, err := principalOf(o.tx, tenantID, principalID)
	if err != nil {
		return false, err
	}
	a, err := newAssignment(d, o, res, AssignmentSpec{ResourceID: res.ID, PrincipalID: principalID, AppRoleID: roleID}, ptype, pname)
	if err != nil {
		return false, err
	}
	return true, store.Assignments.Create(o.tx, a)
}

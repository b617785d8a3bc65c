package tenantry

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/internal/guid"
	"github.com/tenantry/tenantry/internal/password"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// maxManifestPassword bounds a manifest user's password: caller input is
// bounded before the slow hash sees it.
const maxManifestPassword = 256

func (d *core) applyIn(o *op, m Manifest) ([]Change, error) {
	r := &manifestRun{o: o, spIDs: map[string]explicitID{}}
	// Explicit service principal ids first: a home-tenant service principal
	// is created with its application.
	for i, mt := range m.Tenants {
		for j, ms := range mt.ServicePrincipals {
			if ms.ID == "" {
				continue
			}
			path := fmt.Sprintf("tenants[%d].servicePrincipals[%d]", i, j)
			if !guid.Valid(ms.ID) {
				return nil, manifestErr(path, ms.AppID, &tenant.FieldError{Field: "id", Reason: "must be a GUID"})
			}
			r.spIDs[store.AppTenantKey(ms.AppID, mt.ID)] = explicitID{id: ms.ID, path: path}
		}
	}
	// Tenants, users and applications first: later sections refer to them.
	for i, mt := range m.Tenants {
		if err := d.applyTenant(r, i, mt); err != nil {
			return r.plan, err
		}
	}
	for i, mt := range m.Tenants {
		for j, app := range mt.Applications {
			if err := d.applyApp(r, mt.ID, app); err != nil {
				name := app.DisplayName
				if name == "" {
					name = app.AppID
				}
				return r.plan, manifestErr(fmt.Sprintf("tenants[%d].applications[%d]", i, j), name, err)
			}
		}
	}
	for i, mt := range m.Tenants {
		if err := d.applyLinks(r, i, mt); err != nil {
			return r.plan, err
		}
	}
	return r.plan, nil
}

func (d *core) applyTenant(r *manifestRun, i int, mt ManifestTenant) error {
	path := fmt.Sprintf("tenants[%d]", i)
	if err := d.applyTenantObject(r, mt); err != nil {
		return manifestErr(path, mt.DisplayName, err)
	}
	cur, err := store.Tenants.Get(r.o.tx, mt.ID)
	if err != nil {
		return manifestErr(path, mt.DisplayName, err)
	}
	for j, mu := range mt.Users {
		if err := d.applyUser(r, cur, mu); err != nil {
			return manifestErr(fmt.Sprintf("%s.users[%d]", path, j), mu.UserPrincipalName, err)
		}
	}
	return nil
}

func (d *core) applyTenantObject(r *manifestRun, mt ManifestTenant) error {
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
		return r.created(tobj, "tenant.create", t)
	case err != nil:
		return err
	}
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
	if t.Equal(nt) {
		return nil
	}
	if err := nt.Validate(); err != nil {
		return err
	}
	if err := store.Tenants.Put(o.tx, nt); err != nil {
		return err
	}
	return r.updated(tobj, t, nt)
}

// applyUser creates or updates the user mu declares in t and gives it the
// directory roles mu names.
func (d *core) applyUser(r *manifestRun, t tenant.Tenant, mu ManifestUser) error {
	o := r.o
	if err := checkManifestPassword(mu.Password); err != nil {
		return err
	}
	u, err := store.Users.One(o.tx, store.UserByUPN, strings.ToLower(mu.UserPrincipalName))
	uobj := object{tenantID: t.ID, kind: "user", key: mu.UserPrincipalName, k: store.Users, id: u.ID}
	switch {
	case errors.Is(err, store.ErrNotFound):
		id := mu.ID
		if id == "" {
			id = d.newID()
		} else if err := idFree(o.tx, id); err != nil {
			return err
		}
		u = tenant.User{ID: id, TenantID: t.ID, UserPrincipalName: mu.UserPrincipalName, DisplayName: mu.DisplayName, Mail: mu.Mail,
			AccountEnabled: true, UserType: tenant.Member, CreatedDateTime: o.now, SignInSessionsValidFromDateTime: o.now}
		if err := u.Validate(); err != nil {
			return err
		}
		if err := checkUPN(o, t, u.UserPrincipalName, u.UserType); err != nil {
			return err
		}
		if mu.Password != "" {
			h, err := password.Hash(mu.Password, password.DefaultParams)
			if err != nil {
				return err
			}
			u.PasswordHash = &h
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
	case u.TenantID != t.ID:
		return invalid("user %s belongs to another tenant", mu.UserPrincipalName)
	case mu.ID != "" && mu.ID != u.ID:
		return &tenant.FieldError{Field: "id", Reason: "the user exists with id " + u.ID}
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
	for k, name := range mu.DirectoryRoles {
		role := directoryRoleID(name)
		if tenant.RoleName(role) == "" {
			return &tenant.FieldError{Field: fmt.Sprintf("directoryRoles[%d]", k), Reason: "is not a supported directory role"}
		}
		if slices.ContainsFunc(held, func(r tenant.RoleAssignment) bool { return r.RoleDefinitionID == role }) {
			continue
		}
		ra := tenant.RoleAssignment{ID: d.newID(), TenantID: t.ID, PrincipalID: u.ID, RoleDefinitionID: role, DirectoryScopeID: "/", CreatedDateTime: o.now}
		if err := ra.Validate(); err != nil {
			return err
		}
		if err := store.DirectoryRoles.Create(o.tx, ra); err != nil {
			return err
		}
		held = append(held, ra)
		robj := object{tenantID: t.ID, kind: "directoryRole", key: mu.UserPrincipalName + "/" + tenant.RoleName(role), k: store.DirectoryRoles, id: ra.ID}
		if err := r.created(robj, "directoryRole.assign", ra); err != nil {
			return err
		}
	}
	return nil
}

// checkManifestPassword bounds a manifest user's password; the empty
// password means none.
func checkManifestPassword(pw string) error {
	switch {
	case pw == "":
		return nil
	case len(pw) < tenant.MinPasswordLength:
		return &tenant.FieldError{Field: "password", Reason: fmt.Sprintf("is shorter than %d characters", tenant.MinPasswordLength)}
	case len(pw) > maxManifestPassword:
		return &tenant.FieldError{Field: "password", Reason: fmt.Sprintf("is longer than %d characters", maxManifestPassword)}
	}
	return nil
}

// directoryRoles are the supported directory role template ids.
var directoryRoles = []string{
	tenant.RoleGlobalAdministrator, tenant.RolePrivilegedRoleAdministrator, tenant.RoleApplicationAdministrator,
	tenant.RoleCloudApplicationAdministrator, tenant.RoleApplicationDeveloper,
}

// directoryRoleID returns the template id of the role v names by id or
// display name (in any letter case); v itself when it names none.
func directoryRoleID(v string) string {
	for _, id := range directoryRoles {
		if strings.EqualFold(v, id) || strings.EqualFold(v, tenant.RoleName(id)) {
			return id
		}
	}
	return v
}

// idFree refuses an explicit object id that another directory object
// holds: ids are unique across kinds, as Entra's object ids are.
func idFree(tx store.ReadTx, id string) error {
	taken := func(err error) bool { return err == nil }
	_, e1 := store.Tenants.Get(tx, id)
	_, e2 := store.Users.Get(tx, id)
	_, e3 := store.Groups.Get(tx, id)
	_, e4 := store.Applications.Get(tx, id)
	_, e5 := store.ServicePrincipals.Get(tx, id)
	if taken(e1) || taken(e2) || taken(e3) || taken(e4) || taken(e5) {
		return &tenant.FieldError{Field: "id", Reason: "is the id of another directory object"}
	}
	return nil
}

func (d *core) applyApp(r *manifestRun, tenantID string, app application.Application) error {
	o := r.o
	if app.AppID == "" {
		return &tenant.FieldError{Field: "appId", Reason: "is required in a manifest"}
	}
	t, err := store.Tenants.Get(o.tx, tenantID)
	if err != nil {
		return err
	}
	cur, err := store.Applications.One(o.tx, store.AppByAppID, app.AppID)
	if errors.Is(err, store.ErrNotFound) {
		na := app.Clone()
		if na.PasswordCredentials, err = d.manifestSecrets(o, na.PasswordCredentials, nil); err != nil {
			return err
		}
		if na.ID != "" {
			if err := idFree(o.tx, na.ID); err != nil {
				return err
			}
		}
		spID := r.spIDs[store.AppTenantKey(na.AppID, tenantID)]
		if spID.id != "" {
			if err := idFree(o.tx, spID.id); err != nil {
				return manifestErr(spID.path, na.AppID, err)
			}
		}
		na.FillPermissionIDs(application.Application{}, d.newID)
		a, sp, err := d.createApp(o, t, na, spID.id)
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
	if a.ID != "" && a.ID != cur.ID {
		return &tenant.FieldError{Field: "id", Reason: "the application exists with id " + cur.ID}
	}
	a.ID, a.TenantID, a.CreatedDateTime = cur.ID, cur.TenantID, cur.CreatedDateTime
	if a.SignInAudience == "" {
		a.SignInAudience = application.AzureADMyOrg
	}
	if a.PasswordCredentials == nil {
		a.PasswordCredentials = cur.PasswordCredentials
	} else if a.PasswordCredentials, err = d.manifestSecrets(o, a.PasswordCredentials, cur.PasswordCredentials); err != nil {
		return err
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

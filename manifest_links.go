package tenantry

import (
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

// applyLinks applies what refers to a tenant's users and applications:
// service principals, groups, consents, grants and assignments, in that
// order.
func (d *core) applyLinks(r *manifestRun, i int, mt ManifestTenant) error {
	path := fmt.Sprintf("tenants[%d]", i)
	for j, ms := range mt.ServicePrincipals {
		if err := d.applySP(r, mt.ID, ms); err != nil {
			return manifestErr(fmt.Sprintf("%s.servicePrincipals[%d]", path, j), ms.AppID, err)
		}
	}
	for j, mg := range mt.Groups {
		if err := d.applyGroup(r, mt.ID, mg); err != nil {
			return manifestErr(fmt.Sprintf("%s.groups[%d]", path, j), mg.DisplayName, err)
		}
	}
	for j, mc := range mt.Consents {
		if err := d.applyConsent(r, mt.ID, mc); err != nil {
			return manifestErr(fmt.Sprintf("%s.consents[%d]", path, j), mc.ClientAppID, err)
		}
	}
	for j, mg := range mt.Grants {
		if err := d.applyGrant(r, mt.ID, mg); err != nil {
			return manifestErr(fmt.Sprintf("%s.oauth2PermissionGrants[%d]", path, j), mg.ClientAppID+" on "+mg.ResourceAppID, err)
		}
	}
	for j, ma := range mt.Assignments {
		name := ma.Role
		if name == "" {
			name = "default access"
		}
		name += " of " + ma.ResourceAppID
		a, err := d.applyAssignment(r.o, mt.ID, ma)
		if err == nil && a != nil {
			key := ma.ResourceAppID + "/" + ma.Role + "/" + ma.UserPrincipalName + ma.Group + ma.PrincipalAppID
			err = r.created(object{tenantID: mt.ID, kind: "appRoleAssignment", key: key, k: store.Assignments, id: a.ID}, "appRoleAssignment.create", *a)
		}
		if err != nil {
			return manifestErr(fmt.Sprintf("%s.assignments[%d]", path, j), name, err)
		}
	}
	return nil
}

// applySP provisions the app ms names in tenantID, with ms's id when it
// creates the service principal.
func (d *core) applySP(r *manifestRun, tenantID string, ms ManifestServicePrincipal) error {
	o := r.o
	app, err := store.Applications.One(o.tx, store.AppByAppID, ms.AppID)
	if errors.Is(err, store.ErrNotFound) {
		return &tenant.FieldError{Field: "appId", Reason: "no application has appId " + ms.AppID}
	} else if err != nil {
		return err
	}
	if ms.ID != "" {
		if _, err := store.ServicePrincipals.One(o.tx, store.SPByAppTenant, store.AppTenantKey(ms.AppID, tenantID)); errors.Is(err, store.ErrNotFound) {
			if err := idFree(o.tx, ms.ID); err != nil {
				return err
			}
		}
	}
	sp, created, err := d.ensureSPWithID(o, app, tenantID, ms.ID)
	if err != nil {
		return err
	}
	if ms.ID != "" && sp.ID != ms.ID {
		return &tenant.FieldError{Field: "id", Reason: "the service principal exists with id " + sp.ID}
	}
	nsp := sp
	if sp.AppRoleAssignmentRequired != ms.AppRoleAssignmentRequired {
		nsp = sp.Clone()
		nsp.AppRoleAssignmentRequired = ms.AppRoleAssignmentRequired
		if err := store.ServicePrincipals.Put(o.tx, nsp); err != nil {
			return err
		}
	}
	spobj := object{tenantID: tenantID, kind: "servicePrincipal", key: ms.AppID, k: store.ServicePrincipals, id: sp.ID}
	switch {
	case created:
		return r.created(spobj, "servicePrincipal.create", nsp)
	case !nsp.Equal(sp):
		return r.updated(spobj, sp, nsp)
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
	if errors.Is(err, store.ErrNotFound) {
		return nil, &tenant.FieldError{Field: "resourceAppId", Reason: "the tenant has no service principal of " + ma.ResourceAppID}
	} else if err != nil {
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
	switch n := countSet(ma.UserPrincipalName, ma.Group, ma.PrincipalAppID); {
	case n != 1:
		return nil, &tenant.FieldError{Field: "userPrincipalName", Reason: "an assignment names exactly one of userPrincipalName, group and principalAppId"}
	case ma.UserPrincipalName != "":
		u, err := manifestUser(o.tx, tenantID, "userPrincipalName", ma.UserPrincipalName)
		if err != nil {
			return nil, err
		}
		principalID = u.ID
	case ma.Group != "":
		g, found, err := findGroup(o.tx, tenantID, "", ma.Group)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, &tenant.FieldError{Field: "group", Reason: "the tenant has no group named " + ma.Group}
		}
		principalID = g.ID
	default:
		sp, err := store.ServicePrincipals.One(o.tx, store.SPByAppTenant, store.AppTenantKey(ma.PrincipalAppID, tenantID))
		if errors.Is(err, store.ErrNotFound) {
			return nil, &tenant.FieldError{Field: "principalAppId", Reason: "the tenant has no service principal of " + ma.PrincipalAppID}
		} else if err != nil {
			return nil, err
		}
		principalID = sp.ID
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

// manifestUser finds the user upn of tenantID; field names the manifest
// property that refers to her.
func manifestUser(tx store.ReadTx, tenantID, field, upn string) (tenant.User, error) {
	u, err := store.Users.One(tx, store.UserByUPN, strings.ToLower(upn))
	switch {
	case errors.Is(err, store.ErrNotFound), err == nil && u.TenantID != tenantID:
		return u, &tenant.FieldError{Field: field, Reason: "the tenant has no user " + upn}
	}
	return u, err
}

// countSet counts the non-empty strings.
func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

package tenantry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// CreateServicePrincipal adds the application with appID to tenantID (an
// "admin add" of an enterprise application). It is refused with
// ErrAudience when the app's sign-in audience does not admit the tenant
// (for example a single-tenant app in a foreign tenant). In the home tenant
// owners and application administrators may do it; elsewhere only
// application administrators of that tenant.
func (d *Directory) CreateServicePrincipal(ctx context.Context, actor Actor, tenantID, appID string) (serviceprincipal.ServicePrincipal, error) {
	var out serviceprincipal.ServicePrincipal
	err := d.mutate(ctx, actor, func(o *op) error {
		app, err := store.Applications.One(o.tx, store.AppByAppID, appID)
		if err != nil {
			return err
		}
		if app.IsDeleted() {
			return fmt.Errorf("%w: application %s", ErrDeleted, appID)
		}
		if _, err := byID(o.tx, store.Tenants, tenantID); err != nil {
			return err
		}
		if app.TenantID == tenantID {
			if err := o.requireAppManager(app); err != nil {
				return err
			}
		} else {
			c, err := o.caller(tenantID)
			if err != nil {
				return err
			}
			if c.User.ID != "" && !c.Roles.IsAppAdmin() {
				return &tenant.ForbiddenError{Reason: "adding a foreign application requires an application administrator"}
			}
		}
		sp, created, err := d.ensureSP(o, app, tenantID)
		if err != nil {
			return err
		}
		if !created {
			return fmt.Errorf("%w: service principal of %s in %s", store.ErrAlreadyExists, appID, tenantID)
		}
		out = sp.Clone()
		return o.audit(tenantID, "servicePrincipal.create", store.ServicePrincipals, sp.ID, nil, sp)
	})
	return out, err
}

// ensureSP returns app's service principal in tenantID, creating it when
// the app's audience admits the tenant. It writes no audit event: the
// calling operation's event covers it.
func (d *core) ensureSP(o *op, app application.Application, tenantID string) (serviceprincipal.ServicePrincipal, bool, error) {
	return d.ensureSPWithID(o, app, tenantID, "")
}

// ensureSPWithID is ensureSP creating the service principal with id, or a
// new id when id is empty.
func (d *core) ensureSPWithID(o *op, app application.Application, tenantID, id string) (serviceprincipal.ServicePrincipal, bool, error) {
	sp, err := store.ServicePrincipals.One(o.tx, store.SPByAppTenant, store.AppTenantKey(app.AppID, tenantID))
	if err == nil {
		return sp, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return sp, false, err
	}
	if app.IsDeleted() {
		return sp, false, fmt.Errorf("%w: application %s", ErrDeleted, app.AppID)
	}
	if !app.AdmitsTenant(tenantID) {
		return sp, false, fmt.Errorf("%w: %s (%s) in tenant %s", ErrAudience, app.AppID, app.SignInAudience, tenantID)
	}
	if id == "" {
		id = d.newID()
	}
	sp = serviceprincipal.New(id, app, tenantID, o.now)
	if tenantID == app.TenantID {
		sp.Owners = slices.Clone(app.Owners)
	}
	if err := store.ServicePrincipals.Create(o.tx, sp); err != nil {
		return sp, false, err
	}
	return sp, true, nil
}

// EnableServicePrincipal sets a service principal's accountEnabled.
// Requires an owner or application administrator of its tenant.
func (d *Directory) EnableServicePrincipal(ctx context.Context, actor Actor, spID string) (serviceprincipal.ServicePrincipal, error) {
	return d.setSPEnabled(ctx, actor, spID, "servicePrincipal.enable", true)
}

// DisableServicePrincipal clears a service principal's accountEnabled: it
// gets no tokens, as client or as resource. Requires an owner or
// application administrator of its tenant.
func (d *Directory) DisableServicePrincipal(ctx context.Context, actor Actor, spID string) (serviceprincipal.ServicePrincipal, error) {
	return d.setSPEnabled(ctx, actor, spID, "servicePrincipal.disable", false)
}

func (d *core) setSPEnabled(ctx context.Context, actor Actor, spID, action string, enabled bool) (serviceprincipal.ServicePrincipal, error) {
	return d.changeSP(ctx, actor, spID, action, func(sp *serviceprincipal.ServicePrincipal) error {
		sp.AccountEnabled = enabled
		return nil
	})
}

// UpdateServicePrincipal changes the tenant-local settings of a service
// principal with fn (display name, tags, appRoleAssignmentRequired,
// permission classifications, claims mapping, ...). The copies of the
// application's data (appId, roles, scopes, names) are restored from the
// application afterwards, and so are the owners, so fn cannot change them:
// the home service principal's owners are the application's (AddOwner,
// RemoveOwner).
func (d *Directory) UpdateServicePrincipal(ctx context.Context, actor Actor, spID string, fn func(sp *serviceprincipal.ServicePrincipal) error) (serviceprincipal.ServicePrincipal, error) {
	return d.changeSP(ctx, actor, spID, "servicePrincipal.update", fn)
}

func (d *core) changeSP(ctx context.Context, actor Actor, spID, action string, fn func(sp *serviceprincipal.ServicePrincipal) error) (serviceprincipal.ServicePrincipal, error) {
	var out serviceprincipal.ServicePrincipal
	err := d.mutate(ctx, actor, func(o *op) error {
		before, err := byID(o.tx, store.ServicePrincipals, spID)
		if err != nil {
			return err
		}
		if before.DeletedDateTime != nil {
			return fmt.Errorf("%w: service principal %s", ErrDeleted, spID)
		}
		if err := o.requireSPManager(before); err != nil {
			return err
		}
		sp := before.Clone()
		if err := fn(&sp); err != nil {
			return err
		}
		for claim := range sp.ClaimsMapping {
			if token.IsStandardAccessClaim(claim) {
				return &tenant.FieldError{Field: "x-claimsMapping." + claim, Reason: "a claims mapping cannot replace a standard claim"}
			}
		}
		sp.ID, sp.TenantID, sp.AppID, sp.AppOwnerOrganizationID = before.ID, before.TenantID, before.AppID, before.AppOwnerOrganizationID
		sp.ServicePrincipalType, sp.CreatedDateTime, sp.DeletedDateTime = before.ServicePrincipalType, before.CreatedDateTime, before.DeletedDateTime
		// The copies of the application's data stay as the application
		// last synchronised them.
		sp.AppDisplayName, sp.SignInAudience, sp.ServicePrincipalNames, sp.ReplyURLs = before.AppDisplayName, before.SignInAudience, before.ServicePrincipalNames, before.ReplyURLs
		sp.AppRoles, sp.OAuth2PermissionScopes = before.AppRoles, before.OAuth2PermissionScopes
		// Owners follow the application (AddOwner, RemoveOwner): an owner
		// cannot make herself or others owners of the service principal.
		sp.Owners = before.Owners
		if err := store.ServicePrincipals.Put(o.tx, sp); err != nil {
			return err
		}
		out = sp.Clone()
		return o.audit(sp.TenantID, action, store.ServicePrincipals, sp.ID, before, sp)
	})
	return out, err
}

// DeleteServicePrincipal removes a service principal from its tenant with
// the grants and app role assignments that involve it (as Entra's "delete
// enterprise application"). The home-tenant service principal of a live
// application cannot be deleted this way; delete the application instead.
// Orphans of purged applications are removed with it. Requires an
// application administrator of the tenant.
func (d *Directory) DeleteServicePrincipal(ctx context.Context, actor Actor, spID string) error {
	return d.mutate(ctx, actor, func(o *op) error {
		sp, err := byID(o.tx, store.ServicePrincipals, spID)
		if err != nil {
			return err
		}
		c, err := o.caller(sp.TenantID)
		if err != nil {
			return err
		}
		if c.User.ID != "" && !c.Roles.IsAppAdmin() {
			return &tenant.ForbiddenError{Reason: "deleting a service principal requires an application administrator"}
		}
		if app, err := store.Applications.One(o.tx, store.AppByAppID, sp.AppID); err == nil && app.TenantID == sp.TenantID {
			return invalid("the home service principal follows its application; delete the application")
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := deleteSPAndLinks(o.tx, sp.ID); err != nil {
			return err
		}
		return o.audit(sp.TenantID, "servicePrincipal.delete", store.ServicePrincipals, sp.ID, sp, nil)
	})
}

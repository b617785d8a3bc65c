package tenantry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/internal/deep"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// MaxObjectsPerUser is how many applications a user without an
// administrator role (a member, or an Application Developer) may own
// through registration; soft-deleted applications count until purged.
const MaxObjectsPerUser = 250

// CreateApplication registers app in tenantID, its home tenant. It is
// refused when the tenant forbids users to register applications and the
// actor holds no role that overrides it. Empty id and appId are generated,
// and so are the empty ids of app roles and delegated scopes (from
// Config.NewID, so a deterministic source gives deterministic ids);
// signInAudience defaults to AzureADMyOrg (Graph's default since 2024). The
// actor becomes an owner unless it is an administrator. As the Entra admin
// center does, the home-tenant service principal is created with it.
// Credentials are added with AddPassword, AddKey and
// AddFederatedCredential, each audited: a user's registration carrying
// passwordCredentials, keyCredentials or federatedIdentityCredentials is
// refused with a FieldError naming the property (only System may import
// them).
func (d *Directory) CreateApplication(ctx context.Context, actor Actor, tenantID string, app application.Application) (application.Application, error) {
	var out application.Application
	err := d.mutate(ctx, actor, func(o *op) error {
		t, err := byID(o.tx, store.Tenants, tenantID)
		if err != nil {
			return err
		}
		c, err := o.caller(tenantID)
		if err != nil {
			return err
		}
		if err := tenant.CanRegisterApplications(t, c); err != nil {
			return err
		}
		a := app.Clone()
		if a.AppID != "" && o.actor != System() {
			return &tenant.FieldError{Field: "appId", Reason: "is assigned by the directory"}
		}
		if o.actor != System() {
			a.VerifiedPublisher = nil
			if err := noCallerCredentials(a); err != nil {
				return err
			}
		}
		if tenant.OwnerOnRegister(c) {
			// Non-administrators may create at most MaxObjectsPerUser
			// applications; soft-deleted ones count until purged.
			owned, err := store.Applications.Lookup(o.tx, store.AppByOwner, c.User.ID)
			if err != nil {
				return err
			}
			if len(owned) >= MaxObjectsPerUser {
				return &tenant.ForbiddenError{Reason: fmt.Sprintf("a user without an administrator role may create at most %d applications", MaxObjectsPerUser)}
			}
			if !slices.Contains(a.Owners, c.User.ID) {
				a.Owners = append(a.Owners, c.User.ID)
			}
		}
		a.FillPermissionIDs(application.Application{}, d.newID)
		if a, _, err = d.createApp(o, t, a, ""); err != nil {
			return err
		}
		out = o.shown(a)
		return o.audit(tenantID, "application.create", store.Applications, a.ID, nil, a)
	})
	return out, err
}

// noCallerCredentials refuses credentials built by the caller: a user's
// registration starts without any, and secrets, certificates and federated
// credentials are added through AddPassword, AddKey and
// AddFederatedCredential, which generate or check them and audit each one.
func noCallerCredentials(a application.Application) error {
	var errs []error
	if len(a.PasswordCredentials) > 0 {
		errs = append(errs, &tenant.FieldError{Field: "passwordCredentials", Reason: "client secrets are added with AddPassword"})
	}
	if len(a.KeyCredentials) > 0 {
		errs = append(errs, &tenant.FieldError{Field: "keyCredentials", Reason: "certificates are added with AddKey"})
	}
	if len(a.FederatedIdentityCredentials) > 0 {
		errs = append(errs, &tenant.FieldError{Field: "federatedIdentityCredentials", Reason: "federated credentials are added with AddFederatedCredential"})
	}
	return errors.Join(errs...)
}

// createApp is the one way an application object comes to exist
// (CreateApplication, manifests). It fills the server-managed properties —
// the id when empty, an appId when empty, the home tenant t, the publisher
// domain, the creation time and the default sign-in audience —, keeps
// invariant 1 (an appId no application, nor a service principal orphaned by
// a purge, holds: the store's unique appId index and appIDFree), validates
// the object in its home tenant and creates it with its home-tenant service
// principal (invariant 2), as the Entra admin center does, and returns both.
// The service principal gets spID, or a new id when spID is empty. Who may
// create what, and the audit event, are the caller's.
func (d *core) createApp(o *op, t tenant.Tenant, a application.Application, spID string) (application.Application, serviceprincipal.ServicePrincipal, error) {
	if a.ID == "" {
		a.ID = d.newID()
	}
	if a.AppID == "" {
		a.AppID = d.newID()
	} else if err := appIDFree(o.tx, a.AppID); err != nil {
		return a, serviceprincipal.ServicePrincipal{}, err
	}
	a.TenantID = t.ID
	if a.SignInAudience == "" {
		a.SignInAudience = application.AzureADMyOrg
	}
	a.PublisherDomain = t.DefaultDomain()
	a.CreatedDateTime = o.now
	a.DeletedDateTime = nil
	if err := d.validateApp(o.tx, t, a); err != nil {
		return a, serviceprincipal.ServicePrincipal{}, err
	}
	if err := store.Applications.Create(o.tx, a); err != nil {
		return a, serviceprincipal.ServicePrincipal{}, err
	}
	if spID == "" {
		spID = d.newID()
	}
	sp := serviceprincipal.New(spID, a, t.ID, o.now)
	sp.Owners = slices.Clone(a.Owners)
	if err := store.ServicePrincipals.Create(o.tx, sp); err != nil {
		return a, sp, err
	}
	return a, sp, nil
}

// updateApp is the one way an application object changes (every
// application operation, manifests): it keeps before's server-managed
// properties (publisher verification and domain, which have their own
// operation, and deletion), refuses changes of immutable ones (id, appId,
// home tenant, creation time: application.ValidateChange, which keeps
// invariants 1 and 2), validates a in its home tenant, stores it and
// refreshes the copies its service principals keep. It writes nothing and
// reports false when a equals before. The audit event is the caller's.
func (d *core) updateApp(o *op, before application.Application, a *application.Application) (bool, error) {
	a.VerifiedPublisher, a.PublisherDomain, a.DeletedDateTime = before.VerifiedPublisher, before.PublisherDomain, before.DeletedDateTime
	if a.Equal(before) {
		return false, nil
	}
	if err := application.ValidateChange(before, *a); err != nil {
		return false, err
	}
	t, err := store.Tenants.Get(o.tx, a.TenantID)
	if err != nil {
		return false, err
	}
	if err := d.validateApp(o.tx, t, *a); err != nil {
		return false, err
	}
	if err := store.Applications.Put(o.tx, *a); err != nil {
		return false, err
	}
	return true, syncServicePrincipals(o.tx, *a)
}

func (d *core) validateApp(tx store.ReadTx, t tenant.Tenant, a application.Application) error {
	doms := make([]string, 0, len(t.VerifiedDomains))
	for _, v := range t.VerifiedDomains {
		doms = append(doms, v.Name)
	}
	if err := a.Validate(application.ValidationContext{TenantID: t.ID, VerifiedDomains: doms, Now: d.clock()}); err != nil {
		return err
	}
	for _, id := range a.Owners {
		if err := checkMember(tx, t.ID, tenant.Ref{ID: id, Type: tenant.MemberUser}); err != nil {
			if sp, spErr := store.ServicePrincipals.Get(tx, id); spErr == nil && sp.TenantID == t.ID {
				continue
			}
			return &tenant.FieldError{Field: "owners", Reason: "owner " + id + " is not a user or service principal of the home tenant"}
		}
	}
	return nil
}

// appIDFree refuses an appId that service principals (orphans of a purged
// application) still reference: reusing it would hand their grants and
// role assignments to a new application.
func appIDFree(tx store.ReadTx, appID string) error {
	sps, err := store.ServicePrincipals.Lookup(tx, store.SPByAppID, appID)
	if err != nil {
		return err
	}
	if len(sps) > 0 {
		return fmt.Errorf("%w: appId %s is still referenced by %d service principal(s); delete them first", store.ErrAlreadyExists, appID, len(sps))
	}
	return nil
}

// liveApp loads an application that is not deleted.
func liveApp(tx store.ReadTx, applicationID string) (application.Application, error) {
	a, err := byID(tx, store.Applications, applicationID)
	if err != nil {
		return a, err
	}
	if a.IsDeleted() {
		return a, fmt.Errorf("%w: application %s", ErrDeleted, applicationID)
	}
	return a, nil
}

// changeApp runs fn on a copy of the application with applicationID, validates
// the result, stores it, refreshes the copies its service principals keep
// and records one audit event.
func (d *core) changeApp(ctx context.Context, actor Actor, applicationID, action string, fn func(o *op, a *application.Application) error) (application.Application, error) {
	var out application.Application
	err := d.mutate(ctx, actor, func(o *op) error {
		before, err := liveApp(o.tx, applicationID)
		if err != nil {
			return err
		}
		if err := o.requireAppManager(before); err != nil {
			return err
		}
		a := before.Clone()
		if err := fn(o, &a); err != nil {
			return err
		}
		a.FillPermissionIDs(before, d.newID)
		if _, err := d.updateApp(o, before, &a); err != nil {
			return err
		}
		out = o.shown(a)
		return o.audit(a.TenantID, action, store.Applications, a.ID, before, a)
	})
	return out, err
}

// syncServicePrincipals refreshes the copies of a's data its service
// principals keep. The home-tenant service principal's owners are the
// application's: tenantry keeps the two lists Entra keeps in step, so that
// an owner removed from the application no longer manages its service
// principal nor assigns its app roles.
func syncServicePrincipals(tx store.Tx, a application.Application) error {
	sps, err := store.ServicePrincipals.Lookup(tx, store.SPByAppID, a.AppID)
	if err != nil {
		return err
	}
	for _, sp := range sps {
		sp = sp.Clone()
		sp.Sync(a)
		if sp.TenantID == a.TenantID {
			sp.Owners = slices.Clone(a.Owners)
		}
		if err := store.ServicePrincipals.Put(tx, sp); err != nil {
			return err
		}
	}
	return nil
}

// UpdateApplication changes an application with fn, which receives a copy
// it may modify. Immutable properties (id, appId, home tenant, creation
// time) must not change, credentials change only through their own
// operations, and a scope or role must be disabled before it is removed,
// as in Entra. A role or scope fn adds without an id gets one: the id of
// the stored role or scope with the same value, else a new one. The service principals of the app in every tenant get the
// new copies of roles and scopes. Requires an owner or an application
// administrator.
func (d *Directory) UpdateApplication(ctx context.Context, actor Actor, applicationID string, fn func(a *application.Application) error) (application.Application, error) {
	return d.changeApp(ctx, actor, applicationID, "application.update", func(o *op, a *application.Application) error {
		// A deep copy: fn may write through the credentials' slices and
		// pointers (a secret's digest, a certificate's key bytes).
		orig := a.Clone()
		if err := fn(a); err != nil {
			return err
		}
		const reason = "credentials change only through AddPassword, AddKey, AddFederatedCredential and their Remove operations"
		switch {
		case !deep.Equal(orig.PasswordCredentials, a.PasswordCredentials):
			return &tenant.FieldError{Field: "passwordCredentials", Reason: reason}
		case !deep.Equal(orig.KeyCredentials, a.KeyCredentials):
			return &tenant.FieldError{Field: "keyCredentials", Reason: reason}
		case !deep.Equal(orig.FederatedIdentityCredentials, a.FederatedIdentityCredentials):
			return &tenant.FieldError{Field: "federatedIdentityCredentials", Reason: reason}
		}
		return nil
	})
}

// AddOwner adds a user (or service principal) of the home tenant as owner
// of the application and of its home-tenant service principal.
func (d *Directory) AddOwner(ctx context.Context, actor Actor, applicationID, ownerID string) (application.Application, error) {
	return d.changeApp(ctx, actor, applicationID, "application.addOwner", func(o *op, a *application.Application) error {
		if slices.Contains(a.Owners, ownerID) {
			return fmt.Errorf("%w: already an owner", store.ErrAlreadyExists)
		}
		a.Owners = append(a.Owners, ownerID)
		return nil
	})
}

// RemoveOwner removes an owner from the application and from its
// home-tenant service principal: she no longer manages either, nor assigns
// the application's app roles.
func (d *Directory) RemoveOwner(ctx context.Context, actor Actor, applicationID, ownerID string) (application.Application, error) {
	return d.changeApp(ctx, actor, applicationID, "application.removeOwner", func(o *op, a *application.Application) error {
		return removeFirst(&a.Owners, func(id string) bool { return id == ownerID }, "owner "+ownerID)
	})
}

// SetVerifiedPublisher records (or, with nil, clears) the application's
// verified publisher, the outcome of publisher verification. Only System
// may call it: the low-risk user consent policy trusts it.
func (d *Directory) SetVerifiedPublisher(ctx context.Context, actor Actor, applicationID string, vp *application.VerifiedPublisher) (application.Application, error) {
	if actor != System() {
		return application.Application{}, &tenant.ForbiddenError{Reason: "only the system records publisher verification"}
	}
	var out application.Application
	err := d.mutate(ctx, actor, func(o *op) error {
		before, err := liveApp(o.tx, applicationID)
		if err != nil {
			return err
		}
		a := before.Clone()
		a.VerifiedPublisher = nil
		if vp != nil {
			v := *vp
			a.VerifiedPublisher = &v
		}
		if err := store.Applications.Put(o.tx, a); err != nil {
			return err
		}
		out = o.shown(a)
		return o.audit(a.TenantID, "application.setVerifiedPublisher", store.Applications, a.ID, before, a)
	})
	return out, err
}

// homeSP returns the application's service principal in its home tenant.
func homeSP(tx store.ReadTx, a application.Application) (serviceprincipal.ServicePrincipal, error) {
	return store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(a.AppID, a.TenantID))
}

// DeleteApplication soft-deletes an application: deletedDateTime is set on
// it and on its home-tenant service principal; both can be restored for 30
// days with the same ids. Service principals in other tenants stay but get
// no tokens while the app is deleted. Requires an owner or an application
// administrator.
func (d *Directory) DeleteApplication(ctx context.Context, actor Actor, applicationID string) error {
	return d.mutate(ctx, actor, func(o *op) error {
		a, err := liveApp(o.tx, applicationID)
		if err != nil {
			return err
		}
		if err := o.requireAppManager(a); err != nil {
			return err
		}
		before := a
		a = a.Clone()
		now := o.now
		a.DeletedDateTime = &now
		if err := store.Applications.Put(o.tx, a); err != nil {
			return err
		}
		if sp, err := homeSP(o.tx, a); err == nil {
			sp = sp.Clone()
			sp.DeletedDateTime = &now
			if err := store.ServicePrincipals.Put(o.tx, sp); err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return o.audit(a.TenantID, "application.delete", store.Applications, a.ID, before, a)
	})
}

// RestoreApplication restores a soft-deleted application and its home
// service principal, with the same ids, within RestoreWindow.
func (d *Directory) RestoreApplication(ctx context.Context, actor Actor, applicationID string) (application.Application, error) {
	var out application.Application
	err := d.mutate(ctx, actor, func(o *op) error {
		a, err := byID(o.tx, store.Applications, applicationID)
		if err != nil {
			return err
		}
		if !a.IsDeleted() {
			return fmt.Errorf("%w: application %s", ErrNotDeleted, applicationID)
		}
		if err := o.requireAppManager(a); err != nil {
			return err
		}
		if o.now.Sub(*a.DeletedDateTime) > RestoreWindow {
			return ErrRestoreExpired
		}
		before := a
		a = a.Clone()
		a.DeletedDateTime = nil
		if err := store.Applications.Put(o.tx, a); err != nil {
			return err
		}
		if sp, err := homeSP(o.tx, a); err == nil && sp.DeletedDateTime != nil {
			sp = sp.Clone()
			sp.DeletedDateTime = nil
			if err := store.ServicePrincipals.Put(o.tx, sp); err != nil {
				return err
			}
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		out = o.shown(a)
		return o.audit(a.TenantID, "application.restore", store.Applications, a.ID, before, a)
	})
	return out, err
}

// PurgeApplication permanently deletes a soft-deleted application with its
// home service principal and the grants and assignments that involve that
// service principal. Service principals in other tenants remain, orphaned
// (see Report).
func (d *Directory) PurgeApplication(ctx context.Context, actor Actor, applicationID string) error {
	return d.mutate(ctx, actor, func(o *op) error {
		a, err := byID(o.tx, store.Applications, applicationID)
		if err != nil {
			return err
		}
		if !a.IsDeleted() {
			return fmt.Errorf("%w: application %s", ErrNotDeleted, applicationID)
		}
		if err := o.requireAppManager(a); err != nil {
			return err
		}
		if sp, err := homeSP(o.tx, a); err == nil {
			if err := deleteSPAndLinks(o.tx, sp.ID); err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := store.Applications.Delete(o.tx, a.ID); err != nil {
			return err
		}
		return o.audit(a.TenantID, "application.purge", store.Applications, a.ID, a, nil)
	})
}

// deleteSPAndLinks deletes a service principal with every grant and
// assignment that names it as client, resource or principal.
func deleteSPAndLinks(tx store.Tx, spID string) error {
	for _, idx := range []string{store.GrantByClient, store.GrantByResource} {
		gs, err := store.Grants.Lookup(tx, idx, spID)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if err := store.Grants.Delete(tx, g.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	for _, idx := range []string{store.AssignmentByPrincipal, store.AssignmentByResource} {
		as, err := store.Assignments.Lookup(tx, idx, spID)
		if err != nil {
			return err
		}
		for _, a := range as {
			if err := store.Assignments.Delete(tx, a.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	return store.ServicePrincipals.Delete(tx, spID)
}

// shown is an application as the operation's actor gets it back: a copy,
// never the stored record, and for anyone but System without the secrets'
// digests (as reads return it).
func (o *op) shown(a application.Application) application.Application {
	if o.actor.IsSystem() {
		return a.Clone()
	}
	return redactApp(a)
}

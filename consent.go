package tenantry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// ConsentSpec describes a consent request in a tenant.
type ConsentSpec struct {
	// ClientAppID is the appId of the app asking for permissions.
	ClientAppID string
	// Scopes are explicit delegated scopes per resource (dynamic consent).
	Scopes []consent.ScopeRequest
	// Default consents to everything in the client's
	// requiredResourceAccess (".default", static consent). Application
	// permissions are included only with TenantWide.
	Default bool
	// TenantWide is admin consent on behalf of every user of the tenant;
	// it needs an administrator (see tenant.CanGrantTenantWide).
	TenantWide bool
}

// ConsentResult is what a consent created or extended.
type ConsentResult struct {
	// ClientServicePrincipal is the client's service principal in the
	// tenant (created by the consent if it did not exist).
	ClientServicePrincipal serviceprincipal.ServicePrincipal
	// Created lists the service principals the consent created.
	Created []serviceprincipal.ServicePrincipal
	// Grants are the delegated permission grants as they now stand.
	Grants []consent.Grant
	// Assignments are the application permissions created.
	Assignments []serviceprincipal.AppRoleAssignment
}

// clone deep-copies r, so that the caller never holds the stored records.
func (r ConsentResult) clone() ConsentResult {
	c := ConsentResult{ClientServicePrincipal: r.ClientServicePrincipal.Clone(), Grants: slices.Clone(r.Grants), Assignments: slices.Clone(r.Assignments)}
	for _, sp := range r.Created {
		c.Created = append(c.Created, sp.Clone())
	}
	return c
}

// consentRecord is what the audit log keeps of a consent.
type consentRecord struct {
	ClientServicePrincipalID string                               `json:"clientServicePrincipalId"`
	CreatedServicePrincipals []string                             `json:"createdServicePrincipals,omitempty"`
	Grants                   []consent.Grant                      `json:"oauth2PermissionGrants,omitempty"`
	Assignments              []serviceprincipal.AppRoleAssignment `json:"appRoleAssignments,omitempty"`
}

func (r ConsentResult) summary() consentRecord {
	c := consentRecord{ClientServicePrincipalID: r.ClientServicePrincipal.ID, Grants: r.Grants, Assignments: r.Assignments}
	for _, sp := range r.Created {
		c.CreatedServicePrincipals = append(c.CreatedServicePrincipals, sp.ID)
	}
	return c
}

// Consent records a user's consent (for itself) or an administrator's
// tenant-wide consent, as decided by consent.Decide under the tenant's
// policy. The client's service principal (and those of multi-tenant
// resources it needs) are created in the tenant on first consent when their
// sign-in audience admits it. Exactly one audit event records the whole
// consent.
func (d *Directory) Consent(ctx context.Context, actor Actor, tenantID string, spec ConsentSpec) (ConsentResult, error) {
	var out ConsentResult
	err := d.mutate(ctx, actor, func(o *op) error {
		r, err := d.consentIn(o, tenantID, spec)
		if err != nil {
			return err
		}
		out = r.clone()
		return o.audit(tenantID, "consent.grant", store.ServicePrincipals, r.ClientServicePrincipal.ID, nil, r.summary())
	})
	return out, err
}

// consentIn does the work of Consent inside an operation, without the audit
// event (the token flows reuse it for consent at sign-in).
func (d *core) consentIn(o *op, tenantID string, spec ConsentSpec) (ConsentResult, error) {
	var out ConsentResult
	req, err := prepareConsent(o.tx, o.actor, tenantID, spec)
	if err != nil {
		return out, err
	}
	client := req.Client
	dec, err := consent.Decide(req)
	if err != nil {
		return out, err
	}
	apps := map[string]application.Application{client.AppID: client}
	for id, r := range req.Resources {
		apps[id] = r.App
	}
	sps := map[string]serviceprincipal.ServicePrincipal{}
	for _, appID := range dec.Provision {
		app, ok := apps[appID]
		if !ok {
			return out, fmt.Errorf("%w: application %s", store.ErrNotFound, appID)
		}
		sp, created, err := d.ensureSP(o, app, tenantID)
		if err != nil {
			return out, err
		}
		if !sp.Usable() {
			return out, fmt.Errorf("%w: service principal of %s is disabled", ErrForbidden, appID)
		}
		if created {
			out.Created = append(out.Created, sp)
		}
		sps[appID] = sp
	}
	out.ClientServicePrincipal = sps[client.AppID]
	principal := ""
	if dec.ConsentType == consent.Principal {
		principal = req.Caller.User.ID
	}
	for _, dg := range dec.Delegated {
		cl, res := sps[dg.ClientAppID], sps[dg.ResourceAppID]
		if cl.ID == "" || res.ID == "" {
			return out, fmt.Errorf("tenantry: internal error: consent decision names an unprovisioned app")
		}
		g, err := upsertGrant(o, tenantID, cl.ID, dec.ConsentType, principal, res.ID, dg.Scopes)
		if err != nil {
			return out, err
		}
		out.Grants = append(out.Grants, g)
	}
	if len(dec.SignIn) > 0 {
		cl := sps[client.AppID]
		res, err := signInResourceSP(o.tx, tenantID, cl)
		if err != nil {
			return out, err
		}
		g, err := upsertGrant(o, tenantID, cl.ID, dec.ConsentType, principal, res.ID, dec.SignIn)
		if err != nil {
			return out, err
		}
		if i := slices.IndexFunc(out.Grants, func(x consent.Grant) bool { return x.ID == g.ID }); i >= 0 {
			out.Grants[i] = g
		} else {
			out.Grants = append(out.Grants, g)
		}
	}
	for _, rg := range dec.AppRoles {
		cl, res := sps[rg.ClientAppID], sps[rg.ResourceAppID]
		a := serviceprincipal.AppRoleAssignment{
			ID: d.newID(), TenantID: tenantID, AppRoleID: rg.AppRoleID,
			PrincipalID: cl.ID, PrincipalType: serviceprincipal.PrincipalServicePrincipal, PrincipalDisplayName: cl.DisplayName,
			ResourceID: res.ID, ResourceDisplayName: res.DisplayName, CreatedDateTime: o.now,
		}
		if err := store.Assignments.Create(o.tx, a); errors.Is(err, store.ErrAlreadyExists) {
			continue
		} else if err != nil {
			return out, err
		}
		out.Assignments = append(out.Assignments, a)
	}
	return out, nil
}

// prepareConsent loads, reading only, what consent.Decide needs to decide
// spec for actor in tenantID, and refuses what Decide cannot see: an
// unknown tenant or actor, user consent without a user, a deleted client,
// a client whose audience does not admit the tenant (ErrAudience) and a
// disabled client service principal.
func prepareConsent(tx store.ReadTx, actor Actor, tenantID string, spec ConsentSpec) (consent.Request, error) {
	t, err := byID(tx, store.Tenants, tenantID)
	if err != nil {
		return consent.Request{}, err
	}
	c, err := loadCaller(tx, actor, tenantID)
	if err != nil {
		return consent.Request{}, err
	}
	if c.User.ID == "" && !spec.TenantWide {
		return consent.Request{}, invalid("user consent needs a user actor")
	}
	client, err := store.Applications.One(tx, store.AppByAppID, spec.ClientAppID)
	if err != nil {
		return consent.Request{}, err
	}
	if client.IsDeleted() {
		return consent.Request{}, fmt.Errorf("%w: application %s", ErrDeleted, client.AppID)
	}
	if !client.AdmitsTenant(tenantID) {
		return consent.Request{}, fmt.Errorf("%w: %s (%s) in tenant %s", ErrAudience, client.AppID, client.SignInAudience, tenantID)
	}
	req := consent.Request{
		Tenant: t, Caller: c, Client: client, Scopes: spec.Scopes,
		Default: spec.Default, TenantWide: spec.TenantWide,
		Resources: map[string]consent.Resource{},
	}
	if sp, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(client.AppID, tenantID)); err == nil {
		if !sp.Usable() {
			return consent.Request{}, fmt.Errorf("%w: service principal of %s is disabled", ErrForbidden, client.AppID)
		}
		req.ClientAssignmentRequired = sp.AppRoleAssignmentRequired
	}
	if err := loadResources(tx, tenantID, client, spec.Scopes, req.Resources); err != nil {
		return consent.Request{}, err
	}
	return req, nil
}

// signInResourceSP returns the service principal whose grant records the
// sign-in scopes (openid, profile, email, offline_access) of clientSP's
// users in the tenant: Microsoft Graph's, as in Entra, where Graph is
// present in the tenant; otherwise the client's own, since the tokens of a
// sign-in without a resource are issued for the client itself.
func signInResourceSP(tx store.ReadTx, tenantID string, clientSP serviceprincipal.ServicePrincipal) (serviceprincipal.ServicePrincipal, error) {
	sp, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(application.MicrosoftGraphAppID, tenantID))
	switch {
	case err == nil && sp.Usable():
		return sp, nil
	case err == nil || errors.Is(err, store.ErrNotFound):
		return clientSP, nil
	}
	return sp, err
}

// loadResources fills res with every live resource app the request may
// touch: those named in scopes, in the client's requiredResourceAccess and,
// for combined consent, those required by APIs that list the client as a
// known client application.
func loadResources(tx store.ReadTx, tenantID string, client application.Application, scopes []consent.ScopeRequest, res map[string]consent.Resource) error {
	var ids []string
	for _, s := range scopes {
		ids = append(ids, s.ResourceAppID)
	}
	for _, rra := range client.RequiredResourceAccess {
		ids = append(ids, rra.ResourceAppID)
	}
	seen := map[string]bool{}
	for len(ids) > 0 {
		id := ids[0]
		ids = ids[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		app, err := store.Applications.One(tx, store.AppByAppID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if app.IsDeleted() {
			continue
		}
		r := consent.Resource{App: app}
		if sp, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(app.AppID, tenantID)); err == nil {
			r.Classifications = sp.Classifications
		}
		res[id] = r
		if app.API != nil && slices.Contains(app.API.KnownClientApplications, client.AppID) {
			for _, rra := range app.RequiredResourceAccess {
				ids = append(ids, rra.ResourceAppID)
			}
		}
	}
	return nil
}

// upsertGrant merges scopes into the grant of (client, type, principal,
// resource), creating it if needed.
func upsertGrant(o *op, tenantID, clientID, consentType, principalID, resourceID string, scopes []string) (consent.Grant, error) {
	g, err := store.Grants.One(o.tx, store.GrantUnique, store.GrantKey(clientID, consentType, principalID, resourceID))
	tooLong := func(g consent.Grant) error {
		if len(g.Scope) > consent.MaxGrantScopeLength {
			return invalid("the grant's scope would exceed %d characters", consent.MaxGrantScopeLength)
		}
		return nil
	}
	switch {
	case err == nil:
		g = consent.Merge(g, scopes)
		if err := tooLong(g); err != nil {
			return g, err
		}
		return g, store.Grants.Put(o.tx, g)
	case errors.Is(err, store.ErrNotFound):
		g = consent.Grant{
			ID: o.d.newID(), TenantID: tenantID, ClientID: clientID, ConsentType: consentType,
			PrincipalID: principalID, ResourceID: resourceID, Scope: consent.JoinScopes(scopes), CreatedDateTime: o.now,
		}
		if err := tooLong(g); err != nil {
			return g, err
		}
		return g, store.Grants.Create(o.tx, g)
	default:
		return g, err
	}
}

// DeleteGrant deletes a delegated permission grant (Graph's delete of an
// oauth2PermissionGrant). A user may delete her own (Principal) grants;
// tenant-wide grants need an administrator. Tokens already issued stay
// valid until they expire; no new token, and no refresh, carries what it
// granted.
func (d *Directory) DeleteGrant(ctx context.Context, actor Actor, grantID string) error {
	_, err := d.narrowGrant(ctx, actor, grantID, nil)
	return err
}

// RemoveGrantScopes removes scopes from a delegated permission grant and
// returns it; a grant left with no scope is deleted (and the zero Grant
// returned). The rules are DeleteGrant's.
func (d *Directory) RemoveGrantScopes(ctx context.Context, actor Actor, grantID string, scopes []string) (consent.Grant, error) {
	if len(scopes) == 0 {
		return consent.Grant{}, invalid("no scope to remove")
	}
	return d.narrowGrant(ctx, actor, grantID, scopes)
}

// narrowGrant removes scopes from the grant (all of them for nil scopes),
// deleting it when none remains.
func (d *core) narrowGrant(ctx context.Context, actor Actor, grantID string, scopes []string) (consent.Grant, error) {
	var out consent.Grant
	err := d.mutate(ctx, actor, func(o *op) error {
		out = consent.Grant{}
		g, err := byID(o.tx, store.Grants, grantID)
		if err != nil {
			return err
		}
		c, err := o.caller(g.TenantID)
		if err != nil {
			return err
		}
		if !(g.ConsentType == consent.Principal && g.PrincipalID == c.User.ID) {
			if err := tenant.CanGrantTenantWide(c, false); err != nil {
				return err
			}
		}
		if scopes != nil {
			if ng, empty := consent.Narrow(g, scopes); !empty {
				if err := store.Grants.Put(o.tx, ng); err != nil {
					return err
				}
				out = ng
				return o.audit(g.TenantID, "consent.revoke", store.Grants, g.ID, g, ng)
			}
		}
		if err := store.Grants.Delete(o.tx, g.ID); err != nil {
			return err
		}
		return o.audit(g.TenantID, "consent.revoke", store.Grants, g.ID, g, nil)
	})
	return out, err
}

package tenantry

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// The reads of the Directory. Each takes the actor and answers only what
// the actor may see; the rule is tenant.Reader, applied in visibility.go.

// ResolveTenant finds a tenant by id or by verified domain
// (case-insensitive); "consumers" names the personal-account tenant. A
// user resolves her own tenant only (guests see its name and domains,
// not its policy); any other answers store.ErrNotFound.
func (d *Directory) ResolveTenant(ctx context.Context, actor Actor, idOrDomain string) (tenant.Tenant, error) {
	var out tenant.Tenant
	err := d.readFor(ctx, actor, func(tx store.ReadTx, r tenant.Reader) error {
		t, err := resolveTenant(tx, idOrDomain)
		out, err = visible(r, tenantRule, t, err, fmt.Sprintf("id or domain %.100q", idOrDomain))
		return err
	})
	return out, err
}

// User returns the user with object id userID. Members read the users of
// their tenant; a guest reads herself whole and, under the default guest
// role, other users' public properties (tenant.LimitedUser).
func (d *Directory) User(ctx context.Context, actor Actor, userID string) (tenant.User, error) {
	return get(ctx, d.core, actor, userRule, userID)
}

// UserByPrincipalName returns the user with the given userPrincipalName,
// compared case-insensitively as Entra does; pass it as the user typed
// it.
func (d *Directory) UserByPrincipalName(ctx context.Context, actor Actor, upn string) (tenant.User, error) {
	key := upn
	if len(key) <= maxUPNLen {
		key = strings.ToLower(key)
	} else {
		key = "" // longer than any stored name: found nowhere
	}
	return one(ctx, d.core, actor, userRule, store.UserByUPN, key, fmt.Sprintf("userPrincipalName %.120q", upn))
}

// maxUPNLen is the longest userPrincipalName a user may have
// (tenant.User.Validate).
const maxUPNLen = 113

// Users lists the users of tenantID, in object id order. Only System and
// readers of the whole directory of that tenant may list (guests never
// enumerate users).
func (d *Directory) Users(ctx context.Context, actor Actor, tenantID string, pr PageRequest) (Page[tenant.User], error) {
	return listTenant(ctx, d.core, actor, userRule, tenant.ObjectUser, tenantID, pr)
}

// Group returns the group with object id groupID. A guest under the
// default guest role reads the groups she directly belongs to.
func (d *Directory) Group(ctx context.Context, actor Actor, groupID string) (tenant.Group, error) {
	return get(ctx, d.core, actor, groupRule, groupID)
}

// Groups lists the groups of tenantID, in object id order.
func (d *Directory) Groups(ctx context.Context, actor Actor, tenantID string, pr PageRequest) (Page[tenant.Group], error) {
	return listTenant(ctx, d.core, actor, groupRule, tenant.ObjectGroup, tenantID, pr)
}

// Application returns the application with object id applicationID (deleted
// ones included; check IsDeleted). An application object lives in its
// home tenant: users of other tenants do not see it, even when they use
// the application; they read its service principal in their tenant
// (ServicePrincipalByAppID).
func (d *Directory) Application(ctx context.Context, actor Actor, applicationID string) (application.Application, error) {
	return get(ctx, d.core, actor, appRule, applicationID)
}

// ApplicationByAppID returns the application with the given appId (client
// id), seen as Application is.
func (d *Directory) ApplicationByAppID(ctx context.Context, actor Actor, appID string) (application.Application, error) {
	return one(ctx, d.core, actor, appRule, store.AppByAppID, appID, fmt.Sprintf("appId %.100q", appID))
}

// Applications lists the applications registered in tenantID (their home
// tenant), deleted ones included, in object id order.
func (d *Directory) Applications(ctx context.Context, actor Actor, tenantID string, pr PageRequest) (Page[application.Application], error) {
	return listTenant(ctx, d.core, actor, appRule, tenant.ObjectApplication, tenantID, pr)
}

// ServicePrincipal returns the service principal with object id spID.
func (d *Directory) ServicePrincipal(ctx context.Context, actor Actor, spID string) (serviceprincipal.ServicePrincipal, error) {
	return get(ctx, d.core, actor, spRule, spID)
}

// ServicePrincipalByAppID returns the service principal of appID in
// tenantID.
func (d *Directory) ServicePrincipalByAppID(ctx context.Context, actor Actor, tenantID, appID string) (serviceprincipal.ServicePrincipal, error) {
	return one(ctx, d.core, actor, spRule, store.SPByAppTenant, store.AppTenantKey(appID, tenantID), fmt.Sprintf("appId %.100q in tenant %.100q", appID, tenantID))
}

// ServicePrincipals lists the service principals of tenantID, in object
// id order.
func (d *Directory) ServicePrincipals(ctx context.Context, actor Actor, tenantID string, pr PageRequest) (Page[serviceprincipal.ServicePrincipal], error) {
	return listTenant(ctx, d.core, actor, spRule, tenant.ObjectServicePrincipal, tenantID, pr)
}

// Grants lists the delegated permission grants held by a client service
// principal, in object id order. Readers of the directory see every grant
// of their tenant; a guest sees the grants she consented to herself.
func (d *Directory) Grants(ctx context.Context, actor Actor, clientSPID string, pr PageRequest) (Page[consent.Grant], error) {
	return list(ctx, d.core, actor, grantRule, store.GrantByClient, clientSPID, pr, nil)
}

// Assignments lists the app role assignments held by a principal (user,
// group or service principal), in object id order. Readers of the
// directory see every assignment of their tenant; a guest sees those she
// holds herself.
func (d *Directory) Assignments(ctx context.Context, actor Actor, principalID string, pr PageRequest) (Page[serviceprincipal.AppRoleAssignment], error) {
	return list(ctx, d.core, actor, assignmentRule, store.AssignmentByPrincipal, principalID, pr, nil)
}

// AuditQuery selects audit events. Every field that is set must match;
// the zero AuditQuery selects the first page of events, oldest first.
type AuditQuery struct {
	// Actor selects the events of one actor; the zero Actor: any.
	Actor Actor
	// Action selects one action, e.g. "application.create".
	Action string
	// TargetKind and TargetID select the events of one object (a kind
	// name such as "application", and its id).
	TargetKind string
	TargetID   string // see TargetKind
	// Since and Until bound the events' time: at or after Since, before
	// Until; a zero time leaves that side open.
	Since, Until time.Time
	// Order is store.OldestFirst (the zero value) or store.NewestFirst.
	Order store.LogOrder
	// Page is the page wanted.
	Page PageRequest
}

// Audit returns a page of the audit events of tenantID that match q;
// tenantID "" reads the events of every tenant (and those of none). Only
// System and the tenant's Global Administrators read the audit log
// (tenant.Reader.ReadsLogs); anyone else is refused with ErrForbidden.
func (d *Directory) Audit(ctx context.Context, actor Actor, tenantID string, q AuditQuery) (Page[store.AuditEvent], error) {
	f := store.AuditFilter{TenantID: tenantID, Action: q.Action, TargetKind: q.TargetKind, TargetID: q.TargetID, Since: q.Since, Until: q.Until}
	if !q.Actor.IsZero() {
		f.Actor = q.Actor.String()
	}
	listing := fmt.Sprintf("audit/%s/%d", tenantID, q.Order)
	p, err := logPage(listing, q.Page, q.Order)
	if err != nil {
		return Page[store.AuditEvent]{}, err
	}
	var out Page[store.AuditEvent]
	err = d.readFor(ctx, actor, func(tx store.ReadTx, r tenant.Reader) error {
		if err := requireLogReader(r, tenantID); err != nil {
			return err
		}
		ev, next, err := tx.AuditEvents(f, p)
		out = Page[store.AuditEvent]{Items: ev, Next: logCursor(listing, next)}
		return err
	})
	return out, err
}

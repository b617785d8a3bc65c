package tenantry

import (
	"context"

	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// setUserEnabled calls EnableUser or DisableUser, for tests that draw the
// state at random.
func (d *Directory) setUserEnabled(ctx context.Context, actor Actor, userID string, enabled bool) (tenant.User, error) {
	if enabled {
		return d.EnableUser(ctx, actor, userID)
	}
	return d.DisableUser(ctx, actor, userID)
}

// setServicePrincipalEnabled calls EnableServicePrincipal or
// DisableServicePrincipal.
func (d *Directory) setServicePrincipalEnabled(ctx context.Context, actor Actor, spID string, enabled bool) (serviceprincipal.ServicePrincipal, error) {
	if enabled {
		return d.EnableServicePrincipal(ctx, actor, spID)
	}
	return d.DisableServicePrincipal(ctx, actor, spID)
}

// auditLog reads the whole audit log, oldest first, as System, page by
// page.
func (d *Directory) auditLog(ctx context.Context) ([]store.AuditEvent, error) {
	var out []store.AuditEvent
	q := AuditQuery{Page: PageRequest{Size: MaxPageSize}}
	for {
		p, err := d.Audit(ctx, System(), "", q)
		if err != nil {
			return out, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		q.Page.Cursor = p.Next
	}
}

// allGrants lists every delegated grant of a client service principal, as
// System.
func (d *Directory) allGrants(ctx context.Context, clientSPID string) ([]consent.Grant, error) {
	return allPages(func(pr PageRequest) (Page[consent.Grant], error) { return d.Grants(ctx, System(), clientSPID, pr) })
}

func allPages[T any](list func(PageRequest) (Page[T], error)) ([]T, error) {
	var out []T
	pr := PageRequest{Size: MaxPageSize}
	for {
		p, err := list(pr)
		if err != nil {
			return out, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		pr.Cursor = p.Next
	}
}

// signInEvents reads every sign-in event that matches f (f.TenantID as the
// tenant read), for tests written against the store's filter.
func (d *Directory) signInEvents(ctx context.Context, actor Actor, f store.SignInFilter, _ store.LogPage) ([]store.SignInEvent, int64, error) {
	q := SignInQuery{ClientAppID: f.ClientAppID, ResourceAppID: f.ResourceAppID, UserID: f.UserID, ServicePrincipalID: f.ServicePrincipalID,
		GrantType: f.GrantType, CorrelationID: f.CorrelationID, Outcome: f.Outcome, ErrorCode: f.ErrorCode, Since: f.Since, Until: f.Until}
	out, err := allPages(func(pr PageRequest) (Page[store.SignInEvent], error) {
		q.Page = pr
		return d.SignIns(ctx, actor, f.TenantID, q)
	})
	return out, 0, err
}

// revokeGrant deletes the grant (nil scopes) or removes scopes from it,
// for tests that draw either at random.
func (d *Directory) revokeGrant(ctx context.Context, actor Actor, grantID string, scopes []string) error {
	if scopes == nil {
		return d.DeleteGrant(ctx, actor, grantID)
	}
	_, err := d.RemoveGrantScopes(ctx, actor, grantID, scopes)
	return err
}

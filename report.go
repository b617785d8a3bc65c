package tenantry

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// Report is a governance report over the directory.
type Report struct {
	// OrphanedServicePrincipals have no live application: it was deleted
	// (soft or permanently). They get no tokens.
	OrphanedServicePrincipals []serviceprincipal.ServicePrincipal
	// ApplicationsWithoutOwners are live applications nobody owns.
	ApplicationsWithoutOwners []application.Application
	// ExpiringCredentials are secrets and certificates of live applications
	// that expire within the report's horizon (or already have).
	ExpiringCredentials []ExpiringCredential
	// AdminScopeGrants are delegated grants that include a scope of type
	// Admin on their resource.
	AdminScopeGrants []AdminScopeGrant
	// DivergentOwners are home-tenant service principals whose owners
	// differ from their live application's. The Directory keeps the two
	// lists in step; a divergence comes from records written by other
	// means and is worth a look, since service principal owners assign its
	// app roles.
	DivergentOwners []serviceprincipal.ServicePrincipal
}

// ExpiringCredential names a credential close to its end date.
type ExpiringCredential struct {
	AppID       string    // the application's appId
	KeyID       string    // the credential's keyId
	Type        string    // password or certificate
	DisplayName string    // the credential's displayName
	EndDateTime time.Time // when the credential expires
}

// AdminScopeGrant is a grant holding Admin-type scopes.
type AdminScopeGrant struct {
	Grant       consent.Grant // the delegated permission grant
	AdminScopes []string      // the Admin-type scopes it holds
}

// ReportOptions tunes a governance report.
type ReportOptions struct {
	// Within is the horizon of ExpiringCredentials: credentials ending
	// before now+Within are listed (0: those already expired).
	Within time.Duration
}

// Report builds the governance report of tenantID ("" = every tenant,
// System only). System and the tenant's Global, Application and Cloud
// Application Administrators read it (tenant.Reader.ReadsReport); anyone
// else is refused with ErrForbidden.
func (d *Directory) Report(ctx context.Context, actor Actor, tenantID string, opts ReportOptions) (Report, error) {
	var r Report
	err := d.readFor(ctx, actor, func(_ store.ReadTx, rd tenant.Reader) error {
		if !rd.ReadsReport(tenantID) {
			return &tenant.ForbiddenError{Reason: "the report requires Global, Application or Cloud Application Administrator of the tenant"}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	horizon := d.clock().Add(opts.Within)
	index, key := "", ""
	if tenantID != "" {
		index, key = store.ByTenant, tenantID
	}
	// A page per View: a report over a large directory must not hold the
	// store's read side for long.
	err = eachPage(ctx, d.st, store.Applications, index, key, &r, func(_ store.ReadTx, apps []application.Application, r *Report) error {
		for _, a := range apps {
			if a.IsDeleted() {
				continue
			}
			if len(a.Owners) == 0 {
				r.ApplicationsWithoutOwners = append(r.ApplicationsWithoutOwners, a)
			}
			for _, p := range a.PasswordCredentials {
				if p.EndDateTime.Before(horizon) {
					r.ExpiringCredentials = append(r.ExpiringCredentials, ExpiringCredential{a.AppID, p.KeyID, "password", p.DisplayName, p.EndDateTime})
				}
			}
			for _, k := range a.KeyCredentials {
				if k.EndDateTime.Before(horizon) {
					r.ExpiringCredentials = append(r.ExpiringCredentials, ExpiringCredential{a.AppID, k.KeyID, "certificate", k.DisplayName, k.EndDateTime})
				}
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	err = eachPage(ctx, d.st, store.ServicePrincipals, index, key, &r, func(tx store.ReadTx, sps []serviceprincipal.ServicePrincipal, r *Report) error {
		for _, sp := range sps {
			if sp.AppID == "" || sp.ServicePrincipalType != serviceprincipal.TypeApplication {
				continue
			}
			a, err := store.Applications.One(tx, store.AppByAppID, sp.AppID)
			if errors.Is(err, store.ErrNotFound) || (err == nil && a.IsDeleted()) {
				r.OrphanedServicePrincipals = append(r.OrphanedServicePrincipals, sp)
			} else if err != nil {
				return err
			} else if a.TenantID == sp.TenantID && !sameSet(a.Owners, sp.Owners) {
				r.DivergentOwners = append(r.DivergentOwners, sp)
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	err = eachPage(ctx, d.st, store.Grants, index, key, &r, func(tx store.ReadTx, grants []consent.Grant, r *Report) error {
		for _, g := range grants {
			res, err := store.ServicePrincipals.Get(tx, g.ResourceID)
			if err != nil {
				continue // resource deleted since: nothing to report
			}
			var admin []string
			for _, s := range g.Scopes() {
				if ps, ok := res.ScopeByValue(s); ok && ps.Type == application.ScopeTypeAdmin {
					admin = append(admin, s)
				}
			}
			if len(admin) > 0 {
				r.AdminScopeGrants = append(r.AdminScopeGrants, AdminScopeGrant{Grant: g, AdminScopes: admin})
			}
		}
		return nil
	})
	slices.SortFunc(r.ExpiringCredentials, func(a, b ExpiringCredential) int { return a.EndDateTime.Compare(b.EndDateTime) })
	return r, err
}

// eachPage calls fn with every page of the listing, each page read in a
// View of its own. fn adds what it finds to the page's part of the report,
// which is merged into r once the page's View has returned: a store may
// run the View function more than once (see store.Store.View).
func eachPage[T any](ctx context.Context, st store.Store, c *store.Collection[T], index, key string, r *Report,
	fn func(tx store.ReadTx, items []T, part *Report) error) error {
	p := store.Page{Limit: 500}
	for {
		var next string
		var part Report
		err := st.View(ctx, func(tx store.ReadTx) error {
			part = Report{}
			items, n, err := c.List(tx, index, key, p)
			if err != nil {
				return err
			}
			next = n
			return fn(tx, items, &part)
		})
		if err != nil {
			return err
		}
		r.OrphanedServicePrincipals = append(r.OrphanedServicePrincipals, part.OrphanedServicePrincipals...)
		r.ApplicationsWithoutOwners = append(r.ApplicationsWithoutOwners, part.ApplicationsWithoutOwners...)
		r.ExpiringCredentials = append(r.ExpiringCredentials, part.ExpiringCredentials...)
		r.AdminScopeGrants = append(r.AdminScopeGrants, part.AdminScopeGrants...)
		r.DivergentOwners = append(r.DivergentOwners, part.DivergentOwners...)
		if next == "" {
			return nil
		}
		p.After = next
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

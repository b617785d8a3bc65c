package tenantry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tenantry/tenantry/internal/guid"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// TenantSpec describes a new tenant.
type TenantSpec struct {
	// ID is the tenant id; empty means a new one.
	ID string
	// DisplayName is the tenant's name; the initial {name}.onmicrosoft.com
	// domain is made from it.
	DisplayName string
	// Domains are extra verified domains; the initial
	// "{name}.onmicrosoft.com" domain is always added. The first entry
	// becomes the default domain.
	Domains []string
	// Policy replaces tenant.DefaultPolicy() when set.
	Policy *tenant.AuthorizationPolicy
}

// CreateTenant creates a tenant. Only System may create tenants.
func (d *Directory) CreateTenant(ctx context.Context, actor Actor, spec TenantSpec) (tenant.Tenant, error) {
	if actor != System() {
		return tenant.Tenant{}, &tenant.ForbiddenError{Reason: "only the system creates tenants"}
	}
	var out tenant.Tenant
	err := d.mutate(ctx, actor, func(o *op) error {
		t := tenant.Tenant{
			ID: spec.ID, DisplayName: spec.DisplayName, TenantType: tenant.TypeAAD,
			Policy: tenant.DefaultPolicy(), CreatedDateTime: o.now,
		}
		if t.ID == "" {
			t.ID = d.newID()
		}
		if spec.Policy != nil {
			t.Policy = spec.Policy.Clone()
		}
		initial := tenant.InitialDomain(spec.DisplayName)
		// Make the initial domain unique, as Entra does, by suffixing.
		for i := 2; ; i++ {
			if _, err := store.Tenants.One(o.tx, store.TenantByDomain, initial); errors.Is(err, store.ErrNotFound) {
				break
			} else if err != nil {
				return err
			}
			initial = strings.TrimSuffix(tenant.InitialDomain(spec.DisplayName), ".onmicrosoft.com") + fmt.Sprint(i) + ".onmicrosoft.com"
		}
		for i, dom := range spec.Domains {
			t.VerifiedDomains = append(t.VerifiedDomains, tenant.VerifiedDomain{Name: strings.ToLower(dom), IsDefault: i == 0, Type: "Managed"})
		}
		t.VerifiedDomains = append(t.VerifiedDomains, tenant.VerifiedDomain{Name: initial, IsInitial: true, IsDefault: len(spec.Domains) == 0, Type: "Managed"})
		if err := t.Validate(); err != nil {
			return err
		}
		if err := store.Tenants.Create(o.tx, t); err != nil {
			return err
		}
		out = t.Clone()
		return o.audit(t.ID, "tenant.create", store.Tenants, t.ID, nil, t)
	})
	return out, err
}

// SetAuthorizationPolicy replaces a tenant's authorization policy (who may
// register apps, user consent, guest access). Requires Global
// Administrator.
func (d *Directory) SetAuthorizationPolicy(ctx context.Context, actor Actor, tenantID string, p tenant.AuthorizationPolicy) (tenant.Tenant, error) {
	var out tenant.Tenant
	err := d.mutate(ctx, actor, func(o *op) error {
		t, err := byID(o.tx, store.Tenants, tenantID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(tenantID); err != nil {
			return err
		}
		before := t
		t = t.Clone()
		t.Policy = p.Clone()
		if err := t.Validate(); err != nil {
			return err
		}
		if err := store.Tenants.Put(o.tx, t); err != nil {
			return err
		}
		out = t.Clone()
		return o.audit(t.ID, "tenant.setAuthorizationPolicy", store.Tenants, t.ID, before, t)
	})
	return out, err
}

func resolveTenant(tx store.ReadTx, idOrDomain string) (tenant.Tenant, error) {
	if strings.EqualFold(idOrDomain, "consumers") {
		idOrDomain = tenant.ConsumersID
	}
	if id, ok := guid.Canonical(idOrDomain); ok {
		return store.Tenants.Get(tx, id)
	}
	return store.Tenants.One(tx, store.TenantByDomain, strings.ToLower(idOrDomain))
}

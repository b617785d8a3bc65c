package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/tenant"
)

// Example writes a tenant, a service principal and an audit event in one
// Update, then reads them back in a View through an index and the audit
// log.
func Example() {
	ctx := context.Background()
	s := memory.New()
	defer s.Close()

	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	contoso := tenant.Tenant{
		ID:              "72f988bf-86f1-41af-91ab-2d7cd011db47",
		DisplayName:     "Contoso",
		VerifiedDomains: []tenant.VerifiedDomain{{Name: "contoso.onmicrosoft.com", IsDefault: true, IsInitial: true}},
		Policy:          tenant.DefaultPolicy(),
		CreatedDateTime: now,
	}
	sp := serviceprincipal.ServicePrincipal{
		ID:                   "4b5e1b8d-3c1a-4b0e-9f3e-2a8f0c6d7e91",
		TenantID:             contoso.ID,
		AppID:                "00000003-0000-0000-c000-000000000000",
		DisplayName:          "Microsoft Graph",
		ServicePrincipalType: serviceprincipal.TypeApplication,
		AccountEnabled:       true,
		CreatedDateTime:      now,
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := store.Tenants.Create(tx, contoso); err != nil {
			return err
		}
		if err := store.ServicePrincipals.Create(tx, sp); err != nil {
			return err
		}
		return tx.AppendAudit(store.AuditEvent{
			Time: now, TenantID: contoso.ID, Actor: "admin@contoso.onmicrosoft.com",
			Action: "add servicePrincipal", TargetKind: "servicePrincipal", TargetID: sp.ID,
		})
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	err = s.View(ctx, func(tx store.ReadTx) error {
		t, err := store.Tenants.One(tx, store.TenantByDomain, "contoso.onmicrosoft.com")
		if err != nil {
			return err
		}
		graph, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(sp.AppID, t.ID))
		if err != nil {
			return err
		}
		fmt.Printf("%s has %s\n", t.DisplayName, graph.DisplayName)
		events, err := tx.Audit(0, 0)
		if err != nil {
			return err
		}
		for _, e := range events {
			fmt.Println(e.Seq, e.Action, e.Actor)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// Contoso has Microsoft Graph
	// 1 add servicePrincipal admin@contoso.onmicrosoft.com
}

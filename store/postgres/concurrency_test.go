package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// TestConcurrentDirectories: 16 goroutines, half on each of two
// Directories over two stores (two pools: as two processes) on one
// database, consent, assign, unassign and revoke on the same three clients
// and one API at once. Afterwards: one service principal per (appId,
// tenant), one grant per (client, type, principal, resource), one
// assignment per (principal, resource, role); the audit log holds exactly
// one event per successful mutation, with Seqs 1, 2, 3, … in commit order.
func TestConcurrentDirectories(t *testing.T) {
	schema := freshSchema(t)
	s1 := open(t, postgres.Config{Schema: schema})
	s2 := open(t, postgres.Config{Schema: schema})
	ctx := context.Background()
	sys := tenantry.System()
	d1 := newDirectory(t, s1, token.ES256)
	d2 := newDirectory(t, s2, token.ES256)
	ten := must[tenant.Tenant](t)(d1.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso"}))
	roles := []string{"bbbbbbbb-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"}
	api := must[application.Application](t)(d1.CreateApplication(ctx, sys, ten.ID, application.Application{
		DisplayName: "API", SignInAudience: application.AzureADMyOrg,
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{
			{ID: "aaaaaaaa-0000-4000-8000-000000000001", Value: "Files.Read", Type: application.ScopeTypeUser, IsEnabled: true}}},
		AppRoles: []application.AppRole{
			{ID: roles[0], Value: "Files.Sync", DisplayName: "Sync", Description: "Sync", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true},
			{ID: roles[1], Value: "Files.Audit", DisplayName: "Audit", Description: "Audit", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}},
	}))
	apiSP := must[serviceprincipal.ServicePrincipal](t)(d1.ServicePrincipalByAppID(ctx, sys, ten.ID, api.AppID))
	var clients []application.Application
	for i := range 3 {
		clients = append(clients, must[application.Application](t)(d1.CreateApplication(ctx, sys, ten.ID, application.Application{
			DisplayName: fmt.Sprintf("Client %d", i), SignInAudience: application.AzureADMyOrg,
			RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID, ResourceAccess: []application.ResourceAccess{
				{ID: "aaaaaaaa-0000-4000-8000-000000000001", Type: application.AccessScope},
				{ID: roles[0], Type: application.AccessRole}}}},
		})))
	}
	before := auditCount(t, s1)

	const goroutines, rounds = 16, 12
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		d := d1
		if g%2 == 1 {
			d = d2
		}
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(g), 7))
			for range rounds {
				c := clients[rnd.IntN(len(clients))]
				var err error
				switch rnd.IntN(4) {
				case 0:
					_, err = d.Consent(ctx, sys, ten.ID, tenantry.ConsentSpec{ClientAppID: c.AppID, Default: true, TenantWide: true})
				case 1:
					var sp serviceprincipal.ServicePrincipal
					if sp, err = d.ServicePrincipalByAppID(ctx, sys, ten.ID, c.AppID); err == nil {
						_, err = d.AssignAppRole(ctx, sys, tenantry.AssignmentSpec{ResourceID: apiSP.ID, PrincipalID: sp.ID, AppRoleID: roles[rnd.IntN(2)]})
					}
				case 2:
					var as []serviceprincipal.AppRoleAssignment
					if as, err = assignmentsOn(ctx, s1, apiSP.ID); err == nil && len(as) > 0 {
						err = d.UnassignAppRole(ctx, sys, as[rnd.IntN(len(as))].ID)
					} else if err == nil {
						continue
					}
				case 3:
					var gs []consent.Grant
					if gs, err = grantsOn(ctx, s2, apiSP.ID); err == nil && len(gs) > 0 {
						err = d.DeleteGrant(ctx, sys, gs[rnd.IntN(len(gs))].ID)
					} else if err == nil {
						continue
					}
				}
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrAlreadyExists):
					// Lost a race: another goroutine removed or made it first.
					refused.Add(1)
				default:
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d mutations succeeded, %d refused as a lost race", ok.Load(), refused.Load())
	if ok.Load() < goroutines {
		t.Errorf("only %d mutations succeeded: the test exercised little", ok.Load())
	}

	err := s1.View(ctx, func(tx store.ReadTx) error {
		sps, err := store.ServicePrincipals.All(tx, "", "")
		if err != nil {
			return err
		}
		pairs := map[string]int{}
		for _, sp := range sps {
			pairs[store.AppTenantKey(sp.AppID, sp.TenantID)]++
		}
		for k, n := range pairs {
			if n != 1 {
				t.Errorf("%d service principals for %s, want one", n, k)
			}
		}
		grants, err := store.Grants.All(tx, "", "")
		if err != nil {
			return err
		}
		gkeys := map[string]int{}
		for _, g := range grants {
			gkeys[store.GrantKey(g.ClientID, g.ConsentType, g.PrincipalID, g.ResourceID)]++
		}
		for k, n := range gkeys {
			if n != 1 {
				t.Errorf("%d grants for %s, want one", n, k)
			}
		}
		as, err := store.Assignments.All(tx, "", "")
		if err != nil {
			return err
		}
		akeys := map[string]int{}
		for _, a := range as {
			akeys[a.PrincipalID+"/"+a.ResourceID+"/"+a.AppRoleID]++
		}
		for k, n := range akeys {
			if n != 1 {
				t.Errorf("%d assignments for %s, want one", n, k)
			}
		}
		events, err := tx.Audit(0, 0)
		if err != nil {
			return err
		}
		if got := int64(len(events) - before); got != ok.Load() {
			t.Errorf("audit log grew by %d events, want one per successful mutation, %d", got, ok.Load())
		}
		for i, e := range events {
			if e.Seq != int64(i+1) {
				t.Fatalf("audit event %d has Seq %d, want %d: Seqs 1, 2, 3, … in commit order", i, e.Seq, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func auditCount(t *testing.T, s store.Store) int {
	var n int
	if err := s.View(context.Background(), func(tx store.ReadTx) error {
		events, err := tx.Audit(0, 0)
		n = len(events)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func assignmentsOn(ctx context.Context, s store.Store, resourceID string) (as []serviceprincipal.AppRoleAssignment, err error) {
	err = s.View(ctx, func(tx store.ReadTx) error {
		as, err = store.Assignments.Lookup(tx, store.AssignmentByResource, resourceID)
		return err
	})
	return as, err
}

func grantsOn(ctx context.Context, s store.Store, resourceID string) (gs []consent.Grant, err error) {
	err = s.View(ctx, func(tx store.ReadTx) error {
		gs, err = store.Grants.Lookup(tx, store.GrantByResource, resourceID)
		return err
	})
	return gs, err
}

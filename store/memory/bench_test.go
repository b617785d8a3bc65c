package memory_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
)

// The benchmarks run against a fixture of n service principals spread over
// 1,000 tenants (n/1,000 applications, each with a service principal in
// every tenant) and n app role assignments (one per service principal, on
// the first application's service principal in its tenant), for n = 10k and
// 1M. Each fixture is built once per benchmark process.
//
//	go test ./store/memory -run '^$' -bench . -benchmem -benchtime 200ms

const tenants = 1000

type fixture struct {
	s      *memory.Store
	ids    []string // service principal ids, in creation order
	keys   []string // their AppTenantKey
	apps   []string
	tenant []string
	heapMB float64 // heap held by the store and the ids
}

var (
	fixtures     = map[int]*fixture{}
	fixturesOnce = map[int]*sync.Once{10_000: {}, 1_000_000: {}}
)

func getFixture(b *testing.B, n int) *fixture {
	b.Helper()
	fixturesOnce[n].Do(func() {
		start := time.Now()
		fixtures[n] = buildFixture(b, n)
		b.Logf("fixture of %d service principals and %d assignments built in %v, heap %.0f MB", n, n, time.Since(start).Round(time.Millisecond), fixtures[n].heapMB)
	})
	return fixtures[n]
}

// uuidFrom returns a random version 4 UUID drawn from r, so that ids
// arrive in no particular order, as real object ids do.
func uuidFrom(r *rand.Rand) string {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], r.Uint64())
	binary.LittleEndian.PutUint64(u[8:], r.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

func buildFixture(b *testing.B, n int) *fixture {
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// The fixture is two million small objects with pointers: let the heap
	// grow further between collections while it is built.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	r := rand.New(rand.NewPCG(uint64(n), 42))
	f := &fixture{s: memory.New()}
	for range tenants {
		f.tenant = append(f.tenant, uuidFrom(r))
	}
	for range n / tenants {
		f.apps = append(f.apps, uuidFrom(r))
	}
	created := at()
	sp := func(i int) serviceprincipal.ServicePrincipal {
		a, tid := i/tenants, f.tenant[i%tenants]
		if len(f.ids) == i {
			f.ids = append(f.ids, uuidFrom(r))
		}
		return serviceprincipal.ServicePrincipal{
			ID: f.ids[i], TenantID: tid, AppID: f.apps[a], AppOwnerOrganizationID: f.tenant[0],
			DisplayName: "app " + strconv.Itoa(a), ServicePrincipalType: serviceprincipal.TypeApplication,
			AccountEnabled: true, CreatedDateTime: created,
		}
	}
	// The resource of every assignment: the first app's SP in the tenant.
	for i := range tenants {
		sp(i)
	}
	const batch = 10_000
	for i := 0; i < n; i += batch {
		err := f.s.Update(context.Background(), func(tx store.Tx) error {
			for j := i; j < min(i+batch, n); j++ {
				sp := sp(j)
				if err := store.ServicePrincipals.Create(tx, sp); err != nil {
					return err
				}
				if err := store.Assignments.Create(tx, serviceprincipal.AppRoleAssignment{
					ID: uuidFrom(r), TenantID: sp.TenantID, AppRoleID: "00000000-0000-0000-0000-000000000000",
					PrincipalID: sp.ID, PrincipalType: serviceprincipal.PrincipalServicePrincipal,
					ResourceID: f.ids[j%tenants], CreatedDateTime: created,
				}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	f.heapMB = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	for i := range n {
		f.keys = append(f.keys, store.AppTenantKey(f.apps[i/tenants], f.tenant[i%tenants]))
	}
	return f
}

func at() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }

func sizes(b *testing.B, fn func(b *testing.B, f *fixture)) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("n=%dk", n/1000), func(b *testing.B) { fn(b, getFixture(b, n)) })
	}
}

// view runs fn inside one View: the cost of the reads alone.
func view(b *testing.B, f *fixture, fn func(tx store.ReadTx, i int) error) {
	b.Helper()
	err := f.s.View(context.Background(), func(tx store.ReadTx) error {
		i := 0
		for b.Loop() {
			if err := fn(tx, i); err != nil {
				return err
			}
			i++
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// pick returns a pseudo-random index of the fixture's records for step i,
// so that successive reads touch unrelated parts of the maps.
func pick(f *fixture, i int) int { return int(uint64(i) * 2654435761 % uint64(len(f.ids))) }

func BenchmarkGet(b *testing.B) {
	sizes(b, func(b *testing.B, f *fixture) {
		view(b, f, func(tx store.ReadTx, i int) error {
			_, err := store.ServicePrincipals.Get(tx, f.ids[pick(f, i)])
			return err
		})
	})
}

func BenchmarkOneSPByAppTenant(b *testing.B) {
	sizes(b, func(b *testing.B, f *fixture) {
		view(b, f, func(tx store.ReadTx, i int) error {
			_, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, f.keys[pick(f, i)])
			return err
		})
	})
}

// BenchmarkLookupSPByAppTenantUntyped is OneSPByAppTenant without the
// typed accessor: the store's part, without copying the 480-byte
// ServicePrincipal out of the stored interface value.
func BenchmarkLookupSPByAppTenantUntyped(b *testing.B) {
	sizes(b, func(b *testing.B, f *fixture) {
		view(b, f, func(tx store.ReadTx, i int) error {
			vs, err := tx.Lookup(store.ServicePrincipals, store.SPByAppTenant, f.keys[pick(f, i)])
			if err == nil && len(vs) != 1 {
				err = fmt.Errorf("%d service principals, want 1", len(vs))
			}
			return err
		})
	})
}

func BenchmarkLookupAssignmentsByPrincipal(b *testing.B) {
	sizes(b, func(b *testing.B, f *fixture) {
		view(b, f, func(tx store.ReadTx, i int) error {
			as, err := store.Assignments.Lookup(tx, store.AssignmentByPrincipal, f.ids[pick(f, i)])
			if err == nil && len(as) != 1 {
				err = fmt.Errorf("%d assignments, want 1", len(as))
			}
			return err
		})
	})
}

// BenchmarkViewOne is One with a View of its own per operation: what the
// token path pays.
func BenchmarkViewOne(b *testing.B) {
	sizes(b, func(b *testing.B, f *fixture) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			key := f.keys[pick(f, i)]
			i++
			err := f.s.View(ctx, func(tx store.ReadTx) error {
				_, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, key)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListFirstPage lists the first 100 service principals of the
// kind (index "") and of one tenant: no sort, whatever the size.
func BenchmarkListFirstPage(b *testing.B) {
	sizes(b, func(b *testing.B, f *fixture) {
		b.Run("all", func(b *testing.B) {
			view(b, f, func(tx store.ReadTx, _ int) error {
				_, _, err := store.ServicePrincipals.List(tx, "", "", store.Page{})
				return err
			})
		})
		b.Run("tenant", func(b *testing.B) {
			view(b, f, func(tx store.ReadTx, i int) error {
				_, _, err := store.ServicePrincipals.List(tx, store.ByTenant, f.tenant[i%tenants], store.Page{})
				return err
			})
		})
		b.Run("cursor", func(b *testing.B) {
			view(b, f, func(tx store.ReadTx, i int) error {
				_, _, err := store.ServicePrincipals.List(tx, "", "", store.Page{After: f.ids[pick(f, i)]})
				return err
			})
		})
	})
}

// BenchmarkUpdatePut is an Update that reads one service principal, writes
// it back changed (same index keys) and appends one audit event.
func BenchmarkUpdatePut(b *testing.B) {
	sizes(b, func(b *testing.B, f *fixture) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			id := f.ids[pick(f, i)]
			i++
			err := f.s.Update(ctx, func(tx store.Tx) error {
				sp, err := store.ServicePrincipals.Get(tx, id)
				if err != nil {
					return err
				}
				sp.DisplayName = "renamed"
				if err := store.ServicePrincipals.Put(tx, sp); err != nil {
					return err
				}
				return tx.AppendAudit(store.AuditEvent{Time: at(), Actor: "bench", Action: "update servicePrincipal", TargetKind: "servicePrincipal", TargetID: sp.ID})
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUpdateCreateDelete creates a service principal in a new tenant
// (new keys in every index, an insert into the sorted ids of a million)
// with an audit event, then deletes it in a second Update: the cost per op
// is of both.
func BenchmarkUpdateCreateDelete(b *testing.B) {
	sizes(b, func(b *testing.B, f *fixture) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(7, 7))
		for b.Loop() {
			sp := serviceprincipal.ServicePrincipal{
				ID: uuidFrom(r), TenantID: "bench-tenant", AppID: f.apps[0],
				DisplayName: "new", ServicePrincipalType: serviceprincipal.TypeApplication, CreatedDateTime: at(),
			}
			err := f.s.Update(ctx, func(tx store.Tx) error {
				if err := store.ServicePrincipals.Create(tx, sp); err != nil {
					return err
				}
				return tx.AppendAudit(store.AuditEvent{Time: at(), Actor: "bench", Action: "create", TargetKind: "servicePrincipal", TargetID: sp.ID})
			})
			if err == nil {
				err = f.s.Update(ctx, func(tx store.Tx) error { return store.ServicePrincipals.Delete(tx, sp.ID) })
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

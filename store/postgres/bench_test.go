package postgres_test

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/token"
)

// seedLarge adds the 1M size to BenchmarkIssuanceScale (its seeding takes
// minutes): go test ./store/postgres -run '^$' -bench IssuanceScale -tenantry.seed1m
var seedLarge = flag.Bool("tenantry.seed1m", false, "BenchmarkIssuanceScale: also seed 1M grants and assignments")

// memoryNsOp keeps the memory store's ns/op of each algorithm, measured
// first in the same run, for the ratio the PostgreSQL run reports.
var memoryNsOp sync.Map

// issue runs client-credentials issuance from 8 goroutines per core
// (throughput: enough requests in flight that the cores, not the round
// trips, are the limit) and returns ns/op.
func issue(b *testing.B, e *tokenEnv) float64 {
	req := e.request(false, false)
	ctx := context.Background()
	for range 50 { // warm the connections' statement caches
		if _, err := e.d.Issuer().Token(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.d.Issuer().Token(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
	return float64(time.Since(start).Nanoseconds()) / float64(b.N)
}

// BenchmarkIssuance: client-credentials issuance (secret check, service
// principals, assignments, claims, signature, sign-in event) through the
// memory store and through PostgreSQL, RS256 and ES256, in parallel on
// every core. The PostgreSQL run reports its throughput as a ratio of the
// memory store's (memory ns/op ÷ PostgreSQL ns/op), measured just before.
func BenchmarkIssuance(b *testing.B) {
	for _, alg := range []token.Algorithm{token.RS256, token.ES256} {
		b.Run(fmt.Sprintf("memory/%s", alg), func(b *testing.B) {
			e := newTokenEnv(b, memory.New(), alg)
			defer e.d.Close()
			memoryNsOp.Store(alg, issue(b, e))
		})
		b.Run(fmt.Sprintf("postgres/%s", alg), func(b *testing.B) {
			e := newTokenEnv(b, open(b, postgres.Config{}), alg)
			ns := issue(b, e)
			if m, ok := memoryNsOp.Load(alg); ok {
				b.ReportMetric(m.(float64)/ns, "x-memory-throughput")
			}
		})
	}
}

// BenchmarkMutation: Directory mutations through PostgreSQL, one
// transaction and one audit event each: sequential (latency), and from
// every core at once (throughput; writers are serialised).
func BenchmarkMutation(b *testing.B) {
	for _, par := range []bool{false, true} {
		b.Run(fmt.Sprintf("EnableDisableServicePrincipal/parallel=%v", par), func(b *testing.B) {
			e := newTokenEnv(b, open(b, postgres.Config{}), token.ES256)
			ctx := context.Background()
			sp, err := e.d.ServicePrincipalByAppID(ctx, tenantry.System(), e.tenantID, e.api.AppID)
			if err != nil {
				b.Fatal(err)
			}
			toggle := func(on bool) {
				var err error
				if on {
					_, err = e.d.EnableServicePrincipal(ctx, tenantry.System(), sp.ID)
				} else {
					_, err = e.d.DisableServicePrincipal(ctx, tenantry.System(), sp.ID)
				}
				if err != nil {
					b.Error(err)
				}
			}
			b.ReportAllocs()
			start := time.Now()
			if par {
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						toggle(i%2 == 0)
					}
				})
			} else {
				for i := 0; b.Loop(); i++ {
					toggle(i%2 == 0)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "mutations/s")
		})
	}
}

// BenchmarkIssuanceScale: RS256 client-credentials issuance through
// PostgreSQL with 10k (and, with -tenantry.seed1m, 1M) grants and app role
// assignments seeded in bulk with COPY beside the benchmark's own: the
// reads are index range scans, so issuance should not slow down with the
// size of the directory.
func BenchmarkIssuanceScale(b *testing.B) {
	sizes := []int{10_000}
	if *seedLarge {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		// The benchmark function runs several times (as b.N grows): seed
		// once per size, for the parent benchmark.
		s := open(b, postgres.Config{})
		e := newTokenEnv(b, s, token.RS256)
		sp, err := e.d.ServicePrincipalByAppID(context.Background(), tenantry.System(), e.tenantID, e.api.AppID)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		seed(b, s, e.tenantID, sp.ID, n)
		b.Logf("seeded %d grants and assignments in %v", n, time.Since(start).Round(time.Millisecond))
		b.Run(fmt.Sprintf("seeded=%d", n), func(b *testing.B) { issue(b, e) })
	}
}

// seed writes n/2 grants and n/2 app role assignments on the resource
// spID, of other principals, in batches of 50k.
func seed(b *testing.B, s *postgres.Store, tid, spID string, n int) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	const batch = 50_000
	for done := 0; done < n/2; done += batch {
		var grants, assignments []any
		for range min(batch, n/2-done) {
			grants = append(grants, consent.Grant{ID: uuid.NewString(), TenantID: tid, ClientID: uuid.NewString(), ConsentType: consent.AllPrincipals,
				ResourceID: spID, Scope: "Files.Read", CreatedDateTime: now})
			assignments = append(assignments, serviceprincipal.AppRoleAssignment{ID: uuid.NewString(), TenantID: tid, AppRoleID: roleSync,
				PrincipalID: uuid.NewString(), PrincipalType: serviceprincipal.PrincipalServicePrincipal, ResourceID: spID, CreatedDateTime: now})
		}
		if err := postgres.Seed(ctx, s, store.Grants, grants); err != nil {
			b.Fatal(err)
		}
		if err := postgres.Seed(ctx, s, store.Assignments, assignments); err != nil {
			b.Fatal(err)
		}
	}
}

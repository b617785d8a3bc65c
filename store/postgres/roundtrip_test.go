package postgres_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/token"
)

// counter is a pgx tracer that counts the round trips made with a
// context carrying its key: one per query, per batch (a batch is sent in
// one round trip), per COPY and per explicit prepare, and keeps their SQL.
type counter struct {
	n   atomic.Int64
	mu  sync.Mutex
	sql []string
}

type countKey struct{}

func (c *counter) count(ctx context.Context, sql string) {
	if ctx.Value(countKey{}) == c {
		c.n.Add(1)
		c.mu.Lock()
		c.sql = append(c.sql, strings.Join(strings.Fields(sql), " "))
		c.mu.Unlock()
	}
}

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.count(ctx, d.SQL)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var sqls []string
	for _, q := range d.Batch.QueuedQueries {
		sqls = append(sqls, q.SQL)
	}
	c.count(ctx, "batch["+strings.Join(sqls, "; ")+"]")
	return ctx
}
func (c *counter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
func (c *counter) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	c.count(ctx, "copy "+d.TableName.Sanitize())
	return ctx
}
func (c *counter) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}
func (c *counter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	c.count(ctx, "prepare "+d.SQL)
	return ctx
}
func (c *counter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// measure returns the round trips fn made with the counted context, and
// their SQL.
func (c *counter) measure(fn func(ctx context.Context)) (int64, []string) {
	c.mu.Lock()
	c.n.Store(0)
	c.sql = nil
	c.mu.Unlock()
	fn(context.WithValue(context.Background(), countKey{}, c))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n.Load(), slices.Clone(c.sql)
}

// TestTokenPathRoundTrips: a warm client-credentials issuance (the records
// it reads are in the store's cache and nothing was committed since) costs
// one round trip, one statement: the read of the audit counter. A cold one
// (the cache empty, as in a process that just started) waits for at most
// two round trips, whether the tenant is named by id or by domain and the
// resource by identifier URI or appId: the two prefetches of the token
// path (one when both are named by id), with the BEGIN of the snapshot in
// the first. The first after a commit adds the counter's round trip. The
// COMMIT of the read-only snapshot is sent after View returned, on a
// context of its own, and the sign-in event is written by the background
// writer: neither is waited for, so neither is counted. The connections'
// statement caches are warmed first (a statement a connection has not
// prepared yet costs one more round trip the first time).
func TestTokenPathRoundTrips(t *testing.T) {
	c := &counter{}
	s := open(t, postgres.Config{Tracer: c, MaxConns: 2})
	e := newTokenEnv(t, s, token.ES256)
	for _, v := range []struct {
		name              string
		byDomain, byAppID bool
		max               int64
	}{
		{"tenant id, identifier URI", false, false, 2},
		{"tenant domain, identifier URI", true, false, 2},
		{"tenant domain, appId", true, true, 2},
		{"tenant id, appId", false, true, 1},
	} {
		t.Run(v.name, func(t *testing.T) {
			req := e.request(v.byDomain, v.byAppID)
			for range 20 { // warm both connections' statement caches
				postgres.DropCache(s)
				if _, err := e.d.Issuer().Token(context.Background(), req); err != nil {
					t.Fatal(err)
				}
			}
			issue := func(what string, lo, hi int64) []string {
				t.Helper()
				var tok string
				n, sqls := c.measure(func(ctx context.Context) {
					r, err := e.d.Issuer().Token(ctx, req)
					if err != nil {
						t.Fatal(err)
					}
					tok = r.AccessToken
				})
				if n < lo || n > hi {
					t.Fatalf("%s issuance made %d round trips, want %d to %d:\n%s", what, n, lo, hi, strings.Join(sqls, "\n"))
				}
				p, err := e.d.Issuer().ValidateAccessToken(context.Background(), tok, e.api.AppID)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(p.Roles, []string{"Files.Sync"}) {
					t.Fatalf("token roles %v, want [Files.Sync]", p.Roles)
				}
				t.Logf("%s: %d round trips, %d statements", what, n, strings.Count(strings.Join(sqls, ";"), ";")+1)
				return sqls
			}
			for range 3 {
				postgres.DropCache(s)
				issue("cold", 1, v.max)
				for range 3 {
					if sqls := issue("warm", 1, 1); len(sqls) != 1 || strings.Contains(sqls[0], "batch") {
						t.Fatalf("a warm issuance sent %q, want one statement", sqls)
					}
				}
				// A commit (of anything) moves the counter: the next
				// issuance reads in a snapshot again.
				if err := s.Update(context.Background(), func(tx store.Tx) error {
					return tx.AppendAudit(store.AuditEvent{Action: "test.note", Actor: "system"})
				}); err != nil {
					t.Fatal(err)
				}
				issue("after a commit", 2, v.max+1)
			}
		})
	}
}

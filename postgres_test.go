package tenantry

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/store/storetest"
)

// The rapid machines of this package again, over store/postgres: every
// run gets a store in a schema of its own, empty. They need a server:
// TENANTRY_POSTGRES_URL names it, and they are skipped without it.

// pgURL returns the server's URL or skips the test. The sessions do not
// wait for the WAL flush at commit (synchronous_commit=off, a session
// setting): crash durability is not under test here.
func pgURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TENANTRY_POSTGRES_URL")
	if url == "" {
		t.Skip("TENANTRY_POSTGRES_URL is not set: set it to a PostgreSQL server's URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the rapid machines over store/postgres")
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "synchronous_commit=off"
}

var pgSchemas atomic.Int64

// pgStores returns a factory of stores for the rapid runs of t: the first
// store gets a new schema, each later one the same schema emptied (the
// previous run's store is closed by then), which is what a new schema
// holds, at a few milliseconds instead of the 100 ms or more that creating
// the tables costs. The schema is dropped when t ends.
func pgStores(t *testing.T) func() store.Store {
	url := pgURL(t)
	schema := fmt.Sprintf("tenantry_root_%d_%d", os.Getpid(), pgSchemas.Add(1))
	exec := func(sql string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE") })
	var prev *postgres.Store
	return func() store.Store {
		if prev != nil {
			// The previous run's store, if still open, would write its
			// buffered sign-in events into the next run's.
			_ = prev.Close()
			exec("SET search_path = " + schema + "; DELETE FROM records; DELETE FROM record_keys; " +
				"DELETE FROM audit_log; DELETE FROM signin_log; UPDATE counters SET seq = 0, rev = 0")
		}
		s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		prev = s
		return s
	}
}

// pgChecks lowers rapid's number of checks to n for the duration of t,
// unless -rapid.checks was given on the command line: a PostgreSQL run
// costs a round trip per read. The machines still check that they reach
// the states they must.
func pgChecks(t *testing.T, n int) {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if set {
		return
	}
	f := flag.Lookup("rapid.checks")
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}

// The Directory machine runs rapid's full count of checks over PostgreSQL,
// plain and under Replay, as over the memory store: the states it must
// reach (some in a few runs of a hundred) are reached here too.
func TestPostgresDirectoryInvariants(t *testing.T) {
	newStore := pgStores(t)
	RunDirectoryInvariants(t, newStore)
}

func TestPostgresReplayDirectoryInvariants(t *testing.T) {
	newStore := pgStores(t)
	RunDirectoryInvariants(t, func() store.Store { return storetest.Replay(newStore()) })
}

func TestPostgresFlowProperties(t *testing.T) {
	ftStore = pgStores(t)
	t.Cleanup(func() { ftStore = nil })
	pgChecks(t, 15)
	for _, test := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"ClaimsWithinGrants", TestFlowPropertyClaimsWithinGrants},
		{"RevocationStopsTokens", TestFlowPropertyRevocationStopsTokens},
		{"Audience", TestFlowPropertyAudience},
		{"RoundTrip", TestFlowPropertyRoundTrip},
		{"FlippedByte", TestFlowPropertyFlippedByte},
	} {
		t.Run(test.name, test.fn)
	}
}

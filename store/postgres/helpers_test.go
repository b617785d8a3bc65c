package postgres_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store/postgres"
)

// serverURL returns the server the tests use, from TENANTRY_POSTGRES_URL,
// or skips the test. The tests' sessions do not wait for the WAL flush
// at commit (synchronous_commit=off, a per-session setting): durability
// across a server crash is not what they test, and a flush per commit
// would make them several times slower.
func serverURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TENANTRY_POSTGRES_URL")
	if url == "" {
		t.Skip("TENANTRY_POSTGRES_URL is not set: set it to a PostgreSQL server's URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests")
	}
	return withParam(url, "synchronous_commit=off")
}

func withParam(url, param string) string {
	if strings.Contains(url, "://") {
		if strings.Contains(url, "?") {
			return url + "&" + param
		}
		return url + "?" + param
	}
	return url + " " + param // key=value form
}

// reusable maps a test to the schema its first store used, for tests that
// open one store after another (storetest's Properties, the rapid
// machines): each later store gets the same schema emptied, which is
// what a fresh one holds, at a few milliseconds instead of the 100 ms or
// more that creating the tables costs.
var reusable sync.Map // testing.TB -> string

// emptySchema returns a schema for t: a fresh one at the first call, the
// same one emptied afterwards (its previous store must be closed).
func emptySchema(t testing.TB) string {
	t.Helper()
	if v, ok := reusable.Load(t); ok {
		name := v.(string)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL(t))
		if err != nil {
			t.Fatalf("empty schema %s: %v", name, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SET search_path = "+name+"; "+
			"DELETE FROM records; DELETE FROM record_keys; DELETE FROM audit_log; DELETE FROM signin_log; "+
			"UPDATE counters SET seq = 0, rev = 0"); err != nil {
			t.Fatalf("empty schema %s: %v", name, err)
		}
		return name
	}
	name := freshSchema(t)
	reusable.Store(t, name)
	t.Cleanup(func() { reusable.Delete(t) })
	return name
}

var schemas atomic.Int64

// freshSchema returns the name of a new, empty schema, dropped when the
// test ends.
func freshSchema(t testing.TB) string {
	t.Helper()
	url := serverURL(t)
	name := fmt.Sprintf("tenantry_test_%d_%d", os.Getpid(), schemas.Add(1))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Logf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+name+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// open opens a store in a fresh schema, closed when the test ends.
func open(t testing.TB, cfg postgres.Config) *postgres.Store {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = serverURL(t)
	}
	if cfg.Schema == "" {
		cfg.Schema = freshSchema(t)
	}
	s, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rapidChecks sets rapid's number of checks to n for the duration of t,
// unless -rapid.checks was given on the command line.
func rapidChecks(t *testing.T, n int) {
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

package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store/postgres"
)

// serverURL returns the server the tests use, from TENANTRY_POSTGRES_URL,
// or skips the test.
func serverURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TENANTRY_POSTGRES_URL")
	if url == "" {
		t.Skip("TENANTRY_POSTGRES_URL is not set: set it to a PostgreSQL server's URL (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests")
	}
	return url
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
	cfg.URL = serverURL(t)
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

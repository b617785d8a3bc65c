package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store/postgres"
)

// Processes that open one schema at once all succeed, and the schema is
// migrated once: each version is recorded once. Opening again changes
// nothing; a database at a version this package does not know is refused
// with ErrSchema.
func TestMigrationsConcurrentAndIdempotent(t *testing.T) {
	url := serverURL(t)
	schema := freshSchema(t)
	const processes = 8
	var wg sync.WaitGroup
	errs := make([]error, processes)
	for i := range processes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	versions := func() map[int]int {
		rows, err := conn.Query(ctx, "SELECT version, count(*) FROM "+schema+".schema_migrations WHERE version > 0 GROUP BY version")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int]int{}
		for rows.Next() {
			var v, n int
			if err := rows.Scan(&v, &n); err != nil {
				t.Fatal(err)
			}
			out[v] = n
		}
		return out
	}
	got := versions()
	if len(got) == 0 {
		t.Fatal("no migration recorded")
	}
	for v, n := range got {
		if n != 1 {
			t.Fatalf("version %d recorded %d times", v, n)
		}
	}
	s := open(t, postgres.Config{Schema: schema})
	s.Close()
	if again := versions(); len(again) != len(got) {
		t.Fatalf("opening again recorded %v, before %v", again, got)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO "+schema+".schema_migrations (version, name) VALUES (9999, 'from the future')"); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema}); !errors.Is(err, postgres.ErrSchema) {
		t.Fatalf("a database at a newer version: %v, want ErrSchema", err)
	}
}

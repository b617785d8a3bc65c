package storeurl_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/storeurl"
	"github.com/tenantry/tenantry/tenant"
)

func TestOpenMemory(t *testing.T) {
	for _, u := range []string{"memory:", "memory"} {
		st, err := storeurl.Open(context.Background(), u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		st.Close()
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, u := range []string{"memory://host", "memory:?x=1", "mysql://root:secret@localhost/db", "%zz", "file:///tmp/x"} {
		_, err := storeurl.Open(context.Background(), u)
		if !errors.Is(err, storeurl.ErrURL) {
			t.Errorf("%s: %v, want ErrURL", u, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error repeats the URL's password: %v", u, err)
		}
	}
}

// A temporary PostgreSQL store keeps what is written, in a schema of its
// own that drop removes (after the store was closed or not).
func TestOpenTemporaryPostgres(t *testing.T) {
	url := os.Getenv("TENANTRY_POSTGRES_URL")
	if url == "" {
		t.Skip("TENANTRY_POSTGRES_URL is not set: the PostgreSQL tests need a server (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	ctx := context.Background()
	st, drop, err := storeurl.OpenTemporary(ctx, url+"&schema=ignored")
	if err != nil {
		t.Fatal(err)
	}
	want := tenant.Tenant{ID: "5f0e4a9c-1b2d-4e3f-8a7b-6c5d4e3f2a1b", DisplayName: "Contoso"}
	if err := st.Update(ctx, func(tx store.Tx) error { return store.Tenants.Create(tx, want) }); err != nil {
		t.Fatal(err)
	}
	var got tenant.Tenant
	if err := st.View(ctx, func(tx store.ReadTx) error { got, err = store.Tenants.Get(tx, want.ID); return err }); err != nil || got.DisplayName != "Contoso" {
		t.Fatalf("read back %+v, %v", got, err)
	}
	st.Close()
	if err := drop(); err != nil {
		t.Fatalf("drop: %v", err)
	}
	// The schema is gone: a store opened on the plain URL does not see
	// the tenant.
	plain, err := storeurl.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.View(ctx, func(tx store.ReadTx) error { _, err := store.Tenants.Get(tx, want.ID); return err }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after drop: %v", err)
	}
}

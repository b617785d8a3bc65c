package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/store/postgres"
)

// A Directory over PostgreSQL: processes sharing the database share the
// key-encryption key, so that each opens the signing keys the others
// stored. (Not run: it needs a server.)
func ExampleOpen() {
	ctx := context.Background()
	st, err := postgres.Open(ctx, postgres.Config{URL: os.Getenv("DATABASE_URL"), Schema: "tenantry"})
	if err != nil {
		log.Fatal(err)
	}
	kek := []byte(os.Getenv("TENANTRY_KEK")) // 32 bytes, the same in every process
	dir, err := tenantry.New(ctx, tenantry.Config{Store: st, Tokens: tenantry.TokenConfig{KeyEncryptionKey: kek}})
	if err != nil {
		log.Fatal(err)
	}
	defer dir.Close()
}

package tenantry_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/token"
)

// BenchmarkNew measures tenantry.New over a fresh memory store: the
// consumers tenant and the signing keys, per algorithm.
func BenchmarkNew(b *testing.B) {
	for _, alg := range []token.Algorithm{token.RS256, token.ES256} {
		b.Run(string(alg), func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				dir, err := tenantry.New(ctx, tenantry.Config{Tokens: tenantry.TokenConfig{Algorithm: alg}})
				if err != nil {
					b.Fatal(err)
				}
				dir.Close()
			}
		})
	}
	// The default algorithm with a key generated once, as a test suite
	// creating many directories would pass it.
	b.Run("RS256-InitialKey", func(b *testing.B) {
		ctx := context.Background()
		key, err := token.GenerateKey(token.RS256, time.Now(), nil)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			dir, err := tenantry.New(ctx, tenantry.Config{Tokens: tenantry.TokenConfig{InitialKey: key}})
			if err != nil {
				b.Fatal(err)
			}
			dir.Close()
		}
	})
}

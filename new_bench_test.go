package tenantry_test

import (
	"context"
	"testing"

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
}

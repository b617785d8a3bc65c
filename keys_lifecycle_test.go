package tenantry_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// jwksKids returns the key ids of the directory's JWKS, the active key
// first.
func jwksKids(t *testing.T, d *tenantry.Directory) []string {
	t.Helper()
	doc, err := d.Issuer().JWKS(context.Background(), "common", 2)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func rotateKeys(t *testing.T, d *tenantry.Directory) bool {
	t.Helper()
	changed, err := d.Issuer().RotateKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return changed
}

// TestKeysSuccessorPublishedInLead: New creates the active key alone; its
// successor is generated within the lead before the active key's period
// ends and signs only after it; two processes sharing a store agree on
// every step.
func TestKeysSuccessorPublishedInLead(t *testing.T) {
	ctx := context.Background()
	clock := tenantry.NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st := memory.New()
	kek := make([]byte, 32)
	cfg := tenantry.Config{Store: st, Now: clock.Now, Tokens: tenantry.TokenConfig{Algorithm: token.ES256, KeyEncryptionKey: kek}}
	a, err := tenantry.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tenantry.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	k1 := jwksKids(t, a)
	if len(k1) != 1 || !slices.Equal(jwksKids(t, b), k1) {
		t.Fatalf("after New: JWKS %v and %v, want one shared active key", k1, jwksKids(t, b))
	}

	leadStart := token.DefaultSigningPeriod - token.DefaultLead
	clock.Advance(leadStart - time.Hour)
	if rotateKeys(t, a) || rotateKeys(t, b) {
		t.Fatal("keys changed before the lead")
	}
	clock.Advance(time.Hour)
	if !rotateKeys(t, a) {
		t.Fatal("no successor within the lead")
	}
	both := jwksKids(t, a)
	if len(both) != 2 || both[0] != k1[0] {
		t.Fatalf("within the lead: JWKS %v, want %s still active and its successor", both, k1[0])
	}
	clock.Advance(time.Minute) // b reloads the key set
	if got := jwksKids(t, b); !slices.Equal(got, both) || rotateKeys(t, b) {
		t.Fatalf("the other process: JWKS %v, want %v and nothing to do", got, both)
	}

	// At the period's end the successor, published for the lead, signs.
	clock.Advance(token.DefaultLead)
	if !rotateKeys(t, b) {
		t.Fatal("no promotion at the period's end")
	}
	clock.Advance(time.Minute)
	for _, d := range []*tenantry.Directory{a, b} {
		if got := jwksKids(t, d); len(got) != 2 || got[0] != both[1] || got[1] != k1[0] {
			t.Fatalf("after promotion: JWKS %v, want %s active and %s retired", got, both[1], k1[0])
		}
	}
}

// TestKeysLateRotationWaitsForLead: when no rotation ran during the lead
// (every process was down), the active key keeps signing past its period
// until the successor generated late has been published for the lead.
func TestKeysLateRotationWaitsForLead(t *testing.T) {
	clock := tenantry.NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	d, err := tenantry.New(context.Background(), tenantry.Config{Now: clock.Now, Tokens: tenantry.TokenConfig{Algorithm: token.ES256}})
	if err != nil {
		t.Fatal(err)
	}
	k1 := jwksKids(t, d)
	clock.Advance(token.DefaultSigningPeriod + 10*24*time.Hour)
	if !rotateKeys(t, d) {
		t.Fatal("no successor generated")
	}
	got := jwksKids(t, d)
	if len(got) != 2 || got[0] != k1[0] {
		t.Fatalf("late rotation: JWKS %v, want %s still signing", got, k1[0])
	}
	clock.Advance(token.DefaultLead - time.Second)
	if rotateKeys(t, d) {
		t.Fatal("successor activated before its lead")
	}
	clock.Advance(time.Second)
	if !rotateKeys(t, d) || jwksKids(t, d)[0] != got[1] {
		t.Fatalf("successor not active after its lead: %v", jwksKids(t, d))
	}
}

// TestKeysInitialKey: TokenConfig.InitialKey becomes the first active key
// of an empty store and is ignored by a store that has keys; a key of
// another algorithm is refused.
func TestKeysInitialKey(t *testing.T) {
	ctx := context.Background()
	clock := tenantry.NewManualClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	seed, err := token.GenerateKey(token.RS256, clock.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	kek := make([]byte, 32)
	cfg := tenantry.Config{Store: st, Now: clock.Now, Tokens: tenantry.TokenConfig{KeyEncryptionKey: kek, InitialKey: seed}}
	d, err := tenantry.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, d); !slices.Equal(got, []string{seed.ID}) {
		t.Fatalf("JWKS %v, want the initial key %s alone", got, seed.ID)
	}
	p, err := d.Issuer().KeySource().PublicKey(ctx, seed.ID)
	if err != nil || p.Algorithm != token.RS256 {
		t.Fatalf("initial key not used for validation: %v, %v", p, err)
	}
	if seed.State != token.KeyNext {
		t.Fatal("New modified the initial key")
	}
	// A store with keys keeps them.
	other, err := token.GenerateKey(token.RS256, clock.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tokens.InitialKey = other
	d2, err := tenantry.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, d2); !slices.Equal(got, []string{seed.ID}) {
		t.Fatalf("second process: JWKS %v, want the stored key %s", got, seed.ID)
	}
	// The algorithm must match.
	es, err := token.GenerateKey(token.ES256, clock.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tenantry.New(ctx, tenantry.Config{Now: clock.Now, Tokens: tenantry.TokenConfig{InitialKey: es}}); !errors.Is(err, token.ErrInvalidKey) {
		t.Fatalf("ES256 initial key for RS256: err = %v, want token.ErrInvalidKey", err)
	}
}

// TokenConfig's two places for the algorithm must agree: a disagreement is
// a configuration error, never one silently overriding the other.
func TestTokenConfigAlgorithmsAgree(t *testing.T) {
	ctx := context.Background()
	_, err := tenantry.New(ctx, tenantry.Config{Tokens: tenantry.TokenConfig{Algorithm: token.ES256, Rotation: token.RotationPolicy{Algorithm: token.EdDSA}}})
	if !errors.Is(err, token.ErrUnsupportedAlgorithm) {
		t.Fatalf("New with two algorithms: %v, want a configuration error", err)
	}
	d, err := tenantry.New(ctx, tenantry.Config{Tokens: tenantry.TokenConfig{Rotation: token.RotationPolicy{Algorithm: token.ES256}}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := d.Issuer().JWKS(ctx, tenant.ConsumersID, token.Version2)
	if err != nil || !strings.Contains(string(keys), `"EC"`) {
		t.Fatalf("Rotation.Algorithm ES256 alone: keys %s, %v; want an EC key", keys, err)
	}
}

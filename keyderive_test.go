package tenantry

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/token"
)

func testKEK() []byte {
	kek := make([]byte, 32)
	for i := range kek {
		kek[i] = byte(i + 1)
	}
	return kek
}

func storedSigningKeys(t *testing.T, st store.Store) []store.SigningKey {
	t.Helper()
	var out []store.SigningKey
	if err := st.View(context.Background(), func(tx store.ReadTx) error {
		var err error
		out, err = store.SigningKeys.All(tx, "", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The key-encryption key keys no primitive itself: signing keys are sealed
// under an HKDF-derived subkey, and the refresh-token and pairwise keys are
// distinct subkeys.
func TestKeyEncryptionKeyDerivesSubkeys(t *testing.T) {
	ctx := context.Background()
	kek := testKEK()
	st := memory.New()
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	d, err := New(ctx, Config{Store: st, Now: clock.Now, NewID: SequentialIDs(t.Name()), Tokens: TokenConfig{Algorithm: jose.ES256, KeyEncryptionKey: kek}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Issuer().JWKS(ctx, "common", token.Version2); err != nil {
		t.Fatal(err)
	}
	sealKey, err := hkdf.Key(sha256.New, kek, nil, "tenantry signing key sealing v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	keys := storedSigningKeys(t, st)
	if len(keys) == 0 {
		t.Fatal("no signing key stored")
	}
	for _, sk := range keys {
		if _, err := token.OpenKey(sk.Sealed, kek); !errors.Is(err, token.ErrKeyDecryption) {
			t.Errorf("key %s opens under the raw key-encryption key (err %v); it must be sealed under a derived subkey", sk.ID, err)
		}
		if _, err := token.OpenKey(sk.Sealed, sealKey); err != nil {
			t.Errorf("key %s does not open under the HKDF sealing subkey: %v", sk.ID, err)
		}
	}
	sub, err := deriveSubkeys(kek)
	if err != nil {
		t.Fatal(err)
	}
	all := [][]byte{kek, sub.keySeal, sub.refreshSeal, sub.pairwise}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if bytes.Equal(all[i], all[j]) {
				t.Errorf("keys %d and %d are equal", i, j)
			}
		}
	}
	if !bytes.Equal(d.tokens.keySeal, sub.keySeal) || !bytes.Equal(d.tokens.pairwise, sub.pairwise) {
		t.Error("the token service does not use the derived subkeys")
	}
}

// A signing key sealed directly under the key-encryption key (the scheme
// before subkeys) is a clear error, never replaced by a new key.
func TestKeySealedUnderRawKEKIsRefused(t *testing.T) {
	ctx := context.Background()
	kek := testKEK()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k, err := token.GenerateKey(jose.ES256, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	k.State, k.ActivatedAt = token.KeyActive, now
	sealed, err := token.SealKey(k, kek) // the old scheme: the raw key
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	if err := st.Update(ctx, func(tx store.Tx) error {
		return store.SigningKeys.Put(tx, store.SigningKey{ID: k.ID, Algorithm: string(k.Algorithm), State: string(k.State), Sealed: sealed, CreatedAt: k.CreatedAt})
	}); err != nil {
		t.Fatal(err)
	}
	clock := NewManualClock(now)
	d, err := New(ctx, Config{Store: st, Now: clock.Now, NewID: SequentialIDs(t.Name()), Tokens: TokenConfig{Algorithm: jose.ES256, KeyEncryptionKey: kek}})
	if err == nil {
		defer d.Close()
		_, err = d.Issuer().RotateKeys(ctx)
	}
	if !errors.Is(err, token.ErrKeyDecryption) {
		t.Fatalf("err = %v, want token.ErrKeyDecryption", err)
	}
	keys := storedSigningKeys(t, st)
	if len(keys) != 1 || keys[0].ID != k.ID || !bytes.Equal(keys[0].Sealed, sealed) {
		t.Errorf("stored keys changed: %+v", keys)
	}
}

package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

var allAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

var testNow = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

// activeKey generates a fresh active key for alg.
func activeKey(t testing.TB, alg jose.SignatureAlgorithm) *Key {
	t.Helper()
	k, err := GenerateKey(alg, testNow, nil)
	if err != nil {
		t.Fatalf("GenerateKey(%s): %v", alg, err)
	}
	k.State = KeyActive
	k.ActivatedAt = testNow
	return k
}

// newRing builds a keyring around keys at testNow.
func newRing(t testing.TB, keys ...*Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(keys, testNow)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return r
}

// sampleAccess is a realistic delegated v2 access-token claim set.
func sampleAccess() AccessClaims {
	c := BuildAccess(Access{
		Version:           2,
		TenantID:          "72f988bf-86f1-41af-91ab-2d7cd011db47",
		Audience:          "6e74172b-be56-4843-9ff4-e66a39bb12e3",
		ClientAppID:       "2b4ad1b4-7f38-4f45-9d1e-0f4e0a4fb3a4",
		ClientAuth:        ClientAuthSecret,
		UserObjectID:      "d8f3a1c2-55b6-4e8f-9a7d-3c2b1a0f9e8d",
		Subject:           "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		Name:              "Adele Vance",
		Username:          "AdeleV@contoso.onmicrosoft.com",
		Scopes:            []string{"Orders.Read", "Orders.Write", "User.Read"},
		Roles:             []string{"Orders.Admin", "Reports.Reader"},
		Groups:            []string{"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
		IncludeUserIDType: true,
		AIO:               "E2ZgYJgR+7m/0vD1kXwZ5c4xv6AA",
		TokenID:           "x2l7jUy3KEywbPWW1JQBAA",
		IssuedAt:          testNow,
	})
	c.Extra = map[string]any{"xms_tdbr": "EU", "ctry": "FR"}
	return c
}

func sampleID() IDClaims {
	return BuildIDToken(IDToken{
		Version:      2,
		TenantID:     "72f988bf-86f1-41af-91ab-2d7cd011db47",
		ClientAppID:  "2b4ad1b4-7f38-4f45-9d1e-0f4e0a4fb3a4",
		Nonce:        "n-0S6_WzA2Mj",
		Subject:      "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		UserObjectID: "d8f3a1c2-55b6-4e8f-9a7d-3c2b1a0f9e8d",
		Name:         "Adele Vance",
		Username:     "AdeleV@contoso.onmicrosoft.com",
		Email:        "adele@contoso.com",
		SessionID:    "00b7c5e1-6f0a-4f2e-9d8c-7b6a5f4e3d2c",
		TokenID:      "x2l7jUy3KEywbPWW1JQBAA",
		IssuedAt:     testNow,
	})
}

// decodeSegment base64url-decodes one part of a compact JWS.
func decodeSegment(t *testing.T, tok string, i int) []byte {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return b
}

// TestSignInteropGoJose proves that every token verifies with go-jose and
// decodes back to the claims it was built from, for each algorithm and header
// option, with fresh keys per case.
func TestSignInteropGoJose(t *testing.T) {
	for _, alg := range allAlgs {
		for _, x5t := range []bool{false, true} {
			for _, kind := range []string{"access", "id"} {
				t.Run(fmt.Sprintf("%s/x5t=%v/%s", alg, x5t, kind), func(t *testing.T) {
					t.Parallel()
					key := activeKey(t, alg)
					ring := newRing(t, key)
					var claims any
					switch kind {
					case "access":
						c := sampleAccess()
						claims = &c
					default:
						c := sampleID()
						claims = c // value, not pointer: both are accepted
					}
					tok, err := ring.Sign(alg, claims, SignOptions{X5T: x5t})
					if err != nil {
						t.Fatalf("Sign: %v", err)
					}

					jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
					if err != nil {
						t.Fatalf("go-jose ParseSigned: %v", err)
					}
					payload, err := jws.Verify(key.Public().Key)
					if err != nil {
						t.Fatalf("go-jose Verify: %v", err)
					}
					h := jws.Signatures[0].Header
					if h.KeyID != key.ID || h.Algorithm != string(alg) {
						t.Errorf("header kid=%q alg=%q, want %q %q", h.KeyID, h.Algorithm, key.ID, alg)
					}
					wantHeader := `{"typ":"JWT","alg":"` + string(alg) + `","kid":"` + key.ID + `"}`
					if x5t {
						wantHeader = `{"typ":"JWT","alg":"` + string(alg) + `","x5t":"` + key.ID + `","kid":"` + key.ID + `"}`
					}
					if got := string(decodeSegment(t, tok, 0)); got != wantHeader {
						t.Errorf("header = %s, want %s", got, wantHeader)
					}

					switch want := claims.(type) {
					case *AccessClaims:
						var got AccessClaims
						if err := json.Unmarshal(payload, &got); err != nil {
							t.Fatal(err)
						}
						if d := cmp.Diff(*want, got); d != "" {
							t.Errorf("claims differ (-sent +decoded):\n%s", d)
						}
					case IDClaims:
						var got IDClaims
						if err := json.Unmarshal(payload, &got); err != nil {
							t.Fatal(err)
						}
						if d := cmp.Diff(want, got); d != "" {
							t.Errorf("claims differ (-sent +decoded):\n%s", d)
						}
					}
					// Independently of our decoder: the payload is the
					// encoding/json view of the claims.
					var viaStd, viaPayload map[string]any
					std, _ := json.Marshal(claims)
					if err := json.Unmarshal(std, &viaStd); err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal(payload, &viaPayload); err != nil {
						t.Fatal(err)
					}
					if d := cmp.Diff(viaStd, viaPayload); d != "" {
						t.Errorf("payload differs from json.Marshal (-want +got):\n%s", d)
					}
				})
			}
		}
	}
}

// TestSignWrongKeyFails checks that go-jose rejects a token under another
// key of the same algorithm.
func TestSignWrongKeyFails(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			signer, other := activeKey(t, alg), activeKey(t, alg)
			tok, err := newRing(t, signer).Sign(alg, map[string]any{"sub": "x"}, SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jws.Verify(other.Public().Key); err == nil {
				t.Fatal("token verified with another key")
			}
			if _, err := jws.Verify(signer.Public().Key); err != nil {
				t.Fatalf("token does not verify with its key: %v", err)
			}
			// A flipped payload byte breaks the signature.
			parts := strings.Split(tok, ".")
			claims := []byte(parts[1])
			claims[3] ^= 1
			tampered := parts[0] + "." + string(claims) + "." + parts[2]
			if jws, err := jose.ParseSignedCompact(tampered, []jose.SignatureAlgorithm{alg}); err == nil {
				if _, err := jws.Verify(signer.Public().Key); err == nil {
					t.Fatal("tampered token verified")
				}
			}
		})
	}
}

func TestSignClaimsKinds(t *testing.T) {
	key := activeKey(t, jose.ES256)
	ring := newRing(t, key)
	type custom struct {
		Sub string `json:"sub"`
	}
	ok := []struct {
		name   string
		claims any
		want   string
	}{
		{"raw message", json.RawMessage(` {"a":1} `), `{"a":1}`},
		{"bytes", []byte(`{"b":[true]}`), `{"b":[true]}`},
		{"struct", custom{Sub: "s"}, `{"sub":"s"}`},
		{"map", map[string]any{"z": "1"}, `{"z":"1"}`},
		{"access value", AccessClaims{Subject: "x"}, `{"sub":"x"}`},
		{"id pointer", &IDClaims{Nonce: "n"}, `{"nonce":"n"}`},
	}
	for _, tc := range ok {
		tok, err := ring.Sign(jose.ES256, tc.claims, SignOptions{})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := string(decodeSegment(t, tok, 1)); got != tc.want {
			t.Errorf("%s: payload %s, want %s", tc.name, got, tc.want)
		}
	}
	bad := []struct {
		name   string
		claims any
	}{
		{"array", []byte(`[1]`)},
		{"number", 42},
		{"string", "sub"},
		{"invalid json", json.RawMessage(`{"a":}`)},
		{"empty", []byte(nil)},
		{"unmarshalable", map[string]any{"c": make(chan int)}},
		{"nil access", (*AccessClaims)(nil)},
		{"extra collides", &AccessClaims{Extra: map[string]any{"sub": "evil"}}},
	}
	for _, tc := range bad {
		if _, err := ring.Sign(jose.ES256, tc.claims, SignOptions{}); !errors.Is(err, ErrInvalidClaims) {
			t.Errorf("%s: err = %v, want ErrInvalidClaims", tc.name, err)
		}
	}
}

func TestSignNoKey(t *testing.T) {
	ring := newRing(t, activeKey(t, jose.ES256))
	if _, err := ring.Sign(jose.RS256, map[string]any{}, SignOptions{}); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("err = %v, want ErrNoSigningKey", err)
	}
	next, err := GenerateKey(jose.EdDSA, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	ring = newRing(t, next) // a next key never signs
	if _, err := ring.Sign(jose.EdDSA, map[string]any{}, SignOptions{}); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("err = %v, want ErrNoSigningKey", err)
	}
}

// opaqueSigner hides the concrete key type, like a KMS-backed signer.
type opaqueSigner struct {
	inner crypto.Signer
	fail  error
	calls int
	mu    sync.Mutex
}

func (s *opaqueSigner) Public() crypto.PublicKey { return s.inner.Public() }

func (s *opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	return s.inner.Sign(r, digest, opts)
}

func TestSignOpaqueSigner(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			key := activeKey(t, alg)
			s := &opaqueSigner{inner: key.Signer}
			key.Signer = s
			ring := newRing(t, key)
			tok, err := ring.Sign(alg, &AccessClaims{Subject: "kms"}, SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jws.Verify(key.Public().Key); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if s.calls != 1 {
				t.Errorf("signer called %d times, want 1", s.calls)
			}
			s.fail = errors.New("hsm offline")
			if _, err := ring.Sign(alg, &AccessClaims{Subject: "kms"}, SignOptions{}); !errors.Is(err, ErrSign) {
				t.Errorf("err = %v, want ErrSign", err)
			}
		})
	}
}

func TestECDSADERToRaw(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("x"))
	for range 200 { // covers short r or s (leading zero bytes) with high probability
		der, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		var raw [64]byte
		if !ecdsaDERToRaw(der, raw[:]) {
			t.Fatalf("rejected valid signature %x", der)
		}
		if !ecdsaVerifyRaw(&key.PublicKey, digest[:], raw[:]) {
			t.Fatalf("converted signature does not verify: %x", der)
		}
	}
	bad := map[string]string{
		"empty":          "",
		"not sequence":   "3106020101020101",
		"short sequence": "3008020101020101",
		"trailing":       "300602010102010100",
		"negative":       "3006020181020101",
		"non-minimal":    "300702020001020101",
		"zero length":    "30050200020101",
		"r too long":     "3026022101" + strings.Repeat("01", 32) + "020101",
		"three ints":     "3009020101020101020101",
		"long form len":  "308106020101020101",
		"not integer":    "3006030101020101",
	}
	for name, h := range bad {
		var raw [64]byte
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ecdsaDERToRaw(b, raw[:]) {
			t.Errorf("%s: accepted %s", name, h)
		}
	}
	// Leading zeros are stripped and values left-padded.
	var raw [64]byte
	if !ecdsaDERToRaw([]byte{0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x05}, raw[:]) {
		t.Fatal("rejected valid short signature")
	}
	want := make([]byte, 64)
	want[31], want[63] = 0x80, 0x05
	if string(raw[:]) != string(want) {
		t.Errorf("raw = %x, want %x", raw, want)
	}
}

func ecdsaVerifyRaw(pub *ecdsa.PublicKey, digest, raw []byte) bool {
	der := []byte{0x30, 0}
	for _, half := range [][]byte{raw[:32], raw[32:]} {
		for len(half) > 1 && half[0] == 0 {
			half = half[1:]
		}
		if half[0]&0x80 != 0 {
			half = append([]byte{0}, half...)
		}
		der = append(der, 0x02, byte(len(half)))
		der = append(der, half...)
	}
	der[1] = byte(len(der) - 2)
	return ecdsa.VerifyASN1(pub, digest, der)
}

// TestSignConcurrent signs from several goroutines (run with -race).
func TestSignConcurrent(t *testing.T) {
	key := activeKey(t, jose.ES256)
	ring := newRing(t, key)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				c := sampleAccess()
				c.TokenID = fmt.Sprintf("g%d-%d", g, i)
				tok, err := ring.Sign(jose.ES256, &c, SignOptions{X5T: i%2 == 0})
				if err != nil {
					errs <- err
					return
				}
				jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
				if err != nil {
					errs <- err
					return
				}
				payload, err := jws.Verify(key.Public().Key)
				if err != nil {
					errs <- err
					return
				}
				if !strings.Contains(string(payload), c.TokenID) {
					errs <- fmt.Errorf("payload of %s lacks its uti", c.TokenID)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

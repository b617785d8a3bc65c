package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Benchmarks of issuance. Compare within one run:
//
//	go test ./token/ -run '^$' -bench 'RawSign|GoJoseSign|Sign$|BuildAccess' -benchtime=200ms
//
// The goal is Sign ≤ 1.2 × RawSign for RS256 and ES256.

var benchAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

var benchKeys sync.Map // jose.SignatureAlgorithm → *Key

// benchKey returns one active key per algorithm for the whole run.
func benchKey(b *testing.B, alg jose.SignatureAlgorithm) *Key {
	b.Helper()
	if k, ok := benchKeys.Load(alg); ok {
		return k.(*Key)
	}
	k := activeKey(b, alg)
	actual, _ := benchKeys.LoadOrStore(alg, k)
	return actual.(*Key)
}

// benchClaims is a realistic delegated v2 access token: roles, scp, a group.
func benchClaims() AccessClaims {
	c := sampleAccess()
	c.Extra = nil
	return c
}

func BenchmarkRawSign(b *testing.B) {
	digest := sha256.Sum256([]byte("header.payload"))
	msg := []byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0")
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			k := benchKey(b, alg)
			for b.Loop() {
				var err error
				switch priv := k.Signer.(type) {
				case *rsa.PrivateKey:
					_, err = rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
				case *ecdsa.PrivateKey:
					_, _, err = ecdsa.Sign(rand.Reader, priv, digest[:])
				case ed25519.PrivateKey:
					_ = ed25519.Sign(priv, msg)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGoJoseSign(b *testing.B) {
	claims := benchClaims()
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			k := benchKey(b, alg)
			signer, err := jose.NewSigner(
				jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k.Signer, KeyID: k.ID}},
				(&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				payload, err := json.Marshal(&claims)
				if err != nil {
					b.Fatal(err)
				}
				obj, err := signer.Sign(payload)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := obj.CompactSerialize(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	claims := benchClaims()
	for _, alg := range benchAlgs {
		b.Run(string(alg), func(b *testing.B) {
			ring, err := NewKeyring([]*Key{benchKey(b, alg)}, testNow)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := ring.Sign(alg, &claims, SignOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBuildAccess(b *testing.B) {
	in := Access{
		Version: 2, TenantID: tenant, Audience: apiAppID, ClientAppID: clientApp, ClientAuth: ClientAuthSecret,
		UserObjectID: userOID, Subject: "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", Name: "Adele Vance",
		Username: "AdeleV@contoso.onmicrosoft.com", Scopes: []string{"Orders.Read", "Orders.Write", "User.Read"},
		Roles: []string{"Orders.Admin", "Reports.Reader"}, TokenID: "x2l7jUy3KEywbPWW1JQBAA", IssuedAt: testNow,
	}
	for b.Loop() {
		c := BuildAccess(in)
		if c.Scope == "" {
			b.Fatal("no scp")
		}
	}
}

// BenchmarkClaimsJSON compares the claim codec with encoding/json's
// reflection on the same struct (plainAccess has no JSON methods).
func BenchmarkClaimsJSON(b *testing.B) {
	c := benchClaims()
	payload, err := c.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Marshal/fast", func(b *testing.B) {
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf, _ = c.appendJSON(buf[:0])
		}
	})
	b.Run("Marshal/encoding-json", func(b *testing.B) {
		p := plainAccess(c)
		for b.Loop() {
			_, _ = json.Marshal(&p)
		}
	})
	b.Run("Unmarshal/fast", func(b *testing.B) {
		for b.Loop() {
			var out AccessClaims
			if err := out.UnmarshalJSON(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Unmarshal/encoding-json", func(b *testing.B) {
		for b.Loop() {
			var out plainAccess
			if err := json.Unmarshal(payload, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJWKS(b *testing.B) {
	ring, err := NewKeyring([]*Key{benchKey(b, jose.RS256)}, testNow)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ring.JWKS(jwksIssuer); err != nil {
			b.Fatal(err)
		}
	}
}

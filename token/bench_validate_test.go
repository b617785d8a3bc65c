//go:build unix

package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// Validation benchmarks. The floor is the raw signature verification of the
// token (hash of the signing input + the crypto primitive on an already
// decoded signature) plus decoding the claims; compare BenchmarkValidate with
// BenchmarkRawVerifyPlusJSON of the same run:
//
//	go test ./token -run '^$' -bench 'RawVerify|GoJoseVerify|Validate$' -benchtime 2s -count 3
//
// The goal is Validate ≤ 1.2 × RawVerifyPlusJSON. Besides ns/op every
// benchmark reports cpu-ns/op, the process CPU time per operation, which
// stays meaningful when other processes compete for the machine's cores.

// vbenchCase is one algorithm's fixture: an Entra-shaped v2 token (~1.1 KB)
// and its pre-decoded parts.
type vbenchCase struct {
	alg     jose.SignatureAlgorithm
	raw     string
	input   []byte // signing input
	sig     []byte // raw signature (RSA) or ASN.1 DER (ECDSA)
	payload []byte
	pub     crypto.PublicKey
	v       *Validator
}

var vbenchAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

func vbenchCases(b *testing.B) []*vbenchCase {
	b.Helper()
	var out []*vbenchCase
	for _, alg := range vbenchAlgs {
		s := vtNewSigner(b, alg)
		claims := vtWith(vtV2Claims(), map[string]any{
			"aio":  "AWQAm/8aAAAAbOuI3cRc4bNnDyB+v9ejH/KpUPEgVlTgwx3URJNmRIRDuqA4rFp1bbxKX/Z+yaWQ8dXtAqxVVg4ZMx2sKP9MWlCg" + strings.Repeat("A", 40),
			"wids": []string{"b79fbf4d-3ef9-4689-8143-76b194e85509"},
			"uti":  "fqiBqXLPj0eQa82S-IYFAA", "xms_tcdt": 1289241547,
		})
		raw := s.token(b, claims)
		parts := strings.Split(raw, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		if alg == jose.ES256 {
			sig = vbenchDER(sig)
		}
		cfg := vtConfig(StaticKeySet(s.public()))
		cfg.Algorithms = []jose.SignatureAlgorithm{alg}
		c := &vbenchCase{
			alg: alg, raw: raw, input: []byte(parts[0] + "." + parts[1]), sig: sig, payload: payload,
			pub: s.priv.Public(), v: vtValidator(b, cfg),
		}
		if !c.rawVerify() {
			b.Fatal("raw verification of the fixture failed")
		}
		if _, err := c.v.Validate(context.Background(), raw); err != nil {
			b.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// vbenchDER converts an r||s signature to ASN.1 DER, the input of the
// cheapest ECDSA verification call.
func vbenchDER(rs []byte) []byte {
	n := len(rs) / 2
	var bld cryptobyte.Builder
	bld.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(rs[:n]))
		b.AddASN1BigInt(new(big.Int).SetBytes(rs[n:]))
	})
	return bld.BytesOrPanic()
}

// vCPUTime returns the CPU time (user + system) consumed by the process.
func vCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vloop runs f in a b.Loop and reports cpu-ns/op.
func vloop(b *testing.B, f func()) {
	b.Helper()
	start := vCPUTime()
	for b.Loop() {
		f()
	}
	b.ReportMetric(float64(vCPUTime()-start)/float64(b.N), "cpu-ns/op")
}

func (c *vbenchCase) rawVerify() bool {
	digest := sha256.Sum256(c.input)
	switch pub := c.pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], c.sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(pub, digest[:], c.sig)
	}
	return false
}

func BenchmarkRawVerify(b *testing.B) {
	for _, c := range vbenchCases(b) {
		b.Run(string(c.alg), func(b *testing.B) {
			vloop(b, func() {
				if !c.rawVerify() {
					b.Fatal("verify failed")
				}
			})
		})
	}
}

// BenchmarkRawVerifyPlusJSON is the floor: raw verification plus
// json.Unmarshal of the claims into AccessClaims. The Decode variant calls
// the claim set's own decoder directly, without encoding/json's validation
// pass — the stricter floor, and what Validate does.
func BenchmarkRawVerifyPlusJSON(b *testing.B) {
	for _, c := range vbenchCases(b) {
		b.Run(string(c.alg), func(b *testing.B) {
			vloop(b, func() {
				if !c.rawVerify() {
					b.Fatal("verify failed")
				}
				var claims AccessClaims
				if err := json.Unmarshal(c.payload, &claims); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(string(c.alg)+"/Decode", func(b *testing.B) {
			vloop(b, func() {
				if !c.rawVerify() {
					b.Fatal("verify failed")
				}
				var claims AccessClaims
				if err := claims.UnmarshalJSON(c.payload); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkGoJoseVerify is the reference implementation: go-jose's
// ParseSignedCompact + Verify, then json.Unmarshal of the claims (no claim
// checks).
func BenchmarkGoJoseVerify(b *testing.B) {
	for _, c := range vbenchCases(b) {
		b.Run(string(c.alg), func(b *testing.B) {
			algs := []jose.SignatureAlgorithm{c.alg}
			vloop(b, func() {
				jws, err := jose.ParseSignedCompact(c.raw, algs)
				if err != nil {
					b.Fatal(err)
				}
				payload, err := jws.Verify(c.pub)
				if err != nil {
					b.Fatal(err)
				}
				var claims AccessClaims
				if err := json.Unmarshal(payload, &claims); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkValidate is the full validation: strict parse, key lookup,
// signature, claims decode, issuer/audience/version/lifetime checks and the
// Principal.
func BenchmarkValidate(b *testing.B) {
	ctx := context.Background()
	for _, c := range vbenchCases(b) {
		b.Run(string(c.alg), func(b *testing.B) {
			vloop(b, func() {
				if _, err := c.v.Validate(ctx, c.raw); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

package token

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fuzzEdKey is a fixed Ed25519 key: fuzzing Ed25519 is fast and deterministic.
var fuzzEdKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func fuzzValidator(tb testing.TB) (*Validator, PublicKey) {
	pk := PublicKey{ID: "k", Key: fuzzEdKey.Public()}
	cfg := vtConfig(StaticKeySet(pk))
	cfg.Algorithms = vtAllAlgs
	cfg.Issuers = append(cfg.Issuers, vtTemplateV2)
	return vtValidator(tb, cfg), pk
}

// fuzzSign signs header and payload verbatim with fuzzEdKey.
func fuzzSign(header, payload []byte) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	return input + "." + enc.EncodeToString(ed25519.Sign(fuzzEdKey, []byte(input)))
}

var fuzzClaims = []byte(`{"aud":"` + vtAPIAppID + `","iss":"` + vtIssuerV2 + `","tid":"` + vtTenant +
	`","ver":"2.0","azp":"c","exp":` + strconv.FormatInt(vtNow.Add(time.Hour).Unix(), 10) + `,"scp":"Orders.Read","oid":"o","sub":"s"}`)

// FuzzValidate feeds arbitrary strings to the validator. It must never panic,
// and whatever it accepts — at the JWS layer or fully — go-jose must accept
// with the same key and payload.
func FuzzValidate(f *testing.F) {
	v, pk := fuzzValidator(f)
	valid := fuzzSign([]byte(`{"typ":"JWT","alg":"EdDSA","kid":"k"}`), fuzzClaims)
	if _, err := v.Validate(context.Background(), valid); err != nil {
		f.Fatalf("seed token invalid: %v", err)
	}
	f.Add(valid)
	f.Add(fuzzSign([]byte(`{"typ":"JWT","alg":"EdDSA","x5t":"k","kid":"k"}`), fuzzClaims))
	f.Add(fuzzSign([]byte(`{"alg":"EdDSA","kid":"k","x":[{"y":1e3}]}`), fuzzClaims))
	f.Add(valid + "=")
	f.Add(valid[:len(valid)-1])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("..")
	f.Add("a.b.c.d")
	f.Fuzz(func(t *testing.T, raw string) {
		ctx := context.Background()
		payload, jwsErr := verifyCompact(ctx, raw, v.keys, v.algs)
		_, err := v.Validate(ctx, raw)
		if jwsErr != nil && err == nil {
			t.Fatal("Validate accepted a token its JWS layer rejects")
		}
		if jwsErr != nil {
			return
		}
		jp, jerr := vtJoseVerify(raw, pk.Key)
		if jerr != nil {
			t.Fatalf("accepted a token go-jose rejects: %v", jerr)
		}
		if !bytes.Equal(jp, payload) {
			t.Fatalf("payload differs from go-jose's: %q vs %q", payload, jp)
		}
	})
}

// FuzzJWSHeaderDifferential signs arbitrary header and payload bytes with a
// real key, so that the fuzzer explores header parsing past the signature
// check. Whatever the strict parser accepts, go-jose must accept with the
// same payload; the client-assertion mode (x5c allowed) must not parse what
// go-jose cannot.
func FuzzJWSHeaderDifferential(f *testing.F) {
	v, pk := fuzzValidator(f)
	for _, h := range []string{
		`{"typ":"JWT","alg":"EdDSA","kid":"k"}`,
		`{"alg":"EdDSA","kid":"k","typ":"at+jwt"}`,
		` { "alg" : "EdDSA" , "kid" : "k" } `,
		`{"alg":"EdDSA","kid":"k","nonce":"n"}`,
		`{"alg":"EdDSA","kid":"k","alg":"EdDSA"}`,
		`{"alg":"EdDSA","kid":"k","crit":["b64"],"b64":false}`,
		`{"alg":"EdDSA","kid":"k","x5c":["MIIB"]}`,
		`{"alg":"EdDSA","kid":"k","jwk":{"kty":"OKP","crv":"Ed25519","x":"AAAA"}}`,
		`{"alg":"EdDSA","kid":"k","x":1e400}`,
		`{"alg":"EdDSA","kid":"k","x":{"a":1,"a":2}}`,
		`{"alg":"EdDSA","kid":"\u006b"}`,
		`{"alg":"Ed\u0044SA","kid":"k"}`,
		`{"alg":"EdDSA","kid":null}`,
		`{"alg":"EdDSA","kid":"k","x5t#S256":"abc"}`,
	} {
		f.Add([]byte(h), fuzzClaims)
	}
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		raw := fuzzSign(header, payload)
		got, err := verifyCompact(context.Background(), raw, v.keys, v.algs)
		if err == nil {
			jp, jerr := vtJoseVerify(raw, pk.Key)
			if jerr != nil {
				t.Fatalf("header %q: accepted, go-jose rejects: %v", header, jerr)
			}
			if !bytes.Equal(jp, got) {
				t.Fatalf("payload differs from go-jose's")
			}
		}
		if p, err := parseCompact(raw, true); err == nil && p.alg >= 0 {
			if _, jerr := jose.ParseSignedCompact(raw, vtAllAlgs); jerr != nil {
				t.Fatalf("header %q: assertion parser accepts, go-jose rejects: %v", header, jerr)
			}
		}
		v.Validate(context.Background(), raw) // must not panic
	})
}

// FuzzParseClientAssertion: never panic, never parse what go-jose cannot, and
// never verify what go-jose does not verify.
func FuzzParseClientAssertion(f *testing.F) {
	s := vtNewSigner(f, jose.PS256)
	cert := vtCertFor(f, s)
	valid := s.sign(f, msalHeader(cert), vtJSON(f, vtAssertionClaims()))
	if _, err := VerifyClientAssertion(valid, cert, vtRules()); err != nil {
		f.Fatalf("seed assertion invalid: %v", err)
	}
	f.Add(valid)
	f.Add(valid + ".")
	f.Add(valid[:len(valid)-2])
	f.Add(`eyJhbGciOiJQUzI1NiIsIng1YyI6WyJBQUFBIl19.e30.AAAA`)
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseClientAssertion(raw)
		if err != nil {
			return
		}
		if _, jerr := jose.ParseSignedCompact(raw, vtAllAlgs); jerr != nil {
			t.Fatalf("parsed an assertion go-jose rejects: %v", jerr)
		}
		MatchCertificate(u.Header, nil)
		if _, err := u.Verify(cert, vtRules()); err == nil {
			if _, jerr := vtJoseVerify(raw, cert.PublicKey); jerr != nil {
				t.Fatalf("verified an assertion go-jose rejects: %v", jerr)
			}
		}
	})
}

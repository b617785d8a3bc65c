package token

import (
	"bytes"
	"crypto"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1.
	"encoding/base64"
	"encoding/json"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

const jwksIssuer = "https://login.microsoftonline.com/{tenantid}/v2.0"

func TestJWKSGoJose(t *testing.T) {
	rsActive := activeKey(t, jose.RS256)
	rsNext, err := GenerateKey(jose.RS256, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	esActive := activeKey(t, jose.ES256)
	edActive := activeKey(t, jose.EdDSA)
	retired := activeKey(t, jose.ES256)
	retired.State, retired.RetiredAt, retired.ExpiresAt = KeyRetired, testNow, testNow.Add(time.Minute)
	expired := activeKey(t, jose.ES256)
	expired.State, expired.RetiredAt, expired.ExpiresAt = KeyRetired, testNow.Add(-time.Hour), testNow

	ring := newRing(t, expired, retired, edActive, rsNext, esActive, rsActive)
	doc, err := ring.JWKS(jwksIssuer)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(doc) {
		t.Fatalf("invalid JSON: %s", doc)
	}

	// go-jose checks x5c against x5t and the public key.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("go-jose rejects the JWKS: %v\n%s", err, doc)
	}
	want := []*Key{rsActive, esActive, edActive, rsNext, retired}
	if len(set.Keys) != len(want) {
		t.Fatalf("%d keys published, want %d", len(set.Keys), len(want))
	}
	for i, k := range want {
		got := set.Keys[i]
		wantAlg := string(k.Algorithm)
		if k.Algorithm == jose.RS256 {
			wantAlg = "" // as Entra's
		}
		if got.KeyID != k.ID || got.Use != "sig" || got.Algorithm != wantAlg {
			t.Errorf("key %d: kid=%q use=%q alg=%q, want %q sig %q", i, got.KeyID, got.Use, got.Algorithm, k.ID, wantAlg)
		}
		if !got.IsPublic() || !got.Valid() {
			t.Errorf("key %d: not a valid public key", i)
		}
		if pk, ok := got.Key.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pk.Equal(k.Public().Key) {
			t.Errorf("key %d: published key %T differs", i, got.Key)
		}
		if len(got.Certificates) != 1 || !got.Certificates[0].Equal(k.Certificate) {
			t.Errorf("key %d: x5c does not carry the certificate", i)
		}
		sum := sha1.Sum(k.Certificate.Raw) //nolint:gosec
		if !bytes.Equal(got.CertificateThumbprintSHA1, sum[:]) {
			t.Errorf("key %d: x5t is not the SHA-1 thumbprint", i)
		}
	}

	// The Entra members, checked on the raw JSON.
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	wantMembers := map[string][]string{
		"RSA": {"kty", "use", "kid", "x5t", "n", "e", "x5c", "cloud_instance_name", "issuer"}, // Entra's, in its order
		"EC":  {"kty", "use", "kid", "x5t", "crv", "x", "y", "x5c", "alg", "cloud_instance_name", "issuer"},
		"OKP": {"kty", "use", "kid", "x5t", "crv", "x", "x5c", "alg", "cloud_instance_name", "issuer"},
	}
	for i, m := range raw.Keys {
		kty, _ := m["kty"].(string)
		members, ok := wantMembers[kty]
		if !ok {
			t.Fatalf("key %d: kty %q", i, kty)
		}
		if len(m) != len(members) {
			t.Errorf("key %d (%s): %d members, want %v", i, kty, len(m), members)
		}
		for _, name := range members {
			if _, ok := m[name]; !ok {
				t.Errorf("key %d (%s): no %q", i, kty, name)
			}
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := m[private]; ok {
				t.Fatalf("key %d publishes private parameter %q", i, private)
			}
		}
		if m["x5t"] != m["kid"] || m["issuer"] != jwksIssuer || m["cloud_instance_name"] != "microsoftonline.com" {
			t.Errorf("key %d: x5t=%v kid=%v issuer=%v cloud=%v", i, m["x5t"], m["kid"], m["issuer"], m["cloud_instance_name"])
		}
		x5c := m["x5c"].([]any)
		if _, err := base64.StdEncoding.DecodeString(x5c[0].(string)); err != nil || len(x5c) != 1 {
			t.Errorf("key %d: x5c is not one standard-base64 certificate: %v", i, err)
		}
		switch kty {
		case "RSA":
			if m["e"] != "AQAB" {
				t.Errorf("e = %v", m["e"])
			}
		case "EC":
			if m["crv"] != "P-256" || len(m["x"].(string)) != 43 || len(m["y"].(string)) != 43 {
				t.Errorf("EC key: %v", m)
			}
		case "OKP":
			if m["crv"] != "Ed25519" || len(m["x"].(string)) != 43 {
				t.Errorf("OKP key: %v", m)
			}
		}
	}

	// RSA keys are Entra's byte for byte in member order.
	if i := bytes.Index(doc, []byte(`{"kty":"RSA"`)); i < 0 {
		t.Fatal("no RSA key")
	} else if got := jsonMemberNames(t, doc[i:]); !slices.Equal(got, wantMembers["RSA"]) {
		t.Errorf("RSA key members %v, want %v", got, wantMembers["RSA"])
	}

	// Stable output: the same ring renders the same document.
	again, _ := ring.JWKS(jwksIssuer)
	if !bytes.Equal(doc, again) {
		t.Error("JWKS output is not deterministic")
	}
}

// jsonMemberNames returns the member names of the JSON object at the start
// of b, in order.
func jsonMemberNames(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v", err)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func TestJWKSIssuer(t *testing.T) {
	ring := newRing(t, activeKey(t, jose.EdDSA), activeKey(t, jose.RS256))
	doc, err := ring.JWKS("")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(doc, []byte(`"issuer"`)) || bytes.Contains(doc, []byte(`"cloud_instance_name"`)) {
		t.Errorf("v1 key set carries issuer or cloud_instance_name: %s", doc)
	}
	// A v1 RSA key has exactly Entra's v1 members.
	i := bytes.Index(doc, []byte(`{"kty":"RSA"`))
	if got, want := jsonMemberNames(t, doc[i:]), []string{"kty", "use", "kid", "x5t", "n", "e", "x5c"}; !slices.Equal(got, want) {
		t.Errorf("v1 RSA key members %v, want %v", got, want)
	}
	odd := "https://sts.example/\"quoted\"/\u2028</script>"
	doc, err = ring.JWKS(odd)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Keys []struct {
			Issuer string `json:"issuer"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatalf("JWKS with an unusual issuer is invalid JSON: %v", err)
	}
	if raw.Keys[0].Issuer != odd {
		t.Errorf("issuer = %q", raw.Keys[0].Issuer)
	}

	empty, err := NewKeyring(nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	doc, err = empty.JWKS(jwksIssuer)
	if err != nil || string(doc) != `{"keys":[]}` {
		t.Errorf("empty JWKS = %s, %v", doc, err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil || len(set.Keys) != 0 {
		t.Errorf("empty set: %v", err)
	}
}

// TestJWKSVerifiesTokens closes the loop: a validator that only has the
// published JWKS verifies what the ring signs.
func TestJWKSVerifiesTokens(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			ring := newRing(t, activeKey(t, alg))
			doc, err := ring.JWKS(jwksIssuer)
			if err != nil {
				t.Fatal(err)
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(doc, &set); err != nil {
				t.Fatal(err)
			}
			c := sampleAccess()
			tok, err := ring.Sign(alg, &c, SignOptions{X5T: true})
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
			if err != nil {
				t.Fatal(err)
			}
			keys := set.Key(jws.Signatures[0].Header.KeyID)
			if len(keys) != 1 {
				t.Fatalf("kid %q matches %d JWKS keys", jws.Signatures[0].Header.KeyID, len(keys))
			}
			payload, err := jws.Verify(keys[0])
			if err != nil {
				t.Fatal(err)
			}
			var got AccessClaims
			if err := json.Unmarshal(payload, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c, got); d != "" {
				t.Error(d)
			}
		})
	}
}

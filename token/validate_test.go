package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
)

// Entra-shaped fixtures.
const (
	vtTenant      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	vtOtherTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"
	vtAPIAppID    = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	vtAPIURI      = "api://contoso-orders"
	vtClientID    = "a913e9a4-2e3f-4c2d-9d7e-5f4b6a1c2d3e"
	vtUserOID     = "00000000-0000-0000-66f3-3332eca7ea81"
	vtIssuerV2    = "https://login.microsoftonline.com/" + vtTenant + "/v2.0"
	vtIssuerV1    = "https://sts.windows.net/" + vtTenant + "/"
	vtTemplateV2  = "https://login.microsoftonline.com/{tenantid}/v2.0"
	vtTemplateV1  = "https://sts.windows.net/{tenantid}/"
	vtSubject     = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
	vtClientSPID  = "3f2c1d4e-5b6a-4789-8abc-def012345678"
)

var vtNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// vtAllAlgs lists every algorithm the parser supports, for go-jose.
var vtAllAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// vtSigner is a private key with a kid, signing tokens by hand so that tests
// control every header byte.
type vtSigner struct {
	kid  string
	alg  jose.SignatureAlgorithm // algorithm used for the signature itself
	priv crypto.Signer
}

// vtNewSigner generates a fresh key for alg with a random kid.
func vtNewSigner(t testing.TB, alg jose.SignatureAlgorithm) *vtSigner {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.ES512:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("vtNewSigner: unsupported %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &vtSigner{kid: uuid.NewString(), alg: alg, priv: priv}
}

// public returns the verification key with its declared algorithm.
func (s *vtSigner) public() PublicKey {
	return PublicKey{ID: s.kid, Algorithm: s.alg, Key: s.priv.Public()}
}

// header returns the usual Entra header for s.
func (s *vtSigner) header() string {
	return fmt.Sprintf(`{"typ":"JWT","alg":%q,"kid":%q}`, s.alg, s.kid)
}

// sign builds a compact JWS of header and payload, both taken verbatim,
// signed with s's algorithm whatever the header says.
func (s *vtSigner) sign(t testing.TB, header string, payload []byte) string {
	t.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload)
	return input + "." + enc.EncodeToString(s.signature(t, []byte(input)))
}

func (s *vtSigner) signature(t testing.TB, input []byte) []byte {
	t.Helper()
	spec := &algSpecs[lookupAlg(string(s.alg))]
	var digest []byte
	if spec.hash != 0 {
		h := spec.hash.New()
		h.Write(input)
		digest = h.Sum(nil)
	}
	var sig []byte
	var err error
	switch spec.kind {
	case kindRSAPKCS1:
		sig, err = rsa.SignPKCS1v15(nil, s.priv.(*rsa.PrivateKey), spec.hash, digest)
	case kindRSAPSS:
		sig, err = rsa.SignPSS(rand.Reader, s.priv.(*rsa.PrivateKey), spec.hash, digest,
			&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case kindECDSA:
		r, ss, e := ecdsa.Sign(rand.Reader, s.priv.(*ecdsa.PrivateKey), digest)
		err = e
		sig = make([]byte, 2*spec.size)
		r.FillBytes(sig[:spec.size])
		ss.FillBytes(sig[spec.size:])
	case kindEd25519:
		sig = ed25519.Sign(s.priv.(ed25519.PrivateKey), input)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// token signs claims with the standard header.
func (s *vtSigner) token(t testing.TB, claims map[string]any) string {
	t.Helper()
	return s.sign(t, s.header(), vtJSON(t, claims))
}

func vtJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vtV2Claims is a delegated v2 access token for the test API, as Entra issues it.
func vtV2Claims() map[string]any {
	return map[string]any{
		"aud": vtAPIAppID, "iss": vtIssuerV2,
		"iat": vtNow.Add(-time.Minute).Unix(), "nbf": vtNow.Add(-time.Minute).Unix(),
		"exp": vtNow.Add(time.Hour).Unix(),
		"aio": "AWQAm/8YAAAA", "azp": vtClientID, "azpacr": "0",
		"name": "Megan Bowen", "oid": vtUserOID, "preferred_username": "meganb@contoso.com",
		"rh": "0.AXoAv4j5cvGGr0GRqy180BHbR", "scp": "Orders.Read Orders.Write", "sub": vtSubject,
		"tid": vtTenant, "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0",
		"roles": []string{"Orders.Admin"}, "groups": []string{"e0a2d1c3-0000-0000-0000-000000000001"},
	}
}

// vtV1Claims is a delegated v1 access token for the test API's App ID URI.
func vtV1Claims() map[string]any {
	return map[string]any{
		"aud": vtAPIURI + "/", "iss": vtIssuerV1,
		"iat": vtNow.Add(-time.Minute).Unix(), "nbf": vtNow.Add(-time.Minute).Unix(),
		"exp": vtNow.Add(time.Hour).Unix(),
		"acr": "1", "amr": []string{"pwd", "mfa"}, "appid": vtClientID, "appidacr": "1",
		"ipaddr": "203.0.113.7", "name": "Megan Bowen", "oid": vtUserOID,
		"scp": "Orders.Read", "sub": vtSubject, "tid": vtTenant,
		"unique_name": "meganb@contoso.com", "upn": "meganb@contoso.com",
		"uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "1.0",
	}
}

// vtAppOnlyClaims is a v2 client-credentials token (no idtyp optional claim).
func vtAppOnlyClaims() map[string]any {
	return map[string]any{
		"aud": vtAPIAppID, "iss": vtIssuerV2,
		"iat": vtNow.Add(-time.Minute).Unix(), "nbf": vtNow.Add(-time.Minute).Unix(),
		"exp": vtNow.Add(time.Hour).Unix(),
		"azp": vtClientID, "azpacr": "1", "oid": vtClientSPID, "sub": vtClientSPID,
		"roles": []string{"Orders.Read.All"}, "tid": vtTenant, "ver": "2.0",
	}
}

// vtWith returns a copy of claims with changes applied (nil value deletes).
func vtWith(claims map[string]any, changes map[string]any) map[string]any {
	out := make(map[string]any, len(claims))
	for k, v := range claims {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// vtConfig is the configuration of a single-tenant API accepting v1 and v2.
func vtConfig(keys KeySource) ValidatorConfig {
	return ValidatorConfig{
		Keys:      keys,
		Issuers:   []string{vtIssuerV2, vtIssuerV1},
		Audiences: []string{vtAPIAppID, vtAPIURI},
		Now:       func() time.Time { return vtNow },
	}
}

func vtValidator(t testing.TB, cfg ValidatorConfig) *Validator {
	t.Helper()
	v, err := NewValidator(cfg)
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

// vtJoseVerify is the reference: go-jose's compact parser and verifier.
func vtJoseVerify(raw string, key crypto.PublicKey) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, vtAllAlgs)
	if err != nil {
		return nil, err
	}
	return jws.Verify(key)
}

func TestValidateAcceptsEntraShapedTokens(t *testing.T) {
	rs := vtNewSigner(t, jose.RS256)
	keys := StaticKeySet(rs.public())

	tests := []struct {
		name   string
		cfg    func(*ValidatorConfig)
		header string
		claims map[string]any
		want   Principal
	}{
		{
			name:   "v2 delegated, aud appId",
			claims: vtV2Claims(),
			want: Principal{
				TenantID: vtTenant, ObjectID: vtUserOID, Subject: vtSubject, AppID: vtClientID,
				Name: "Megan Bowen", Username: "meganb@contoso.com", Scopes: []string{"Orders.Read", "Orders.Write"},
				Roles: []string{"Orders.Admin"}, Groups: []string{"e0a2d1c3-0000-0000-0000-000000000001"}, Version: Version2,
			},
		},
		{
			name:   "v1 delegated, aud App ID URI with trailing slash, x5t header",
			header: fmt.Sprintf(`{"typ":"JWT","alg":"RS256","x5t":%q,"kid":%q}`, rs.kid, rs.kid),
			claims: vtV1Claims(),
			want: Principal{
				TenantID: vtTenant, ObjectID: vtUserOID, Subject: vtSubject, AppID: vtClientID,
				Name: "Megan Bowen", Username: "meganb@contoso.com", Scopes: []string{"Orders.Read"}, Version: Version1,
			},
		},
		{
			name:   "v2 app-only without idtyp",
			claims: vtAppOnlyClaims(),
			want: Principal{
				TenantID: vtTenant, ObjectID: vtClientSPID, Subject: vtClientSPID, AppID: vtClientID,
				IsApp: true, Roles: []string{"Orders.Read.All"}, Version: Version2,
			},
		},
		{
			name:   "aud as array",
			claims: vtWith(vtV2Claims(), map[string]any{"aud": []string{vtAPIAppID}}),
			want: Principal{
				TenantID: vtTenant, ObjectID: vtUserOID, Subject: vtSubject, AppID: vtClientID,
				Name: "Megan Bowen", Username: "meganb@contoso.com", Scopes: []string{"Orders.Read", "Orders.Write"},
				Roles: []string{"Orders.Admin"}, Groups: []string{"e0a2d1c3-0000-0000-0000-000000000001"}, Version: Version2,
			},
		},
		{
			name: "multi-tenant template, guest tenant allowed",
			cfg: func(c *ValidatorConfig) {
				c.Issuers = []string{vtTemplateV2}
				c.AllowedTenants = []string{strings.ToUpper(vtOtherTenant)}
			},
			claims: vtWith(vtAppOnlyClaims(), map[string]any{
				"tid": vtOtherTenant, "iss": "https://login.microsoftonline.com/" + vtOtherTenant + "/v2.0", "idtyp": "app",
			}),
			want: Principal{
				TenantID: vtOtherTenant, ObjectID: vtClientSPID, Subject: vtClientSPID, AppID: vtClientID,
				IsApp: true, Roles: []string{"Orders.Read.All"}, Version: Version2,
			},
		},
		{
			name:   "nbf within the clock skew",
			claims: vtWith(vtAppOnlyClaims(), map[string]any{"nbf": vtNow.Add(4 * time.Minute).Unix()}),
			want: Principal{
				TenantID: vtTenant, ObjectID: vtClientSPID, Subject: vtClientSPID, AppID: vtClientID,
				IsApp: true, Roles: []string{"Orders.Read.All"}, Version: Version2,
			},
		},
		{
			name:   "unknown header members are ignored",
			header: fmt.Sprintf(`{"typ":"at+jwt","alg":"RS256","kid":%q,"x-ms-extra":{"a":[1,2.5,null]}}`, rs.kid),
			claims: vtAppOnlyClaims(),
			want: Principal{
				TenantID: vtTenant, ObjectID: vtClientSPID, Subject: vtClientSPID, AppID: vtClientID,
				IsApp: true, Roles: []string{"Orders.Read.All"}, Version: Version2,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := vtConfig(keys)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			v := vtValidator(t, cfg)
			header := tc.header
			if header == "" {
				header = rs.header()
			}
			raw := rs.sign(t, header, vtJSON(t, tc.claims))
			p, err := v.Validate(context.Background(), raw)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if diff := cmp.Diff(&tc.want, p, cmpopts.IgnoreFields(Principal{}, "Claims"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
			if p.Claims == nil || p.Claims.Issuer != tc.claims["iss"] {
				t.Errorf("Claims not populated: %+v", p.Claims)
			}
			if _, err := vtJoseVerify(raw, rs.priv.Public()); err != nil {
				t.Errorf("go-jose rejects a token Validate accepts: %v", err)
			}
		})
	}
}

func TestValidateAlgorithms(t *testing.T) {
	for _, alg := range vtAllAlgs {
		t.Run(string(alg), func(t *testing.T) {
			s := vtNewSigner(t, alg)
			cfg := vtConfig(StaticKeySet(s.public()))
			cfg.Algorithms = []jose.SignatureAlgorithm{alg}
			v := vtValidator(t, cfg)

			// Hand-signed and go-jose-signed tokens both validate.
			if _, err := v.Validate(context.Background(), s.token(t, vtV2Claims())); err != nil {
				t.Errorf("hand-signed: %v", err)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: s.priv},
				(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.kid))
			if err != nil {
				t.Fatal(err)
			}
			obj, err := signer.Sign(vtJSON(t, vtV2Claims()))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Validate(context.Background(), raw); err != nil {
				t.Errorf("go-jose-signed: %v", err)
			}
		})
	}
}

func TestValidateLibraryMintedTokens(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		for _, version := range []Version{1, 2} {
			t.Run(fmt.Sprintf("%s/v%d", alg, version), func(t *testing.T) {
				k, err := GenerateKey(alg, vtNow.Add(-time.Hour), nil)
				if err != nil {
					t.Fatal(err)
				}
				k.State, k.ActivatedAt = KeyActive, vtNow.Add(-time.Hour)
				ring, err := NewKeyring([]*Key{k}, vtNow)
				if err != nil {
					t.Fatal(err)
				}
				aud := vtAPIAppID
				if version == 1 {
					aud = vtAPIURI
				}
				claims := BuildAccess(Access{
					Version: version, TenantID: vtTenant, Audience: aud, ClientAppID: vtClientID,
					UserObjectID: vtUserOID, Subject: vtSubject, Username: "meganb@contoso.com",
					Scopes: []string{"Orders.Read"}, IssuedAt: vtNow.Add(-time.Minute), TokenID: "uti",
				})
				raw, err := ring.Sign(alg, claims, SignOptions{X5T: version == 1})
				if err != nil {
					t.Fatal(err)
				}
				cfg := vtConfig(ring)
				cfg.Issuers = []string{vtTemplateV1, vtTemplateV2}
				cfg.Algorithms = []jose.SignatureAlgorithm{alg}
				got, err := vtValidator(t, cfg).ValidateClaims(context.Background(), raw)
				if err != nil {
					t.Fatalf("ValidateClaims: %v", err)
				}
				if diff := cmp.Diff(&claims, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("claims round trip (-minted +validated):\n%s", diff)
				}
			})
		}
	}
}

// TestValidateRejects runs every rejection with a fresh key per case and
// checks the sentinel; every token is also checked against go-jose, which
// must not be stricter than the validator's JWS layer.
func TestValidateRejects(t *testing.T) {
	type env struct {
		s    *vtSigner // signs the token
		keys KeySource
	}
	std := func(t *testing.T, alg jose.SignatureAlgorithm) env {
		s := vtNewSigner(t, alg)
		return env{s: s, keys: StaticKeySet(s.public())}
	}
	rsaEnv := func(t *testing.T) env { return std(t, jose.RS256) }
	b64 := base64.RawURLEncoding.EncodeToString

	tests := []struct {
		name  string
		env   func(t *testing.T) env
		cfg   func(*ValidatorConfig)
		token func(t *testing.T, e env) string
		want  error
	}{
		{
			name: "wrong key under the right kid",
			env: func(t *testing.T) env {
				s, other := vtNewSigner(t, jose.RS256), vtNewSigner(t, jose.RS256)
				pk := other.public()
				pk.ID = s.kid
				return env{s: s, keys: StaticKeySet(pk)}
			},
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV2Claims()) },
			want:  ErrSignature,
		},
		{
			name: "expired",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"exp": vtNow.Add(-time.Second).Unix()}))
			},
			want: ErrExpired,
		},
		{
			name: "exp equal to now",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"exp": vtNow.Unix()}))
			},
			want: ErrExpired,
		},
		{
			name: "exp missing",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"exp": nil}))
			},
			want: ErrExpired,
		},
		{
			name: "nbf beyond the clock skew",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"nbf": vtNow.Add(6 * time.Minute).Unix()}))
			},
			want: ErrNotYetValid,
		},
		{
			name: "nbf in the future without skew",
			cfg:  func(c *ValidatorConfig) { c.ClockSkew = -1 },
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"nbf": vtNow.Add(time.Second).Unix()}))
			},
			want: ErrNotYetValid,
		},
		{
			name: "wrong issuer",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"iss": "https://login.microsoftonline.com/" + vtOtherTenant + "/v2.0"}))
			},
			want: ErrIssuer,
		},
		{
			name: "v1 issuer with v2 suffix",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"iss": vtIssuerV1 + "v2.0"}))
			},
			want: ErrIssuer,
		},
		{
			name: "template: tenant not allowed",
			cfg: func(c *ValidatorConfig) {
				c.Issuers, c.AllowedTenants = []string{vtTemplateV2}, []string{vtTenant}
			},
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"tid": vtOtherTenant, "iss": "https://login.microsoftonline.com/" + vtOtherTenant + "/v2.0"}))
			},
			want: ErrTenant,
		},
		{
			name: "template: tid not a GUID",
			cfg:  func(c *ValidatorConfig) { c.Issuers = []string{vtTemplateV2} },
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"tid": "contoso.com", "iss": "https://login.microsoftonline.com/contoso.com/v2.0"}))
			},
			want: ErrTenant,
		},
		{
			name: "template: tid differs from the issuer's tenant",
			cfg:  func(c *ValidatorConfig) { c.Issuers = []string{vtTemplateV2} },
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"tid": vtOtherTenant}))
			},
			want: ErrTenant,
		},
		{
			name: "template: tid missing",
			cfg:  func(c *ValidatorConfig) { c.Issuers = []string{vtTemplateV2} },
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"tid": nil}))
			},
			want: ErrTenant,
		},
		{
			name: "template: path traversal in tid",
			cfg:  func(c *ValidatorConfig) { c.Issuers = []string{vtTemplateV2} },
			token: func(t *testing.T, e env) string {
				tid := vtTenant + "/v2.0/x"
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"tid": tid, "iss": "https://login.microsoftonline.com/" + tid + "/v2.0"}))
			},
			want: ErrTenant,
		},
		{
			name:  "exact issuer: tenant not allowed",
			cfg:   func(c *ValidatorConfig) { c.AllowedTenants = []string{vtOtherTenant} },
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV2Claims()) },
			want:  ErrTenant,
		},
		{
			name: "wrong audience",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"aud": "00000003-0000-0000-c000-000000000000"}))
			},
			want: ErrAudience,
		},
		{
			name: "audience prefix is not the audience",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"aud": vtAPIURI + "/x"}))
			},
			want: ErrAudience,
		},
		{
			name: "audience missing",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"aud": nil}))
			},
			want: ErrAudience,
		},
		{
			name:  "version not accepted",
			cfg:   func(c *ValidatorConfig) { c.Versions = []Version{Version2} },
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV1Claims()) },
			want:  ErrVersion,
		},
		{
			name: "version missing",
			token: func(t *testing.T, e env) string {
				return e.s.token(t, vtWith(vtV2Claims(), map[string]any{"ver": nil}))
			},
			want: ErrVersion,
		},
		{
			name: "alg none, empty signature",
			token: func(t *testing.T, e env) string {
				return b64([]byte(`{"typ":"JWT","alg":"none","kid":"`+e.s.kid+`"}`)) + "." + b64(vtJSON(t, vtV2Claims())) + "."
			},
			want: ErrAlgorithm,
		},
		{
			name: "alg none, signature present",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"typ":"JWT","alg":"none","kid":"`+e.s.kid+`"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrAlgorithm,
		},
		{
			name: "alg HS256 keyed with the public key",
			token: func(t *testing.T, e env) string {
				input := b64([]byte(`{"typ":"JWT","alg":"HS256","kid":"`+e.s.kid+`"}`)) + "." + b64(vtJSON(t, vtV2Claims()))
				der, _ := json.Marshal(e.s.priv.Public())
				mac := hmac.New(sha256.New, der)
				mac.Write([]byte(input))
				return input + "." + b64(mac.Sum(nil))
			},
			want: ErrAlgorithm,
		},
		{
			name:  "alg not in the allowed list",
			env:   func(t *testing.T) env { return std(t, jose.ES256) },
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV2Claims()) },
			want:  ErrAlgorithm,
		},
		{
			name: "alg ES256 header on an RSA key",
			env: func(t *testing.T) env {
				s := vtNewSigner(t, jose.ES256)
				rsaKey := vtNewSigner(t, jose.RS256).public()
				rsaKey.ID, rsaKey.Algorithm = s.kid, ""
				return env{s: s, keys: StaticKeySet(rsaKey)}
			},
			cfg:   func(c *ValidatorConfig) { c.Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256} },
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV2Claims()) },
			want:  ErrAlgorithm,
		},
		{
			name: "alg PS256 header on a key declared RS256",
			env: func(t *testing.T) env {
				s := vtNewSigner(t, jose.PS256)
				pk := s.public()
				pk.Algorithm = jose.RS256
				return env{s: s, keys: StaticKeySet(pk)}
			},
			cfg:   func(c *ValidatorConfig) { c.Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.PS256} },
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV2Claims()) },
			want:  ErrAlgorithm,
		},
		{
			name: "alg RS256 header on an Ed25519 key",
			env: func(t *testing.T) env {
				s := vtNewSigner(t, jose.EdDSA)
				pk := s.public()
				pk.Algorithm = ""
				return env{s: s, keys: StaticKeySet(pk)}
			},
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"typ":"JWT","alg":"RS256","kid":"`+e.s.kid+`"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrAlgorithm,
		},
		{
			name: "alg ES384 header on a P-256 key",
			env: func(t *testing.T) env {
				s := vtNewSigner(t, jose.ES256)
				pk := s.public()
				pk.Algorithm = ""
				return env{s: s, keys: StaticKeySet(pk)}
			},
			cfg: func(c *ValidatorConfig) { c.Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.ES384} },
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"typ":"JWT","alg":"ES384","kid":"`+e.s.kid+`"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrAlgorithm,
		},
		{
			name:  "kid unknown",
			env:   func(t *testing.T) env { s := vtNewSigner(t, jose.RS256); return env{s: s, keys: StaticKeySet()} },
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV2Claims()) },
			want:  ErrUnknownKey,
		},
		{
			name: "kid missing",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"typ":"JWT","alg":"RS256"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrUnknownKey,
		},
		{
			name: "two segments",
			token: func(t *testing.T, e env) string {
				tok := e.s.token(t, vtV2Claims())
				return tok[:strings.LastIndexByte(tok, '.')]
			},
			want: ErrMalformed,
		},
		{
			name:  "four segments",
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV2Claims()) + ".AAAA" },
			want:  ErrMalformed,
		},
		{
			name:  "JWE-shaped five segments",
			token: func(t *testing.T, e env) string { return e.s.token(t, vtV2Claims()) + ".AAAA.AAAA" },
			want:  ErrMalformed,
		},
		{
			name: "padded base64",
			token: func(t *testing.T, e env) string {
				// A header whose base64 needs padding, then padded.
				parts := strings.Split(e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`"} `, vtJSON(t, vtV2Claims())), ".")
				parts[0] = base64.URLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"` + e.s.kid + `"} `))
				return strings.Join(parts, ".")
			},
			want: ErrMalformed,
		},
		{
			name: "padded signature",
			token: func(t *testing.T, e env) string {
				tok := e.s.token(t, vtV2Claims())
				return tok + "=="
			},
			want: ErrMalformed,
		},
		{
			name: "standard base64 alphabet",
			token: func(t *testing.T, e env) string {
				parts := strings.Split(e.s.token(t, vtV2Claims()), ".")
				parts[2] = "+" + parts[2][1:]
				return strings.Join(parts, ".")
			},
			want: ErrMalformed,
		},
		{
			name:  "line break inside",
			token: func(t *testing.T, e env) string { tok := e.s.token(t, vtV2Claims()); return tok[:20] + "\n" + tok[20:] },
			want:  ErrMalformed,
		},
		{
			name:  "leading space",
			token: func(t *testing.T, e env) string { return " " + e.s.token(t, vtV2Claims()) },
			want:  ErrMalformed,
		},
		{
			name: "crit header",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`","crit":["exp"],"exp":1}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "jku header",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`","jku":"https://evil.example/keys"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "x5u header",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`","x5u":"https://evil.example/cert"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "embedded jwk header",
			token: func(t *testing.T, e env) string {
				jwk, _ := json.Marshal(jose.JSONWebKey{Key: e.s.priv.Public()})
				return e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`","jwk":`+string(jwk)+`}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "b64 false header",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`","b64":false}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "x5c header on an access token",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`","x5c":[]}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "duplicate alg header",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"none","kid":"`+e.s.kid+`","alg":"RS256"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "alg in another case",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"ALG":"RS256","kid":"`+e.s.kid+`"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "escaped member name",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"al\u0067":"RS256","kid":"`+e.s.kid+`"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "kid not a string",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"RS256","kid":["`+e.s.kid+`"]}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "unexpected typ",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"typ":"dpop+jwt","alg":"RS256","kid":"`+e.s.kid+`"}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "header not an object",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `["alg","RS256"]`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "header with trailing garbage",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`"}x`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name: "header number out of float64 range",
			token: func(t *testing.T, e env) string {
				return e.s.sign(t, `{"alg":"RS256","kid":"`+e.s.kid+`","x":1e400}`, vtJSON(t, vtV2Claims()))
			},
			want: ErrMalformed,
		},
		{
			name:  "claims not an object",
			token: func(t *testing.T, e env) string { return e.s.sign(t, e.s.header(), []byte(`null`)) },
			want:  ErrMalformed,
		},
		{
			name: "duplicate claim",
			token: func(t *testing.T, e env) string {
				c := vtJSON(t, vtV2Claims())
				c = append(c[:len(c)-1], []byte(`,"aud":"`+vtAPIAppID+`"}`)...)
				return e.s.sign(t, e.s.header(), c)
			},
			want: ErrMalformed,
		},
		{
			name:  "empty token",
			token: func(t *testing.T, e env) string { return "" },
			want:  ErrMalformed,
		},
		{
			name:  "oversized token",
			token: func(t *testing.T, e env) string { return strings.Repeat("A", MaxTokenSize) + ".A.A" },
			want:  ErrMalformed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mk := tc.env
			if mk == nil {
				mk = rsaEnv
			}
			e := mk(t)
			cfg := vtConfig(e.keys)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			v := vtValidator(t, cfg)
			raw := tc.token(t, e)
			p, err := v.Validate(context.Background(), raw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, %v; want %v", p, err, tc.want)
			}
			if len(raw) > 20 && strings.Contains(err.Error(), raw[len(raw)-20:]) {
				t.Errorf("error %q contains token text", err)
			}
			// Differential: whatever the JWS layer accepts, go-jose accepts.
			if _, err := verifyCompact(context.Background(), raw, e.keys, everyAlg); err == nil {
				if _, jerr := vtJoseVerify(raw, e.s.priv.Public()); jerr != nil {
					t.Errorf("JWS layer accepts a token go-jose rejects (%v)", jerr)
				}
			}
		})
	}
}

// TestValidateEverySingleByteChange flips each byte of small valid tokens to
// every other candidate character and expects rejection.
func TestValidateEverySingleByteChange(t *testing.T) {
	claims := map[string]any{
		"aud": vtAPIAppID, "iss": vtIssuerV2, "tid": vtTenant, "ver": "2.0", "azp": "c",
		"exp": vtNow.Add(time.Hour).Unix(),
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n\x00\xff"
	for _, tc := range []struct {
		alg          jose.SignatureAlgorithm
		replacements string
	}{
		{jose.EdDSA, alphabet}, // every replacement at every position
		{jose.ES256, "A_.=\n"}, // a sample per position
		{jose.RS256, "0-.="},   // a sample per position
	} {
		t.Run(string(tc.alg), func(t *testing.T) {
			s := vtNewSigner(t, tc.alg)
			s.kid = "k"
			cfg := vtConfig(StaticKeySet(s.public()))
			cfg.Algorithms = []jose.SignatureAlgorithm{tc.alg}
			v := vtValidator(t, cfg)
			raw := s.sign(t, `{"alg":"`+string(tc.alg)+`","kid":"k"}`, vtJSON(t, claims))
			if _, err := v.Validate(context.Background(), raw); err != nil {
				t.Fatalf("valid token rejected: %v", err)
			}
			b := []byte(raw)
			checked := 0
			for i := range b {
				orig := b[i]
				for j := 0; j < len(tc.replacements); j++ {
					c := tc.replacements[j]
					if c == orig {
						continue
					}
					b[i] = c
					if _, err := v.Validate(context.Background(), string(b)); err == nil {
						t.Fatalf("token with byte %d changed %q→%q accepted", i, orig, c)
					}
					checked++
				}
				b[i] = orig
			}
			t.Logf("%d-byte token, %d variants rejected", len(b), checked)
		})
	}
}

func TestNewValidatorConfigErrors(t *testing.T) {
	keys := StaticKeySet()
	for _, tc := range []struct {
		name string
		cfg  ValidatorConfig
	}{
		{"no keys", ValidatorConfig{Issuers: []string{vtIssuerV2}, Audiences: []string{vtAPIAppID}}},
		{"no issuers", ValidatorConfig{Keys: keys, Audiences: []string{vtAPIAppID}}},
		{"no audiences", ValidatorConfig{Keys: keys, Issuers: []string{vtIssuerV2}}},
		{"empty issuer", ValidatorConfig{Keys: keys, Issuers: []string{""}, Audiences: []string{vtAPIAppID}}},
		{"two placeholders", ValidatorConfig{Keys: keys, Issuers: []string{"https://x/{tenantid}/{tenantid}"}, Audiences: []string{vtAPIAppID}}},
		{"bad version", ValidatorConfig{Keys: keys, Issuers: []string{vtIssuerV2}, Audiences: []string{vtAPIAppID}, Versions: []Version{3}}},
		{"alg none", ValidatorConfig{Keys: keys, Issuers: []string{vtIssuerV2}, Audiences: []string{vtAPIAppID}, Algorithms: []jose.SignatureAlgorithm{"none"}}},
		{"alg HS256", ValidatorConfig{Keys: keys, Issuers: []string{vtIssuerV2}, Audiences: []string{vtAPIAppID}, Algorithms: []jose.SignatureAlgorithm{jose.HS256}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewValidator(tc.cfg); err == nil {
				t.Error("NewValidator succeeded")
			}
		})
	}
}

func TestValidateSkipChecks(t *testing.T) {
	s := vtNewSigner(t, jose.EdDSA)
	cfg := ValidatorConfig{
		Keys: StaticKeySet(s.public()), Algorithms: []jose.SignatureAlgorithm{jose.EdDSA},
		SkipIssuerCheck: true, SkipAudienceCheck: true, Now: func() time.Time { return vtNow },
	}
	v := vtValidator(t, cfg)
	raw := s.token(t, vtWith(vtV2Claims(), map[string]any{"iss": "https://elsewhere", "aud": "someone-else"}))
	if _, err := v.Validate(context.Background(), raw); err != nil {
		t.Fatalf("skip checks: %v", err)
	}
	// Skipping never disables signature or lifetime checks.
	if _, err := v.Validate(context.Background(), s.token(t, vtWith(vtV2Claims(), map[string]any{"exp": vtNow.Unix() - 1}))); !errors.Is(err, ErrExpired) {
		t.Errorf("expired with skips = %v", err)
	}
}

// vtFailingKeys is a KeySource whose lookups fail.
type vtFailingKeys struct{ err error }

func (f vtFailingKeys) PublicKey(context.Context, string) (PublicKey, error) {
	return PublicKey{}, f.err
}

func TestValidateKeySourceFailure(t *testing.T) {
	s := vtNewSigner(t, jose.EdDSA)
	boom := errors.New("jwks endpoint down")
	cfg := vtConfig(vtFailingKeys{boom})
	cfg.Algorithms = []jose.SignatureAlgorithm{jose.EdDSA}
	_, err := vtValidator(t, cfg).Validate(context.Background(), s.token(t, vtV2Claims()))
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want wrapping %v", err, boom)
	}
	if _, known := describeError(err); known {
		t.Error("key-source failure described as a token error")
	}
}

func TestPrincipalHelpers(t *testing.T) {
	p := &Principal{Scopes: []string{"Orders.Read"}, Roles: []string{"Admin", "Reader"}}
	if !p.HasScope("Orders.Read") || p.HasScope("orders.read") || p.HasScope("Orders") {
		t.Error("HasScope")
	}
	if !p.HasRole("Admin") || p.HasRole("admin") || !p.HasAnyRole("x", "Reader") || p.HasAnyRole() {
		t.Error("HasRole/HasAnyRole")
	}
	if !p.HasAnyScope("x", "Orders.Read") || p.HasAnyScope("x") {
		t.Error("HasAnyScope")
	}
	var nilP *Principal
	if nilP.HasScope("x") || nilP.HasRole("x") {
		t.Error("nil principal has permissions")
	}
	ctx := NewContext(context.Background(), p)
	if got, ok := FromContext(ctx); !ok || got != p {
		t.Error("FromContext after NewContext")
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Error("FromContext on empty context")
	}
	if _, ok := FromContext(NewContext(context.Background(), nil)); ok {
		t.Error("FromContext with nil principal")
	}

	for _, tc := range []struct {
		name string
		c    AccessClaims
		app  bool
	}{
		{"idtyp app", AccessClaims{IDType: "app", Scope: "x", ObjectID: "a", Subject: "b"}, true},
		{"idtyp user", AccessClaims{IDType: "user", ObjectID: "a", Subject: "a"}, false},
		{"no idtyp, oid==sub, no scp", AccessClaims{ObjectID: "a", Subject: "a"}, true},
		{"no idtyp, scp", AccessClaims{ObjectID: "a", Subject: "a", Scope: "x"}, false},
		{"no idtyp, oid!=sub", AccessClaims{ObjectID: "a", Subject: "b"}, false},
		{"empty", AccessClaims{}, false},
	} {
		if got := PrincipalFromClaims(&tc.c).IsApp; got != tc.app {
			t.Errorf("%s: IsApp = %v", tc.name, got)
		}
	}
}

// TestPrincipalUsername: Username comes from preferred_username (v2), else
// upn, else unique_name, which is all a v1 token of a guest carries.
func TestPrincipalUsername(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    AccessClaims
		want string
	}{
		{"v2", AccessClaims{PreferredUsername: "alice@contoso.com", UPN: "u", UniqueName: "n"}, "alice@contoso.com"},
		{"v1 member", AccessClaims{UPN: "alice@contoso.com", UniqueName: "alice@contoso.com"}, "alice@contoso.com"},
		{"v1 upn first", AccessClaims{UPN: "alice@contoso.com", UniqueName: "other"}, "alice@contoso.com"},
		{"v1 unique_name only", AccessClaims{UniqueName: "live.com#bob@outlook.com"}, "live.com#bob@outlook.com"},
		{"app-only", AccessClaims{}, ""},
	} {
		if got := PrincipalFromClaims(&tc.c).Username; got != tc.want {
			t.Errorf("%s: Username = %q, want %q", tc.name, got, tc.want)
		}
	}
}

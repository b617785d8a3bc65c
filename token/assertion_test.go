package token

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // thumbprint fixtures
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

const (
	vtTokenEndpointV2 = "https://login.microsoftonline.com/" + vtTenant + "/oauth2/v2.0/token"
	vtTokenEndpointV1 = "https://login.microsoftonline.com/" + vtTenant + "/oauth2/token"
)

// vtCert self-signs a certificate for priv.
func vtCert(t testing.TB, priv crypto.Signer, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "contoso-daemon"},
		NotBefore: notBefore, NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func vtCertFor(t testing.TB, s *vtSigner) *x509.Certificate {
	return vtCert(t, s.priv, vtNow.Add(-24*time.Hour), vtNow.Add(365*24*time.Hour))
}

// vtAssertionClaims are the claims MSAL puts in a certificate assertion.
func vtAssertionClaims() map[string]any {
	return map[string]any{
		"aud": vtTokenEndpointV2, "iss": vtClientID, "sub": vtClientID, "jti": uuid.NewString(),
		"nbf": vtNow.Unix(), "iat": vtNow.Unix(), "exp": vtNow.Add(10 * time.Minute).Unix(),
	}
}

func vtRules() AssertionRules {
	return AssertionRules{
		ClientID: vtClientID, Audiences: []string{vtTokenEndpointV2, vtTokenEndpointV1},
		Now: vtNow, MaxLifetime: time.Hour,
	}
}

// msalHeader is MSAL Go's certificate-assertion header: PS256 and x5t#S256 in
// standard padded base64.
func msalHeader(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return fmt.Sprintf(`{"alg":"PS256","typ":"JWT","x5t#S256":%q}`, base64.StdEncoding.EncodeToString(sum[:]))
}

func TestClientAssertionMSALStyle(t *testing.T) {
	s := vtNewSigner(t, jose.PS256)
	cert := vtCertFor(t, s)
	claims := vtAssertionClaims()
	raw := s.sign(t, msalHeader(cert), vtJSON(t, claims))
	if !strings.Contains(msalHeader(cert), "=") {
		t.Fatal("fixture: SHA-256 in standard base64 should be padded")
	}

	u, err := ParseClientAssertion(raw)
	if err != nil {
		t.Fatalf("ParseClientAssertion: %v", err)
	}
	decoy := vtCertFor(t, vtNewSigner(t, jose.RS256))
	found, ok := MatchCertificate(u.Header, []*x509.Certificate{decoy, cert})
	if !ok || found != cert {
		t.Fatalf("MatchCertificate did not find the certificate by x5t#S256")
	}
	// The same assertion is accepted any number of times within its lifetime.
	for i := range 2 {
		got, err := u.Verify(found, vtRules())
		if err != nil {
			t.Fatalf("Verify #%d: %v", i+1, err)
		}
		want := &ClientAssertion{
			RegisteredClaims: RegisteredClaims{Issuer: vtClientID, Subject: vtClientID, Audience: []string{vtTokenEndpointV2}, JTI: claims["jti"].(string),
				NotBefore: vtNow, IssuedAt: vtNow, Expiry: vtNow.Add(10 * time.Minute)},
			Header: AssertionHeader{Alg: "PS256", X5tS256: u.Header.X5tS256},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("assertion (-want +got):\n%s", diff)
		}
		if _, err := VerifyClientAssertion(raw, cert, vtRules()); err != nil {
			t.Fatalf("VerifyClientAssertion #%d: %v", i+1, err)
		}
	}
	if _, err := vtJoseVerify(raw, cert.PublicKey); err != nil {
		t.Errorf("go-jose rejects the assertion: %v", err)
	}
	// Verify checks what was parsed, not the caller-editable copy.
	u.Issuer, u.Subject, u.Audience[0] = "forged", "forged", "forged"
	if got, err := u.Verify(cert, vtRules()); err != nil || got.Issuer != vtClientID || got.Audience[0] != vtTokenEndpointV2 {
		t.Errorf("Verify after editing the unverified copy = %+v, %v", got, err)
	}
}

func TestClientAssertionRS256WithKid(t *testing.T) {
	s := vtNewSigner(t, jose.RS256)
	cert := vtCertFor(t, s)
	sha1Sum := sha1.Sum(cert.Raw) //nolint:gosec // thumbprint
	kid := strings.ToUpper(hex.EncodeToString(sha1Sum[:]))
	raw := s.sign(t, fmt.Sprintf(`{"alg":"RS256","typ":"JWT","kid":%q}`, kid), vtJSON(t, vtWith(vtAssertionClaims(),
		map[string]any{"aud": []string{vtTokenEndpointV1}})))
	u, err := ParseClientAssertion(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := MatchCertificate(u.Header, []*x509.Certificate{cert})
	if !ok {
		t.Fatal("kid (hex SHA-1) not matched")
	}
	if _, err := u.Verify(c, vtRules()); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// A bare RSA public key works too.
	if _, err := u.Verify(s.priv.Public(), vtRules()); err != nil {
		t.Fatalf("Verify with *rsa.PublicKey: %v", err)
	}
}

func TestMatchCertificate(t *testing.T) {
	s := vtNewSigner(t, jose.EdDSA)
	cert := vtCertFor(t, s)
	other := vtCertFor(t, vtNewSigner(t, jose.EdDSA))
	certs := []*x509.Certificate{nil, other, cert}
	s1 := sha1.Sum(cert.Raw) //nolint:gosec // thumbprint
	s256 := sha256.Sum256(cert.Raw)
	o1 := sha1.Sum(other.Raw) //nolint:gosec // thumbprint

	for _, tc := range []struct {
		name string
		h    AssertionHeader
		want *x509.Certificate
	}{
		{"x5t#S256 std padded", AssertionHeader{X5tS256: base64.StdEncoding.EncodeToString(s256[:])}, cert},
		{"x5t#S256 std unpadded", AssertionHeader{X5tS256: base64.RawStdEncoding.EncodeToString(s256[:])}, cert},
		{"x5t#S256 url padded", AssertionHeader{X5tS256: base64.URLEncoding.EncodeToString(s256[:])}, cert},
		{"x5t#S256 url unpadded", AssertionHeader{X5tS256: base64.RawURLEncoding.EncodeToString(s256[:])}, cert},
		{"x5t url", AssertionHeader{X5t: base64.RawURLEncoding.EncodeToString(s1[:])}, cert},
		{"x5t std padded", AssertionHeader{X5t: base64.StdEncoding.EncodeToString(s1[:])}, cert},
		{"kid hex lower", AssertionHeader{Kid: hex.EncodeToString(s1[:])}, cert},
		{"kid hex upper", AssertionHeader{Kid: strings.ToUpper(hex.EncodeToString(s1[:]))}, cert},
		{"kid base64 customKeyIdentifier", AssertionHeader{Kid: base64.StdEncoding.EncodeToString(s1[:])}, cert},
		{"kid sha256 hex", AssertionHeader{Kid: hex.EncodeToString(s256[:])}, cert},
		{"x5t#S256 wins over kid", AssertionHeader{X5tS256: base64.StdEncoding.EncodeToString(s256[:]), Kid: hex.EncodeToString(o1[:])}, cert},
		{"no fallback from an unmatched x5t#S256", AssertionHeader{X5tS256: strings.Repeat("A", 43) + "=", Kid: hex.EncodeToString(s1[:])}, nil},
		{"x5t given a SHA-256", AssertionHeader{X5t: base64.RawURLEncoding.EncodeToString(s256[:])}, nil},
		{"x5t#S256 given a SHA-1", AssertionHeader{X5tS256: base64.RawURLEncoding.EncodeToString(s1[:])}, nil},
		{"too much padding", AssertionHeader{X5t: base64.StdEncoding.EncodeToString(s1[:]) + "=="}, nil},
		{"mixed alphabets", AssertionHeader{X5tS256: "+" + base64.RawURLEncoding.EncodeToString(s256[:])[1:42] + "_"}, nil},
		{"kid not a thumbprint", AssertionHeader{Kid: "my-key"}, nil},
		{"nothing", AssertionHeader{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := MatchCertificate(tc.h, certs)
			if got != tc.want || ok != (tc.want != nil) {
				t.Errorf("MatchCertificate = %v, %v", got != nil, ok)
			}
		})
	}
}

func TestClientAssertionRejects(t *testing.T) {
	tests := []struct {
		name   string
		alg    jose.SignatureAlgorithm // signer
		header func(s *vtSigner, cert *x509.Certificate) string
		claims map[string]any
		key    func(t *testing.T, s *vtSigner, cert *x509.Certificate) crypto.PublicKey
		rules  func(*AssertionRules)
		want   error
	}{
		{name: "EC key and ES256", alg: jose.ES256,
			header: func(s *vtSigner, _ *x509.Certificate) string { return `{"alg":"ES256","typ":"JWT"}` }, want: ErrAlgorithm},
		{name: "RS256 header, EC certificate", alg: jose.ES256,
			header: func(s *vtSigner, _ *x509.Certificate) string { return `{"alg":"RS256","typ":"JWT"}` }, want: ErrAlgorithm},
		{name: "EdDSA", alg: jose.EdDSA,
			header: func(s *vtSigner, _ *x509.Certificate) string { return `{"alg":"EdDSA","typ":"JWT"}` }, want: ErrAlgorithm},
		{name: "RS512", alg: jose.RS512,
			header: func(s *vtSigner, _ *x509.Certificate) string { return `{"alg":"RS512","typ":"JWT"}` }, want: ErrAlgorithm},
		{name: "expired", claims: map[string]any{"exp": vtNow.Add(-6 * time.Minute).Unix(), "nbf": vtNow.Add(-16 * time.Minute).Unix()}, want: ErrAssertionTime},
		{name: "not yet valid", claims: map[string]any{"nbf": vtNow.Add(6 * time.Minute).Unix(), "exp": vtNow.Add(16 * time.Minute).Unix()}, want: ErrAssertionTime},
		{name: "no exp", claims: map[string]any{"exp": nil}, want: ErrAssertionTime},
		{name: "lifetime over MaxLifetime", claims: map[string]any{"exp": vtNow.Add(2 * time.Hour).Unix()}, want: ErrAssertionTime},
		{name: "wrong audience", claims: map[string]any{"aud": "https://login.microsoftonline.com/" + vtOtherTenant + "/oauth2/v2.0/token"}, want: ErrAudience},
		{name: "audience of another endpoint kind", claims: map[string]any{"aud": "https://login.microsoftonline.com/" + vtTenant + "/v2.0"}, want: ErrAudience},
		{name: "iss differs from sub", claims: map[string]any{"iss": "https://sts.example"}, want: ErrIssuer},
		{name: "iss and sub another client", claims: map[string]any{"iss": vtAPIAppID, "sub": vtAPIAppID}, want: ErrIssuer},
		{name: "wrong key",
			key: func(t *testing.T, _ *vtSigner, _ *x509.Certificate) crypto.PublicKey {
				return vtNewSigner(t, jose.RS256).priv.Public()
			}, want: ErrSignature},
		{name: "expired certificate",
			key: func(t *testing.T, s *vtSigner, _ *x509.Certificate) crypto.PublicKey {
				return vtCert(t, s.priv, vtNow.Add(-48*time.Hour), vtNow.Add(-time.Hour))
			}, want: ErrKeyExpired},
		{name: "alg none", header: func(*vtSigner, *x509.Certificate) string { return `{"alg":"none","typ":"JWT"}` }, want: ErrAlgorithm},
		{name: "claims are an array", claims: nil, header: nil, want: ErrMalformed},
		{name: "bad x5c", header: func(*vtSigner, *x509.Certificate) string { return `{"alg":"PS256","x5c":["AAAA"]}` }, want: ErrMalformed},
		{name: "duplicate claim", want: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alg := tc.alg
			if alg == "" {
				alg = jose.PS256
			}
			s := vtNewSigner(t, alg)
			cert := vtCertFor(t, s)
			header := msalHeader(cert)
			if tc.header != nil {
				header = tc.header(s, cert)
			}
			payload := vtJSON(t, vtWith(vtAssertionClaims(), tc.claims))
			switch tc.name {
			case "claims are an array":
				payload = []byte(`["iss","sub"]`)
			case "duplicate claim":
				payload = append(payload[:len(payload)-1], []byte(`,"iss":"`+vtAPIAppID+`"}`)...)
			}
			raw := s.sign(t, header, payload)
			var key crypto.PublicKey = cert
			if tc.key != nil {
				key = tc.key(t, s, cert)
			}
			rules := vtRules()
			if tc.rules != nil {
				tc.rules(&rules)
			}
			_, err := VerifyClientAssertion(raw, key, rules)
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifyClientAssertion = %v, want %v", err, tc.want)
			}
			if u, perr := ParseClientAssertion(raw); perr == nil {
				if _, jerr := jose.ParseSignedCompact(raw, vtAllAlgs); jerr != nil {
					t.Errorf("ParseClientAssertion accepts what go-jose rejects: %v", jerr)
				}
				if _, verr := u.Verify(key, rules); verr == nil {
					t.Error("Verify succeeded")
				}
			}
		})
	}
}

func TestClientAssertionTimes(t *testing.T) {
	s := vtNewSigner(t, jose.PS256)
	cert := vtCertFor(t, s)
	for _, tc := range []struct {
		name   string
		claims map[string]any
		rules  func(*AssertionRules)
		ok     bool
	}{
		{"exp within skew", map[string]any{"exp": vtNow.Add(-4 * time.Minute).Unix(), "nbf": vtNow.Add(-14 * time.Minute).Unix()}, nil, true},
		{"exp past skew", map[string]any{"exp": vtNow.Add(-5 * time.Minute).Unix(), "nbf": vtNow.Add(-14 * time.Minute).Unix()}, nil, false},
		{"no skew", map[string]any{"exp": vtNow.Add(-time.Second).Unix()}, func(r *AssertionRules) { r.Skew = -1 }, false},
		{"nbf within skew", map[string]any{"nbf": vtNow.Add(4 * time.Minute).Unix()}, nil, true},
		{"fractional NumericDates", map[string]any{"nbf": float64(vtNow.Unix()) + 0.25, "exp": float64(vtNow.Add(time.Minute).Unix()) + 0.5}, nil, true},
		{"unbounded lifetime like Entra", map[string]any{"exp": vtNow.Add(48 * time.Hour).Unix()}, func(r *AssertionRules) { r.MaxLifetime = 0 }, true},
		{"lifetime from iat without nbf", map[string]any{"nbf": nil, "exp": vtNow.Add(2 * time.Hour).Unix()}, nil, false},
		{"no start with MaxLifetime", map[string]any{"nbf": nil, "iat": nil}, nil, false},
		// Without nbf, a future iat must not move the lifetime bound: the
		// assertion would stay usable for days.
		{"future iat without nbf", map[string]any{"nbf": nil, "iat": vtNow.Add(72 * time.Hour).Unix(), "exp": vtNow.Add(72*time.Hour + 30*time.Minute).Unix()}, nil, false},
		{"iat beyond skew", map[string]any{"iat": vtNow.Add(6 * time.Minute).Unix()}, nil, false},
		{"iat within skew", map[string]any{"iat": vtNow.Add(4 * time.Minute).Unix()}, nil, true},
		{"iat beyond skew without MaxLifetime", map[string]any{"iat": vtNow.Add(6 * time.Minute).Unix()}, func(r *AssertionRules) { r.MaxLifetime = 0 }, false},
		{"exp more than MaxLifetime from now", map[string]any{"nbf": vtNow.Add(4 * time.Minute).Unix(), "iat": vtNow.Add(4 * time.Minute).Unix(), "exp": vtNow.Add(64 * time.Minute).Unix()}, nil, false},
		{"exp MaxLifetime from now", map[string]any{"nbf": vtNow.Add(4 * time.Minute).Unix(), "iat": vtNow.Add(4 * time.Minute).Unix(), "exp": vtNow.Add(60 * time.Minute).Unix()}, nil, true},
		{"no start without MaxLifetime", map[string]any{"nbf": nil, "iat": nil}, func(r *AssertionRules) { r.MaxLifetime = 0 }, true},
		{"negative NumericDate", map[string]any{"nbf": -1}, nil, false},
		{"string NumericDate", map[string]any{"exp": fmt.Sprint(vtNow.Add(time.Minute).Unix())}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := s.sign(t, msalHeader(cert), vtJSON(t, vtWith(vtAssertionClaims(), tc.claims)))
			rules := vtRules()
			if tc.rules != nil {
				tc.rules(&rules)
			}
			_, err := VerifyClientAssertion(raw, cert, rules)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestClientAssertionX5c(t *testing.T) {
	s := vtNewSigner(t, jose.PS256)
	cert := vtCertFor(t, s)
	x5c := base64.StdEncoding.EncodeToString(cert.Raw)
	raw := s.sign(t, `{"alg":"PS256","typ":"JWT","x5c":["`+x5c+`"]}`, vtJSON(t, vtAssertionClaims()))
	u, err := ParseClientAssertion(raw)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := u.Header.Certificates()
	if err != nil || len(chain) != 1 || !chain[0].Equal(cert) {
		t.Fatalf("Certificates = %v, %v", chain, err)
	}
	if _, err := u.Verify(chain[0], vtRules()); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAssertionRulesRequired(t *testing.T) {
	s := vtNewSigner(t, jose.PS256)
	cert := vtCertFor(t, s)
	raw := s.sign(t, msalHeader(cert), vtJSON(t, vtAssertionClaims()))
	for _, r := range []AssertionRules{{Audiences: []string{vtTokenEndpointV2}}, {ClientID: vtClientID}} {
		if _, err := VerifyClientAssertion(raw, cert, r); err == nil {
			t.Errorf("rules %+v accepted", r)
		}
	}
	var nilCert *x509.Certificate
	if _, err := VerifyClientAssertion(raw, nilCert, vtRules()); err == nil {
		t.Error("nil certificate accepted")
	}
}

// TestVerifyExternalToken uses a GitHub-Actions-shaped OIDC token.
func TestVerifyExternalToken(t *testing.T) {
	idp := vtNewSigner(t, jose.RS256)
	keys := StaticKeySet(PublicKey{ID: idp.kid, Key: idp.priv.Public()}) // JWKS without alg
	gh := map[string]any{
		"iss": "https://token.actions.githubusercontent.com", "sub": "repo:contoso/orders:ref:refs/heads/main",
		"aud": "api://AzureADTokenExchange", "jti": "d3d1c1c0", "repository": "contoso/orders",
		"nbf": vtNow.Add(-time.Minute).Unix(), "iat": vtNow.Add(-time.Minute).Unix(), "exp": vtNow.Add(5 * time.Minute).Unix(),
	}
	ctx := context.Background()
	raw := idp.sign(t, `{"typ":"JWT","alg":"RS256","x5t":"abc","kid":"`+idp.kid+`"}`, vtJSON(t, gh))
	rules := ExternalTokenRules{Now: vtNow}
	got, err := VerifyExternalToken(ctx, raw, keys, rules)
	if err != nil {
		t.Fatalf("VerifyExternalToken: %v", err)
	}
	if got.Issuer != gh["iss"] || got.Subject != gh["sub"] || !cmp.Equal(got.Audience, []string{"api://AzureADTokenExchange"}) ||
		!got.Expiry.Equal(vtNow.Add(5*time.Minute)) || got.Claims["repository"] != "contoso/orders" {
		t.Errorf("claims = %+v", got)
	}
	if n, ok := got.Claims["exp"].(json.Number); !ok || n.String() != fmt.Sprint(vtNow.Add(5*time.Minute).Unix()) {
		t.Errorf("exp in Claims = %#v", got.Claims["exp"])
	}
	// Read as a client assertion (before its issuer is known to be
	// external), the token has the same registered claims.
	wantReg := RegisteredClaims{Issuer: gh["iss"].(string), Subject: gh["sub"].(string), Audience: []string{"api://AzureADTokenExchange"}, JTI: "d3d1c1c0",
		NotBefore: vtNow.Add(-time.Minute).Truncate(time.Second), IssuedAt: vtNow.Add(-time.Minute).Truncate(time.Second), Expiry: vtNow.Add(5 * time.Minute).Truncate(time.Second)}
	if diff := cmp.Diff(wantReg, got.RegisteredClaims); diff != "" {
		t.Errorf("external token's registered claims (-want +got):\n%s", diff)
	}
	if ua, err := ParseClientAssertion(raw); err != nil {
		t.Errorf("ParseClientAssertion: %v", err)
	} else if diff := cmp.Diff(got.RegisteredClaims, ua.RegisteredClaims); diff != "" {
		t.Errorf("registered claims as an assertion and as an external token differ (-external +assertion):\n%s", diff)
	}
	// Reused until it expires.
	if _, err := VerifyExternalToken(ctx, raw, keys, rules); err != nil {
		t.Errorf("reuse: %v", err)
	}

	later := ExternalTokenRules{Now: vtNow.Add(11 * time.Minute)}
	if _, err := VerifyExternalToken(ctx, raw, keys, later); !errors.Is(err, ErrAssertionTime) {
		t.Errorf("expired: %v", err)
	}
	impostor := vtNewSigner(t, jose.RS256)
	impostor.kid = idp.kid
	if _, err := VerifyExternalToken(ctx, impostor.token(t, gh), keys, rules); !errors.Is(err, ErrSignature) {
		t.Errorf("wrong key: %v", err)
	}
	ec := vtNewSigner(t, jose.ES256)
	ecKeys := StaticKeySet(ec.public())
	if _, err := VerifyExternalToken(ctx, ec.token(t, gh), ecKeys, rules); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("ES256 by default: %v", err)
	}
	rules.Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}
	if _, err := VerifyExternalToken(ctx, ec.token(t, gh), ecKeys, rules); err != nil {
		t.Errorf("ES256 allowed: %v", err)
	}
	if _, err := VerifyExternalToken(ctx, idp.token(t, vtWith(gh, map[string]any{"exp": nil})), keys, rules); !errors.Is(err, ErrAssertionTime) {
		t.Errorf("no exp: %v", err)
	}
	future := vtWith(gh, map[string]any{"nbf": nil, "iat": vtNow.Add(10 * time.Minute).Unix(), "exp": vtNow.Add(20 * time.Minute).Unix()})
	if _, err := VerifyExternalToken(ctx, idp.token(t, future), keys, rules); !errors.Is(err, ErrAssertionTime) {
		t.Errorf("iat in the future: %v", err)
	}
	if _, err := VerifyExternalToken(ctx, raw, nil, rules); err == nil {
		t.Error("nil key source accepted")
	}
}

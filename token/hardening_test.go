package token

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func regressPayload(extra string) []byte {
	return []byte(`{"aud":"` + vtAPIAppID + `","iss":"` + vtIssuerV2 + `","tid":"` + vtTenant +
		`","ver":"2.0","exp":` + strconv.FormatInt(vtNow.Add(time.Hour).Unix(), 10) +
		`,"azp":"` + vtClientID + `","scp":"Orders.Read","oid":"o","sub":"s"` + extra + `}`)
}

// A claim named like a standard claim up to case (or Unicode folding) would
// be read as that claim by encoding/json, which folds case: a second "tid"
// the validator did not check. Such tokens are refused, and such extra
// claims are never minted.
func TestCaseFoldedStandardClaimsRefused(t *testing.T) {
	v, _ := fuzzValidator(t)
	for _, extra := range []string{`,"TID":"` + vtOtherTenant + `"`, `,"ſcp":"Orders.Admin"`, `,"OID":"x"`, `,"Aud":"other"`} {
		raw := fuzzSign([]byte(`{"alg":"EdDSA","kid":"k"}`), regressPayload(extra))
		if _, err := v.ValidateClaims(context.Background(), raw); !errors.Is(err, ErrInvalidClaims) && !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want the token refused", extra, err)
		}
	}
	for _, k := range []string{"TID", "ſcp", "Roles"} {
		if !IsStandardAccessClaim(k) {
			t.Errorf("IsStandardAccessClaim(%q) = false", k)
		}
		if _, err := (AccessClaims{TenantID: vtTenant, Extra: map[string]any{k: "x"}}).MarshalJSON(); err == nil {
			t.Errorf("Extra %q was minted next to the standard claim", k)
		}
	}
}

// nbf near MaxInt64 must not wrap into the past.
func TestHugeNotBeforeRefused(t *testing.T) {
	v, _ := fuzzValidator(t)
	raw := fuzzSign([]byte(`{"alg":"EdDSA","kid":"k"}`), regressPayload(`,"nbf":`+strconv.FormatInt(math.MaxInt64, 10)))
	if _, err := v.Validate(context.Background(), raw); !errors.Is(err, ErrNotYetValid) {
		t.Errorf("nbf=MaxInt64: err = %v, want ErrNotYetValid", err)
	}
}

// An ID token (no azp/appid) is not an access token, even when its
// audience is the API.
func TestIDTokenIsNotAnAccessToken(t *testing.T) {
	k, err := GenerateKey(jose.ES256, vtNow.Add(-time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	k.State = KeyActive
	ring, err := NewKeyring([]*Key{k}, vtNow)
	if err != nil {
		t.Fatal(err)
	}
	id := BuildIDToken(IDToken{Version: 2, TenantID: vtTenant, ClientAppID: vtAPIAppID, Subject: vtSubject, UserObjectID: vtUserOID, Roles: []string{"Orders.Admin"}, IssuedAt: vtNow})
	raw, err := ring.Sign(jose.ES256, id, SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := vtValidator(t, ValidatorConfig{Keys: ring, Issuers: []string{vtTemplateV2}, Audiences: []string{vtAPIAppID},
		Algorithms: []jose.SignatureAlgorithm{jose.ES256}, Now: func() time.Time { return vtNow }})
	if _, err := v.Validate(context.Background(), raw); !errors.Is(err, ErrMalformed) {
		t.Errorf("ID token as access token: err = %v, want ErrMalformed", err)
	}
}

// A key published for one issuer (Entra's JWKS "issuer" member) does not
// verify tokens of another; with an exact issuer, tid must be the issuer's
// tenant.
func TestKeyAndTenantScopedToIssuer(t *testing.T) {
	msa := "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
	x := base64.RawURLEncoding.EncodeToString(fuzzEdKey.Public().(ed25519.PublicKey))
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"sig","kid":"msa","x":"` + x + `","issuer":"` + msa + `"},` +
		`{"kty":"OKP","crv":"Ed25519","use":"sig","kid":"org","x":"` + x + `","issuer":"https://login.microsoftonline.com/{tenantid}/v2.0"}]}`
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(jwks)) }))
	defer srv.Close()
	v := vtValidator(t, ValidatorConfig{
		Keys:    NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client(), Now: func() time.Time { return vtNow }}),
		Issuers: []string{vtTemplateV2}, Audiences: []string{vtAPIAppID},
		Algorithms: []jose.SignatureAlgorithm{jose.EdDSA}, Now: func() time.Time { return vtNow },
	})
	ctx := context.Background()
	if _, err := v.Validate(ctx, fuzzSign([]byte(`{"alg":"EdDSA","kid":"msa"}`), regressPayload(""))); !errors.Is(err, ErrIssuer) {
		t.Errorf("organisation token signed with the personal-account key: err = %v, want ErrIssuer", err)
	}
	if _, err := v.Validate(ctx, fuzzSign([]byte(`{"alg":"EdDSA","kid":"org"}`), regressPayload(""))); err != nil {
		t.Errorf("organisation token signed with the templated key: %v", err)
	}
	exact, _ := fuzzValidator(t) // exact issuer vtIssuerV2
	wrongTid := strings.Replace(string(regressPayload("")), `"tid":"`+vtTenant, `"tid":"`+vtOtherTenant, 1)
	if _, err := exact.Validate(ctx, fuzzSign([]byte(`{"alg":"EdDSA","kid":"k"}`), []byte(wrongTid))); !errors.Is(err, ErrTenant) {
		t.Errorf("exact issuer with another tid: err = %v, want ErrTenant", err)
	}
}

// Key sets are fetched over https only, unless explicitly allowed.
func TestRemoteKeySetRequiresHTTPS(t *testing.T) {
	x := base64.RawURLEncoding.EncodeToString(fuzzEdKey.Public().(ed25519.PublicKey))
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","use":"sig","kid":"k","x":"` + x + `"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(jwks)) }))
	defer srv.Close()
	if _, err := NewRemoteKeySet(srv.URL, RemoteOptions{}).PublicKey(context.Background(), "k"); err == nil {
		t.Error("plain http JWKS was used")
	}
	if _, err := NewRemoteKeySet(srv.URL, RemoteOptions{AllowInsecureHTTP: true}).PublicKey(context.Background(), "k"); err != nil {
		t.Errorf("plain http JWKS allowed explicitly: %v", err)
	}
}

// A resource server accepting both token versions, configured with both
// issuer templates and Entra's v2 key set, accepts v1 tokens: Entra signs
// both versions with the same keys, published with v2 issuers. The v1
// token's tenant must be the one the key's issuer names (or the key must be
// templated); nothing wider.
func TestV1TokenAgainstV2KeySet(t *testing.T) {
	k, err := GenerateKey(jose.RS256, vtNow.Add(-time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	k.State, k.ActivatedAt = KeyActive, vtNow.Add(-time.Hour)
	ring, err := NewKeyring([]*Key{k}, vtNow)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(version Version, tid string) string {
		t.Helper()
		raw, err := ring.Sign(jose.RS256, BuildAccess(Access{
			Version: version, TenantID: tid, Audience: vtAPIAppID, ClientAppID: vtClientID, AppOnly: true,
			ClientObjectID: vtClientSPID, IssuedAt: vtNow.Add(-time.Minute),
		}), SignOptions{X5T: version == 1})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	keySet := func(issuer string) KeySource {
		t.Helper()
		doc, err := ring.JWKS(issuer)
		if err != nil {
			t.Fatal(err)
		}
		ks, err := ParseJWKS(doc)
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	ctx := context.Background()
	v1, v2 := sign(1, vtTenant), sign(2, vtTenant)
	v1Other := sign(1, vtOtherTenant)
	own := "https://login.microsoftonline.com/" + vtTenant + "/v2.0"
	other := "https://login.microsoftonline.com/" + vtOtherTenant + "/v2.0"
	for _, tc := range []struct {
		name      string
		keyIssuer string
		raw       string
		skipIss   bool
		ok        bool
	}{
		{"v2 token, template key", vtTemplateV2, v2, false, true},
		{"v1 token, template key", vtTemplateV2, v1, false, true},
		{"v1 token, key of its tenant", own, v1, false, true},
		{"v1 token of another tenant, templated key", vtTemplateV2, v1Other, false, true},
		{"v1 token, key of another tenant", other, v1, false, false},
		{"v2 token, key of another tenant", other, v2, false, false},
		{"v1 token of another tenant, key of this tenant", own, v1Other, false, false},
		{"v1 token, v1-shaped key issuer of another tenant", "https://sts.windows.net/" + vtOtherTenant + "/", v1, false, false},
		{"v1 token, issuer check skipped", vtTemplateV2, v1, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ValidatorConfig{
				Keys: keySet(tc.keyIssuer), Issuers: []string{vtTemplateV1, vtTemplateV2}, Audiences: []string{vtAPIAppID},
				Now: func() time.Time { return vtNow }, SkipIssuerCheck: tc.skipIss,
			}
			if tc.skipIss {
				cfg.Issuers = nil
			}
			_, err := vtValidator(t, cfg).Validate(ctx, tc.raw)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrIssuer) {
				t.Fatalf("err = %v, want ErrIssuer", err)
			}
		})
	}
}

package token

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // x5t fixture
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// vtClock is a settable clock.
type vtClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *vtClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *vtClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// vtJWKSServer serves a mutable JWKS document and counts requests.
type vtJWKSServer struct {
	*httptest.Server
	mu      sync.Mutex
	doc     []byte
	status  int
	fetches atomic.Int32
	block   chan struct{} // when non-nil, requests wait for it to close
}

func vtNewJWKSServer(t *testing.T, doc []byte) *vtJWKSServer {
	s := &vtJWKSServer{doc: doc, status: http.StatusOK}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		doc, status, block := s.doc, s.status, s.block
		s.mu.Unlock()
		if block != nil {
			<-block
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=86400, private")
		w.WriteHeader(status)
		w.Write(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *vtJWKSServer) set(doc []byte, status int) {
	s.mu.Lock()
	s.doc, s.status = doc, status
	s.mu.Unlock()
}

// vtEntraJWK renders a key the way Entra's /discovery/v2.0/keys does: kty,
// use, kid = x5t = SHA-1 thumbprint, n, e, x5c, cloud_instance_name, issuer,
// and no alg.
func vtEntraJWK(t *testing.T, s *vtSigner) map[string]any {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore: vtNow.Add(-24 * time.Hour), NotAfter: vtNow.Add(365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.priv.Public(), s.priv)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(der) //nolint:gosec // fixture
	s.kid = base64.RawURLEncoding.EncodeToString(sum[:])
	var m map[string]any
	b, err := json.Marshal(jose.JSONWebKey{Key: s.priv.Public(), KeyID: s.kid})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["use"] = "sig"
	m["x5t"] = s.kid
	m["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
	m["cloud_instance_name"] = "microsoftonline.com"
	m["issuer"] = vtTemplateV2
	delete(m, "alg")
	return m
}

func vtJWKS(t *testing.T, keys ...map[string]any) []byte {
	t.Helper()
	return vtJSON(t, map[string]any{"keys": keys})
}

func vtPublicJWK(t *testing.T, key crypto.PublicKey, kid, alg, use string) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: use})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRemoteKeySetEntraShapedJWKS(t *testing.T) {
	good := vtNewSigner(t, jose.RS256)
	goodJWK := vtEntraJWK(t, good)
	ec := vtNewSigner(t, jose.ES256)

	encKey := vtPublicJWK(t, vtNewSigner(t, jose.RS256).priv.Public(), "enc-key", "", "enc")
	opsKey := vtPublicJWK(t, vtNewSigner(t, jose.RS256).priv.Public(), "ops-key", "", "")
	opsKey["key_ops"] = []string{"encrypt"}
	badX5t := vtEntraJWK(t, vtNewSigner(t, jose.RS256))
	badX5t["x5t"] = good.kid // thumbprint of another certificate
	badX5t["kid"] = "bad-x5t"
	wrongAlg := vtPublicJWK(t, vtNewSigner(t, jose.RS256).priv.Public(), "wrong-alg", "ES256", "sig")
	noKid := vtPublicJWK(t, vtNewSigner(t, jose.RS256).priv.Public(), "", "", "sig")
	dupKid := vtPublicJWK(t, ec.priv.Public(), good.kid, "", "sig") // loses: first wins
	doc := vtJWKS(t,
		map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		map[string]any{"kty": "OKP", "crv": "X448", "kid": "x448", "x": "AAAA"},
		encKey, opsKey, badX5t, wrongAlg, noKid,
		goodJWK, dupKid,
		vtPublicJWK(t, ec.priv.Public(), ec.kid, "ES256", "sig"),
	)
	srv := vtNewJWKSServer(t, doc)
	clock := &vtClock{t: vtNow}
	ks := NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client(), Now: clock.Now})

	k, err := ks.PublicKey(context.Background(), good.kid)
	if err != nil {
		t.Fatalf("PublicKey(entra key): %v", err)
	}
	if k.Algorithm != "" || !good.priv.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Key) {
		t.Errorf("entra key = %+v", k)
	}
	if k, err := ks.PublicKey(context.Background(), ec.kid); err != nil || k.Algorithm != jose.ES256 {
		t.Errorf("PublicKey(ec) = %+v, %v", k, err)
	}
	for _, kid := range []string{"hmac", "x448", "enc-key", "ops-key", "bad-x5t", "wrong-alg", ""} {
		if _, err := ks.PublicKey(context.Background(), kid); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("PublicKey(%q) = %v, want ErrUnknownKey", kid, err)
		}
	}

	// A real validator on top: Entra keys carry no alg, RS256 applies.
	v := vtValidator(t, vtConfig(ks))
	if _, err := v.Validate(context.Background(), good.token(t, vtV2Claims())); err != nil {
		t.Errorf("Validate via remote keys: %v", err)
	}
}

func TestRemoteKeySetServesKeyringJWKS(t *testing.T) {
	k, err := GenerateKey(jose.ES256, vtNow.Add(-time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	k.State, k.ActivatedAt = KeyActive, vtNow.Add(-time.Hour)
	ring, err := NewKeyring([]*Key{k}, vtNow)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ring.JWKS(vtTemplateV2)
	if err != nil {
		t.Fatal(err)
	}
	srv := vtNewJWKSServer(t, doc)
	ks := NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client()})
	raw, err := ring.Sign(jose.ES256, BuildAccess(Access{
		TenantID: vtTenant, Audience: vtAPIAppID, ClientAppID: vtClientID, AppOnly: true,
		ClientObjectID: vtClientSPID, IssuedAt: vtNow.Add(-time.Minute),
	}), SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := vtConfig(ks)
	cfg.Algorithms = []jose.SignatureAlgorithm{jose.ES256}
	p, err := vtValidator(t, cfg).Validate(context.Background(), raw)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !p.IsApp || p.ObjectID != vtClientSPID {
		t.Errorf("principal = %+v", p)
	}
}

func TestRemoteKeySetCachingAndRateLimit(t *testing.T) {
	a, b := vtNewSigner(t, jose.EdDSA), vtNewSigner(t, jose.EdDSA)
	srv := vtNewJWKSServer(t, vtJWKS(t, vtPublicJWK(t, a.priv.Public(), a.kid, "EdDSA", "sig")))
	clock := &vtClock{t: vtNow}
	ks := NewRemoteKeySet(srv.URL, RemoteOptions{
		HTTPClient: srv.Client(), Now: clock.Now, MinRefreshInterval: time.Minute, MaxAge: 24 * time.Hour,
	})
	ctx := context.Background()
	want := func(step string, fetches int32) {
		t.Helper()
		if got := srv.fetches.Load(); got != fetches {
			t.Fatalf("%s: %d fetches, want %d", step, got, fetches)
		}
	}

	want("constructor does no I/O", 0)
	for range 5 {
		if _, err := ks.PublicKey(ctx, a.kid); err != nil {
			t.Fatal(err)
		}
	}
	want("cached after the first lookup", 1)

	// An unknown kid right after a fetch is rate-limited.
	if _, err := ks.PublicKey(ctx, b.kid); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown kid: %v", err)
	}
	want("unknown kid within MinRefreshInterval", 1)

	// The issuer rotates in b; after the interval a miss refetches once.
	srv.set(vtJWKS(t, vtPublicJWK(t, a.priv.Public(), a.kid, "EdDSA", "sig"), vtPublicJWK(t, b.priv.Public(), b.kid, "EdDSA", "sig")), http.StatusOK)
	clock.Add(59 * time.Second)
	if _, err := ks.PublicKey(ctx, b.kid); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown kid at 59s: %v", err)
	}
	want("still rate-limited at 59s", 1)
	clock.Add(time.Second)
	if _, err := ks.PublicKey(ctx, b.kid); err != nil {
		t.Fatalf("rotated kid: %v", err)
	}
	want("refetched for the new kid", 2)

	// Made-up kids cost at most one fetch per interval.
	for i := range 100 {
		ks.PublicKey(ctx, "made-up-"+strings.Repeat("x", i%7))
	}
	want("made-up kids right after a fetch", 2)
	clock.Add(time.Minute)
	for range 100 {
		ks.PublicKey(ctx, "made-up")
	}
	want("made-up kids one interval later", 3)

	// MaxAge: a known kid is refetched once the set is a day old.
	clock.Add(24*time.Hour - time.Second)
	ks.PublicKey(ctx, a.kid)
	want("just before MaxAge", 3)
	clock.Add(time.Second)
	if _, err := ks.PublicKey(ctx, a.kid); err != nil {
		t.Fatal(err)
	}
	want("at MaxAge", 4)
}

func TestRemoteKeySetFailures(t *testing.T) {
	a := vtNewSigner(t, jose.EdDSA)
	doc := vtJWKS(t, vtPublicJWK(t, a.priv.Public(), a.kid, "EdDSA", "sig"))
	srv := vtNewJWKSServer(t, nil)
	srv.set([]byte(`{"error":"boom"}`), http.StatusInternalServerError)
	clock := &vtClock{t: vtNow}
	ks := NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client(), Now: clock.Now, MaxAge: time.Hour})
	ctx := context.Background()

	_, err := ks.PublicKey(ctx, a.kid)
	if err == nil || errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("first fetch failing: %v", err)
	}
	if _, err := ks.PublicKey(ctx, a.kid); err == nil {
		t.Fatal("second lookup succeeded")
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("failed fetch retried within MinRefreshInterval: %d fetches", n)
	}

	srv.set(doc, http.StatusOK)
	clock.Add(DefaultMinRefreshInterval)
	if _, err := ks.PublicKey(ctx, a.kid); err != nil {
		t.Fatalf("after recovery: %v", err)
	}

	// The issuer breaks again; past MaxAge the stale set stays usable for
	// another MaxAge, with retries rate-limited.
	srv.set([]byte(`not json`), http.StatusOK)
	clock.Add(time.Hour)
	if _, err := ks.PublicKey(ctx, a.kid); err != nil {
		t.Fatalf("stale key within grace: %v", err)
	}
	fetches := srv.fetches.Load()
	if _, err := ks.PublicKey(ctx, a.kid); err != nil || srv.fetches.Load() != fetches {
		t.Fatalf("grace lookup: err %v, fetches %d→%d", err, fetches, srv.fetches.Load())
	}
	clock.Add(time.Hour)
	if _, err := ks.PublicKey(ctx, a.kid); err == nil || errors.Is(err, ErrUnknownKey) {
		t.Fatalf("key set older than 2×MaxAge still served: %v", err)
	}

	for _, tc := range []struct {
		name string
		doc  string
	}{
		{"empty set", `{"keys":[]}`},
		{"only unusable keys", `{"keys":[{"kty":"oct","kid":"a","k":"AAAA"}]}`},
		{"not a key set", `[1,2]`},
	} {
		srv.set([]byte(tc.doc), http.StatusOK)
		ks := NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client()})
		if _, err := ks.PublicKey(ctx, "a"); err == nil || errors.Is(err, ErrUnknownKey) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestRemoteKeySetSingleFlight(t *testing.T) {
	a := vtNewSigner(t, jose.EdDSA)
	srv := vtNewJWKSServer(t, vtJWKS(t, vtPublicJWK(t, a.priv.Public(), a.kid, "EdDSA", "sig")))
	release := make(chan struct{})
	srv.block = release
	ks := NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client()})
	const n = 16
	waiting := make(chan struct{}, n)
	ks.testHookWait = func() { waiting <- struct{}{} }

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := ks.PublicKey(context.Background(), a.kid)
			errs <- err
		})
	}
	for range n {
		<-waiting // every caller is waiting on a fetch
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := srv.fetches.Load(); got != 1 {
		t.Errorf("%d concurrent misses made %d fetches, want 1", n, got)
	}
}

func TestRemoteKeySetContextCancel(t *testing.T) {
	a := vtNewSigner(t, jose.EdDSA)
	srv := vtNewJWKSServer(t, vtJWKS(t, vtPublicJWK(t, a.priv.Public(), a.kid, "EdDSA", "sig")))
	release := make(chan struct{})
	srv.block = release
	ks := NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client()})
	ctx, cancel := context.WithCancel(context.Background())
	ks.testHookWait = cancel // cancel as soon as the caller waits
	if _, err := ks.PublicKey(ctx, a.kid); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait: %v", err)
	}
	// The fetch itself was not canceled: once it completes, the key is there.
	ks.testHookWait = nil
	close(release)
	if err := ks.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if _, err := ks.PublicKey(context.Background(), a.kid); err != nil {
		t.Fatalf("after the detached fetch: %v", err)
	}
}

func TestStaticKeySet(t *testing.T) {
	a, b := vtNewSigner(t, jose.EdDSA), vtNewSigner(t, jose.EdDSA)
	pa, pb := a.public(), b.public()
	pb.ID = pa.ID
	ks := StaticKeySet(pa, pb)
	k, err := ks.PublicKey(context.Background(), pa.ID)
	if err != nil || !pa.Key.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Key) {
		t.Errorf("first key should win: %v", err)
	}
	if _, err := ks.PublicKey(context.Background(), "nope"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown: %v", err)
	}
}

// TestParseJWKS: a key set loaded from bytes keeps each key's issuer, so a
// key published for one tenant does not verify another tenant's tokens.
func TestParseJWKS(t *testing.T) {
	k, err := GenerateKey(jose.RS256, vtNow.Add(-time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	k.State, k.ActivatedAt = KeyActive, vtNow.Add(-time.Hour)
	ring, err := NewKeyring([]*Key{k}, vtNow)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ring.Sign(jose.RS256, BuildAccess(Access{
		Version: 2, TenantID: vtTenant, Audience: vtAPIAppID, ClientAppID: vtClientID, AppOnly: true,
		ClientObjectID: vtClientSPID, IssuedAt: vtNow.Add(-time.Minute),
	}), SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		issuer string
		ok     bool
	}{
		{vtTemplateV2, true},
		{"https://login.microsoftonline.com/" + vtTenant + "/v2.0", true},
		{"", true},
		{"https://login.microsoftonline.com/" + vtOtherTenant + "/v2.0", false},
	} {
		doc, err := ring.JWKS(tc.issuer)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := ParseJWKS(doc)
		if err != nil {
			t.Fatal(err)
		}
		pk, err := keys.PublicKey(context.Background(), k.ID)
		if err != nil || pk.Issuer != tc.issuer || !pk.Key.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public().Key) {
			t.Fatalf("issuer %q: key %+v, %v", tc.issuer, pk, err)
		}
		cfg := vtConfig(keys)
		cfg.Issuers = []string{vtTemplateV2}
		_, err = vtValidator(t, cfg).Validate(context.Background(), raw)
		if tc.ok && err != nil {
			t.Errorf("key issuer %q: %v", tc.issuer, err)
		}
		if !tc.ok && !errors.Is(err, ErrIssuer) {
			t.Errorf("key issuer %q: err = %v, want ErrIssuer", tc.issuer, err)
		}
	}
	if _, err := ParseJWKS(nil); err == nil {
		t.Error("ParseJWKS(nil) succeeded")
	}
	for _, doc := range []string{``, `[]`, `{"keys":[]}`, `{"keys":[{"kty":"RSA","kid":"x"}]}`, `not json`} {
		if _, err := ParseJWKS([]byte(doc)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseJWKS(%q): err = %v, want ErrInvalidKey", doc, err)
		}
	}
	keys, _ := ParseJWKS(mustJWKS(t, ring))
	if _, err := keys.PublicKey(context.Background(), "other"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown kid: %v", err)
	}
}

func mustJWKS(t *testing.T, r *Keyring) []byte {
	t.Helper()
	doc, err := r.JWKS(vtTemplateV2)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

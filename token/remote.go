package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults of [RemoteOptions].
const (
	// DefaultMinRefreshInterval is the default rate limit of JWKS fetches
	// triggered by unknown key ids and of retries after a failed fetch.
	DefaultMinRefreshInterval = time.Minute
	// DefaultMaxAge is the default age after which a cached JWKS is refetched:
	// Entra asks validators to refresh keys at least every 24 hours.
	DefaultMaxAge = 24 * time.Hour
	// maxJWKSSize bounds a JWKS response body.
	maxJWKSSize = 1 << 20
	// fetchTimeout bounds one JWKS fetch, which runs detached from the
	// cancellation of the request that triggered it.
	fetchTimeout = 30 * time.Second
)

// RemoteOptions configures [NewRemoteKeySet]. The zero value selects the
// defaults.
type RemoteOptions struct {
	// HTTPClient fetches the JWKS; nil means http.DefaultClient.
	HTTPClient *http.Client
	// MinRefreshInterval is the minimum time between two fetches started by a
	// cache miss (a kid the cached set lacks) or by a retry after a failure;
	// zero means [DefaultMinRefreshInterval]. Tokens with made-up key ids thus
	// cost the issuer at most one request per interval.
	MinRefreshInterval time.Duration
	// MaxAge is the age after which the cached set is refetched on use; zero
	// means [DefaultMaxAge]. If that refetch fails, the old keys stay in use
	// for at most another MaxAge while fetches are retried every
	// MinRefreshInterval.
	MaxAge time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// AllowInsecureHTTP lets the key set be fetched over plain http and
	// follow redirects to http URLs. Keys fetched without TLS can be
	// replaced by anyone on the path, who can then mint accepted tokens: it
	// MUST NOT be set in production.
	AllowInsecureHTTP bool
}

// RemoteKeySet is a [KeySource] backed by a JWKS endpoint such as Entra's
// https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys. It fetches
// lazily on first use, caches the keys, refetches on an unknown kid
// (rate-limited by MinRefreshInterval) and when the cache is older than
// MaxAge. Concurrent misses share one fetch. It is safe for concurrent use.
//
// Keys are parsed one by one with go-jose: keys with "use" other than "sig",
// "key_ops" without "verify", no kid, an unsupported type or algorithm, or an
// x5c/x5t inconsistent with the key are skipped rather than failing the whole
// set; Entra's extra members (issuer, cloud_instance_name) are ignored.
type RemoteKeySet struct {
	url        string
	client     *http.Client
	insecure   bool
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time

	cache atomic.Pointer[keySnapshot] // lock-free hot path

	testHookWait func() // called before waiting on a fetch; tests only

	mu          sync.Mutex // guards the fields below
	lastAttempt time.Time
	lastErr     error
	inflight    *fetchCall
}

// keySnapshot is an immutable fetched key set.
type keySnapshot struct {
	keys      map[string]PublicKey
	fetchedAt time.Time
}

// fetchCall is one in-flight fetch; done is closed when err is set.
type fetchCall struct {
	done chan struct{}
	err  error
}

var _ KeySource = (*RemoteKeySet)(nil)

// NewRemoteKeySet returns a key set for the JWKS at jwksURL. It does no I/O;
// the first [RemoteKeySet.PublicKey] call fetches.
func NewRemoteKeySet(jwksURL string, opts RemoteOptions) *RemoteKeySet {
	r := &RemoteKeySet{
		url:        jwksURL,
		client:     opts.HTTPClient,
		minRefresh: opts.MinRefreshInterval,
		maxAge:     opts.MaxAge,
		now:        opts.Now,
	}
	r.insecure = opts.AllowInsecureHTTP
	if r.client == nil {
		r.client = http.DefaultClient
	}
	if !r.insecure {
		// Redirects may not leave https.
		c := *r.client
		next := c.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" {
				return fmt.Errorf("token: JWKS redirect to a non-https URL refused")
			}
			if next != nil {
				return next(req, via)
			}
			if len(via) >= 10 {
				return fmt.Errorf("token: JWKS: too many redirects")
			}
			return nil
		}
		r.client = &c
	}
	if r.minRefresh <= 0 {
		r.minRefresh = DefaultMinRefreshInterval
	}
	if r.maxAge <= 0 {
		r.maxAge = DefaultMaxAge
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// PublicKey returns the key with id kid, fetching the JWKS when the cache is
// empty, older than MaxAge, or lacks kid and MinRefreshInterval has passed
// since the last fetch. It returns an error wrapping [ErrUnknownKey] when the
// (possibly refreshed) set has no such key, and a fetch error when no usable
// cached set exists.
func (r *RemoteKeySet) PublicKey(ctx context.Context, kid string) (PublicKey, error) {
	now := r.now()
	if s := r.cache.Load(); s != nil && now.Sub(s.fetchedAt) < r.maxAge {
		if k, ok := s.keys[kid]; ok {
			return k, nil
		}
	}
	return r.slowPath(ctx, kid, now)
}

// Refresh fetches the JWKS now, regardless of the rate limit, sharing a fetch
// already in flight.
func (r *RemoteKeySet) Refresh(ctx context.Context) error {
	r.mu.Lock()
	call := r.startLocked(ctx, r.now())
	r.mu.Unlock()
	return r.wait(ctx, call)
}

func (r *RemoteKeySet) slowPath(ctx context.Context, kid string, now time.Time) (PublicKey, error) {
	r.mu.Lock()
	s := r.cache.Load()
	if s != nil && now.Sub(s.fetchedAt) < r.maxAge {
		if k, ok := s.keys[kid]; ok { // another caller refreshed meanwhile
			r.mu.Unlock()
			return k, nil
		}
	}
	call := r.inflight
	if call == nil && (r.lastAttempt.IsZero() || now.Sub(r.lastAttempt) >= r.minRefresh) {
		call = r.startLocked(ctx, now)
	}
	lastErr := r.lastErr
	r.mu.Unlock()

	if call != nil {
		err := r.wait(ctx, call)
		s = r.cache.Load()
		if err != nil && ctx.Err() != nil {
			// The caller gave up: answer from the cache if it can, else
			// with the context's error rather than "unknown key".
			if k, lerr := r.lookup(s, kid, now, err); lerr == nil {
				return k, nil
			}
			return PublicKey{}, err
		}
		lastErr = err
	}
	return r.lookup(s, kid, now, lastErr)
}

// lookup serves kid from s: fresh keys always, stale keys within the grace
// period of another MaxAge.
func (r *RemoteKeySet) lookup(s *keySnapshot, kid string, now time.Time, fetchErr error) (PublicKey, error) {
	if s == nil {
		if fetchErr == nil {
			fetchErr = errors.New("no key set fetched yet")
		}
		return PublicKey{}, fmt.Errorf("token: JWKS %s unavailable: %w", r.url, fetchErr)
	}
	if age := now.Sub(s.fetchedAt); age >= 2*r.maxAge {
		if fetchErr == nil {
			fetchErr = errors.New("refresh pending")
		}
		return PublicKey{}, fmt.Errorf("token: JWKS %s expired %s ago: %w", r.url, (age - r.maxAge).Round(time.Second), fetchErr)
	}
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	return PublicKey{}, fmt.Errorf("%w: kid %.64q not in JWKS", ErrUnknownKey, kid)
}

// startLocked starts a fetch unless one is in flight. r.mu must be held.
func (r *RemoteKeySet) startLocked(ctx context.Context, now time.Time) *fetchCall {
	if r.inflight != nil {
		return r.inflight
	}
	call := &fetchCall{done: make(chan struct{})}
	r.inflight = call
	r.lastAttempt = now
	// The fetch serves every waiter: it keeps ctx's values but not its
	// cancellation.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	go func() {
		defer cancel()
		keys, err := r.fetch(fctx)
		r.mu.Lock()
		if err == nil {
			r.cache.Store(&keySnapshot{keys: keys, fetchedAt: r.now()})
		}
		r.lastErr = err
		r.inflight = nil
		call.err = err
		close(call.done)
		r.mu.Unlock()
	}()
	return call
}

// wait waits for call or for ctx.
func (r *RemoteKeySet) wait(ctx context.Context, call *fetchCall) error {
	if r.testHookWait != nil {
		r.testHookWait()
	}
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return fmt.Errorf("token: waiting for JWKS: %w", ctx.Err())
	}
}

// fetch downloads and parses the JWKS.
func (r *RemoteKeySet) fetch(ctx context.Context) (map[string]PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, fmt.Errorf("token: JWKS request: %w", err)
	}
	if req.URL.Scheme != "https" && !r.insecure {
		return nil, fmt.Errorf("token: JWKS URL %.128q is not https (see RemoteOptions.AllowInsecureHTTP)", r.url)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token: fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("token: reading JWKS: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("token: fetching JWKS %s: HTTP %d", r.url, resp.StatusCode)
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("token: JWKS %s larger than %d bytes", r.url, maxJWKSSize)
	}
	keys, err := parseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("token: JWKS %s: %w", r.url, err)
	}
	return keys, nil
}

// parseKeySet parses a JSON Web Key Set (RFC 7517 §5) into verification keys
// by kid, tolerantly: unusable keys are skipped, and the first key wins when
// two share a kid. It fails when the document is not a key set or no usable
// key remains.
func parseKeySet(doc []byte) (map[string]PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, errors.New("not a JSON Web Key Set")
	}
	keys := make(map[string]PublicKey, len(set.Keys))
	for _, raw := range set.Keys {
		k, ok := parseJWK(raw)
		if !ok {
			continue
		}
		if _, dup := keys[k.ID]; !dup {
			keys[k.ID] = k
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable signing key in the key set")
	}
	return keys, nil
}

// parseJWK converts one JWK into a PublicKey, or reports false.
func parseJWK(raw json.RawMessage) (PublicKey, bool) {
	var ops struct {
		KeyOps []string `json:"key_ops"`
		Issuer string   `json:"issuer"`
	}
	if json.Unmarshal(raw, &ops) != nil || (ops.KeyOps != nil && !slices.Contains(ops.KeyOps, "verify")) {
		return PublicKey{}, false
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return PublicKey{}, false
	}
	if (jwk.Use != "" && jwk.Use != "sig") || jwk.KeyID == "" || !jwk.Valid() {
		return PublicKey{}, false
	}
	pub := jwk.Public().Key
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return PublicKey{}, false
	}
	alg := jose.SignatureAlgorithm(jwk.Algorithm)
	if alg != "" && !keyFits(lookupAlg(string(alg)), pub) {
		return PublicKey{}, false
	}
	return PublicKey{ID: jwk.KeyID, Algorithm: alg, Key: pub, Issuer: ops.Issuer}, true
}

// ParseJWKS returns a [KeySource] serving the keys of a JSON Web Key Set
// document (RFC 7517 §5), such as a pinned copy of Entra's
// /discovery/v2.0/keys. Keys are read as [RemoteKeySet] reads them: unusable
// keys are skipped, the first of two keys sharing a kid wins, and each key's
// "issuer" member is kept, so that [Validator] still accepts a key only for
// tokens of that issuer. It fails, wrapping [ErrInvalidKey], when doc is not
// a key set or holds no usable key. The result is safe for concurrent use.
func ParseJWKS(doc []byte) (KeySource, error) {
	keys, err := parseKeySet(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return staticKeySet(keys), nil
}

// StaticKeySet returns a [KeySource] serving keys by their ID, for tests and
// for keys distributed out of band. When two keys share an ID the first wins.
func StaticKeySet(keys ...PublicKey) KeySource {
	s := make(staticKeySet, len(keys))
	for _, k := range keys {
		if _, dup := s[k.ID]; !dup {
			s[k.ID] = k
		}
	}
	return s
}

type staticKeySet map[string]PublicKey

// PublicKey returns the key with id kid or an error wrapping [ErrUnknownKey].
func (s staticKeySet) PublicKey(_ context.Context, kid string) (PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return PublicKey{}, fmt.Errorf("%w: kid %.64q", ErrUnknownKey, kid)
}

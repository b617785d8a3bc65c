package tenantry

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/token"
)

// TokenConfig configures the token service of a Directory. The zero value
// is usable for tests and single-process use.
type TokenConfig struct {
	// KeyEncryptionKey (32 bytes) seals signing keys before they reach the
	// store and derives the keys that seal refresh tokens and compute
	// pairwise subjects. Processes sharing a durable store must share it.
	// Empty means a random key for this Directory only: keys it stores
	// cannot be opened by any other process, and opening keys sealed under
	// another key fails with token.ErrKeyDecryption rather than silently
	// creating new ones.
	KeyEncryptionKey []byte
	// Algorithm signs tokens: jose.RS256 (default, as Entra), jose.ES256 or
	// jose.EdDSA.
	Algorithm jose.SignatureAlgorithm
	// Rotation is the key rotation policy; Algorithm is taken from above.
	Rotation token.RotationPolicy
	// Authority gives the issuer bases (defaults: Entra's public cloud).
	Authority token.Authority
	// AccessTokenLifetime defaults to one hour; IDTokenLifetime to one
	// hour; RefreshTokenLifetime (sliding, per use) to 90 days;
	// SPARefreshTokenLifetime (fixed) to 24 hours; CodeLifetime to 10
	// minutes; DeviceCodeLifetime to 15 minutes.
	AccessTokenLifetime     time.Duration
	IDTokenLifetime         time.Duration
	RefreshTokenLifetime    time.Duration
	SPARefreshTokenLifetime time.Duration
	CodeLifetime            time.Duration
	DeviceCodeLifetime      time.Duration
	// RefreshTokenRotation decides whether a redeemed refresh token stays
	// valid. The zero value, RefreshRotationEntra, follows Entra: every
	// refresh returns a new refresh token and the old one stays valid until
	// it expires. RefreshRotationStrict applies to public clients (SPA,
	// mobile and desktop apps, the device code flow) the rotation of RFC
	// 9700 §2.2.2: a superseded refresh token is refused, and presenting
	// one revokes its whole chain. Confidential clients keep Entra's
	// behaviour either way. The chain's state is in the store, so it holds
	// across processes.
	RefreshTokenRotation RefreshRotation
	// RefreshReuseGrace is how long after a strict rotation the superseded
	// refresh token is still accepted, for clients that refresh
	// concurrently; default 10 seconds, a negative value means none.
	RefreshReuseGrace time.Duration
	// AssertionMaxLifetime bounds exp−nbf (exp−iat without nbf) and exp−now
	// of client assertions, whose iat may not lie in the future; default
	// one hour (Entra sets no bound; MSAL's assertions live 10 minutes).
	AssertionMaxLifetime time.Duration
	// KeyRefreshInterval is how often the signing keys are re-read from
	// the store, so that a rotation by another process is picked up;
	// default one minute.
	KeyRefreshInterval time.Duration
	// VerificationURI is returned by the device code flow; default
	// "https://microsoft.com/devicelogin".
	VerificationURI string
	// FederatedKeys returns the key source of an external issuer for
	// federated identity credentials. Nil means OpenID Connect discovery
	// at {issuer}/.well-known/openid-configuration with HTTPClient.
	FederatedKeys func(ctx context.Context, issuer string) (token.KeySource, error)
	// HTTPClient is used for federated issuers' discovery; nil means a
	// client with a 10-second timeout.
	HTTPClient *http.Client
	// Random is the source of key material and token ids; nil means
	// crypto/rand.
	Random io.Reader
}

// RefreshRotation is a refresh token rotation policy (see
// TokenConfig.RefreshTokenRotation).
type RefreshRotation int

// Refresh token rotation policies.
const (
	// RefreshRotationEntra returns a new refresh token on every refresh
	// and leaves the old one valid until it expires, as Entra does.
	RefreshRotationEntra RefreshRotation = iota
	// RefreshRotationStrict refuses a public client's superseded refresh
	// token and revokes its chain when one is presented (RFC 9700 §2.2.2).
	RefreshRotationStrict
)

type tokenService struct {
	d        *Directory
	cfg      TokenConfig
	kek      []byte
	rtAEAD   cipher.AEAD
	pairwise []byte

	ring     atomic.Pointer[ringState]
	reloadMu sync.Mutex

	fedMu   sync.Mutex
	fedKeys map[string]token.KeySource
}

type ringState struct {
	ring   *token.Keyring
	opened map[string]*token.Key // by kid, to avoid re-opening sealed keys
	loaded time.Time
}

func newTokenService(ctx context.Context, d *Directory, cfg TokenConfig) (*tokenService, error) {
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.Algorithm == "" {
		cfg.Algorithm = jose.RS256
	}
	cfg.Rotation.Algorithm = cfg.Algorithm
	def := func(v *time.Duration, x time.Duration) {
		if *v <= 0 {
			*v = x
		}
	}
	def(&cfg.AccessTokenLifetime, time.Hour)
	def(&cfg.IDTokenLifetime, time.Hour)
	def(&cfg.RefreshTokenLifetime, 90*24*time.Hour)
	def(&cfg.SPARefreshTokenLifetime, 24*time.Hour)
	def(&cfg.CodeLifetime, 10*time.Minute)
	def(&cfg.DeviceCodeLifetime, 15*time.Minute)
	def(&cfg.AssertionMaxLifetime, time.Hour)
	def(&cfg.KeyRefreshInterval, time.Minute)
	switch {
	case cfg.RefreshReuseGrace == 0:
		cfg.RefreshReuseGrace = 10 * time.Second
	case cfg.RefreshReuseGrace < 0:
		cfg.RefreshReuseGrace = 0
	}
	if cfg.VerificationURI == "" {
		cfg.VerificationURI = "https://microsoft.com/devicelogin"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	kek := cfg.KeyEncryptionKey
	if len(kek) == 0 {
		kek = make([]byte, 32)
		if _, err := io.ReadFull(cfg.Random, kek); err != nil {
			return nil, err
		}
	}
	if len(kek) != 32 {
		return nil, fmt.Errorf("tenantry: %w: the key-encryption key must have 32 bytes", token.ErrInvalidKEK)
	}
	s := &tokenService{d: d, cfg: cfg, kek: kek, fedKeys: map[string]token.KeySource{}}
	block, err := aes.NewCipher(derive(kek, "tenantry refresh token sealing"))
	if err != nil {
		return nil, err
	}
	if s.rtAEAD, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	s.pairwise = derive(kek, "tenantry pairwise subject")
	if _, err := s.rotate(ctx, false); err != nil {
		return nil, err
	}
	return s, nil
}

func derive(kek []byte, label string) []byte {
	m := hmac.New(sha256.New, kek)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// RotateKeys runs the signing key lifecycle now: it promotes the next key
// when the active one has served its signing period, pre-publishes a new
// next key and drops retired keys past their overlap. The new key set is
// stored (sealed) with one audit event when it changed. It reports whether
// anything changed.
func (d *Directory) RotateKeys(ctx context.Context) (bool, error) {
	return d.tokens.rotate(ctx, false)
}

// ForceRotateKeys is [Directory.RotateKeys] with the active key retired at
// once, whatever its age, e.g. after a policy change. The retired key stays
// published and accepted for the overlap; to distrust a key at once, use
// [Directory.WithdrawKey].
func (d *Directory) ForceRotateKeys(ctx context.Context) error {
	_, err := d.tokens.rotate(ctx, true)
	return err
}

// WithdrawKey removes the signing key with id kid at once, as after a
// suspected compromise: unlike a key retired by [Directory.RotateKeys], it
// leaves the JWKS and this Directory's validation immediately, so tokens it
// signed stop validating; other processes sharing the store drop it at their
// next key reload (TokenConfig.KeyRefreshInterval). When kid was the active
// key, the next key takes over signing and a new next key is published. The
// change is stored with one audit event. An unknown kid is an error wrapping
// token.ErrUnknownKey.
func (d *Directory) WithdrawKey(ctx context.Context, kid string) error {
	_, err := d.tokens.replaceKeys(ctx, "signingKeys.withdraw", kid, func(cur []*token.Key, now time.Time) ([]*token.Key, bool, error) {
		next, err := token.Withdraw(cur, kid, now, d.tokens.cfg.Rotation, d.tokens.cfg.Random)
		return next, true, err
	})
	return err
}

func (s *tokenService) rotate(ctx context.Context, force bool) (bool, error) {
	return s.replaceKeys(ctx, "signingKeys.rotate", "", func(cur []*token.Key, now time.Time) ([]*token.Key, bool, error) {
		if force {
			next, err := token.ForceRotate(cur, now, s.cfg.Rotation, s.cfg.Random)
			return next, true, err
		}
		return token.Rotate(cur, now, s.cfg.Rotation, s.cfg.Random)
	})
}

// replaceKeys stores the key set plan computes from the stored one, with
// one audit event (action, target kid) when it changed, and installs it.
func (s *tokenService) replaceKeys(ctx context.Context, action, kid string, plan func(cur []*token.Key, now time.Time) ([]*token.Key, bool, error)) (bool, error) {
	var changed bool
	var keys []*token.Key
	err := s.d.mutate(ctx, System, func(o *op) error {
		stored, err := store.SigningKeys.All(o.tx, "", "")
		if err != nil {
			return err
		}
		cur := make([]*token.Key, 0, len(stored))
		for _, sk := range stored {
			k, err := token.OpenKey(sk.Sealed, s.kek)
			if err != nil {
				return fmt.Errorf("tenantry: signing key %s: %w", sk.ID, err)
			}
			cur = append(cur, k)
		}
		next, ch, err := plan(cur, o.now)
		if err != nil {
			return err
		}
		keys, changed = next, ch
		if !changed {
			return errNoChange
		}
		keep := map[string]bool{}
		var summary []string
		for _, k := range next {
			sealed, err := token.SealKey(k, s.kek)
			if err != nil {
				return err
			}
			keep[k.ID] = true
			summary = append(summary, k.ID+" "+string(k.Algorithm)+" "+string(k.State))
			if err := store.SigningKeys.Put(o.tx, store.SigningKey{ID: k.ID, Algorithm: string(k.Algorithm), State: string(k.State), Sealed: sealed, CreatedAt: k.CreatedAt}); err != nil {
				return err
			}
		}
		for _, sk := range stored {
			if !keep[sk.ID] {
				if err := store.SigningKeys.Delete(o.tx, sk.ID); err != nil {
					return err
				}
			}
		}
		return o.audit("", action, store.SigningKeys, kid, nil, summary)
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil {
		return false, err
	}
	return changed, s.install(keys)
}

func (s *tokenService) install(keys []*token.Key) error {
	now := s.d.now()
	ring, err := token.NewKeyring(keys, now)
	if err != nil {
		return err
	}
	opened := make(map[string]*token.Key, len(keys))
	for _, k := range keys {
		opened[k.ID] = k
	}
	s.ring.Store(&ringState{ring: ring, opened: opened, loaded: now})
	return nil
}

// keyring returns the current key ring, re-reading the store when the
// refresh interval has passed.
func (s *tokenService) keyring(ctx context.Context) (*token.Keyring, error) {
	st := s.ring.Load()
	now := s.d.now()
	if now.Sub(st.loaded) < s.cfg.KeyRefreshInterval && !now.Before(st.loaded) {
		return st.ring, nil
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if st2 := s.ring.Load(); st2 != st {
		return st2.ring, nil
	}
	var stored []store.SigningKey
	if err := s.d.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		stored, err = store.SigningKeys.All(tx, "", "")
		return err
	}); err != nil {
		return nil, err
	}
	keys := make([]*token.Key, 0, len(stored))
	for _, sk := range stored {
		if k, ok := st.opened[sk.ID]; ok && string(k.State) == sk.State {
			keys = append(keys, k)
			continue
		}
		k, err := token.OpenKey(sk.Sealed, s.kek)
		if err != nil {
			return nil, fmt.Errorf("tenantry: signing key %s: %w", sk.ID, err)
		}
		keys = append(keys, k)
	}
	if err := s.install(keys); err != nil {
		return nil, err
	}
	return s.ring.Load().ring, nil
}

// JWKS returns the JSON Web Key Set Entra publishes at
// /{tenant}/discovery/v2.0/keys (version 2) or /{tenant}/discovery/keys
// (version 1) for the authority's tenant segment. The keys are shared by
// every tenant, as Entra's are; on version 2 each key's issuer names what
// the segment stands for: the "{tenantid}" template for "common" and
// "organizations", the consumers tenant's issuer for "consumers", and the
// tenant's own (GUID) issuer for a tenant id or one of its verified domains.
// Version 1 keys carry no issuer, as Entra's. An unknown tenant is a
// *TokenError (AADSTS90002, or 900023 for a malformed segment), as Entra's
// discovery answers; a version other than 1 or 2 wraps ErrInvalidRequest.
func (d *Directory) JWKS(ctx context.Context, tenantSegment string, version token.Version) ([]byte, error) {
	if version != 1 && version != 2 {
		return nil, fmt.Errorf("%w: token version %d (want 1 or 2)", ErrInvalidRequest, int(version))
	}
	tid := token.TenantIDPlaceholder
	switch strings.ToLower(tenantSegment) {
	case "common", "organizations":
	default:
		if err := d.st.View(ctx, func(tx store.ReadTx) error {
			t, err := lookupTenant(tx, tenantSegment)
			tid = t.ID
			return err
		}); err != nil {
			return nil, err
		}
	}
	ring, err := d.tokens.keyring(ctx)
	if err != nil {
		return nil, err
	}
	issuer := ""
	if version == 2 {
		issuer = d.tokens.cfg.Authority.Issuer(2, tid)
	}
	return ring.JWKS(issuer)
}

// KeySource returns the public keys of the token service for validators in
// this process; it follows key rotation.
func (d *Directory) KeySource() token.KeySource { return keySource{d.tokens} }

type keySource struct{ s *tokenService }

func (k keySource) PublicKey(ctx context.Context, kid string) (token.PublicKey, error) {
	ring, err := k.s.keyring(ctx)
	if err != nil {
		return token.PublicKey{}, err
	}
	return ring.PublicKey(ctx, kid)
}

// Validator returns a validator for access tokens this Directory issues to
// the given audiences (an API's appId and identifier URIs): both token
// versions, any tenant unless allowedTenants is set, signature checked with
// the Directory's keys.
func (d *Directory) Validator(audiences []string, allowedTenants ...string) (*token.Validator, error) {
	a := d.tokens.cfg.Authority
	return token.NewValidator(token.ValidatorConfig{
		Keys:           d.KeySource(),
		Issuers:        []string{a.Issuer(1, token.TenantIDPlaceholder), a.Issuer(2, token.TenantIDPlaceholder)},
		AllowedTenants: allowedTenants,
		Audiences:      audiences,
		Algorithms:     []jose.SignatureAlgorithm{d.tokens.cfg.Algorithm},
		Now:            d.now,
	})
}

// ValidateAccessToken validates an access token issued by this Directory
// for the resource application with appID (accepting its appId and
// identifier URIs as audience) and returns its principal. A token of a
// tenant the application's sign-in audience does not admit (now) is
// refused with token.ErrTenant, so that narrowing an API's audience also
// stops tokens minted before.
func (d *Directory) ValidateAccessToken(ctx context.Context, raw, appID string) (*token.Principal, error) {
	app, err := d.ApplicationByAppID(ctx, appID)
	if err != nil {
		return nil, err
	}
	v, err := d.Validator(append([]string{app.AppID}, app.IdentifierURIs...))
	if err != nil {
		return nil, err
	}
	p, err := v.Validate(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !app.AdmitsTenant(p.TenantID) {
		return nil, fmt.Errorf("tenantry: %w: the sign-in audience %s of %s does not admit tenant %s", token.ErrTenant, app.SignInAudience, app.AppID, p.TenantID)
	}
	return p, nil
}

package tenantry

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

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
	// Algorithm signs tokens: token.RS256 (the default, as Entra),
	// token.ES256 or token.EdDSA.
	Algorithm token.Algorithm
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
	d        *core
	cfg      TokenConfig
	kek      []byte
	rtAEAD   cipher.AEAD
	pairwise []byte

	ring     atomic.Pointer[ringState]
	reloadMu sync.Mutex

	fedMu   sync.Mutex
	fedKeys map[string]token.KeySource
}

func newTokenService(ctx context.Context, d *core, cfg TokenConfig) (*tokenService, error) {
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.Algorithm == "" {
		cfg.Algorithm = token.RS256
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

package token

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7517 §4.8).
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Errors about signing keys and key sets. They are returned wrapped; match them
// with [errors.Is].
var (
	// ErrUnsupportedAlgorithm reports a signature algorithm other than RS256,
	// ES256 or EdDSA.
	ErrUnsupportedAlgorithm = errors.New("token: unsupported signature algorithm")
	// ErrInvalidKey reports a malformed or inconsistent [Key] (missing
	// certificate, kid that is not the certificate thumbprint, key type not
	// matching the algorithm, ...) or an inconsistent key set.
	ErrInvalidKey = errors.New("token: invalid signing key")
	// ErrNoSigningKey reports that a [Keyring] has no active key for the
	// requested algorithm.
	ErrNoSigningKey = errors.New("token: no active signing key")
	// ErrInvalidRotationPolicy reports a [RotationPolicy] with negative
	// durations or an unsupported algorithm.
	ErrInvalidRotationPolicy = errors.New("token: invalid rotation policy")
)

// KeyState is the place of a [Key] in its lifecycle: next → active → retired.
type KeyState string

const (
	// KeyNext is a pre-published key: it appears in the JWKS (so that
	// validators' caches pick it up) but signs nothing yet.
	KeyNext KeyState = "next"
	// KeyActive is the key that signs new tokens. A key set holds at most one
	// active key per algorithm.
	KeyActive KeyState = "active"
	// KeyRetired no longer signs but stays published, and accepted, until its
	// ExpiresAt so that tokens it signed remain valid until they expire.
	KeyRetired KeyState = "retired"
)

func (s KeyState) valid() bool {
	return s == KeyNext || s == KeyActive || s == KeyRetired
}

// Lifecycle defaults.
const (
	// DefaultSigningPeriod is how long a key stays active by default.
	DefaultSigningPeriod = 30 * 24 * time.Hour
	// DefaultOverlap is how long a retired key stays published by default.
	DefaultOverlap = 7 * 24 * time.Hour
	// DefaultLead is how long a key is published by default before it
	// signs (see [RotationPolicy].Lead).
	DefaultLead = 7 * 24 * time.Hour
	// DefaultAlgorithm is Entra's token signature algorithm.
	DefaultAlgorithm = jose.RS256
	// CertificateValidity is the validity of the self-signed certificate
	// [GenerateKey] creates (it starts 5 minutes before the creation time to
	// tolerate clock skew).
	CertificateValidity = 2 * 365 * 24 * time.Hour
	// rsaBits is the modulus size of generated RSA keys, as Entra's.
	rsaBits = 2048
)

// Key is a token signing key: the private key, its self-signed certificate and
// its lifecycle. The ID is the base64url SHA-1 thumbprint of the DER
// certificate, so a token's kid and x5t header values are equal, as Entra's are.
//
// A Key is a plain value; [Rotate] and [NewKeyring] copy the struct and never
// modify the Keys they are given. Signer and Certificate are shared between the
// copies and must not be modified.
type Key struct {
	// ID is the key id (kid): base64url, unpadded, SHA-1 thumbprint of
	// Certificate.Raw. See [CertificateThumbprint].
	ID string
	// Algorithm is jose.RS256 (RSA, at least 2048 bits), jose.ES256 (P-256)
	// or jose.EdDSA (Ed25519).
	Algorithm jose.SignatureAlgorithm
	// State is the lifecycle state.
	State KeyState
	// Signer is the private key. Keys created by [GenerateKey] or [OpenKey]
	// hold *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey; any
	// crypto.Signer of the matching type works for signing (e.g. a KMS
	// handle), but only those three can be sealed with [SealKey].
	Signer crypto.Signer
	// Certificate is the self-signed certificate published in x5c.
	Certificate *x509.Certificate
	// CreatedAt is when the key was generated (and, being next, published).
	CreatedAt time.Time
	// ActivatedAt is when the key became active; zero until then.
	ActivatedAt time.Time
	// RetiredAt is when the key stopped signing; zero until then.
	RetiredAt time.Time
	// ExpiresAt is set when the key retires: after it, the key is neither
	// published nor accepted. It must lie beyond the expiry of every token the
	// key signed.
	ExpiresAt time.Time
}

// PublicKey is the public half of a [Key], as a validator needs it.
type PublicKey struct {
	// ID is the key id (kid, equal to x5t).
	ID string
	// Algorithm is the only algorithm tokens signed by this key may use.
	Algorithm jose.SignatureAlgorithm
	// Key is *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey.
	Key crypto.PublicKey
	// Issuer, when set (the JWK "issuer" member), is the only issuer, possibly
	// templated with {tenantid}, whose tokens this key may verify.
	Issuer string
}

// Public returns the public half of k.
func (k *Key) Public() PublicKey {
	return PublicKey{ID: k.ID, Algorithm: k.Algorithm, Key: k.Signer.Public()}
}

// CertificateThumbprint returns the base64url (unpadded) SHA-1 thumbprint of
// the DER certificate: the x5t value, and Entra's kid.
func CertificateThumbprint(cert *x509.Certificate) string {
	sum := sha1.Sum(cert.Raw) //nolint:gosec // x5t is SHA-1 by definition.
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// GenerateKey creates a signing key for alg ([RS256] with RSA-2048, [ES256]
// with P-256, or [EdDSA] with Ed25519) and a self-signed X.509
// certificate valid from now-5min for [CertificateValidity]. The key is in
// state [KeyNext] with CreatedAt = now; [Rotate] promotes it.
//
// random is used for the Ed25519 seed and the certificate; nil means
// crypto/rand.Reader. Since Go 1.26 the standard library ignores it for RSA and
// ECDSA key generation and always uses a secure source.
func GenerateKey(alg Algorithm, now time.Time, random io.Reader) (*Key, error) {
	if random == nil {
		random = rand.Reader
	}
	var signer crypto.Signer
	switch alg {
	case jose.RS256:
		k, err := rsa.GenerateKey(random, rsaBits)
		if err != nil {
			return nil, fmt.Errorf("token: generate RSA key: %w", err)
		}
		signer = k
	case jose.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), random)
		if err != nil {
			return nil, fmt.Errorf("token: generate P-256 key: %w", err)
		}
		signer = k
	case jose.EdDSA:
		_, k, err := ed25519.GenerateKey(random)
		if err != nil {
			return nil, fmt.Errorf("token: generate Ed25519 key: %w", err)
		}
		signer = k
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
	}
	cert, err := selfSign(signer, now, random)
	if err != nil {
		return nil, err
	}
	return &Key{
		ID:          CertificateThumbprint(cert),
		Algorithm:   alg,
		State:       KeyNext,
		Signer:      signer,
		Certificate: cert,
		CreatedAt:   now,
	}, nil
}

func selfSign(signer crypto.Signer, now time.Time, random io.Reader) (*x509.Certificate, error) {
	var serial [16]byte
	if _, err := io.ReadFull(random, serial[:]); err != nil {
		return nil, fmt.Errorf("token: certificate serial: %w", err)
	}
	serial[0] &= 0x7f // positive
	serial[0] |= 0x40 // non-zero, fixed length
	tmpl := &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(serial[:]),
		Subject:               pkix.Name{CommonName: "tenantry token signing"},
		NotBefore:             now.Add(-5 * time.Minute).UTC(),
		NotAfter:              now.Add(CertificateValidity).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(random, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("token: self-sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("token: parse certificate: %w", err)
	}
	return cert, nil
}

// validateKey checks that k is complete and self-consistent.
func validateKey(k *Key) error {
	if k == nil {
		return fmt.Errorf("%w: nil key", ErrInvalidKey)
	}
	if k.Signer == nil || k.Certificate == nil {
		return fmt.Errorf("%w: key %q lacks a signer or a certificate", ErrInvalidKey, k.ID)
	}
	if k.ID == "" || k.ID != CertificateThumbprint(k.Certificate) {
		return fmt.Errorf("%w: key id %q is not the certificate thumbprint", ErrInvalidKey, k.ID)
	}
	if !k.State.valid() {
		return fmt.Errorf("%w: key %q has state %q", ErrInvalidKey, k.ID, k.State)
	}
	pub := k.Signer.Public()
	if err := checkAlgorithm(k.Algorithm, pub); err != nil {
		return fmt.Errorf("key %q: %w", k.ID, err)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(k.Certificate.PublicKey) {
		return fmt.Errorf("%w: key %q does not match its certificate", ErrInvalidKey, k.ID)
	}
	return nil
}

// checkAlgorithm checks that pub is a key type and size alg can use.
func checkAlgorithm(alg jose.SignatureAlgorithm, pub crypto.PublicKey) error {
	switch alg {
	case jose.RS256:
		if p, ok := pub.(*rsa.PublicKey); ok {
			if p.N.BitLen() < rsaBits {
				return fmt.Errorf("%w: RSA key of %d bits, want at least %d", ErrInvalidKey, p.N.BitLen(), rsaBits)
			}
			return nil
		}
	case jose.ES256:
		if p, ok := pub.(*ecdsa.PublicKey); ok && p.Curve == elliptic.P256() {
			return nil
		}
	case jose.EdDSA:
		if _, ok := pub.(ed25519.PublicKey); ok {
			return nil
		}
	default:
		return fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
	}
	return fmt.Errorf("%w: %T is not a %s key", ErrInvalidKey, pub, alg)
}

// RotationPolicy configures [Rotate]. The zero value means the defaults.
type RotationPolicy struct {
	// SigningPeriod is how long a key stays active before the next key
	// replaces it; 0 means [DefaultSigningPeriod] (30 days).
	SigningPeriod time.Duration
	// Overlap is how long a retired key remains published and accepted; 0
	// means [DefaultOverlap] (7 days). It must exceed the longest token
	// lifetime, or tokens signed just before a rotation would fail
	// validation before they expire.
	Overlap time.Duration
	// Algorithm is the algorithm whose keys Rotate manages; "" means
	// [DefaultAlgorithm] (RS256).
	Algorithm Algorithm
	// Lead is how long a key is published as next before it signs: the
	// successor of the active key is generated Lead before the active key's
	// SigningPeriod ends, and the active key keeps signing past its period
	// until its successor has been published that long. Validators that
	// refresh their cache of the key set more often than every Lead (Entra
	// asks for every 24 h) therefore know a key before its first token. 0
	// means [DefaultLead] (7 days); a Lead longer than the SigningPeriod is
	// the SigningPeriod, so that every key's successor is published as soon
	// as the key activates.
	Lead time.Duration
}

func (p RotationPolicy) normalize() (RotationPolicy, error) {
	if p.SigningPeriod < 0 || p.Overlap < 0 || p.Lead < 0 {
		return p, fmt.Errorf("%w: negative duration", ErrInvalidRotationPolicy)
	}
	if p.SigningPeriod == 0 {
		p.SigningPeriod = DefaultSigningPeriod
	}
	if p.Overlap == 0 {
		p.Overlap = DefaultOverlap
	}
	if p.Lead == 0 {
		p.Lead = DefaultLead
	}
	p.Lead = min(p.Lead, p.SigningPeriod)
	if p.Algorithm == "" {
		p.Algorithm = DefaultAlgorithm
	}
	if _, ok := algRank[p.Algorithm]; !ok {
		return p, fmt.Errorf("%w: %w: %q", ErrInvalidRotationPolicy, ErrUnsupportedAlgorithm, p.Algorithm)
	}
	return p, nil
}

// algRank orders algorithms in key sets (Entra's RS256 first).
var algRank = map[jose.SignatureAlgorithm]int{jose.RS256: 0, jose.ES256: 1, jose.EdDSA: 2}

// Rotate plans the next state of a key set at time now. It is pure apart from
// key generation: the input Keys are not modified, and the result holds copies
// (sharing Signer and Certificate) plus any generated key. changed reports
// whether the result differs from the input, i.e. whether it must be stored
// and a new [Keyring] built.
//
// For p.Algorithm, Rotate guarantees exactly one active key and at most one
// next key, and publishes every key it activates for p.Lead first:
//   - several active keys: the newest (by ActivatedAt) stays active, the
//     others retire;
//   - there is no active key, its certificate has expired, or its
//     SigningPeriod has passed and the oldest next key (the one published
//     longest) was published at least Lead ago: the active key retires with
//     RetiredAt = now and ExpiresAt = now + Overlap, and the oldest next key
//     becomes active with ActivatedAt = now — a key is generated and
//     activated at once if there is none, as on the first call;
//   - less than Lead remains of the active key's SigningPeriod (or it has
//     passed) and no next key exists: one is generated, so a key is created
//     only when it is about to be needed; surplus next keys (never used for
//     signing) are dropped, keeping the oldest, and so are next keys whose
//     certificate has expired.
//
// For every algorithm, retired keys past their ExpiresAt are dropped, and a
// retired key without ExpiresAt gets RetiredAt (or now) + Overlap. Keys of
// other algorithms are otherwise left alone: call Rotate once per algorithm
// with its own policy.
//
// Run Rotate periodically (e.g. hourly) and on start-up, persist the result
// when changed (see [SealKey]) and swap in a new [Keyring].
func Rotate(keys []*Key, now time.Time, p RotationPolicy, random io.Reader) (next []*Key, changed bool, err error) {
	return rotate(keys, now, p, random, false)
}

// ForceRotate is [Rotate] with the active key of p.Algorithm retired at once,
// whatever its age: the next key becomes active however briefly it has been
// published (a key is generated and activated at once if there is none), and
// its successor is generated when p.Lead calls for it. Use it after a policy
// change. A retired key stays published and
// accepted for the Overlap; after a key compromise use [Withdraw] instead.
func ForceRotate(keys []*Key, now time.Time, p RotationPolicy, random io.Reader) ([]*Key, error) {
	next, _, err := rotate(keys, now, p, random, true)
	return next, err
}

// Withdraw removes the key with id kid from the set at once, whatever its
// state, and then applies [Rotate]: when the withdrawn key was the active
// key of p.Algorithm, the next key becomes active (a key is generated if
// there is none), and a new next key is generated when the withdrawn key was
// the next one and p.Lead calls for one. Unlike a retired key, a withdrawn key is neither published
// nor accepted from the [Keyring] built from the result on, so every token
// it signed stops validating: use it when a private key may be compromised.
// It fails with [ErrUnknownKey] when no key has the id. The input Keys are
// not modified.
func Withdraw(keys []*Key, kid string, now time.Time, p RotationPolicy, random io.Reader) ([]*Key, error) {
	rest := make([]*Key, 0, len(keys))
	found := false
	for _, k := range keys {
		if k != nil && k.ID == kid {
			found = true
			continue
		}
		rest = append(rest, k)
	}
	if !found {
		return nil, fmt.Errorf("%w: kid %.64q", ErrUnknownKey, kid)
	}
	next, _, err := rotate(rest, now, p, random, false)
	return next, err
}

func rotate(keys []*Key, now time.Time, p RotationPolicy, random io.Reader, force bool) ([]*Key, bool, error) {
	p, err := p.normalize()
	if err != nil {
		return nil, false, err
	}
	out := make([]*Key, 0, len(keys)+2)
	var actives, nexts []*Key
	changed := false
	for _, in := range keys {
		if in == nil {
			return nil, false, fmt.Errorf("%w: nil key", ErrInvalidKey)
		}
		if !in.State.valid() {
			return nil, false, fmt.Errorf("%w: key %q has state %q", ErrInvalidKey, in.ID, in.State)
		}
		k := *in
		if k.State == KeyRetired {
			if k.ExpiresAt.IsZero() {
				k.ExpiresAt = orNow(k.RetiredAt, now).Add(p.Overlap)
				changed = true
			}
			if !now.Before(k.ExpiresAt) {
				changed = true
				continue
			}
		}
		if k.State == KeyNext && k.Algorithm == p.Algorithm && k.Certificate != nil && !now.Before(k.Certificate.NotAfter) {
			changed = true // never signed, and now unusable
			continue
		}
		out = append(out, &k)
		if k.Algorithm == p.Algorithm {
			switch k.State {
			case KeyActive:
				actives = append(actives, &k)
			case KeyNext:
				nexts = append(nexts, &k)
			}
		}
	}
	retire := func(k *Key) {
		k.State = KeyRetired
		k.RetiredAt = now
		k.ExpiresAt = now.Add(p.Overlap)
		changed = true
	}

	// Exactly one active key: the newest.
	slices.SortStableFunc(actives, func(a, b *Key) int {
		return cmp.Or(orNow(b.ActivatedAt, b.CreatedAt).Compare(orNow(a.ActivatedAt, a.CreatedAt)), cmp.Compare(a.ID, b.ID))
	})
	var active *Key
	if len(actives) > 0 {
		active = actives[0]
		for _, k := range actives[1:] {
			retire(k)
		}
	}

	// Oldest next key first: it has been published longest.
	slices.SortStableFunc(nexts, func(a, b *Key) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	due := active == nil || force ||
		(active.Certificate != nil && !now.Before(active.Certificate.NotAfter))
	if !due && !now.Before(orNow(active.ActivatedAt, active.CreatedAt).Add(p.SigningPeriod)) {
		// The period is over; the successor takes over once it has been
		// published for the lead.
		due = len(nexts) > 0 && !now.Before(nexts[0].CreatedAt.Add(p.Lead))
	}
	if due {
		if active != nil {
			retire(active)
		}
		if len(nexts) > 0 {
			active, nexts = nexts[0], nexts[1:]
		} else {
			k, err := GenerateKey(p.Algorithm, now, random)
			if err != nil {
				return nil, false, err
			}
			out = append(out, k)
			active = k
		}
		active.State = KeyActive
		active.ActivatedAt = now
		changed = true
	}

	// At most one next key, generated when the active key's period is
	// within the lead of its end.
	successorDue := !now.Before(orNow(active.ActivatedAt, active.CreatedAt).Add(p.SigningPeriod - p.Lead))
	if len(nexts) == 0 && successorDue {
		k, err := GenerateKey(p.Algorithm, now, random)
		if err != nil {
			return nil, false, err
		}
		out = append(out, k)
		changed = true
	} else if len(nexts) > 1 {
		drop := nexts[1:]
		out = slices.DeleteFunc(out, func(k *Key) bool { return slices.Contains(drop, k) })
		changed = true
	}
	return out, changed, nil
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// Keyring is an immutable set of signing keys, safe for concurrent use: it
// signs with the active key of each algorithm ([Keyring.Sign]), resolves key
// ids for validation ([Keyring.PublicKey]) and renders the JWKS
// ([Keyring.JWKS]). Build a new Keyring after each [Rotate] that changed
// something and swap it in (e.g. with atomic.Pointer).
//
// A Keyring is a view of the key set at the time given to [NewKeyring]: a
// retired key stays accepted until the Keyring is replaced even if its
// ExpiresAt passes in between. That is harmless as long as the Keyring is
// rebuilt at least as often as [Rotate] runs, since the Overlap outlasts every
// token the key signed, and the validator checks exp.
type Keyring struct {
	keys    []*ringKey // published keys in JWKS order
	byID    map[string]*ringKey
	signing map[jose.SignatureAlgorithm]*ringKey
}

// ringKey is a published key with its precomputed encodings.
type ringKey struct {
	key     Key
	public  PublicKey
	headers [2]string // base64url JOSE header: [0] kid only, [1] with x5t
	sigLen  int       // raw signature length in bytes
	jwk     []byte    // JWK object without cloud_instance_name, issuer and the closing brace
}

// NewKeyring builds a Keyring from keys as of now. Retired keys past their
// ExpiresAt are left out; next, active and other retired keys are published.
// It fails with [ErrInvalidKey] on an inconsistent key (see [Key]), a retired
// key without ExpiresAt, a duplicate key id or two active keys for one
// algorithm. The keys are copied; an empty set is valid but cannot sign.
func NewKeyring(keys []*Key, now time.Time) (*Keyring, error) {
	r := &Keyring{
		byID:    make(map[string]*ringKey, len(keys)),
		signing: make(map[jose.SignatureAlgorithm]*ringKey, 1),
	}
	for _, k := range keys {
		if err := validateKey(k); err != nil {
			return nil, err
		}
		if k.State == KeyRetired {
			if k.ExpiresAt.IsZero() {
				return nil, fmt.Errorf("%w: retired key %q has no ExpiresAt", ErrInvalidKey, k.ID)
			}
			if !now.Before(k.ExpiresAt) {
				continue
			}
		}
		if _, dup := r.byID[k.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate key id %q", ErrInvalidKey, k.ID)
		}
		rk := &ringKey{key: *k}
		rk.public = rk.key.Public()
		rk.headers, rk.sigLen = jwsHeaders(&rk.key)
		jwk, err := encodeJWK(&rk.key)
		if err != nil {
			return nil, err
		}
		rk.jwk = jwk
		if k.State == KeyActive {
			if prev, dup := r.signing[k.Algorithm]; dup {
				return nil, fmt.Errorf("%w: keys %q and %q are both active for %s", ErrInvalidKey, prev.key.ID, k.ID, k.Algorithm)
			}
			r.signing[k.Algorithm] = rk
		}
		r.byID[k.ID] = rk
		r.keys = append(r.keys, rk)
	}
	stateRank := map[KeyState]int{KeyActive: 0, KeyNext: 1, KeyRetired: 2}
	slices.SortStableFunc(r.keys, func(a, b *ringKey) int {
		return cmp.Or(
			cmp.Compare(stateRank[a.key.State], stateRank[b.key.State]),
			cmp.Compare(algRank[a.key.Algorithm], algRank[b.key.Algorithm]),
			b.key.CreatedAt.Compare(a.key.CreatedAt),
			cmp.Compare(a.key.ID, b.key.ID),
		)
	})
	return r, nil
}

// Signing returns a copy of the active key for alg, or [ErrNoSigningKey].
func (r *Keyring) Signing(alg jose.SignatureAlgorithm) (*Key, error) {
	rk, ok := r.signing[alg]
	if !ok {
		return nil, fmt.Errorf("%w for %q", ErrNoSigningKey, alg)
	}
	k := rk.key
	return &k, nil
}

// PublicKey returns the published key with id kid (next, active or retired
// and not yet expired), or [ErrUnknownKey]. It satisfies the validator's
// KeySource interface; ctx is unused since the lookup does no I/O.
func (r *Keyring) PublicKey(_ context.Context, kid string) (PublicKey, error) {
	rk, ok := r.byID[kid]
	if !ok {
		return PublicKey{}, fmt.Errorf("%w: kid %.64q", ErrUnknownKey, kid)
	}
	return rk.public, nil
}

// PublicKeys returns the published keys in JWKS order: active, next, then
// retired keys.
func (r *Keyring) PublicKeys() []PublicKey {
	out := make([]PublicKey, len(r.keys))
	for i, rk := range r.keys {
		out[i] = rk.public
	}
	return out
}

// Keys returns copies of the published keys in JWKS order, e.g. to persist
// them with [SealKey] or to feed them to [Rotate].
func (r *Keyring) Keys() []*Key {
	out := make([]*Key, len(r.keys))
	for i, rk := range r.keys {
		k := rk.key
		out[i] = &k
	}
	return out
}

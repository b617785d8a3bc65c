package token

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
)

// KeySource finds the public key that verifies a token, by the token's kid
// header. It is the test seam of [Validator]: [StaticKeySet] serves fixed keys,
// [RemoteKeySet] an Entra-style JWKS endpoint, and the package's Keyring the
// keys this library signs with.
//
// PublicKey must return an error wrapping [ErrUnknownKey] when no key has the
// kid. The returned key's Algorithm may be empty (Entra's JWKS documents carry
// no "alg"); the validator then accepts any allowed algorithm that fits the key
// type. Implementations must be safe for concurrent use.
type KeySource interface {
	PublicKey(ctx context.Context, kid string) (PublicKey, error)
}

// Validation errors. Every error returned by [Validator.Validate],
// [Validator.ValidateClaims], the client-assertion functions and
// [VerifyExternalToken] wraps exactly one of them (or [ErrAssertionTime] /
// [ErrKeyExpired] for assertions, or a [KeySource] failure), so callers can
// map them with errors.Is. Error texts never contain the token.
var (
	// ErrMalformed: not a compact JWS (three base64url parts, no padding, no
	// whitespace), a header that is not a strict JSON object, a forbidden
	// header (crit, jku, x5u, jwk, b64), or claims that do not decode.
	ErrMalformed = errors.New("token: malformed token")
	// ErrSignature: the signature does not verify with the key named by kid.
	ErrSignature = errors.New("token: invalid signature")
	// ErrUnknownKey: the token has no kid, or the key source has no key for it.
	ErrUnknownKey = errors.New("token: unknown signing key")
	// ErrExpired: the token's exp is not in the future.
	ErrExpired = errors.New("token: token is expired")
	// ErrNotYetValid: the token's nbf is in the future by more than the allowed clock skew.
	ErrNotYetValid = errors.New("token: token is not valid yet")
	// ErrIssuer: the iss claim matches no accepted issuer.
	ErrIssuer = errors.New("token: issuer not accepted")
	// ErrAudience: no aud value is an accepted audience.
	ErrAudience = errors.New("token: audience not accepted")
	// ErrTenant: the tid claim is missing, not a GUID, disagrees with the
	// issuer, or is not an allowed tenant.
	ErrTenant = errors.New("token: tenant not accepted")
	// ErrVersion: the ver claim is missing or not an accepted version.
	ErrVersion = errors.New("token: token version not accepted")
	// ErrAlgorithm: the alg header is none, unknown, not allowed, or does not
	// match the key's type or declared algorithm.
	ErrAlgorithm = errors.New("token: signature algorithm not accepted")
)

// TenantIDPlaceholder is the placeholder Entra's multi-tenant discovery
// documents put in issuer templates, for example
// "https://login.microsoftonline.com/{tenantid}/v2.0".
const TenantIDPlaceholder = "{tenantid}"

// Token versions as they appear in the ver claim.
const (
	Version1 = "1.0"
	Version2 = "2.0"
)

// DefaultClockSkew is the leeway granted to the nbf claim when
// [ValidatorConfig.ClockSkew] is zero, as in go-oidc.
const DefaultClockSkew = 5 * time.Minute

// MaxTokenSize bounds the length of a token (or client assertion) accepted by
// the parser. Entra access tokens, even with 200 group ids, stay well below
// 16 KiB.
const MaxTokenSize = 64 << 10

// ValidatorConfig configures a [Validator]. Zero values select the documented
// defaults; Keys, and unless skipped Issuers and Audiences, are required.
type ValidatorConfig struct {
	// Keys resolves the token's kid to a verification key. Required.
	Keys KeySource

	// Issuers lists accepted iss values. An entry is either an exact issuer
	// ("https://login.microsoftonline.com/{tid}/v2.0" for a v2 single-tenant
	// API, "https://sts.windows.net/{tid}/" for v1) or a template containing
	// [TenantIDPlaceholder] exactly once, as Entra's common and organizations
	// discovery documents publish. With a template the token's tid must be a
	// GUID and iss must equal the template with {tenantid} replaced by that tid,
	// so tid always equals the issuer's tenant segment. List the v1 and the v2
	// issuer when the API accepts both token versions; Entra's v2 key set
	// then verifies both (see [Validator]).
	Issuers []string

	// AllowedTenants restricts the tid claim to these tenant ids (compared
	// case-insensitively). It applies to exact issuers and templates alike.
	//
	// EMPTY MEANS ANY TENANT. With an issuer template and no AllowedTenants,
	// every Entra tenant in the world — including ones an attacker creates for
	// free — can obtain a valid token for a multi-tenant API. Multi-tenant
	// resource servers must either list the tenants they serve here or
	// authorize each request on tid/oid themselves.
	AllowedTenants []string

	// Audiences lists accepted aud values: the API's appId (v2 tokens always
	// carry it) and/or its identifier URIs (v1 tokens carry the URI the client
	// requested). A single trailing "/" is ignored when comparing, because
	// Entra echoes the App ID URI exactly as the client spelled it.
	Audiences []string

	// Versions lists accepted ver claims, [Version1] and/or [Version2]. Empty
	// accepts both.
	Versions []string

	// Algorithms lists accepted alg headers. Empty means RS256 only, the only
	// algorithm Entra signs with. Supported: RS256/384/512, PS256/384/512,
	// ES256/384/512 and EdDSA. The alg must also fit the key found by kid (and
	// equal its declared algorithm, if any); the header is never trusted alone.
	Algorithms []jose.SignatureAlgorithm

	// ClockSkew is the leeway for the nbf claim; zero means
	// [DefaultClockSkew], a negative value means none. As in go-oidc, exp gets
	// no leeway: a token is expired from the second of its exp on.
	ClockSkew time.Duration

	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// SkipAudienceCheck disables the aud check. A resource server MUST NOT set
	// it in production: any token from an accepted issuer, minted for any other
	// API, would be accepted.
	SkipAudienceCheck bool

	// SkipIssuerCheck disables the iss and tenant checks. A resource server
	// MUST NOT set it in production: tokens issued by any tenant whose key the
	// key source knows would be accepted.
	SkipIssuerCheck bool
}

// Validator validates bearer tokens for a resource server: a strict compact-JWS
// parser, the signature by kid, then issuer (exact or templated), tenant,
// audience, version and lifetime. It accepts tokens minted by this package and
// tokens shaped like Entra's v1 and v2 access tokens. A Validator is immutable
// and safe for concurrent use.
//
// Tokens without azp or appid (ID tokens) are refused, a key whose JWKS entry
// names an issuer verifies only tokens of that issuer (or v1 tokens of the
// same tenant, since Entra publishes its shared keys with v2 issuers only),
// and claims that differ
// from a standard claim only by case are refused, so that no consumer
// decoding the payload with encoding/json reads a different claim.
//
// ECDSA signatures are malleable: (r, N−s) verifies like (r, s), so one token
// has two valid encodings. Key replay caches and deny lists on the uti claim,
// never on the token text or its hash.
type Validator struct {
	keys      KeySource
	exact     map[string]string // exact issuer → the tenant GUID in its path, or ""
	templates []issuerTemplate
	tenants   map[string]struct{}
	audiences map[string]struct{}
	versions  map[string]struct{}
	algs      algSet
	skew      time.Duration
	now       func() time.Time
	skipAud   bool
	skipIss   bool
}

// issuerTemplate is an issuer containing {tenantid} once, split around it.
type issuerTemplate struct{ prefix, suffix string }

// NewValidator checks cfg and returns a Validator. It fails when Keys is nil,
// when Issuers or Audiences are empty without the matching Skip flag, when an
// issuer template has more than one placeholder, or on an unknown version or
// algorithm.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	if cfg.Keys == nil {
		return nil, errors.New("token: ValidatorConfig.Keys is required")
	}
	v := &Validator{
		keys:    cfg.Keys,
		exact:   make(map[string]string),
		skew:    cfg.ClockSkew,
		now:     cfg.Now,
		skipAud: cfg.SkipAudienceCheck,
		skipIss: cfg.SkipIssuerCheck,
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case v.skew == 0:
		v.skew = DefaultClockSkew
	case v.skew < 0:
		v.skew = 0
	}

	if len(cfg.Issuers) == 0 && !cfg.SkipIssuerCheck {
		return nil, errors.New("token: ValidatorConfig.Issuers is empty (set SkipIssuerCheck only in tests)")
	}
	for _, iss := range cfg.Issuers {
		if iss == "" {
			return nil, errors.New("token: empty issuer in ValidatorConfig.Issuers")
		}
		switch strings.Count(iss, TenantIDPlaceholder) {
		case 0:
			v.exact[iss] = issuerTenant(iss)
		case 1:
			p, s, _ := strings.Cut(iss, TenantIDPlaceholder)
			v.templates = append(v.templates, issuerTemplate{prefix: p, suffix: s})
		default:
			return nil, fmt.Errorf("token: issuer template %q has more than one %s", iss, TenantIDPlaceholder)
		}
	}
	if len(cfg.AllowedTenants) > 0 {
		v.tenants = make(map[string]struct{}, len(cfg.AllowedTenants))
		for _, t := range cfg.AllowedTenants {
			if t == "" {
				return nil, errors.New("token: empty tenant in ValidatorConfig.AllowedTenants")
			}
			v.tenants[strings.ToLower(t)] = struct{}{}
		}
	}

	if len(cfg.Audiences) == 0 && !cfg.SkipAudienceCheck {
		return nil, errors.New("token: ValidatorConfig.Audiences is empty (set SkipAudienceCheck only in tests)")
	}
	v.audiences = make(map[string]struct{}, len(cfg.Audiences))
	for _, a := range cfg.Audiences {
		if a == "" {
			return nil, errors.New("token: empty audience in ValidatorConfig.Audiences")
		}
		v.audiences[trimOneSlash(a)] = struct{}{}
	}

	if len(cfg.Versions) > 0 {
		v.versions = make(map[string]struct{}, len(cfg.Versions))
		for _, ver := range cfg.Versions {
			if ver != Version1 && ver != Version2 {
				return nil, fmt.Errorf("token: unknown token version %q (want %q or %q)", ver, Version1, Version2)
			}
			v.versions[ver] = struct{}{}
		}
	}

	algs, err := newAlgSet(cfg.Algorithms, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	v.algs = algs
	return v, nil
}

// Validate validates raw, a bearer access token without the "Bearer " prefix,
// and returns the principal it represents. Errors wrap one of the package's
// validation errors (see [ErrMalformed]) or a [KeySource] failure.
func (v *Validator) Validate(ctx context.Context, raw string) (*Principal, error) {
	c, err := v.ValidateClaims(ctx, raw)
	if err != nil {
		return nil, err
	}
	return PrincipalFromClaims(c), nil
}

// ValidateClaims is [Validator.Validate] returning the full claim set instead
// of a [Principal].
func (v *Validator) ValidateClaims(ctx context.Context, raw string) (*AccessClaims, error) {
	payload, key, err := verifyCompactKey(ctx, raw, v.keys, v.algs)
	if err != nil {
		return nil, err
	}
	c := new(AccessClaims)
	// AccessClaims' decoder is strict and self-validating (one pass, duplicate
	// claims refused); calling it directly skips encoding/json's extra scan.
	if t := hdrSkipSpace(payload, 0); t == len(payload) || payload[t] != '{' {
		return nil, fmt.Errorf("%w: claims are not a JSON object", ErrMalformed)
	}
	if err := c.UnmarshalJSON(payload); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := v.checkClaims(c); err != nil {
		return nil, err
	}
	if key.Issuer != "" && !v.keyAdmits(key.Issuer, c) {
		return nil, fmt.Errorf("%w: signing key is not scoped to this issuer", ErrIssuer)
	}
	return c, nil
}

// keyAdmits reports whether a key whose JWKS entry names keyIssuer (possibly
// templated) may verify the token c: iss must be that issuer for the token's
// tid. Entra signs v1 and v2 tokens with the same keys but publishes them
// with v2 issuers, so a v1 token of tenant T (iss "{host}/T/", already
// accepted by the configured issuers) may also use a key whose v2 issuer
// names T ("{host}/T/v2.0") or is the template; Microsoft's validation
// library accepts the same. Nothing wider: another tenant's key, or any key
// when the issuer check is skipped, still refuses it.
func (v *Validator) keyAdmits(keyIssuer string, c *AccessClaims) bool {
	want := strings.ReplaceAll(keyIssuer, TenantIDPlaceholder, c.TenantID)
	if want == c.Issuer {
		return true
	}
	if v.skipIss || c.Version != Version1 || !isTenantGUID(c.TenantID) {
		return false
	}
	return issuerPathIs(c.Issuer, "/"+c.TenantID+"/") && issuerPathIs(want, "/"+c.TenantID+"/v2.0")
}

// issuerPathIs reports whether the issuer URL iss has the path path (tenant
// GUIDs compare case-insensitively).
func issuerPathIs(iss, path string) bool {
	rest, ok := strings.CutPrefix(iss, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(iss, "http://")
	}
	i := strings.IndexByte(rest, '/')
	return ok && i > 0 && strings.EqualFold(rest[i:], path)
}

// checkClaims applies the issuer, tenant, audience, version and time rules.
func (v *Validator) checkClaims(c *AccessClaims) error {
	if !v.skipIss {
		if err := v.checkIssuer(c.Issuer, c.TenantID); err != nil {
			return err
		}
	}
	if c.AuthorizedParty == "" && c.AppID == "" {
		return fmt.Errorf("%w: no azp/appid claim (not an access token)", ErrMalformed)
	}
	if !v.skipAud && !v.audienceOK(c.Audience) {
		return fmt.Errorf("%w: aud %.128q", ErrAudience, []string(c.Audience))
	}
	if v.versions != nil {
		if _, ok := v.versions[c.Version]; !ok {
			return fmt.Errorf("%w: ver %.16q", ErrVersion, c.Version)
		}
	} else if c.Version != Version1 && c.Version != Version2 {
		return fmt.Errorf("%w: ver %.16q", ErrVersion, c.Version)
	}
	return checkAccessTimes(v.now(), c.NotBefore, c.ExpiresAt, v.skew)
}

// checkIssuer matches iss against the exact issuers, then the templates, and
// applies AllowedTenants.
func (v *Validator) checkIssuer(iss, tid string) error {
	if seg, ok := v.exact[iss]; ok {
		// An Entra issuer names its tenant: the token's tid must be it.
		if seg != "" && !strings.EqualFold(seg, tid) {
			return fmt.Errorf("%w: tid is not the issuer's tenant", ErrTenant)
		}
		return v.checkTenant(tid)
	}
	tenantProblem := ""
	for _, t := range v.templates {
		if len(iss) < len(t.prefix)+len(t.suffix) ||
			!strings.HasPrefix(iss, t.prefix) || !strings.HasSuffix(iss, t.suffix) {
			continue
		}
		switch seg := iss[len(t.prefix) : len(iss)-len(t.suffix)]; {
		case tid == "":
			tenantProblem = "tid claim missing"
		case seg != tid:
			tenantProblem = "tid is not the issuer's tenant"
		case !isTenantGUID(tid):
			tenantProblem = "tid is not a GUID"
		default:
			return v.checkTenant(tid)
		}
	}
	if tenantProblem != "" {
		return fmt.Errorf("%w: %s", ErrTenant, tenantProblem)
	}
	return fmt.Errorf("%w: iss %.128q", ErrIssuer, iss)
}

// checkTenant applies AllowedTenants.
func (v *Validator) checkTenant(tid string) error {
	if v.tenants == nil {
		return nil
	}
	if _, ok := v.tenants[strings.ToLower(tid)]; !ok {
		return fmt.Errorf("%w: tid %.64q is not an allowed tenant", ErrTenant, tid)
	}
	return nil
}

// audienceOK reports whether any aud value is accepted.
func (v *Validator) audienceOK(aud []string) bool {
	for _, a := range aud {
		if _, ok := v.audiences[trimOneSlash(a)]; ok {
			return true
		}
	}
	return false
}

// checkAccessTimes applies exp (required, no leeway) and nbf (optional, leeway skew)
// to Unix-second claims.
func checkAccessTimes(now time.Time, nbf, exp int64, skew time.Duration) error {
	if exp <= 0 {
		return fmt.Errorf("%w: exp claim missing", ErrExpired)
	}
	if now.Unix() >= exp {
		return fmt.Errorf("%w: exp %s, now %s", ErrExpired,
			time.Unix(exp, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if nbf != 0 && now.Add(skew).Unix() < nbf {
		return fmt.Errorf("%w: nbf %s, now %s", ErrNotYetValid,
			time.Unix(nbf, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// trimOneSlash removes one trailing "/".
func trimOneSlash(s string) string {
	if len(s) > 1 && s[len(s)-1] == '/' {
		return s[:len(s)-1]
	}
	return s
}

// isTenantGUID reports whether s has the 8-4-4-4-12 hex form of an Entra tenant id.
// issuerTenant returns the GUID path segment of an issuer URL
// ("https://login.microsoftonline.com/{tid}/v2.0",
// "https://sts.windows.net/{tid}/"), or "" when it has none.
func issuerTenant(iss string) string {
	rest := iss
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	for _, seg := range strings.Split(rest, "/")[1:] {
		if isTenantGUID(seg) {
			return seg
		}
	}
	return ""
}

func isTenantGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Strict compact JWS.

// algSpec describes one JWS signature algorithm.
type algSpec struct {
	alg  jose.SignatureAlgorithm
	hash crypto.Hash
	kind keyKind
	size int // ECDSA: bytes per coordinate and per half of the signature
}

type keyKind uint8

const (
	kindRSAPKCS1 keyKind = iota + 1
	kindRSAPSS
	kindECDSA
	kindEd25519
)

// algSpecs is indexed by algSet bit.
var algSpecs = [...]algSpec{
	{jose.RS256, crypto.SHA256, kindRSAPKCS1, 0},
	{jose.RS384, crypto.SHA384, kindRSAPKCS1, 0},
	{jose.RS512, crypto.SHA512, kindRSAPKCS1, 0},
	{jose.PS256, crypto.SHA256, kindRSAPSS, 0},
	{jose.PS384, crypto.SHA384, kindRSAPSS, 0},
	{jose.PS512, crypto.SHA512, kindRSAPSS, 0},
	{jose.ES256, crypto.SHA256, kindECDSA, 32},
	{jose.ES384, crypto.SHA384, kindECDSA, 48},
	{jose.ES512, crypto.SHA512, kindECDSA, 66},
	{jose.EdDSA, 0, kindEd25519, 0},
}

// lookupAlg returns the index of alg in algSpecs, or -1.
func lookupAlg(alg string) int {
	for i := range algSpecs {
		if string(algSpecs[i].alg) == alg {
			return i
		}
	}
	return -1
}

// algSet is a bit set over algSpecs.
type algSet uint16

// everyAlg accepts every supported algorithm.
const everyAlg = algSet(1<<len(algSpecs) - 1)

func (s algSet) has(i int) bool { return i >= 0 && s&(1<<i) != 0 }

// newAlgSet builds a set from algs, or from def when algs is empty.
func newAlgSet(algs, def []jose.SignatureAlgorithm) (algSet, error) {
	if len(algs) == 0 {
		algs = def
	}
	var s algSet
	for _, a := range algs {
		i := lookupAlg(string(a))
		if i < 0 {
			return 0, fmt.Errorf("token: unsupported signature algorithm %q", string(a))
		}
		s |= 1 << i
	}
	return s, nil
}

// jwsHeader holds the header members the package interprets.
type jwsHeader struct {
	alg, kid, typ, x5t, x5tS256 string
	x5c                         []string
}

// compactJWS is a parsed, not yet verified, compact JWS.
type compactJWS struct {
	header  jwsHeader
	alg     int    // index into algSpecs; -1 when unsupported
	signed  string // ASCII of header "." payload: the JWS signing input
	payload []byte // decoded payload
	sig     []byte // decoded signature
}

// jwsB64 is the only accepted encoding: base64url without padding, with zero
// trailing bits.
var jwsB64 = base64.RawURLEncoding.Strict()

// parseCompact splits and decodes a compact JWS strictly: exactly three parts
// (header and payload non-empty) of unpadded base64url — no padding, no
// whitespace or line breaks, no non-zero trailing bits — and a header that is
// a strict JSON object (see parseHeader). It is stricter than go-jose on
// every point and accepts every token go-jose's signers produce.
func parseCompact(raw string, allowX5c bool) (compactJWS, error) {
	var p compactJWS
	if len(raw) == 0 {
		return p, fmt.Errorf("%w: empty token", ErrMalformed)
	}
	if len(raw) > MaxTokenSize {
		return p, fmt.Errorf("%w: token longer than %d bytes", ErrMalformed, MaxTokenSize)
	}
	i := strings.IndexByte(raw, '.')
	if i <= 0 {
		return p, fmt.Errorf("%w: not a compact JWS (want 3 parts)", ErrMalformed)
	}
	j := strings.IndexByte(raw[i+1:], '.')
	if j <= 0 {
		return p, fmt.Errorf("%w: not a compact JWS (want 3 parts)", ErrMalformed)
	}
	j += i + 1
	// An empty signature part ("alg":"none" tokens) parses; it fails later.
	if strings.IndexByte(raw[j+1:], '.') >= 0 {
		return p, fmt.Errorf("%w: not a compact JWS (want 3 parts)", ErrMalformed)
	}
	// The base64 decoder skips CR and LF even in strict mode.
	if strings.IndexByte(raw, '\n') >= 0 || strings.IndexByte(raw, '\r') >= 0 {
		return p, fmt.Errorf("%w: line break in token", ErrMalformed)
	}

	// One buffer for the decoded header, payload and signature. The
	// conversions of the string parts are not copied by the compiler.
	hLen := jwsB64.DecodedLen(i)
	pLen := jwsB64.DecodedLen(j - i - 1)
	sLen := jwsB64.DecodedLen(len(raw) - j - 1)
	out := make([]byte, hLen+pLen+sLen)
	p.signed = raw[:j]

	n, err := jwsB64.Decode(out[:hLen], []byte(raw[:i]))
	if err != nil || n != hLen {
		return p, fmt.Errorf("%w: header is not unpadded base64url", ErrMalformed)
	}
	hdr := out[:n:n]
	out = out[hLen:]
	n, err = jwsB64.Decode(out[:pLen], []byte(raw[i+1:j]))
	if err != nil || n != pLen {
		return p, fmt.Errorf("%w: payload is not unpadded base64url", ErrMalformed)
	}
	p.payload = out[:n:n]
	out = out[pLen:]
	n, err = jwsB64.Decode(out, []byte(raw[j+1:]))
	if err != nil || n != sLen {
		return p, fmt.Errorf("%w: signature is not unpadded base64url", ErrMalformed)
	}
	p.sig = out[:n:n]

	p.header, err = parseHeader(hdr, allowX5c)
	if err != nil {
		return p, err
	}
	p.alg = lookupAlg(p.header.alg)
	return p, nil
}

// maxHeaderMembers bounds the number of header members.
const maxHeaderMembers = 32

// parseHeader interprets a JOSE header. It requires valid UTF-8 and valid JSON
// with an object at the top, rejects duplicate members, escaped member names,
// and the members this package never honours (crit, jku, x5u, jwk, b64, and
// x5c unless allowX5c). alg is required; alg, kid, typ, x5t, x5t#S256 and
// nonce must be strings; typ, when present, must be JWT or at+jwt. Every other
// member must decode with go-jose's JSON package, so that whatever this parser
// accepts go-jose accepts too.
func parseHeader(b []byte, allowX5c bool) (jwsHeader, error) {
	var h jwsHeader
	if !utf8.Valid(b) || !json.Valid(b) {
		return h, fmt.Errorf("%w: header is not valid JSON", ErrMalformed)
	}
	i := hdrSkipSpace(b, 0)
	if b[i] != '{' {
		return h, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	i = hdrSkipSpace(b, i+1)
	var seen [maxHeaderMembers][]byte
	nseen := 0
	hasAlg := false
	for b[i] != '}' {
		// Member name; json.Valid guarantees the structure from here on.
		start := i + 1
		end := start
		for b[end] != '"' {
			if b[end] == '\\' {
				return h, fmt.Errorf("%w: escaped header member name", ErrMalformed)
			}
			end++
		}
		name := b[start:end]
		i = hdrSkipSpace(b, end+1) // at ':'
		i = hdrSkipSpace(b, i+1)
		vend := hdrSkipValue(b, i)
		val := b[i:vend]
		i = hdrSkipSpace(b, vend)
		if b[i] == ',' {
			i = hdrSkipSpace(b, i+1)
		}

		if nseen == len(seen) {
			return h, fmt.Errorf("%w: too many header members", ErrMalformed)
		}
		for _, s := range seen[:nseen] {
			if bytes.Equal(s, name) {
				return h, fmt.Errorf("%w: duplicate header member", ErrMalformed)
			}
		}
		seen[nseen] = name
		nseen++

		var dst *string
		switch string(name) {
		case "alg":
			dst, hasAlg = &h.alg, true
		case "kid":
			dst = &h.kid
		case "typ":
			dst = &h.typ
		case "x5t":
			dst = &h.x5t
		case "x5t#S256":
			dst = &h.x5tS256
		case "nonce":
			var s string
			dst = &s
		case "crit", "jku", "x5u", "jwk", "b64":
			return h, fmt.Errorf("%w: unsupported header %q", ErrMalformed, string(name))
		case "x5c":
			if !allowX5c {
				return h, fmt.Errorf("%w: unsupported header %q", ErrMalformed, string(name))
			}
			if err := parseX5c(val, &h); err != nil {
				return h, err
			}
			continue
		default:
			switch val[0] {
			case '"', 't', 'f', 'n':
			default:
				var x any
				if josejson.Unmarshal(val, &x) != nil {
					return h, fmt.Errorf("%w: undecodable header member", ErrMalformed)
				}
			}
			continue
		}
		s, ok := hdrString(val)
		if !ok {
			return h, fmt.Errorf("%w: header %q is not a string", ErrMalformed, string(name))
		}
		*dst = s
	}
	if !hasAlg {
		return h, fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	if h.typ != "" && !typOK(h.typ) {
		return h, fmt.Errorf("%w: unexpected typ header", ErrMalformed)
	}
	return h, nil
}

// typOK accepts the typ values of JWT access tokens and client assertions:
// JWT (Entra) and at+jwt (RFC 9068), optionally with the application/ prefix.
func typOK(typ string) bool {
	t := strings.ToLower(typ)
	t = strings.TrimPrefix(t, "application/")
	return t == "jwt" || t == "at+jwt"
}

// parseX5c decodes an x5c header: standard base64 DER certificates, as
// go-jose requires.
func parseX5c(val []byte, h *jwsHeader) error {
	var chain []string
	if err := json.Unmarshal(val, &chain); err != nil || chain == nil {
		return fmt.Errorf("%w: x5c is not an array of strings", ErrMalformed)
	}
	if _, err := parseCertChain(chain); err != nil {
		return err
	}
	h.x5c = chain
	return nil
}

// hdrString decodes a JSON string literal; the fast path avoids reflection.
func hdrString(val []byte) (string, bool) {
	if len(val) < 2 || val[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(val, '\\') < 0 {
		return string(val[1 : len(val)-1]), true
	}
	var s string
	if json.Unmarshal(val, &s) != nil {
		return "", false
	}
	return s, true
}

func hdrSkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// hdrSkipValue returns the end of the JSON value starting at b[i]; b must be valid JSON.
func hdrSkipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return hdrSkipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = hdrSkipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// hdrSkipString returns the index after the string literal starting at b[i].
func hdrSkipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// verifyCompact parses raw, finds the key by kid and verifies the signature
// with an algorithm from allowed; it returns the decoded payload.
func verifyCompact(ctx context.Context, raw string, keys KeySource, allowed algSet) ([]byte, error) {
	b, _, err := verifyCompactKey(ctx, raw, keys, allowed)
	return b, err
}

func verifyCompactKey(ctx context.Context, raw string, keys KeySource, allowed algSet) ([]byte, PublicKey, error) {
	p, err := parseCompact(raw, false)
	if err != nil {
		return nil, PublicKey{}, err
	}
	if !allowed.has(p.alg) {
		return nil, PublicKey{}, fmt.Errorf("%w: alg %q", ErrAlgorithm, safeForError(p.header.alg))
	}
	if p.header.kid == "" {
		return nil, PublicKey{}, fmt.Errorf("%w: token has no kid", ErrUnknownKey)
	}
	key, err := keys.PublicKey(ctx, p.header.kid)
	if err != nil {
		if errors.Is(err, ErrUnknownKey) {
			return nil, PublicKey{}, err
		}
		return nil, PublicKey{}, fmt.Errorf("token: key lookup: %w", err)
	}
	if key.Algorithm != "" && string(key.Algorithm) != p.header.alg {
		return nil, PublicKey{}, fmt.Errorf("%w: alg %s does not match the key's %s", ErrAlgorithm, p.header.alg, key.Algorithm)
	}
	if err := verifySignature(p.alg, key.Key, p.signed, p.sig); err != nil {
		return nil, PublicKey{}, err
	}
	return p.payload, key, nil
}

// keyFits reports whether the algorithm algSpecs[i] can verify with pub: RSA
// for RS*/PS*, ECDSA on the matching curve for ES*, Ed25519 for EdDSA.
func keyFits(i int, pub crypto.PublicKey) bool {
	if i < 0 || i >= len(algSpecs) {
		return false
	}
	spec := &algSpecs[i]
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return (spec.kind == kindRSAPKCS1 || spec.kind == kindRSAPSS) && k != nil && k.N != nil
	case *ecdsa.PublicKey:
		return spec.kind == kindECDSA && k != nil && k.Curve != nil && (k.Curve.Params().BitSize+7)/8 == spec.size
	case ed25519.PublicKey:
		return spec.kind == kindEd25519 && len(k) == ed25519.PublicKeySize
	}
	return false
}

// signingInputPool recycles the byte copies of signing inputs that hashing
// and Ed25519 need, so that validation allocates only what it returns.
var signingInputPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// verifySignature checks sig over signed with key, using algSpecs[alg]. A key
// whose type or size does not fit the algorithm is ErrAlgorithm; a bad
// signature is ErrSignature.
func verifySignature(alg int, key crypto.PublicKey, signed string, sig []byte) error {
	if !keyFits(alg, key) {
		return fmt.Errorf("%w: %s does not fit the key (%T)", ErrAlgorithm, algSpecs[alg].alg, key)
	}
	spec := &algSpecs[alg]
	bp := signingInputPool.Get().(*[]byte)
	msg := append((*bp)[:0], signed...)
	defer func() {
		if cap(msg) <= 64<<10 {
			*bp = msg[:0]
			signingInputPool.Put(bp)
		}
	}()

	var sum [sha512.Size]byte
	var digest []byte
	switch spec.hash {
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		digest = append(sum[:0], d[:]...)
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		digest = append(sum[:0], d[:]...)
	case crypto.SHA512:
		d := sha512.Sum512(msg)
		digest = append(sum[:0], d[:]...)
	}

	ok := false
	switch spec.kind {
	case kindRSAPKCS1:
		ok = rsa.VerifyPKCS1v15(key.(*rsa.PublicKey), spec.hash, digest, sig) == nil
	case kindRSAPSS:
		// Salt length auto-detected, as go-jose and golang-jwt verify;
		// RFC 7518 signers use the hash length.
		ok = rsa.VerifyPSS(key.(*rsa.PublicKey), spec.hash, digest, sig, nil) == nil
	case kindECDSA:
		if len(sig) == 2*spec.size {
			r := new(big.Int).SetBytes(sig[:spec.size])
			s := new(big.Int).SetBytes(sig[spec.size:])
			ok = ecdsa.Verify(key.(*ecdsa.PublicKey), digest, r, s)
		}
	case kindEd25519:
		ok = ed25519.Verify(key.(ed25519.PublicKey), msg, sig)
	}
	if !ok {
		return ErrSignature
	}
	return nil
}

// safeForError shortens and sanitizes an untrusted header value for an error text.
func safeForError(s string) string {
	const max = 32
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

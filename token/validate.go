package token

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/internal/guid"
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
	// ErrConfig: NewValidator was given a configuration that cannot
	// validate tokens (a required field missing, a tenant named by domain
	// instead of its GUID, ...).
	ErrConfig = errors.New("token: invalid validator configuration")
)

// TenantIDPlaceholder is the placeholder Entra's multi-tenant discovery
// documents put in issuer templates, for example
// "https://login.microsoftonline.com/{tenantid}/v2.0".
const TenantIDPlaceholder = "{tenantid}"

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
	// then verifies both (see [Validator]). An Entra issuer names its tenant
	// by GUID: one with a domain or common/organizations/consumers in its
	// path is a configuration error.
	Issuers []string

	// AllowedTenants restricts the tid claim to these tenant ids (GUIDs,
	// compared case-insensitively; a domain is a configuration error, since
	// tid is always the GUID). It applies to exact issuers and templates alike.
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

	// Versions lists the accepted token versions, [Version1] (ver "1.0")
	// and/or [Version2] (ver "2.0"). Empty accepts both.
	Versions []Version

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
	issuers   []string          // as configured, for messages
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
// issuer template has more than one placeholder, when a tenant is named other
// than by its GUID (an Entra-shaped issuer with a domain or
// common/organizations/consumers in its path, an AllowedTenants entry that is
// not a GUID: tokens carry the GUID, so such a validator would refuse every
// token), or on an unknown version or algorithm.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	if cfg.Keys == nil {
		return nil, fmt.Errorf("%w: ValidatorConfig.Keys is required", ErrConfig)
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
		return nil, fmt.Errorf("%w: ValidatorConfig.Issuers is empty (set SkipIssuerCheck only in tests)", ErrConfig)
	}
	for _, iss := range cfg.Issuers {
		if iss == "" {
			return nil, fmt.Errorf("%w: empty issuer in ValidatorConfig.Issuers", ErrConfig)
		}
		switch strings.Count(iss, TenantIDPlaceholder) {
		case 0:
			if err := checkIssuerTenant(iss); err != nil {
				return nil, err
			}
			v.exact[iss] = issuerTenant(iss)
		case 1:
			p, s, _ := strings.Cut(iss, TenantIDPlaceholder)
			v.templates = append(v.templates, issuerTemplate{prefix: p, suffix: s})
		default:
			return nil, fmt.Errorf("%w: issuer template %q has more than one %s", ErrConfig, iss, TenantIDPlaceholder)
		}
	}
	v.issuers = slices.Clone(cfg.Issuers)
	if len(cfg.AllowedTenants) > 0 {
		v.tenants = make(map[string]struct{}, len(cfg.AllowedTenants))
		for _, t := range cfg.AllowedTenants {
			if t == "" {
				return nil, fmt.Errorf("%w: empty tenant in ValidatorConfig.AllowedTenants", ErrConfig)
			}
			if err := checkAllowedTenant(t); err != nil {
				return nil, err
			}
			v.tenants[strings.ToLower(t)] = struct{}{}
		}
	}

	if len(cfg.Audiences) == 0 && !cfg.SkipAudienceCheck {
		return nil, fmt.Errorf("%w: ValidatorConfig.Audiences is empty (set SkipAudienceCheck only in tests)", ErrConfig)
	}
	v.audiences = make(map[string]struct{}, len(cfg.Audiences))
	for _, a := range cfg.Audiences {
		if a == "" {
			return nil, fmt.Errorf("%w: empty audience in ValidatorConfig.Audiences", ErrConfig)
		}
		v.audiences[trimOneSlash(a)] = struct{}{}
	}

	if len(cfg.Versions) > 0 {
		v.versions = make(map[string]struct{}, len(cfg.Versions))
		for _, ver := range cfg.Versions {
			if ver != Version1 && ver != Version2 {
				return nil, fmt.Errorf("%w: unknown token version %d (want %d or %d)", ErrConfig, int(ver), int(Version1), int(Version2))
			}
			v.versions[ver.String()] = struct{}{}
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
	if v.skipIss || c.Version != Version1.String() || !guid.Valid(c.TenantID) {
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
	} else if _, ok := versionOf(c.Version); !ok {
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
		case !guid.Valid(tid):
			tenantProblem = "tid is not a GUID"
		default:
			return v.checkTenant(tid)
		}
	}
	if tenantProblem != "" {
		return fmt.Errorf("%w: %s", ErrTenant, tenantProblem)
	}
	return v.issuerRefusal(iss)
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

// issuerTenant returns the GUID path segment of an issuer URL
// ("https://login.microsoftonline.com/{tid}/v2.0",
// "https://sts.windows.net/{tid}/"), or "" when it has none.
func issuerTenant(iss string) string {
	rest := iss
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	for _, seg := range strings.Split(rest, "/")[1:] {
		if guid.Valid(seg) {
			return seg
		}
	}
	return ""
}

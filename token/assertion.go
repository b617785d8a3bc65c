package token

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t and Entra's customKeyIdentifier are SHA-1 thumbprints by definition.
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
)

// Client-assertion errors, besides the validation errors of [ErrMalformed].
var (
	// ErrAssertionTime: the assertion is expired, not yet valid, issued in the
	// future, lacks exp, or lives (or stays usable) longer than
	// [AssertionRules.MaxLifetime]. Entra answers
	// AADSTS700024 ("client assertion is not within its valid time range").
	ErrAssertionTime = errors.New("token: assertion not within its valid time range")
	// ErrKeyExpired: the certificate that verifies the assertion is outside
	// its validity period. Entra answers AADSTS700027 ("key used is expired").
	ErrKeyExpired = errors.New("token: verification key is expired")
)

// ClientAssertionType is the client_assertion_type of a JWT client assertion
// (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionHeader is the JOSE header of a client assertion, as sent.
type AssertionHeader struct {
	// Alg is the signature algorithm: PS256 (MSAL) or RS256.
	Alg string
	// Kid is the optional key id; clients using x/oauth2 send the
	// certificate's SHA-1 thumbprint (hex or base64) here.
	Kid string
	// X5t is the base64url SHA-1 certificate thumbprint (legacy clients).
	X5t string
	// X5tS256 is the "x5t#S256" SHA-256 certificate thumbprint. MSAL sends it
	// in standard, padded base64 rather than base64url.
	X5tS256 string
	// X5c is the certificate chain (standard base64 DER, leaf first), sent
	// only for subject-name/issuer authentication.
	X5c []string
}

// Certificates decodes X5c. The parser already checked that it decodes.
func (h AssertionHeader) Certificates() ([]*x509.Certificate, error) {
	return parseCertChain(h.X5c)
}

// ClientAssertion is a JWT client assertion (RFC 7523 §3): its header and
// registered claims.
//
// Entra accepts an assertion as often as it likes within its lifetime —
// azidentity's WorkloadIdentityCredential and ClientAssertionCredential reuse
// one assertion for many token requests, CI tools replay a federated token
// until it expires, and Entra documents no jti replay check. This package
// therefore applies no single-use rule to jti (Entra documents none; workload identity clients rely on reuse); a
// caller wanting one must keep its own jti store, at the cost of breaking
// those clients.
type ClientAssertion struct {
	// RegisteredClaims: iss and sub are the client's appId, aud the token
	// endpoint, jti a unique id (not enforced single-use).
	RegisteredClaims
	Header AssertionHeader // the JOSE header, as sent
}

// RegisteredClaims are the registered claims (RFC 7519 §4.1) of a client
// assertion or of an external token, as sent.
type RegisteredClaims struct {
	Issuer   string   // iss
	Subject  string   // sub
	Audience []string // aud
	JTI      string   // jti, when present
	// NotBefore, Expiry and IssuedAt are nbf, exp and iat; zero when the
	// claim is absent.
	NotBefore time.Time
	Expiry    time.Time // exp
	IssuedAt  time.Time // iat
}

// UnverifiedAssertion is a parsed client assertion whose signature and claims
// have not been checked. Use its header ([MatchCertificate]) and iss/sub to
// find the client's registered certificate, then call
// [UnverifiedAssertion.Verify]. Nothing in it may be trusted before that.
// Verify checks the assertion as parsed; changing the embedded fields does
// not affect it.
type UnverifiedAssertion struct {
	ClientAssertion
	parsed ClientAssertion // what Verify checks and returns, out of the caller's reach
	jws    compactJWS
}

// AssertionRules are the checks [UnverifiedAssertion.Verify] applies.
type AssertionRules struct {
	// ClientID is the appId of the authenticating client; iss and sub must
	// both equal it. Required.
	ClientID string
	// Audiences are the accepted aud values: the token endpoints the request
	// may have been sent to, typically the tenant's v2 and v1 endpoints
	// ("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token" and
	// ".../oauth2/token"), compared exactly. Required.
	Audiences []string
	// Now is the current time; zero means time.Now().
	Now time.Time
	// MaxLifetime bounds exp minus nbf (or iat when nbf is absent), and exp
	// minus now, so that an assertion is usable for at most
	// that long whatever its nbf and iat claim; zero means no bound, as
	// Entra today ("no restrictions on exp currently"). MSAL's assertions
	// live 10 minutes.
	MaxLifetime time.Duration
	// Skew is the leeway applied to nbf, iat and exp; zero means
	// [DefaultClockSkew] (5 minutes), negative means none.
	Skew time.Duration
}

// assertionAlgs are the algorithms Entra accepts for client assertions.
var assertionAlgs = mustAlgSet(jose.RS256, jose.PS256)

func mustAlgSet(algs ...jose.SignatureAlgorithm) algSet {
	s, err := newAlgSet(algs, nil)
	if err != nil {
		panic(err)
	}
	return s
}

// ParseClientAssertion parses a client assertion without verifying it,
// exposing header and claims so that the caller can find the registered
// certificate. The compact JWS rules are those of [Validator]; x5c, when
// present, must hold standard-base64 DER certificates. The alg must be a
// supported asymmetric algorithm — Verify narrows it to RS256 and PS256 —
// and errors wrap [ErrMalformed] or [ErrAlgorithm].
func ParseClientAssertion(raw string) (*UnverifiedAssertion, error) {
	p, err := parseCompact(raw, true)
	if err != nil {
		return nil, err
	}
	if p.alg < 0 {
		return nil, fmt.Errorf("%w: alg %q", ErrAlgorithm, safeForError(p.header.alg))
	}
	c, err := decodeAssertionClaims(p.payload)
	if err != nil {
		return nil, err
	}
	u := &UnverifiedAssertion{jws: p}
	u.parsed = ClientAssertion{
		RegisteredClaims: c.registered(),
		Header: AssertionHeader{
			Alg:     p.header.alg,
			Kid:     p.header.kid,
			X5t:     p.header.x5t,
			X5tS256: p.header.x5tS256,
			X5c:     p.header.x5c,
		},
	}
	u.ClientAssertion = u.parsed.clone()
	return u, nil
}

// VerifyClientAssertion is [ParseClientAssertion] followed by
// [UnverifiedAssertion.Verify].
func VerifyClientAssertion(raw string, key crypto.PublicKey, rules AssertionRules) (*ClientAssertion, error) {
	u, err := ParseClientAssertion(raw)
	if err != nil {
		return nil, err
	}
	return u.Verify(key, rules)
}

// Verify checks the assertion as Entra does for private_key_jwt client
// authentication (RFC 7523; Microsoft identity platform certificate credentials) and returns it on success:
//
//   - alg is RS256 or PS256, and key is RSA; anything else (EC keys
//     included) is [ErrAlgorithm], Entra's AADSTS700027;
//   - key is an *rsa.PublicKey or an *x509.Certificate (the registered
//     keyCredential); a certificate outside its validity at rules.Now is
//     [ErrKeyExpired];
//   - the signature verifies ([ErrSignature]);
//   - iss and sub both equal rules.ClientID ([ErrIssuer]);
//   - some aud is in rules.Audiences ([ErrAudience]);
//   - exp is present and after now−Skew, nbf and iat (if any) before
//     now+Skew, and both exp−nbf (or exp−iat without nbf) and exp−now
//     within MaxLifetime ([ErrAssertionTime], AADSTS700024).
//
// The same assertion verifies any number of times (see [ClientAssertion]).
func (u *UnverifiedAssertion) Verify(key crypto.PublicKey, rules AssertionRules) (*ClientAssertion, error) {
	if rules.ClientID == "" || len(rules.Audiences) == 0 {
		return nil, errors.New("token: AssertionRules needs ClientID and Audiences")
	}
	now := rules.Now
	if now.IsZero() {
		now = time.Now()
	}
	a := &u.parsed
	if !assertionAlgs.has(u.jws.alg) {
		return nil, fmt.Errorf("%w: client assertions must use RS256 or PS256, not %q", ErrAlgorithm, safeForError(a.Header.Alg))
	}
	if cert, ok := key.(*x509.Certificate); ok {
		if cert == nil {
			return nil, errors.New("token: nil certificate")
		}
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			return nil, fmt.Errorf("%w: certificate valid %s to %s", ErrKeyExpired,
				cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		}
		key = cert.PublicKey
	}
	if _, ok := key.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: client assertions need an RSA key, not %T", ErrAlgorithm, key)
	}
	if err := verifySignature(u.jws.alg, key, u.jws.signed, u.jws.sig); err != nil {
		return nil, err
	}
	if a.Issuer != rules.ClientID || a.Subject != rules.ClientID {
		return nil, fmt.Errorf("%w: iss and sub must both be the client id", ErrIssuer)
	}
	if !anyAudienceIn(a.Audience, rules.Audiences) {
		return nil, fmt.Errorf("%w: aud %.128q", ErrAudience, a.Audience)
	}
	if err := checkAssertionTimes(a.RegisteredClaims, now, rules.Skew, rules.MaxLifetime); err != nil {
		return nil, err
	}
	ca := a.clone()
	return &ca, nil
}

// clone copies a with its slices.
func (a ClientAssertion) clone() ClientAssertion {
	a.Audience = slices.Clone(a.Audience)
	a.Header.X5c = slices.Clone(a.Header.X5c)
	return a
}

// checkAssertionTimes applies the lifetime rules shared by client assertions
// and external tokens.
func checkAssertionTimes(c RegisteredClaims, now time.Time, skew, maxLife time.Duration) error {
	nbf, exp, iat := c.NotBefore, c.Expiry, c.IssuedAt
	switch {
	case skew == 0:
		skew = DefaultClockSkew
	case skew < 0:
		skew = 0
	}
	if exp.IsZero() {
		return fmt.Errorf("%w: exp claim missing", ErrAssertionTime)
	}
	if !now.Add(-skew).Before(exp) {
		return fmt.Errorf("%w: expired at %s, now %s", ErrAssertionTime,
			exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !nbf.IsZero() && now.Add(skew).Before(nbf) {
		return fmt.Errorf("%w: not valid before %s, now %s", ErrAssertionTime,
			nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	// An assertion cannot have been issued in the future: without this, an
	// iat far ahead (and no nbf) would stretch the lifetime bound below.
	if !iat.IsZero() && now.Add(skew).Before(iat) {
		return fmt.Errorf("%w: issued at %s, after now %s", ErrAssertionTime,
			iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if maxLife > 0 {
		start := nbf
		if start.IsZero() {
			start = iat
		}
		if start.IsZero() || exp.Sub(start) > maxLife {
			return fmt.Errorf("%w: lifetime longer than %s", ErrAssertionTime, maxLife)
		}
		// Whatever nbf and iat say, the assertion is usable from now for at
		// most the bound.
		if exp.Sub(now) > maxLife {
			return fmt.Errorf("%w: expires more than %s from now", ErrAssertionTime, maxLife)
		}
	}
	return nil
}

func anyAudienceIn(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// MatchCertificate finds the certificate a client assertion's header names,
// by the most specific identifier present:
//
//  1. x5t#S256: SHA-256 of the DER certificate, in standard or URL base64,
//     padded or not (MSAL sends standard padded base64);
//  2. x5t: SHA-1 of the DER certificate, in any of those base64 forms;
//  3. kid: the SHA-1 thumbprint (Entra's customKeyIdentifier) as hex (either
//     case) or base64, or the SHA-256 thumbprint in the same forms.
//
// A present identifier that matches nothing ends the search: the function does
// not fall back to a less specific one.
func MatchCertificate(h AssertionHeader, certs []*x509.Certificate) (*x509.Certificate, bool) {
	switch {
	case h.X5tS256 != "":
		return findByThumb(certs, h.X5tS256, false, true)
	case h.X5t != "":
		return findByThumb(certs, h.X5t, true, false)
	case h.Kid != "":
		return findByThumb(certs, h.Kid, true, true)
	}
	return nil, false
}

// findByThumb matches s as a SHA-1 and/or SHA-256 thumbprint.
func findByThumb(certs []*x509.Certificate, s string, sha1OK, sha256OK bool) (*x509.Certificate, bool) {
	want := decodeThumbprint(s)
	switch {
	case want == nil:
		return nil, false
	case len(want) == sha1.Size && !sha1OK, len(want) == sha256.Size && !sha256OK:
		return nil, false
	}
	for _, c := range certs {
		if c == nil {
			continue
		}
		var got []byte
		if len(want) == sha1.Size {
			sum := sha1.Sum(c.Raw) //nolint:gosec // thumbprint, not a security hash here
			got = sum[:]
		} else {
			sum := sha256.Sum256(c.Raw)
			got = sum[:]
		}
		if bytes.Equal(got, want) {
			return c, true
		}
	}
	return nil, false
}

// decodeThumbprint decodes a SHA-1 or SHA-256 thumbprint written as hex or as
// standard or URL base64, padded or not; it returns nil otherwise.
func decodeThumbprint(s string) []byte {
	if len(s) == 2*sha1.Size || len(s) == 2*sha256.Size {
		if b, err := hex.DecodeString(s); err == nil {
			return b
		}
	}
	t := strings.TrimRight(s, "=")
	if len(s)-len(t) > 2 {
		return nil
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(t, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.Strict().DecodeString(t)
	if err != nil || strings.ContainsAny(t, "\r\n") || (len(b) != sha1.Size && len(b) != sha256.Size) {
		return nil
	}
	if len(s) != len(t) && base64.StdEncoding.EncodedLen(len(b)) != len(s) {
		return nil // wrong amount of padding
	}
	return b
}

// parseCertChain decodes an x5c array: standard base64 DER certificates, as
// go-jose parses them.
func parseCertChain(chain []string) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, len(chain))
	for i, s := range chain {
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: x5c[%d] is not standard base64", ErrMalformed, i)
		}
		if out[i], err = x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("%w: x5c[%d] is not a certificate", ErrMalformed, i)
		}
	}
	return out, nil
}

// ExternalTokenRules are the checks [VerifyExternalToken] applies.
type ExternalTokenRules struct {
	// Algorithms lists accepted alg headers; empty means RS256 only.
	Algorithms []jose.SignatureAlgorithm
	// Now is the current time; zero means time.Now().
	Now time.Time
	// Skew is the leeway applied to nbf, iat and exp; zero means
	// [DefaultClockSkew], negative means none.
	Skew time.Duration
	// MaxLifetime bounds exp minus nbf (or iat when nbf is absent), and exp
	// minus now, as for client assertions ([AssertionRules.MaxLifetime]);
	// zero means no bound.
	MaxLifetime time.Duration
}

// ExternalClaims are the claims of an external identity provider's token used
// as a federated client assertion (workload identity federation).
type ExternalClaims struct {
	// RegisteredClaims: iss and sub compare with the credential's issuer
	// and subject (exactly, case-sensitively), and one aud must be among
	// the credential's audiences.
	RegisteredClaims
	// Claims holds every claim of the payload, for flexible federated
	// credential expressions; numbers are json.Number.
	Claims map[string]any
}

// VerifyExternalToken verifies an external IdP's token presented as a
// federated client assertion: the compact JWS rules of [Validator], the
// signature with the key its kid names in keys (typically a [RemoteKeySet] on
// the issuer's jwks_uri, found through its discovery document), and the
// lifetime (exp required, nbf and iat not in the future beyond the skew;
// errors wrap [ErrAssertionTime], AADSTS700024).
//
// Matching iss, sub and aud against the application's
// federatedIdentityCredentials (AADSTS700211/700212/700213 on mismatch) is
// the caller's job; so is choosing keys for the right issuer — look the
// issuer up from the unverified iss, then call this function with that
// issuer's key set and compare iss again.
func VerifyExternalToken(ctx context.Context, raw string, keys KeySource, rules ExternalTokenRules) (*ExternalClaims, error) {
	if keys == nil {
		return nil, errors.New("token: VerifyExternalToken needs a key source")
	}
	algs, err := newAlgSet(rules.Algorithms, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	payload, err := verifyCompact(ctx, raw, keys, algs)
	if err != nil {
		return nil, err
	}
	c, err := decodeAssertionClaims(payload)
	if err != nil {
		return nil, err
	}
	ext := &ExternalClaims{RegisteredClaims: c.registered()}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&ext.Claims); err != nil {
		return nil, fmt.Errorf("%w: claims are not a JSON object", ErrMalformed)
	}
	now := rules.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := checkAssertionTimes(ext.RegisteredClaims, now, rules.Skew, rules.MaxLifetime); err != nil {
		return nil, err
	}
	return ext, nil
}

// assertionClaims are the RFC 7519 §4.1 claims, decoded with go-jose's JSON
// package: member names are case-sensitive and duplicates are rejected.
type assertionClaims struct {
	Issuer    string            `json:"iss"`
	Subject   string            `json:"sub"`
	Audience  assertionAudience `json:"aud"`
	JTI       string            `json:"jti"`
	NotBefore assertionDate     `json:"nbf"`
	Expiry    assertionDate     `json:"exp"`
	IssuedAt  assertionDate     `json:"iat"`
}

// registered maps the decoded claims to RegisteredClaims: the one mapping
// behind client assertions and external tokens.
func (c *assertionClaims) registered() RegisteredClaims {
	return RegisteredClaims{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		Audience:  c.Audience,
		JTI:       c.JTI,
		NotBefore: c.NotBefore.time(),
		Expiry:    c.Expiry.time(),
		IssuedAt:  c.IssuedAt.time(),
	}
}

func decodeAssertionClaims(payload []byte) (*assertionClaims, error) {
	var c assertionClaims
	t := bytes.TrimLeft(payload, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%w: claims are not a JSON object", ErrMalformed)
	}
	if err := josejson.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: claims do not decode", ErrMalformed)
	}
	return &c, nil
}

// assertionAudience is the aud claim: a string or an array of strings.
type assertionAudience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *assertionAudience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := josejson.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = assertionAudience{s}
		return nil
	}
	var list []string
	if err := josejson.Unmarshal(b, &list); err != nil {
		return err
	}
	*a = list
	return nil
}

// assertionDate is a JSON NumericDate (seconds since the epoch, possibly
// fractional); zero means absent.
type assertionDate struct{ sec, nsec int64 }

// UnmarshalJSON accepts a finite JSON number within the range of time.Time
// seconds.
func (d *assertionDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := josejson.Unmarshal(b, &f); err != nil {
		return err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return errors.New("NumericDate out of range")
	}
	sec, frac := math.Modf(f)
	d.sec, d.nsec = int64(sec), int64(frac*1e9)
	return nil
}

func (d assertionDate) time() time.Time {
	if d.sec == 0 && d.nsec == 0 {
		return time.Time{}
	}
	return time.Unix(d.sec, d.nsec)
}

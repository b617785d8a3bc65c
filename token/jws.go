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
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
)

// Strict compact JWS (RFC 7515 §7.1): parsing, header rules and signature
// verification shared by the validator and the client-assertion checks.

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

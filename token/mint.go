package token

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrInvalidClaims reports a claim set that cannot be encoded or decoded as a
// JWT payload: not a JSON object, an Extra claim colliding with a standard
// claim, a duplicate or ill-typed claim.
var ErrInvalidClaims = errors.New("token: invalid claims")

// ErrSign reports a failure of the underlying crypto.Signer.
var ErrSign = errors.New("token: signing failed")

// SignOptions tunes [Keyring.Sign].
type SignOptions struct {
	// X5T adds the "x5t" header (equal to "kid"), as Entra's v1 access tokens
	// carry; v2 tokens and ID tokens have only "kid".
	X5T bool
}

// jwsHeaders precomputes the base64url JOSE headers of k, in Entra's member
// order: {"typ":"JWT","alg":…,"kid":…} and {"typ":"JWT","alg":…,"x5t":…,"kid":…},
// and the raw signature length.
func jwsHeaders(k *Key) (headers [2]string, sigLen int) {
	for i, x5t := range []bool{false, true} {
		h := make([]byte, 0, 128)
		h = append(h, `{"typ":"JWT","alg":`...)
		h = appendJSONString(h, string(k.Algorithm))
		if x5t {
			h = append(h, `,"x5t":`...)
			h = appendJSONString(h, k.ID)
		}
		h = append(h, `,"kid":`...)
		h = appendJSONString(h, k.ID)
		h = append(h, '}')
		headers[i] = base64.RawURLEncoding.EncodeToString(h)
	}
	switch p := k.Signer.Public().(type) {
	case *rsa.PublicKey:
		sigLen = p.Size()
	default: // ES256 (r||s) and Ed25519 signatures are 64 bytes.
		sigLen = 64
	}
	return headers, sigLen
}

// jsonAppender is implemented by the claim sets of this package: a marshaller
// without the reflection and re-validation costs of encoding/json.
type jsonAppender interface {
	appendJSON(dst []byte) ([]byte, error)
}

var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// Sign issues a compact JWS (a JWT) over claims with the active key for alg.
//
// claims is encoded once: [AccessClaims] and [IDClaims] (or pointers to them)
// with their own encoder, json.RawMessage and []byte as given (they must hold
// a JSON object), anything else with encoding/json; the result must be a JSON
// object or Sign fails with [ErrInvalidClaims]. The header is
// {"typ":"JWT","alg":alg,"kid":kid}, with "x5t" (= kid) before "kid" when
// opts.X5T is set. RS256 is RSASSA-PKCS1-v1_5 with SHA-256; ES256 is ECDSA
// P-256 with SHA-256 and a 64-byte r||s signature (RFC 7518 §3.4); EdDSA is
// Ed25519 (RFC 8037).
//
// Sign is safe for concurrent use. It builds the token in one buffer around
// precomputed headers, so its cost is the signature's plus a few
// microseconds.
func (r *Keyring) Sign(alg jose.SignatureAlgorithm, claims any, opts SignOptions) (string, error) {
	rk, ok := r.signing[alg]
	if !ok {
		return "", fmt.Errorf("%w for %q", ErrNoSigningKey, alg)
	}
	scratch := payloadPool.Get().(*[]byte)
	defer func() {
		if cap(*scratch) <= 64<<10 {
			payloadPool.Put(scratch)
		}
	}()
	payload, err := marshalClaims((*scratch)[:0], claims)
	*scratch = payload[:0]
	if err != nil {
		return "", err
	}
	return rk.sign(payload, opts)
}

func marshalClaims(dst []byte, claims any) ([]byte, error) {
	var payload []byte
	switch c := claims.(type) {
	case jsonAppender:
		return c.appendJSON(dst)
	case AccessClaims:
		return c.appendJSON(dst)
	case IDClaims:
		return c.appendJSON(dst)
	case json.RawMessage:
		payload = c
	case []byte:
		payload = c
	default:
		b, err := json.Marshal(claims)
		if err != nil {
			return dst, fmt.Errorf("%w: %w", ErrInvalidClaims, err)
		}
		payload = b
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return dst, fmt.Errorf("%w: payload is not a JSON object", ErrInvalidClaims)
	}
	return append(dst, trimmed...), nil
}

// sign builds header.payload.signature in one allocation.
func (rk *ringKey) sign(payload []byte, opts SignOptions) (string, error) {
	hdr := rk.headers[0]
	if opts.X5T {
		hdr = rk.headers[1]
	}
	enc := base64.RawURLEncoding
	n := len(hdr) + 1 + enc.EncodedLen(len(payload)) + 1 + enc.EncodedLen(rk.sigLen)
	buf := make([]byte, 0, n)
	buf = append(buf, hdr...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)

	var sig []byte
	var err error
	switch rk.key.Algorithm {
	case jose.EdDSA:
		sig, err = rk.key.Signer.Sign(rand.Reader, buf, crypto.Hash(0))
	case jose.ES256:
		digest := sha256.Sum256(buf)
		var der []byte
		der, err = rk.key.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err == nil {
			var raw [64]byte
			if !ecdsaDERToRaw(der, raw[:]) {
				return "", fmt.Errorf("%w: malformed ECDSA signature from signer", ErrSign)
			}
			sig = raw[:]
		}
	default: // RS256
		digest := sha256.Sum256(buf)
		sig, err = rk.key.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSign, err)
	}
	if len(sig) != rk.sigLen {
		return "", fmt.Errorf("%w: signature of %d bytes, want %d", ErrSign, len(sig), rk.sigLen)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// ecdsaDERToRaw converts an ASN.1 DER ECDSA-Sig-Value (SEQUENCE of two
// INTEGERs) into the fixed-size r||s form of RFC 7518 §3.4, len(out)/2 bytes
// each. It reports false on malformed input or out-of-range values.
func ecdsaDERToRaw(der, out []byte) bool {
	size := len(out) / 2
	clear(out)
	if len(der) < 2 || der[0] != 0x30 {
		return false
	}
	body, ok := derContent(der[1:])
	if !ok || len(body) != len(der)-1-derLenLen(der[1]) {
		return false
	}
	for i := range 2 {
		if len(body) < 2 || body[0] != 0x02 {
			return false
		}
		v, ok := derContent(body[1:])
		if !ok || len(v) == 0 || v[0]&0x80 != 0 {
			return false // empty or negative
		}
		body = body[1+derLenLen(body[1])+len(v):]
		if len(v) > 1 && v[0] == 0 && v[1]&0x80 == 0 {
			return false // non-minimal encoding
		}
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > size {
			return false
		}
		copy(out[(i+1)*size-len(v):(i+1)*size], v)
	}
	return len(body) == 0
}

// derContent returns the content of a DER element given the bytes from its
// length octets on; only the short form and the one-byte long form occur in
// ECDSA signatures of curves up to P-521.
func derContent(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n, off := int(b[0]), 1
	switch {
	case n < 0x80:
	case n == 0x81:
		if len(b) < 2 || b[1] < 0x80 {
			return nil, false
		}
		n, off = int(b[1]), 2
	default:
		return nil, false
	}
	if len(b)-off < n {
		return nil, false
	}
	return b[off : off+n], true
}

// derLenLen returns the number of length octets introduced by first.
func derLenLen(first byte) int {
	if first == 0x81 {
		return 2
	}
	return 1
}

package token

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
)

// PKCE challenge methods (RFC 7636 §4.2). Entra accepts both and defaults to
// [PKCEPlain] when the authorize request carries a code_challenge without a
// code_challenge_method.
const (
	PKCES256  = "S256"
	PKCEPlain = "plain"
)

// ErrPKCE reports a PKCE failure: an unsupported challenge method, a
// malformed challenge or verifier, or a verifier that does not match the
// challenge. Entra answers a mismatch at the token endpoint with invalid_grant
// and AADSTS50148 (AADSTS501481 in current documentation).
var ErrPKCE = errors.New("token: PKCE verification failed")

// The length bounds of a code_verifier and of a plain code_challenge (RFC 7636 §4.1).
const (
	pkceMinLen = 43
	pkceMaxLen = 128
)

// s256ChallengeLen is the length of base64url(SHA-256(verifier)) without padding.
var s256ChallengeLen = base64.RawURLEncoding.EncodedLen(sha256.Size)

// S256Challenge returns the S256 code_challenge for verifier:
// BASE64URL-ENCODE(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// CheckPKCEChallenge validates a code_challenge and code_challenge_method as
// received by an authorize endpoint, before anything is stored. An empty method
// means [PKCEPlain] (RFC 7636 §4.3). An S256 challenge must be 43 characters of
// unpadded base64url; a plain challenge must itself be a well-formed verifier.
// Errors wrap [ErrPKCE].
func CheckPKCEChallenge(method, challenge string) error {
	switch method {
	case PKCES256:
		if len(challenge) != s256ChallengeLen || !pkceCharset(challenge) {
			return fmt.Errorf("%w: S256 code_challenge must be %d base64url characters", ErrPKCE, s256ChallengeLen)
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(challenge); err != nil {
			return fmt.Errorf("%w: S256 code_challenge is not base64url", ErrPKCE)
		}
		return nil
	case PKCEPlain, "":
		if err := checkVerifier(challenge); err != nil {
			return fmt.Errorf("%w: plain code_challenge: %s", ErrPKCE, err)
		}
		return nil
	default:
		return fmt.Errorf("%w: unsupported code_challenge_method", ErrPKCE)
	}
}

// VerifyPKCE checks a code_verifier presented at the token endpoint against
// the code_challenge and code_challenge_method recorded at the authorize
// endpoint (RFC 7636 §4.6). An empty method means [PKCEPlain]. The verifier must
// be 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~";
// the comparison runs in constant time. Errors wrap [ErrPKCE] and never contain
// the verifier or the challenge.
func VerifyPKCE(method, challenge, verifier string) error {
	if err := checkVerifier(verifier); err != nil {
		return fmt.Errorf("%w: code_verifier: %s", ErrPKCE, err)
	}
	var want string
	switch method {
	case PKCES256:
		want = S256Challenge(verifier)
	case PKCEPlain, "":
		want = verifier
	default:
		return fmt.Errorf("%w: unsupported code_challenge_method", ErrPKCE)
	}
	if challenge == "" || subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return fmt.Errorf("%w: code_verifier does not match code_challenge", ErrPKCE)
	}
	return nil
}

// checkVerifier enforces the RFC 7636 §4.1 syntax of a code_verifier.
func checkVerifier(v string) error {
	if len(v) < pkceMinLen || len(v) > pkceMaxLen {
		return fmt.Errorf("length %d outside %d–%d", len(v), pkceMinLen, pkceMaxLen)
	}
	if !pkceCharset(v) {
		return errors.New("character outside the unreserved set")
	}
	return nil
}

// pkceCharset reports whether s consists only of RFC 3986 unreserved characters.
func pkceCharset(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

package token

import jose "github.com/go-jose/go-jose/v4"

// Algorithm is a JWS signature algorithm ("alg", RFC 7518 §3.1). It is the
// same type as go-jose's SignatureAlgorithm, so a program chooses one with
// the constants below without importing go-jose.
type Algorithm = jose.SignatureAlgorithm

// The signature algorithms of signing keys ([GenerateKey], [RotationPolicy])
// and of the tokens they sign.
const (
	// RS256 is RSASSA-PKCS1-v1_5 with SHA-256 over an RSA-2048 key, the
	// algorithm Entra signs its tokens with.
	RS256 Algorithm = jose.RS256
	// ES256 is ECDSA with P-256 and SHA-256: much cheaper keys and
	// signatures than RS256.
	ES256 Algorithm = jose.ES256
	// EdDSA is Ed25519 (RFC 8037).
	EdDSA Algorithm = jose.EdDSA
)

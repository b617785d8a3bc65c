package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"

	jose "github.com/go-jose/go-jose/v4"
)

// CloudInstanceName is the cloud_instance_name Entra puts on its JWKS keys
// and in its discovery documents.
const CloudInstanceName = "microsoftonline.com"

// JWKS returns the JSON Web Key Set document {"keys":[…]} publishing the
// next, active and unexpired retired keys, the way Entra's discovery keys
// endpoints do. An RSA key has exactly the members of Entra's: kty, use
// "sig", kid, x5t (equal to kid), n, e and x5c (one standard-base64 DER
// certificate), then, when issuer is not empty, cloud_instance_name and
// issuer — as on Entra's v2 keys (/discovery/v2.0/keys, issuer for example
// "https://login.microsoftonline.com/{tenantid}/v2.0"); a v1 key set
// (/discovery/keys) passes "" and has neither. EC and OKP keys, which Entra
// does not use, carry crv/x/y or crv/x instead of n and e, and alg after
// x5c. The per-key JSON is encoded once, by [NewKeyring].
func (r *Keyring) JWKS(issuer string) ([]byte, error) {
	var issuerJSON []byte
	if issuer != "" {
		issuerJSON = append(make([]byte, 0, len(issuer)+64), `,"cloud_instance_name":"`+CloudInstanceName+`","issuer":`...)
		issuerJSON = appendJSONString(issuerJSON, issuer)
	}
	n := len(`{"keys":[]}`)
	for _, rk := range r.keys {
		n += len(rk.jwk) + len(issuerJSON) + 2
	}
	out := make([]byte, 0, n)
	out = append(out, `{"keys":[`...)
	for i, rk := range r.keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, rk.jwk...)
		out = append(out, issuerJSON...)
		out = append(out, '}')
	}
	return append(out, "]}"...), nil
}

// encodeJWK encodes the public JWK of k, in Entra's member order, without
// cloud_instance_name, issuer and the closing brace.
func encodeJWK(k *Key) ([]byte, error) {
	enc := base64.RawURLEncoding
	b := make([]byte, 0, 2048)
	param := func(name string, v []byte) {
		b = append(b, `,"`...)
		b = append(b, name...)
		b = append(b, `":"`...)
		b = enc.AppendEncode(b, v)
		b = append(b, '"')
	}
	kty := ""
	switch k.Algorithm {
	case jose.RS256:
		kty = "RSA"
	case jose.ES256:
		kty = "EC"
	case jose.EdDSA:
		kty = "OKP"
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, k.Algorithm)
	}
	b = append(b, `{"kty":"`...)
	b = append(b, kty...)
	b = append(b, `","use":"sig","kid":`...)
	b = appendJSONString(b, k.ID)
	b = append(b, `,"x5t":`...)
	b = appendJSONString(b, k.ID)
	switch pub := k.Signer.Public().(type) {
	case *rsa.PublicKey:
		param("n", pub.N.Bytes())
		param("e", big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		point, err := pub.Bytes() // 0x04 || X || Y
		if err != nil || len(point) != 65 {
			return nil, fmt.Errorf("%w: key %q: invalid P-256 public key", ErrInvalidKey, k.ID)
		}
		b = append(b, `,"crv":"P-256"`...)
		param("x", point[1:33])
		param("y", point[33:])
	case ed25519.PublicKey:
		b = append(b, `,"crv":"Ed25519"`...)
		param("x", pub)
	default:
		return nil, fmt.Errorf("%w: key %q: unsupported public key %T", ErrInvalidKey, k.ID, pub)
	}
	b = append(b, `,"x5c":["`...)
	b = base64.StdEncoding.AppendEncode(b, k.Certificate.Raw)
	b = append(b, `"]`...)
	if kty != "RSA" { // Entra's RSA keys carry no alg
		b = append(b, `,"alg":`...)
		b = appendJSONString(b, string(k.Algorithm))
	}
	return b, nil
}

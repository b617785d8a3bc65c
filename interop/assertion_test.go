package interop_test

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
)

// signAssertion is a client assertion as MSAL builds one: PS256, the
// certificate's SHA-256 thumbprint in x5t#S256 (standard padded base64),
// iss = sub = client id, aud = the token endpoint, a new jti, ten minutes.
func signAssertion(cert *x509.Certificate, key crypto.Signer, clientID, audience string) (string, error) {
	sum := sha256.Sum256(cert.Raw)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t#S256", base64.StdEncoding.EncodeToString(sum[:])))
	if err != nil {
		return "", err
	}
	now := time.Now()
	return jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: jwt.Audience{audience}, ID: uuid.NewString(),
		NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(10 * time.Minute)),
	}).Serialize()
}

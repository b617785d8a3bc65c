package tenantrytest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

// assertion builds an MSAL-style certificate assertion (PS256, x5t#S256).
func assertion(t *testing.T, key crypto.Signer, cert *x509.Certificate, clientID, aud string, now time.Time) string {
	t.Helper()
	thumb := sha256.Sum256(cert.Raw)
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("x5t#S256", base64.StdEncoding.EncodeToString(thumb[:]))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{
		"aud": aud, "iss": clientID, "sub": clientID, "jti": uuid.NewString(),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// AddCertificate registers a certificate whose key signs client
// assertions the token endpoint accepts; another app's certificate is
// refused (AADSTS700027), and two certificates never share a key.
func TestAddCertificate(t *testing.T) {
	s := newSeeded(t)
	cert, key := s.srv.AddCertificate(s.daemon)
	other := s.srv.CreateApp(s.contoso, "Other")
	otherCert, otherKey := s.srv.AddCertificate(other)
	if cert.PublicKey.(*rsa.PublicKey).Equal(otherCert.PublicKey) {
		t.Fatal("two certificates of one Server share a key")
	}
	endpoint := s.srv.Authority(s.contoso.ID) + "/oauth2/v2.0/token"
	form := func(k crypto.Signer, c *x509.Certificate) url.Values {
		return url.Values{
			"grant_type": {"client_credentials"}, "client_id": {s.daemon.AppID}, "scope": {s.api.Default()},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion(t, k, c, s.daemon.AppID, endpoint, s.srv.Now())},
		}
	}
	if status, body := post(t, s.srv.Client(), endpoint, form(key, cert)); status != http.StatusOK {
		t.Fatalf("certificate assertion: %d %v", status, body)
	}
	if status, _ := post(t, s.srv.Client(), endpoint, form(otherKey, otherCert)); status != http.StatusUnauthorized || s.srv.LastError().Code != 700027 {
		t.Fatalf("another app's certificate: %d %+v", status, s.srv.LastError())
	}
}

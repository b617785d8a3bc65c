package tenantrytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/tenantry/tenantry/token"
)

// Entra's hosts, which the test certificate covers and an AsEntra
// server's client routes to the test server.
var entraHosts = []string{"login.microsoftonline.com", "sts.windows.net", "login.windows.net", "login.microsoft.com"}

// Entra's public cloud authorities, as an AsEntra server's Directory
// announces them.
const (
	entraV2Base = "https://login.microsoftonline.com"
	entraV1Base = "https://sts.windows.net"
)

// pki is the process's test certificate authority and the server
// certificate it issued: generated once, shared by every Server.
type pki struct {
	ca    *x509.Certificate
	pool  *x509.CertPool
	leaf  tls.Certificate
	ready error
}

// processPKI generates the test CA and its leaf (ECDSA P-256: well under a
// millisecond) the first time a Server starts.
var processPKI = sync.OnceValue(func() *pki {
	p, err := newPKI(time.Now())
	if err != nil {
		return &pki{ready: err}
	}
	return p
})

func newPKI(now time.Time) (*pki, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tenantrytest: CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tenantrytest CA", Organization: []string{"tenantrytest"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tenantrytest: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tenantrytest: server key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "tenantrytest server"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     append([]string{"localhost"}, entraHosts...),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("tenantrytest: server certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &pki{
		ca: ca, pool: pool,
		leaf: tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey},
	}, nil
}

// signingKey is the process's token signing key (RSA-2048, as Entra's):
// generating one costs tens of milliseconds, so every Server starts with
// this one (token.TokenConfig.InitialKey); keys made by rotation are new.
var signingKey = sync.OnceValues(func() (*token.Key, error) {
	return token.GenerateKey(token.RS256, time.Now(), nil)
})

// initialKey returns the shared signing key when its certificate is valid
// at start, else a key generated for start.
func initialKey(start time.Time) (*token.Key, error) {
	k, err := signingKey()
	if err != nil {
		return nil, err
	}
	if c := k.Certificate; c != nil && !start.Before(c.NotBefore) && start.Before(c.NotAfter) {
		return k, nil
	}
	return token.GenerateKey(token.RS256, start, nil)
}

// certKeys are the private keys of client certificates: the n-th
// certificate a Server makes uses the n-th key, so that the certificates
// of one Server never share a key while a process generates only as many
// RSA keys as its busiest Server needs.
var certKeys struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
}

func certKey(n int) (*rsa.PrivateKey, error) {
	certKeys.mu.Lock()
	defer certKeys.mu.Unlock()
	for len(certKeys.keys) <= n {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("tenantrytest: certificate key: %w", err)
		}
		certKeys.keys = append(certKeys.keys, k)
	}
	return certKeys.keys[n], nil
}

// newClientCertificate returns a self-signed certificate for key, as a
// developer makes one for an app registration.
func newClientCertificate(key crypto.Signer, name string, now time.Time) (*x509.Certificate, error) {
	var serial [16]byte
	if _, err := rand.Read(serial[:]); err != nil {
		return nil, err
	}
	serial[0] &= 0x7f
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial[:]),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("tenantrytest: client certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

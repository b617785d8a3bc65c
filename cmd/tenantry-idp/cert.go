package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// certValidity is how long the generated certificates are valid. They are
// made anew at every start.
const certValidity = 30 * 24 * time.Hour

// newCertificate makes a small certificate authority and a server
// certificate it signs for hosts (DNS names or IP addresses) plus
// localhost, 127.0.0.1 and ::1. It returns the server's TLS certificate
// (leaf and authority) and the authority's certificate in PEM: the one
// file clients trust. Both private keys stay in memory.
func newCertificate(hosts []string, now time.Time) (tls.Certificate, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "tenantry-idp development CA", Organization: []string{"tenantry"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "tenantry-idp", Organization: []string{"tenantry"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range append(slices.Clone(hosts), "localhost", "127.0.0.1", "::1") {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
				leaf.IPAddresses = append(leaf.IPAddresses, ip)
			}
		} else if h != "" && !slices.Contains(leaf.DNSNames, h) {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}, caPEM, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

// writeCertFile writes the authority's certificate to path, through a
// temporary file renamed into place, and returns the absolute path.
func writeCertFile(path string, caPEM []byte) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tenantry-idp: certificate: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tenantry-idp-*.pem")
	if err != nil {
		return "", fmt.Errorf("tenantry-idp: certificate: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(caPEM); err != nil {
		f.Close()
		return "", fmt.Errorf("tenantry-idp: certificate: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return "", fmt.Errorf("tenantry-idp: certificate: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("tenantry-idp: certificate: %w", err)
	}
	if err := os.Rename(f.Name(), abs); err != nil {
		return "", fmt.Errorf("tenantry-idp: certificate: %w", err)
	}
	return abs, nil
}

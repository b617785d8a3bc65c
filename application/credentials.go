package application

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"
)

// PasswordCredential is a client secret. The secret itself is returned once,
// in SecretText, by the operation that creates it, and never stored: the
// application keeps a salted SHA-256 digest (SecretHash) and the first three
// characters (Hint).
type PasswordCredential struct {
	// KeyID is the credential's id: a GUID unique among the app's password
	// and key credentials.
	KeyID string `json:"keyId"`
	// DisplayName is the secret's friendly name: at most 256 characters.
	DisplayName string `json:"displayName,omitempty"`
	// Hint is the first characters of the secret (at most 3), shown to
	// identify it.
	Hint string `json:"hint,omitempty"`
	// StartDateTime is when the secret becomes valid.
	StartDateTime time.Time `json:"startDateTime"`
	// EndDateTime is when the secret expires: after StartDateTime.
	EndDateTime time.Time `json:"endDateTime"`
	// CustomKeyIdentifier is Graph customKeyIdentifier, kept as data.
	CustomKeyIdentifier []byte `json:"customKeyIdentifier,omitempty"`
	// SecretText is the secret itself, set only in the result of the
	// operation that creates it; it is never stored (Validate refuses it).
	SecretText string `json:"secretText,omitempty"`
	// SecretHash is the stored digest of the secret; Redacted removes it.
	SecretHash *SecretHash `json:"secretHash,omitempty"`
}

// SecretHash is the stored form of a client secret: SHA-256 over a random
// per-secret salt followed by the secret. Client secrets are high-entropy by construction,
// so a slow KDF would add cost without adding security.
type SecretHash struct {
	// Salt is the random per-secret salt.
	Salt []byte `json:"salt"`
	// Digest is SHA-256 over Salt followed by the secret: 32 bytes.
	Digest []byte `json:"digest"`
}

func (p PasswordCredential) clone() PasswordCredential {
	p.CustomKeyIdentifier = slices.Clone(p.CustomKeyIdentifier)
	if p.SecretHash != nil {
		h := SecretHash{Salt: slices.Clone(p.SecretHash.Salt), Digest: slices.Clone(p.SecretHash.Digest)}
		p.SecretHash = &h
	}
	return p
}

// Redacted returns p without the secret text and hash, as Graph shows it.
func (p PasswordCredential) Redacted() PasswordCredential {
	p = p.clone()
	p.SecretText = ""
	p.SecretHash = nil
	return p
}

// ActiveAt reports whether the credential is within its validity window.
func (p PasswordCredential) ActiveAt(t time.Time) bool {
	return !t.Before(p.StartDateTime) && t.Before(p.EndDateTime)
}

// Matches reports, in constant time, whether secret is this credential's
// secret.
func (p PasswordCredential) Matches(secret string) bool {
	if p.SecretHash == nil {
		return false
	}
	return subtle.ConstantTimeCompare(digest(p.SecretHash.Salt, secret), p.SecretHash.Digest) == 1
}

// digest is SHA-256(salt || secret). Secrets are high-entropy, so a salted
// hash is as strong as a keyed one here, and it costs one compression
// function call and no allocation on the token path.
func digest(salt []byte, secret string) []byte {
	var buf [128]byte
	b := append(append(buf[:0], salt...), secret...)
	sum := sha256.Sum256(b)
	return sum[:]
}

// Secret lengths.
const (
	// GeneratedSecretLength is the length of secrets the library generates:
	// 40 characters of a 64-symbol alphabet, 240 bits of entropy.
	GeneratedSecretLength = 40
	// MinSuppliedSecretLength is the shortest caller-supplied secret accepted.
	MinSuppliedSecretLength = 16
	// MaxSuppliedSecretLength is the longest caller-supplied secret accepted.
	MaxSuppliedSecretLength = 64
)

// ErrWeakSecret is returned when a supplied secret is too short or too long.
var ErrWeakSecret = errors.New("application: client secret must have 16 to 64 characters")

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~."

// NewSecret generates a client secret of GeneratedSecretLength characters
// from a URL-safe alphabet, drawn from crypto/rand.
func NewSecret() (string, error) {
	buf := make([]byte, GeneratedSecretLength)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	for i, b := range buf {
		buf[i] = secretAlphabet[int(b)%64] // 256 is a multiple of 64: no bias
	}
	return string(buf), nil
}

// NewPasswordCredential builds a credential for secret (generated with
// NewSecret when empty) valid from start to end. The returned credential
// carries SecretText for the caller to show once; Stored() removes it.
func NewPasswordCredential(keyID, displayName, secret string, start, end time.Time) (PasswordCredential, error) {
	if secret == "" {
		s, err := NewSecret()
		if err != nil {
			return PasswordCredential{}, err
		}
		secret = s
	} else if len(secret) < MinSuppliedSecretLength || len(secret) > MaxSuppliedSecretLength {
		return PasswordCredential{}, ErrWeakSecret
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return PasswordCredential{}, err
	}
	return PasswordCredential{
		KeyID:         keyID,
		DisplayName:   displayName,
		Hint:          secret[:3],
		StartDateTime: start.UTC(),
		EndDateTime:   end.UTC(),
		SecretText:    secret,
		SecretHash:    &SecretHash{Salt: salt, Digest: digest(salt, secret)},
	}, nil
}

// Stored returns p as it is kept: without SecretText.
func (p PasswordCredential) Stored() PasswordCredential {
	p = p.clone()
	p.SecretText = ""
	return p
}

// Key credential types and usages.
const (
	KeyTypeX509      = "AsymmetricX509Cert"
	KeyTypeSymmetric = "Symmetric"
	KeyUsageVerify   = "Verify"
	KeyUsageSign     = "Sign"
)

// KeyCredential is a certificate (or key) registered on the application.
// Key holds the DER certificate; CustomKeyIdentifier defaults to its SHA-1
// thumbprint.
type KeyCredential struct {
	// KeyID is the credential's id: a GUID unique among the app's password
	// and key credentials.
	KeyID string `json:"keyId"`
	// DisplayName is the credential's friendly name: at most 256 characters.
	DisplayName string `json:"displayName,omitempty"`
	// Type is AsymmetricX509Cert, X509CertAndPassword or Symmetric.
	Type string `json:"type"`
	// Usage is Verify (client authentication), Sign or Encrypt.
	Usage string `json:"usage"`
	// Key is the key material: for AsymmetricX509Cert a DER X.509
	// certificate; required.
	Key []byte `json:"key,omitempty"`
	// CustomKeyIdentifier identifies the key, by default the SHA-1
	// thumbprint of the certificate.
	CustomKeyIdentifier []byte `json:"customKeyIdentifier,omitempty"`
	// StartDateTime is when the credential becomes valid: for a certificate,
	// not before its notBefore.
	StartDateTime time.Time `json:"startDateTime"`
	// EndDateTime is when the credential expires: after StartDateTime and,
	// for a certificate, not after its notAfter.
	EndDateTime time.Time `json:"endDateTime"`
}

func (k KeyCredential) clone() KeyCredential {
	k.Key = slices.Clone(k.Key)
	k.CustomKeyIdentifier = slices.Clone(k.CustomKeyIdentifier)
	return k
}

// ActiveAt reports whether the credential is within its validity window.
func (k KeyCredential) ActiveAt(t time.Time) bool {
	return !t.Before(k.StartDateTime) && t.Before(k.EndDateTime)
}

// Certificate parses the DER certificate in Key.
func (k KeyCredential) Certificate() (*x509.Certificate, error) {
	return x509.ParseCertificate(k.Key)
}

// Thumbprint returns the base64url SHA-1 thumbprint (x5t) of the
// certificate.
func (k KeyCredential) Thumbprint() string {
	s := sha1.Sum(k.Key)
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// ThumbprintS256 returns the base64url SHA-256 thumbprint (x5t#S256).
func (k KeyCredential) ThumbprintS256() string {
	s := sha256.Sum256(k.Key)
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// NewCertificateCredential registers cert for client authentication
// (usage Verify); the validity follows the certificate.
func NewCertificateCredential(keyID, displayName string, cert *x509.Certificate) KeyCredential {
	thumb := sha1.Sum(cert.Raw)
	return KeyCredential{
		KeyID:               keyID,
		DisplayName:         displayName,
		Type:                KeyTypeX509,
		Usage:               KeyUsageVerify,
		Key:                 slices.Clone(cert.Raw),
		CustomKeyIdentifier: thumb[:],
		StartDateTime:       cert.NotBefore.UTC(),
		EndDateTime:         cert.NotAfter.UTC(),
	}
}

// FederatedIdentityCredential trusts tokens of an external issuer
// (workload identity federation).
type FederatedIdentityCredential struct {
	// ID is the credential's id: a GUID unique among the app's federated
	// credentials.
	ID string `json:"id"`
	// Name is the credential's name: 3 to 120 letters, digits, - and _,
	// starting with a letter or digit, unique in the app and never changed.
	Name string `json:"name"`
	// Issuer is the external issuer (iss) the token must carry exactly:
	// required, at most 600 characters, without leading or trailing
	// whitespace.
	Issuer string `json:"issuer"`
	// Subject is the subject (sub) the token must carry exactly: required,
	// at most 600 characters; an issuer and subject pair appears once in the
	// app.
	Subject string `json:"subject"`
	// Audiences lists the one audience (aud) the token must carry, usually
	// api://AzureADTokenExchange: exactly one non-empty value of at most 600
	// characters.
	Audiences []string `json:"audiences"`
	// Description is free text of at most 600 characters.
	Description string `json:"description,omitempty"`
}

// TokenExchangeAudience is the audience Entra expects in external tokens.
const TokenExchangeAudience = "api://AzureADTokenExchange"

// Matches reports whether an external token with these claims matches the
// credential exactly (issuer, subject, one audience), as Entra requires.
func (f FederatedIdentityCredential) Matches(issuer, subject string, audiences []string) bool {
	if f.Issuer != issuer || f.Subject != subject {
		return false
	}
	for _, a := range audiences {
		for _, w := range f.Audiences {
			if a == w {
				return true
			}
		}
	}
	return false
}

func validFICName(s string) bool {
	if len(s) < 3 || len(s) > 120 {
		return false
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || (r != '-' && r != '_')) {
			return false
		}
	}
	return !strings.ContainsAny(s, " ")
}

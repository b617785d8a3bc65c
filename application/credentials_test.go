package application_test

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/application"
)

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~."

func TestNewSecret(t *testing.T) {
	const n = 2000
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range n {
		s, err := application.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != application.GeneratedSecretLength {
			t.Fatalf("len(%q) = %d, want %d", s, len(s), application.GeneratedSecretLength)
		}
		for _, r := range s {
			if !strings.ContainsRune(secretAlphabet, r) {
				t.Fatalf("secret %q has %q outside the URL-safe alphabet", s, r)
			}
			counts[r]++
		}
		if seen[s] {
			t.Fatalf("secret %q generated twice", s)
		}
		seen[s] = true
	}
	// 80,000 symbols over 64 values: about 1250 each. A biased or stuck
	// generator falls far outside [900, 1600].
	if len(counts) != 64 {
		t.Errorf("%d distinct symbols, want 64", len(counts))
	}
	for r, c := range counts {
		if c < 900 || c > 1600 {
			t.Errorf("symbol %q drawn %d times, want about 1250", r, c)
		}
	}
}

func TestNewPasswordCredentialGenerated(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	end := start.AddDate(1, 0, 0)
	p, err := application.NewPasswordCredential(secretID, "ci", "", start, end)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.SecretText) != application.GeneratedSecretLength {
		t.Errorf("generated secret has %d characters", len(p.SecretText))
	}
	if p.Hint != p.SecretText[:3] {
		t.Errorf("hint %q, secret starts %q", p.Hint, p.SecretText[:3])
	}
	if p.KeyID != secretID || p.DisplayName != "ci" {
		t.Errorf("keyId %q, displayName %q", p.KeyID, p.DisplayName)
	}
	if p.StartDateTime.Location() != time.UTC || !p.StartDateTime.Equal(start) || !p.EndDateTime.Equal(end) {
		t.Errorf("validity %v–%v, want %v–%v in UTC", p.StartDateTime, p.EndDateTime, start, end)
	}
	if p.SecretHash == nil || len(p.SecretHash.Salt) != 16 || len(p.SecretHash.Digest) != sha256.Size {
		t.Fatalf("hash = %+v", p.SecretHash)
	}
	if !p.Matches(p.SecretText) {
		t.Error("Matches(own secret) = false")
	}
	for _, wrong := range []string{"", p.SecretText[:39], p.SecretText + "x", strings.ToUpper(p.SecretText), p.Hint} {
		if wrong != p.SecretText && p.Matches(wrong) {
			t.Errorf("Matches(%q) = true", wrong)
		}
	}
}

func TestPasswordCredentialSaltsDiffer(t *testing.T) {
	const secret = "correct-horse-battery-staple-42"
	a, err := application.NewPasswordCredential(secretID, "a", secret, created, created.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := application.NewPasswordCredential(otherGUID, "b", secret, created, created.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.SecretHash.Salt, b.SecretHash.Salt) || bytes.Equal(a.SecretHash.Digest, b.SecretHash.Digest) {
		t.Error("two credentials for one secret share salt or digest")
	}
	if !a.Matches(secret) || !b.Matches(secret) {
		t.Error("a supplied secret does not match its credential")
	}
}

func TestSuppliedSecretLength(t *testing.T) {
	for _, tc := range []struct {
		n       int
		wantErr bool
	}{
		{1, true},
		{application.MinSuppliedSecretLength - 1, true},
		{application.MinSuppliedSecretLength, false},
		{application.MaxSuppliedSecretLength, false},
		{application.MaxSuppliedSecretLength + 1, true},
		{1000, true},
	} {
		secret := strings.Repeat("k", tc.n)
		p, err := application.NewPasswordCredential(secretID, "", secret, created, created.AddDate(1, 0, 0))
		if tc.wantErr {
			if !errors.Is(err, application.ErrWeakSecret) {
				t.Errorf("length %d: err = %v, want ErrWeakSecret", tc.n, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("length %d: %v", tc.n, err)
			continue
		}
		if p.SecretText != secret || !p.Matches(secret) {
			t.Errorf("length %d: credential does not carry or match the supplied secret", tc.n)
		}
	}
}

// Matches compares digests with crypto/subtle: a digest of another length,
// a flipped bit or a missing hash must all fail without panicking.
func TestMatchesConstantTimePath(t *testing.T) {
	p, err := application.NewPasswordCredential(secretID, "", "", created, created.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	secret := p.SecretText

	flipped := p.Stored()
	flipped.SecretHash.Digest[0] ^= 1
	truncated := p.Stored()
	truncated.SecretHash.Digest = truncated.SecretHash.Digest[:16]
	empty := p.Stored()
	empty.SecretHash.Digest = nil
	otherSalt := p.Stored()
	otherSalt.SecretHash.Salt[0] ^= 1
	noHash := p
	noHash.SecretHash = nil

	for name, c := range map[string]application.PasswordCredential{
		"flipped digest": flipped, "truncated digest": truncated, "empty digest": empty,
		"other salt": otherSalt, "no hash": noHash, "redacted": p.Redacted(),
	} {
		if c.Matches(secret) {
			t.Errorf("%s: Matches(secret) = true", name)
		}
	}
	if !p.Matches(secret) {
		t.Error("the original was modified through a copy")
	}
}

func TestRedactedAndStored(t *testing.T) {
	p, err := application.NewPasswordCredential(secretID, "ci", "", created, created.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	p.CustomKeyIdentifier = []byte{1, 2, 3}
	secret := p.SecretText

	r := p.Redacted()
	if r.SecretText != "" || r.SecretHash != nil {
		t.Errorf("Redacted kept the secret: %+v", r)
	}
	if r.KeyID != p.KeyID || r.Hint != p.Hint || !r.EndDateTime.Equal(p.EndDateTime) {
		t.Errorf("Redacted lost metadata: %+v", r)
	}
	r.CustomKeyIdentifier[0] = 9
	if p.CustomKeyIdentifier[0] != 1 {
		t.Error("Redacted shares customKeyIdentifier with the original")
	}

	s := p.Stored()
	if s.SecretText != "" {
		t.Error("Stored kept SecretText")
	}
	if !s.Matches(secret) {
		t.Error("Stored credential no longer matches its secret")
	}
	s.SecretHash.Salt[0] ^= 0xff
	if !p.Matches(secret) {
		t.Error("Stored shares its hash with the original")
	}
	if p.SecretText != secret {
		t.Error("Stored or Redacted modified the original")
	}
}

func TestCredentialActiveAt(t *testing.T) {
	start := created
	end := created.AddDate(0, 1, 0)
	p := application.PasswordCredential{StartDateTime: start, EndDateTime: end}
	k := application.KeyCredential{StartDateTime: start, EndDateTime: end}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{start.Add(-time.Nanosecond), false},
		{start, true},
		{end.Add(-time.Nanosecond), true},
		{end, false},
	} {
		if got := p.ActiveAt(tc.at); got != tc.want {
			t.Errorf("password ActiveAt(%v) = %v", tc.at, got)
		}
		if got := k.ActiveAt(tc.at); got != tc.want {
			t.Errorf("key ActiveAt(%v) = %v", tc.at, got)
		}
	}
}

func TestNewCertificateCredential(t *testing.T) {
	notBefore := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	cert := newCert(t, notBefore, notBefore.AddDate(1, 0, 0))
	k := application.NewCertificateCredential(certID, "deploy", cert)

	if k.Type != application.KeyTypeX509 || k.Usage != application.KeyUsageVerify || k.KeyID != certID || k.DisplayName != "deploy" {
		t.Errorf("credential = %+v", k)
	}
	if !bytes.Equal(k.Key, cert.Raw) {
		t.Error("Key is not the DER certificate")
	}
	if &k.Key[0] == &cert.Raw[0] {
		t.Error("Key aliases cert.Raw")
	}
	sha1Sum := sha1.Sum(cert.Raw)
	if !bytes.Equal(k.CustomKeyIdentifier, sha1Sum[:]) {
		t.Errorf("customKeyIdentifier = %x, want SHA-1 %x", k.CustomKeyIdentifier, sha1Sum)
	}
	if got, want := k.Thumbprint(), base64.RawURLEncoding.EncodeToString(sha1Sum[:]); got != want {
		t.Errorf("Thumbprint() = %s, want %s", got, want)
	}
	sha256Sum := sha256.Sum256(cert.Raw)
	if got, want := k.ThumbprintS256(), base64.RawURLEncoding.EncodeToString(sha256Sum[:]); got != want {
		t.Errorf("ThumbprintS256() = %s, want %s", got, want)
	}
	if len(k.Thumbprint()) != 27 || len(k.ThumbprintS256()) != 43 {
		t.Errorf("x5t %q / x5t#S256 %q have the wrong length for unpadded base64url", k.Thumbprint(), k.ThumbprintS256())
	}
	if !k.StartDateTime.Equal(cert.NotBefore) || !k.EndDateTime.Equal(cert.NotAfter) {
		t.Errorf("validity %v–%v, certificate %v–%v", k.StartDateTime, k.EndDateTime, cert.NotBefore, cert.NotAfter)
	}
	parsed, err := k.Certificate()
	if err != nil || !parsed.Equal(cert) {
		t.Errorf("Certificate() = %v, %v", parsed, err)
	}

	other := application.NewCertificateCredential(certID, "", newCert(t, notBefore, notBefore.AddDate(1, 0, 0)))
	if other.Thumbprint() == k.Thumbprint() {
		t.Error("two fresh certificates share a thumbprint")
	}

	bad := application.KeyCredential{Key: []byte("not a certificate")}
	if _, err := bad.Certificate(); err == nil {
		t.Error("Certificate() parsed garbage")
	}
}

func TestFederatedIdentityCredentialMatches(t *testing.T) {
	f := application.FederatedIdentityCredential{
		Issuer:    "https://token.actions.githubusercontent.com",
		Subject:   "repo:contoso/orders:ref:refs/heads/main",
		Audiences: []string{application.TokenExchangeAudience},
	}
	for _, tc := range []struct {
		issuer, subject string
		aud             []string
		want            bool
	}{
		{f.Issuer, f.Subject, []string{application.TokenExchangeAudience}, true},
		{f.Issuer, f.Subject, []string{"other", application.TokenExchangeAudience}, true},
		{f.Issuer + "/", f.Subject, []string{application.TokenExchangeAudience}, false},
		{f.Issuer, "repo:contoso/orders:ref:refs/heads/*", []string{application.TokenExchangeAudience}, false},
		{f.Issuer, strings.ToUpper(f.Subject), []string{application.TokenExchangeAudience}, false},
		{f.Issuer, f.Subject, []string{"api://azureadtokenexchange"}, false},
		{f.Issuer, f.Subject, nil, false},
	} {
		if got := f.Matches(tc.issuer, tc.subject, tc.aud); got != tc.want {
			t.Errorf("Matches(%q, %q, %q) = %v", tc.issuer, tc.subject, tc.aud, got)
		}
	}
}

func TestCloneCredentialsIndependent(t *testing.T) {
	a := baseline(t)
	c := a.Clone()
	c.PasswordCredentials[0].SecretHash.Digest[0] ^= 0xff
	c.KeyCredentials[0].Key[0] ^= 0xff
	c.FederatedIdentityCredentials[0].Audiences[0] = "changed"
	if a.PasswordCredentials[0].SecretHash.Digest[0] == c.PasswordCredentials[0].SecretHash.Digest[0] ||
		a.KeyCredentials[0].Key[0] == c.KeyCredentials[0].Key[0] ||
		a.FederatedIdentityCredentials[0].Audiences[0] == "changed" {
		t.Error("Clone shares credential data with the original")
	}
}

package token

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Errors of [SealKey] and [OpenKey].
var (
	// ErrInvalidKEK reports a key-encryption key that is not 32 bytes long.
	ErrInvalidKEK = errors.New("token: key-encryption key must be 32 bytes")
	// ErrKeyDecryption reports a sealed key that does not authenticate under
	// the key-encryption key: a wrong KEK, or tampered data. A caller must
	// treat it as fatal and never replace the key set with a new one, which
	// would invalidate every token in circulation.
	ErrKeyDecryption = errors.New("token: cannot decrypt sealed key (wrong key-encryption key or corrupted data)")
	// ErrSealedFormat reports data that is not a sealed key of a known
	// format version.
	ErrSealedFormat = errors.New("token: malformed sealed key")
)

// KEKSize is the size of a key-encryption key: AES-256.
const KEKSize = 32

// sealVersion1 is the format of SealKey's output:
//
//	version (1 byte, 1) | len(kid) (1 byte) | kid | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// The header (version, length, kid) is the GCM additional data, so neither
// the kid nor the version can be changed without failing authentication. The
// plaintext is the JSON of sealedKey.
const sealVersion1 = 1

// sealedKey is the plaintext of a sealed key.
type sealedKey struct {
	Algorithm   string    `json:"alg"`
	State       string    `json:"state"`
	PrivateKey  []byte    `json:"pkcs8"` // PKCS #8 DER
	Certificate []byte    `json:"cert"`  // X.509 DER
	CreatedAt   time.Time `json:"created"`
	ActivatedAt time.Time `json:"activated"`
	RetiredAt   time.Time `json:"retired"`
	ExpiresAt   time.Time `json:"expires"`
}

// SealKey serialises k — PKCS #8 private key, DER certificate, algorithm,
// state and times — and encrypts it with AES-256-GCM under kek, a 32-byte
// key-encryption key, with a random nonce and the kid as additional data. The
// result is safe to store; [OpenKey] reverses it. The Signer must be an
// *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey.
func SealKey(k *Key, kek []byte) ([]byte, error) {
	aead, err := newKEK(kek)
	if err != nil {
		return nil, err
	}
	if err := validateKey(k); err != nil {
		return nil, err
	}
	if len(k.ID) > 255 {
		return nil, fmt.Errorf("%w: key id too long", ErrInvalidKey)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q is not exportable (%T)", ErrInvalidKey, k.ID, k.Signer)
	}
	defer clear(der)
	plain, err := json.Marshal(sealedKey{
		Algorithm:   string(k.Algorithm),
		State:       string(k.State),
		PrivateKey:  der,
		Certificate: k.Certificate.Raw,
		CreatedAt:   k.CreatedAt,
		ActivatedAt: k.ActivatedAt,
		RetiredAt:   k.RetiredAt,
		ExpiresAt:   k.ExpiresAt,
	})
	if err != nil {
		return nil, fmt.Errorf("token: seal key: %w", err)
	}
	defer clear(plain)
	header := make([]byte, 0, 2+len(k.ID)+aead.NonceSize()+len(plain)+aead.Overhead())
	header = append(header, sealVersion1, byte(len(k.ID)))
	header = append(header, k.ID...)
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("token: seal key: %w", err)
	}
	out := append(header, nonce...)
	return aead.Seal(out, nonce, plain, header), nil
}

// OpenKey decrypts a key sealed by [SealKey] under kek and checks it (see
// [Key]). A wrong kek or altered data fails with [ErrKeyDecryption], a kek of
// the wrong length with [ErrInvalidKEK], data of an unknown format with
// [ErrSealedFormat].
func OpenKey(sealed, kek []byte) (*Key, error) {
	aead, err := newKEK(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 2 || sealed[0] != sealVersion1 {
		return nil, fmt.Errorf("%w: unknown format version", ErrSealedFormat)
	}
	headerLen := 2 + int(sealed[1])
	if len(sealed) < headerLen+aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: truncated", ErrSealedFormat)
	}
	header := sealed[:headerLen]
	kid := string(header[2:])
	nonce := sealed[headerLen : headerLen+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[headerLen+aead.NonceSize():], header)
	if err != nil {
		return nil, ErrKeyDecryption
	}
	defer clear(plain)
	var sk sealedKey
	if err := json.Unmarshal(plain, &sk); err != nil {
		return nil, fmt.Errorf("%w: payload", ErrSealedFormat)
	}
	defer clear(sk.PrivateKey)
	priv, err := x509.ParsePKCS8PrivateKey(sk.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("%w: private key", ErrSealedFormat)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: private key type %T", ErrSealedFormat, priv)
	}
	cert, err := x509.ParseCertificate(sk.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate", ErrSealedFormat)
	}
	k := &Key{
		ID:          kid,
		Algorithm:   jose.SignatureAlgorithm(sk.Algorithm),
		State:       KeyState(sk.State),
		Signer:      signer,
		Certificate: cert,
		CreatedAt:   sk.CreatedAt,
		ActivatedAt: sk.ActivatedAt,
		RetiredAt:   sk.RetiredAt,
		ExpiresAt:   sk.ExpiresAt,
	}
	if err := validateKey(k); err != nil {
		return nil, err
	}
	return k, nil
}

func newKEK(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KEKSize {
		return nil, ErrInvalidKEK
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, ErrInvalidKEK
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	return aead, nil
}

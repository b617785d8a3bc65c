package tenant

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"

	"golang.org/x/crypto/argon2"
)

// PasswordHash is an argon2id hash of a user's password together with the
// parameters it was made with, so that they can be raised later without
// invalidating existing hashes.
type PasswordHash struct {
	Algorithm string `json:"alg"` // "argon2id"
	Time      uint32 `json:"t"`
	MemoryKiB uint32 `json:"m"`
	Threads   uint8  `json:"p"`
	Salt      []byte `json:"salt"`
	Hash      []byte `json:"hash"`
}

// PasswordParams are the argon2id cost parameters.
type PasswordParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// DefaultPasswordParams follow OWASP's minimum for argon2id
// (19 MiB, 2 iterations, 1 lane).
var DefaultPasswordParams = PasswordParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// ErrWeakPassword is returned for passwords shorter than 8 characters.
var ErrWeakPassword = errors.New("tenant: password must have at least 8 characters")

// HashPassword hashes password with argon2id and a fresh 16-byte salt.
func HashPassword(password string, p PasswordParams) (PasswordHash, error) {
	if len(password) < 8 {
		return PasswordHash{}, ErrWeakPassword
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return PasswordHash{}, err
	}
	return PasswordHash{
		Algorithm: "argon2id", Time: p.Time, MemoryKiB: p.MemoryKiB, Threads: p.Threads,
		Salt: salt,
		Hash: argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32),
	}, nil
}

// Verify reports whether password matches h, in constant time.
func (h PasswordHash) Verify(password string) bool {
	if h.Algorithm != "argon2id" || len(h.Hash) == 0 || h.Threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), h.Salt, h.Time, h.MemoryKiB, h.Threads, uint32(len(h.Hash)))
	return subtle.ConstantTimeCompare(got, h.Hash) == 1
}

// Clone returns a deep copy of h.
func (h PasswordHash) Clone() PasswordHash {
	h.Salt = append([]byte(nil), h.Salt...)
	h.Hash = append([]byte(nil), h.Hash...)
	return h
}

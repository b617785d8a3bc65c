// Package password hashes the passwords users sign in with, with argon2id
// (RFC 9106) and the cost parameters recorded beside each hash so that they
// can be raised later without invalidating existing hashes. It is the only
// package of tenantry that links golang.org/x/crypto/argon2; the hash
// itself is the data type tenant.PasswordHash.
package password

import (
	"crypto/rand"
	"crypto/subtle"

	"golang.org/x/crypto/argon2"

	"github.com/tenantry/tenantry/tenant"
)

// Algorithm is the tenant.PasswordHash.Algorithm of the hashes made here.
const Algorithm = "argon2id"

// Params are the argon2id cost parameters.
type Params struct {
	Time      uint32 // passes over the memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// DefaultParams follow OWASP's minimum for argon2id (19 MiB, 2 iterations,
// 1 lane).
var DefaultParams = Params{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// Hash hashes password with argon2id and a fresh 16-byte salt. A password
// shorter than tenant.MinPasswordLength is refused with
// tenant.ErrWeakPassword.
func Hash(password string, p Params) (tenant.PasswordHash, error) {
	if err := tenant.CheckPassword(password); err != nil {
		return tenant.PasswordHash{}, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return tenant.PasswordHash{}, err
	}
	return tenant.PasswordHash{
		Algorithm: Algorithm, Time: p.Time, MemoryKiB: p.MemoryKiB, Threads: p.Threads,
		Salt: salt,
		Hash: argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32),
	}, nil
}

// Verify reports whether password matches h, in constant time. A hash of
// another algorithm or with unusable parameters matches nothing.
func Verify(h tenant.PasswordHash, password string) bool {
	if h.Algorithm != Algorithm || len(h.Hash) == 0 || h.Threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), h.Salt, h.Time, h.MemoryKiB, h.Threads, uint32(len(h.Hash)))
	return subtle.ConstantTimeCompare(got, h.Hash) == 1
}

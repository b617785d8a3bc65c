package tenant

import "errors"

// PasswordHash is a slow hash (argon2id) of a user's password together
// with the parameters it was made with, so that they can be raised later
// without invalidating existing hashes. The Directory makes and checks
// them; this package only holds them, so that importing it links no
// password-hashing code.
type PasswordHash struct {
	Algorithm string `json:"alg"`  // "argon2id"
	Time      uint32 `json:"t"`    // argon2id time (iterations) parameter
	MemoryKiB uint32 `json:"m"`    // argon2id memory parameter, in KiB
	Threads   uint8  `json:"p"`    // argon2id parallelism parameter
	Salt      []byte `json:"salt"` // random per-password salt
	Hash      []byte `json:"hash"` // the argon2id output
}

// MinPasswordLength is the shortest password a user may be given.
const MinPasswordLength = 8

// ErrWeakPassword is returned for passwords shorter than MinPasswordLength.
var ErrWeakPassword = errors.New("tenant: password must have at least 8 characters")

// CheckPassword refuses a password shorter than MinPasswordLength with
// ErrWeakPassword.
func CheckPassword(password string) error {
	if len(password) < MinPasswordLength {
		return ErrWeakPassword
	}
	return nil
}

// Clone returns a deep copy of h.
func (h PasswordHash) Clone() PasswordHash {
	h.Salt = append([]byte(nil), h.Salt...)
	h.Hash = append([]byte(nil), h.Hash...)
	return h
}

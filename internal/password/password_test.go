package password_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/internal/password"
	"github.com/tenantry/tenantry/tenant"
)

func TestHashAndVerify(t *testing.T) {
	cheap := password.Params{Time: 1, MemoryKiB: 64, Threads: 1}
	h, err := password.Hash("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if h.Algorithm != "argon2id" || h.Time != 1 || h.MemoryKiB != 64 || h.Threads != 1 || len(h.Salt) != 16 || len(h.Hash) != 32 {
		t.Fatalf("hash parameters not recorded: %+v", h)
	}
	h2, err := password.Hash("correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(h.Salt, h2.Salt) || slices.Equal(h.Hash, h2.Hash) {
		t.Error("two hashes of one password share salt or hash")
	}
	tampered := h.Clone()
	tampered.Hash[0] ^= 1
	wrongParams := h.Clone()
	wrongParams.Time = 2
	noThreads := h.Clone()
	noThreads.Threads = 0
	otherAlg := h.Clone()
	otherAlg.Algorithm = "bcrypt"
	for _, tc := range []struct {
		name     string
		h        tenant.PasswordHash
		password string
		want     bool
	}{
		{"right password", h, "correct horse", true},
		{"second hash", h2, "correct horse", true},
		{"wrong password", h, "correct horsE", false},
		{"empty password", h, "", false},
		{"tampered hash", tampered, "correct horse", false},
		{"parameters changed", wrongParams, "correct horse", false},
		{"zero threads", noThreads, "correct horse", false},
		{"other algorithm", otherAlg, "correct horse", false},
		{"zero hash", tenant.PasswordHash{}, "correct horse", false},
	} {
		if got := password.Verify(tc.h, tc.password); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !password.Verify(h, "correct horse") {
		t.Error("Clone shares memory with the original")
	}
	for _, pw := range []string{"", "1234567"} {
		if _, err := password.Hash(pw, cheap); !errors.Is(err, tenant.ErrWeakPassword) {
			t.Errorf("HashPassword(%q) error = %v, want ErrWeakPassword", pw, err)
		}
	}
	if _, err := password.Hash("12345678", cheap); err != nil {
		t.Errorf("8 characters refused: %v", err)
	}
	// The user's clone deep-copies the hash.
	u := tenant.User{PasswordHash: &h}
	uc := u.Clone()
	uc.PasswordHash.Hash[0] ^= 1
	if !password.Verify(*u.PasswordHash, "correct horse") {
		t.Error("User.Clone shares the password hash")
	}
}

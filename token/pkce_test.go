package token

import (
	"errors"
	"strings"
	"testing"
)

// RFC 7636 Appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func TestS256Challenge(t *testing.T) {
	if got := S256Challenge(rfcVerifier); got != rfcChallenge {
		t.Errorf("S256Challenge = %s, want %s", got, rfcChallenge)
	}
}

func TestVerifyPKCE(t *testing.T) {
	v43 := strings.Repeat("a", 43)
	v128 := strings.Repeat("Z", 120) + "-._~0123"
	for _, tc := range []struct {
		name                        string
		method, challenge, verifier string
		ok                          bool
	}{
		{"S256 RFC vector", PKCES256, rfcChallenge, rfcVerifier, true},
		{"plain", PKCEPlain, v43, v43, true},
		{"method omitted means plain", "", v128, v128, true},
		{"S256 wrong verifier", PKCES256, rfcChallenge, strings.Replace(rfcVerifier, "d", "e", 1), false},
		{"S256 challenge sent as plain", PKCEPlain, rfcChallenge, rfcVerifier, false},
		{"plain challenge verified as S256", PKCES256, rfcVerifier, rfcVerifier, false},
		{"verifier too short", PKCEPlain, v43[:42], v43[:42], false},
		{"verifier too long", PKCEPlain, v128 + "a", v128 + "a", false},
		{"verifier with a space", PKCEPlain, v43[:42] + " ", v43[:42] + " ", false},
		{"verifier with '+'", PKCEPlain, v43[:42] + "+", v43[:42] + "+", false},
		{"verifier with non-ASCII", PKCEPlain, v43[:41] + "é", v43[:41] + "é", false},
		{"empty verifier (MSAL sends one)", PKCES256, rfcChallenge, "", false},
		{"empty challenge", PKCEPlain, "", v43, false},
		{"lower-case method", "s256", rfcChallenge, rfcVerifier, false},
		{"unknown method", "S512", rfcChallenge, rfcVerifier, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyPKCE(tc.method, tc.challenge, tc.verifier)
			if (err == nil) != tc.ok {
				t.Fatalf("VerifyPKCE = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrPKCE) {
					t.Errorf("error %v does not wrap ErrPKCE", err)
				}
				if tc.verifier != "" && strings.Contains(err.Error(), tc.verifier) {
					t.Errorf("error %q contains the verifier", err)
				}
			}
		})
	}
}

func TestCheckPKCEChallenge(t *testing.T) {
	for _, tc := range []struct {
		name, method, challenge string
		ok                      bool
	}{
		{"S256", PKCES256, rfcChallenge, true},
		{"plain", PKCEPlain, rfcVerifier, true},
		{"default plain", "", rfcVerifier, true},
		{"S256 padded", PKCES256, rfcChallenge + "=", false},
		{"S256 short", PKCES256, rfcChallenge[:42], false},
		{"S256 std alphabet", PKCES256, "+" + rfcChallenge[1:], false},
		{"S256 non-zero trailing bits", PKCES256, rfcChallenge[:42] + "N", false},
		{"plain too short", PKCEPlain, "abc", false},
		{"unknown method", "S384", rfcChallenge, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPKCEChallenge(tc.method, tc.challenge)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrPKCE)) {
				t.Fatalf("CheckPKCEChallenge = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestPKCERoundTrip(t *testing.T) {
	verifier := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-._~", 2)[:128]
	c := S256Challenge(verifier)
	if err := CheckPKCEChallenge(PKCES256, c); err != nil {
		t.Fatal(err)
	}
	if err := VerifyPKCE(PKCES256, c, verifier); err != nil {
		t.Fatal(err)
	}
}

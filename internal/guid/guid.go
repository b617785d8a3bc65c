// Package guid recognises the GUIDs that name Entra objects and tenants.
package guid

import "strings"

// Valid reports whether s is a GUID in its 8-4-4-4-12 hexadecimal form, in
// either case: the only form Graph and Entra's tokens use.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// Canonical returns s as a lower-case 8-4-4-4-12 GUID when it is a GUID in
// one of the forms github.com/google/uuid's Parse accepts: 8-4-4-4-12 in
// either case, the same in braces or after "urn:uuid:", or 32 hexadecimal
// digits (Parse also accepts any two characters in place of the braces;
// Canonical does not). A GUID already canonical is returned without
// allocating.
func Canonical(s string) (string, bool) {
	switch len(s) {
	case 36:
	case 38:
		if s[0] != '{' || s[37] != '}' {
			return "", false
		}
		s = s[1:37]
	case 45:
		if !strings.EqualFold(s[:9], "urn:uuid:") {
			return "", false
		}
		s = s[9:]
	case 32:
		for i := 0; i < 32; i++ {
			if !isHex(s[i]) {
				return "", false
			}
		}
		return strings.ToLower(s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]), true
	default:
		return "", false
	}
	if !Valid(s) {
		return "", false
	}
	for i := 0; i < 36; i++ {
		if c := s[i]; 'A' <= c && c <= 'F' {
			return strings.ToLower(s), true
		}
	}
	return s, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

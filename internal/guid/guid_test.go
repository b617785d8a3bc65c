package guid

import (
	"testing"

	"github.com/google/uuid"
)

func TestValidAndCanonical(t *testing.T) {
	const c = "9188040d-6c67-4c5b-b112-36a304b66dad"
	tests := []struct {
		in        string
		valid     bool
		canonical string // "" when not a GUID
	}{
		{c, true, c},
		{"9188040D-6C67-4C5B-B112-36A304B66DAD", true, c},
		{"{9188040d-6c67-4c5b-b112-36a304b66dad}", false, c},
		{"urn:uuid:9188040d-6c67-4c5b-b112-36a304b66dad", false, c},
		{"URN:UUID:9188040D-6c67-4c5b-b112-36a304b66dad", false, c},
		{"9188040d6c674c5bb11236a304b66dad", false, c},
		{"", false, ""},
		{"9188040d-6c67-4c5b-b112-36a304b66da", false, ""},
		{"9188040d-6c67-4c5b-b112-36a304b66dag", false, ""},
		{"9188040d+6c67-4c5b-b112-36a304b66dad", false, ""},
		{"(9188040d-6c67-4c5b-b112-36a304b66dad)", false, ""},
		{"urn:uuix:9188040d-6c67-4c5b-b112-36a304b66dad", false, ""},
		{"9188040d6c674c5bb11236a304b66daz", false, ""},
		{"contoso.onmicrosoft.com", false, ""},
	}
	for _, tc := range tests {
		if got := Valid(tc.in); got != tc.valid {
			t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.valid)
		}
		got, ok := Canonical(tc.in)
		if got != tc.canonical || ok != (tc.canonical != "") {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, ok, tc.canonical)
		}
		if !agreesWithUUID(tc.in, got, ok) {
			t.Errorf("Canonical(%q) = %q, %v disagrees with uuid.Parse", tc.in, got, ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Canonical(c) }); n != 0 {
		t.Errorf("Canonical of a canonical GUID allocates %v times", n)
	}
}

func FuzzCanonical(f *testing.F) {
	f.Add("9188040d-6c67-4c5b-b112-36a304b66dad")
	f.Add("{9188040D-6c67-4c5b-b112-36a304b66dad}")
	f.Add("urn:uuid:9188040d-6c67-4c5b-b112-36a304b66dad")
	f.Add("9188040d6c674c5bb11236a304b66dad")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Canonical(s)
		if !agreesWithUUID(s, got, ok) {
			t.Fatalf("Canonical(%q) = %q, %v disagrees with uuid.Parse", s, got, ok)
		}
		if Valid(s) && !ok {
			t.Fatalf("Valid(%q) but not Canonical", s)
		}
	})
}

// agreesWithUUID reports whether Canonical's answer for s matches
// uuid.Parse, which accepts any two characters around a 36-character GUID
// where Canonical wants braces.
func agreesWithUUID(s, got string, ok bool) bool {
	id, err := uuid.Parse(s)
	if len(s) == 38 && (s[0] != '{' || s[37] != '}') {
		return !ok
	}
	return (err == nil) == ok && (!ok || id.String() == got)
}

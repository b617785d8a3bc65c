package store

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestPrepareSignInCuts: a long field is cut to at most MaxSignInFieldLen
// bytes at a character boundary, into a copy; a field of exactly the limit
// is kept; invalid UTF-8 is cut without reading past the limit.
func TestPrepareSignInCuts(t *testing.T) {
	base := SignInEvent{Time: time.Unix(1, 0), Outcome: SignInFailure, ErrorCode: 50126}
	for _, c := range []struct {
		name, in string
		want     int // bytes kept
	}{
		{"ASCII at the limit", strings.Repeat("a", MaxSignInFieldLen), MaxSignInFieldLen},
		{"ASCII over the limit", strings.Repeat("a", MaxSignInFieldLen+1), MaxSignInFieldLen},
		{"a 4-byte character across the limit", strings.Repeat("a", MaxSignInFieldLen-2) + "😀", MaxSignInFieldLen - 2},
		{"continuation bytes only", strings.Repeat("\x80", MaxSignInFieldLen+5), 0},
	} {
		e := base
		e.UserAgent = c.in
		got, err := PrepareSignIn(e)
		if err != nil {
			t.Fatalf("%s: PrepareSignIn returned %v", c.name, err)
		}
		if len(got.UserAgent) != c.want || !strings.HasPrefix(c.in, got.UserAgent) {
			t.Errorf("%s: kept %d bytes, want the first %d", c.name, len(got.UserAgent), c.want)
		}
		if utf8.ValidString(c.in) && !utf8.ValidString(got.UserAgent) {
			t.Errorf("%s: cut inside a character", c.name)
		}
	}
	e := base
	e.Outcome = SignInSuccess
	if _, err := PrepareSignIn(e); !errors.Is(err, ErrInvalid) {
		t.Errorf("PrepareSignIn of a success with an error code returned %v, want ErrInvalid", err)
	}
}

package server

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

// Every form of the pages carries an anti-forgery token (field csrfField):
// an HMAC under the session key of the browser's csrfCookie and of the
// signed-in user (none before sign-in). A post whose token does not match,
// compared in constant time, is refused before anything else is read, so
// that no other site can submit a page's form for the user.

// csrfField is the form field of the anti-forgery token.
const csrfField = "tenantry_csrf"

// csrfSeed returns the browser's anti-forgery cookie value, setting a new
// one when it has none.
func (s *Server) csrfSeed(x *exchange) string {
	if c, err := x.r.Cookie(s.cookieName(csrfCookie)); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	if x.csrfSeed != "" {
		return x.csrfSeed
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	x.csrfSeed = base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(x.w, s.cookie(csrfCookie, x.csrfSeed, 0))
	return x.csrfSeed
}

// csrfToken is the token of the browser's forms while userID is signed in.
func (s *Server) csrfToken(x *exchange, userID string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", s.csrfSeed(x), userID))
}

// checkCSRF reports whether the post's token is the browser's for userID.
func (s *Server) checkCSRF(x *exchange, f form, userID string) bool {
	c, err := x.r.Cookie(s.cookieName(csrfCookie))
	if err != nil || len(c.Value) < 32 || len(c.Value) > 64 {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(f.get(csrfField))
	if err != nil {
		return false
	}
	return hmac.Equal(got, s.mac("csrf", c.Value, userID))
}

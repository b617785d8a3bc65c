package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Cookies of the sign-in pages.
const (
	// sessionCookie names the signed-in user: a signed (HMAC-SHA-256)
	// record of her object id, her tenant and when she signed in.
	sessionCookie = "tenantry_session"
	// csrfCookie holds a random value the pages' anti-forgery tokens are
	// bound to.
	csrfCookie = "tenantry_csrf"
	// maxCookieLength bounds a cookie the server reads.
	maxCookieLength = 1024
)

// DefaultSessionLifetime is how long a sign-in lasts when
// Config.SessionLifetime is zero.
const DefaultSessionLifetime = 8 * time.Hour

// session is a browser's sign-in: one user per browser. A request for a
// tenant she is not a user of asks for a sign-in again.
type session struct {
	// UserID is the signed-in user's object id.
	UserID string `json:"u"`
	// TenantID is her tenant (a guest's is the tenant she is a guest in).
	TenantID string `json:"t"`
	// Issued is when she signed in, in Unix nanoseconds: compared with
	// the instant her sessions were revoked, which has that precision.
	Issued int64 `json:"ins"`
}

// mac returns HMAC-SHA-256 under the session key of purpose and parts,
// each length-prefixed so that no two inputs share a MAC.
func (s *Server) mac(purpose string, parts ...string) []byte {
	h := hmac.New(sha256.New, s.sessionKey)
	for _, p := range append([]string{purpose}, parts...) {
		var n [4]byte
		n[0], n[1], n[2], n[3] = byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

// readSession returns the request's valid, unexpired session.
func (s *Server) readSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(s.cookieName(sessionCookie))
	if err != nil || len(c.Value) > maxCookieLength {
		return session{}, false
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return session{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", payload)) {
		return session{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return session{}, false
	}
	var sess session
	if json.Unmarshal(raw, &sess) != nil || sess.UserID == "" {
		return session{}, false
	}
	issued := time.Unix(0, sess.Issued)
	now := s.now()
	if now.Before(issued.Add(-time.Minute)) || !now.Before(issued.Add(s.sessionLife)) {
		return session{}, false
	}
	return sess, true
}

// sessionFor returns the request's session when it may serve a request
// for tenantID ("" for common, organizations and consumers) and still
// stands (Issuer.CheckSession: the account is enabled and its sessions
// were not revoked since she signed in).
func (s *Server) sessionFor(r *http.Request, tenantID string) (session, bool) {
	sess, ok := s.readSession(r)
	if !ok || (tenantID != "" && !strings.EqualFold(tenantID, sess.TenantID)) {
		return session{}, false
	}
	if s.iss.CheckSession(r.Context(), sess.UserID, time.Unix(0, sess.Issued)) != nil {
		return session{}, false
	}
	return sess, true
}

// setSession signs userID in for the browser.
func (s *Server) setSession(x *exchange, userID, tenantID string) session {
	sess := session{UserID: userID, TenantID: tenantID, Issued: s.now().UnixNano()}
	raw, _ := json.Marshal(sess)
	payload := base64.RawURLEncoding.EncodeToString(raw)
	value := payload + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", payload))
	http.SetCookie(x.w, s.cookie(sessionCookie, value, int(s.sessionLife/time.Second)))
	return sess
}

// clearSession signs the browser out.
func (s *Server) clearSession(x *exchange) {
	http.SetCookie(x.w, s.cookie(sessionCookie, "", -1))
}

// cookie returns a cookie with the attributes every cookie of the server
// has: HttpOnly, Secure (unless the server runs on http), SameSite=Lax,
// Path=/, and, when Secure, the __Host- prefix, so that a sibling
// subdomain cannot plant one (RFC 6265bis §4.1.3.2).
func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: !s.insecure, SameSite: http.SameSiteLaxMode}
}

// cookieName is the name a cookie of the server goes by.
func (s *Server) cookieName(name string) string {
	if s.insecure {
		return name
	}
	return "__Host-" + name
}

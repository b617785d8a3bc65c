package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/tenantry/tenantry"
)

// maxIDTokenHint bounds the id_token_hint the server reads.
const maxIDTokenHint = 16 << 10

// logout serves /{tenant}/oauth2/v2.0/logout and /{tenant}/oauth2/logout
// (GET or POST): it ends the browser's session, then follows
// post_logout_redirect_uri (with state) only when it is a registered
// redirect URI of the client named by client_id or by id_token_hint's
// aud — never an open redirect; otherwise it shows the signed-out page.
// The hint's signature is not checked: it only names a client, and the
// URI must be one that client registered.
func (s *Server) logout(x *exchange) {
	var f form
	var err error
	if x.r.Method == http.MethodPost {
		f, err = s.postForm(x, "logout")
	} else {
		f, err = s.queryForm(x)
	}
	if err != nil {
		s.errorPage(x, err)
		return
	}
	s.clearSession(x)
	target := f.get("post_logout_redirect_uri")
	msg := ""
	if target != "" {
		clientID := f.get("client_id")
		if clientID == "" {
			clientID = audienceOf(f.get("id_token_hint"))
		}
		if clientID != "" {
			p, _ := s.iss.ConsentPrompt(x.ctx, tenantry.AuthorizeRequest{Tenant: x.tenant, ClientID: clientID, RedirectURI: target, ResponseType: "code"})
			if p != nil {
				v := url.Values{}
				if st, ok := f["state"]; ok {
					v.Set("state", st)
				}
				loc := p.RedirectURI
				if len(v) > 0 {
					sep := "?"
					if strings.Contains(loc, "?") {
						sep = "&"
					}
					loc += sep + v.Encode()
				}
				h := x.headers()
				h.Set("Location", loc)
				h.Set("Cache-Control", "no-store")
				h.Set("Referrer-Policy", "no-referrer")
				x.rec.Status = http.StatusFound
				x.w.WriteHeader(http.StatusFound)
				return
			}
		}
		msg = "The address to return to is not registered for the application, so you were not sent back to it."
	}
	s.render(x, http.StatusOK, "signedout", pageData{Title: "Signed out", Message: msg}, pageOptions{})
}

// audienceOf reads the aud claim of an ID token without checking it; ""
// when there is none or the token cannot be read.
func audienceOf(idToken string) string {
	if idToken == "" || len(idToken) > maxIDTokenHint {
		return ""
	}
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	var one string
	if json.Unmarshal(claims.Aud, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(claims.Aud, &many) == nil && len(many) == 1 {
		return many[0]
	}
	return ""
}

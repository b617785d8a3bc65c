package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/server"
)

// registered reports whether u is one of the fixture's registered redirect
// URIs (loopback URIs on any port).
func registered(u *url.URL) bool {
	switch {
	case u.Scheme == "https" && u.Host == "web.example.com" && u.Path == "/auth":
		return true
	case u.Scheme == "http" && u.Hostname() == "localhost" && (u.Path == "" || u.Path == "/"):
		return true
	}
	return false
}

var formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)

// FuzzAuthorizeQuery sends arbitrary queries to the authorize endpoint
// with a user signed in by login_hint: every answer is a page or a
// redirect, never a 5xx, and a redirect or form_post goes only to a
// registered redirect URI of the client (no open redirect) or to this
// server.
func FuzzAuthorizeQuery(f *testing.F) {
	var p *pagesFixture
	p = newPagesFixture(f, func(fx *fixture, cfg *server.Config) {
		cfg.AutoSignIn = func(_ context.Context, req server.AutoSignIn) (string, bool) {
			if req.LoginHint == "alice@contoso.onmicrosoft.com" {
				return p.alice.ID, true
			}
			return "", false
		}
	})
	base := p.authorizeQuery(p.web.AppID, webRedirect, "query", "state", "nonce")
	base.Set("login_hint", "alice@contoso.onmicrosoft.com")
	f.Add(base.Encode())
	fp := p.authorizeQuery(p.desktop.AppID, loopbackRequest, "form_post", "s", "")
	fp.Set("login_hint", "alice@contoso.onmicrosoft.com")
	f.Add(fp.Encode())
	f.Add(strings.Replace(base.Encode(), "web.example.com", "evil.example", 1))
	f.Add(base.Encode() + "&redirect_uri=https%3A%2F%2Fevil.example")
	f.Add("client_id=" + p.web.AppID + "&response_type=code&redirect_uri=https%3A%2F%2Fweb.example.com%2Fauth%2F..%2Fx&prompt=none")
	f.Add("response_mode=fragment&prompt=consent&client_id=" + p.desktop.AppID + "&redirect_uri=http%3A%2F%2Flocalhost%3A1%2F")
	f.Add("%zz=1")
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, p.base+p.authorizePath(), nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		p.h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500 || rec.Code < 200:
			t.Fatalf("status %d for %q", rec.Code, query)
		case rec.Code >= 300 && rec.Code < 400:
			loc, err := url.Parse(rec.Header().Get("Location"))
			if err != nil {
				t.Fatalf("bad Location %q", rec.Header().Get("Location"))
			}
			if !registered(loc) && !strings.HasPrefix(loc.String(), p.base+"/") && !strings.HasPrefix(loc.String(), "/") {
				t.Fatalf("redirect to %q for %q", loc, query)
			}
		case rec.Code == http.StatusOK:
			for _, m := range formAction.FindAllStringSubmatch(rec.Body.String(), -1) {
				action, err := url.Parse(htmlUnescape(m[1]))
				if err != nil || (action.IsAbs() && !registered(action) && !strings.HasPrefix(action.String(), p.base+"/")) {
					t.Fatalf("form posts to %q for %q", m[1], query)
				}
			}
		}
	})
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&lt;", "<", "&gt;", ">", "&#39;", "'").Replace(s)
}

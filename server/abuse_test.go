package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/server"
)

// raw sends a request written by hand over TLS and returns the status and
// decoded JSON body.
func (f *fixture) raw(t *testing.T, request string) (int, map[string]any) {
	t.Helper()
	conn, err := tls.Dial("tcp", f.srv.Listener.Addr().String(), f.srv.Client().Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, body
}

// Abuse at the HTTP edge gets Entra's error JSON and a 4xx.
func TestAbuseAtTheEdge(t *testing.T) {
	f := newFixture(t)
	tid := f.tenant.ID
	for _, c := range []struct {
		name, method, path string
		status             int
		code               float64
	}{
		{"discovery by POST", http.MethodPost, "/" + tid + "/v2.0/.well-known/openid-configuration", 400, 9002313},
		{"keys by DELETE", http.MethodDelete, "/" + tid + "/discovery/v2.0/keys", 400, 9002313},
		{"token by PUT", http.MethodPut, "/" + tid + "/oauth2/v2.0/token", 400, 900561},
		{"devicecode by GET", http.MethodGet, "/" + tid + "/oauth2/v2.0/devicecode", 400, 900561},
		{"unknown path", http.MethodGet, "/" + tid + "/oauth2/v2.0/nothing", 404, 9002313},
		{"root", http.MethodGet, "/", 404, 9002313},
		{"unknown tenant discovery", http.MethodGet, "/00000000-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration", 400, 90002},
		{"malformed tenant keys", http.MethodGet, "/bad%20tenant/discovery/v2.0/keys", 400, 900023},
	} {
		req, _ := http.NewRequest(c.method, f.base+c.path, nil)
		status, _, body := f.do(req)
		codes, _ := body["error_codes"].([]any)
		if status != c.status || len(codes) != 1 || codes[0] != c.code {
			t.Errorf("%s: %d %v, want %d AADSTS%v", c.name, status, body, c.status, c.code)
		}
	}
	// Oversize headers: Entra's JSON with 431.
	req, _ := http.NewRequest(http.MethodGet, f.base+"/common/v2.0/.well-known/openid-configuration", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 20<<10))
	if status, _, body := f.do(req); status != http.StatusRequestHeaderFieldsTooLarge || body["error"] != "invalid_request" {
		t.Errorf("oversize headers: %d %v", status, body)
	}
	// An absolute-form request target naming another host changes no issuer.
	status, body := f.raw(t, "GET https://evil.example/common/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
	if status != 200 || body["issuer"] != f.base+"/{tenantid}/v2.0" || !strings.HasPrefix(body["token_endpoint"].(string), f.base+"/") {
		t.Errorf("absolute-form target: %d %v", status, body)
	}
	// A body that lies about its length is refused, not read past.
	status, body = f.raw(t, "POST /"+tid+"/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\ngrant_type=client_credentials")
	if status != 400 || body["error"] != "invalid_request" {
		t.Errorf("oversize Content-Length: %d %v", status, body)
	}
}

func TestEndpointNames(t *testing.T) {
	for path, want := range map[string][2]string{
		"/Contoso.com/oauth2/v2.0/token":                 {"token", "Contoso.com"},
		"/common/v2.0/.well-known/openid-configuration/": {"discovery", "common"},
		"/common/UserRealm/ada@contoso.com":              {"userrealm", "common"},
		"/devicelogin":                                   {"devicelogin", ""},
		"/x/oauth2/v2.0/nothing":                         {"unknown", "x"},
		"/":                                              {"unknown", ""},
		"//oauth2/v2.0/token":                            {"unknown", ""},
		"/organizations/oauth2/authorize":                {"authorize", "organizations"},
	} {
		if e, tn := server.Endpoint(path); e != want[0] || tn != want[1] {
			t.Errorf("%s: %s %q, want %s %q", path, e, tn, want[0], want[1])
		}
	}
}

// The authorize endpoint takes GET and POST only: another method issues
// nothing, whatever its query.
func TestAuthorizeMethods(t *testing.T) {
	var p *pagesFixture
	p = newPagesFixture(t, func(f *fixture, cfg *server.Config) {
		cfg.AutoSignIn = func(context.Context, server.AutoSignIn) (string, bool) { return p.alice.ID, true }
	})
	q := p.authorizeQuery(p.web.AppID, webRedirect, "query", "s", "n")
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, p.base+p.authorizePath()+"?"+q.Encode(), nil)
		resp, err := p.browser().c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d, Location %q", m, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

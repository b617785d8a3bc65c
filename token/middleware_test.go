package token

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// vtAPI is an httptest server with the middleware chain of a typical API.
type vtAPI struct {
	srv    *httptest.Server
	signer *vtSigner
	logs   *bytes.Buffer
}

func vtNewAPI(t *testing.T) *vtAPI {
	t.Helper()
	s := vtNewSigner(t, jose.EdDSA)
	cfg := vtConfig(StaticKeySet(s.public()))
	cfg.Algorithms = []jose.SignatureAlgorithm{jose.EdDSA}
	v := vtValidator(t, cfg)
	logs := new(bytes.Buffer)
	auth := v.Authenticate(MiddlewareConfig{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})

	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := FromContext(r.Context())
		if !ok {
			http.Error(w, "no principal", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s %s app=%v", p.TenantID, p.ObjectID, p.IsApp)
	})
	mux := http.NewServeMux()
	mux.Handle("/me", auth(whoami))
	mux.Handle("/orders", auth(RequireScope("Orders.Read", "Orders.ReadWrite")(whoami)))
	mux.Handle("/admin", auth(RequireRole("Orders.Admin")(whoami)))
	mux.Handle("/any", auth(RequireAnyRole("A", "Orders.Read.All")(whoami)))
	mux.Handle("/mixed", auth(RequireScopeOrRole([]string{"Orders.Read"}, []string{"Orders.Read.All"})(whoami)))
	mux.Handle("/unprotected-require", RequireScope("Orders.Read")(whoami))
	mux.Handle("/graph-style", v.Authenticate(MiddlewareConfig{
		AuthorizationURI: "https://login.microsoftonline.com/common/oauth2/authorize",
	})(whoami))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &vtAPI{srv: srv, signer: s, logs: logs}
}

func (a *vtAPI) do(t *testing.T, path string, authz ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range authz {
		req.Header.Add("Authorization", h)
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestMiddleware(t *testing.T) {
	api := vtNewAPI(t)
	user := api.signer.token(t, vtV2Claims()) // scp Orders.Read Orders.Write, roles Orders.Admin
	app := api.signer.token(t, vtAppOnlyClaims())
	expired := api.signer.token(t, vtWith(vtV2Claims(), map[string]any{"exp": vtNow.Add(-time.Minute).Unix()}))
	foreign := api.signer.token(t, vtWith(vtV2Claims(), map[string]any{"aud": "00000003-0000-0000-c000-000000000000"}))

	tests := []struct {
		name      string
		path      string
		authz     []string
		status    int
		challenge string // exact WWW-Authenticate; "" means none
		body      string
	}{
		{"no token", "/me", nil, 401, `Bearer realm=""`, ""},
		{"basic scheme", "/me", []string{"Basic dXNlcjpwYXNz"}, 401, `Bearer realm=""`, ""},
		{"empty bearer", "/me", []string{"Bearer "}, 400,
			`Bearer realm="", error="invalid_request", error_description="The Authorization header is malformed"`, ""},
		{"two headers", "/me", []string{"Bearer " + user, "Bearer " + user}, 400,
			`Bearer realm="", error="invalid_request", error_description="The Authorization header is malformed"`, ""},
		{"garbage token", "/me", []string{"Bearer abc.def"}, 401,
			`Bearer realm="", error="invalid_token", error_description="The token is malformed"`, ""},
		{"expired", "/me", []string{"Bearer " + expired}, 401,
			`Bearer realm="", error="invalid_token", error_description="The token is expired"`, ""},
		{"wrong audience", "/me", []string{"Bearer " + foreign}, 401,
			`Bearer realm="", error="invalid_token", error_description="The token audience is not accepted"`, ""},
		{"valid, lower-case scheme", "/me", []string{"bearer " + user}, 200, "", vtTenant + " " + vtUserOID + " app=false"},
		{"valid user", "/me", []string{"Bearer " + user}, 200, "", vtTenant + " " + vtUserOID + " app=false"},
		{"valid app", "/me", []string{"Bearer " + app}, 200, "", vtTenant + " " + vtClientSPID + " app=true"},
		{"scope: user has one of them", "/orders", []string{"Bearer " + user}, 200, "", vtTenant + " " + vtUserOID + " app=false"},
		{"scope: app-only has none", "/orders", []string{"Bearer " + app}, 403,
			`Bearer realm="", error="insufficient_scope", error_description="The token lacks the required scope", scope="Orders.Read Orders.ReadWrite"`, ""},
		{"role: user has it", "/admin", []string{"Bearer " + user}, 200, "", vtTenant + " " + vtUserOID + " app=false"},
		{"role: app lacks it", "/admin", []string{"Bearer " + app}, 403,
			`Bearer realm="", error="insufficient_scope", error_description="The token lacks the required role"`, ""},
		{"any role: app has one", "/any", []string{"Bearer " + app}, 200, "", vtTenant + " " + vtClientSPID + " app=true"},
		{"any role: user has none", "/any", []string{"Bearer " + user}, 403,
			`Bearer realm="", error="insufficient_scope", error_description="The token lacks the required role"`, ""},
		{"scope or role: user by scope", "/mixed", []string{"Bearer " + user}, 200, "", vtTenant + " " + vtUserOID + " app=false"},
		{"scope or role: app by role", "/mixed", []string{"Bearer " + app}, 200, "", vtTenant + " " + vtClientSPID + " app=true"},
		{"require without authenticate", "/unprotected-require", []string{"Bearer " + user}, 401, `Bearer realm=""`, ""},
		{"authorization_uri", "/graph-style", nil, 401,
			`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`, ""},
		{"authorization_uri with error", "/graph-style", []string{"Bearer " + expired}, 401,
			`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token", error_description="The token is expired"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := api.do(t, tc.path, tc.authz...)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate:\n got %s\nwant %s", got, tc.challenge)
			}
			if tc.status == 200 && body != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
			if tc.status != 200 && body != "" {
				t.Errorf("error response has a body: %q", body)
			}
		})
	}

	// Nothing from a token reaches the logs.
	logs := api.logs.String()
	if !strings.Contains(logs, "token: bearer token rejected") {
		t.Errorf("rejections not logged:\n%s", logs)
	}
	for _, tok := range []string{user, app, expired, foreign} {
		for _, part := range strings.Split(tok, ".") {
			if len(part) > 8 && strings.Contains(logs, part[:8]) {
				t.Fatalf("log contains token text %q:\n%s", part[:8], logs)
			}
		}
	}
}

func TestChallengeQuoting(t *testing.T) {
	rec := httptest.NewRecorder()
	(&challenger{realm: `a"b\c` + "\r\nX-Injected: 1"}).write(rec, 401, "invalid_token", "d", "")
	got := rec.Header().Get("WWW-Authenticate")
	want := `Bearer realm="a\"b\\cX-Injected: 1", error="invalid_token", error_description="d"`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

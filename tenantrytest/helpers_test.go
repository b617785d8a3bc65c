package tenantrytest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tenantry/tenantry/tenantrytest"
)

// seeded is a Server with a tenant, an API publishing a role and a scope
// (v2 tokens), and a daemon granted the role.
type seeded struct {
	srv     *tenantrytest.Server
	contoso tenantrytest.Tenant
	api     tenantrytest.App
	daemon  tenantrytest.App
	secret  string
}

func newSeeded(t *testing.T, opts ...tenantrytest.Option) *seeded {
	t.Helper()
	srv := tenantrytest.NewServer(t, opts...)
	s := &seeded{srv: srv, contoso: srv.CreateTenant("Contoso")}
	s.api = srv.CreateAPI(s.contoso, "Orders", tenantrytest.TokenVersion(2),
		tenantrytest.Roles("Orders.Read.All"), tenantrytest.Scopes("Orders.Read"))
	s.daemon = srv.CreateApp(s.contoso, "Orders Daemon")
	srv.Grant(s.daemon, s.api, "Orders.Read.All")
	s.secret = srv.AddSecret(s.daemon)
	return s
}

// ccForm is a client credentials request of the daemon for the API.
func (s *seeded) ccForm() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {s.daemon.AppID},
		"client_secret": {s.secret}, "scope": {s.api.Default()}}
}

// post sends a form and returns the status and the decoded JSON body.
func post(t *testing.T, c *http.Client, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func get(t *testing.T, c *http.Client, u string) (int, map[string]any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", resp.Request.URL, err, raw)
	}
	return resp.StatusCode, body
}

// header decodes a JWT's header.
func header(t *testing.T, raw string) map[string]any {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// fatalRecorder is a testing.TB whose Fatal and Fatalf record the message
// and end the goroutine, so that a test can check how a helper fails.
type fatalRecorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.msg = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *fatalRecorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// failure runs fn with a fatalRecorder on its own goroutine and returns
// the failure message ("" when fn did not fail).
func failure(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg
}

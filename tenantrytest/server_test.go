package tenantrytest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/tenantrytest"
)

// The discovery document names the Server's own URL, which srv.Client()
// reaches over TLS; a client that does not trust the test CA is refused.
func TestNewServerServesDiscoveryOverTLS(t *testing.T) {
	srv := tenantrytest.NewServer(t)
	contoso := srv.CreateTenant("Contoso")
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL() = %q", srv.URL())
	}
	if got, want := srv.Authority(contoso.ID), srv.URL()+"/"+contoso.ID; got != want {
		t.Fatalf("Authority = %q, want %q", got, want)
	}
	status, doc := get(t, srv.Client(), srv.Authority(contoso.ID)+"/v2.0/.well-known/openid-configuration")
	if status != http.StatusOK {
		t.Fatalf("discovery: %d %v", status, doc)
	}
	if got, want := doc["issuer"], srv.URL()+"/"+contoso.ID+"/v2.0"; got != want {
		t.Errorf("issuer = %v, want %v", got, want)
	}
	if got, want := doc["token_endpoint"], srv.Authority(contoso.ID)+"/oauth2/v2.0/token"; got != want {
		t.Errorf("token_endpoint = %v, want %v", got, want)
	}
	// The domain resolves to the same tenant.
	_, byDomain := get(t, srv.Client(), srv.Authority(contoso.Domain)+"/v2.0/.well-known/openid-configuration")
	if byDomain["issuer"] != doc["issuer"] {
		t.Errorf("issuer by domain = %v, want %v", byDomain["issuer"], doc["issuer"])
	}
	if _, err := (&http.Client{}).Get(srv.URL() + "/common/v2.0/.well-known/openid-configuration"); err == nil {
		t.Error("a client without the test CA reached the Server")
	}
}

// Two Servers are independent directories: a tenant of one is unknown to
// the other (AADSTS90002), though they share the process's signing key.
func TestServersAreIndependent(t *testing.T) {
	a, b := tenantrytest.NewServer(t), tenantrytest.NewServer(t)
	contoso := a.CreateTenant("Contoso")
	status, body := get(t, b.Client(), b.Authority(contoso.ID)+"/v2.0/.well-known/openid-configuration")
	if status != http.StatusBadRequest || body["error"] != "invalid_tenant" {
		t.Fatalf("other server's tenant: %d %v", status, body)
	}
	if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(90002) {
		t.Errorf("error_codes = %v, want [90002]", body["error_codes"])
	}
}

// Close ends the Server: its URL no longer answers, and closing again is
// harmless.
func TestStartAndClose(t *testing.T) {
	srv, err := tenantrytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	u := srv.URL() + "/common/v2.0/.well-known/openid-configuration"
	if status, _ := get(t, srv.Client(), u); status != http.StatusOK {
		t.Fatalf("discovery: %d", status)
	}
	srv.Close()
	srv.Close()
	if _, err := srv.Client().Get(u); err == nil {
		t.Error("the closed Server answered")
	}
}

// A seeding helper of a Server made by Start panics with the refusal.
func TestStartHelpersPanic(t *testing.T) {
	srv, err := tenantrytest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	contoso := srv.CreateTenant("Contoso")
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "create user") {
			t.Errorf("panic = %q, want the create user refusal", msg)
		}
	}()
	srv.CreateUser(contoso, "ada")
	srv.CreateUser(contoso, "ada") // the name is taken
	t.Error("no panic")
}

// BenchmarkNewServer measures a Server's start-up and shutdown (the
// signing key and certificates are made once per process, before the
// timer).
func BenchmarkNewServer(b *testing.B) {
	tenantrytest.NewServer(b) // the process's keys
	b.ReportAllocs()
	for b.Loop() {
		srv, err := tenantrytest.Start()
		if err != nil {
			b.Fatal(err)
		}
		srv.Close()
	}
}

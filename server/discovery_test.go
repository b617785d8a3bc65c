package server_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestDiscoveryDocuments(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		segment, path, issuer, jwks string
	}{
		{f.tenant.ID, "/v2.0/.well-known/openid-configuration", f.base + "/" + f.tenant.ID + "/v2.0", "/discovery/v2.0/keys"},
		{"Contoso.onmicrosoft.com", "/v2.0/.well-known/openid-configuration", f.base + "/" + f.tenant.ID + "/v2.0", "/discovery/v2.0/keys"},
		{"common", "/v2.0/.well-known/openid-configuration", f.base + "/{tenantid}/v2.0", "/discovery/v2.0/keys"},
		{"organizations", "/v2.0/.well-known/openid-configuration", f.base + "/{tenantid}/v2.0", "/discovery/v2.0/keys"},
		{f.tenant.ID, "/.well-known/openid-configuration", f.base + "/" + f.tenant.ID + "/", "/discovery/keys"},
	} {
		status, h, doc := f.get("/" + c.segment + c.path)
		if status != http.StatusOK {
			t.Fatalf("%s%s: %d %v", c.segment, c.path, status, doc)
		}
		if doc["issuer"] != c.issuer {
			t.Errorf("%s%s: issuer %v, want %s", c.segment, c.path, doc["issuer"], c.issuer)
		}
		if doc["jwks_uri"] != f.base+"/"+c.segment+c.jwks {
			t.Errorf("%s: jwks_uri %v", c.segment, doc["jwks_uri"])
		}
		te, _ := doc["token_endpoint"].(string)
		if !strings.HasPrefix(te, f.base+"/"+c.segment+"/oauth2/") || strings.Count(te, "token") != 1 {
			t.Errorf("%s: token_endpoint %v", c.segment, te)
		}
		if h.Get("Cache-Control") != "max-age=86400, private" || h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("headers %v", h)
		}
	}
	status, _, body := f.get("/nowhere.example/v2.0/.well-known/openid-configuration")
	if status != 400 || body["error"] != "invalid_tenant" {
		t.Errorf("unknown tenant: %d %v", status, body)
	}
}

func TestForwardedHeadersChangeNoIssuer(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodGet, f.base+"/common/v2.0/.well-known/openid-configuration", nil)
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("Forwarded", "host=evil.example;proto=http")
	status, _, doc := f.do(req)
	if status != 200 {
		t.Fatalf("%d %v", status, doc)
	}
	for k, v := range doc {
		if s, ok := v.(string); ok && strings.Contains(s, "evil.example") {
			t.Errorf("%s = %s follows the Host header", k, s)
		}
	}
}

func TestJWKSAndInstanceDiscovery(t *testing.T) {
	f := newFixture(t)
	status, _, jwks := f.get("/" + f.tenant.ID + "/discovery/v2.0/keys")
	if status != 200 {
		t.Fatalf("keys: %d", status)
	}
	keys, _ := jwks["keys"].([]any)
	if len(keys) == 0 {
		t.Fatalf("no keys: %v", jwks)
	}
	status, _, inst := f.get("/common/discovery/instance?api-version=1.1&authorization_endpoint=" + f.base + "/common/oauth2/v2.0/authorize")
	if status != 200 || inst["tenant_discovery_endpoint"] != f.base+"/common/v2.0/.well-known/openid-configuration" {
		t.Fatalf("instance discovery: %d %v", status, inst)
	}
	status, _, inst = f.get("/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.example.org/common/oauth2/v2.0/authorize")
	if status != 400 || inst["error"] != "invalid_instance" {
		t.Fatalf("foreign instance: %d %v", status, inst)
	}
}

// The consumers segment names the consumers tenant's own issuer, not the
// template, at discovery and in the key set.
func TestConsumersDiscovery(t *testing.T) {
	f := newFixture(t)
	status, _, doc := f.get("/consumers/v2.0/.well-known/openid-configuration")
	if status != 200 || doc["issuer"] != f.base+"/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0" || doc["tenant_region_scope"] != nil {
		t.Fatalf("consumers discovery: %d %v", status, doc)
	}
	status, _, jwks := f.get("/consumers/discovery/v2.0/keys")
	keys, _ := jwks["keys"].([]any)
	if status != 200 || len(keys) == 0 || keys[0].(map[string]any)["issuer"] != f.base+"/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0" {
		t.Fatalf("consumers keys: %d %v", status, jwks)
	}
}

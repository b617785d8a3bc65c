package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/token"
)

func TestClientCredentialsOverHTTP(t *testing.T) {
	f := newFixture(t)
	status, h, body := f.post("/"+f.tenant.ID+"/oauth2/v2.0/token", f.ccForm())
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) && body["expires_in"] != float64(3600) {
		t.Errorf("token_type/expires_in: %v", body)
	}
	if _, ok := body["scope"]; ok {
		t.Errorf("client credentials reply carries scope: %v", body)
	}
	if h.Get("Cache-Control") != "no-store, no-cache" || h.Get("Pragma") != "no-cache" {
		t.Errorf("cache headers: %v", h)
	}
	v, err := token.NewValidator(f.dir.Issuer().ValidatorConfig(f.api.AppID, "api://contoso.onmicrosoft.com/orders"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Validate(f.ctx, body["access_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsApp || p.TenantID != f.tenant.ID || len(p.Roles) != 1 || p.Roles[0] != "Orders.Read.All" {
		t.Errorf("principal: %+v", p)
	}
}

func TestClientSecretBasic(t *testing.T) {
	f := newFixture(t)
	form := f.ccForm()
	form.Del("client_secret")
	form.Del("client_id")
	req, _ := http.NewRequest(http.MethodPost, f.base+"/"+f.tenant.ID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.app.AppID), url.QueryEscape(f.secret))
	if status, _, body := f.do(req); status != http.StatusOK {
		t.Fatalf("basic auth: %d %v", status, body)
	}
	req, _ = http.NewRequest(http.MethodPost, f.base+"/"+f.tenant.ID+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.app.AppID, "wrong-secret-value")
	status, h, body := f.do(req)
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong basic secret: %d %v %v", status, h, body)
	}
}

func TestTokenErrorsAreEntraJSON(t *testing.T) {
	f := newFixture(t)
	path := "/" + f.tenant.ID + "/oauth2/v2.0/token"
	wrong := f.ccForm()
	wrong.Set("client_secret", "not-the-secret-at-all")
	cases := []struct {
		name   string
		send   func() (int, http.Header, map[string]any)
		status int
		oauth  string
		code   float64
	}{
		{"wrong secret", func() (int, http.Header, map[string]any) { return f.post(path, wrong) }, 401, "invalid_client", 7000215},
		{"GET", func() (int, http.Header, map[string]any) { return f.get(path) }, 400, "invalid_request", 900561},
		{"duplicate parameter", func() (int, http.Header, map[string]any) {
			return f.postRaw(path, f.ccForm().Encode()+"&scope=x", nil)
		}, 400, "invalid_request", 9002313},
		{"resource at v2", func() (int, http.Header, map[string]any) {
			form := f.ccForm()
			form.Set("resource", "api://contoso.onmicrosoft.com/orders")
			return f.post(path, form)
		}, 400, "invalid_request", 901002},
		{"not a form", func() (int, http.Header, map[string]any) {
			return f.postRaw(path, "{}", http.Header{"Content-Type": {"application/json"}})
		}, 400, "invalid_request", 9002313},
		{"oversize body", func() (int, http.Header, map[string]any) {
			return f.postRaw(path, "scope="+strings.Repeat("a", 70<<10), nil)
		}, 400, "invalid_request", 9002313},
		{"unknown tenant", func() (int, http.Header, map[string]any) {
			return f.post("/nowhere.example/oauth2/v2.0/token", f.ccForm())
		}, 400, "invalid_tenant", 90002},
		{"malformed tenant", func() (int, http.Header, map[string]any) {
			return f.post("/not_a_tenant/oauth2/v2.0/token", f.ccForm())
		}, 400, "invalid_request", 900023},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := c.send()
			if status != c.status || body["error"] != c.oauth {
				t.Fatalf("got %d %v, want %d %s", status, body, c.status, c.oauth)
			}
			codes, _ := body["error_codes"].([]any)
			if len(codes) != 1 || codes[0] != c.code {
				t.Errorf("error_codes %v, want [%v]", body["error_codes"], c.code)
			}
			desc, _ := body["error_description"].(string)
			if !strings.HasPrefix(desc, "AADSTS") || !strings.Contains(desc, "Trace ID: "+body["trace_id"].(string)) ||
				!strings.Contains(desc, "Correlation ID: "+body["correlation_id"].(string)) || !strings.Contains(desc, "Timestamp: "+body["timestamp"].(string)) {
				t.Errorf("error_description %q does not carry the ids and timestamp", desc)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "application/json") || h.Get("Cache-Control") != "no-store, no-cache" {
				t.Errorf("headers %v", h)
			}
			if c.status != 401 && h.Get("WWW-Authenticate") != "" {
				t.Errorf("WWW-Authenticate on a body-authenticated refusal")
			}
		})
	}
}

func TestCorrelationIDEcho(t *testing.T) {
	f := newFixture(t)
	id := "0f5e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	wrong := f.ccForm()
	wrong.Set("client_secret", "not-the-secret-at-all")
	status, h, body := f.postRaw("/"+f.tenant.ID+"/oauth2/v2.0/token", wrong.Encode(), http.Header{"Client-Request-Id": {id}, "Return-Client-Request-Id": {"true"}})
	if status != 401 || body["correlation_id"] != id || h.Get("client-request-id") != id {
		t.Fatalf("correlation id not echoed: %d %v %v", status, h, body)
	}
	// A correlation id that is not a GUID is replaced, never echoed.
	status, _, body = f.postRaw("/"+f.tenant.ID+"/oauth2/v2.0/token", wrong.Encode(), http.Header{"Client-Request-Id": {"<script>"}})
	if status != 401 || body["correlation_id"] == "<script>" || body["correlation_id"] == "" {
		t.Fatalf("non-GUID correlation id: %v", body)
	}
}

func TestCrossOriginTokenRequest(t *testing.T) {
	f := newFixture(t)
	path := "/" + f.tenant.ID + "/oauth2/v2.0/token"
	status, h, body := f.postRaw(path, f.ccForm().Encode(), http.Header{"Origin": {"https://evil.example"}})
	if status != 400 || body["error"] != "invalid_request" || h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("cross-origin client credentials: %d %v %v", status, h, body)
	}
	if codes := body["error_codes"].([]any); codes[0] != float64(9002326) {
		t.Fatalf("error_codes %v", codes)
	}
	req, _ := http.NewRequest(http.MethodOptions, f.base+path, nil)
	req.Header.Set("Origin", "https://spa.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	status, h, _ = f.do(req)
	if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://spa.example" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight: %d %v", status, h)
	}
}

// MSAL adds "openid offline_access profile" to every request, client
// credentials included, and sends claims, client_info and x-client-*
// parameters: Entra accepts them beside /.default.
func TestMSALExtrasOnClientCredentials(t *testing.T) {
	f := newFixture(t)
	form := f.ccForm()
	form.Set("scope", "api://contoso.onmicrosoft.com/orders/.default openid offline_access profile")
	form.Set("claims", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`)
	form.Set("client_info", "1")
	form.Set("x-client-SKU", "MSAL.Go")
	form.Set("client-request-id", "5f0e4a9c-1b2d-4e3f-8a7b-6c5d4e3f2a1b")
	status, _, body := f.postRaw("/"+f.tenant.ID+"/oauth2/v2.0/token", form.Encode(), http.Header{"X-Client-Sku": {"MSAL.Go"}, "X-Client-Ver": {"1.4.2"}})
	if status != 200 || body["access_token"] == nil || body["refresh_token"] != nil || body["id_token"] != nil {
		t.Fatalf("%d %v", status, body)
	}
}

// The v1 token endpoint takes the resource parameter.
func TestV1ResourceParameter(t *testing.T) {
	f := newFixture(t)
	form := f.ccForm()
	form.Del("scope")
	form.Set("resource", "api://contoso.onmicrosoft.com/orders")
	status, _, body := f.post("/"+f.tenant.ID+"/oauth2/token", form)
	if status != 200 || body["access_token"] == nil {
		t.Fatalf("%d %v", status, body)
	}
}

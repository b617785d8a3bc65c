package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// checkReply asserts what every answer of the token endpoint must be: a
// 200 with a token, or a 4xx in Entra's error JSON — never a 5xx, never
// a 2xx carrying an error.
func checkReply(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("status %d: body is not JSON: %q", rec.Code, rec.Body.String())
	}
	switch {
	case rec.Code == http.StatusOK:
		if body["access_token"] == nil || body["token_type"] != "Bearer" || body["error"] != nil {
			t.Fatalf("200 without a token: %v", body)
		}
	case rec.Code >= 400 && rec.Code < 500:
		desc, _ := body["error_description"].(string)
		codes, _ := body["error_codes"].([]any)
		if body["error"] == nil || !strings.HasPrefix(desc, "AADSTS") || len(codes) != 1 || body["trace_id"] == nil || body["correlation_id"] == nil {
			t.Fatalf("%d is not Entra's error JSON: %v", rec.Code, body)
		}
	default:
		t.Fatalf("status %d: %v", rec.Code, body)
	}
}

// FuzzTokenEndpointForm sends arbitrary bodies, content types and Basic
// credentials to the token endpoint.
func FuzzTokenEndpointForm(f *testing.F) {
	fx := newFixture(f)
	good := fx.ccForm()
	f.Add(good.Encode(), "application/x-www-form-urlencoded", "")
	f.Add(good.Encode()+"&scope=x", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=client_credentials&client_id="+fx.app.AppID+"&scope=api%3A%2F%2Fcontoso.onmicrosoft.com%2Forders%2F.default", "application/x-www-form-urlencoded; charset=utf-8", "Basic "+basic(fx.app.AppID, fx.secret))
	f.Add("grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fx&client_id="+fx.app.AppID, "application/x-www-form-urlencoded", "")
	f.Add("grant_type=refresh_token&refresh_token=%ZZ", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=client_credentials&client_id="+fx.app.AppID+"&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJQUzI1NiJ9.e30.AAAA&scope=a%2F.default", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c&requested_token_use=on_behalf_of", "application/x-www-form-urlencoded", "Basic !!")
	f.Add("grant_type=device_code&device_code=x&client_id=y", "text/plain", "Bearer x")
	f.Fuzz(func(t *testing.T, body, contentType, authorization string) {
		req := httptest.NewRequest(http.MethodPost, fx.base+"/"+fx.tenant.ID+"/oauth2/v2.0/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		checkReply(t, rec)
	})
}

func basic(id, secret string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return strings.TrimPrefix(r.Header.Get("Authorization"), "")[len("Basic "):]
}

package tenantrytest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/tenantrytest"
)

// Every request is recorded with its endpoint, tenant, status, error and
// the client's correlation id, before the client has its answer.
func TestRequestsRecordEveryAnswer(t *testing.T) {
	s := newSeeded(t)
	if got := s.srv.LastError(); got != (tenantrytest.Request{}) {
		t.Fatalf("LastError before any request = %+v", got)
	}
	const corr = "0b7e2f9a-5d41-4c3e-9f6b-2a1d8c7e6f50"
	req, err := http.NewRequest(http.MethodPost, s.srv.Authority(s.contoso.Domain)+"/oauth2/v2.0/token", strings.NewReader(s.ccForm().Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("client-request-id", corr)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	get(t, s.srv.Client(), s.srv.Authority("common")+"/discovery/v2.0/keys")
	get(t, s.srv.Client(), s.srv.URL()+"/common/nothing-here")
	reqs := s.srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %+v", reqs)
	}
	want := []tenantrytest.Request{
		{Method: "POST", Endpoint: "token", Tenant: s.contoso.Domain, Status: 200, CorrelationID: corr},
		{Method: "GET", Endpoint: "keys", Tenant: "common", Status: 200},
		{Method: "GET", Endpoint: "unknown", Tenant: "common", Status: 404, Error: "invalid_request", Code: 9002313},
	}
	for i, w := range want {
		got := reqs[i]
		if got.Time.IsZero() || got.CorrelationID == "" {
			t.Errorf("request %d lacks time or correlation id: %+v", i, got)
		}
		got.Time = w.Time
		if w.CorrelationID == "" {
			got.CorrelationID = ""
		}
		if got != w {
			t.Errorf("request %d = %+v, want %+v", i, got, w)
		}
	}
	if last := s.srv.LastError(); last.Status != 404 || last.Endpoint != "unknown" {
		t.Errorf("LastError = %+v", last)
	}
}

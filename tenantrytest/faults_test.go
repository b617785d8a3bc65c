package tenantrytest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/tenantrytest"
	"github.com/tenantry/tenantry/token"
)

// FailNext(1, Status(503)) fails one token request with Entra's transient
// error JSON; the retry succeeds; the record shows both.
func TestFailNextStatusThenSuccess(t *testing.T) {
	s := newSeeded(t)
	s.srv.FailNext("token", 1, tenantrytest.Status(http.StatusServiceUnavailable))
	u := s.srv.Authority(s.contoso.ID) + "/oauth2/v2.0/token"
	status, body := post(t, s.srv.Client(), u, s.ccForm())
	if status != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" {
		t.Fatalf("first request: %d %v", status, body)
	}
	if d, _ := body["error_description"].(string); !strings.HasPrefix(d, "AADSTS90033:") {
		t.Errorf("error_description = %q", d)
	}
	if status, body = post(t, s.srv.Client(), u, s.ccForm()); status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("retry: %d %v", status, body)
	}
	reqs := s.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests recorded, want 2: %+v", len(reqs), reqs)
	}
	if r := reqs[0]; r.Fault != "status" || r.Status != 503 || r.Code != 90033 || r.Endpoint != "token" || r.Tenant != s.contoso.ID || r.Method != "POST" {
		t.Errorf("first = %+v", r)
	}
	if r := reqs[1]; r.Fault != "" || r.Status != 200 || r.Code != 0 || r.Error != "" {
		t.Errorf("second = %+v", r)
	}
	if s.srv.LastError().Code != 90033 {
		t.Errorf("LastError = %+v", s.srv.LastError())
	}
}

// Faults armed at one endpoint apply in order and leave other endpoints
// alone; Fail lasts until ClearFaults.
func TestFaultsQueueAndClear(t *testing.T) {
	s := newSeeded(t)
	s.srv.FailNext("token", 2, tenantrytest.Status(500))
	s.srv.FailNext("token", 1, tenantrytest.Status(429))
	s.srv.Fail("token", tenantrytest.Status(502))
	u := s.srv.Authority(s.contoso.ID) + "/oauth2/v2.0/token"
	var got []int
	for range 5 {
		status, _ := post(t, s.srv.Client(), u, s.ccForm())
		got = append(got, status)
	}
	if want := []int{500, 500, 429, 502, 502}; !equalInts(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if status, _ := get(t, s.srv.Client(), s.srv.Authority(s.contoso.ID)+"/v2.0/.well-known/openid-configuration"); status != http.StatusOK {
		t.Errorf("discovery failed with the token endpoint: %d", status)
	}
	s.srv.ClearFaults()
	if status, _ := post(t, s.srv.Client(), u, s.ccForm()); status != http.StatusOK {
		t.Errorf("after ClearFaults: %d", status)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A delay holds the request: a client whose context ends first gets its
// context's error, and a later request is served after its own delay.
func TestDelayHonoursTheClientContext(t *testing.T) {
	s := newSeeded(t)
	s.srv.FailNext("token", 1, tenantrytest.Delay(time.Hour))
	s.srv.FailNext("token", 1, tenantrytest.Delay(time.Millisecond))
	u := s.srv.Authority(s.contoso.ID) + "/oauth2/v2.0/token"
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(s.ccForm().Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := s.srv.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("delayed request: %v, want the deadline", err)
	}
	if status, _ := post(t, s.srv.Client(), u, s.ccForm()); status != http.StatusOK {
		t.Fatalf("second delayed request: %d", status)
	}
	s.srv.Close() // waits for the abandoned request's handler
	reqs := s.srv.Requests()
	var abandoned, served int
	for _, r := range reqs {
		switch {
		case r.Fault == "delay" && r.Status == 0:
			abandoned++
		case r.Fault == "delay" && r.Status == 200:
			served++
		}
	}
	if abandoned != 1 || served != 1 {
		t.Errorf("requests = %+v, want one abandoned and one served delay", reqs)
	}
}

// Reset closes the connection without an answer.
func TestResetClosesTheConnection(t *testing.T) {
	s := newSeeded(t)
	s.srv.Fail("token", tenantrytest.Reset())
	resp, err := s.srv.Client().PostForm(s.srv.Authority(s.contoso.ID)+"/oauth2/v2.0/token", s.ccForm())
	if err == nil {
		resp.Body.Close()
		t.Fatalf("reset: got a response %d", resp.StatusCode)
	}
	if r := s.srv.Requests(); len(r) == 0 || r[0].Fault != "reset" || r[0].Status != 0 {
		t.Errorf("requests = %+v", r)
	}
}

// keySetValidator validates tokens for the API with keys fetched from the
// Server's JWKS endpoint on the Server's clock.
func keySetValidator(t *testing.T, s *seeded) *token.Validator {
	t.Helper()
	v, err := token.NewValidator(token.ValidatorConfig{
		Keys: token.NewRemoteKeySet(s.srv.Authority("common")+"/discovery/v2.0/keys",
			token.RemoteOptions{HTTPClient: s.srv.Client(), Now: s.srv.Now}),
		Issuers:   []string{s.srv.URL() + "/" + s.contoso.ID + "/v2.0"},
		Audiences: s.api.Audiences(),
		Now:       s.srv.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A key set that is not JSON makes validation fail; once the endpoint
// heals, the key set's next attempt (after its minimum refresh interval)
// succeeds.
func TestBrokenJWKSFailsValidation(t *testing.T) {
	s := newSeeded(t)
	raw := s.srv.AppToken(t, s.contoso, s.daemon, s.api)
	v := keySetValidator(t, s)
	s.srv.Fail("keys", tenantrytest.BrokenJWKS())
	if _, err := v.Validate(context.Background(), raw); err == nil {
		t.Fatal("a token validated against a broken key set")
	}
	s.srv.ClearFaults()
	s.srv.Advance(token.DefaultMinRefreshInterval)
	if _, err := v.Validate(context.Background(), raw); err != nil {
		t.Fatalf("after the endpoint healed: %v", err)
	}
	var broken int
	for _, r := range s.srv.Requests() {
		if r.Endpoint == "keys" && r.Fault == "broken-jwks" {
			broken++
		}
	}
	if broken != 1 {
		t.Errorf("%d broken key set answers recorded, want 1", broken)
	}
}

// A key set missing the token's kid makes validation fail: an empty set
// does not parse, and a set holding only another key lacks the kid
// (token.ErrUnknownKey).
func TestJWKSWithoutTheKid(t *testing.T) {
	s := newSeeded(t)
	s.srv.FailNext("keys", 1, tenantrytest.JWKSWithout())
	status, body := get(t, s.srv.Client(), s.srv.Authority("common")+"/discovery/v2.0/keys")
	if keys, _ := body["keys"].([]any); status != http.StatusOK || body["keys"] == nil || len(keys) != 0 {
		t.Fatalf("key set without keys: %d %v", status, body)
	}
	old := s.srv.AppToken(t, s.contoso, s.daemon, s.api)
	s.srv.FailNext("keys", 1, tenantrytest.JWKSWithout())
	if _, err := keySetValidator(t, s).Validate(context.Background(), old); err == nil {
		t.Fatal("a token validated against an empty key set")
	}
	s.srv.RotateKeys()
	raw := s.srv.AppToken(t, s.contoso, s.daemon, s.api)
	kid, _ := header(t, raw)["kid"].(string)
	s.srv.FailNext("keys", 1, tenantrytest.JWKSWithout(kid))
	if _, err := keySetValidator(t, s).Validate(context.Background(), raw); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("validate against a set without the kid: %v, want ErrUnknownKey", err)
	}
}

// Faults are checked when armed: an unknown endpoint, a status clients
// must not retry, a key set fault elsewhere than keys, a nil fault.
func TestFaultsAreChecked(t *testing.T) {
	cases := map[string]func(srv *tenantrytest.Server){
		"unknown endpoint":   func(srv *tenantrytest.Server) { srv.Fail("tokens", tenantrytest.Status(503)) },
		"non-retryable":      func(srv *tenantrytest.Server) { srv.Fail("token", tenantrytest.Status(400)) },
		"key set fault":      func(srv *tenantrytest.Server) { srv.Fail("token", tenantrytest.BrokenJWKS()) },
		"nil fault":          func(srv *tenantrytest.Server) { srv.Fail("token", nil) },
		"no count":           func(srv *tenantrytest.Server) { srv.FailNext("token", 0, tenantrytest.Reset()) },
		"non-positive delay": func(srv *tenantrytest.Server) { srv.Fail("token", tenantrytest.Delay(0)) },
	}
	for name, arm := range cases {
		msg := failure(t, func(tb testing.TB) { arm(tenantrytest.NewServer(tb)) })
		if !strings.HasPrefix(msg, "tenantrytest: ") {
			t.Errorf("%s: failure = %q", name, msg)
		}
	}
}

// Under concurrent requests FailNext fails exactly n of them, and every
// request is recorded once.
func TestFaultsUnderConcurrency(t *testing.T) {
	s := newSeeded(t)
	s.srv.FailNext("token", 3, tenantrytest.Status(503))
	u := s.srv.Authority(s.contoso.ID) + "/oauth2/v2.0/token"
	const n = 12
	statuses := make(chan int, n)
	for range n {
		go func() {
			resp, err := s.srv.Client().PostForm(u, s.ccForm())
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	count := map[int]int{}
	for range n {
		count[<-statuses]++
	}
	if count[503] != 3 || count[200] != n-3 {
		t.Errorf("statuses = %v, want 3×503 and %d×200", count, n-3)
	}
	if got := len(s.srv.Requests()); got != n {
		t.Errorf("%d requests recorded, want %d", got, n)
	}
}

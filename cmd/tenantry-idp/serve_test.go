package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/token"
)

// The command started on 127.0.0.1:0 with the example seed serves a client
// credentials token over HTTPS to a client trusting the written
// certificate file, answers its health endpoint, logs no secret or token,
// and returns 0 once its context ends.
func TestRunServesSeededDirectoryOverHTTPS(t *testing.T) {
	data := t.TempDir()
	in := start(t, "-addr", "127.0.0.1:0", "-seed", "testdata/seed.json", "-data", data, "-log-format", "json")
	if !strings.HasPrefix(in.base, "https://127.0.0.1:") {
		t.Fatalf("base %q", in.base)
	}
	if want := filepath.Join(data, "tenantry-idp.pem"); in.cert != want {
		t.Errorf("certificate written to %q, want %q", in.cert, want)
	}

	resp, err := in.client.Get(in.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := decode(t, resp); code != http.StatusOK || body["status"] != "ok" {
		t.Errorf("health: %d %v", code, body)
	}

	// A client that does not trust the certificate is refused.
	if _, err := http.Get(in.base + "/healthz"); err == nil {
		t.Error("a client without the certificate connected")
	}

	code, body := in.token(seedDaemon, daemonSecret, "api://"+seedAPI+"/.default")
	if code != http.StatusOK {
		t.Fatalf("token: %d %v", code, body)
	}
	at, _ := body["access_token"].(string)
	c := claims(t, at)
	if c["iss"] != in.base+"/"+seedTenant+"/v2.0" || c["oid"] != seedDaemonSP || !slices.Contains(c["roles"].([]any), any("Orders.Read.All")) {
		t.Errorf("token claims: iss %v oid %v roles %v", c["iss"], c["oid"], c["roles"])
	}
	if code, body := in.token(seedDaemon, "wrong-secret-0123456789", "api://"+seedAPI+"/.default"); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d %v", code, body)
	}

	resp, err = in.client.Get(in.base + "/" + seedTenant + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := decode(t, resp); code != http.StatusOK || body["token_endpoint"] != in.base+"/"+seedTenant+"/oauth2/v2.0/token" {
		t.Errorf("discovery: %d token_endpoint %v", code, body["token_endpoint"])
	}

	if code := in.stop(); code != 0 {
		t.Errorf("exit code %d after the context ended; stderr:\n%s", code, in.stderr)
	}
	out, logs := in.stdout.String(), in.stderr.String()
	for _, want := range []string{"authority (Contoso): " + in.base + "/" + seedTenant + "/v2.0", "SSL_CERT_FILE=" + in.cert, "tenantry-idp: stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{`"endpoint":"token"`, `"outcome":"success"`, `"outcome":"refused"`, `"aadsts":7000215`, `"correlation_id":"`, `"duration":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{daemonSecret, "wrong-secret-0123456789", at, strings.Split(at, ".")[2]} {
		if strings.Contains(out+logs, secret) {
			t.Errorf("the output holds a secret or token (%.12s…)", secret)
		}
	}
}

// With -insecure-http the command serves plain HTTP, announces http
// issuers and writes no certificate.
func TestRunInsecureHTTP(t *testing.T) {
	data := t.TempDir()
	in := start(t, "-addr", "127.0.0.1:0", "-insecure-http", "-data", data)
	if !strings.HasPrefix(in.base, "http://127.0.0.1:") || in.cert != "" {
		t.Fatalf("base %q, certificate %q", in.base, in.cert)
	}
	resp, err := in.client.Get(in.base + "/common/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := decode(t, resp); code != http.StatusOK || !strings.HasPrefix(body["token_endpoint"].(string), in.base+"/") {
		t.Errorf("discovery: %d %v", code, body["token_endpoint"])
	}
	if _, err := os.Stat(filepath.Join(data, "tenantry-idp.pem")); !os.IsNotExist(err) {
		t.Errorf("a certificate was written over http: %v", err)
	}
	if code := in.stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// The command fails, without serving, on a bad seed, and says why.
func TestRunRefusesBadSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(`{"tenants":[{"id":"x","displayName":"Bad"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-seed", path, "-data", t.TempDir()}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), `seed: tenants[0] "Bad": id: must be a GUID`) || strings.Contains(stdout.String(), "listening") {
		t.Errorf("code %d\nstdout %s\nstderr %s", code, stdout.String(), stderr.String())
	}
}

func TestHTTPServerBounds(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes != 64<<10 || srv.ErrorLog == nil {
		t.Errorf("server bounds: header %v read %v write %v idle %v max header %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	// The header bound holds on a served connection: the handler answers
	// a 20 KiB header in Entra's JSON, net/http a 100 KiB one.
	dir, err := tenantry.New(context.Background(), tenantry.Config{Tokens: tenantry.TokenConfig{Authority: token.Authority{V2Base: "http://127.0.0.1", V1Base: "http://127.0.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	base, _ := url.Parse("http://127.0.0.1")
	h, err := newHandler(dir, base, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv = newHTTPServer(h, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 20<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(body), `"error_codes":[9002313]`) {
		t.Errorf("a 20 KiB header: %d %s, want 431 in Entra's JSON", resp.StatusCode, body)
	}
	req.Header.Set("X-Big", strings.Repeat("a", 100<<10))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 100 KiB header: %d, want 431", resp.StatusCode)
	}
}

// The request log records the correlation id, endpoint, status, outcome,
// AADSTS code and duration of token requests, and neither the secrets of a
// refused and an accepted request nor the token issued.
func TestRequestLogHoldsNoSecret(t *testing.T) {
	m, err := loadSeed("testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := newDirectory(t)
	if _, err := applySeed(context.Background(), dir, m); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	base, _ := url.Parse("https://idp.test")
	h, err := newHandler(dir, base, newLogger("text", &logs))
	if err != nil {
		t.Fatal(err)
	}
	post := func(secret string) (int, string) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {seedDaemon}, "client_secret": {secret}, "scope": {"api://" + seedAPI + "/.default"}}
		req := httptest.NewRequest(http.MethodPost, "https://idp.test/"+seedTenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("client-request-id", "4b2b1b5e-0f63-4b8e-9d2a-6c1e7f0a9b3d")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	const wrong = "not-the-daemon-secret-42"
	if code, _ := post(wrong); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	code, body := post(daemonSecret)
	if code != http.StatusOK {
		t.Fatalf("right secret: %d %s", code, body)
	}
	_, tok, _ := strings.Cut(body, `"access_token":"`)
	tok, _, _ = strings.Cut(tok, `"`)
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("no token in %s", body)
	}
	out := logs.String()
	for _, want := range []string{"correlation_id=4b2b1b5e-0f63-4b8e-9d2a-6c1e7f0a9b3d", "endpoint=token", "status=401", "outcome=refused", "aadsts=7000215", "status=200", "outcome=success", "duration="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{wrong, daemonSecret, tok, strings.Split(tok, ".")[2]} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a secret or token (%.12s…):\n%s", secret, out)
		}
	}
}

// The certificate file holds a certificate authority that the server
// certificate chains to for the -addr host, localhost and the loopback
// addresses.
func TestCertificateNames(t *testing.T) {
	now := time.Now()
	cert, caPEM, err := newCertificate([]string{"idp.test", "192.0.2.7"}, now)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("the file's certificate: %v, CA %v", err, ca != nil && ca.IsCA)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"idp.test", "192.0.2.7", "localhost", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "other.test", CurrentTime: now}); err == nil {
		t.Error("the certificate is valid for other.test")
	}
	path, err := writeCertFile(filepath.Join(t.TempDir(), "sub", "ca.pem"), caPEM)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, caPEM) {
		t.Errorf("written file: %v", err)
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// Ids and secrets of testdata/seed.json.
const (
	seedTenant    = "7d0a6a1c-1111-4c2e-9a57-3f0b6d2e8a01"
	seedAPI       = "7d0a6a1c-4444-4c2e-9a57-3f0b6d2e8a01"
	seedDaemon    = "7d0a6a1c-4444-4c2e-9a57-3f0b6d2e8a02"
	seedDaemonSP  = "7d0a6a1c-7777-4c2e-9a57-3f0b6d2e8a02"
	seedWeb       = "7d0a6a1c-4444-4c2e-9a57-3f0b6d2e8a03"
	daemonSecret  = "daemon-dev-secret-0123456789"
	webSecret     = "web-dev-secret-0123456789"
	adminPassword = "admin-dev-password"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lineWriter hands each complete line written to it to a channel.
type lineWriter struct {
	mu      sync.Mutex
	partial []byte
	all     strings.Builder
	lines   chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1024)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.lines <- string(w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// instance is the command running in a goroutine.
type instance struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan int
	stdout *lineWriter
	stderr *syncBuffer
	base   string
	cert   string // the written certificate file; "" over http
	client *http.Client
}

// start runs the command with args until the test ends (or stop), and
// waits for it to say where it listens.
func start(t *testing.T, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{t: t, cancel: cancel, done: make(chan int, 1), stdout: newLineWriter(), stderr: &syncBuffer{}}
	go func() { in.done <- run(ctx, args, in.stdout, in.stderr) }()
	t.Cleanup(func() { in.stop() })
	for in.base == "" {
		select {
		case line := <-in.stdout.lines:
			if p, ok := strings.CutPrefix(line, "certificate: "); ok {
				in.cert, _, _ = strings.Cut(p, " ")
			}
			if p, ok := strings.CutPrefix(line, "listening: "); ok {
				in.base = p
			}
		case code := <-in.done:
			in.done <- code
			t.Fatalf("run returned %d before listening; stderr:\n%s", code, in.stderr)
		}
	}
	tr := &http.Transport{}
	if in.cert != "" {
		pem, err := os.ReadFile(in.cert)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", in.cert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	in.client = &http.Client{Transport: tr}
	return in
}

// stop cancels the command's context and returns its exit code.
func (in *instance) stop() int {
	in.cancel()
	code := <-in.done
	in.done <- code
	in.client.CloseIdleConnections()
	return code
}

// token posts a client credentials request and returns the status and the
// decoded body.
func (in *instance) token(clientID, secret, scope string) (int, map[string]any) {
	in.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope}}
	resp, err := in.client.PostForm(in.base+"/"+seedTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		in.t.Fatal(err)
	}
	return decode(in.t, resp)
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
		t.Fatalf("%s: not JSON: %s", resp.Request.URL.Path, raw)
	}
	return resp.StatusCode, body
}

// claims decodes a JWT's payload without checking it (the server's own
// tests check signatures).
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:8443" || c.storeURL != "memory:" || c.logFormat != "text" || c.insecureHTTP || c.certOut != filepath.Join(".", "tenantry-idp.pem") {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseFlags([]string{"-data", "/var/lib/idp"}, &bytes.Buffer{})
	if err != nil || c.certOut != "/var/lib/idp/tenantry-idp.pem" {
		t.Errorf("-data: cert-out %q, %v", c.certOut, err)
	}
	c, err = parseFlags([]string{"-data", "/var/lib/idp", "-cert-out", "ca.pem"}, &bytes.Buffer{})
	if err != nil || c.certOut != "ca.pem" {
		t.Errorf("-cert-out: %q, %v", c.certOut, err)
	}
}

func TestParseFlagsRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-log-format", "xml"}, "-log-format"},
		{[]string{"-addr", "8443"}, "-addr"},
		{[]string{"-base-url", "http://localhost:8080"}, "-insecure-http"},
		{[]string{"-base-url", "ftp://localhost"}, "https"},
		{[]string{"-base-url", "https://idp.example/tenant"}, "scheme://host"},
		{[]string{"-shutdown-timeout", "0s"}, "-shutdown-timeout"},
		{[]string{"-no-such-flag"}, "no-such-flag"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		var stderr bytes.Buffer
		_, err := parseFlags(c.args, &stderr)
		if err == nil {
			t.Errorf("%v: accepted", c.args)
			continue
		}
		if msg := err.Error() + stderr.String(); !strings.Contains(msg, c.want) {
			t.Errorf("%v: %q does not mention %q", c.args, msg, c.want)
		}
	}
	// An http base URL is accepted with -insecure-http, as the proxy case.
	if _, err := parseFlags([]string{"-insecure-http", "-base-url", "http://localhost:8080"}, &bytes.Buffer{}); err != nil {
		t.Error(err)
	}
}

// run refuses an http base URL without -insecure-http before it listens.
func TestRunRefusesHTTPBaseWithoutInsecureHTTP(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-base-url", "http://127.0.0.1:8080"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "pass -insecure-http") || strings.Contains(stdout.String(), "listening") {
		t.Errorf("code %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

func TestBaseFor(t *testing.T) {
	ln := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40123}
	for _, c := range []struct {
		cfg  config
		want string
	}{
		{config{addr: "127.0.0.1:0"}, "https://127.0.0.1:40123"},
		{config{addr: "0.0.0.0:8443"}, "https://localhost:40123"},
		{config{addr: ":8443"}, "https://localhost:40123"},
		{config{addr: "[::1]:8443"}, "https://[::1]:40123"},
		{config{addr: "idp.test:8443"}, "https://idp.test:40123"},
		{config{addr: "127.0.0.1:0", insecureHTTP: true}, "http://127.0.0.1:40123"},
		{config{addr: "127.0.0.1:0", baseURL: "https://login.dev.example/"}, "https://login.dev.example"},
		{config{addr: "127.0.0.1:0", baseURL: "https://login.dev.example", insecureHTTP: true}, "https://login.dev.example"},
	} {
		u, err := baseFor(c.cfg, ln)
		if err != nil || u.String() != c.want {
			t.Errorf("%+v: %v, %v; want %s", c.cfg, u, err, c.want)
		}
	}
}

func TestOpenStore(t *testing.T) {
	ctx := context.Background()
	for _, ok := range []string{"memory:", "memory"} {
		st, err := openStore(ctx, ok)
		if err != nil {
			t.Errorf("%s: %v", ok, err)
			continue
		}
		st.Close()
	}
	for _, bad := range []string{"memory://host", "redis://u:s3cret-pw@h", "bolt:/tmp/x", "postgres://idp:s3cret-pw@127.0.0.1:1/idp?connect_timeout=1"} {
		if _, err := openStore(ctx, bad); err == nil || strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestKeyEncryptionKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	k1, made, err := loadKeyEncryptionKey(path)
	if err != nil || !made || len(k1) != 32 {
		t.Fatalf("first load: %v %v %d", err, made, len(k1))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}
	k2, made, err := loadKeyEncryptionKey(path)
	if err != nil || made || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: %v %v", err, made)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadKeyEncryptionKey(path); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

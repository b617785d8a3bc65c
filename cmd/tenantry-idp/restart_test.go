package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/token"
)

// With a PostgreSQL store the directory survives a restart: the second
// process (same store, same key file, seed applied again) signs the same
// user in with her password, and the first process's tokens validate
// against the second's key set.
func TestRestartKeepsTheDirectory(t *testing.T) {
	pgURL := os.Getenv("TENANTRY_POSTGRES_URL")
	if pgURL == "" {
		t.Skip("TENANTRY_POSTGRES_URL is not set: the restart test needs a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "idp_restart_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), pgURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	storeURL := pgURL + "&schema=" + schema
	// One address for both processes: the issuers name it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := t.TempDir()
	args := []string{"-addr", addr, "-seed", "testdata/seed.json", "-store", storeURL, "-data", data}

	first := start(t, args...)
	status, body := first.passwordToken("ada@contoso.com", "ada-dev-password")
	if status != 200 {
		t.Fatalf("first process: %d %v", status, body)
	}
	old := body["access_token"].(string)
	oid := claims(t, old)["oid"]
	if code := first.stop(); code != 0 {
		t.Fatalf("first process exited %d", code)
	}

	second := start(t, args...)
	status, body = second.passwordToken("ada@contoso.com", "ada-dev-password")
	if status != 200 {
		t.Fatalf("second process: %d %v", status, body)
	}
	if got := claims(t, body["access_token"].(string))["oid"]; got != oid {
		t.Fatalf("the same user is %v after the restart, was %v", got, oid)
	}
	resp, err := second.client.Get(second.base + "/" + seedTenant + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	keys, err := token.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewValidator(token.ValidatorConfig{Keys: keys, Issuers: []string{second.base + "/" + seedTenant + "/v2.0"}, Audiences: []string{seedAPI}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), old); err != nil {
		t.Fatalf("the first process's token against the second's keys: %v", err)
	}
	if !strings.Contains(second.stdout.String(), "seed: testdata/seed.json applied, 0 changes") {
		t.Errorf("re-applying the seed changed something:\n%s", second.stdout.String())
	}
}

// passwordToken signs a user in with the password grant at the seeded web
// app.
func (in *instance) passwordToken(user, password string) (int, map[string]any) {
	in.t.Helper()
	form := url.Values{"grant_type": {"password"}, "client_id": {seedWeb}, "client_secret": {webSecret},
		"username": {user}, "password": {password}, "scope": {"api://" + seedAPI + "/Orders.Read openid"}}
	resp, err := in.client.PostForm(in.base+"/"+seedTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		in.t.Fatal(err)
	}
	return decode(in.t, resp)
}

package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

const roleRead = "5d2f3c1e-7a8b-4c9d-8e0f-1a2b3c4d5e6f"

// serve is the child: a directory with a daemon granted an app role of an
// API, served over plain HTTP on a loopback port.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	algName := fs.String("alg", "RS256", "")
	storeURL := fs.String("store", "memory", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	alg := token.Algorithm(*algName)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	st, drop, err := openStore(ctx, *storeURL)
	if err != nil {
		return err
	}
	defer drop()
	tc := tenantry.TokenConfig{Algorithm: alg, Authority: token.Authority{V2Base: base, V1Base: base}}
	if st != nil { // a durable store keeps the signing keys sealed
		tc.KeyEncryptionKey = []byte("tenantry-load key-encryption key")
	}
	dir, err := tenantry.New(ctx, tenantry.Config{Store: st, Tokens: tc})
	if err != nil {
		return err
	}
	defer dir.Close()
	sys := tenantry.System()
	tn, err := dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso"})
	if err != nil {
		return err
	}
	api, err := dir.CreateApplication(ctx, sys, tn.ID, application.Application{DisplayName: "Orders API", IdentifierURIs: []string{"api://contoso.onmicrosoft.com/orders"},
		AppRoles: []application.AppRole{{ID: roleRead, Value: "Orders.Read.All", DisplayName: "Read all orders", Description: "Read all orders",
			AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}}})
	if err != nil {
		return err
	}
	app, err := dir.CreateApplication(ctx, sys, tn.ID, application.Application{DisplayName: "Orders Daemon",
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID, ResourceAccess: []application.ResourceAccess{{ID: roleRead, Type: application.AccessRole}}}}})
	if err != nil {
		return err
	}
	pw, err := dir.AddPassword(ctx, sys, app.ID, tenantry.PasswordSpec{DisplayName: "load"})
	if err != nil {
		return err
	}
	admin, err := dir.CreateUser(ctx, sys, tn.ID, tenantry.UserSpec{UserPrincipalName: "admin@contoso.onmicrosoft.com"})
	if err != nil {
		return err
	}
	if _, err := dir.AssignDirectoryRole(ctx, sys, tn.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator}); err != nil {
		return err
	}
	if _, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), tn.ID, tenantry.ConsentSpec{ClientAppID: app.AppID, Default: true, TenantWide: true}); err != nil {
		return err
	}
	req := tenantry.TokenRequest{Tenant: tn.ID, GrantType: tenantry.GrantClientCredentials, ClientID: app.AppID, ClientSecret: pw.SecretText, Scope: "api://contoso.onmicrosoft.com/orders/.default"}
	if _, err := dir.Issuer().Token(ctx, req); err != nil {
		return err
	}
	inProc := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := dir.Issuer().Token(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	raw, err := rawSign(alg)
	if err != nil {
		return err
	}
	h, err := server.New(server.Config{Issuer: dir.Issuer(), InsecureHTTP: true})
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.AppID}, "client_secret": {pw.SecretText}, "scope": {req.Scope}}
	line, _ := json.Marshal(ready{URL: base + "/" + tn.ID + "/oauth2/v2.0/token", Form: form.Encode(), PID: os.Getpid(), Algorithm: string(alg),
		RawSignUS: float64(raw.NsPerOp()) / 1e3, InProcUS: float64(inProc.NsPerOp()) / 1e3, GOMAXPROCS: runtime.GOMAXPROCS(0)})
	fmt.Println(string(line))
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openStore opens the store the server runs on: the memory store, or
// PostgreSQL at a postgres:// URL, in a fresh schema that drop removes
// (after the Directory closed the store).
func openStore(ctx context.Context, where string) (st store.Store, drop func(), err error) {
	if where == "memory" {
		return nil, func() {}, nil // tenantry.New's default
	}
	if !strings.HasPrefix(where, "postgres://") && !strings.HasPrefix(where, "postgresql://") {
		return nil, nil, fmt.Errorf("-store: want memory or a postgres:// URL, got %q", where)
	}
	schema := fmt.Sprintf("tenantry_load_%d", os.Getpid())
	s, err := postgres.Open(ctx, postgres.Config{URL: where, Schema: schema})
	if err != nil {
		return nil, nil, err
	}
	drop = func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(dctx, where)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tenantry-load: drop schema:", err)
			return
		}
		defer conn.Close(dctx)
		if _, err := conn.Exec(dctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			fmt.Fprintln(os.Stderr, "tenantry-load: drop schema:", err)
		}
	}
	return s, drop, nil
}

// rawSign measures the signature alone (SHA-256 digest signed by the
// primitive), the floor of any issuance.
func rawSign(alg token.Algorithm) (testing.BenchmarkResult, error) {
	var signer crypto.Signer
	var opts crypto.SignerOpts = crypto.SHA256
	var err error
	switch alg {
	case token.RS256:
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case token.ES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case token.EdDSA:
		_, signer, err = ed25519.GenerateKey(rand.Reader)
		opts = crypto.Hash(0)
	default:
		return testing.BenchmarkResult{}, fmt.Errorf("unknown algorithm %q", alg)
	}
	if err != nil {
		return testing.BenchmarkResult{}, err
	}
	digest := sha256.Sum256([]byte("header.claims"))
	msg := digest[:]
	if alg == token.EdDSA {
		msg = []byte("header.claims")
	}
	return testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := signer.Sign(rand.Reader, msg, opts); err != nil {
				b.Fatal(err)
			}
		}
	}), nil
}

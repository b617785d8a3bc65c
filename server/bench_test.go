package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// benchServer is a plain-HTTP loopback server (as the peers' figures were
// measured) with a confidential client granted an app role.
type benchServer struct {
	iss  *tenantry.Issuer
	url  string
	tid  string
	form string
	req  tenantry.TokenRequest
}

func newBenchServer(b *testing.B, alg token.Algorithm) *benchServer {
	b.Helper()
	ctx := context.Background()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	dir, err := tenantry.New(ctx, tenantry.Config{Tokens: tenantry.TokenConfig{Algorithm: alg, Authority: token.Authority{V2Base: base, V1Base: base}, KeyRefreshInterval: time.Hour}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dir.Close() })
	s, err := server.New(server.Config{Issuer: dir.Issuer(), InsecureHTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	ts.Config.Handler = s
	ts.Start()
	b.Cleanup(ts.Close)
	sys := tenantry.System()
	tn, _ := dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso"})
	api, err := dir.CreateApplication(ctx, sys, tn.ID, application.Application{DisplayName: "Orders API", IdentifierURIs: []string{"api://contoso.onmicrosoft.com/orders"},
		AppRoles: []application.AppRole{{ID: roleRead, Value: "Orders.Read.All", DisplayName: "Read", Description: "Read", AllowedMemberTypes: []string{application.MemberTypeApplication}, IsEnabled: true}}})
	if err != nil {
		b.Fatal(err)
	}
	app, _ := dir.CreateApplication(ctx, sys, tn.ID, application.Application{DisplayName: "Daemon",
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: api.AppID, ResourceAccess: []application.ResourceAccess{{ID: roleRead, Type: application.AccessRole}}}}})
	pw, _ := dir.AddPassword(ctx, sys, app.ID, tenantry.PasswordSpec{})
	admin, _ := dir.CreateUser(ctx, sys, tn.ID, tenantry.UserSpec{UserPrincipalName: "admin@contoso.onmicrosoft.com"})
	_, _ = dir.AssignDirectoryRole(ctx, sys, tn.ID, tenantry.DirectoryRoleSpec{PrincipalID: admin.ID, RoleID: tenant.RoleGlobalAdministrator})
	if _, err := dir.Consent(ctx, tenantry.UserActor(admin.ID), tn.ID, tenantry.ConsentSpec{ClientAppID: app.AppID, Default: true, TenantWide: true}); err != nil {
		b.Fatal(err)
	}
	req := tenantry.TokenRequest{Tenant: tn.ID, GrantType: tenantry.GrantClientCredentials, ClientID: app.AppID, ClientSecret: pw.SecretText, Scope: "api://contoso.onmicrosoft.com/orders/.default"}
	form := "grant_type=client_credentials&client_id=" + app.AppID + "&client_secret=" + pw.SecretText + "&scope=api%3A%2F%2Fcontoso.onmicrosoft.com%2Forders%2F.default"
	if _, err := dir.Issuer().Token(ctx, req); err != nil {
		b.Fatal(err)
	}
	return &benchServer{iss: dir.Issuer(), url: base + "/" + tn.ID + "/oauth2/v2.0/token", tid: tn.ID, form: form, req: req}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTokenEndpoint measures client-credentials tokens over loopback
// HTTP with keep-alive at concurrency 8, beside in-process issuance and the
// raw signature in the same run. Metrics: tokens/s, p50 and p99 latency,
// and CPU per token (client and server together: an upper bound of the
// server's own).
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, alg := range []token.Algorithm{token.RS256, token.ES256} {
		name := string(alg)
		b.Run("RawSign/"+name, func(b *testing.B) {
			var signer crypto.Signer
			var opts crypto.SignerOpts = crypto.SHA256
			if alg == token.RS256 {
				signer, _ = rsa.GenerateKey(rand.Reader, 2048)
			} else {
				signer, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			}
			digest := sha256.Sum256([]byte("header.claims"))
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := signer.Sign(rand.Reader, digest[:], opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e3, "cpu-µs/op")
		})
		bs := newBenchServer(b, alg)
		b.Run("InProcess/"+name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := bs.iss.Token(ctx, bs.req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e3, "cpu-µs/op")
		})
		b.Run("HTTP/"+name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(4) // 8 goroutines on this 2-core machine
			b.ReportAllocs()
			b.ResetTimer()
			start, wall := cpuTime(), time.Now()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					resp, err := client.Post(bs.url, "application/x-www-form-urlencoded", strings.NewReader(bs.form))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			elapsed, cpu := time.Since(wall), cpuTime()-start
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "tokens/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(cpu)/float64(len(lat))/1e3, "cpu-µs/op")
			}
		})
	}
}

// BenchmarkHandler is the handler's cost without the network: the token
// endpoint's ServeHTTP on a recorded request, beside Issuer.Token.
func BenchmarkHandler(b *testing.B) {
	bs := newBenchServer(b, token.ES256)
	h, err := server.New(server.Config{Issuer: bs.iss, InsecureHTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Issuer.Token", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bs.iss.Token(context.Background(), bs.req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ServeHTTP", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, bs.url, strings.NewReader(bs.form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
	})
}

package tenantrytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/store/storeurl"
	"github.com/tenantry/tenantry/token"
)

// Server is a fake Microsoft Entra ID for a test: an httptest TLS server
// serving package server's endpoints over a [tenantry.Directory] with a
// manual clock. Create it with [NewServer] (closed when the test ends) or
// [Start]. A Server is safe for concurrent use, but its seeding helpers
// fail the test given to NewServer, which must happen on that test's
// goroutine: a subtest seeds through its own Server (they are cheap) or
// through Directory().
type Server struct {
	t   failer
	ts  *httptest.Server
	dir *tenantry.Directory
	// dropStore closes the store StoreURL opened and drops its schema.
	dropStore func() error
	clock     *tenantry.ManualClock
	client    *http.Client
	// transport is client's, closed with the Server.
	transport *http.Transport
	closeOnce sync.Once
	base      string // the authority's base URL, no trailing slash
	entra     bool
	// closing is closed when the test ends, so that injected delays stop.
	closing chan struct{}

	mu        sync.Mutex
	requests  []Request
	pending   map[string]string // correlation id → fault applied before serving
	faults    map[string][]*armed
	secrets   map[string]string // appId → the last secret this Server added
	certs     int               // client certificates made so far
	queue     []string          // users signed in by the next authorize requests
	loginHint bool
}

// Option configures a Server.
type Option func(*options)

type options struct {
	entra     bool
	start     time.Time
	noHint    bool
	storeURL  string
	configure []func(*tenantry.Config)
}

// StoreURL sets the Directory's store by URL (package store/storeurl):
// "memory:" (the default) or "postgres://…", for which the Server makes a
// schema of its own and drops it when it closes. Without this option the
// environment variable TENANTRY_TEST_STORE names the store, so that a test
// suite runs against PostgreSQL unchanged.
func StoreURL(url string) Option { return func(o *options) { o.storeURL = url } }

// AsEntra makes the Server answer as Entra's public cloud: its Directory's
// authority is https://login.microsoftonline.com (v2 issuers) and
// https://sts.windows.net (v1 issuers), its certificate covers
// login.microsoftonline.com, sts.windows.net, login.windows.net and
// login.microsoft.com, and [Server.Client] sends every connection to those
// hosts on port 443 to the test server. Code that hard-codes Entra's URLs
// then runs unmodified against the fake, as long as the test can give it
// the *http.Client.
func AsEntra() Option { return func(o *options) { o.entra = true } }

// StartAt sets the manual clock's start; the default is the wall clock's
// time when the Server starts, truncated to the second.
func StartAt(t time.Time) Option { return func(o *options) { o.start = t } }

// WithoutLoginHintSignIn turns off sign-in by login_hint: by default an
// authorization request whose login_hint names a user of the directory
// signs that user in without a page (see [Server.QueueSignIn]).
func WithoutLoginHintSignIn() Option { return func(o *options) { o.noHint = true } }

// WithConfig lets fn adjust the Directory's configuration (token
// lifetimes, signing algorithm, lockout, logger, store) before it is
// created. The Server then sets Now (its manual clock), Tokens.Authority
// (its URL) and Tokens.InitialKey (the process's RS256 key, or none for
// another algorithm), whatever fn wrote there.
func WithConfig(fn func(*tenantry.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, fn) }
}

// NewServer starts a fake Entra ID on a TLS httptest server for the test
// and closes it when the test ends. Start-up takes a few milliseconds: the
// signing key (RSA-2048, RS256, as Entra's) and the TLS certificates are
// generated once per process and shared by every Server. The seeding
// helpers and RotateKeys fail t on error.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := start(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a Server outside a test (an Example, a TestMain sharing one
// Server, a development program); the caller must Close it. Where a
// Server made by NewServer fails its test, this one panics with the error.
func Start(opts ...Option) (*Server, error) { return start(panicker{}, opts) }

// failer is how a Server reports a failed helper: a test's testing.TB, or
// panicker.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// panicker fails by panicking, for Servers made by Start.
type panicker struct{}

func (panicker) Helper() {}

func (panicker) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func start(t failer, opts []Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	pk := processPKI()
	if pk.ready != nil {
		return nil, pk.ready
	}
	begin := o.start
	if begin.IsZero() {
		begin = time.Now().UTC().Truncate(time.Second)
	}
	key, err := initialKey(begin)
	if err != nil {
		return nil, err
	}
	ts := httptest.NewUnstartedServer(nil)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{pk.leaf}, MinVersion: tls.VersionTLS12}
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // resets and cancelled clients are expected
	addr := ts.Listener.Addr().String()
	s := &Server{
		t: t, ts: ts, clock: tenantry.NewManualClock(begin), entra: o.entra,
		closing: make(chan struct{}), pending: map[string]string{}, faults: map[string][]*armed{},
		secrets: map[string]string{}, loginHint: !o.noHint,
	}
	authority := token.Authority{V2Base: "https://" + addr, V1Base: "https://" + addr}
	if o.entra {
		authority = token.Authority{V2Base: entraV2Base, V1Base: entraV1Base}
	}
	s.base = authority.V2Base
	cfg := tenantry.Config{Tokens: tenantry.TokenConfig{VerificationURI: s.base + "/devicelogin"}}
	storeURL := o.storeURL
	if storeURL == "" {
		storeURL = os.Getenv("TENANTRY_TEST_STORE")
	}
	if storeURL != "" {
		st, drop, err := storeurl.OpenTemporary(context.Background(), storeURL)
		if err != nil {
			ts.Listener.Close()
			return nil, err
		}
		cfg.Store, s.dropStore = st, drop
	}
	for _, fn := range o.configure {
		fn(&cfg)
	}
	cfg.Now, cfg.Tokens.Authority, cfg.Tokens.InitialKey = s.clock.Now, authority, nil
	if a := cfg.Tokens.Algorithm; a == "" || a == token.RS256 {
		cfg.Tokens.InitialKey = key
	}
	dir, err := tenantry.New(context.Background(), cfg)
	if err != nil {
		ts.Listener.Close()
		if s.dropStore != nil {
			_ = s.dropStore()
		}
		return nil, err
	}
	s.dir = dir
	scfg := server.Config{Issuer: dir.Issuer(), OnRequest: s.record, Now: s.clock.Now}
	installAutoSignIn(&scfg, s)
	h, err := server.New(scfg)
	if err != nil {
		ts.Listener.Close()
		_ = dir.Close()
		return nil, err
	}
	ts.Config.Handler = s.middleware(h)
	ts.StartTLS()
	s.transport = &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pk.pool, MinVersion: tls.VersionTLS12},
		DialContext:         s.dial(addr),
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
	s.client = &http.Client{Transport: s.transport}
	return s, nil
}

// Close shuts the Server down: injected delays end, connections close and
// the Directory's store is closed. It blocks until outstanding requests
// have finished; closing twice is harmless.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.transport.CloseIdleConnections()
		s.ts.Close()
		_ = s.dir.Close()
		if s.dropStore != nil {
			_ = s.dropStore()
		}
	})
}

// dial connects to the test server for its own address and, as Entra,
// for Entra's hosts on port 443; other addresses are dialled as usual.
func (s *Server) dial(addr string) func(ctx context.Context, network, address string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if s.entra {
			if host, port, err := net.SplitHostPort(address); err == nil && port == "443" && isEntraHost(host) {
				address = addr
			}
		}
		return d.DialContext(ctx, network, address)
	}
}

func isEntraHost(host string) bool {
	for _, h := range entraHosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// Client returns an HTTP client that trusts the Server's certificate and,
// with [AsEntra], reaches the Server at Entra's hosts. It uses no proxy.
func (s *Server) Client() *http.Client { return s.client }

// RootCAs returns a pool holding the test certificate authority that
// issued the Server's certificate, for clients that build their own
// transport.
func (s *Server) RootCAs() *x509.CertPool { return processPKI().pool.Clone() }

// URL returns the base URL of the Server's endpoints, without a trailing
// slash: https://127.0.0.1:{port}, or https://login.microsoftonline.com
// with [AsEntra].
func (s *Server) URL() string { return s.base }

// Authority returns the authority of a tenant, URL()/{tenant}, as MSAL and
// azidentity take it: tenant is a tenant id, a verified domain, "common",
// "organizations" or "consumers".
func (s *Server) Authority(tenant string) string { return s.base + "/" + tenant }

// Directory returns the Directory behind the Server, for seeding and
// inspection the helpers do not cover (with tenantry.System() or a
// user's actor).
func (s *Server) Directory() *tenantry.Directory { return s.dir }

// Issuer returns the Directory's token service.
func (s *Server) Issuer() *tenantry.Issuer { return s.dir.Issuer() }

// Now returns the time of the Server's manual clock, which the Directory,
// its tokens and the server's replies use.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the Server's clock forward by d: tokens, codes, secrets
// and keys expire as that time passes. Validators that should agree pass
// [Server.Now] as their clock.
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// RotateKeys retires the active signing key at once and activates a new
// one (Issuer.ForceRotateKeys): tokens signed before keep validating for
// the retired key's overlap (7 days by default), new tokens carry the new
// key's kid, and the JWKS lists both. Generating the key costs tens of
// milliseconds.
func (s *Server) RotateKeys() {
	s.t.Helper()
	if err := s.dir.Issuer().ForceRotateKeys(context.Background()); err != nil {
		s.t.Fatalf("tenantrytest: rotate keys: %v", err)
	}
}

// WithdrawKey removes the signing key kid at once, as after a compromise
// (Issuer.WithdrawKey): it leaves the JWKS and tokens it signed stop
// validating.
func (s *Server) WithdrawKey(kid string) {
	s.t.Helper()
	if err := s.dir.Issuer().WithdrawKey(context.Background(), kid); err != nil {
		s.t.Fatalf("tenantrytest: withdraw key: %v", err)
	}
}

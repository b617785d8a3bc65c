package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/server"
	"github.com/tenantry/tenantry/token"
)

// Bounds of the HTTP server: a slow or greedy client cannot hold a
// connection or memory for long.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	// maxHeaderBytes is the handler's bound, answered in Entra's error
	// JSON (431); the connection's hard cap, where net/http answers in
	// plain text, is four times larger.
	maxHeaderBytes = 16 << 10
	hardHeaderCap  = 4 * maxHeaderBytes
)

// run is the command: it parses the flags, listens and serves until ctx
// ends, then shuts down gracefully. It returns the exit code: 0 after a
// graceful shutdown, 2 for bad flags, 1 for any other failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintf(stderr, "tenantry-idp: %v\n", err)
		return 1
	}
	if err := serve(ctx, cfg, ln, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// serve opens the directory, applies the seed and serves on ln until ctx
// ends; it closes ln.
func serve(ctx context.Context, cfg config, ln net.Listener, stdout, stderr io.Writer) error {
	defer ln.Close()
	base, err := baseFor(cfg, ln.Addr())
	if err != nil {
		return err
	}
	logger := newLogger(cfg.logFormat, stderr)
	kek, made, err := loadKeyEncryptionKey(cfg.keyFile)
	if err != nil {
		return err
	}
	if made {
		fmt.Fprintf(stdout, "key-encryption key: %s (new; keep it with the store)\n", cfg.keyFile)
	}
	st, err := openStore(ctx, cfg.storeURL)
	if err != nil {
		return err
	}
	baseStr := base.String()
	dir, err := tenantry.New(ctx, tenantry.Config{
		Store:  st,
		Logger: logger,
		Tokens: tenantry.TokenConfig{
			KeyEncryptionKey: kek,
			Authority:        token.Authority{V2Base: baseStr, V1Base: baseStr},
			VerificationURI:  baseStr + "/devicelogin",
		},
	})
	if err != nil {
		st.Close()
		return err
	}
	defer dir.Close()
	var seeded tenantry.Manifest
	if cfg.seed != "" {
		if seeded, err = loadSeed(cfg.seed); err != nil {
			return err
		}
		changes, err := applySeed(ctx, dir, seeded)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "seed: %s applied, %d changes\n", cfg.seed, len(changes))
	}
	h, err := newHandler(dir, base, logger)
	if err != nil {
		return err
	}
	srv := newHTTPServer(h, logger)
	tlsOn := base.Scheme == "https" && !cfg.insecureHTTP
	if tlsOn {
		cert, caPEM, err := newCertificate(certHosts(cfg, base), time.Now())
		if err != nil {
			return err
		}
		path, err := writeCertFile(cfg.certOut, caPEM)
		if err != nil {
			return err
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		fmt.Fprintf(stdout, "certificate: %s (trust it, e.g. SSL_CERT_FILE=%s for Go programs)\n", path, path)
	}
	printAuthorities(stdout, baseStr, seeded)

	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("tenantry-idp: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("tenantry-idp: shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "tenantry-idp: stopped")
	return nil
}

// certHosts are the names the server certificate is for: the hosts of
// -addr and of the base URL (localhost and the loopback addresses are
// always added).
func certHosts(cfg config, base *url.URL) []string {
	var hosts []string
	if h, _, err := net.SplitHostPort(cfg.addr); err == nil {
		if ip := net.ParseIP(h); h != "" && (ip == nil || !ip.IsUnspecified()) {
			hosts = append(hosts, h)
		}
	}
	return append(hosts, base.Hostname())
}

// printAuthorities tells where the server is: the base URL and each seeded
// tenant's authority and discovery document.
func printAuthorities(w io.Writer, base string, m tenantry.Manifest) {
	fmt.Fprintf(w, "listening: %s\n", base)
	fmt.Fprintf(w, "health: %s/healthz\n", base)
	fmt.Fprintf(w, "authority (common): %s/common/v2.0\n", base)
	for _, t := range m.Tenants {
		fmt.Fprintf(w, "authority (%s): %s/%s/v2.0 (discovery: %s/%s/v2.0/.well-known/openid-configuration)\n", t.DisplayName, base, t.ID, base, t.ID)
	}
}

// newHandler is the command's handler: the health endpoint and Entra's
// endpoints (package server) for dir, logging each request.
func newHandler(dir *tenantry.Directory, base *url.URL, logger *slog.Logger) (http.Handler, error) {
	s, err := server.New(server.Config{
		Issuer:         dir.Issuer(),
		InsecureHTTP:   base.Scheme == "http",
		OnRequest:      requestLogger(logger),
		MaxHeaderBytes: maxHeaderBytes,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", health)
	mux.Handle("/", s)
	return mux, nil
}

// health answers 200 {"status":"ok"} while the process serves.
func health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}

// newHTTPServer returns the http.Server for h with its timeouts and header
// bound set; errors of the server itself go to logger.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    hardHeaderCap,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

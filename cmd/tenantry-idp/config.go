package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// config is what the flags say.
type config struct {
	addr            string        // listen address, host:port
	baseURL         string        // explicit base URL (-base-url); "" derives it from addr
	seed            string        // seed manifest path; "" serves an empty directory
	storeURL        string        // store URL: memory: (default)
	dataDir         string        // directory for generated files
	certOut         string        // where the trusted certificate is written
	keyFile         string        // the key-encryption key's file
	insecureHTTP    bool          // serve plain HTTP
	logFormat       string        // text or json
	shutdownTimeout time.Duration // how long a graceful shutdown may take
}

// errUsage is returned when the flags are wrong; the flag package has
// already said why.
var errUsage = errors.New("tenantry-idp: usage")

// parseFlags turns the command line into a config. It checks each flag's
// form; what needs the listener (the base URL when the port is 0) is
// settled by baseFor.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("tenantry-idp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8443", "listen address (host:port)")
	fs.StringVar(&c.baseURL, "base-url", "", "the URL clients reach the server at (scheme://host[:port]), for a proxy in front; default derived from -addr")
	fs.StringVar(&c.seed, "seed", "", "seed manifest (JSON) applied at start")
	fs.StringVar(&c.storeURL, "store", "memory:", "store URL: memory: or postgres://user@host:5432/db?schema=name")
	fs.StringVar(&c.dataDir, "data", ".", "directory for generated files (the certificate)")
	fs.StringVar(&c.certOut, "cert-out", "", "where to write the certificate clients must trust (default {data}/tenantry-idp.pem)")
	fs.StringVar(&c.keyFile, "key-file", "", "the key-encryption key sealing the signing keys in the store, made if missing (default {data}/tenantry-idp.key)")
	fs.BoolVar(&c.insecureHTTP, "insecure-http", false, "serve plain HTTP instead of HTTPS (MSAL and azidentity refuse http authorities)")
	fs.StringVar(&c.logFormat, "log-format", "text", "request log format: text or json")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown waits for open requests")
	if err := fs.Parse(args); err != nil {
		return c, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tenantry-idp: unexpected argument %q\n", fs.Arg(0))
		return c, errUsage
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return c, fmt.Errorf("tenantry-idp: -addr %q: %w", c.addr, err)
	}
	switch c.logFormat {
	case "text", "json":
	default:
		return c, fmt.Errorf("tenantry-idp: -log-format must be text or json, not %q", c.logFormat)
	}
	if c.shutdownTimeout <= 0 {
		return c, fmt.Errorf("tenantry-idp: -shutdown-timeout must be positive")
	}
	if c.baseURL != "" {
		if _, err := checkBase(c.baseURL, c.insecureHTTP); err != nil {
			return c, err
		}
	}
	if c.certOut == "" {
		c.certOut = filepath.Join(c.dataDir, "tenantry-idp.pem")
	}
	if c.keyFile == "" {
		c.keyFile = filepath.Join(c.dataDir, "tenantry-idp.key")
	}
	return c, nil
}

// checkBase checks a base URL: scheme://host[:port] without path, query or
// credentials; http only with -insecure-http.
func checkBase(base string, insecureHTTP bool) (*url.URL, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("tenantry-idp: -base-url %q must be scheme://host[:port]", base)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !insecureHTTP {
			return nil, fmt.Errorf("tenantry-idp: the base URL %q uses http; pass -insecure-http to allow it", base)
		}
	default:
		return nil, fmt.Errorf("tenantry-idp: the base URL %q must use https", base)
	}
	u.Path = ""
	return u, nil
}

// baseFor returns the base URL: -base-url when given, else derived from
// the address the server listens on (an unspecified host becomes
// localhost), with https, or http under -insecure-http.
func baseFor(c config, listening net.Addr) (*url.URL, error) {
	if c.baseURL != "" {
		return checkBase(c.baseURL, c.insecureHTTP)
	}
	host, port, err := net.SplitHostPort(c.addr)
	if err != nil {
		return nil, err
	}
	if _, p, err := net.SplitHostPort(listening.String()); err == nil {
		port = p // the port the kernel chose for :0
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	scheme := "https"
	if c.insecureHTTP {
		scheme = "http"
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(strings.Trim(host, "[]"), port)}, nil
}

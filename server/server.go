package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry"
)

// Config configures a Server.
type Config struct {
	// Issuer is the token service the server exposes. Required.
	Issuer *tenantry.Issuer
	// InsecureHTTP allows an authority (Issuer.Authority().V2Base) with the
	// http scheme. MSAL and azidentity refuse such authorities and session
	// cookies then travel without the Secure attribute: use it only on a
	// developer's machine.
	InsecureHTTP bool
	// Logger receives one record per request (method, endpoint, status,
	// correlation id, OAuth error and AADSTS code; never a query string, a
	// form value, a secret, a code or a token). Nil discards them.
	Logger *slog.Logger
	// OnRequest, when set, is called once per request after the response
	// was written (the client may already have read it), with what the
	// logger records. It must be safe for concurrent use.
	OnRequest func(Record)
	// MaxBodyBytes bounds a request body; default 64 KiB. A larger body is
	// refused with AADSTS9002313 before it is read.
	MaxBodyBytes int64
	// MaxHeaderBytes bounds the request line and headers the handler
	// accepts; default 16 KiB. Larger requests are answered with 431 in
	// Entra's error JSON. The http.Server's own MaxHeaderBytes should be
	// larger (its refusal is plain text), as the development IdP sets it.
	MaxHeaderBytes int
	// Now is the clock of the server's timestamps (error replies) and
	// sessions; nil means time.Now. Tests pass the Directory's clock.
	Now func() time.Time
	// SessionKey keys the HMAC-SHA-256 that signs session cookies and
	// anti-forgery tokens: at least 32 bytes, shared by the processes that
	// serve the same pages. Empty means a random key for this Server only
	// (its sessions end with it).
	SessionKey []byte
	// SessionLifetime is how long a sign-in on the pages lasts; default
	// DefaultSessionLifetime (8 hours).
	SessionLifetime time.Duration
	// AutoSignIn is a TEST AND DEVELOPMENT SWITCH. It MUST NOT be set on a
	// server anyone else can reach: whoever reaches it is signed in as
	// the user it names. When set, every authorization request asks it
	// first; when it answers ok, the request proceeds as that user without
	// any page, and missing consent is recorded as Issuer.Authorize records
	// it where the tenant's policy allows (no consent page is shown).
	// prompt=none is still honoured: AutoSignIn stands for a session, not
	// for a prompt, so a request that needs consent with prompt=none is
	// refused as Authorize refuses it. When it answers !ok, the session
	// cookie and the pages apply as usual.
	AutoSignIn func(ctx context.Context, req AutoSignIn) (userID string, ok bool)
}

// Record describes one request the server answered.
type Record struct {
	// Time is when the request arrived.
	Time time.Time
	// Method is the HTTP method.
	Method string
	// Endpoint names what was asked for: "token", "authorize", "adminconsent",
	// "logout", "devicelogin", "error", "static",
	// "devicecode", "discovery", "keys", "instance", …; "unknown" for a
	// path the server does not serve.
	Endpoint string
	// Tenant is the authority's tenant segment as the request gave it.
	Tenant string
	// Status is the HTTP status of the answer.
	Status int
	// Error is the OAuth error of a refusal ("" on success).
	Error string
	// Code is the AADSTS code of a refusal (0 on success).
	Code int
	// CorrelationID is the request's correlation id (the client-request-id
	// header when it is a GUID, else one the server made).
	CorrelationID string
	// Duration is how long the server took to answer.
	Duration time.Duration
}

// Server is an http.Handler serving Entra's endpoints for one Issuer. It is
// safe for concurrent use.
type Server struct {
	iss      *tenantry.Issuer
	base     *url.URL
	baseStr  string
	insecure bool
	log      *slog.Logger
	observe  func(Record)
	maxBody  int64
	maxHead  int
	now      func() time.Time

	sessionKey  []byte
	sessionLife time.Duration
	autoSignIn  func(context.Context, AutoSignIn) (string, bool)
}

// ErrConfig is wrapped by the errors of New about its Config.
var ErrConfig = errors.New("server: invalid configuration")

// Default bounds of a request.
const (
	DefaultMaxBodyBytes   = 64 << 10
	DefaultMaxHeaderBytes = 16 << 10
)

// New returns a Server for cfg. The authority's base URL
// (cfg.Issuer.Authority().V2Base) is where the server must be reached:
// scheme and host (with port), no path.
func New(cfg Config) (*Server, error) {
	if cfg.Issuer == nil {
		return nil, fmt.Errorf("%w: no Issuer", ErrConfig)
	}
	baseStr := cfg.Issuer.Authority().V2Base
	base, err := url.Parse(baseStr)
	if err != nil || base.Host == "" || (base.Path != "" && base.Path != "/") || base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return nil, fmt.Errorf("%w: the authority %q must be scheme://host[:port]", ErrConfig, baseStr)
	}
	switch base.Scheme {
	case "https":
	case "http":
		if !cfg.InsecureHTTP {
			return nil, fmt.Errorf("%w: the authority %q uses http; set InsecureHTTP to allow it", ErrConfig, baseStr)
		}
	default:
		return nil, fmt.Errorf("%w: the authority %q must use https", ErrConfig, baseStr)
	}
	s := &Server{
		iss: cfg.Issuer, base: base, baseStr: strings.TrimSuffix(baseStr, "/"),
		insecure: base.Scheme == "http", log: cfg.Logger, observe: cfg.OnRequest,
		maxBody: cfg.MaxBodyBytes, maxHead: cfg.MaxHeaderBytes, now: cfg.Now,
	}
	switch {
	case len(cfg.SessionKey) == 0:
		s.sessionKey = make([]byte, 32)
		if _, err := rand.Read(s.sessionKey); err != nil {
			return nil, err
		}
	case len(cfg.SessionKey) < 32:
		return nil, fmt.Errorf("%w: the session key must have at least 32 bytes", ErrConfig)
	default:
		s.sessionKey = bytes.Clone(cfg.SessionKey)
	}
	s.sessionLife, s.autoSignIn = cfg.SessionLifetime, cfg.AutoSignIn
	if s.sessionLife <= 0 {
		s.sessionLife = DefaultSessionLifetime
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxHead <= 0 {
		s.maxHead = DefaultMaxHeaderBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// BaseURL returns the URL the server is reached at, without a trailing
// slash: the authority of every issuer and endpoint it announces.
func (s *Server) BaseURL() string { return s.baseStr }

// route is one endpoint below the tenant segment.
type route struct {
	name    string
	version int // token endpoint version (1 or 2); 0 where it does not apply
	handle  func(s *Server, x *exchange)
}

// routes maps the lower-cased path after the tenant segment to its
// endpoint.
var routes = map[string]route{
	"v2.0/.well-known/openid-configuration": {"discovery", 2, (*Server).discovery},
	".well-known/openid-configuration":      {"discovery", 1, (*Server).discovery},
	"discovery/v2.0/keys":                   {"keys", 2, (*Server).keys},
	"discovery/keys":                        {"keys", 1, (*Server).keys},
	"discovery/instance":                    {"instance", 0, (*Server).instance},
	"oauth2/v2.0/token":                     {"token", 2, (*Server).token},
	"oauth2/token":                          {"token", 1, (*Server).token},
	"oauth2/v2.0/devicecode":                {"devicecode", 2, (*Server).deviceCode},
	"oauth2/devicecode":                     {"devicecode", 1, (*Server).deviceCode},
	"oauth2/v2.0/authorize":                 {"authorize", 2, (*Server).authorize},
	"oauth2/authorize":                      {"authorize", 1, (*Server).authorize},
	"v2.0/adminconsent":                     {"adminconsent", 2, (*Server).adminConsent},
	"adminconsent":                          {"adminconsent", 1, (*Server).adminConsent},
	"oauth2/v2.0/logout":                    {"logout", 2, (*Server).logout},
	"oauth2/logout":                         {"logout", 1, (*Server).logout},
}

// rootRoutes maps the lower-cased paths at the host root, outside any
// tenant segment, to their endpoint.
var rootRoutes = map[string]route{
	"devicelogin":         {"devicelogin", 0, (*Server).deviceLogin},
	"error":               {"error", 0, (*Server).errorCode},
	"static/tenantry.css": {"static", 0, (*Server).staticCSS},
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := s.newExchange(w, r)
	defer s.finish(x)
	if headerBytes(r) > s.maxHead {
		x.rec.Endpoint = "unknown"
		te := tenantry.Refuse(tenantry.RefuseMalformed, "the request's headers are larger than "+strconv.Itoa(s.maxHead)+" bytes")
		te.Status = http.StatusRequestHeaderFieldsTooLarge
		s.writeError(x, te)
		return
	}
	rt, tenant, rest, ok := match(r.URL.Path)
	x.rec.Endpoint, x.rec.Tenant, x.tenant, x.version = rt.name, tenant, tenant, rt.version
	switch {
	case !ok:
		s.notFound(x)
	case rt.name == "userrealm":
		s.userRealm(x, rest)
	default:
		rt.handle(s, x)
	}
}

var (
	unknownRoute   = route{name: "unknown"}
	userRealmRoute = route{name: "userrealm"}
)

// match finds the endpoint of a request path: a path at the host root, or
// one below the tenant segment (returned as given); rest is what follows
// userrealm/ for user realm discovery. An unknown path matches the
// "unknown" route and ok is false.
func match(path string) (rt route, tenant, rest string, ok bool) {
	path = strings.TrimPrefix(path, "/")
	if rt, ok := rootRoutes[strings.ToLower(strings.TrimSuffix(path, "/"))]; ok {
		return rt, "", "", true
	}
	seg, below, _ := strings.Cut(path, "/")
	lower := strings.ToLower(strings.TrimSuffix(below, "/"))
	if name, ok := strings.CutPrefix(lower, "userrealm/"); ok && name != "" && seg != "" {
		return userRealmRoute, seg, below[len("userrealm/"):], true
	}
	if rt, ok := routes[lower]; ok && seg != "" {
		return rt, seg, "", true
	}
	return unknownRoute, seg, "", false
}

// Endpoint names the endpoint a request path goes to, as [Record.Endpoint]
// names it ("token", "keys", "discovery", "authorize", …; "unknown" for a
// path the server does not serve), and the tenant segment it names ("" for
// the paths at the host root). A test double can classify requests
// before they reach the server with it.
func Endpoint(path string) (endpoint, tenant string) {
	rt, tenant, _, _ := match(path)
	return rt.name, tenant
}

// headerBytes is the size of r's request line and headers, as sent.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// notFound answers a path the server does not serve, in Entra's JSON.
func (s *Server) notFound(x *exchange) {
	te := tenantry.Refuse(tenantry.RefuseMalformed, "the path is not an endpoint of this server")
	te.Status = http.StatusNotFound
	s.writeError(x, te)
}

package application

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redirect URI limits ([reply-url]).
const (
	maxRedirectURILength       = 256
	maxRedirectURIsOrg         = 256 // AzureADMyOrg, AzureADMultipleOrgs
	maxRedirectURIsPersonal    = 100 // AzureADandPersonalMicrosoftAccount (and, by decision, PersonalMicrosoftAccount)
	unsupportedRedirectURIRune = "!$'(),;"
)

// NativeClientRedirectURI is the redirect URI Entra offers public clients
// that cannot receive a redirect (embedded browsers of older desktop apps).
const NativeClientRedirectURI = "https://login.microsoftonline.com/common/oauth2/nativeclient"

// MatchRedirectURI reports whether requested may be used as the
// redirect_uri of an authorization request to a, and on which platform it is
// registered. The platform decides the client type at the token endpoint
// (web: confidential; spa: PKCE and CORS; publicClient: no credentials).
//
// Matching follows Entra
// (https://learn.microsoft.com/entra/identity-platform/reply-url):
//
//   - Scheme and host compare case-insensitively; port, path and query
//     compare exactly (the path is case-sensitive). Nothing is decoded or
//     normalized.
//   - A registered URI without a path also matches the requested URI with
//     "/" as its path.
//   - A registered http://localhost or http://127.0.0.1 URI matches the
//     requested URI with the same scheme, host, path and query on any port,
//     or none (RFC 8252 §7.3). https loopback URIs and [::1] get no such
//     exception.
//   - A registered web URI whose host is "*." plus a domain matches a
//     requested host of exactly one more label (https://*.contoso.com/cb
//     matches https://app.contoso.com/cb, not https://a.b.contoso.com/cb);
//     everything else must match exactly.
//
// A requested URI with a fragment, user info, whitespace or control
// characters, or one that net/url cannot parse, never matches.
//
// When the URI is registered on several platforms (Entra then picks one
// arbitrarily), the result is deterministic: exact matches win over loopback
// and wildcard matches, and within each kind web wins over spa, spa over
// publicClient.
func (a Application) MatchRedirectURI(requested string) (platform RedirectURIPlatform, ok bool) {
	req, good := splitURI(requested)
	if !good || req.fragment || req.userinfo || hasSpaceOrControl(requested) {
		return "", false
	}
	if _, err := url.Parse(requested); err != nil {
		return "", false
	}
	platforms := []RedirectURIPlatform{PlatformWeb, PlatformSPA, PlatformPublic}
	for _, kind := range []func(reg, req uriParts, p RedirectURIPlatform) bool{matchExact, matchLoopback, matchWildcard} {
		for _, p := range platforms {
			for _, r := range a.RedirectURIsOf(p) {
				reg, good := splitURI(r)
				if !good || reg.fragment || reg.userinfo {
					continue
				}
				if _, err := url.Parse(r); err != nil {
					continue
				}
				if kind(reg, req, p) {
					return p, true
				}
			}
		}
	}
	return "", false
}

// ValidateRedirectURI checks one redirect URI for platform (web, spa or
// publicClient) of an application whose signInAudience is audience. The
// error is a *FieldError for "{platform}.redirectUris"; Validate
// reports the same failures with the index of the URI.
//
// Rules ([reply-url], [authcode]): at most 256 characters; none of
// ! $ ' ( ) , ; nor whitespace; an absolute URI without fragment or user
// info; https, or http only for localhost and 127.0.0.1 (never [::1]); spa
// and web accept nothing else, publicClient also accepts custom schemes such
// as msal{appId}://auth (but not javascript:, data:, vbscript: or file:); a
// query only for the org-only audiences AzureADMyOrg and
// AzureADMultipleOrgs; a wildcard only for those audiences, only on web, and
// only as the whole leftmost host label of an https URI. An audience that is
// not one of the four known values is treated as not org-only.
func ValidateRedirectURI(platform RedirectURIPlatform, uri, audience string) error {
	field := string(platform) + ".redirectUris"
	switch platform {
	case PlatformWeb, PlatformSPA, PlatformPublic:
	default:
		return &FieldError{Field: "redirectUris", Reason: fmt.Sprintf("unknown platform %q", platform)}
	}
	if reason := redirectURIProblem(platform, uri, audience); reason != "" {
		return &FieldError{Field: field, Reason: reason}
	}
	return nil
}

func redirectURIProblem(platform RedirectURIPlatform, uri, audience string) string {
	orgOnly := isOrgOnly(audience)
	switch {
	case uri == "":
		return "is empty"
	case utf8.RuneCountInString(uri) > maxRedirectURILength:
		return fmt.Sprintf("exceeds %d characters", maxRedirectURILength)
	case strings.ContainsAny(uri, unsupportedRedirectURIRune):
		return "contains a character Entra does not support (! $ ' ( ) , ;)"
	case hasSpaceOrControl(uri):
		return "contains whitespace or control characters"
	}
	p, ok := splitURI(uri)
	if !ok {
		return "is not an absolute URI"
	}
	if _, err := url.Parse(uri); err != nil {
		return "is not a valid URI"
	}
	switch {
	case p.fragment:
		return "must not contain a fragment"
	case p.userinfo:
		return "must not contain user info"
	case p.hasQuery && !orgOnly:
		return "may have a query string only for AzureADMyOrg and AzureADMultipleOrgs applications"
	}
	if p.hasPort && !validPort(p.port) {
		return "has an invalid port"
	}
	scheme := strings.ToLower(p.scheme)
	if strings.Contains(uri, "*") {
		switch {
		case !orgOnly:
			return "may contain a wildcard only for AzureADMyOrg and AzureADMultipleOrgs applications"
		case platform != PlatformWeb:
			return "may contain a wildcard only on the web platform"
		case scheme != "https" || !p.authority || !wildcardHost(p.host) || strings.Count(uri, "*") != 1:
			return "a wildcard must be the whole leftmost host label of an https URI, as in https://*.contoso.com/path"
		}
	}
	switch scheme {
	case "https":
		if !p.authority || p.host == "" {
			return "needs a host"
		}
	case "http":
		switch {
		case !p.authority || p.host == "":
			return "needs a host"
		case p.host == "[::1]" || strings.HasPrefix(p.host, "[::1%") || strings.HasPrefix(p.host, "[0:0:0:0:0:0:0:1"):
			return "uses the IPv6 loopback address, which Entra does not support; use localhost or 127.0.0.1"
		case !isLoopbackHost(p.host):
			return "must use https; http is allowed only for localhost and 127.0.0.1"
		}
	default:
		if platform != PlatformPublic {
			return fmt.Sprintf("must use https (or http for localhost); custom schemes are allowed only for publicClient, not %s", platform)
		}
		switch scheme {
		case "javascript", "data", "vbscript", "file":
			return fmt.Sprintf("must not use the %s: scheme", scheme)
		}
		if p.host == "" && p.path == "" {
			return "needs a host or path after the scheme"
		}
	}
	return ""
}

// uriParts is a URI split without decoding or normalization.
type uriParts struct {
	scheme    string // as written
	authority bool   // "//" follows the scheme
	userinfo  bool
	host      string // as written; IPv6 literals keep their brackets
	hasPort   bool
	port      string
	path      string // raw
	hasQuery  bool
	query     string // raw, without "?"
	fragment  bool
}

// splitURI splits an absolute URI (RFC 3986 §3) into its raw parts. It
// reports false when s has no valid scheme.
func splitURI(s string) (uriParts, bool) {
	var p uriParts
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || !validScheme(s[:colon]) {
		return p, false
	}
	p.scheme = s[:colon]
	rest := s[colon+1:]
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		p.fragment = true
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		p.hasQuery = true
		p.query = rest[i+1:]
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "//") {
		p.authority = true
		rest = rest[2:]
		auth := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			auth, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		if i := strings.LastIndexByte(auth, '@'); i >= 0 {
			p.userinfo = true
			auth = auth[i+1:]
		}
		hostEnd := len(auth)
		if strings.HasPrefix(auth, "[") {
			if i := strings.IndexByte(auth, ']'); i >= 0 {
				hostEnd = i + 1
			}
		} else if i := strings.LastIndexByte(auth, ':'); i >= 0 {
			hostEnd = i
		}
		p.host = auth[:hostEnd]
		if hostEnd < len(auth) {
			if auth[hostEnd] != ':' {
				return p, false
			}
			p.hasPort = true
			p.port = auth[hostEnd+1:]
		}
	}
	p.path = rest
	return p, true
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

func validPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n <= 65535
}

func isLoopbackHost(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1"
}

// wildcardHost reports whether host is "*." followed by a domain of at
// least two labels.
func wildcardHost(host string) bool {
	rest, ok := strings.CutPrefix(host, "*.")
	return ok && strings.Contains(rest, ".") && validHostname(rest)
}

// samePathQuery compares path and query exactly, letting a registered URI
// without a path match a requested path of "/".
func samePathQuery(reg, req uriParts) bool {
	if reg.hasQuery != req.hasQuery || reg.query != req.query {
		return false
	}
	return reg.path == req.path || reg.authority && reg.path == "" && req.path == "/"
}

func matchExact(reg, req uriParts, _ RedirectURIPlatform) bool {
	return strings.EqualFold(reg.scheme, req.scheme) &&
		reg.authority == req.authority &&
		strings.EqualFold(reg.host, req.host) &&
		reg.hasPort == req.hasPort && reg.port == req.port &&
		samePathQuery(reg, req)
}

func matchLoopback(reg, req uriParts, _ RedirectURIPlatform) bool {
	return strings.EqualFold(reg.scheme, "http") && strings.EqualFold(req.scheme, "http") &&
		reg.authority && req.authority &&
		isLoopbackHost(reg.host) && strings.EqualFold(reg.host, req.host) &&
		(!req.hasPort || validPort(req.port)) &&
		samePathQuery(reg, req)
}

func matchWildcard(reg, req uriParts, p RedirectURIPlatform) bool {
	if p != PlatformWeb || !reg.authority || !req.authority || !wildcardHost(reg.host) {
		return false
	}
	if !strings.EqualFold(reg.scheme, "https") || !strings.EqualFold(req.scheme, "https") {
		return false
	}
	suffix := reg.host[1:] // ".contoso.com"
	if len(req.host) <= len(suffix) || !strings.EqualFold(req.host[len(req.host)-len(suffix):], suffix) {
		return false
	}
	label := req.host[:len(req.host)-len(suffix)]
	return validHostLabel(label) &&
		reg.hasPort == req.hasPort && reg.port == req.port &&
		samePathQuery(reg, req)
}

func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if !validHostLabel(label) {
			return false
		}
	}
	return true
}

func validHostLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func hasSpaceOrControl(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
			return true
		}
	}
	return false
}

func isOrgOnly(audience string) bool {
	return audience == AzureADMyOrg || audience == AzureADMultipleOrgs
}

func isPersonal(audience string) bool {
	return audience == AzureADandPersonalMicrosoftAccount || audience == PersonalMicrosoftAccount
}

package server

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/tenantry/tenantry"
)

// The pages are html/template templates embedded in the binary, each
// rendered inside templates/layout.html, with one style sheet served at
// cssPath. They load nothing from elsewhere (no script but the form_post
// page's, no font, no image) and work without JavaScript.

//go:embed templates/*.html static/tenantry.css
var assets embed.FS

// cssPath is where the style sheet is served, at the host root.
const cssPath = "/static/tenantry.css"

// pageNames are the templates under templates/ besides the layout.
var pageNames = []string{"signin", "consent", "approval", "formpost", "error", "errorcode", "devicecode", "deviceconfirm", "devicedone", "signedout"}

// pages holds the parsed templates by name.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, n := range pageNames {
		out[n] = template.Must(template.New("layout.html").ParseFS(assets, "templates/layout.html", "templates/"+n+".html"))
	}
	return out
}()

// css is the style sheet.
var css = func() []byte {
	b, err := fs.ReadFile(assets, "static/tenantry.css")
	if err != nil {
		panic(err)
	}
	return b
}()

// field is a hidden form field.
type field struct{ Name, Value string }

// appView describes the app a page is about.
type appView struct {
	Name, AppID, PublisherDomain string
	// Verified is the verified publisher's name ("" when unverified).
	Verified string
}

func appOf(p *tenantry.ConsentPrompt) appView {
	v := appView{Name: p.ClientDisplayName, AppID: p.ClientAppID, PublisherDomain: p.PublisherDomain}
	if p.VerifiedPublisher != nil {
		v.Verified = p.VerifiedPublisher.DisplayName
		if v.Verified == "" {
			v.Verified = p.VerifiedPublisher.VerifiedPublisherID
		}
	}
	return v
}

// pageData is what a template renders; each page uses some fields.
type pageData struct {
	Title string
	CSS   string
	// Action is the path the page's form posts to; CSRF its token; Hidden
	// the fields it carries.
	Action string
	CSRF   string
	Hidden []field
	// Error is a message announced to screen readers (aria-live).
	Error string
	// Message is a line of information.
	Message  string
	Username string
	App      appView
	Tenant   string
	// Permissions are the permissions of a consent page.
	Permissions []tenantry.Permission
	// Admin: the viewer is an administrator (admin texts, the
	// organization's consent); OrgOnly: only the organization's consent
	// can be given; AdminConsent: the admin consent endpoint's page.
	Admin, OrgOnly, AdminConsent bool
	// UserCode is the device flow's user code.
	UserCode string
	// Nonce is the form_post page's script nonce; PostURL where it posts.
	Nonce   string
	PostURL string
	// Error page fields.
	Code          int
	OAuthError    string
	Description   string
	Descriptions  []string
	TraceID       string
	CorrelationID string
	Timestamp     string
}

// pageOptions are the security headers' variable parts.
type pageOptions struct {
	// formAction is an origin the page's forms may post or redirect to
	// besides the server's own (a validated redirect URI's).
	formAction string
	// nonce allows the page's one inline script.
	nonce string
}

// render answers an HTML page.
func (s *Server) render(x *exchange, status int, name string, d pageData, o pageOptions) {
	d.CSS = cssPath
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, d); err != nil {
		s.log.LogAttrs(x.ctx, slog.LevelError, "page rendering failed", slog.String("page", name), slog.String("err", err.Error()))
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>The page could not be shown.")
	}
	h := x.headers()
	csp := "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'"
	if o.formAction != "" {
		csp += " " + o.formAction
	}
	csp += "; frame-ancestors 'none'; base-uri 'none'"
	if o.nonce != "" {
		csp += "; script-src 'nonce-" + o.nonce + "'"
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	x.rec.Status = status
	x.w.WriteHeader(status)
	if x.r.Method != http.MethodHead {
		_, _ = x.w.Write(buf.Bytes())
	}
}

// errorPage answers err as an HTML page (400, or 500 for a server error):
// for refusals that must not go to a redirect URI.
func (s *Server) errorPage(x *exchange, err error) {
	te := s.refusal(x, err)
	x.rec.Error, x.rec.Code = te.ErrorCode, te.Code
	status := http.StatusBadRequest
	if te.Status >= 500 {
		status = te.Status
	}
	s.render(x, status, "error", pageData{
		Title: "Sign-in error", Code: te.Code, OAuthError: te.ErrorCode, Description: te.ErrorDescription,
		TraceID: te.TraceID, CorrelationID: te.CorrelationID, Timestamp: te.Timestamp.Format("2006-01-02 15:04:05Z"),
	}, pageOptions{})
}

// forbiddenPost answers a post without a valid anti-forgery token.
func (s *Server) forbiddenPost(x *exchange) {
	te := tenantry.Refuse(tenantry.RefuseMalformed, "the form has expired or was not sent by this site; go back and try again")
	te.Status = http.StatusForbidden
	x.rec.Error, x.rec.Code = te.ErrorCode, te.Code
	s.render(x, http.StatusForbidden, "error", pageData{Title: "Request refused", Code: te.Code, OAuthError: te.ErrorCode, Description: te.ErrorDescription,
		CorrelationID: x.rec.CorrelationID}, pageOptions{})
}

// newNonce returns a script nonce.
func newNonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// safeOrigin matches origins that may be written into a
// Content-Security-Policy source list.
var safeOrigin = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$`)

// originOf returns the origin of a validated redirect URI for the pages'
// form-action, or "" when it cannot be written there safely.
func originOf(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Host == "" {
		return ""
	}
	o := strings.ToLower(u.Scheme) + "://" + u.Host
	if !safeOrigin.MatchString(o) {
		return ""
	}
	return o
}

// staticCSS serves the style sheet.
func (s *Server) staticCSS(x *exchange) {
	h := x.headers()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Content-Length", strconv.Itoa(len(css)))
	x.rec.Status = http.StatusOK
	x.w.WriteHeader(http.StatusOK)
	if x.r.Method != http.MethodHead {
		_, _ = x.w.Write(css)
	}
}

package tenantry

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// oauthErrors are the error values a token service may answer with: RFC 6749
// §4.1.2.1 and §5.2, RFC 8628 §3.5, and the ones Entra adds.
var oauthErrors = map[string]bool{
	// RFC 6749
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "access_denied": true,
	"unsupported_response_type": true, "server_error": true, "temporarily_unavailable": true,
	// RFC 8628
	"authorization_pending": true, "slow_down": true, "expired_token": true,
	// OpenID Connect Core §3.1.2.6 and Entra
	"interaction_required": true, "login_required": true, "consent_required": true,
	"invalid_resource": true, "authorization_declined": true, "bad_verification_code": true,
	"invalid_tenant": true, "invalid_instance": true,
}

func wantStatus(oauth string) int {
	switch oauth {
	case OAuthInvalidClient:
		return 401
	case OAuthServerError:
		return 500
	}
	return 400
}

var fmtVerb = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z]`)

func verbCount(format string) int {
	return len(fmtVerb.FindAllString(strings.ReplaceAll(format, "%%", ""), -1))
}

func TestCatalogueEntries(t *testing.T) {
	if len(catalogue) < 90 {
		t.Fatalf("catalogue holds %d entries", len(catalogue))
	}
	type key struct {
		code        int
		oauth, text string
	}
	seen := map[key]bool{}
	usual := map[int]string{}
	for _, e := range catalogue {
		if e.variant == "" {
			if o, ok := usual[e.code]; ok && o != e.oauth {
				t.Errorf("AADSTS%d is %s in one entry and %s in another; mark the exception as a variant", e.code, o, e.oauth)
			}
			usual[e.code] = e.oauth
		}
	}
	for _, e := range catalogue {
		name := "AADSTS" + strconv.Itoa(e.code) + " " + strconv.Quote(e.text)
		if e.code <= 0 {
			t.Errorf("%s: code %d", name, e.code)
		}
		if !oauthErrors[e.oauth] {
			t.Errorf("%s: OAuth error %q is not one RFC 6749, RFC 8628 or Entra defines", name, e.oauth)
		}
		if e.status != wantStatus(e.oauth) {
			t.Errorf("%s: status %d for %s, want %d", name, e.status, e.oauth, wantStatus(e.oauth))
		}
		if e.text == "" || strings.TrimSpace(e.text) != e.text || len(e.text) > maxDescription/2 {
			t.Errorf("%s: template empty, padded or too long", name)
		}
		if strings.Contains(e.text, "AADSTS") {
			t.Errorf("%s: the template repeats the code", name)
		}
		switch e.sub {
		case "", OAuthConsentRequired, "bad_token":
		default:
			t.Errorf("%s: suberror %q", name, e.sub)
		}
		k := key{e.code, e.oauth, e.text}
		if seen[k] {
			t.Errorf("%s: declared twice", name)
		}
		seen[k] = true
		if e.variant != "" {
			o, ok := usual[e.code]
			if !ok {
				t.Errorf("%s: a variant of a code without a usual entry", name)
			} else if o == e.oauth {
				t.Errorf("%s: marked as a variant but answers the usual %s", name, o)
			}
		}
	}
}

// catalogueSource parses the root package's non-test files.
func catalogueSource(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*ast.File{}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files[n] = f
	}
	return fset, files
}

// defCall returns the aadsts(...) call at the root of an entry's declaration
// (aadsts(...).suberror(...).as(...)).
func defCall(x ast.Expr) *ast.CallExpr {
	for {
		c, ok := x.(*ast.CallExpr)
		if !ok {
			return nil
		}
		switch fn := c.Fun.(type) {
		case *ast.Ident:
			if fn.Name == "aadsts" {
				return c
			}
			return nil
		case *ast.SelectorExpr:
			x = fn.X
		default:
			return nil
		}
	}
}

// TestCatalogueCallSites checks by reading the source that every refusal
// goes through the catalogue: no TokenError is built elsewhere, no entry
// is declared outside catalogue.go, every entry is used, and every call
// site passes as many arguments as its template has verbs.
func TestCatalogueCallSites(t *testing.T) {
	fset, files := catalogueSource(t)
	templates := map[string]string{} // entry name -> template
	for _, decl := range files["catalogue.go"].Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, v := range vs.Values {
				c := defCall(v)
				if c == nil {
					continue
				}
				lit, ok := c.Args[3].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: the template of %s is not a literal", fset.Position(c.Pos()), vs.Names[i].Name)
				}
				text, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				templates[vs.Names[i].Name] = text
			}
		}
	}
	if len(templates) != len(catalogue) {
		t.Fatalf("read %d entries in catalogue.go, the package declares %d", len(templates), len(catalogue))
	}
	used := map[string]int{}
	for name, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "TokenError" && name != "errors.go" && name != "catalogue.go" {
					t.Errorf("%s: a TokenError built outside the catalogue", fset.Position(n.Pos()))
				}
			case *ast.Ident:
				if n.Name == "tokenErr" {
					t.Errorf("%s: tokenErr is gone; name a catalogue entry", fset.Position(n.Pos()))
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "aadsts" && name != "catalogue.go" {
					t.Errorf("%s: a catalogue entry declared outside catalogue.go", fset.Position(n.Pos()))
				}
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "new" {
					return true
				}
				id, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				text, ok := templates[id.Name]
				if !ok {
					return true
				}
				used[id.Name]++
				if n.Ellipsis.IsValid() {
					return true
				}
				if got, want := len(n.Args), verbCount(text); got != want {
					t.Errorf("%s: %s.new with %d arguments, its template has %d verbs", fset.Position(n.Pos()), id.Name, got, want)
				}
			}
			return true
		})
	}
	for name := range templates {
		// loadCode's and the replay checks' refusals are built once and
		// passed along; refusal.new picks between two consent entries.
		if used[name] == 0 && !indirect[name] {
			t.Errorf("catalogue entry %s is never used", name)
		}
	}
}

// indirect lists the entries chosen into a variable before .new is called.
var indirect = map[string]bool{"errConsentNotRecorded": true, "errConsentNotPermitted": true}

func TestSentinelsMatchTheirEntries(t *testing.T) {
	codes := map[int][]*errEntry{}
	for _, e := range catalogue {
		codes[e.code] = append(codes[e.code], e)
	}
	sentinels := []*TokenError{
		ErrInvalidClientSecret, ErrClientSecretExpired, ErrNoClientCredential, ErrInvalidClientAssertion,
		ErrNoServicePrincipal, ErrApplicationNotFound, ErrApplicationDisabled, ErrResourceNotFound,
		ErrClientNotAssigned, ErrUserNotAssigned, ErrConsentRequired, ErrAdminConsentRequired, ErrInvalidScope, ErrUserNotFound,
		ErrUserDisabled, ErrInvalidCredentials, ErrAccountLocked, ErrCodeRedeemed, ErrPKCEMismatch,
		ErrGrantRevoked, ErrTokenRevoked, ErrAuthorizationPending, ErrDeviceCodeExpired, ErrTenantNotFound,
	}
	// The list above is every sentinel errors.go declares.
	_, files := catalogueSource(t)
	declared := 0
	ast.Inspect(files["errors.go"], func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "sentinel" {
				declared++
			}
		}
		return true
	})
	if declared != len(sentinels) {
		t.Errorf("errors.go declares %d sentinels, the test checks %d", declared, len(sentinels))
	}
	seen := map[int]bool{}
	for _, s := range sentinels {
		if seen[s.Code] {
			t.Errorf("two sentinels for AADSTS%d", s.Code)
		}
		seen[s.Code] = true
		entries := codes[s.Code]
		if len(entries) == 0 {
			t.Errorf("sentinel AADSTS%d has no catalogue entry", s.Code)
		}
		for _, e := range entries {
			args := make([]any, verbCount(e.text))
			for i := range args {
				args[i] = "x"
			}
			err := error(e.new(args...).with(errors.New("cause")))
			if !errors.Is(err, s) {
				t.Errorf("%v does not match its sentinel %v", err, s)
			}
			if !errors.Is(err, &TokenError{Code: e.code}) || !errors.Is(err, &TokenError{Code: e.code, ErrorCode: e.oauth}) {
				t.Errorf("%v does not match by code", err)
			}
			if errors.Is(err, &TokenError{Code: e.code, ErrorCode: "no_such_error"}) {
				t.Errorf("%v matches another OAuth error", err)
			}
		}
	}
	if errors.Is(errCodeRedeemed.new(), ErrInvalidClientSecret) {
		t.Error("a code replay matches ErrInvalidClientSecret")
	}
	// AADSTS65001 has three OAuth errors; its sentinel matches each.
	oauths := map[string]bool{}
	for _, e := range codes[65001] {
		oauths[e.oauth] = true
	}
	if len(oauths) != 3 {
		t.Errorf("AADSTS65001 answers with %v", oauths)
	}
}

func TestTokenErrorText(t *testing.T) {
	e := errInvalidSecret.new("11111111-2222-3333-4444-555555555555")
	want := "tenantry: invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-3333-4444-555555555555'."
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if e.Status != 401 || e.ErrorCode != OAuthInvalidClient || e.Code != 7000215 {
		t.Errorf("got %d %s %d", e.Status, e.ErrorCode, e.Code)
	}
	if got := e.ResponseDescription(); got != "AADSTS7000215: "+e.ErrorDescription {
		t.Errorf("ResponseDescription without trace fields = %q", got)
	}
	e.TraceID = "0d6b1f8e-6b9e-4a5e-9a0e-3c1b2a4d5e6f"
	e.CorrelationID = "5f1c2b3a-4d5e-6f70-8192-a3b4c5d6e7f8"
	e.Timestamp = time.Date(2026, 4, 1, 8, 0, 5, 0, time.FixedZone("CET", 3600))
	wantDesc := "AADSTS7000215: " + e.ErrorDescription +
		"\r\nTrace ID: 0d6b1f8e-6b9e-4a5e-9a0e-3c1b2a4d5e6f\r\nCorrelation ID: 5f1c2b3a-4d5e-6f70-8192-a3b4c5d6e7f8\r\nTimestamp: 2026-04-01 07:00:05Z"
	if got := e.ResponseDescription(); got != wantDesc {
		t.Errorf("ResponseDescription = %q, want %q", got, wantDesc)
	}
	if e.Error() != want {
		t.Errorf("Error() with trace fields = %q", e.Error())
	}
	if got := ErrCodeRedeemed.Error(); got != "tenantry: AADSTS54005: code already redeemed" {
		t.Errorf("sentinel Error() = %q", got)
	}
	long := errScopeInvalid.new(strings.Repeat("s", 4*maxDescription))
	if len(long.ErrorDescription) > maxDescription+len("…") {
		t.Errorf("description of %d bytes is not capped", len(long.ErrorDescription))
	}
}

package application_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/application"
)

// FuzzValidate feeds arbitrary JSON into an Application: Validate and
// ValidateChange must not panic, must report only *tenant.FieldError values,
// and an unchanged application is always a valid change.
func FuzzValidate(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	if b, err := json.Marshal(baseline(f)); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `null`, `[]`,
		`{"signInAudience":"PersonalMicrosoftAccount","api":{"requestedAccessTokenVersion":7}}`,
		`{"identifierUris":["api://","https://","urn:","api://a/b/","https://x.y:z/"]}`,
		`{"web":{"redirectUris":["http://[::1","http://[","https://*.","https://*","*:"]}}`,
		`{"keyCredentials":[{"type":"AsymmetricX509Cert","key":"MAA="}]}`,
		`{"federatedIdentityCredentials":[{"id":"a","name":"é€","audiences":[""]},{"id":"a"}]}`,
		`{"appRoles":[{"id":"x"}],"api":{"oauth2PermissionScopes":[{"id":"x"}],"preAuthorizedApplications":[{"delegatedPermissionIds":null}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a application.Application
		if json.Unmarshal(data, &a) != nil {
			return
		}
		for _, ctx := range []application.ValidationContext{{}, vctx} {
			for _, field := range fields(a.Validate(ctx)) {
				if strings.HasPrefix(field, "!") {
					t.Fatalf("Validate returned a non-FieldError: %s", field)
				}
			}
		}
		if err := application.ValidateChange(a, a.Clone()); err != nil {
			t.Fatalf("ValidateChange(a, a) = %v", err)
		}
		for _, p := range []application.RedirectURIPlatform{application.PlatformWeb, application.PlatformSPA, application.PlatformPublic} {
			for _, u := range a.RedirectURIsOf(p) {
				a.MatchRedirectURI(u)
				_ = application.ValidateRedirectURI(p, u, a.SignInAudience)
			}
		}
	})
}

// FuzzMatchRedirectURI registers one URI on every platform and requests
// another: matching must not panic, a match implies the same scheme and
// path (or a registered empty path and a requested "/"), and a URI
// ValidateRedirectURI accepts always matches itself.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, s := range [][2]string{
		{"https://app.contoso.com/cb", "https://app.contoso.com/cb"},
		{"https://app.contoso.com", "https://app.contoso.com/"},
		{"http://localhost:5000/cb", "http://localhost:61234/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:1/cb"},
		{"http://[::1]:5000/cb", "http://[::1]:5001/cb"},
		{"https://*.contoso.com/cb", "https://a.contoso.com/cb"},
		{"https://*.contoso.com/cb", "https://a.b.contoso.com/cb"},
		{"msalapp://auth", "MSALAPP://auth/"},
		{"com.contoso.app:/cb", "com.contoso.app:/cb"},
		{"https://app.contoso.com/cb?x=1", "https://app.contoso.com/cb?x=1"},
		{"x:", "x:"},
		{"https://a@b/c", "https://a@b/c"},
		{"http://localhost:/x", "http://localhost:0/x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, registered, requested string) {
		uris := []string{registered}
		app := application.Application{
			SignInAudience: application.AzureADMyOrg,
			Web:            &application.Web{RedirectURIs: uris},
			SPA:            &application.RedirectURIs{RedirectURIs: uris},
			PublicClient:   &application.RedirectURIs{RedirectURIs: uris},
		}
		for _, p := range []application.RedirectURIPlatform{application.PlatformWeb, application.PlatformSPA, application.PlatformPublic} {
			if application.ValidateRedirectURI(p, registered, application.AzureADMyOrg) == nil {
				if _, ok := app.MatchRedirectURI(registered); !ok {
					t.Fatalf("valid %s URI %q does not match itself", p, registered)
				}
			}
		}

		if _, ok := app.MatchRedirectURI(requested); !ok {
			return
		}
		req, err := url.Parse(requested)
		if err != nil {
			t.Fatalf("matched %q, which net/url rejects: %v", requested, err)
		}
		reg, err := url.Parse(registered)
		if err != nil {
			t.Fatalf("matched a registration net/url rejects: %q: %v", registered, err)
		}
		if !strings.EqualFold(req.Scheme, reg.Scheme) {
			t.Fatalf("%q matched %q with another scheme", requested, registered)
		}
		if req.EscapedPath() != reg.EscapedPath() && !(reg.Path == "" && req.Path == "/") {
			t.Fatalf("%q matched %q with another path (%q vs %q)", requested, registered, req.EscapedPath(), reg.EscapedPath())
		}
		if req.Fragment != "" || req.User != nil {
			t.Fatalf("%q with fragment or user info matched", requested)
		}
	})
}

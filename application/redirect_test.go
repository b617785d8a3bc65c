package application_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

func TestValidateRedirectURI(t *testing.T) {
	const (
		web    = application.PlatformWeb
		spa    = application.PlatformSPA
		public = application.PlatformPublic
		myOrg  = application.AzureADMyOrg
		multi  = application.AzureADMultipleOrgs
		both   = application.AzureADandPersonalMicrosoftAccount
		msa    = application.PersonalMicrosoftAccount
	)
	long := func(n int) string {
		return "https://app.contoso.com/" + strings.Repeat("p", n-len("https://app.contoso.com/"))
	}
	cases := []struct {
		platform application.RedirectURIPlatform
		uri      string
		audience string
		ok       bool
	}{
		// scheme and host
		{web, "https://app.contoso.com/signin-oidc", myOrg, true},
		{web, "https://app.contoso.com", myOrg, true},
		{web, "HTTPS://App.Contoso.com/cb", myOrg, true},
		{web, "https://localhost:44321/signin-oidc", myOrg, true},
		{web, "https://10.0.0.5/cb", myOrg, true},
		{web, "http://localhost/cb", myOrg, true},
		{web, "http://localhost:8080/cb", both, true},
		{web, "http://LocalHost:8080/cb", myOrg, true},
		{web, "http://127.0.0.1:5000/cb", myOrg, true},
		{web, "http://127.0.0.1", msa, true},
		{web, "http://app.contoso.com/cb", myOrg, false},
		{web, "http://127.0.0.2/cb", myOrg, false},
		{web, "http://localhost.contoso.com/cb", myOrg, false},
		{web, "http://[::1]:5000/cb", myOrg, false},
		{public, "http://[::1]/cb", myOrg, false},
		{web, "https://", myOrg, false},
		{web, "https:/app.contoso.com/cb", myOrg, false},
		{web, "//app.contoso.com/cb", myOrg, false},
		{web, "/signin-oidc", myOrg, false},
		{web, "app.contoso.com/cb", myOrg, false},
		{web, "", myOrg, false},
		{web, "https://user@app.contoso.com/cb", myOrg, false},
		{web, "https://app.contoso.com:99999/cb", myOrg, false},
		{web, "https://app.contoso.com:/cb", myOrg, false},
		{web, "https://app.contoso.com:8443/cb", myOrg, true},
		// characters and length
		{web, long(256), myOrg, true},
		{web, long(257), myOrg, false},
		{web, "https://app.contoso.com/cb!", myOrg, false},
		{web, "https://app.contoso.com/cb$", myOrg, false},
		{web, "https://app.contoso.com/o'brien", myOrg, false},
		{web, "https://app.contoso.com/cb(1)", myOrg, false},
		{web, "https://app.contoso.com/a,b", myOrg, false},
		{web, "https://app.contoso.com/a;b", myOrg, false},
		{web, "https://app.contoso.com/a b", myOrg, false},
		{web, "https://app.contoso.com/cb\n", myOrg, false},
		{web, "https://app.contoso.com/%zz", myOrg, false},
		{web, "https://app.contoso.com/caf%C3%A9", myOrg, true},
		// fragment and query
		{web, "https://app.contoso.com/cb#top", myOrg, false},
		{web, "https://app.contoso.com/cb?x=1", myOrg, true},
		{spa, "https://app.contoso.com/cb?x=1", multi, true},
		{web, "https://app.contoso.com/cb?x=1", both, false},
		{web, "https://app.contoso.com/cb?x=1", msa, false},
		{public, "msalapp://auth?x=1", both, false},
		{web, "https://app.contoso.com/cb?x=1", "", false},
		// wildcards
		{web, "https://*.contoso.com/cb", myOrg, true},
		{web, "https://*.contoso.com", multi, true},
		{web, "https://*.contoso.com/cb", both, false},
		{web, "https://*.contoso.com/cb", msa, false},
		{spa, "https://*.contoso.com/cb", myOrg, false},
		{public, "https://*.contoso.com/cb", myOrg, false},
		{web, "http://*.contoso.com/cb", myOrg, false},
		{web, "https://*.com/cb", myOrg, false},
		{web, "https://*/cb", myOrg, false},
		{web, "https://a*.contoso.com/cb", myOrg, false},
		{web, "https://*.*.contoso.com/cb", myOrg, false},
		{web, "https://app.*.contoso.com/cb", myOrg, false},
		{web, "https://app.contoso.com/*", myOrg, false},
		{web, "https://*.contoso.com/*", myOrg, false},
		// platforms
		{spa, "https://app.contoso.com/", both, true},
		{spa, "http://localhost:3000", both, true},
		{spa, "msal" + appID + "://auth", myOrg, false},
		{web, "msal" + appID + "://auth", myOrg, false},
		{public, "msal" + appID + "://auth", both, true},
		{public, "ms-appx-web://microsoft.aad.brokerplugin/" + appID, myOrg, true},
		{public, application.NativeClientRedirectURI, msa, true},
		{public, "com.contoso.app:/oauth2redirect", myOrg, true},
		{public, "myapp:", myOrg, false},
		{public, "javascript://app/alert", myOrg, false},
		{public, "JavaScript://app/alert", myOrg, false},
		{public, "file:///etc/passwd", myOrg, false},
		{public, "data:text/html;base64,PHNjcmlwdD4=", myOrg, false},
		{public, "vbscript:msgbox", myOrg, false},
		{public, "http://localhost", both, true},
		{public, "ftp://files.contoso.com/cb", myOrg, true},
	}
	for _, tc := range cases {
		err := application.ValidateRedirectURI(tc.platform, tc.uri, tc.audience)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRedirectURI(%s, %q, %s) = %v, want ok=%v", tc.platform, tc.uri, tc.audience, err, tc.ok)
			continue
		}
		if err == nil {
			continue
		}
		var fe *tenant.FieldError
		if !errors.As(err, &fe) || fe.Field != string(tc.platform)+".redirectUris" || !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("ValidateRedirectURI(%s, %q): error %#v is not a FieldError for %s.redirectUris", tc.platform, tc.uri, err, tc.platform)
		}
	}

	err := application.ValidateRedirectURI("desktop", "https://app.contoso.com/cb", myOrg)
	var fe *tenant.FieldError
	if !errors.As(err, &fe) || fe.Field != "redirectUris" {
		t.Errorf("unknown platform: got %v", err)
	}
}

// matchApp registers redirect URIs that exercise every matching rule.
func matchApp() application.Application {
	return application.Application{
		AppID:          appID,
		SignInAudience: application.AzureADMyOrg,
		Web: &application.Web{RedirectURIs: []string{
			"https://app.contoso.com/signin-oidc",
			"https://root.contoso.com",
			"http://localhost:5000/web-cb",
			"https://*.preview.contoso.com/cb",
			"https://app.contoso.com/cb?tenant=a",
			"https://shared.contoso.com/cb",
			"http://localhost:7000/dup",
		}},
		SPA: &application.RedirectURIs{RedirectURIs: []string{
			"http://localhost:3000",
			"https://spa.contoso.com/",
			"https://shared.contoso.com/cb",
			"http://localhost:8000/dup",
		}},
		PublicClient: &application.RedirectURIs{RedirectURIs: []string{
			"http://127.0.0.1/native",
			"msal" + appID + "://auth",
			"com.contoso.app:/oauth2redirect",
			"https://localhost:8443/p",
			"http://[::1]:4000/v6",
			"https://shared.contoso.com/cb",
		}},
	}
}

func TestMatchRedirectURI(t *testing.T) {
	const (
		web    = application.PlatformWeb
		spa    = application.PlatformSPA
		public = application.PlatformPublic
		none   = application.RedirectURIPlatform("")
	)
	cases := []struct {
		requested string
		want      application.RedirectURIPlatform
	}{
		// exact
		{"https://app.contoso.com/signin-oidc", web},
		{"HTTPS://APP.Contoso.COM/signin-oidc", web},
		{"https://app.contoso.com/SIGNIN-OIDC", none},
		{"https://app.contoso.com/signin-oidc/", none},
		{"https://app.contoso.com/signin-oidc?x=1", none},
		{"https://app.contoso.com/signin-oidc#x", none},
		{"https://app.contoso.com:443/signin-oidc", none},
		{"https://app.contoso.com/signin%2Doidc", none},
		{"https://user@app.contoso.com/signin-oidc", none},
		{" https://app.contoso.com/signin-oidc", none},
		{"https://app.contoso.com/signin-oidc ", none},
		{"", none},
		{"://", none},
		{"signin-oidc", none},
		// no registered path: "/" may be appended, not the reverse
		{"https://root.contoso.com", web},
		{"https://root.contoso.com/", web},
		{"https://root.contoso.com/x", none},
		{"https://spa.contoso.com/", spa},
		{"https://spa.contoso.com", none},
		// query
		{"https://app.contoso.com/cb?tenant=a", web},
		{"https://app.contoso.com/cb?tenant=b", none},
		{"https://app.contoso.com/cb", none},
		{"https://app.contoso.com/cb?tenant=a&x=1", none},
		// loopback: any port, same scheme, host and path
		{"http://localhost:5000/web-cb", web},
		{"http://localhost:61234/web-cb", web},
		{"http://localhost/web-cb", web},
		{"http://LOCALHOST:1/web-cb", web},
		{"http://localhost:99999/web-cb", none},
		{"http://localhost:x/web-cb", none},
		{"http://127.0.0.1:5000/web-cb", none},
		{"https://localhost:5000/web-cb", none},
		{"http://localhost:5000/web-cb/", none},
		{"http://localhost:5000/Web-cb", none},
		{"http://localhost:5000/web-cb?x=1", none},
		{"http://localhost:3000", spa},
		{"http://localhost:49152", spa},
		{"http://localhost:49152/", spa},
		{"http://localhost:49152/x", none},
		{"http://127.0.0.1:1234/native", public},
		{"http://127.0.0.1/native", public},
		{"http://localhost:1234/native", none},
		{"http://[::1]:4000/v6", public}, // registered verbatim: exact match only
		{"http://[::1]:4001/v6", none},
		{"https://localhost:8443/p", public},
		{"https://localhost:9999/p", none},
		// custom schemes
		{"msal" + appID + "://auth", public},
		{"MSAL" + strings.ToUpper(appID) + "://auth", public},
		{"msal" + appID + "://auth/", public}, // no registered path: "/" may be appended
		{"msal" + appID + "://auth/x", none},
		{"com.contoso.app:/oauth2redirect", public},
		{"com.contoso.app:/OAuth2Redirect", none},
		// wildcard: one label
		{"https://pr-12.preview.contoso.com/cb", web},
		{"https://PR-12.Preview.Contoso.com/cb", web},
		{"https://a.b.preview.contoso.com/cb", none},
		{"https://preview.contoso.com/cb", none},
		{"https://.preview.contoso.com/cb", none},
		{"https://*.preview.contoso.com/cb", web}, // the literal registration
		{"https://x*.preview.contoso.com/cb", none},
		{"http://pr-12.preview.contoso.com/cb", none},
		{"https://pr-12.preview.contoso.com/cb2", none},
		{"https://pr-12.preview.contoso.com/cb?x=1", none},
		{"https://pr-12.preview.contoso.com:8443/cb", none},
		{"https://evilpreview.contoso.com/cb", none},
		{"https://pr-12.preview.contoso.com.evil.com/cb", none},
		{"https://user@pr-12.preview.contoso.com/cb", none},
		// several platforms: web, then spa, then publicClient
		{"https://shared.contoso.com/cb", web},
		// exact beats loopback: 8000 is registered on spa, 7000 on web
		{"http://localhost:8000/dup", spa},
		{"http://localhost:7000/dup", web},
		{"http://localhost:9000/dup", web},
	}
	app := matchApp()
	for _, tc := range cases {
		got, ok := app.MatchRedirectURI(tc.requested)
		if got != tc.want || ok != (tc.want != none) {
			t.Errorf("MatchRedirectURI(%q) = %q, %v; want %q", tc.requested, got, ok, tc.want)
		}
	}
}

func TestMatchRedirectURIWildcardOnlyOnWeb(t *testing.T) {
	app := application.Application{SPA: &application.RedirectURIs{RedirectURIs: []string{"https://*.contoso.com/cb"}}}
	if p, ok := app.MatchRedirectURI("https://app.contoso.com/cb"); ok {
		t.Errorf("a wildcard registered on spa matched, on %s", p)
	}
}

func TestMatchRedirectURINoPlatforms(t *testing.T) {
	if p, ok := (application.Application{}).MatchRedirectURI("https://app.contoso.com/cb"); ok {
		t.Errorf("matched on %s without registered URIs", p)
	}
}

// Every redirect URI Validate accepts matches itself.
func TestValidRedirectURIsMatchThemselves(t *testing.T) {
	a := baseline(t)
	for _, p := range []application.RedirectURIPlatform{application.PlatformWeb, application.PlatformSPA, application.PlatformPublic} {
		for _, u := range a.RedirectURIsOf(p) {
			got, ok := a.MatchRedirectURI(u)
			if !ok || got != p {
				t.Errorf("MatchRedirectURI(%q) = %q, %v; want %s", u, got, ok, p)
			}
		}
	}
}

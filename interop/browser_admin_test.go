package interop_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/tenantrytest"
)

// grants lists the delegated permission grants the app's service
// principal in tenantID holds; none when it has no service principal
// there.
func (e *env) grants(tenantID, appID string) []consent.Grant {
	e.t.Helper()
	sp, err := e.dir.ServicePrincipalByAppID(e.ctx, tenantry.System(), tenantID, appID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	page, err := e.dir.Grants(e.ctx, tenantry.System(), sp.ID, tenantry.PageRequest{})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Items
}

// userIn creates a user in tenant tn.
func (e *env) userIn(tn tenant.Tenant, name, password string) tenant.User {
	e.t.Helper()
	u, err := e.dir.CreateUser(e.ctx, tenantry.System(), tn.ID, tenantry.UserSpec{UserPrincipalName: name + "@" + tn.VerifiedDomains[0].Name, Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// at is the flow against another tenant's endpoints.
func (f *webFlow) at(tenantID string) *webFlow {
	g := *f
	g.cfg.Endpoint = oauth2.Endpoint{AuthURL: f.e.authority(tenantID) + "/oauth2/v2.0/authorize", TokenURL: f.e.authority(tenantID) + "/oauth2/v2.0/token"}
	return &g
}

// signInWithoutConsent signs upn in through the flow in a new tab and
// requires the browser to go straight to the redirect URI, with no
// consent page, with a code for userID.
func (f *webFlow) signInWithoutConsent(upn, password, userID string) {
	f.e.t.Helper()
	b := f.e.newTab()
	b.do("opening the authorize URL", chromedp.Navigate(f.authURL("s-"+userID)))
	b.signIn(upn, password)
	if !eval[bool](b, `!!document.getElementById("landed")`) {
		f.e.t.Fatalf("%s was not sent to the redirect URI after signing in (at %s)", upn, b.location())
	}
	got := f.cb.next(f.e.t)
	if got.Get("code") == "" || got.Get("state") != "s-"+userID {
		f.e.t.Fatalf("the redirect URI got %v", got)
	}
	if oid := f.redeem(got.Get("code")); oid != userID {
		f.e.t.Fatalf("the code is for %s, want %s", oid, userID)
	}
}

// An administrator on the consent page sees the admin consent texts and
// "Consent on behalf of your organization"; ticked and accepted, it grants
// the permissions to every user: the grant is AllPrincipals, and another
// user of the tenant signs in without a consent page.
func TestBrowserAdminConsentOnPage(t *testing.T) {
	e := newEnv(t, tenantrytest.WithoutLoginHintSignIn())
	f := e.newWebFlow()
	bob := e.user("bob@"+e.contoso.VerifiedDomains[0].Name, "Bob-Passw0rd!")
	admin := e.admin[e.contoso.ID]
	b := e.newTab()
	b.do("opening the authorize URL", chromedp.Navigate(f.authURL("s-admin")))
	b.signIn(admin.UserPrincipalName, "Admin-Passw0rd!")
	b.do("waiting for the consent page", chromedp.WaitVisible(chromedp.ID("org-consent")))
	if label := b.text(`label[for="org-consent"]`); label != "Consent on behalf of your organization" {
		t.Fatalf("the organization checkbox's label is %q", label)
	}
	if perms := b.text(".permissions"); !strings.Contains(perms, "Read orders") || !strings.Contains(perms, "Read the signed-in user's orders") {
		t.Fatalf("an administrator's consent page lists %q, want the admin consent texts", perms)
	}
	if eval[bool](b, `document.getElementById("org-consent").checked`) {
		t.Fatal("consent for the organization is ticked before the administrator ticks it")
	}
	b.do("ticking consent for the organization", chromedp.Click(chromedp.ID("org-consent")))
	if !eval[bool](b, `document.getElementById("org-consent").checked`) {
		t.Fatal("the organization checkbox does not tick")
	}
	b.screenshot("consent-admin")
	b.submit("accepting", chromedp.Click(chromedp.ID("accept")))
	got := b.landed(f.cb)
	if got.Get("code") == "" || got.Get("state") != "s-admin" {
		t.Fatalf("the redirect URI got %v", got)
	}
	if oid := f.redeem(got.Get("code")); oid != admin.ID {
		t.Fatalf("the code is for %s, want the administrator %s", oid, admin.ID)
	}
	grants := e.grants(e.contoso.ID, f.app.AppID)
	var org bool
	for _, g := range grants {
		if g.ConsentType == "AllPrincipals" && strings.Contains(" "+g.Scope+" ", " Orders.Read ") {
			org = true
		}
	}
	if !org {
		t.Fatalf("grants after consent for the organization: %+v", grants)
	}
	f.signInWithoutConsent(bob.UserPrincipalName, "Bob-Passw0rd!", bob.ID)
}

// The admin consent endpoint (v2): a customer tenant's administrator
// signs in, sees the permissions the app asks for on behalf of her
// organization, accepts, and the browser lands at the redirect URI with
// admin_consent=True, her tenant, the state and the scope; then a user of
// that tenant signs in to the app without a consent page.
func TestBrowserAdminConsentEndpoint(t *testing.T) {
	e := newEnv(t, tenantrytest.WithoutLoginHintSignIn())
	f := e.newWebFlow()
	admin := e.admin[e.fabrikam.ID]
	carol := e.userIn(e.fabrikam, "carol", "Carol-Passw0rd!")
	q := url.Values{"client_id": {f.app.AppID}, "redirect_uri": {f.cb.uri()}, "state": {"s-org"}, "scope": {apiURI + "/.default"}}
	b := e.newTab()
	b.do("opening the admin consent URL", chromedp.Navigate(e.authority(e.fabrikam.ID)+"/v2.0/adminconsent?"+q.Encode()))
	b.signIn(admin.UserPrincipalName, "Admin-Passw0rd!")
	b.do("waiting for the consent page", chromedp.WaitVisible(chromedp.ID("accept")))
	if org := b.text(".org"); !strings.Contains(org, "Consent on behalf of your organization") {
		t.Fatalf("the admin consent page says %q", org)
	}
	if perms := b.text(".permissions"); !strings.Contains(perms, "Read orders") {
		t.Fatalf("the admin consent page lists %q", perms)
	}
	b.screenshot("adminconsent")
	b.submit("accepting", chromedp.Click(chromedp.ID("accept")))
	got := b.landed(f.cb)
	if got.Get("admin_consent") != "True" || got.Get("tenant") != e.fabrikam.ID || got.Get("state") != "s-org" || got.Get("scope") == "" || got.Get("error") != "" {
		t.Fatalf("the redirect URI got %v", got)
	}
	f.at(e.fabrikam.ID).signInWithoutConsent(carol.UserPrincipalName, "Carol-Passw0rd!", carol.ID)
}

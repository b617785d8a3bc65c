package interop_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tenantry/tenantry/tenantrytest"
)

// tokenAnswer is what the token endpoint answers, success or refusal.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	status       int
}

// postJSON posts form to endpoint with the test's HTTP client and decodes
// the JSON answer into v.
func (e *env) postJSON(endpoint string, form url.Values, v any) int {
	e.t.Helper()
	resp, err := e.client.PostForm(endpoint, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		e.t.Fatalf("%s answered %s, not JSON: %v", endpoint, resp.Status, err)
	}
	return resp.StatusCode
}

// The device code flow with the verification page in a real browser: a
// device code requested over HTTP, a wrong user code refused on the page,
// which asks again; the right one, a sign-in and Continue approve the
// device's sign-in, and the device's polling, pending until then, yields
// tokens for the user.
func TestBrowserDeviceCode(t *testing.T) {
	e := newEnv(t, tenantrytest.WithoutLoginHintSignIn())
	app := e.desktop()
	e.consent(e.contoso.ID, app)
	alice := e.user("alice@"+e.contoso.VerifiedDomains[0].Name, "Alice-Passw0rd!")
	var da struct {
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
	}
	if st := e.postJSON(e.authority(e.contoso.ID)+"/oauth2/v2.0/devicecode", url.Values{"client_id": {app.AppID}, "scope": {apiURI + "/Orders.Read offline_access"}}, &da); st != http.StatusOK || da.UserCode == "" {
		t.Fatalf("devicecode answered %d %+v", st, da)
	}
	poll := func() tokenAnswer {
		t.Helper()
		var ta tokenAnswer
		ta.status = e.postJSON(e.authority(e.contoso.ID)+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {app.AppID}, "device_code": {da.DeviceCode}}, &ta)
		return ta
	}
	if ta := poll(); ta.status != http.StatusBadRequest || ta.Error != "authorization_pending" {
		t.Fatalf("polling before the user approves: %d %s", ta.status, ta.Error)
	}

	b := e.newTab()
	b.do("opening the verification page", chromedp.Navigate(da.VerificationURI), chromedp.WaitVisible(chromedp.ID("usercode")))
	b.screenshot("devicecode")
	b.submit("entering a wrong code", chromedp.SendKeys(chromedp.ID("usercode"), "BCDFGHJKL"), chromedp.Click(chromedp.ID("next")))
	b.do("waiting for the code page again", chromedp.WaitVisible(chromedp.ID("usercode")), chromedp.WaitVisible(chromedp.ID("error")))
	if msg := b.text("#error"); msg == "" || strings.Contains(msg, da.UserCode) {
		t.Fatalf("a wrong code: the error region says %q", msg)
	}
	if inv := eval[string](b, `document.getElementById("usercode").getAttribute("aria-invalid")`); inv != "true" {
		t.Fatalf("the wrong code's input is not marked invalid (%q)", inv)
	}
	b.screenshot("devicecode-error")
	b.do("clearing the code", chromedp.Clear(chromedp.ID("usercode")))
	b.submit("entering the code", chromedp.SendKeys(chromedp.ID("usercode"), da.UserCode), chromedp.Click(chromedp.ID("next")))
	if name := b.text("p strong"); name != app.DisplayName {
		t.Fatalf("the sign-in page names the app %q", name)
	}
	b.signIn(alice.UserPrincipalName, "Alice-Passw0rd!")
	b.do("waiting for the confirmation", chromedp.WaitVisible(chromedp.ID("continue")))
	if h := b.text("h1"); h != "Are you trying to sign in to "+app.DisplayName+"?" {
		t.Fatalf("the confirmation page asks %q", h)
	}
	if ta := poll(); ta.Error != "authorization_pending" {
		t.Fatalf("polling before Continue: %d %s", ta.status, ta.Error)
	}
	b.screenshot("device-confirm")
	b.submit("continuing", chromedp.Click(chromedp.ID("continue")))
	if msg := b.text("[role=status]"); !strings.Contains(msg, "You have signed in to the "+app.DisplayName+" application") {
		t.Fatalf("after Continue the page says %q", msg)
	}
	ta := poll()
	if ta.status != http.StatusOK || ta.AccessToken == "" || ta.RefreshToken == "" {
		t.Fatalf("polling after approval: %d %s %s", ta.status, ta.Error, ta.Description)
	}
	if p := e.validate(ta.AccessToken); p.ObjectID != alice.ID {
		t.Fatalf("the device's token is for %s, want %s", p.ObjectID, alice.ID)
	}
}

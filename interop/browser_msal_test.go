package interop_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tenantry/tenantry/tenantrytest"
)

// withoutJavaScript turns the page's scripts off in the tab, for every
// page it loads from now on.
func (b *tab) withoutJavaScript() {
	b.t.Helper()
	b.do("turning JavaScript off", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// MSAL Go's public client, unmodified, signs in interactively through the
// real pages in Chromium: MSAL opens the authorize URL (PKCE, form_post to
// its loopback listener on http://localhost:PORT), the user types her
// credentials and accepts consent, and the form_post page brings the code
// to MSAL's listener — submitted by its script with JavaScript on, by the
// <noscript> Continue button with JavaScript off. MSAL redeems the code
// and returns a token for her.
func TestBrowserMSALInteractive(t *testing.T) {
	for _, js := range []bool{true, false} {
		name := "javascript"
		if !js {
			name = "no javascript"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, tenantrytest.WithoutLoginHintSignIn())
			app := e.desktop()
			alice := e.user("alice@"+e.contoso.VerifiedDomains[0].Name, "Alice-Passw0rd!")
			c := e.publicClient(app.AppID)
			b := e.newTab()
			if !js {
				b.withoutJavaScript()
			}
			var asked *url.URL
			open := func(u string) error {
				asked, _ = url.Parse(u)
				b.do("opening MSAL's authorize URL", chromedp.Navigate(u))
				b.signIn(alice.UserPrincipalName, "Alice-Passw0rd!")
				b.do("waiting for the consent page", chromedp.WaitVisible(chromedp.ID("accept")))
				if js {
					// The consent's answer is the form_post page, whose
					// script posts it to MSAL at once.
					b.submit("accepting", chromedp.Click(chromedp.ID("accept")))
					return nil
				}
				b.submit("accepting", chromedp.Click(chromedp.ID("accept")))
				b.do("waiting for the form_post page's Continue button", chromedp.WaitVisible(chromedp.ID("continue")))
				if action := eval[string](b, `document.getElementById("formpost").getAttribute("action")`); action != asked.Query().Get("redirect_uri") {
					t.Errorf("the form_post page posts to %q, want MSAL's %q", action, asked.Query().Get("redirect_uri"))
				}
				b.accessible("form_post without JavaScript")
				b.screenshot("formpost-nojs")
				b.submit("continuing to the app", chromedp.Click(chromedp.ID("continue")))
				return nil
			}
			ctx, cancel := context.WithTimeout(e.ctx, 4*step)
			defer cancel()
			r, err := c.AcquireTokenInteractive(ctx, []string{apiURI + "/Orders.Read"}, public.WithOpenURL(open))
			if err != nil {
				t.Fatalf("MSAL: %v (the browser is at %s)", err, b.location())
			}
			if q := asked.Query(); q.Get("response_mode") != "form_post" || !strings.HasPrefix(q.Get("redirect_uri"), "http://localhost:") {
				t.Fatalf("MSAL asked %v", q)
			}
			if p := e.validate(r.AccessToken); p.ObjectID != alice.ID {
				t.Fatalf("MSAL's token is for %s, want %s", p.ObjectID, alice.ID)
			}
			// The browser itself is at MSAL's listener, on its page.
			b.do("waiting for MSAL's page", chromedp.WaitReady(chromedp.Search(`//title[.="Authentication Complete"]`)))
			if loc := b.location(); !strings.HasPrefix(loc, asked.Query().Get("redirect_uri")) {
				t.Fatalf("the browser ended at %s", loc)
			}
		})
	}
}

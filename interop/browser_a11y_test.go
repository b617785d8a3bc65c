package interop_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tenantry/tenantry/tenantrytest"
)

// a11yProblems lists what a screen reader or keyboard user would miss on
// the page: a lang attribute, a title, one h1, a label for every input, a
// name for every button, aria-live on the error region.
const a11yProblems = `(() => {
	const p = [];
	if (!document.documentElement.lang) p.push("no lang attribute on <html>");
	if (!document.title.trim()) p.push("no title");
	if (document.querySelectorAll("h1").length !== 1) p.push(document.querySelectorAll("h1").length + " h1 headings");
	for (const i of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
		if (i.labels.length === 0 || !i.labels[0].textContent.trim()) p.push("input #" + i.id + " has no label");
	}
	for (const b of document.querySelectorAll("button")) {
		if (!b.textContent.trim() && !b.getAttribute("aria-label")) p.push("button #" + b.id + " has no name");
	}
	const err = document.getElementById("error");
	if (err && !err.getAttribute("aria-live")) p.push("the error region has no aria-live");
	return p;
})()`

// accessible fails the test with the page's accessibility problems.
func (b *tab) accessible(page string) {
	b.t.Helper()
	if p := eval[[]string](b, a11yProblems); len(p) > 0 {
		b.t.Errorf("%s page: %s", page, strings.Join(p, "; "))
	}
}

// focused is the id of the element that has the keyboard focus, and
// whether it shows it with the style sheet's focus ring (:focus-visible, a
// 3px solid outline; the browser's own ring is thinner).
func (b *tab) focused() (id string, visible bool) {
	b.t.Helper()
	v := eval[[]string](b, `(() => { const s = getComputedStyle(document.activeElement); return [document.activeElement.id, s.outlineStyle + " " + s.outlineWidth]; })()`)
	return v[0], v[1] == "solid 3px"
}

// tabTo presses Tab and requires the focus to land, visibly, on id.
func (b *tab) tabTo(id string) {
	b.t.Helper()
	b.do("pressing Tab", chromedp.KeyEvent(kb.Tab))
	if got, visible := b.focused(); got != id || !visible {
		b.t.Fatalf("Tab moved the focus to %q (visible: %v), want #%s", got, visible, id)
	}
}

// The pages are labelled for screen readers and work from the keyboard
// alone: an administrator Tabs from the top of the sign-in page to the
// user name, the password and Sign in, with a visible focus each time,
// types her credentials and presses Enter; on the consent page she Tabs to
// the organization checkbox, ticks it with Space, Tabs to Accept and
// presses Enter, and lands at the app. Every page along the way (and the
// device code and error code pages) has a lang attribute, a title, one h1,
// labelled inputs, named buttons and a live error region.
func TestBrowserKeyboardAndLabels(t *testing.T) {
	e := newEnv(t, tenantrytest.WithoutLoginHintSignIn())
	f := e.newWebFlow()
	admin := e.admin[e.contoso.ID]
	b := e.newTab()
	b.do("opening the authorize URL", chromedp.Navigate(f.authURL("s-keys")), chromedp.WaitVisible(chromedp.ID("signin")))
	b.accessible("sign-in")
	b.tabTo("username")
	b.do("typing the user name", chromedp.KeyEvent(admin.UserPrincipalName))
	b.tabTo("password")
	b.do("typing the password", chromedp.KeyEvent("Admin-Passw0rd!"))
	b.tabTo("signin")
	b.do("going back", chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
	if id, _ := b.focused(); id != "password" {
		t.Fatalf("Shift+Tab from Sign in moved the focus to %q", id)
	}
	b.submit("pressing Enter in the password field", chromedp.KeyEvent(kb.Enter))

	b.do("waiting for the consent page", chromedp.WaitVisible(chromedp.ID("org-consent")))
	b.accessible("consent")
	b.tabTo("org-consent")
	b.do("ticking the checkbox with Space", chromedp.KeyEvent(" "))
	if !eval[bool](b, `document.getElementById("org-consent").checked`) {
		t.Fatal("Space does not tick consent for the organization")
	}
	b.tabTo("accept")
	b.submit("pressing Enter on Accept", chromedp.KeyEvent(kb.Enter))
	if got := b.landed(f.cb); got.Get("code") == "" || got.Get("state") != "s-keys" {
		t.Fatalf("the redirect URI got %v", got)
	}
	var org bool
	for _, g := range e.grants(e.contoso.ID, f.app.AppID) {
		org = org || g.ConsentType == "AllPrincipals"
	}
	if !org {
		t.Fatal("the checkbox ticked from the keyboard granted nothing for the organization")
	}

	b.do("opening the device code page", chromedp.Navigate(e.base+"/devicelogin"), chromedp.WaitVisible(chromedp.ID("usercode")))
	b.accessible("device code")
	b.tabTo("usercode")
	b.tabTo("next")
	b.do("opening the error code page", chromedp.Navigate(e.base+"/error?code=50126"), chromedp.WaitVisible(chromedp.ID("code")))
	b.accessible("error code")
}

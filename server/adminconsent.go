package server

import (
	"net/http"
	"net/url"

	"github.com/tenantry/tenantry"
)

// adminConsentParams are the admin consent request's parameters the pages
// carry.
var adminConsentParams = []string{"client_id", "redirect_uri", "state", "scope"}

// adminConsent serves /{tenant}/adminconsent (v1: client_id, redirect_uri,
// state) and /{tenant}/v2.0/adminconsent (also scope): an administrator
// signs in, sees the permissions the client asks for and grants them on
// behalf of her organization (Issuer.AdminConsent). The redirect URI must
// be one the client registered; until it is known to be, refusals are
// shown on a page. Success redirects with admin_consent=True, tenant and
// state (and scope at v2), a refusal with error, error_description and
// state.
func (s *Server) adminConsent(x *exchange) {
	f, err := s.queryForm(x)
	if err != nil {
		s.errorPage(x, err)
		return
	}
	step := f.get(stepField)
	sess, _ := s.readSession(x.r)
	if step != "" && (x.r.Method != http.MethodPost || !s.checkCSRF(x, f, sess.UserID)) {
		s.forbiddenPost(x)
		return
	}
	params := form{}
	for _, k := range adminConsentParams {
		if v, ok := f[k]; ok {
			params[k] = v
		}
	}
	req := tenantry.AdminConsentRequest{Tenant: x.tenant, ClientID: f.get("client_id"), RedirectURI: f.get("redirect_uri")}
	if x.version == 2 {
		req.Scope = f.get("scope")
	}
	p, err := s.iss.AdminConsentPrompt(x.ctx, req)
	if p == nil {
		if err == nil {
			err = tenantry.Refuse(tenantry.RefuseMalformed, "the request could not be checked")
		}
		s.errorPage(x, err)
		return
	}
	fail := func(err error) {
		v := s.errorParams(x, err)
		if st, ok := params["state"]; ok {
			v.Set("state", st)
		}
		s.respond(x, "query", p.RedirectURI, v)
	}
	if err == nil && x.version == 2 && req.Scope == "" {
		err = tenantry.Refuse(tenantry.RefuseMissingParameter, "scope")
	}
	if err != nil {
		fail(err)
		return
	}
	// Cancel, and the admin-approval page's "Return to the application
	// without consenting", grant nothing.
	if step == "cancel" || step == "back" {
		fail(tenantry.Refuse(tenantry.RefuseConsentDeclined, ""))
		return
	}
	hidden := func() []field {
		var out []field
		for _, k := range adminConsentParams {
			if v, ok := params[k]; ok {
				out = append(out, field{k, v})
			}
		}
		return out
	}
	signIn := func(username, msg string) {
		s.render(x, http.StatusOK, "signin", pageData{Title: "Sign in to your account", Action: x.r.URL.EscapedPath(), CSRF: s.csrfToken(x, sess.UserID),
			Hidden: append(hidden(), field{stepField, "signin"}), Error: msg, Username: username, App: appOf(p),
			Message: "Sign in with an administrator's account to grant permissions on behalf of your organization."}, pageOptions{formAction: originOf(p.RedirectURI)})
	}
	uid := ""
	switch step {
	case "signin":
		u, msg := s.passwordSignIn(x, x.tenant, f)
		if msg != "" {
			signIn(f.get("username"), msg)
			return
		}
		s.setSession(x, u.ID, u.TenantID)
		uid = u.ID
		step = ""
	default:
		if cur, ok := s.sessionFor(x.r, p.TenantID); ok {
			uid = cur.UserID
		}
	}
	if uid == "" {
		signIn("", "")
		return
	}
	req.UserID = uid
	switch step {
	case "accept":
		resp, err := s.iss.AdminConsent(x.ctx, req)
		if err != nil {
			fail(err)
			return
		}
		v := url.Values{"admin_consent": {"True"}, "tenant": {resp.TenantID}}
		if x.version == 2 {
			v.Set("scope", req.Scope)
		}
		if st, ok := params["state"]; ok {
			v.Set("state", st)
		}
		s.respond(x, "query", p.RedirectURI, v)
		return
	case "":
	default:
		s.errorPage(x, tenantry.Refuse(tenantry.RefuseMalformed, "unknown step"))
		return
	}
	cp, err := s.iss.AdminConsentPrompt(x.ctx, req)
	if err != nil {
		fail(err)
		return
	}
	d := pageData{Title: "Permissions requested", Action: x.r.URL.EscapedPath(), CSRF: s.csrfToken(x, uid), Hidden: hidden(),
		App: appOf(cp), Tenant: cp.TenantDisplayName, Permissions: cp.Permissions, Admin: true, AdminConsent: true}
	name := "consent"
	if !cp.CanConsentForOrganization {
		name, d.Title = "approval", "Need admin approval"
	}
	s.render(x, http.StatusOK, name, d, pageOptions{formAction: originOf(cp.RedirectURI)})
}

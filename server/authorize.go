package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/token"
)

// AutoSignIn is what Config.AutoSignIn is asked about an authorization
// request.
type AutoSignIn struct {
	// Tenant is the authority's tenant segment, as the request gave it.
	Tenant string
	// ClientID is the client's appId.
	ClientID string
	// LoginHint is the login_hint parameter.
	LoginHint string
	// Prompt is the prompt parameter.
	Prompt string
}

// authorizeParams are the authorization request's parameters the pages
// carry from one form to the next; any other is ignored (claims, clidata,
// client_info, x-client-*, client-request-id, …).
var authorizeParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "login_hint", "domain_hint"}

// stepField names the step of a page's form: signin, accept, cancel,
// back (the sign-in, consent and admin-approval pages), code and continue
// (device login). A request without it is a client's request.
const stepField = "tenantry_step"

// authzFlow is an authorization request on its way through the pages.
type authzFlow struct {
	// params are the request's parameters the pages carry.
	params form
	req    tenantry.AuthorizeRequest
	mode   string
	// prompt is the Issuer's view of the request before sign-in: its
	// client and redirect URI are valid.
	prompt *tenantry.ConsentPrompt
}

// authorize serves /{tenant}/oauth2/v2.0/authorize and
// /{tenant}/oauth2/authorize (GET, or POST of a form): the authorization
// code flow with its sign-in and consent pages.
func (s *Server) authorize(x *exchange) {
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodPost {
		s.errorPage(x, tenantry.Refuse(tenantry.RefuseMalformed, "the authorize endpoint takes GET or POST"))
		return
	}
	f, err := s.queryForm(x)
	if err != nil {
		s.errorPage(x, err)
		return
	}
	step := f.get(stepField)
	if step != "" {
		sess, _ := s.readSession(x.r)
		if x.r.Method != http.MethodPost || !s.checkCSRF(x, f, sess.UserID) {
			s.forbiddenPost(x)
			return
		}
	}
	fl := &authzFlow{params: form{}}
	for _, k := range authorizeParams {
		if v, ok := f[k]; ok {
			fl.params[k] = v
		}
	}
	fl.mode = f.get("response_mode")
	if fl.mode == "" {
		fl.mode = "query"
	}
	fl.req = tenantry.AuthorizeRequest{
		Tenant: x.tenant, EndpointVersion: token.Version(x.version), ClientID: f.get("client_id"),
		RedirectURI: f.get("redirect_uri"), ResponseType: f.get("response_type"), Scope: f.get("scope"),
		State: f.get("state"), Nonce: f.get("nonce"), CodeChallenge: f.get("code_challenge"),
		CodeChallengeMethod: f.get("code_challenge_method"), Prompt: f.get("prompt"), CorrelationID: x.rec.CorrelationID,
	}
	p, err := s.iss.ConsentPrompt(x.ctx, fl.req)
	if p == nil {
		if err == nil {
			err = tenantry.Refuse(tenantry.RefuseMalformed, "the request could not be checked")
		}
		s.errorPage(x, err)
		return
	}
	fl.prompt = p
	switch fl.mode {
	case "query", "fragment", "form_post":
	default:
		bad := fl.mode
		fl.mode = "query"
		s.redirectError(x, fl, tenantry.Refuse(tenantry.RefuseUnsupportedResponseMode, bad))
		return
	}
	if err != nil {
		s.redirectError(x, fl, err)
		return
	}
	switch step {
	case "":
		s.authorizeStart(x, fl)
	case "signin":
		s.authorizeSignIn(x, fl, f)
	case "accept", "cancel", "back":
		s.authorizeConsent(x, fl, f, step)
	default:
		s.errorPage(x, tenantry.Refuse(tenantry.RefuseMalformed, "unknown step"))
	}
}

// authorizeStart handles a client's request: as the signed-in user (the
// session, or Config.AutoSignIn), else the sign-in page, or
// login_required for prompt=none.
func (s *Server) authorizeStart(x *exchange, fl *authzFlow) {
	prompt := fl.req.Prompt
	if s.autoSignIn != nil {
		if uid, ok := s.autoSignIn(x.ctx, AutoSignIn{Tenant: x.tenant, ClientID: fl.req.ClientID, LoginHint: fl.params.get("login_hint"), Prompt: prompt}); ok && uid != "" {
			req := fl.req
			req.UserID = uid
			s.issueCode(x, fl, req)
			return
		}
	}
	if prompt != "login" && prompt != "select_account" {
		if sess, ok := s.sessionFor(x.r, fl.prompt.TenantID); ok {
			s.authorizeAs(x, fl, sess.UserID)
			return
		}
	}
	if prompt == "none" {
		s.redirectError(x, fl, tenantry.Refuse(tenantry.RefuseLoginRequired, ""))
		return
	}
	s.signInPage(x, fl, fl.params.get("login_hint"), "")
}

// authorizeAs continues the request as signed-in user uid: the consent
// page when consent is missing (the admin-approval page when she may not
// give it), else the code.
func (s *Server) authorizeAs(x *exchange, fl *authzFlow, uid string) {
	req := fl.req
	req.UserID = uid
	if req.Prompt == "none" {
		s.issueCode(x, fl, req)
		return
	}
	cp, err := s.iss.ConsentPrompt(x.ctx, req)
	if err != nil {
		if cp == nil {
			s.errorPage(x, err)
		} else {
			s.redirectError(x, fl, err)
		}
		return
	}
	if !cp.ConsentNeeded {
		s.issueCode(x, fl, req)
		return
	}
	d := pageData{Title: "Permissions requested", Action: x.r.URL.EscapedPath(), CSRF: s.csrfToken(x, uid), Hidden: fl.hidden(),
		App: appOf(cp), Tenant: cp.TenantDisplayName, Permissions: cp.Permissions, Admin: cp.CanConsentForOrganization,
		OrgOnly: cp.CanConsentForOrganization && !cp.UserCanConsent}
	name := "consent"
	if !cp.UserCanConsent && !cp.CanConsentForOrganization {
		name, d.Title = "approval", "Need admin approval"
	}
	s.render(x, http.StatusOK, name, d, pageOptions{formAction: originOf(fl.prompt.RedirectURI)})
}

// authorizeSignIn checks the sign-in page's credentials and continues as
// the user, or shows the page again with the refusal.
func (s *Server) authorizeSignIn(x *exchange, fl *authzFlow, f form) {
	u, msg := s.passwordSignIn(x, x.tenant, f)
	if msg != "" {
		s.signInPage(x, fl, f.get("username"), msg)
		return
	}
	if fl.prompt.TenantID != "" && !strings.EqualFold(fl.prompt.TenantID, u.TenantID) {
		s.signInPage(x, fl, f.get("username"), "This account is not in the organization the application signs in to.")
		return
	}
	s.setSession(x, u.ID, u.TenantID)
	// The user has just signed in: prompt=login and select_account are
	// answered.
	if p := fl.req.Prompt; p == "login" || p == "select_account" {
		fl.req.Prompt = ""
		delete(fl.params, "prompt")
	}
	s.authorizeAs(x, fl, u.ID)
}

// authorizeConsent handles the consent and admin-approval pages' buttons.
func (s *Server) authorizeConsent(x *exchange, fl *authzFlow, f form, step string) {
	if step == "cancel" {
		s.redirectError(x, fl, tenantry.Refuse(tenantry.RefuseConsentDeclined, ""))
		return
	}
	sess, ok := s.sessionFor(x.r, fl.prompt.TenantID)
	if !ok {
		s.signInPage(x, fl, fl.params.get("login_hint"), "Your session has ended. Sign in again.")
		return
	}
	req := fl.req
	req.UserID = sess.UserID
	if step == "accept" && f.get("org_consent") == "on" {
		req.ConsentFor = tenantry.ConsentForOrganization
	}
	if step == "back" {
		// "Return to the application without consenting" records no
		// consent: Authorize refuses what is still missing with
		// AADSTS65004 in the same transaction as its check (or issues the
		// code, when nothing is missing any more).
		req.ConsentFor = tenantry.ConsentDeclined
	}
	s.issueCode(x, fl, req)
}

// signInPage shows the sign-in page of an authorization request.
func (s *Server) signInPage(x *exchange, fl *authzFlow, username, msg string) {
	sess, _ := s.readSession(x.r)
	hidden := append(fl.hidden(), field{stepField, "signin"})
	s.render(x, http.StatusOK, "signin", pageData{Title: "Sign in to your account", Action: x.r.URL.EscapedPath(), CSRF: s.csrfToken(x, sess.UserID),
		Hidden: hidden, Error: msg, Username: username, App: appOf(fl.prompt)}, pageOptions{formAction: originOf(fl.prompt.RedirectURI)})
}

// hidden returns the request's parameters as hidden fields.
func (fl *authzFlow) hidden() []field {
	var out []field
	for _, k := range authorizeParams {
		if v, ok := fl.params[k]; ok {
			out = append(out, field{k, v})
		}
	}
	return out
}

// issueCode runs Authorize for req and sends the code, or the refusal, to
// the redirect URI.
func (s *Server) issueCode(x *exchange, fl *authzFlow, req tenantry.AuthorizeRequest) {
	resp, err := s.iss.Authorize(x.ctx, req)
	if err != nil {
		s.redirectError(x, fl, err)
		return
	}
	x.rec.CorrelationID = resp.CorrelationID
	v := url.Values{"code": {resp.Code}}
	if _, ok := fl.params["state"]; ok {
		v.Set("state", req.State)
	}
	s.respond(x, fl.mode, resp.RedirectURI, v)
}

// redirectError sends a refusal to the flow's validated redirect URI.
func (s *Server) redirectError(x *exchange, fl *authzFlow, err error) {
	v := s.errorParams(x, err)
	if st, ok := fl.params["state"]; ok {
		v.Set("state", st)
	}
	s.respond(x, fl.mode, fl.prompt.RedirectURI, v)
}

// errorParams are the parameters of a refusal sent to a redirect URI.
func (s *Server) errorParams(x *exchange, err error) url.Values {
	te := s.refusal(x, err)
	x.rec.Error, x.rec.Code = te.ErrorCode, te.Code
	v := url.Values{"error": {te.ErrorCode}, "error_description": {te.ResponseDescription()}}
	if te.SubError != "" {
		v.Set("suberror", te.SubError)
	}
	return v
}

// respond sends v to redirectURI (validated by the Issuer) in the
// response mode: in the query, in the fragment, or as an auto-submitted
// form (form_post).
func (s *Server) respond(x *exchange, mode, redirectURI string, v url.Values) {
	if mode == "form_post" {
		var hidden []field
		for _, k := range []string{"code", "admin_consent", "tenant", "scope", "error", "error_description", "suberror", "state"} {
			if vs, ok := v[k]; ok {
				hidden = append(hidden, field{k, vs[0]})
			}
		}
		nonce := newNonce()
		s.render(x, http.StatusOK, "formpost", pageData{Title: "Working…", PostURL: redirectURI, Hidden: hidden, Nonce: nonce},
			pageOptions{formAction: originOf(redirectURI), nonce: nonce})
		return
	}
	loc := redirectURI
	switch {
	case mode == "fragment":
		loc += "#" + v.Encode()
	case strings.Contains(loc, "?"):
		loc += "&" + v.Encode()
	default:
		loc += "?" + v.Encode()
	}
	h := x.headers()
	h.Set("Location", loc)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	x.rec.Status = http.StatusFound
	x.w.WriteHeader(http.StatusFound)
}

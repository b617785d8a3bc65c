package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/tenantry/tenantry"
)

// deviceLogin serves /devicelogin, the device code flow's verification
// page (TokenConfig.VerificationURI should point to it): the user enters
// the user code, signs in if she has not, and confirms ("Are you trying to
// sign in to …?"): Continue approves the device's sign-in
// (Issuer.ApproveDeviceCode, consent as at Authorize), Cancel declines it
// (Issuer.DenyDeviceCode: the device gets authorization_declined).
func (s *Server) deviceLogin(x *exchange) {
	action := "/devicelogin"
	if x.r.Method == http.MethodGet || x.r.Method == http.MethodHead {
		s.render(x, http.StatusOK, "devicecode", pageData{Title: "Enter code", Action: action, CSRF: s.csrfToken(x, s.sessionUser(x))}, pageOptions{})
		return
	}
	f, err := s.postForm(x, "devicelogin")
	if err != nil {
		s.errorPage(x, err)
		return
	}
	sess, _ := s.readSession(x.r)
	if !s.checkCSRF(x, f, sess.UserID) {
		s.forbiddenPost(x)
		return
	}
	codePage := func(code, msg string) {
		s.render(x, http.StatusOK, "devicecode", pageData{Title: "Enter code", Action: action, CSRF: s.csrfToken(x, sess.UserID), UserCode: code, Error: msg}, pageOptions{})
	}
	raw := f.get("user_code")
	dp, err := s.iss.DeviceCodePrompt(x.ctx, raw)
	if err != nil {
		var te *tenantry.TokenError
		if !errors.As(err, &te) {
			s.errorPage(x, err)
			return
		}
		x.rec.Error, x.rec.Code = te.ErrorCode, te.Code
		msg := tenantry.Refuse(tenantry.RefuseBadUserCode, "").ErrorDescription
		if te.Code != 70018 {
			msg = te.ErrorDescription
		}
		codePage(raw, msg)
		return
	}
	x.tenant, x.rec.Tenant = dp.Tenant, dp.Tenant
	app := appView{Name: dp.ClientDisplayName, AppID: dp.ClientAppID, PublisherDomain: dp.PublisherDomain}
	if dp.VerifiedPublisher != nil {
		app.Verified = dp.VerifiedPublisher.DisplayName
	}
	hidden := []field{{"user_code", dp.UserCode}}
	signIn := func(username, msg string) {
		s.render(x, http.StatusOK, "signin", pageData{Title: "Sign in to your account", Action: action, CSRF: s.csrfToken(x, sess.UserID),
			Hidden: append(hidden, field{stepField, "signin"}), Error: msg, Username: username, App: app}, pageOptions{})
	}
	uid, upn := "", ""
	step := f.get(stepField)
	if step == "signin" {
		u, msg := s.passwordSignIn(x, dp.Tenant, f)
		if msg != "" {
			signIn(f.get("username"), msg)
			return
		}
		s.setSession(x, u.ID, u.TenantID)
		uid, upn, step = u.ID, u.UserPrincipalName, "code"
	} else if cur, ok := s.sessionFor(x.r, dp.TenantID); ok {
		uid = cur.UserID
	}
	if uid == "" {
		signIn("", "")
		return
	}
	switch step {
	case "code":
		s.render(x, http.StatusOK, "deviceconfirm", pageData{Title: "Are you trying to sign in?", Action: action, CSRF: s.csrfToken(x, uid),
			Hidden: hidden, App: app, Username: upn}, pageOptions{})
	case "continue", "cancel":
		actor := tenantry.UserActor(uid)
		if step == "continue" {
			err = s.iss.ApproveDeviceCode(x.ctx, actor, dp.UserCode)
		} else {
			err = s.iss.DenyDeviceCode(x.ctx, actor, dp.UserCode)
		}
		if err != nil {
			te := s.refusal(x, err)
			x.rec.Error, x.rec.Code = te.ErrorCode, te.Code
			s.render(x, http.StatusOK, "devicedone", pageData{Title: "We couldn't sign you in", Error: "AADSTS" + strconv.Itoa(te.Code) + ": " + te.ErrorDescription}, pageOptions{})
			return
		}
		if step == "continue" {
			s.render(x, http.StatusOK, "devicedone", pageData{Title: app.Name, Message: "You have signed in to the " + app.Name + " application on your device. You may now close this window."}, pageOptions{})
		} else {
			s.render(x, http.StatusOK, "devicedone", pageData{Title: "Sign-in declined", Message: "You declined to sign in to " + app.Name + " on your device. You may now close this window."}, pageOptions{})
		}
	default:
		s.errorPage(x, tenantry.Refuse(tenantry.RefuseMalformed, "unknown step"))
	}
}

// sessionUser is the browser's signed-in user, "" when none.
func (s *Server) sessionUser(x *exchange) string {
	sess, _ := s.readSession(x.r)
	return sess.UserID
}

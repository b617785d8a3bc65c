package server

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/tenant"
)

// Messages of the sign-in page.
const (
	// msgBadCredentials answers a wrong password and an unknown account
	// alike, so that the page does not tell which accounts exist.
	msgBadCredentials = "Your account or password is incorrect."
	// msgDisabled answers a disabled account.
	msgDisabled = "Your account has been disabled. Contact your administrator."
	// msgMissing answers an empty user name or password.
	msgMissing = "Enter your user name and password."
	// msgFailed answers any other refusal.
	msgFailed = "We couldn't sign you in. Try again later."
	// maxCredentialLength bounds the user name and password read from the
	// form.
	maxCredentialLength = 1024
)

// passwordSignIn checks the sign-in form's credentials at the tenant
// segment with Issuer.SignIn; it returns the user, or the message the page
// shows (the same for a wrong password and an unknown account; the
// lockout's own, AADSTS50053; the disabled account's).
func (s *Server) passwordSignIn(x *exchange, segment string, f form) (tenant.User, string) {
	upn, password := strings.TrimSpace(f.get("username")), f.get("password")
	if upn == "" || password == "" {
		return tenant.User{}, msgMissing
	}
	if len(upn) > maxCredentialLength || len(password) > maxCredentialLength {
		return tenant.User{}, msgBadCredentials
	}
	u, err := s.iss.SignIn(x.ctx, tenantry.SignInRequest{Tenant: segment, UserPrincipalName: upn, Password: password, CorrelationID: x.rec.CorrelationID})
	if err == nil {
		return u, ""
	}
	var te *tenantry.TokenError
	if !errors.As(err, &te) {
		s.log.LogAttrs(x.ctx, slog.LevelError, "sign-in failed", slog.String("correlation_id", x.rec.CorrelationID), slog.String("err", err.Error()))
		return tenant.User{}, msgFailed
	}
	x.rec.Error, x.rec.Code = te.ErrorCode, te.Code
	switch {
	case errors.Is(err, tenantry.ErrInvalidCredentials), errors.Is(err, tenantry.ErrUserNotFound):
		return tenant.User{}, msgBadCredentials
	case errors.Is(err, tenantry.ErrAccountLocked):
		return tenant.User{}, te.ErrorDescription
	case errors.Is(err, tenantry.ErrUserDisabled):
		return tenant.User{}, msgDisabled
	}
	return tenant.User{}, te.ErrorDescription
}

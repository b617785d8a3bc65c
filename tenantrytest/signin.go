package tenantrytest

import (
	"context"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/server"
)

// Non-interactive sign-in. A browser-less test cannot fill in a sign-in
// page, so the Server signs a user in by itself at the authorize
// endpoint, and the endpoint redirects with a code at once:
//
//   - the users queued with QueueSignIn, one per authorization request,
//     first come first served;
//   - else, unless WithoutLoginHintSignIn, the user the request's
//     login_hint names (her userPrincipalName, in any letter case).
//
// Otherwise the endpoint answers as without the hook: the sign-in page, or
// login_required for prompt=none. Consent, redirect URI, PKCE and audience
// are checked as for any sign-in.

// QueueSignIn queues users to be signed in by the next authorization
// requests, one each, whatever their login_hint.
func (s *Server) QueueSignIn(users ...User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range users {
		s.queue = append(s.queue, u.ID)
	}
}

// autoSignIn decides who an authorization request with this login_hint
// signs in without a page. The request's tenant, client and prompt do not
// matter: Authorize checks the user against the tenant and the client, and
// a user signed in this way counts as having a session (prompt=none
// succeeds, prompt=login needs no page).
func (s *Server) autoSignIn(ctx context.Context, loginHint string) (userID string, ok bool) {
	s.mu.Lock()
	if len(s.queue) > 0 {
		userID = s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		return userID, true
	}
	hint := s.loginHint
	s.mu.Unlock()
	upn := strings.TrimSpace(loginHint)
	if !hint || upn == "" || len(upn) > 256 {
		return "", false
	}
	u, err := s.dir.UserByPrincipalName(ctx, tenantry.System(), upn)
	if err != nil {
		return "", false
	}
	return u.ID, true
}

// installAutoSignIn connects the Server's non-interactive sign-in to the
// authorize endpoint.
func installAutoSignIn(cfg *server.Config, s *Server) {
	cfg.AutoSignIn = func(ctx context.Context, r server.AutoSignIn) (string, bool) {
		return s.autoSignIn(ctx, r.LoginHint)
	}
}

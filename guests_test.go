package tenantry

import (
	"errors"
	"testing"
	"time"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// invitedCarol invites Fabrikam's Carol into Contoso as a guest, by
// Contoso's administrator.
func invitedCarol(t *testing.T, e *ftEnv) tenant.User {
	t.Helper()
	g, err := e.d.CreateUser(e.ctx, UserActor(e.admin.ID), e.conID, UserSpec{
		UserPrincipalName: "carol_fabrikam.com#EXT#@contoso.onmicrosoft.com", DisplayName: "Carol (guest)",
		Mail: "carol@fabrikam.com", Guest: true, HomeTenantID: e.fabID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.ExternalUserState != tenant.PendingAcceptance || g.HomeUserID != "" {
		t.Fatalf("new guest: state %q, home %q", g.ExternalUserState, g.HomeUserID)
	}
	return g
}

func TestGuestLinkIsMadeOnlyByTheHomeUser(t *testing.T) {
	e := newFT(t)
	// The inviting tenant's administrator cannot name the home account.
	_, err := e.d.CreateUser(e.ctx, UserActor(e.admin.ID), e.conID, UserSpec{
		UserPrincipalName: "x_fabrikam.com#EXT#@contoso.onmicrosoft.com", Guest: true, HomeTenantID: e.fabID, HomeUserID: e.carol.ID,
	})
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("admin-made link: %v", err)
	}
	g := invitedCarol(t, e)
	for name, actor := range map[string]Actor{
		"system":                  System(),
		"the inviting admin":      UserActor(e.admin.ID),
		"another Fabrikam member": UserActor(e.fadmin.ID),
		"a Contoso member":        UserActor(e.alice.ID),
	} {
		if _, err := e.d.RedeemInvitation(e.ctx, actor, g.ID); !errors.Is(err, ErrForbidden) {
			t.Fatalf("%s redeemed Carol's invitation: %v", name, err)
		}
	}
	got, err := e.d.RedeemInvitation(e.ctx, UserActor(e.carol.ID), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.HomeUserID != e.carol.ID || got.ExternalUserState != tenant.Accepted {
		t.Fatalf("redeemed guest: home %q state %q", got.HomeUserID, got.ExternalUserState)
	}
	ev, _ := e.d.auditLog(e.ctx)
	if last := ev[len(ev)-1]; last.Action != "user.redeemInvitation" || last.TenantID != e.conID || last.Actor != UserActor(e.carol.ID).String() {
		t.Fatalf("last event %+v", last)
	}
	if _, err := e.d.RedeemInvitation(e.ctx, UserActor(e.carol.ID), g.ID); !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second redemption: %v", err)
	}
	// System links at creation, to a member of the home tenant only.
	linked, err := e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "admin_fabrikam.com#EXT#@contoso.onmicrosoft.com", Guest: true, HomeUserID: e.fadmin.ID})
	if err != nil || linked.HomeUserID != e.fadmin.ID || linked.HomeTenantID != e.fabID || linked.ExternalUserState != tenant.Accepted {
		t.Fatalf("System() link: %+v, %v", linked, err)
	}
	var fe *tenant.FieldError
	if _, err := e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "bob_contoso.com#EXT#@contoso.onmicrosoft.com", Guest: true, HomeTenantID: e.fabID, HomeUserID: e.bob.ID}); !errors.As(err, &fe) || fe.Field != "homeUserId" {
		t.Fatalf("link to a user outside the home tenant: %v", err)
	}
}

func TestGuestTokensFollowTheHomeAccount(t *testing.T) {
	e := newFT(t)
	g := invitedCarol(t, e)
	if _, err := e.d.RedeemInvitation(e.ctx, UserActor(e.carol.ID), g.ID); err != nil {
		t.Fatal(err)
	}
	rt := e.webSignIn(t, g.ID).RefreshToken
	if _, err := e.refresh(ftWebApp, rt, ""); err != nil {
		t.Fatalf("refresh of a linked guest: %v", err)
	}
	// Disabled at home: no refresh, no new sign-in, no code redemption.
	req := e.authz(ftWebApp, ftWebRedirect, g.ID, ftURI(ftOrdersApp)+"/Orders.Read openid offline_access")
	pending, err := e.d.Issuer().Authorize(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.DisableUser(e.ctx, UserActor(e.fadmin.ID), e.carol.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(ftWebApp, rt, "")
	ftWantErr(t, err, 50057, OAuthInvalidGrant)
	_, err = e.redeem(req, pending.Code)
	ftWantErr(t, err, 50057, OAuthInvalidGrant)
	_, err = e.d.Issuer().Authorize(e.ctx, req)
	ftWantErr(t, err, 50057, OAuthInvalidGrant)
	if _, err := e.d.EnableUser(e.ctx, UserActor(e.fadmin.ID), e.carol.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.refresh(ftWebApp, rt, ""); err != nil {
		t.Fatalf("refresh after re-enabling at home: %v", err)
	}
	// Sessions revoked at home: the guest's refresh token is revoked too.
	e.clock.Advance(time.Second)
	if _, err := e.d.RevokeSignInSessions(e.ctx, UserActor(e.fadmin.ID), e.carol.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(ftWebApp, rt, "")
	ftWantErr(t, err, 50173, OAuthInvalidGrant)
	e.clock.Advance(time.Second)
	if fresh := e.webSignIn(t, g.ID).RefreshToken; fresh == "" {
		t.Fatal("no refresh token after a new sign-in")
	}
}

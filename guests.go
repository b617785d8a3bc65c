package tenantry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// A guest stands for a member of another tenant, its home account. As an
// Entra B2B guest is bound to its home identity when the invitation is
// redeemed, tenantry links the guest object to the home user
// (tenant.User.HomeUserID), and every token issued to the guest, and every
// refresh, re-checks the home account: disabled or with its sessions
// revoked at home, the guest gets no tokens either. The link is set only by
// the home user herself (RedeemInvitation) or by System at creation, never
// by the inviting tenant's administrators.

// RedeemInvitation is the home user's acceptance of her invitation as a
// guest: actor, a member of the guest's home tenant whose mail or
// userPrincipalName is the address the guest was invited with, becomes the
// guest's home account. The guest turns Accepted; one audit event in the
// guest's tenant records it.
func (d *Directory) RedeemInvitation(ctx context.Context, actor Actor, guestID string) (tenant.User, error) {
	var out tenant.User
	err := d.mutate(ctx, actor, func(o *op) error {
		if actor.userID == "" {
			return &tenant.ForbiddenError{Reason: "an invitation is redeemed by the invited user"}
		}
		g, err := store.Users.Get(o.tx, guestID)
		if err != nil {
			return err
		}
		if !g.IsGuest() {
			return invalid("user %s is not a guest", guestID)
		}
		if g.HomeUserID != "" || g.ExternalUserState != tenant.PendingAcceptance {
			return fmt.Errorf("%w: the invitation of %s was already redeemed", store.ErrAlreadyExists, guestID)
		}
		home, err := store.Users.Get(o.tx, actor.userID)
		if err != nil {
			return fmt.Errorf("tenantry: actor %s: %w", actor, err)
		}
		if !home.AccountEnabled {
			return &tenant.ForbiddenError{Reason: "the actor's account is disabled"}
		}
		if err := checkHomeAccount(g, home); err != nil {
			return err
		}
		before := g
		g = g.Clone()
		g.HomeUserID, g.ExternalUserState = home.ID, tenant.Accepted
		if err := g.Validate(); err != nil {
			return err
		}
		if err := store.Users.Put(o.tx, g); err != nil {
			return err
		}
		out = g.Clone()
		return o.audit(g.TenantID, "user.redeemInvitation", store.Users, g.ID, before, g)
	})
	return out, err
}

// checkHomeAccount checks that home may be guest g's home account: a member
// of g's home tenant, invited by address.
func checkHomeAccount(g, home tenant.User) error {
	if home.IsGuest() {
		return &tenant.ForbiddenError{Reason: "a guest account cannot be another guest's home account"}
	}
	if home.TenantID != g.HomeTenantID {
		return &tenant.ForbiddenError{Reason: "the home account is not in the guest's home tenant"}
	}
	addr := g.InvitedAddress()
	if addr == "" || !(strings.EqualFold(addr, home.Mail) || strings.EqualFold(addr, home.UserPrincipalName)) {
		return &tenant.ForbiddenError{Reason: "the invitation was sent to another address"}
	}
	return nil
}

// linkAtCreation links a guest being created by System to its home
// account homeID.
func linkAtCreation(o *op, u *tenant.User, homeID string) error {
	if o.actor != System() {
		return &tenant.ForbiddenError{Reason: "only System() links a guest to its home account at creation; invite, and the home user redeems"}
	}
	if !u.IsGuest() {
		return &tenant.FieldError{Field: "homeUserId", Reason: "is only set for guests"}
	}
	home, err := store.Users.Get(o.tx, homeID)
	if err != nil {
		return fmt.Errorf("home account %s: %w", homeID, err)
	}
	if u.HomeTenantID == "" {
		u.HomeTenantID = home.TenantID
	}
	if home.IsGuest() || home.TenantID != u.HomeTenantID {
		return &tenant.FieldError{Field: "homeUserId", Reason: "must be a member of the guest's home tenant"}
	}
	u.HomeUserID, u.ExternalUserState = home.ID, tenant.Accepted
	return nil
}

// checkGuestHome re-checks a linked guest's home account for a token issued
// from a sign-in at authTime: it must exist, be enabled, and its sessions
// must not have been revoked since.
func checkGuestHome(tx store.ReadTx, u tenant.User, authTime time.Time) error {
	if u.HomeUserID == "" {
		return nil
	}
	home, err := store.Users.Get(tx, u.HomeUserID)
	if errors.Is(err, store.ErrNotFound) {
		return errHomeUserNotFound.new()
	} else if err != nil {
		return err
	}
	if !home.AccountEnabled {
		return errHomeUserDisabled.new()
	}
	if !home.SessionValid(authTime) {
		return errHomeGrantRevoked.new(
			home.SignInSessionsValidFromDateTime.Format(time.RFC3339))
	}
	return nil
}

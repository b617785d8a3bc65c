package tenantry

import (
	"context"
	"errors"

	"github.com/tenantry/tenantry/internal/password"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// UserSpec describes a new user.
type UserSpec struct {
	// UserPrincipalName is alias@domain in the tenant's namespace: a
	// member's domain is a verified domain of the tenant (its initial
	// domain included), a guest's is "alias_home.com#EXT#@{initial
	// domain}" (see tenant.Tenant.CheckUserPrincipalName).
	UserPrincipalName string
	// DisplayName is the user's name (displayName).
	DisplayName string
	// Mail is the user's e-mail address; the email claim carries a member's
	// only when its domain is a verified domain of her tenant.
	Mail string
	// Guest makes the user a guest whose identity lives in HomeTenantID.
	// The guest is PendingAcceptance until its home user redeems the
	// invitation (RedeemInvitation), which links the two.
	Guest bool
	// HomeTenantID is the tenant a guest's identity comes from
	// (tenant.ConsumersID for personal accounts).
	HomeTenantID string
	// HomeUserID links the guest to its home account at creation (then
	// HomeTenantID may be empty). Only System may set it: anyone else
	// invites, and the home user redeems.
	HomeUserID string
	// Password, when set, is hashed with argon2id for sign-in pages.
	Password string
	// Disabled creates the account disabled.
	Disabled bool
}

// CreateUser creates a user in tenantID. Requires Global Administrator. The
// userPrincipalName must lie in the tenant's namespace, else a
// *tenant.FieldError names it. System (imports, dev seeds, personal
// accounts) may also use a domain no other tenant has verified (one no
// tenant verified, or, for a guest, another domain of its own tenant),
// never another tenant's; the #EXT# form of guests always holds.
func (d *Directory) CreateUser(ctx context.Context, actor Actor, tenantID string, spec UserSpec) (tenant.User, error) {
	if actor.IsZero() {
		return tenant.User{}, noActor() // before the costly password hash
	}
	var hash *tenant.PasswordHash
	if spec.Password != "" {
		h, err := password.Hash(spec.Password, password.DefaultParams)
		if err != nil {
			return tenant.User{}, err
		}
		hash = &h
	}
	var out tenant.User
	err := d.mutate(ctx, actor, func(o *op) error {
		t, err := byID(o.tx, store.Tenants, tenantID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(tenantID); err != nil {
			return err
		}
		u := tenant.User{
			ID: d.newID(), TenantID: tenantID, UserPrincipalName: spec.UserPrincipalName,
			DisplayName: spec.DisplayName, Mail: spec.Mail, AccountEnabled: !spec.Disabled,
			UserType: tenant.Member, CreatedDateTime: o.now, SignInSessionsValidFromDateTime: o.now,
			PasswordHash: hash,
		}
		if spec.Guest {
			u.UserType, u.HomeTenantID, u.ExternalUserState = tenant.Guest, spec.HomeTenantID, tenant.PendingAcceptance
		}
		if spec.HomeUserID != "" {
			if err := linkAtCreation(o, &u, spec.HomeUserID); err != nil {
				return err
			}
		}
		if err := u.Validate(); err != nil {
			return err
		}
		if err := checkUPN(o, t, u.UserPrincipalName, u.UserType); err != nil {
			return err
		}
		if err := store.Users.Create(o.tx, u); err != nil {
			return err
		}
		out = u.Clone()
		return o.audit(tenantID, "user.create", store.Users, u.ID, nil, u)
	})
	return out, err
}

// checkUPN enforces t's namespace on a new user's userPrincipalName.
// System may also use a domain no other tenant has verified (imports, dev
// seeds, personal accounts), never another tenant's, and the form a user
// type requires always holds.
func checkUPN(o *op, t tenant.Tenant, upn, userType string) error {
	err := t.CheckUserPrincipalName(upn, userType)
	if err == nil || o.actor != System() {
		return err
	}
	if err := tenant.CheckUserPrincipalNameForm(upn, userType); err != nil {
		return err
	}
	_, domain, _ := tenant.SplitUserPrincipalName(upn)
	owner, lerr := store.Tenants.One(o.tx, store.TenantByDomain, domain)
	switch {
	case errors.Is(lerr, store.ErrNotFound), lerr == nil && owner.ID == t.ID:
		return nil
	case lerr != nil:
		return lerr
	}
	return &tenant.FieldError{Field: "userPrincipalName", Reason: "the domain " + domain + " is verified by another tenant"}
}

func (d *core) changeUser(ctx context.Context, actor Actor, userID, action string, fn func(u *tenant.User)) (tenant.User, error) {
	var out tenant.User
	err := d.mutate(ctx, actor, func(o *op) error {
		u, err := byID(o.tx, store.Users, userID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(u.TenantID); err != nil {
			return err
		}
		before := u
		u = u.Clone()
		fn(&u)
		if err := store.Users.Put(o.tx, u); err != nil {
			return err
		}
		out = u.Clone()
		return o.audit(u.TenantID, action, store.Users, u.ID, before, u)
	})
	return out, err
}

// EnableUser sets a user account's accountEnabled. Requires Global
// Administrator.
func (d *Directory) EnableUser(ctx context.Context, actor Actor, userID string) (tenant.User, error) {
	return d.changeUser(ctx, actor, userID, "user.enable", func(u *tenant.User) { u.AccountEnabled = true })
}

// DisableUser clears a user account's accountEnabled: the user gets no new
// tokens, no refresh and cannot consent or sign in (nor can her guest
// accounts elsewhere). Requires Global Administrator.
func (d *Directory) DisableUser(ctx context.Context, actor Actor, userID string) (tenant.User, error) {
	return d.changeUser(ctx, actor, userID, "user.disable", func(u *tenant.User) { u.AccountEnabled = false })
}

// RevokeSignInSessions invalidates the user's refresh tokens and sessions
// issued until now (Graph's revokeSignInSessions). Requires Global
// Administrator.
func (d *Directory) RevokeSignInSessions(ctx context.Context, actor Actor, userID string) (tenant.User, error) {
	now := d.clock()
	return d.changeUser(ctx, actor, userID, "user.revokeSignInSessions", func(u *tenant.User) {
		// Sessions issued in the same microsecond as the revocation are
		// revoked too.
		u.SignInSessionsValidFromDateTime = now.Add(1)
	})
}

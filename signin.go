package tenantry

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	pw "github.com/tenantry/tenantry/internal/password"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// SignInRequest is a password sign-in.
type SignInRequest struct {
	// Tenant is the authority's tenant segment (a tenant id, a verified
	// domain, "common" or "organizations").
	Tenant string
	// UserPrincipalName names the account, in any letter case.
	UserPrincipalName string
	// Password is checked against the stored argon2id hash; it is never
	// stored or logged.
	Password string
	// CorrelationID ties the sign-in to the caller's logs; it is recorded
	// in the sign-in log. Empty means a new GUID, returned on a refusal in
	// TokenError.CorrelationID.
	CorrelationID string
}

// SignIn checks a user's password (for sign-in pages) and returns the
// user. A wrong password and an unknown account get the same answer
// (AADSTS50126) in the same time. Smart lockout (Config.Lockout) counts an
// existing account's failures: once locked, the account is refused with
// AADSTS50053, even with the right password, until the lockout ends; a
// successful sign-in clears the count. A locked account therefore tells
// that it exists, as in Entra (which names unknown accounts outright,
// AADSTS50034); counting failures for unknown names too would let anyone
// fill the store. A guest signs in only while her home account is enabled
// and its sessions valid. Every attempt,
// refusals and lockouts included, is recorded in the sign-in log (with the
// user's id when the account exists).
func (d *Issuer) SignIn(ctx context.Context, req SignInRequest) (tenant.User, error) {
	ctx, rec := d.startSignIn(ctx, FlowPassword, req.Tenant, "", req.CorrelationID)
	rec.ev.ClientCredentialType = CredentialNone
	u, err := d.signIn(ctx, req)
	return u, d.endSignIn(ctx, rec, err)
}

func (d *core) signIn(ctx context.Context, req SignInRequest) (tenant.User, error) {
	tenantSegment, userPrincipalName, password := req.Tenant, req.UserPrincipalName, req.Password
	var u tenant.User
	var lock store.SignInLockout
	now := d.clock()
	err := d.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		if u, err = store.Users.One(tx, store.UserByUPN, strings.ToLower(userPrincipalName)); err != nil {
			return err
		}
		lock, err = loadLockout(tx, u.ID)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return tenant.User{}, err
	}
	if err == nil {
		signInOf(ctx).user(u)
	}
	if err == nil && now.Before(lock.LockedUntil) {
		return tenant.User{}, lockedOut()
	}
	bad := errBadPassword.new()
	// Hash even when the user is unknown or has no password, so that the
	// answer's timing does not reveal which accounts exist.
	hash := dummyPasswordHash()
	if err == nil && u.PasswordHash != nil {
		hash = *u.PasswordHash
	}
	if !pw.Verify(hash, password) || err != nil || u.PasswordHash == nil {
		if err == nil {
			if err := d.recordFailure(ctx, u); err != nil {
				return tenant.User{}, err
			}
		}
		return tenant.User{}, bad
	}
	if lock.Failures > 0 {
		if err := d.clearFailures(ctx, u.ID); err != nil {
			return tenant.User{}, err
		}
	}
	if err := d.st.View(ctx, func(tx store.ReadTx) error {
		if _, err := signInTenant(tx, tenantSegment, u); err != nil {
			return err
		}
		// A guest signs in only while her home account may.
		return checkGuestHome(tx, u, now)
	}); err != nil {
		var te *TokenError
		if errors.As(err, &te) {
			return tenant.User{}, te
		}
		return tenant.User{}, bad
	}
	u.PasswordHash = nil // the caller learns who signed in, never the hash
	return u, nil
}

var (
	dummyOnce sync.Once
	dummyHash tenant.PasswordHash
)

func dummyPasswordHash() tenant.PasswordHash {
	dummyOnce.Do(func() {
		dummyHash, _ = pw.Hash("tenantry-dummy-password", pw.DefaultParams)
	})
	return dummyHash
}

// CheckSession reports whether a sign-in page's session still stands:
// userID signed in at signedIn (when she entered her password) and her
// account has not been disabled, deleted or had its sign-in sessions
// revoked (revokeSignInSessions, SignInSessionsValidFromDateTime) since;
// for a guest, her home account neither. A session that no longer stands
// must sign nobody in: the page asks for the password again. The refusal
// is a *TokenError (AADSTS50034, 50057, 50173).
func (d *Issuer) CheckSession(ctx context.Context, userID string, signedIn time.Time) error {
	return d.st.View(ctx, func(tx store.ReadTx) error {
		u, err := store.Users.Get(tx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return errUserNotFoundAtAuthorize.new()
		} else if err != nil {
			return err
		}
		if !u.AccountEnabled {
			return errUserDisabled.new()
		}
		if !u.SessionValid(signedIn) {
			return errGrantRevoked.new(signedIn.UTC().Format(time.RFC3339), u.SignInSessionsValidFromDateTime.UTC().Format(time.RFC3339))
		}
		return checkGuestHome(tx, u, signedIn)
	})
}

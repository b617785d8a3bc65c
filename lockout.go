package tenantry

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// LockoutConfig configures smart lockout of password sign-in (SignIn), as
// Entra's smart lockout does: after Threshold failed sign-ins an account
// is locked for Duration, and every further failure before a successful
// sign-in locks it again, each time for twice as long (at most MaxDuration).
// While locked, SignIn answers AADSTS50053 even for the right password. A
// successful sign-in clears the count.
//
// The count is kept in the Store (store.Lockouts), so it holds across
// processes that share the store. It is operational state of the sign-in
// service, not a directory object: its writes append no audit event, as
// Entra records failed sign-ins in its sign-in log and not in the audit
// log. Sign-ins that run concurrently with the failure that locks an
// account may still be checked: the bound is Threshold plus the number of
// concurrent attempts.
type LockoutConfig struct {
	// Threshold is how many failures lock an account; 0 means 10, Entra's
	// default. A negative value turns lockout off.
	Threshold int
	// Duration is the first lockout's length; 0 means one minute, Entra's
	// default.
	Duration time.Duration
	// MaxDuration caps the doubling lockouts; 0 means one hour.
	MaxDuration time.Duration
}

// DefaultLockoutThreshold is the number of failed password sign-ins that
// lock an account when LockoutConfig.Threshold is 0.
const DefaultLockoutThreshold = 10

func (c LockoutConfig) withDefaults() LockoutConfig {
	if c.Threshold == 0 {
		c.Threshold = DefaultLockoutThreshold
	}
	if c.Duration <= 0 {
		c.Duration = time.Minute
	}
	if c.MaxDuration <= 0 {
		c.MaxDuration = time.Hour
	}
	if c.MaxDuration < c.Duration {
		c.MaxDuration = c.Duration
	}
	return c
}

// lockFor is how long the failures-th failure locks an account.
func (c LockoutConfig) lockFor(failures int) time.Duration {
	if c.Threshold < 0 || failures < c.Threshold {
		return 0
	}
	d := c.Duration
	for i := c.Threshold; i < failures && d < c.MaxDuration; i++ {
		d *= 2
	}
	return min(d, c.MaxDuration)
}

func lockedOut() *TokenError {
	return errAccountLocked.new()
}

// loadLockout returns u's lockout state (zero when it has none).
func loadLockout(tx store.ReadTx, userID string) (store.SignInLockout, error) {
	l, err := store.Lockouts.Get(tx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.SignInLockout{}, nil
	}
	return l, err
}

// recordFailure counts a failed sign-in of u, locking the account when the
// count reaches the threshold.
func (d *core) recordFailure(ctx context.Context, u tenant.User) error {
	if d.locks.Threshold < 0 {
		return nil
	}
	now := d.clock()
	var locked store.SignInLockout
	err := d.st.Update(ctx, func(tx store.Tx) error {
		locked = store.SignInLockout{}
		l, err := loadLockout(tx, u.ID)
		if err != nil {
			return err
		}
		l.ID, l.TenantID, l.LastFailure = u.ID, u.TenantID, now
		l.Failures++
		if lock := d.locks.lockFor(l.Failures); lock > 0 {
			l.LockedUntil = now.Add(lock)
			locked = l
		}
		return store.Lockouts.Put(tx, l)
	})
	if err == nil && !locked.LockedUntil.IsZero() {
		d.log.LogAttrs(ctx, slog.LevelWarn, "tenantry: account locked after failed sign-ins",
			slog.String("tenantId", locked.TenantID), slog.String("userId", locked.ID),
			slog.Int("failures", locked.Failures), slog.Time("lockedUntil", locked.LockedUntil))
	}
	return err
}

// clearFailures forgets u's failed sign-ins after a successful one.
func (d *core) clearFailures(ctx context.Context, userID string) error {
	return d.st.Update(ctx, func(tx store.Tx) error {
		err := store.Lockouts.Delete(tx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

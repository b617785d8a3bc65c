package tenantry

import (
	"context"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/tenant"
)

const (
	lockoutUPN  = "p@contoso.onmicrosoft.com"
	lockoutPass = "correct horse battery"
)

// lockoutDirs returns n Directories over one store (processes sharing it),
// a tenant and a user with a password.
func lockoutDirs(t *testing.T, n int, cfg LockoutConfig) ([]*Directory, *ManualClock, tenant.Tenant, tenant.User) {
	t.Helper()
	ctx := context.Background()
	clock := NewManualClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	st := memory.New()
	kek := make([]byte, 32)
	var dirs []*Directory
	for range n {
		d, err := New(ctx, Config{Store: st, Now: clock.Now, NewID: SequentialIDs(t.Name()), Lockout: cfg, Tokens: TokenConfig{Algorithm: jose.ES256, KeyEncryptionKey: kek}})
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	tn, err := dirs[0].CreateTenant(ctx, System(), TenantSpec{DisplayName: "Contoso"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := dirs[0].CreateUser(ctx, System(), tn.ID, UserSpec{UserPrincipalName: lockoutUPN, Password: lockoutPass})
	if err != nil {
		t.Fatal(err)
	}
	return dirs, clock, tn, u
}

func wantSignIn(t *testing.T, d *Directory, tenantID, password string, code int) {
	t.Helper()
	_, err := d.Issuer().SignIn(context.Background(), SignInRequest{Tenant: tenantID, UserPrincipalName: lockoutUPN, Password: password})
	switch {
	case code == 0 && err != nil:
		t.Fatalf("SignIn: %v, want success", err)
	case code != 0 && !errors.Is(err, &TokenError{Code: code, ErrorCode: OAuthInvalidGrant}):
		t.Fatalf("SignIn: %v, want AADSTS%d", err, code)
	}
}

func TestSmartLockout(t *testing.T) {
	dirs, clock, tn, u := lockoutDirs(t, 2, LockoutConfig{})
	d, other := dirs[0], dirs[1]
	ctx := context.Background()
	events := func() int {
		ev, err := d.auditLog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	audited := events()
	for range DefaultLockoutThreshold - 1 {
		wantSignIn(t, d, tn.ID, "wrong", 50126)
	}
	// A successful sign-in clears the count.
	wantSignIn(t, d, tn.ID, lockoutPass, 0)
	for range DefaultLockoutThreshold - 1 {
		wantSignIn(t, d, tn.ID, "wrong", 50126)
	}
	wantSignIn(t, d, tn.ID, lockoutPass, 0)
	// Ten failures in a row lock the account, in every process sharing the
	// store; the right password is refused too.
	for i := range DefaultLockoutThreshold {
		wantSignIn(t, dirs[i%2], tn.ID, "wrong", 50126)
	}
	wantSignIn(t, d, tn.ID, lockoutPass, 50053)
	wantSignIn(t, other, tn.ID, lockoutPass, 50053)
	wantSignIn(t, other, tn.ID, "wrong", 50053)
	clock.Advance(59 * time.Second)
	wantSignIn(t, other, tn.ID, lockoutPass, 50053)
	// After the lockout window, one more failure locks again, for longer.
	clock.Advance(2 * time.Second)
	wantSignIn(t, d, tn.ID, "wrong", 50126)
	wantSignIn(t, d, tn.ID, lockoutPass, 50053)
	clock.Advance(119 * time.Second)
	wantSignIn(t, d, tn.ID, lockoutPass, 50053)
	clock.Advance(2 * time.Second)
	wantSignIn(t, other, tn.ID, lockoutPass, 0)
	if err := d.Store().View(ctx, func(tx store.ReadTx) error {
		_, err := store.Lockouts.Get(tx, u.ID)
		return err
	}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lockout record after a successful sign-in: %v", err)
	}
	// The counter is sign-in state, not a directory mutation: no audit
	// event. Unknown accounts leave no record behind.
	for range 2 * DefaultLockoutThreshold {
		if _, err := d.Issuer().SignIn(ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: "nobody@contoso.onmicrosoft.com", Password: "wrong"}); !errors.Is(err, &TokenError{Code: 50126}) {
			t.Fatalf("unknown account: %v", err)
		}
	}
	if err := d.Store().View(ctx, func(tx store.ReadTx) error {
		all, err := store.Lockouts.All(tx, "", "")
		if len(all) != 0 {
			t.Errorf("lockout records: %v", all)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := events(); got != audited {
		t.Fatalf("sign-ins wrote %d audit events", got-audited)
	}
}

func TestSmartLockoutConfig(t *testing.T) {
	dirs, clock, tn, _ := lockoutDirs(t, 1, LockoutConfig{Threshold: 3, Duration: 10 * time.Second})
	for range 3 {
		wantSignIn(t, dirs[0], tn.ID, "wrong", 50126)
	}
	wantSignIn(t, dirs[0], tn.ID, lockoutPass, 50053)
	clock.Advance(11 * time.Second)
	wantSignIn(t, dirs[0], tn.ID, lockoutPass, 0)

	dirs, _, tn, _ = lockoutDirs(t, 1, LockoutConfig{Threshold: -1})
	for range 2 * DefaultLockoutThreshold {
		wantSignIn(t, dirs[0], tn.ID, "wrong", 50126)
	}
	wantSignIn(t, dirs[0], tn.ID, lockoutPass, 0)
}

package tenantry

import (
	"errors"
	"testing"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
)

// An actor whose id names no user (a service principal's object id, as a
// server would take from an app-only token's oid, or an unknown id) has no
// powers: mutations and reads refuse it with ErrForbidden, as the zero
// Actor, and change nothing.
func TestActorsThatNameNoUser(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	app := f.app(tn.ID, application.Application{DisplayName: "Orders", SignInAudience: application.AzureADMyOrg})
	sp, err := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.events())
	for _, actor := range []Actor{{}, UserActor(""), UserActor(sp.ID), UserActor("5b0c7a8e-0000-4000-8000-00000000dead")} {
		_, err := f.d.UpdateApplication(f.ctx, actor, app.ID, func(a *application.Application) error {
			a.DisplayName = "taken"
			return nil
		})
		if !errors.Is(err, ErrForbidden) || errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateApplication by %v: %v, want ErrForbidden only", actor, err)
		}
		if _, err := f.d.Application(f.ctx, actor, app.ID); !errors.Is(err, ErrForbidden) {
			t.Errorf("Application read by %v: %v, want ErrForbidden", actor, err)
		}
	}
	if n := len(f.events()) - before; n != 0 {
		t.Errorf("refused operations wrote %d audit events", n)
	}
}

// A password sign-in returns the user without the stored password hash.
func TestSignInReturnsNoPasswordHash(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	if _, err := f.d.CreateUser(f.ctx, System(), tn.ID, UserSpec{UserPrincipalName: "p@contoso.onmicrosoft.com", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	u, err := f.d.Issuer().SignIn(f.ctx, SignInRequest{Tenant: tn.ID, UserPrincipalName: "P@Contoso.onmicrosoft.com", Password: "correct horse battery"})
	if err != nil || u.ID == "" || u.PasswordHash != nil {
		t.Fatalf("SignIn: %+v, %v; want the user without her password hash", u, err)
	}
}

package tenantry

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// An id of the wrong kind is refused with an error that names the kind it
// is and the id expected, and still matches store.ErrNotFound.
func TestWrongKindIDs(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	app := f.app(tn.ID, application.Application{DisplayName: "Orders", SignInAudience: application.AzureADMyOrg})
	sp, err := f.d.ServicePrincipalByAppID(f.ctx, System(), tn.ID, app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	u := f.user(tn.ID, "ada@contoso.example")
	admin := UserActor(f.user(tn.ID, "root@contoso.example", tenant.RoleGlobalAdministrator).ID)

	cases := []struct {
		name string
		call func() error
		want []string // substrings of the message
	}{
		{"service principal by appId", func() error { _, err := f.d.ServicePrincipal(f.ctx, System(), app.AppID); return err },
			[]string{`tenantry: service principal "` + app.AppID + `" not found: that is an application's appId`, "Directory.ServicePrincipalByAppID finds it"}},
		{"service principal by application object id", func() error { _, err := f.d.DisableServicePrincipal(f.ctx, admin, app.ID); return err },
			[]string{`service principal "` + app.ID + `" not found: that is an application's object id`, "pass the service principal's object id"}},
		{"application by appId", func() error { _, err := f.d.Application(f.ctx, System(), app.AppID); return err },
			[]string{`tenantry: application "` + app.AppID + `" not found: that is an application's appId`, "Directory.ApplicationByAppID finds it"}},
		{"application by service principal id", func() error {
			_, err := f.d.AddPassword(f.ctx, admin, sp.ID, PasswordSpec{DisplayName: "ci"})
			return err
		}, []string{`application "` + sp.ID + `" not found: that is a service principal's object id`, "pass the application's object id"}},
		{"user by service principal id", func() error { _, err := f.d.DisableUser(f.ctx, admin, sp.ID); return err },
			[]string{`user "` + sp.ID + `" not found: that is a service principal's object id; pass the user's object id`}},
		{"group by user id", func() error {
			_, err := f.d.AddGroupMember(f.ctx, admin, u.ID, tenant.Ref{Type: tenant.MemberUser, ID: u.ID})
			return err
		}, []string{`group "` + u.ID + `" not found: that is a user's object id`}},
		{"assignment resource by appId", func() error {
			_, err := f.d.AssignAppRole(f.ctx, admin, AssignmentSpec{PrincipalID: u.ID, ResourceID: app.AppID})
			return err
		}, []string{`service principal "` + app.AppID + `" not found: that is an application's appId`}},
		{"grant by service principal id", func() error { return f.d.DeleteGrant(f.ctx, admin, sp.ID) },
			[]string{`delegated permission grant "` + sp.ID + `" not found: that is a service principal's object id`, "Directory.Grants lists"}},
		{"assignment by user id", func() error { return f.d.UnassignAppRole(f.ctx, admin, u.ID) },
			[]string{`app role assignment "` + u.ID + `" not found: that is a user's object id`, "Directory.Assignments lists"}},
		{"directory role assignment by user id", func() error { return f.d.UnassignDirectoryRole(f.ctx, admin, u.ID) },
			[]string{`directory role assignment "` + u.ID + `" not found: that is a user's object id`}},
		{"tenant by user id", func() error {
			_, err := f.d.CreateGroup(f.ctx, System(), u.ID, GroupSpec{DisplayName: "g"})
			return err
		},
			[]string{`tenant "` + u.ID + `" not found: that is a user's object id`, "Directory.ResolveTenant"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("err = %v, want store.ErrNotFound", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q\nwant it to contain %q", err, w)
				}
			}
		})
	}

	// An id of no kind at all keeps the store's answer.
	_, err = f.d.ServicePrincipal(f.ctx, System(), "00000000-0000-0000-0000-0000000000aa")
	if !errors.Is(err, store.ErrNotFound) || strings.Contains(err.Error(), "that is") {
		t.Errorf("unknown id: %v", err)
	}
}

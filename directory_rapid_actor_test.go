package tenantry

import (
	"errors"
	"fmt"
	"slices"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/tenant"
)

// NoActor calls a random mutating operation with an actor that is no one
// (the zero Actor, or a user actor without an object id, as a server would
// build from a token without oid) and expects a refusal matching
// ErrForbidden, no audit event and no change to the objects involved
// (invariant 11).
func (m *dirMachine) NoActor(t *rapid.T) {
	nobody := rapid.SampledFrom([]Actor{{}, UserActor("")}).Draw(t, "nobody")
	tid := m.pickTenant(t)
	var app application.Application
	if len(m.apps) > 0 {
		app = m.pickApp(t)
	}
	ops := map[string]func() error{
		"CreateTenant": func() error {
			_, err := m.d.CreateTenant(m.ctx, nobody, TenantSpec{DisplayName: "Nobody's"})
			return err
		},
		"CreateUser": func() error {
			_, err := m.d.CreateUser(m.ctx, nobody, tid, UserSpec{UserPrincipalName: "nobody@" + m.domains[tid], DisplayName: "Nobody"})
			return err
		},
		"CreateApplication": func() error {
			_, err := m.d.CreateApplication(m.ctx, nobody, tid, application.Application{DisplayName: "Nobody's app", SignInAudience: application.AzureADMultipleOrgs})
			return err
		},
		"SetAuthorizationPolicy": func() error {
			_, err := m.d.SetAuthorizationPolicy(m.ctx, nobody, tid, tenant.DefaultPolicy())
			return err
		},
		"CreateGroup": func() error {
			_, err := m.d.CreateGroup(m.ctx, nobody, tid, GroupSpec{DisplayName: "Nobody's group"})
			return err
		},
		"Apply": func() error {
			_, err := m.d.Apply(m.ctx, nobody, Manifest{})
			return err
		},
	}
	if app.ID != "" {
		ops["UpdateApplication"] = func() error {
			_, err := m.d.UpdateApplication(m.ctx, nobody, app.ID, func(a *application.Application) error {
				a.DisplayName = "taken over"
				return nil
			})
			return err
		}
		ops["AddPassword"] = func() error {
			_, err := m.d.AddPassword(m.ctx, nobody, app.ID, PasswordSpec{DisplayName: "nobody"})
			return err
		}
		ops["DeleteApplication"] = func() error { return m.d.DeleteApplication(m.ctx, nobody, app.ID) }
		ops["Consent"] = func() error {
			_, err := m.d.Consent(m.ctx, nobody, tid, ConsentSpec{ClientAppID: app.AppID, Default: true, TenantWide: true})
			return err
		}
		ops["CreateServicePrincipal"] = func() error {
			_, err := m.d.CreateServicePrincipal(m.ctx, nobody, tid, app.AppID)
			return err
		}
	}
	if len(m.users) > 0 {
		u := rapid.SampledFrom(m.users).Draw(t, "user")
		ops["DisableUser"] = func() error {
			_, err := m.d.DisableUser(m.ctx, nobody, u.id)
			return err
		}
		ops["RevokeSignInSessions"] = func() error {
			_, err := m.d.RevokeSignInSessions(m.ctx, nobody, u.id)
			return err
		}
		ops["AssignDirectoryRole"] = func() error {
			_, err := m.d.AssignDirectoryRole(m.ctx, nobody, u.tenantID, DirectoryRoleSpec{PrincipalID: u.id, RoleID: tenant.RoleGlobalAdministrator})
			return err
		}
	}
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	slices.Sort(names)
	name := rapid.SampledFrom(names).Draw(t, "operation")

	var before application.Application
	if app.ID != "" {
		before = app
	}
	err := ops[name]()
	if !errors.Is(err, ErrForbidden) || !errors.Is(err, tenant.ErrForbidden) {
		t.Fatalf("%s by %v: err = %v, want a refusal matching ErrForbidden", name, nobody, err)
	}
	if errors.Is(err, consent.ErrInvalidRequest) {
		t.Fatalf("%s by %v refused for the wrong reason: %v", name, nobody, err)
	}
	m.mutated(t, fmt.Sprintf("%s by no actor", name), err)
	if app.ID != "" {
		after, err := m.d.Application(m.ctx, System(), app.ID)
		if err != nil {
			t.Fatalf("%s by no actor: the application is gone: %v", name, err)
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Fatalf("%s by no actor changed the application (-before +after):\n%s", name, diff)
		}
	}
	m.reach("refused an operation by no actor")
}

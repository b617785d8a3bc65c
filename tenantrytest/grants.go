package tenantrytest

import (
	"context"
	"errors"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
)

// Principal is who an app role is assigned to: a [User] or an [App] (the
// app's service principal in its home tenant).
type Principal interface {
	// principal returns the tenant the assignment is made in and the
	// principal's object id there.
	principal(s *Server) (tenantID, objectID string, err error)
}

func (u User) principal(*Server) (string, string, error) { return u.TenantID, u.ID, nil }

func (a App) principal(s *Server) (string, string, error) {
	sp, err := s.dir.ServicePrincipalByAppID(context.Background(), tenantry.System(), a.TenantID, a.AppID)
	return a.TenantID, sp.ID, err
}

// Consent grants tenant-wide admin consent in the tenant to everything
// the app's requiredResourceAccess lists (delegated scopes for every user
// and application permissions), as an administrator's "Grant admin
// consent" does. It creates the app's service principal there, and those
// of multi-tenant resources, where their sign-in audience admits the
// tenant; a single-tenant app cannot be consented to in another tenant.
func (s *Server) Consent(in Tenant, app App) {
	s.t.Helper()
	if err := s.consent(in.ID, app); err != nil {
		s.t.Fatalf("tenantrytest: consent to %q in %q: %v", app.Name, in.Name, err)
	}
}

func (s *Server) consent(tenantID string, app App) error {
	_, err := s.dir.Consent(context.Background(), tenantry.System(), tenantID, tenantry.ConsentSpec{ClientAppID: app.AppID, Default: true, TenantWide: true})
	return err
}

// Grant adds permissions on api to the app's requiredResourceAccess, as
// [Requires] does, and grants admin consent to them in the app's home
// tenant ([Server.Consent]): each value names an app role of api (an
// application permission) or one of its scopes (a delegated permission,
// granted for every user).
func (s *Server) Grant(app, api App, permissions ...string) {
	s.t.Helper()
	rra, err := s.resolve(api, permissions)
	if err != nil {
		s.t.Fatalf("tenantrytest: grant %q on %q: %v", app.Name, api.Name, err)
	}
	_, err = s.dir.UpdateApplication(context.Background(), tenantry.System(), app.ID, func(a *application.Application) error {
		a.RequiredResourceAccess = mergeAccess(a.RequiredResourceAccess, rra)
		return nil
	})
	if err == nil {
		err = s.consent(app.TenantID, app)
	}
	if err != nil {
		s.t.Fatalf("tenantrytest: grant %q on %q: %v", app.Name, api.Name, err)
	}
}

// AssignRole assigns api's app role with this value to the principal, in
// the principal's tenant: to a user (the role reaches her tokens' roles
// claim) or to an app's service principal (an application permission,
// without consent). It creates api's service principal in that tenant when
// it has none and its sign-in audience admits the tenant.
func (s *Server) AssignRole(p Principal, api App, value string) {
	s.t.Helper()
	if err := s.assignRole(p, api, value); err != nil {
		s.t.Fatalf("tenantrytest: assign %q of %q: %v", value, api.Name, err)
	}
}

func (s *Server) assignRole(p Principal, api App, value string) error {
	if p == nil {
		return errors.New("tenantrytest: nil principal")
	}
	tenantID, principalID, err := p.principal(s)
	if err != nil {
		return err
	}
	ctx, sys := context.Background(), tenantry.System()
	res, err := s.dir.ServicePrincipalByAppID(ctx, sys, tenantID, api.AppID)
	if errors.Is(err, store.ErrNotFound) {
		var sp serviceprincipal.ServicePrincipal
		sp, err = s.dir.CreateServicePrincipal(ctx, sys, tenantID, api.AppID)
		res = sp
	}
	if err != nil {
		return err
	}
	_, err = s.dir.AssignAppRole(ctx, sys, tenantry.AssignmentSpec{ResourceID: res.ID, PrincipalID: principalID, AppRoleValue: value})
	return err
}

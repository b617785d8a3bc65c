package tenantry

import (
	"errors"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/internal/guid"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// tenantForApp resolves the tenant segment of an app-only request, which
// needs a concrete tenant.
func tenantForApp(tx store.ReadTx, segment string) (tenant.Tenant, error) {
	switch strings.ToLower(segment) {
	case "common", "organizations":
		return tenant.Tenant{}, errNoTenantInfo.new()
	}
	return lookupTenant(tx, segment)
}

func lookupTenant(tx store.ReadTx, segment string) (tenant.Tenant, error) {
	if segment == "" {
		return tenant.Tenant{}, errTenantIdentifier.new("")
	}
	t, err := resolveTenant(tx, segment)
	if errors.Is(err, store.ErrNotFound) {
		if _, ok := guid.Canonical(segment); !ok && !strings.Contains(segment, ".") && !strings.EqualFold(segment, "consumers") {
			return t, errTenantIdentifier.new(safe(segment))
		}
		return t, errTenantNotFound.new(safe(segment))
	}
	return t, err
}

// clientApp loads the client application and applies the audience gate for
// tenant t (reached through the authority segment).
func clientApp(tx store.ReadTx, clientID string, t tenant.Tenant, segment string) (application.Application, error) {
	if clientID == "" {
		return application.Application{}, errMissingParameter.new("client_id")
	}
	app, err := store.Applications.One(tx, store.AppByAppID, clientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && app.IsDeleted()) {
		return app, errAppNotInDirectory.new(safe(clientID), t.DisplayName)
	} else if err != nil {
		return app, err
	}
	return app, audienceGate(app, t, segment)
}

// audienceGate refuses a tenant the app's sign-in audience does not admit,
// with Entra's codes.
func audienceGate(app application.Application, t tenant.Tenant, segment string) error {
	seg := strings.ToLower(segment)
	if app.SignInAudience == application.AzureADMyOrg && (seg == "common" || seg == "organizations") {
		return errSingleTenantAtCommon.new(app.AppID, app.DisplayName)
	}
	if app.AdmitsTenant(t.ID) {
		return nil
	}
	switch {
	case t.IsConsumers() && seg == "common":
		return errPersonalNotSupported.new(app.AppID, app.DisplayName)
	case app.SignInAudience == application.PersonalMicrosoftAccount:
		return errPersonalOnlyApp.new(app.AppID, app.DisplayName)
	case t.IsConsumers():
		return errOrganizationsOnlyApp.new(app.AppID, app.DisplayName)
	}
	return errAppNotInstalled.new(app.AppID, t.DisplayName)
}

// resourceApp finds the live resource application named in a scope (appId
// or identifier URI).
func resourceApp(tx store.ReadTx, resource string, t tenant.Tenant) (application.Application, error) {
	var app application.Application
	var err error
	if id, ok := guid.Canonical(resource); ok {
		app, err = store.Applications.One(tx, store.AppByAppID, id)
	} else if strings.EqualFold(resource, consent.GraphResource) {
		app, err = store.Applications.One(tx, store.AppByAppID, application.MicrosoftGraphAppID)
	} else {
		app, err = store.Applications.One(tx, store.AppByIdentifierURI, resource)
		if errors.Is(err, store.ErrNotFound) && strings.HasSuffix(resource, "/") {
			app, err = store.Applications.One(tx, store.AppByIdentifierURI, strings.TrimSuffix(resource, "/"))
		}
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && app.IsDeleted()) {
		return app, resourceNotFound(resource, t)
	}
	return app, err
}

// resourceNotFound is Entra's answer for a resource without a service
// principal in t, and for one whose sign-in audience no longer admits t:
// the resource's audience is checked at every issuance, so narrowing it
// leaves its service principals in other tenants unusable.
func resourceNotFound(resource string, t tenant.Tenant) *TokenError {
	return errResourceNotFound.new(safe(resource), t.DisplayName)
}

// resolveResource finds the resource application named in a scope and its
// usable service principal in t.
func resolveResource(tx store.ReadTx, resource string, t tenant.Tenant) (application.Application, serviceprincipal.ServicePrincipal, error) {
	app, err := resourceApp(tx, resource, t)
	if err != nil {
		return app, serviceprincipal.ServicePrincipal{}, err
	}
	if !app.AdmitsTenant(t.ID) {
		return app, serviceprincipal.ServicePrincipal{}, resourceNotFound(resource, t)
	}
	sp, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(app.AppID, t.ID))
	if errors.Is(err, store.ErrNotFound) {
		return app, sp, resourceNotFound(resource, t)
	} else if err != nil {
		return app, sp, err
	}
	if !sp.Usable() {
		return app, sp, errAppDisabled.new(app.AppID, sp.DisplayName)
	}
	return app, sp, nil
}

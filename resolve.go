package tenantry

import (
	"errors"
	"strings"

	"github.com/google/uuid"

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
		return tenant.Tenant{}, tokenErr(OAuthInvalidRequest, 50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
	}
	return lookupTenant(tx, segment)
}

func lookupTenant(tx store.ReadTx, segment string) (tenant.Tenant, error) {
	if segment == "" {
		return tenant.Tenant{}, tokenErr(OAuthInvalidRequest, 900023, "Specified tenant identifier '' is neither a valid DNS name, nor a valid external domain.")
	}
	t, err := resolveTenant(tx, segment)
	if errors.Is(err, store.ErrNotFound) {
		if _, perr := uuid.Parse(segment); perr != nil && !strings.Contains(segment, ".") && !strings.EqualFold(segment, "consumers") {
			return t, tokenErr(OAuthInvalidRequest, 900023, "Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", safe(segment))
		}
		return t, tokenErr(OAuthInvalidTenant, 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", safe(segment))
	}
	return t, err
}

// clientApp loads the client application and applies the audience gate for
// tenant t (reached through the authority segment).
func clientApp(tx store.ReadTx, clientID string, t tenant.Tenant, segment string) (application.Application, error) {
	if clientID == "" {
		return application.Application{}, tokenErr(OAuthInvalidRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	app, err := store.Applications.One(tx, store.AppByAppID, clientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && app.IsDeleted()) {
		return app, tokenErr(OAuthUnauthorizedClient, 700016, "Application with identifier '%s' was not found in the directory '%s'.", safe(clientID), t.DisplayName)
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
		return tokenErr(OAuthInvalidRequest, 50194, "Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications.", app.AppID, app.DisplayName)
	}
	if app.AdmitsTenant(t.ID) {
		return nil
	}
	switch {
	case t.IsConsumers() && seg == "common":
		return tokenErr(OAuthInvalidRequest, 500200, "User account is a personal Microsoft account. Personal Microsoft accounts are not supported for application '%s'(%s).", app.AppID, app.DisplayName)
	case app.SignInAudience == application.PersonalMicrosoftAccount:
		return tokenErr(OAuthInvalidRequest, 9002346, "Application '%s'(%s) is configured for use by Microsoft Account users only. Please use the /consumers endpoint to serve this request.", app.AppID, app.DisplayName)
	case t.IsConsumers():
		return tokenErr(OAuthInvalidRequest, 9002332, "Application '%s'(%s) is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.", app.AppID, app.DisplayName)
	}
	return tokenErr(OAuthUnauthorizedClient, 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", app.AppID, t.DisplayName)
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
	return tokenErr(OAuthInvalidResource, 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", safe(resource), t.DisplayName)
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
		return app, sp, tokenErr(OAuthUnauthorizedClient, 7000112, "Application '%s'(%s) is disabled.", app.AppID, sp.DisplayName)
	}
	return app, sp, nil
}

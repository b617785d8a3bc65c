package tenantry

import (
	"errors"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/internal/deep"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// ManifestGrant is a delegated permission grant (oauth2PermissionGrant) of
// a ManifestTenant: the client may act with Scope on the resource for all
// users of the tenant (consentType AllPrincipals, the default) or for one
// (Principal, with UserPrincipalName). Apply provisions both service
// principals when missing, merges the scopes into an existing grant and
// removes none. Every scope must be an enabled scope the resource
// publishes; the sign-in scopes (openid, profile, email, offline_access)
// are granted on Microsoft Graph, or on the client itself when Graph has
// no service principal in the tenant.
type ManifestGrant struct {
	// ClientAppID is the appId of the client.
	ClientAppID string `json:"clientAppId"`
	// ResourceAppID is the appId of the resource (API).
	ResourceAppID string `json:"resourceAppId"`
	// ConsentType is AllPrincipals (default) or Principal.
	ConsentType string `json:"consentType,omitempty"`
	// UserPrincipalName names the user of a Principal grant.
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	// Scope is the space-separated scope values granted.
	Scope string `json:"scope"`
}

// applyGrant creates or widens the grant mg declares.
func (d *core) applyGrant(r *manifestRun, tenantID string, mg ManifestGrant) error {
	o := r.o
	consentType, principal := mg.ConsentType, ""
	switch consentType {
	case "", consent.AllPrincipals:
		consentType = consent.AllPrincipals
		if mg.UserPrincipalName != "" {
			return &tenant.FieldError{Field: "userPrincipalName", Reason: "is only for consentType Principal"}
		}
	case consent.Principal:
		if mg.UserPrincipalName == "" {
			return &tenant.FieldError{Field: "userPrincipalName", Reason: "is required for consentType Principal"}
		}
		u, err := manifestUser(o.tx, tenantID, "userPrincipalName", mg.UserPrincipalName)
		if err != nil {
			return err
		}
		principal = u.ID
	default:
		return &tenant.FieldError{Field: "consentType", Reason: "must be AllPrincipals or Principal"}
	}
	scopes := strings.Fields(mg.Scope)
	if len(scopes) == 0 {
		return &tenant.FieldError{Field: "scope", Reason: "is required"}
	}
	client, err := r.provision(tenantID, "clientAppId", mg.ClientAppID)
	if err != nil {
		return err
	}
	res, err := r.provision(tenantID, "resourceAppId", mg.ResourceAppID)
	if err != nil {
		return err
	}
	signIn, err := signInResourceSP(o.tx, tenantID, client)
	if err != nil {
		return err
	}
	for _, s := range scopes {
		if consent.IsOIDCScope(s) {
			if res.ID != signIn.ID {
				return &tenant.FieldError{Field: "scope", Reason: s + " is a sign-in scope: grant it on Microsoft Graph, or on the client itself when Graph is not in the tenant"}
			}
			continue
		}
		if !slices.ContainsFunc(res.OAuth2PermissionScopes, func(p application.PermissionScope) bool { return p.Value == s && p.IsEnabled }) {
			return &tenant.FieldError{Field: "scope", Reason: "the resource publishes no enabled scope " + s}
		}
	}
	before, err := store.Grants.One(o.tx, store.GrantUnique, store.GrantKey(client.ID, consentType, principal, res.ID))
	existed := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	g, err := upsertGrant(o, tenantID, client.ID, consentType, principal, res.ID, scopes)
	if err != nil {
		return err
	}
	gobj := object{tenantID: tenantID, kind: "oauth2PermissionGrant", key: mg.ClientAppID + "/" + mg.ResourceAppID + "/" + mg.UserPrincipalName, k: store.Grants, id: g.ID}
	switch {
	case !existed:
		return r.created(gobj, "oauth2PermissionGrant.create", g)
	case !deep.Equal(before, g):
		return r.updated(gobj, before, g)
	}
	return nil
}

// provision returns the service principal of appID in tenantID, creating
// (and recording) it when missing; field names the manifest property that
// gave appID.
func (r *manifestRun) provision(tenantID, field, appID string) (serviceprincipal.ServicePrincipal, error) {
	app, err := store.Applications.One(r.o.tx, store.AppByAppID, appID)
	if errors.Is(err, store.ErrNotFound) {
		return serviceprincipal.ServicePrincipal{}, &tenant.FieldError{Field: field, Reason: "no application has appId " + appID}
	} else if err != nil {
		return serviceprincipal.ServicePrincipal{}, err
	}
	sp, created, err := r.o.d.ensureSP(r.o, app, tenantID)
	if err != nil || !created {
		return sp, err
	}
	return sp, r.created(object{tenantID: tenantID, kind: "servicePrincipal", key: appID, k: store.ServicePrincipals, id: sp.ID}, "servicePrincipal.create", sp)
}

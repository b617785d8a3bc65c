package tenantry

import (
	"context"
	"strings"

	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// AdminConsentRequest is a request of the admin consent endpoints
// (/{tenant}/adminconsent and /{tenant}/v2.0/adminconsent): an
// administrator grants a client, on behalf of every user of her tenant,
// the permissions it asks for.
type AdminConsentRequest struct {
	// Tenant is the authority's tenant segment: a tenant id, a verified
	// domain, "organizations" or "common" (the administrator's own
	// tenant).
	Tenant string
	// ClientID is the client's appId (client_id).
	ClientID string
	// RedirectURI is redirect_uri: it must match a registered redirect URI
	// of the client (loopback URIs on any port).
	RedirectURI string
	// Scope is the v2 endpoint's scope parameter: scopes of one resource,
	// or "{resource}/.default" (or empty, as at the v1 endpoint) for
	// everything in the client's requiredResourceAccess, application
	// permissions included.
	Scope string
	// UserID is the signed-in administrator's object id; empty before
	// sign-in (AdminConsentPrompt only).
	UserID string
}

// AdminConsentResponse is the outcome of an admin consent.
type AdminConsentResponse struct {
	// TenantID is the tenant consented in (the redirect's tenant
	// parameter).
	TenantID string
	// Result is what the consent created or extended.
	Result ConsentResult
}

// adminConsentTarget is what the checks of an admin consent request
// resolved.
type adminConsentTarget struct {
	prompt *ConsentPrompt
	tenant tenant.Tenant
	spec   ConsentSpec
	req    consent.Request
}

// checkAdminConsent checks req: the client and redirect URI as for
// Authorize (AADSTS700016, 500113, 50011) and the tenant segment (90002,
// 900023), refused with a nil prompt; then the scope, and for req.UserID
// her sign-in tenant, the client's audience there and what the consent
// asks for, refused with the prompt.
func checkAdminConsent(tx store.ReadTx, req AdminConsentRequest) (adminConsentTarget, error) {
	var at adminConsentTarget
	client, platform, segment, err := checkClientRedirect(tx, req.ClientID, req.RedirectURI, req.Tenant)
	if err != nil {
		return at, err
	}
	at.prompt = newConsentPrompt(client, req.RedirectURI, platform)
	at.prompt.TenantID, at.prompt.TenantDisplayName = segment.ID, segment.DisplayName
	sr, err := parseScope(req.Scope)
	if err != nil {
		return at, err
	}
	at.spec = ConsentSpec{ClientAppID: client.AppID, TenantWide: true}
	switch {
	case sr.isDefault || len(sr.values) == 0:
		at.spec.Default = true
	default:
		res, err := resourceApp(tx, sr.resource, segment)
		if err != nil {
			return at, err
		}
		at.spec.Scopes = []consent.ScopeRequest{{ResourceAppID: res.AppID, Scopes: sr.values}}
	}
	if len(sr.oidc) > 0 {
		at.spec.Scopes = append(at.spec.Scopes, consent.ScopeRequest{Scopes: sr.oidc})
	}
	if req.UserID == "" {
		return at, nil
	}
	u, err := store.Users.Get(tx, req.UserID)
	if err != nil {
		return at, errUserNotFoundAtAuthorize.new().with(err)
	}
	if at.tenant, err = signInTenant(tx, req.Tenant, u); err != nil {
		return at, err
	}
	at.prompt.TenantID, at.prompt.TenantDisplayName = at.tenant.ID, at.tenant.DisplayName
	if strings.EqualFold(req.Tenant, "common") || strings.EqualFold(req.Tenant, "organizations") {
		// The administrator consents in her own tenant, which a
		// single-tenant client admits only when it is its home.
		if !client.AdmitsTenant(at.tenant.ID) {
			return at, audienceGate(client, at.tenant, at.tenant.ID)
		}
	} else if err := audienceGate(client, at.tenant, req.Tenant); err != nil {
		return at, err
	}
	at.prompt.ConsentNeeded = true
	if at.req, err = prepareConsent(tx, UserActor(u.ID), at.tenant.ID, at.spec); err != nil {
		return at, consentRefusalFor(client, at.tenant, client.AppID, err, true)
	}
	return at, nil
}

// AdminConsentPrompt checks an admin consent request without recording
// anything and tells what its consent page must show: the client, its
// publisher, and the delegated and application permissions the consent
// would grant, with CanConsentForOrganization when req.UserID is an
// administrator who may grant them. Without req.UserID it checks what can
// be checked before sign-in.
//
// As for [Issuer.ConsentPrompt], a refusal comes with a nil prompt while
// the client, the redirect URI or the tenant segment is not valid (show it
// on a page), and with the prompt once they are (send it to
// prompt.RedirectURI).
func (d *Issuer) AdminConsentPrompt(ctx context.Context, req AdminConsentRequest) (*ConsentPrompt, error) {
	var out *ConsentPrompt
	err := d.st.View(ctx, func(tx store.ReadTx) error {
		at, err := checkAdminConsent(tx, req)
		out = at.prompt
		if err != nil || req.UserID == "" {
			return err
		}
		return describeConsent(at.prompt, at.req, func(err error) error {
			return consentRefusalFor(at.req.Client, at.tenant, at.req.Client.AppID, err, true)
		})
	})
	return out, err
}

// AdminConsent records the consent of an admin consent request: the
// signed-in administrator req.UserID consents on behalf of every user of
// her tenant, as [Directory.Consent] with TenantWide does (consent.Decide
// decides; static consent includes the application permissions). The
// checks and their refusals are AdminConsentPrompt's, with AADSTS90094
// when the user may not consent for the organization. One audit event
// records the consent.
func (d *Issuer) AdminConsent(ctx context.Context, req AdminConsentRequest) (*AdminConsentResponse, error) {
	if req.UserID == "" {
		return nil, errLoginRequired.new()
	}
	var out *AdminConsentResponse
	err := d.mutate(ctx, UserActor(req.UserID), func(o *op) error {
		at, err := checkAdminConsent(o.tx, req)
		if err != nil {
			return err
		}
		r, err := d.consentIn(o, at.tenant.ID, at.spec)
		if err != nil {
			return consentRefusalFor(at.req.Client, at.tenant, at.req.Client.AppID, err, true)
		}
		out = &AdminConsentResponse{TenantID: at.tenant.ID, Result: r.clone()}
		return o.audit(at.tenant.ID, "consent.grant", store.ServicePrincipals, r.ClientServicePrincipal.ID, nil, r.summary())
	})
	return out, err
}

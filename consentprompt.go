package tenantry

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// ConsentScope is whose consent an authorization records (see
// AuthorizeRequest.ConsentFor).
type ConsentScope int

// Whose consent an authorization records.
const (
	// ConsentForUser records the signed-in user's consent for herself
	// (an oauth2PermissionGrant of consentType Principal): the zero value.
	ConsentForUser ConsentScope = iota
	// ConsentForOrganization records an administrator's consent on behalf
	// of every user of the tenant (AllPrincipals, and the application
	// permissions of static consent).
	ConsentForOrganization
	// ConsentDeclined records nothing: the user declined the consent
	// prompt (or went back to the app from it), so an authorization that
	// still misses consent is refused with AADSTS65004, atomically with
	// the check; one that misses none issues its code.
	ConsentDeclined
)

// String returns "user", "organization" or "declined".
func (c ConsentScope) String() string {
	switch c {
	case ConsentForOrganization:
		return "organization"
	case ConsentDeclined:
		return "declined"
	}
	return "user"
}

// PermissionType tells delegated permissions (scopes) from application
// permissions (app roles).
type PermissionType string

// Permission types.
const (
	// PermissionDelegated is a delegated permission: a scope the app uses
	// on behalf of the signed-in user.
	PermissionDelegated PermissionType = "delegated"
	// PermissionApplication is an application permission: an app role the
	// app holds itself, granted only by an administrator for the tenant.
	PermissionApplication PermissionType = "application"
)

// Permission is one permission a consent prompt asks for.
type Permission struct {
	// ResourceAppID is the appId of the API that publishes it.
	ResourceAppID string
	// ResourceDisplayName is that API's name.
	ResourceDisplayName string
	// Value is the scope or app role value ("Orders.Read", "openid").
	Value string
	// Type is delegated or application.
	Type PermissionType
	// DisplayName and Description are what a user is shown: the scope's
	// userConsentDisplayName and userConsentDescription, or its admin
	// texts where those are empty or the scope needs an administrator; an
	// app role's displayName and description.
	DisplayName, Description string
	// AdminDisplayName and AdminDescription are what an administrator is
	// shown: the scope's adminConsentDisplayName and
	// adminConsentDescription, or the app role's texts.
	AdminDisplayName, AdminDescription string
	// AdminOnly: only an administrator can grant it (an Admin-type scope
	// or an application permission).
	AdminOnly bool
}

// ConsentPrompt is what a sign-in page needs to know about an
// authorization request (see [Issuer.ConsentPrompt]) or an admin consent
// request (see [Issuer.AdminConsentPrompt]).
type ConsentPrompt struct {
	// ClientAppID is the client's appId.
	ClientAppID string
	// ClientDisplayName is the client's name.
	ClientDisplayName string
	// PublisherDomain is the client's publisher domain (its home tenant's
	// default domain).
	PublisherDomain string
	// VerifiedPublisher is the client's verified publisher, nil when it
	// has none (a prompt then says the publisher is unverified).
	VerifiedPublisher *application.VerifiedPublisher
	// RedirectURI is the request's redirect URI, validated: refusals may
	// be sent there.
	RedirectURI string
	// Platform is where RedirectURI is registered.
	Platform application.RedirectURIPlatform
	// TenantID and TenantDisplayName name the tenant: the signed-in user's
	// sign-in tenant, or, before sign-in, the tenant a named segment
	// designates (empty for common, organizations and consumers).
	TenantID, TenantDisplayName string
	// ConsentNeeded: the request needs consent the user has not given
	// (or prompt=consent asks again). Always false before sign-in.
	ConsentNeeded bool
	// Permissions are the permissions the consent would grant, sign-in
	// scopes first (with Microsoft Graph's wording); application
	// permissions only where static consent on behalf of the organization
	// grants them.
	Permissions []Permission
	// UserCanConsent: the tenant's policy lets the user consent for
	// herself to everything asked (consent.Decide, as Authorize decides).
	UserCanConsent bool
	// CanConsentForOrganization: the user is an administrator who may
	// consent to it on behalf of the organization
	// (tenant.CanGrantTenantWide).
	CanConsentForOrganization bool
}

// ConsentPrompt checks an authorization request as Authorize does, with
// the same refusals in the same order, without issuing or recording
// anything, and tells what its consent prompt must show. Without
// req.UserID it checks what can be checked before sign-in (the client,
// the redirect URI, the tenant segment, the nonce, the response type,
// PKCE, a named tenant's audience and the scope), so that a sign-in page
// is shown only for a request Authorize could accept.
//
// A refusal comes with a nil prompt while the client or the redirect URI
// is not valid, or the tenant segment names no tenant (show it on a page;
// never redirect to an unvalidated URI); with a non-nil prompt once they
// are (send it to prompt.RedirectURI). When no consent is needed, the
// refusals of the dry run Authorize makes (user assignment, claims
// mapping) are reported too.
func (d *Issuer) ConsentPrompt(ctx context.Context, req AuthorizeRequest) (*ConsentPrompt, error) {
	var out *ConsentPrompt
	err := d.st.View(ctx, func(tx store.ReadTx) error {
		out = nil
		at, validated, err := checkAuthorize(tx, req)
		if !validated {
			return err
		}
		p := newConsentPrompt(at.client, req.RedirectURI, at.platform)
		out = p
		if err != nil {
			return err
		}
		if req.UserID == "" {
			p.TenantID, p.TenantDisplayName = at.segment.ID, at.segment.DisplayName
			return nil
		}
		p.TenantID, p.TenantDisplayName = at.tenant.ID, at.tenant.DisplayName
		now := d.clock()
		g := userGrant{TenantID: at.tenant.ID, UserID: at.user.ID, ClientAppID: at.client.AppID, Scope: at.scope.String(), Platform: at.platform, AuthTime: now, Nonce: req.Nonce, Endpoint: req.EndpointVersion}
		uc, err := loadUser(tx, g, now)
		if err != nil {
			return err
		}
		spec, _, needed := signInConsentSpec(uc, req.Prompt)
		if !needed {
			_, err := d.userTokens(tx, g, now, token.ClientAuthPublic)
			return err
		}
		p.ConsentNeeded = true
		creq, err := prepareConsent(tx, UserActor(at.user.ID), at.tenant.ID, spec)
		if err != nil {
			return consentRefusal(uc, err)
		}
		return describeConsent(p, creq, func(err error) error { return consentRefusal(uc, err) })
	})
	return out, err
}

func newConsentPrompt(client application.Application, redirectURI string, platform application.RedirectURIPlatform) *ConsentPrompt {
	p := &ConsentPrompt{
		ClientAppID: client.AppID, ClientDisplayName: client.DisplayName, PublisherDomain: client.PublisherDomain,
		RedirectURI: redirectURI, Platform: platform,
	}
	if vp := client.VerifiedPublisher; vp != nil && vp.VerifiedPublisherID != "" {
		c := *vp
		p.VerifiedPublisher = &c
	}
	return p
}

// describeConsent fills p for the consent request req, decided for the
// user herself (unless req is tenant-wide), for the organization, and as
// the operator would be granted it (to list every permission, application
// permissions included). A refusal of what is asked (rather than of who
// asks) is answered with refuse, as the consent itself would be.
func describeConsent(p *ConsentPrompt, req consent.Request, refuse func(error) error) error {
	var dec consent.Decision
	listed := false
	if !req.TenantWide {
		self := req
		d, err := consent.Decide(self)
		if err != nil && !mayNotConsent(err) {
			return refuse(err)
		}
		p.UserCanConsent = err == nil
		dec, listed = d, err == nil
	}
	org := req
	org.TenantWide = true
	_, err := consent.Decide(org)
	if req.TenantWide && err != nil && !mayNotConsent(err) {
		return refuse(err)
	}
	p.CanConsentForOrganization = err == nil
	all := org
	all.Caller = tenant.SystemCaller()
	if d, err := consent.Decide(all); err == nil {
		dec, listed = d, true
	} else if !listed && req.TenantWide {
		return refuse(err)
	}
	var signIn []string
	for _, s := range req.Scopes {
		for _, v := range s.Scopes {
			if consent.IsOIDCScope(v) && (s.ResourceAppID == "" || strings.EqualFold(s.ResourceAppID, application.MicrosoftGraphAppID)) && !slices.Contains(signIn, v) {
				signIn = append(signIn, v)
			}
		}
	}
	if req.TenantWide && len(signIn) == 0 {
		signIn = slices.Clone(consent.BasicSignInScopes)
	}
	p.Permissions = permissionsOf(req.Client.AppID, dec, req.Resources, signIn)
	return nil
}

// mayNotConsent reports whether a consent.Decide refusal is about who may
// consent (rather than about what is asked).
func mayNotConsent(err error) bool {
	return errors.Is(err, consent.ErrAdminConsentRequired) || errors.Is(err, consent.ErrUserConsentDisabled) || errors.Is(err, tenant.ErrForbidden)
}

// signInPermissions are the sign-in scopes in Microsoft Graph's words, in
// the order consent prompts list them.
var signInPermissions = []Permission{
	{Value: "openid", DisplayName: "Sign you in", Description: "Allows you to sign in to the app with your work or school account and allows the app to read your basic profile.",
		AdminDisplayName: "Sign users in", AdminDescription: "Allows users to sign in to the app with their work or school accounts and allows the app to see basic user profile information."},
	{Value: "profile", DisplayName: "View your basic profile", Description: "Allows the app to see your basic profile (e.g., name, picture, user name, email address).",
		AdminDisplayName: "View users' basic profile", AdminDescription: "Allows the app to see your users' basic profile (e.g., name, picture, user name, email address)."},
	{Value: "email", DisplayName: "View your email address", Description: "Allows the app to read your primary email address.",
		AdminDisplayName: "View users' email address", AdminDescription: "Allows the app to read your users' primary email address."},
	{Value: "offline_access", DisplayName: "Maintain access to data you have given it access to", Description: "Allows the app to see and update the data you gave it access to, even when you are not currently using the app. This does not give the app any additional permissions.",
		AdminDisplayName: "Maintain access to data you have given it access to", AdminDescription: "Allows the app to see and update the data you gave it access to, even when users are not currently using the app. This does not give the app any additional permissions."},
}

// permissionsOf lists the permissions of dec: the sign-in scopes asked
// for, then the delegated and application permissions in dec's order.
func permissionsOf(clientAppID string, dec consent.Decision, resources map[string]consent.Resource, signIn []string) []Permission {
	var out []Permission
	for _, sp := range signInPermissions {
		if slices.Contains(signIn, sp.Value) {
			sp.ResourceAppID, sp.ResourceDisplayName, sp.Type = application.MicrosoftGraphAppID, "Microsoft Graph", PermissionDelegated
			out = append(out, sp)
		}
	}
	// The client's own permissions first, then those of APIs consented
	// with it (knownClientApplications).
	delegated := slices.Clone(dec.Delegated)
	slices.SortStableFunc(delegated, func(a, b consent.DelegatedGrant) int {
		return boolOrder(a.ClientAppID != clientAppID) - boolOrder(b.ClientAppID != clientAppID)
	})
	for _, g := range delegated {
		res := resourceIn(resources, g.ResourceAppID)
		for _, v := range g.Scopes {
			p := Permission{ResourceAppID: g.ResourceAppID, ResourceDisplayName: res.DisplayName, Value: v, Type: PermissionDelegated}
			if s, ok := res.ScopeByValue(v); ok {
				p.AdminOnly = !strings.EqualFold(s.Type, application.ScopeTypeUser)
				p.AdminDisplayName, p.AdminDescription = s.AdminConsentDisplayName, s.AdminConsentDescription
				p.DisplayName, p.Description = s.UserConsentDisplayName, s.UserConsentDescription
				if p.AdminOnly || p.DisplayName == "" {
					p.DisplayName, p.Description = p.AdminDisplayName, p.AdminDescription
				}
			}
			out = append(out, p)
		}
	}
	for _, r := range dec.AppRoles {
		res := resourceIn(resources, r.ResourceAppID)
		p := Permission{ResourceAppID: r.ResourceAppID, ResourceDisplayName: res.DisplayName, Value: r.Value, Type: PermissionApplication, AdminOnly: true}
		if role, ok := res.RoleByID(r.AppRoleID); ok {
			p.DisplayName, p.Description = role.DisplayName, role.Description
			p.AdminDisplayName, p.AdminDescription = role.DisplayName, role.Description
		}
		out = append(out, p)
	}
	for i := range out {
		if out[i].DisplayName == "" {
			out[i].DisplayName = out[i].Value
		}
		if out[i].AdminDisplayName == "" {
			out[i].AdminDisplayName, out[i].AdminDescription = out[i].DisplayName, out[i].Description
		}
	}
	return out
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// resourceIn finds the application of appID among resources (by exact
// key, else in any letter case).
func resourceIn(resources map[string]consent.Resource, appID string) application.Application {
	if r, ok := resources[appID]; ok {
		return r.App
	}
	for k, r := range resources {
		if strings.EqualFold(k, appID) {
			return r.App
		}
	}
	return application.Application{AppID: appID}
}

package consent

import (
	"errors"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/tenant"
)

// GraphResource is the identifier URI of Microsoft Graph. A scope without a
// resource prefix ("User.Read") is a Graph scope
// ("https://graph.microsoft.com/User.Read").
const GraphResource = "https://graph.microsoft.com"

// DefaultScope is the scope value that asks for static consent: everything
// the client lists in requiredResourceAccess ("{resource}/.default").
const DefaultScope = ".default"

// IsOIDCScope reports whether s is one of the OpenID Connect scopes openid,
// profile, email and offline_access. They ask for sign-in, an ID token and
// a refresh token rather than access to a resource; Decide lists them in
// Decision.SignIn, and the caller records them in the user's delegated
// grant on Microsoft Graph, as Entra does. The comparison is exact (scope
// values are case-sensitive).
func IsOIDCScope(s string) bool {
	switch s {
	case "openid", "profile", "email", "offline_access":
		return true
	}
	return false
}

// BasicSignInScopes are the OpenID Connect scopes, sorted, that consent to
// sign in records together in the user's (or the tenant's) grant.
var BasicSignInScopes = []string{"email", "offline_access", "openid", "profile"}

// sessionScope reports whether value, requested on resourceAppID, is a
// sign-in scope (reported in Decision.SignIn rather than as a scope of a
// resource): an OIDC scope with no resource or on Microsoft Graph (which is
// where Entra files them). On any other resource a value such as "profile"
// is an ordinary scope of that API.
func sessionScope(resourceAppID, value string) bool {
	return IsOIDCScope(value) && (resourceAppID == "" || strings.EqualFold(resourceAppID, application.MicrosoftGraphAppID))
}

// SplitScope splits a scope as written in an authorization request into the
// resource it names and the scope value:
//
//	"api://contoso/Files.Read"                     → ("api://contoso", "Files.Read")
//	"https://graph.microsoft.com/User.Read"        → ("https://graph.microsoft.com", "User.Read")
//	"6a1c…-…/.default"                             → ("6a1c…-…", ".default")
//	"User.Read"                                    → ("https://graph.microsoft.com", "User.Read")
//	"openid"                                       → ("", "openid")
//	"https://contoso.com//.default"                → ("https://contoso.com/", ".default")
//
// The value is what follows the last "/" after the URI's scheme and host,
// so an identifier URI with a trailing slash is addressed with a double
// slash, as Entra requires. A bare value means Microsoft Graph, except for
// the OIDC scopes, which name no resource. A string without a value (a bare
// URI such as "api://contoso") gives (s, ""). The resource is returned as
// written (an appId or an identifier URI); MatchesResource tells which
// application it names. Surrounding white space is ignored.
func SplitScope(s string) (resource, value string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	if IsOIDCScope(s) {
		return "", s
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + len("://")
	}
	j := strings.LastIndexByte(s[start:], '/')
	if j < 0 {
		if start > 0 {
			return s, ""
		}
		return GraphResource, s
	}
	j += start
	return s[:j], s[j+1:]
}

// MatchesResource reports whether resource (as returned by SplitScope)
// names app: its appId or one of its identifierUris, compared
// case-insensitively, or GraphResource for Microsoft Graph's appId. The
// match is exact otherwise: "https://contoso.com/" and "https://contoso.com"
// are different resources (hence the "//.default" form).
func MatchesResource(app application.Application, resource string) bool {
	if resource == "" {
		return false
	}
	if strings.EqualFold(app.AppID, resource) {
		return true
	}
	if strings.EqualFold(app.AppID, application.MicrosoftGraphAppID) && strings.EqualFold(resource, GraphResource) {
		return true
	}
	for _, u := range app.IdentifierURIs {
		if strings.EqualFold(u, resource) {
			return true
		}
	}
	return false
}

// PreAuthorized reports whether resource pre-authorizes clientAppID for
// every one of scopes (values on resource), so that no consent is needed:
// the client is listed in api.preAuthorizedApplications and the id of each
// scope is among its delegatedPermissionIds (matched by id, as Graph
// stores them), the scope being published and enabled. OIDC scopes are
// ignored on Microsoft Graph only (see IsOIDCScope); empty values and
// duplicates are ignored. A soft-deleted resource pre-authorizes nothing.
// With no scopes the result is whether the client is listed at all.
func PreAuthorized(resource application.Application, clientAppID string, scopes []string) bool {
	if resource.API == nil || resource.IsDeleted() || clientAppID == "" {
		return false
	}
	var ids []string
	listed := false
	for _, p := range resource.API.PreAuthorizedApplications {
		if strings.EqualFold(p.AppID, clientAppID) {
			listed = true
			ids = append(ids, p.DelegatedPermissionIDs...)
		}
	}
	if !listed {
		return false
	}
	for _, v := range normalize(scopes) {
		if sessionScope(resource.AppID, v) {
			continue
		}
		def, ok := resource.ScopeByValue(v)
		if !ok || !def.IsEnabled || !slices.ContainsFunc(ids, func(id string) bool { return strings.EqualFold(id, def.ID) }) {
			return false
		}
	}
	return true
}

// Merge returns g with scopes added to its scope string: the sorted,
// de-duplicated union. Values containing white space are split.
func Merge(g Grant, scopes []string) Grant {
	g.Scope = JoinScopes(g.Scopes(), normalize(scopes))
	return g
}

// Narrow returns g without the scopes in remove (values containing white
// space are split), its remaining scopes sorted and de-duplicated, and
// whether no scope is left, in which case the caller should delete the
// grant rather than store an empty one.
func Narrow(g Grant, remove []string) (Grant, bool) {
	drop := normalize(remove)
	var keep []string
	for _, s := range g.Scopes() {
		if _, found := slices.BinarySearch(drop, s); !found {
			keep = append(keep, s)
		}
	}
	g.Scope = JoinScopes(keep)
	return g, g.Scope == ""
}

// normalize splits values at white space and returns them sorted, unique,
// without empty strings.
func normalize(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.Fields(v)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Resource is a resource application a consent request may touch, with
// tenant-local data of its service principal in the consenting tenant (if
// that service principal exists).
type Resource struct {
	// App is the resource's application object (from its home tenant).
	App application.Application
	// Classifications are the delegatedPermissionClassifications of the
	// resource's service principal in the consenting tenant; the low-risk
	// user consent policy admits only scopes classified "low".
	Classifications []serviceprincipal.DelegatedPermissionClassification
}

// classifiedLow reports whether the scope is classified low, matching the
// classification by permission id or by permission name.
func (r Resource) classifiedLow(s application.PermissionScope) bool {
	for _, c := range r.Classifications {
		if !strings.EqualFold(c.Classification, serviceprincipal.ClassificationLow) {
			continue
		}
		if (c.PermissionID != "" && strings.EqualFold(c.PermissionID, s.ID)) || (c.PermissionName != "" && c.PermissionName == s.Value) {
			return true
		}
	}
	return false
}

// ScopeRequest asks for delegated scopes (values such as "Files.Read") on
// one resource, given by appId. The value DefaultScope (".default") asks
// for static consent, like Request.Default. OIDC scopes may be given with
// an empty ResourceAppID or on Microsoft Graph.
type ScopeRequest struct {
	// ResourceAppID is the appId of the resource; empty for OIDC scopes
	// only.
	ResourceAppID string
	// Scopes are the scope values requested on the resource, or
	// DefaultScope.
	Scopes []string
}

// Request is a consent request: a user (Caller) of Tenant consenting, for
// self or (TenantWide) for the whole tenant, to permissions of Client.
type Request struct {
	// Tenant is the consenting tenant; its authorization policy decides
	// what users may consent to.
	Tenant tenant.Tenant
	// Caller is the user consenting, with its directory roles in Tenant.
	// The system caller (empty User.ID) may only consent TenantWide.
	Caller tenant.Caller
	// Client is the application asking for the permissions.
	Client application.Application
	// ClientAssignmentRequired: the client's service principal in Tenant
	// has appRoleAssignmentRequired, so only an administrator can consent.
	ClientAssignmentRequired bool
	// Resources holds, by appId, every resource named in Scopes, in
	// Client.RequiredResourceAccess and, for combined consent, in the
	// requiredResourceAccess of APIs that list the client in
	// knownClientApplications. A resource missing here is unknown.
	Resources map[string]Resource
	// Scopes are explicitly requested delegated scopes (dynamic consent).
	// OIDC scopes (openid, profile, email, offline_access) are accepted and
	// reported in Decision.SignIn. App roles cannot be requested this way.
	Scopes []ScopeRequest
	// Default asks for static consent (".default"): every Scope entry of
	// Client.RequiredResourceAccess, and its Role entries when TenantWide.
	// It cannot be combined with explicit scopes other than OIDC scopes.
	Default bool
	// TenantWide asks for admin consent on behalf of every user of the
	// tenant (AllPrincipals grants and application permissions).
	TenantWide bool
}

// DelegatedGrant is a delegated permission grant to create or extend: the
// scopes ClientAppID gets on ResourceAppID (one oauth2PermissionGrant
// between their service principals).
type DelegatedGrant struct {
	// ClientAppID is the appId of the client that gets the scopes.
	ClientAppID string
	// ResourceAppID is the appId of the resource that publishes them.
	ResourceAppID string
	// Scopes are the scope values, sorted and unique, never empty.
	Scopes []string
}

// RoleGrant is an application permission to create: an appRoleAssignment
// of app role AppRoleID (value Value) of ResourceAppID's service principal
// to ClientAppID's service principal.
type RoleGrant struct {
	// ClientAppID is the appId of the client assigned the role.
	ClientAppID string
	// ResourceAppID is the appId of the resource that defines the role.
	ResourceAppID string
	// AppRoleID is the id of the app role.
	AppRoleID string
	// Value is the value of the app role, as the roles claim carries it.
	Value string
}

// Decision is what a permitted consent request grants.
type Decision struct {
	// ConsentType is Principal (a user consenting for self) or
	// AllPrincipals (admin consent for the tenant).
	ConsentType string
	// Delegated are the delegated grants, ordered by ClientAppID, then
	// ResourceAppID.
	Delegated []DelegatedGrant
	// AppRoles are the application permissions to assign (only for
	// TenantWide), ordered by ClientAppID, ResourceAppID, Value, AppRoleID.
	AppRoles []RoleGrant
	// Provision lists, sorted and unique, the appIds whose service
	// principal must exist in the tenant: the client, every resource
	// granted to, and the APIs consented through knownClientApplications.
	Provision []string
	// SignIn is BasicSignInScopes when the consent is tenant-wide or any
	// OIDC scope (openid, profile, email, offline_access) was asked for in
	// Scopes or named in the client's requiredResourceAccess on Microsoft
	// Graph, else empty: consent to sign in covers the whole basic sign-in
	// set. They are
	// permitted under the same rules as the rest of the decision (user
	// consent disabled refuses even sign-in only), and the caller records
	// them in the client's delegated grant on Microsoft Graph, as Entra
	// does, so that sign-in needs consent like any other permission.
	SignIn []string
}

type grantKey struct{ client, resource string }

type pending struct {
	resource Resource
	scopes   map[string]application.PermissionScope // by value
	roles    map[string]application.AppRole         // by id
}

type decider struct {
	r        Request
	grants   map[grantKey]*pending
	combined []application.Application // APIs consented through knownClientApplications
	session  []string                  // OIDC scopes requested (not recorded)
}

// Decide decides what consent request r grants, or why it is refused. It
// is a pure function: the caller loads r's data and writes the decision.
//
// Validation comes first: the client must exist and not be deleted
// (ErrUnknownClient); every resource must be in r.Resources and not deleted
// (ErrUnknownResource); every requested scope must be published and enabled
// by its resource (ErrUnknownScope, ErrScopeDisabled), and every Role entry
// granted must name an enabled app role allowed for applications
// (ErrUnknownRole).
//
// Then the caller's right to consent:
//   - TenantWide needs tenant.CanGrantTenantWide (Microsoft Graph app roles
//     only from Global or Privileged Role Administrators); a refusal is an
//     *Error with Code tenant.ErrForbidden. Admin-type scopes are allowed.
//   - For self (Principal), in this order: the caller must be a user
//     (ErrInvalidRequest for the system caller), enabled, and not a guest
//     under the restricted guest role (tenant.ErrForbidden). A client whose
//     service principal requires assignment needs an admin
//     (ErrAdminConsentRequired). The tenant's user consent policy applies:
//     none refuses everything, even sign-in only (ErrUserConsentDisabled).
//     Scopes whose type is not User (Admin) are never self-consented
//     (ErrAdminConsentRequired, listing exactly them). Low-risk admits
//     only clients from a verified publisher or registered in the tenant,
//     and only scopes classified low on the resource's service principal
//     (else ErrAdminConsentRequired, listing the scopes not admitted).
//     Administrators who could consent tenant-wide, and Application
//     Developers for clients they own, consent for self as under the most
//     permissive policy, whatever the tenant's.
//
// Combined consent: when a resource the client is granted to lists the
// client in api.knownClientApplications and both share a home tenant, the
// API's own requiredResourceAccess is consented as well, with the API as
// client, under the same rules (one level deep).
//
// Only the first problem found is reported, always the same one for a
// given request: validation in request order (resources of explicit scopes
// sorted by appId, requiredResourceAccess in its own order), authorization
// in Decision order. The request is not modified.
func Decide(r Request) (Decision, error) {
	d := &decider{r: r, grants: map[grantKey]*pending{}}
	client := r.Client
	if client.AppID == "" {
		return Decision{}, &Error{Code: ErrUnknownClient, Reason: "the client has no appId"}
	}
	if client.IsDeleted() {
		return Decision{}, &Error{Code: ErrUnknownClient, ClientAppID: client.AppID, Reason: "the client application is deleted"}
	}
	static, err := d.addExplicit()
	if err != nil {
		return Decision{}, err
	}
	if static {
		if err := d.addStatic(client); err != nil {
			return Decision{}, err
		}
	}
	if err := d.addCombined(); err != nil {
		return Decision{}, err
	}
	if err := d.authorize(); err != nil {
		return Decision{}, err
	}
	return d.decision(), nil
}

// resource resolves appID in r.Resources (exact key, else case-insensitive)
// and returns it with its canonical appId.
func (d *decider) resource(clientAppID, appID string) (Resource, string, error) {
	res, ok := d.r.Resources[appID]
	if !ok && appID != "" {
		for k, v := range d.r.Resources {
			if strings.EqualFold(k, appID) {
				res, ok = v, true
				break
			}
		}
	}
	switch {
	case appID == "":
		return Resource{}, "", &Error{Code: ErrUnknownResource, ClientAppID: clientAppID, Reason: "no resource named"}
	case !ok:
		return Resource{}, "", &Error{Code: ErrUnknownResource, ClientAppID: clientAppID, ResourceAppID: appID, Reason: "the resource application is not known"}
	case res.App.IsDeleted():
		return Resource{}, "", &Error{Code: ErrUnknownResource, ClientAppID: clientAppID, ResourceAppID: appID, Reason: "the resource application is deleted"}
	}
	if res.App.AppID != "" {
		appID = res.App.AppID
	}
	return res, appID, nil
}

func (d *decider) entry(client, resourceAppID string, res Resource) *pending {
	k := grantKey{client, resourceAppID}
	p := d.grants[k]
	if p == nil {
		p = &pending{resource: res, scopes: map[string]application.PermissionScope{}, roles: map[string]application.AppRole{}}
		d.grants[k] = p
	}
	return p
}

// addExplicit validates and adds r.Scopes; it reports whether static
// consent is asked for (r.Default or a ".default" scope).
func (d *decider) addExplicit() (bool, error) {
	clientID := d.r.Client.AppID
	static := d.r.Default
	type asked struct {
		res    Resource
		values []string
	}
	explicit := map[string]*asked{}
	for _, sr := range d.r.Scopes {
		var values []string
		dotDefault := false
		for _, v := range normalize(sr.Scopes) {
			switch {
			case v == DefaultScope:
				dotDefault = true
			case sessionScope(sr.ResourceAppID, v):
				d.session = append(d.session, v)
			default:
				values = append(values, v)
			}
		}
		if !dotDefault && len(values) == 0 {
			continue
		}
		res, id, err := d.resource(clientID, sr.ResourceAppID)
		if err != nil {
			return false, err
		}
		if dotDefault {
			static = true
		}
		if len(values) > 0 {
			a := explicit[id]
			if a == nil {
				a = &asked{res: res}
				explicit[id] = a
			}
			a.values = append(a.values, values...)
		}
	}
	slices.Sort(d.session)
	d.session = slices.Compact(d.session)
	if static && len(explicit) > 0 {
		return false, &Error{Code: ErrInvalidRequest, ClientAppID: clientID, Reason: `".default" cannot be combined with explicit scopes other than openid, profile, email and offline_access`}
	}
	for _, id := range sortedKeys(explicit) {
		a := explicit[id]
		values := normalize(a.values)
		var unknown, roles, disabled []string
		for _, v := range values {
			def, ok := a.res.App.ScopeByValue(v)
			switch {
			case !ok:
				unknown = append(unknown, v)
				if slices.ContainsFunc(a.res.App.AppRoles, func(r application.AppRole) bool { return r.Value == v }) {
					roles = append(roles, v)
				}
			case !def.IsEnabled:
				disabled = append(disabled, v)
			}
		}
		if len(unknown) > 0 {
			reason := "the resource does not publish these scopes"
			if len(roles) > 0 {
				reason = "application permissions (app roles) cannot be requested as scopes; an admin grants them through .default"
			}
			return false, &Error{Code: ErrUnknownScope, ClientAppID: clientID, ResourceAppID: id, Scopes: unknown, Reason: reason}
		}
		if len(disabled) > 0 {
			return false, &Error{Code: ErrScopeDisabled, ClientAppID: clientID, ResourceAppID: id, Scopes: disabled, Reason: "the resource has disabled these scopes"}
		}
		p := d.entry(clientID, id, a.res)
		for _, v := range values {
			p.scopes[v], _ = a.res.App.ScopeByValue(v)
		}
	}
	return static, nil
}

// addStatic validates and adds the requiredResourceAccess of acting (the
// client, or an API for combined consent): Scope entries always, Role
// entries when TenantWide.
func (d *decider) addStatic(acting application.Application) error {
	for _, rra := range acting.RequiredResourceAccess {
		var scopeIDs, roleIDs []string
		for _, ra := range rra.ResourceAccess {
			switch {
			case strings.EqualFold(ra.Type, application.AccessScope):
				scopeIDs = append(scopeIDs, ra.ID)
			case strings.EqualFold(ra.Type, application.AccessRole):
				if d.r.TenantWide {
					roleIDs = append(roleIDs, ra.ID)
				}
			default:
				return &Error{Code: ErrInvalidRequest, ClientAppID: acting.AppID, ResourceAppID: rra.ResourceAppID,
					Reason: "requiredResourceAccess entry " + ra.ID + " has type " + ra.Type + ", want Scope or Role"}
			}
		}
		if len(scopeIDs) == 0 && len(roleIDs) == 0 {
			continue
		}
		res, id, err := d.resource(acting.AppID, rra.ResourceAppID)
		if err != nil {
			return err
		}
		var unknown, disabled []string
		var scopes []application.PermissionScope
		for _, sid := range normalize(scopeIDs) {
			def, ok := res.App.ScopeByID(sid)
			switch {
			case !ok:
				unknown = append(unknown, sid)
			case !def.IsEnabled:
				disabled = append(disabled, def.Value)
			case !sessionScope(id, def.Value):
				scopes = append(scopes, def)
			case acting.AppID == d.r.Client.AppID:
				d.session = append(d.session, def.Value)
			}
		}
		if len(unknown) > 0 {
			return &Error{Code: ErrUnknownScope, ClientAppID: acting.AppID, ResourceAppID: id, Scopes: unknown,
				Reason: "requiredResourceAccess names scope ids the resource does not publish"}
		}
		if len(disabled) > 0 {
			slices.Sort(disabled)
			return &Error{Code: ErrScopeDisabled, ClientAppID: acting.AppID, ResourceAppID: id, Scopes: slices.Compact(disabled),
				Reason: "the resource has disabled these scopes"}
		}
		var bad []string
		var roles []application.AppRole
		for _, rid := range normalize(roleIDs) {
			role, ok := res.App.RoleByID(rid)
			if !ok || !role.IsEnabled || !role.Allows(application.MemberTypeApplication) {
				bad = append(bad, rid)
				continue
			}
			roles = append(roles, role)
		}
		if len(bad) > 0 {
			return &Error{Code: ErrUnknownRole, ClientAppID: acting.AppID, ResourceAppID: id, Roles: bad,
				Reason: "requiredResourceAccess names app roles the resource does not define, has disabled or does not allow for applications"}
		}
		if len(scopes) == 0 && len(roles) == 0 {
			continue
		}
		p := d.entry(acting.AppID, id, res)
		for _, s := range scopes {
			p.scopes[s.Value] = s
		}
		for _, role := range roles {
			p.roles[role.ID] = role
		}
	}
	return nil
}

// addCombined adds the own requiredResourceAccess of every API the client
// is granted to that lists the client in knownClientApplications and
// shares its home tenant.
func (d *decider) addCombined() error {
	client := d.r.Client
	for _, k := range d.keys() {
		if k.client != client.AppID {
			continue
		}
		api := d.grants[k].resource.App
		if api.API == nil || strings.EqualFold(api.AppID, client.AppID) || api.TenantID == "" || api.TenantID != client.TenantID {
			continue
		}
		if !slices.ContainsFunc(api.API.KnownClientApplications, func(id string) bool { return strings.EqualFold(id, client.AppID) }) {
			continue
		}
		d.combined = append(d.combined, api)
		if err := d.addStatic(api); err != nil {
			return err
		}
	}
	return nil
}

func (d *decider) keys() []grantKey {
	keys := make([]grantKey, 0, len(d.grants))
	for k := range d.grants {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b grantKey) int {
		if c := strings.Compare(a.client, b.client); c != 0 {
			return c
		}
		return strings.Compare(a.resource, b.resource)
	})
	return keys
}

func (d *decider) authorize() error {
	r := d.r
	c := r.Caller
	client := r.Client.AppID
	if r.TenantWide {
		graphRoles := false
		for k, p := range d.grants {
			if len(p.roles) > 0 && strings.EqualFold(k.resource, application.MicrosoftGraphAppID) {
				graphRoles = true
			}
		}
		if err := tenant.CanGrantTenantWide(c, graphRoles); err != nil {
			return forbiddenError(client, err)
		}
		return nil
	}
	if c.User.ID == "" {
		return &Error{Code: ErrInvalidRequest, ClientAppID: client, Reason: "consent for self needs a user; the system consents tenant-wide"}
	}
	if !c.User.AccountEnabled {
		return &Error{Code: tenant.ErrForbidden, ClientAppID: client, Reason: "user account is disabled"}
	}
	if c.User.IsGuest() && r.Tenant.Policy.GuestUserRoleID == tenant.GuestRoleRestricted {
		return &Error{Code: tenant.ErrForbidden, ClientAppID: client, Reason: "guests with restricted access cannot consent"}
	}
	if r.ClientAssignmentRequired {
		return &Error{Code: ErrAdminConsentRequired, ClientAppID: client,
			Reason: "the client's service principal requires app role assignment (appRoleAssignmentRequired); only an administrator can consent"}
	}
	keys := d.keys()
	acting := append([]application.Application{r.Client}, d.combined...)
	mine := func(app application.Application) []grantKey {
		var out []grantKey
		for _, k := range keys {
			if k.client == app.AppID {
				out = append(out, k)
			}
		}
		return out
	}
	// refuse names the first grant of app, or the sign-in scopes when app
	// is the client and asks for nothing else.
	refuse := func(code error, app application.Application, reason string) error {
		e := &Error{Code: code, ClientAppID: app.AppID, Reason: reason}
		if ks := mine(app); len(ks) > 0 {
			e.ResourceAppID, e.Scopes = ks[0].resource, d.grants[ks[0]].scopeValues()
		} else if app.AppID == client {
			e.Scopes = slices.Clone(d.session)
		}
		return e
	}
	levels := make([]tenant.UserConsent, len(acting))
	for i, app := range acting {
		levels[i] = d.level(app)
		if levels[i] == tenant.UserConsentNone {
			return refuse(ErrUserConsentDisabled, app, "users cannot consent in this tenant; an administrator must consent")
		}
	}
	// No policy or role lets a user self-consent to Admin-type scopes.
	for _, k := range keys {
		var admin []string
		for v, s := range d.grants[k].scopes {
			if !strings.EqualFold(s.Type, application.ScopeTypeUser) {
				admin = append(admin, v)
			}
		}
		if len(admin) > 0 {
			slices.Sort(admin)
			return &Error{Code: ErrAdminConsentRequired, ClientAppID: k.client, ResourceAppID: k.resource, Scopes: admin,
				Reason: "these scopes require admin consent (type Admin)"}
		}
	}
	for i, app := range acting {
		if levels[i] != tenant.UserConsentLowRisk {
			continue
		}
		if !verifiedPublisher(app) && (r.Tenant.ID == "" || app.TenantID != r.Tenant.ID) {
			return refuse(ErrAdminConsentRequired, app, "users may consent only to apps from verified publishers or registered in this tenant")
		}
		for _, k := range mine(app) {
			p := d.grants[k]
			var risky []string
			for v, s := range p.scopes {
				if !p.resource.classifiedLow(s) {
					risky = append(risky, v)
				}
			}
			if len(risky) > 0 {
				slices.Sort(risky)
				return &Error{Code: ErrAdminConsentRequired, ClientAppID: k.client, ResourceAppID: k.resource, Scopes: risky,
					Reason: "users may consent only to permissions classified low"}
			}
		}
	}
	return nil
}

// level is the user consent the caller has for self on behalf of app: the
// tenant's policy, raised to all for administrators who could consent
// tenant-wide and for Application Developers owning app.
func (d *decider) level(app application.Application) tenant.UserConsent {
	c := d.r.Caller
	if tenant.CanGrantTenantWide(c, false) == nil {
		return tenant.UserConsentAll
	}
	if c.Roles.Has(tenant.RoleApplicationDeveloper) && slices.Contains(app.Owners, c.User.ID) {
		return tenant.UserConsentAll
	}
	return d.r.Tenant.Policy.UserConsent()
}

func verifiedPublisher(app application.Application) bool {
	return app.VerifiedPublisher != nil && app.VerifiedPublisher.VerifiedPublisherID != ""
}

func forbiddenError(clientAppID string, err error) error {
	reason := err.Error()
	var fe *tenant.ForbiddenError
	if errors.As(err, &fe) {
		reason = fe.Reason
	}
	return &Error{Code: tenant.ErrForbidden, ClientAppID: clientAppID, Reason: reason}
}

func (p *pending) scopeValues() []string { return sortedKeys(p.scopes) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (d *decider) decision() Decision {
	dec := Decision{ConsentType: Principal}
	if d.r.TenantWide {
		dec.ConsentType = AllPrincipals
	}
	provision := []string{d.r.Client.AppID}
	for _, api := range d.combined {
		provision = append(provision, api.AppID)
	}
	for _, k := range d.keys() {
		p := d.grants[k]
		provision = append(provision, k.resource)
		if len(p.scopes) > 0 {
			dec.Delegated = append(dec.Delegated, DelegatedGrant{ClientAppID: k.client, ResourceAppID: k.resource, Scopes: p.scopeValues()})
		}
		var roles []RoleGrant
		for _, role := range p.roles {
			roles = append(roles, RoleGrant{ClientAppID: k.client, ResourceAppID: k.resource, AppRoleID: role.ID, Value: role.Value})
		}
		slices.SortFunc(roles, func(a, b RoleGrant) int {
			if c := strings.Compare(a.Value, b.Value); c != 0 {
				return c
			}
			return strings.Compare(a.AppRoleID, b.AppRoleID)
		})
		dec.AppRoles = append(dec.AppRoles, roles...)
	}
	slices.Sort(provision)
	dec.Provision = slices.Compact(provision)
	if len(d.session) > 0 || d.r.TenantWide {
		// Consent to any sign-in scope is consent to sign in: Entra's
		// first consent records the basic sign-in set, so a later request
		// for another of them (MSAL always adds openid profile
		// offline_access) needs no new prompt. An administrator's consent
		// on behalf of the organization lets every user sign in.
		dec.SignIn = slices.Clone(BasicSignInScopes)
	}
	return dec
}

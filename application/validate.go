package application

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenantry/tenantry/internal/guid"
)

// Limits Entra enforces on an application object
// (https://learn.microsoft.com/entra/identity-platform/supported-accounts-validation,
// https://learn.microsoft.com/entra/identity-platform/reference-microsoft-graph-app-manifest).
const (
	maxDisplayNameOrg = 120
	// maxCredentialDisplayName bounds a credential's displayName, which
	// Graph leaves unbounded: caller input is bounded before it is stored.
	maxCredentialDisplayName     = 256
	maxDisplayNamePersonal       = 90
	maxDescription               = 1024
	maxTag                       = 256
	maxIdentifierURIOrg          = 255
	maxIdentifierURIPersonal     = 120
	maxIdentifierURIsPersonal    = 50
	maxLogoutURL                 = 255
	maxPermissionValue           = 120
	maxScopeValuePersonal        = 40
	maxScopesPersonal            = 100
	maxRolesAndScopes            = 700
	maxPreAuthorizedPersonal     = 100
	maxPreAuthScopesPersonal     = 30
	maxPreAuthTotalPersonal      = 500
	maxResourceApps              = 50
	maxResourcePermsOrg          = 400
	maxResourcePermsPersonal     = 200
	maxPermsPerResourcePersonal  = 30
	maxPasswordsPersonal         = 2
	maxHint                      = 3
	maxFederatedCredentials      = 20
	maxFederatedField            = 600
	maxManifestCollectionEntries = 1200
)

// ValidationContext is what Validate needs to know about the application's
// home tenant.
type ValidationContext struct {
	// TenantID is the home tenant. When set, the application's tenantId
	// must equal it; when empty, the application's own tenantId is used to
	// check identifierUris of the api://{tenantId}/… forms.
	TenantID string
	// VerifiedDomains are the verified and initial domains of the home
	// tenant (e.g. "contoso.com", "contoso.onmicrosoft.com"). identifierUris
	// that name a host must use one of them or a subdomain of one.
	VerifiedDomains []string
	// Now, when not zero, is the current time: createdDateTime and
	// deletedDateTime must not lie after it.
	Now time.Time
}

// Validate checks a against Entra's rules for application objects and
// returns every violation, joined with errors.Join, as *FieldError
// values whose Field is the Graph property path ("web.redirectUris[2]",
// "api.oauth2PermissionScopes[1].value", "appRoles[0].id"). The result
// matches ErrInvalid with errors.Is; it is nil when a is valid.
//
// The rules are those of the Microsoft identity platform for the
// application's signInAudience: GUID ids; lengths of names and values;
// identifierUris in one of the accepted App ID URI forms
// (https://learn.microsoft.com/entra/identity-platform/reference-microsoft-graph-app-manifest#identifieruris-attribute);
// redirect URIs per platform (see ValidateRedirectURI) and their count;
// scopes and app roles (charset, uniqueness, the shared 700-definition cap);
// requiredResourceAccess limits; credentials (GUID key ids, validity window,
// no stored secret text, parseable certificates, federated credential
// rules); and the stricter limits of personal-account audiences. Rules that
// compare an object with its previous version are in ValidateChange.
func (a Application) Validate(ctx ValidationContext) error {
	v := &validator{
		app:      a,
		personal: isPersonal(a.SignInAudience),
		tenantID: ctx.TenantID,
		domains:  normalizeDomains(ctx.VerifiedDomains),
	}
	if v.tenantID == "" {
		v.tenantID = a.TenantID
	}
	v.identity(ctx)
	v.names()
	v.identifierURIs()
	v.redirectURIs()
	v.web()
	v.api()
	v.appRoles()
	v.rolesAndScopes()
	v.requiredResourceAccess()
	v.passwordCredentials()
	v.keyCredentials()
	v.federatedIdentityCredentials()
	v.claims()
	v.manifestTotal()
	v.owners()
	v.dates(ctx.Now)
	return errors.Join(v.errs...)
}

type validator struct {
	app      Application
	personal bool
	tenantID string
	domains  []string
	errs     []error
	keyIDs   uniq // lower-cased keyIds of password and key credentials
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) guid(field, s string) bool {
	if !guid.Valid(s) {
		v.add(field, "must be a GUID, not %q", truncate(s))
		return false
	}
	return true
}

func (v *validator) maxLen(field, s string, n int) {
	if c := utf8.RuneCountInString(s); c > n {
		v.add(field, "has %d characters, more than %d", c, n)
	}
}

// uniq reports the second and later occurrences of keys, naming the first.
type uniq map[string]string

func (u uniq) check(v *validator, field, key string) bool {
	if first, dup := u[key]; dup {
		v.add(field, "duplicates %s", first)
		return false
	}
	u[key] = field
	return true
}

func (v *validator) identity(ctx ValidationContext) {
	a := v.app
	v.guid("id", a.ID)
	v.guid("appId", a.AppID)
	if v.guid("tenantId", a.TenantID) && ctx.TenantID != "" && !strings.EqualFold(a.TenantID, ctx.TenantID) {
		v.add("tenantId", "is %s, but the home tenant is %s", a.TenantID, ctx.TenantID)
	}
	switch a.SignInAudience {
	case AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount, PersonalMicrosoftAccount:
	default:
		v.add("signInAudience", "must be AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount or PersonalMicrosoftAccount, not %q", truncate(a.SignInAudience))
	}
}

func (v *validator) names() {
	a := v.app
	if strings.TrimSpace(a.DisplayName) == "" {
		v.add("displayName", "is required")
	} else if v.personal {
		v.maxLen("displayName", a.DisplayName, maxDisplayNamePersonal)
	} else {
		v.maxLen("displayName", a.DisplayName, maxDisplayNameOrg)
	}
	v.maxLen("description", a.Description, maxDescription)
	seen := uniq{}
	for i, t := range a.Tags {
		f := fmt.Sprintf("tags[%d]", i)
		switch {
		case t == "":
			v.add(f, "is empty")
		case utf8.RuneCountInString(t) > maxTag:
			v.add(f, "has more than %d characters", maxTag)
		case hasSpaceOrControl(t):
			v.add(f, "must not contain whitespace")
		default:
			seen.check(v, f, t)
		}
	}
	switch a.GroupMembershipClaims {
	case "", "None", "SecurityGroup", "All", "DirectoryRole", "ApplicationGroup":
	default:
		v.add("groupMembershipClaims", "must be None, SecurityGroup, All, DirectoryRole or ApplicationGroup, not %q", truncate(a.GroupMembershipClaims))
	}
}

func (v *validator) identifierURIs() {
	uris := v.app.IdentifierURIs
	if v.personal && len(uris) > maxIdentifierURIsPersonal {
		v.add("identifierUris", "has %d URIs; personal-account audiences allow at most %d", len(uris), maxIdentifierURIsPersonal)
	}
	seen := uniq{}
	for i, u := range uris {
		f := fmt.Sprintf("identifierUris[%d]", i)
		if reason := identifierURIProblem(u, v.personal, v.app.AppID, v.tenantID, v.domains); reason != "" {
			v.add(f, "%s", reason)
			continue
		}
		seen.check(v, f, strings.ToLower(u))
	}
}

// identifierURIProblem checks one App ID URI against the accepted forms:
//
//	api://{appId}
//	api://{tenantId}/{string}            (includes api://{tenantId}/{appId})
//	api://{string}/{appId}
//	api://{verifiedDomain or sub.verifiedDomain}/{string}
//	https://{verifiedDomain}/{string}
//	https://{sub}.{verifiedDomain}[/{string}]
//	urn:{string}                          (org audiences only)
func identifierURIProblem(u string, personal bool, appID, tenantID string, domains []string) string {
	if u == "" {
		return "is empty"
	}
	if n := utf8.RuneCountInString(u); personal && n > maxIdentifierURIPersonal {
		return fmt.Sprintf("has %d characters; personal-account audiences allow at most %d", n, maxIdentifierURIPersonal)
	} else if n > maxIdentifierURIOrg {
		return fmt.Sprintf("has %d characters, more than %d", n, maxIdentifierURIOrg)
	}
	if hasSpaceOrControl(u) {
		return "contains whitespace or control characters"
	}
	if strings.Contains(u, "*") {
		return "must not contain a wildcard"
	}
	if strings.HasSuffix(u, "/") {
		return "must not end with /"
	}
	base := u
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		if personal {
			return "must not have a query or fragment for personal-account audiences"
		}
		base = u[:i]
		if strings.HasSuffix(base, "/") {
			return "must not end with / before its query or fragment"
		}
	}
	if _, err := url.Parse(u); err != nil {
		return "is not a valid URI"
	}
	scheme, rest, _ := strings.Cut(base, ":")
	const forms = "must be api://{appId}, api://{tenantId}/{string}, api://{string}/{appId}, api://{verifiedDomain}/{string} or https://{verifiedDomain}/{string}"
	switch strings.ToLower(scheme) {
	case "urn":
		if personal {
			return "urn: URIs are not allowed for personal-account audiences"
		}
		if rest == "" {
			return "urn: needs a name"
		}
		return ""
	case "api":
		host, path, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "/")
		switch {
		case !strings.HasPrefix(rest, "//") || host == "":
			return forms
		case strings.ContainsAny(host, "@:"):
			return "must not carry user info or a port"
		case guid.Valid(host):
			switch {
			case strings.EqualFold(host, appID):
				if path == "" || strings.EqualFold(path, appID) {
					return ""
				}
				return "api://{appId} takes no path; use api://{tenantId}/{string} or a verified domain"
			case strings.EqualFold(host, tenantID):
				if path == "" {
					return "api://{tenantId} needs a path, as in api://{tenantId}/{appId}"
				}
				return ""
			default:
				return "the GUID after api:// must be the appId or the tenantId"
			}
		case !validHostname(host):
			return "has an invalid host"
		case guid.Valid(path) && strings.EqualFold(path, appID):
			return "" // api://{string}/{appId}
		case !domainMatch(host, domains, true):
			return "the host after api:// must be a verified domain of the tenant (or the path must be the appId)"
		case path == "":
			return "api://{domain} needs a path, as in api://contoso.com/api"
		}
		return ""
	case "https":
		host, path, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "/")
		switch {
		case !strings.HasPrefix(rest, "//") || host == "":
			return forms
		case strings.ContainsAny(host, "@:"):
			return "must not carry user info or a port"
		case !validHostname(host):
			return "has an invalid host"
		case domainMatch(host, domains, false):
			if path == "" {
				return "https://{domain} needs a path, as in https://contoso.com/api"
			}
			return ""
		case domainMatch(host, domains, true):
			return "" // https://{sub}.{domain}[/{string}]
		default:
			return "the host must be a verified domain of the tenant or a subdomain of one"
		}
	}
	if personal {
		return forms
	}
	return forms + ", or urn:{string}"
}

// domainMatch reports whether host is one of domains or, with sub, a
// subdomain of one.
func domainMatch(host string, domains []string, sub bool) bool {
	host = strings.ToLower(host)
	for _, d := range domains {
		if host == d || sub && strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

func normalizeDomains(ds []string) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

func (v *validator) redirectURIs() {
	limit := maxRedirectURIsOrg
	if v.personal {
		limit = maxRedirectURIsPersonal
	}
	var counts []collectionCount
	for _, p := range []RedirectURIPlatform{PlatformWeb, PlatformSPA, PlatformPublic} {
		uris := v.app.RedirectURIsOf(p)
		counts = append(counts, collectionCount{string(p) + ".redirectUris", len(uris)})
		seen := uniq{}
		for i, u := range uris {
			f := fmt.Sprintf("%s.redirectUris[%d]", p, i)
			if reason := redirectURIProblem(p, u, v.app.SignInAudience); reason != "" {
				v.add(f, "%s", reason)
				continue
			}
			seen.check(v, f, redirectKey(u))
		}
	}
	if field, total := largest(counts); total > limit {
		v.add(field, "is part of %d redirect URIs over all platforms; at most %d are allowed for %s", total, limit, v.app.SignInAudience)
	}
}

// collectionCount is the number of entries of the collection at field.
type collectionCount struct {
	field string
	n     int
}

// largest returns the field of the largest collection (the first, on a
// tie), which a cap on the sum names, and the sum.
func largest(cs []collectionCount) (field string, total int) {
	most := -1
	for _, c := range cs {
		total += c.n
		if c.n > most {
			field, most = c.field, c.n
		}
	}
	return field, total
}

// redirectKey is the form in which two redirect URIs count as duplicates:
// scheme and host case-folded, everything else exact.
func redirectKey(u string) string {
	p, _ := splitURI(u)
	return strings.ToLower(p.scheme) + "\x00" + strings.ToLower(p.host) + "\x00" + p.port + "\x00" + p.path + "\x00" + fmt.Sprint(p.hasQuery) + p.query
}

func (v *validator) web() {
	w := v.app.Web
	if w == nil {
		return
	}
	if w.LogoutURL != "" {
		u, err := url.Parse(w.LogoutURL)
		switch {
		case utf8.RuneCountInString(w.LogoutURL) > maxLogoutURL:
			v.add("web.logoutUrl", "has more than %d characters", maxLogoutURL)
		case err != nil || hasSpaceOrControl(w.LogoutURL) || u.Host == "" || u.User != nil:
			v.add("web.logoutUrl", "must be an absolute https URL")
		case !strings.EqualFold(u.Scheme, "https"):
			v.add("web.logoutUrl", "must use https")
		case v.personal && strings.Contains(w.LogoutURL, "*"):
			v.add("web.logoutUrl", "must not contain a wildcard for personal-account audiences")
		}
	}
	if w.HomePageURL != "" {
		u, err := url.Parse(w.HomePageURL)
		if err != nil || hasSpaceOrControl(w.HomePageURL) || u.Host == "" || !strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http") {
			v.add("web.homePageUrl", "must be an absolute http or https URL")
		}
	}
}

func (v *validator) api() {
	api := v.app.API
	if api == nil || api.RequestedAccessTokenVersion == nil {
		if v.personal {
			v.add("api.requestedAccessTokenVersion", "must be 2 for %s applications", v.app.SignInAudience)
		}
	} else if ver := *api.RequestedAccessTokenVersion; ver != 1 && ver != 2 {
		v.add("api.requestedAccessTokenVersion", "must be 1, 2 or null, not %d", ver)
	} else if v.personal && ver != 2 {
		v.add("api.requestedAccessTokenVersion", "must be 2 for %s applications", v.app.SignInAudience)
	}
	if api == nil {
		return
	}
	known := uniq{}
	for i, id := range api.KnownClientApplications {
		f := fmt.Sprintf("api.knownClientApplications[%d]", i)
		if v.guid(f, id) {
			known.check(v, f, strings.ToLower(id))
		}
	}

	scopes := api.OAuth2PermissionScopes
	if v.personal && len(scopes) > maxScopesPersonal {
		v.add("api.oauth2PermissionScopes", "has %d scopes; personal-account audiences allow at most %d", len(scopes), maxScopesPersonal)
	}
	maxValue := maxPermissionValue
	if v.personal {
		maxValue = maxScopeValuePersonal
	}
	ids, values := uniq{}, uniq{}
	scopeIDs := map[string]bool{}
	for i, s := range scopes {
		f := fmt.Sprintf("api.oauth2PermissionScopes[%d]", i)
		if v.guid(f+".id", s.ID) {
			ids.check(v, f+".id", strings.ToLower(s.ID))
			scopeIDs[strings.ToLower(s.ID)] = true
		}
		if s.Value == "" {
			v.add(f+".value", "is required")
		} else if reason := permissionValueProblem(s.Value, maxValue); reason != "" {
			v.add(f+".value", "%s", reason)
		} else {
			values.check(v, f+".value", strings.ToLower(s.Value))
		}
		if s.Type != ScopeTypeUser && s.Type != ScopeTypeAdmin {
			v.add(f+".type", "must be User or Admin, not %q", truncate(s.Type))
		}
	}

	pre := api.PreAuthorizedApplications
	if v.personal && len(pre) > maxPreAuthorizedPersonal {
		v.add("api.preAuthorizedApplications", "has %d clients; personal-account audiences allow at most %d", len(pre), maxPreAuthorizedPersonal)
	}
	clients, total := uniq{}, 0
	for i, p := range pre {
		f := fmt.Sprintf("api.preAuthorizedApplications[%d]", i)
		if v.guid(f+".appId", p.AppID) {
			clients.check(v, f+".appId", strings.ToLower(p.AppID))
		}
		if v.personal && len(p.DelegatedPermissionIDs) > maxPreAuthScopesPersonal {
			v.add(f+".delegatedPermissionIds", "has %d scopes; personal-account audiences allow at most %d per client", len(p.DelegatedPermissionIDs), maxPreAuthScopesPersonal)
		}
		total += len(p.DelegatedPermissionIDs)
		perms := uniq{}
		for j, id := range p.DelegatedPermissionIDs {
			fj := fmt.Sprintf("%s.delegatedPermissionIds[%d]", f, j)
			if !v.guid(fj, id) {
				continue
			}
			if !scopeIDs[strings.ToLower(id)] {
				v.add(fj, "%s is not the id of a scope in api.oauth2PermissionScopes", id)
				continue
			}
			perms.check(v, fj, strings.ToLower(id))
		}
	}
	if v.personal && total > maxPreAuthTotalPersonal {
		v.add("api.preAuthorizedApplications", "pre-authorize %d scopes in all; personal-account audiences allow at most %d", total, maxPreAuthTotalPersonal)
	}
}

// permissionValueProblem checks the value of a scope or app role: the
// characters 0-9 A-Z a-z and : ! # $ % & ' ( ) * + , - . / ; < = > ? @ [ ] ^ _ ` { | } ~,
// not starting with ".", at most limit characters.
func permissionValueProblem(s string, limit int) string {
	if n := utf8.RuneCountInString(s); n > limit {
		return fmt.Sprintf("has %d characters, more than %d", n, limit)
	}
	if strings.HasPrefix(s, ".") {
		return "must not start with ."
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || strings.IndexByte(":!#$%&'()*+,-./;<=>?@[]^_`{|}~", c) >= 0 {
			continue
		}
		if c == ' ' {
			return "must not contain spaces"
		}
		return fmt.Sprintf("contains %q; allowed are 0-9 A-Z a-z and : ! # $ %% & ' ( ) * + , - . / ; < = > ? @ [ ] ^ _ ` { | } ~", string(rune(c)))
	}
	return ""
}

func (v *validator) appRoles() {
	roles := v.app.AppRoles
	if v.personal && len(roles) > 0 {
		v.add("appRoles", "are not supported for %s applications", v.app.SignInAudience)
	}
	ids, values := uniq{}, uniq{}
	for i, r := range roles {
		f := fmt.Sprintf("appRoles[%d]", i)
		if v.guid(f+".id", r.ID) {
			ids.check(v, f+".id", strings.ToLower(r.ID))
		}
		if len(r.AllowedMemberTypes) == 0 {
			v.add(f+".allowedMemberTypes", "must list User, Application or both")
		}
		types := uniq{}
		for j, t := range r.AllowedMemberTypes {
			fj := fmt.Sprintf("%s.allowedMemberTypes[%d]", f, j)
			if t != MemberTypeUser && t != MemberTypeApplication {
				v.add(fj, "must be User or Application, not %q", truncate(t))
				continue
			}
			types.check(v, fj, t)
		}
		if r.Value != "" {
			if reason := permissionValueProblem(r.Value, maxPermissionValue); reason != "" {
				v.add(f+".value", "%s", reason)
			} else {
				values.check(v, f+".value", strings.ToLower(r.Value))
			}
		}
		if strings.TrimSpace(r.DisplayName) == "" {
			v.add(f+".displayName", "is required")
		}
	}
}

// rolesAndScopes applies the rules that span appRoles and
// api.oauth2PermissionScopes. Entra treats a role and a scope with the same
// id as one definition exposed twice, so their value, names and isEnabled
// must agree; a value may be shared only by such a pair (observed:
// MicrosoftDocs/azure-docs#81899).
func (v *validator) rolesAndScopes() {
	scopes := v.app.Scopes()
	if field, n := largest([]collectionCount{{"appRoles", len(v.app.AppRoles)}, {"api.oauth2PermissionScopes", len(scopes)}}); n > maxRolesAndScopes {
		v.add(field, "is part of %d definitions in appRoles and api.oauth2PermissionScopes together; at most %d are allowed", n, maxRolesAndScopes)
	}
	byID, byValue := map[string]int{}, map[string]int{}
	for j := len(scopes) - 1; j >= 0; j-- { // the first scope wins
		byID[strings.ToLower(scopes[j].ID)] = j
		byValue[strings.ToLower(scopes[j].Value)] = j
	}
	for i, r := range v.app.AppRoles {
		twin := -1
		if j, ok := byID[strings.ToLower(r.ID)]; ok && r.ID != "" {
			twin = j
			s := scopes[j]
			if r.Value != s.Value || r.DisplayName != s.AdminConsentDisplayName || r.Description != s.AdminConsentDescription || r.IsEnabled != s.IsEnabled {
				v.add(fmt.Sprintf("appRoles[%d].id", i), "is also the id of api.oauth2PermissionScopes[%d]; a role and a scope sharing an id must have the same value, displayName/adminConsentDisplayName, description/adminConsentDescription and isEnabled", j)
			}
		}
		if j, ok := byValue[strings.ToLower(r.Value)]; ok && r.Value != "" && j != twin {
			v.add(fmt.Sprintf("appRoles[%d].value", i), "is also the value of api.oauth2PermissionScopes[%d]", j)
		}
	}
}

func (v *validator) requiredResourceAccess() {
	rra := v.app.RequiredResourceAccess
	if len(rra) > maxResourceApps {
		v.add("requiredResourceAccess", "lists %d resource apps, more than %d", len(rra), maxResourceApps)
	}
	apps, total := uniq{}, 0
	for i, r := range rra {
		f := fmt.Sprintf("requiredResourceAccess[%d]", i)
		if v.guid(f+".resourceAppId", r.ResourceAppID) {
			apps.check(v, f+".resourceAppId", strings.ToLower(r.ResourceAppID))
		}
		if v.personal && len(r.ResourceAccess) > maxPermsPerResourcePersonal {
			v.add(f+".resourceAccess", "has %d permissions; personal-account audiences allow at most %d per API", len(r.ResourceAccess), maxPermsPerResourcePersonal)
		}
		total += len(r.ResourceAccess)
		perms := uniq{}
		for j, ra := range r.ResourceAccess {
			fj := fmt.Sprintf("%s.resourceAccess[%d]", f, j)
			okID := v.guid(fj+".id", ra.ID)
			okType := ra.Type == AccessScope || ra.Type == AccessRole
			if !okType {
				v.add(fj+".type", "must be Scope or Role, not %q", truncate(ra.Type))
			}
			if okID && okType {
				perms.check(v, fj, strings.ToLower(ra.ID)+"/"+ra.Type)
			}
		}
	}
	limit := maxResourcePermsOrg
	if v.personal {
		limit = maxResourcePermsPersonal
	}
	if total > limit {
		v.add("requiredResourceAccess", "requests %d permissions in all, more than %d", total, limit)
	}
}

// keyID checks a credential's keyId: a GUID unique among password and key
// credentials.
func (v *validator) keyID(field, id string) {
	if !v.guid(field, id) {
		return
	}
	if v.keyIDs == nil {
		v.keyIDs = uniq{}
	}
	v.keyIDs.check(v, field, strings.ToLower(id))
}

func (v *validator) passwordCredentials() {
	creds := v.app.PasswordCredentials
	if v.personal && len(creds) > maxPasswordsPersonal {
		v.add("passwordCredentials", "has %d secrets; personal-account audiences allow at most %d", len(creds), maxPasswordsPersonal)
	}
	for i, p := range creds {
		f := fmt.Sprintf("passwordCredentials[%d]", i)
		v.keyID(f+".keyId", p.KeyID)
		v.maxLen(f+".displayName", p.DisplayName, maxCredentialDisplayName)
		if !p.EndDateTime.After(p.StartDateTime) {
			v.add(f+".endDateTime", "must be after startDateTime")
		}
		if p.SecretText != "" {
			v.add(f+".secretText", "must not be stored; the secret is returned once and only its hash is kept (see PasswordCredential.Stored)")
		}
		if utf8.RuneCountInString(p.Hint) > maxHint {
			v.add(f+".hint", "has more than %d characters", maxHint)
		}
		if h := p.SecretHash; h != nil && (len(h.Salt) == 0 || len(h.Digest) != 32) {
			v.add(f+".secretHash", "must have a salt and a 32-byte SHA-256 digest")
		}
	}
}

func (v *validator) keyCredentials() {
	for i, k := range v.app.KeyCredentials {
		f := fmt.Sprintf("keyCredentials[%d]", i)
		v.keyID(f+".keyId", k.KeyID)
		v.maxLen(f+".displayName", k.DisplayName, maxCredentialDisplayName)
		switch k.Type {
		case KeyTypeX509, KeyTypeSymmetric, "X509CertAndPassword":
		default:
			v.add(f+".type", "must be AsymmetricX509Cert, X509CertAndPassword or Symmetric, not %q", truncate(k.Type))
		}
		switch k.Usage {
		case KeyUsageVerify, KeyUsageSign, "Encrypt":
		default:
			v.add(f+".usage", "must be Verify, Sign or Encrypt, not %q", truncate(k.Usage))
		}
		if !k.EndDateTime.After(k.StartDateTime) {
			v.add(f+".endDateTime", "must be after startDateTime")
		}
		if k.Type != KeyTypeX509 {
			if len(k.Key) == 0 {
				v.add(f+".key", "is required")
			}
			continue
		}
		cert, err := x509.ParseCertificate(k.Key)
		if err != nil {
			v.add(f+".key", "must be a DER X.509 certificate: %v", err)
			continue
		}
		if k.StartDateTime.Before(cert.NotBefore) {
			v.add(f+".startDateTime", "is before the certificate's notBefore %s", cert.NotBefore.UTC().Format(time.RFC3339))
		}
		if k.EndDateTime.After(cert.NotAfter) {
			v.add(f+".endDateTime", "is after the certificate's notAfter %s", cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	if id := v.app.TokenEncryptionKeyID; id != "" && v.guid("tokenEncryptionKeyId", id) {
		found := false
		for _, k := range v.app.KeyCredentials {
			found = found || strings.EqualFold(k.KeyID, id)
		}
		if !found {
			v.add("tokenEncryptionKeyId", "%s is not the keyId of a keyCredential", id)
		}
	}
}

func (v *validator) federatedIdentityCredentials() {
	fics := v.app.FederatedIdentityCredentials
	if len(fics) > maxFederatedCredentials {
		v.add("federatedIdentityCredentials", "has %d credentials, more than %d", len(fics), maxFederatedCredentials)
	}
	ids, names, pairs := uniq{}, uniq{}, uniq{}
	for i, c := range fics {
		f := fmt.Sprintf("federatedIdentityCredentials[%d]", i)
		if v.guid(f+".id", c.ID) {
			ids.check(v, f+".id", strings.ToLower(c.ID))
		}
		if !validFICName(c.Name) {
			v.add(f+".name", "must have 3 to 120 characters: letters, digits, - and _, starting with a letter or digit")
		} else {
			names.check(v, f+".name", strings.ToLower(c.Name))
		}
		okIssuer := false
		switch {
		case c.Issuer == "":
			v.add(f+".issuer", "is required")
		case utf8.RuneCountInString(c.Issuer) > maxFederatedField:
			v.add(f+".issuer", "has more than %d characters", maxFederatedField)
		case strings.TrimSpace(c.Issuer) != c.Issuer:
			v.add(f+".issuer", "must not have leading or trailing whitespace")
		default:
			okIssuer = true
		}
		switch {
		case c.Subject == "":
			v.add(f+".subject", "is required")
		case utf8.RuneCountInString(c.Subject) > maxFederatedField:
			v.add(f+".subject", "has more than %d characters", maxFederatedField)
		case okIssuer:
			pairs.check(v, f+".subject", c.Issuer+"\x00"+c.Subject)
		}
		if len(c.Audiences) != 1 {
			v.add(f+".audiences", "must have exactly one value, not %d", len(c.Audiences))
		} else if c.Audiences[0] == "" {
			v.add(f+".audiences[0]", "is empty")
		} else {
			v.maxLen(f+".audiences[0]", c.Audiences[0], maxFederatedField)
		}
		v.maxLen(f+".description", c.Description, maxFederatedField)
	}
}

func (v *validator) claims() {
	oc := v.app.OptionalClaims
	if oc == nil {
		return
	}
	if len(oc.IDToken)+len(oc.AccessToken)+len(oc.SAML2Token) > 0 && v.app.SignInAudience == AzureADandPersonalMicrosoftAccount {
		v.add("optionalClaims", "are not supported for AzureADandPersonalMicrosoftAccount applications")
	}
	for _, l := range []struct {
		name   string
		claims []OptionalClaim
	}{{"idToken", oc.IDToken}, {"accessToken", oc.AccessToken}, {"saml2Token", oc.SAML2Token}} {
		for i, c := range l.claims {
			if strings.TrimSpace(c.Name) == "" {
				v.add(fmt.Sprintf("optionalClaims.%s[%d].name", l.name, i), "is required")
			}
		}
	}
}

// manifestTotal applies the cap on all collection entries together, naming
// the largest collection.
func (v *validator) manifestTotal() {
	a := v.app
	var api API
	if a.API != nil {
		api = *a.API
	}
	field, total := largest([]collectionCount{
		{"identifierUris", len(a.IdentifierURIs)},
		{"web.redirectUris", len(a.RedirectURIsOf(PlatformWeb))},
		{"spa.redirectUris", len(a.RedirectURIsOf(PlatformSPA))},
		{"publicClient.redirectUris", len(a.RedirectURIsOf(PlatformPublic))},
		{"appRoles", len(a.AppRoles)},
		{"api.oauth2PermissionScopes", len(api.OAuth2PermissionScopes)},
		{"api.knownClientApplications", len(api.KnownClientApplications)},
		{"api.preAuthorizedApplications", len(api.PreAuthorizedApplications)},
		{"requiredResourceAccess", len(a.RequiredResourceAccess)},
		{"keyCredentials", len(a.KeyCredentials)},
		{"passwordCredentials", len(a.PasswordCredentials)},
	})
	if total > maxManifestCollectionEntries {
		v.add(field, "is part of %d entries in the collections of the application; at most %d are allowed", total, maxManifestCollectionEntries)
	}
}

func (v *validator) owners() {
	seen := uniq{}
	for i, o := range v.app.Owners {
		f := fmt.Sprintf("owners[%d]", i)
		if v.guid(f, o) {
			seen.check(v, f, strings.ToLower(o))
		}
	}
}

func (v *validator) dates(now time.Time) {
	a := v.app
	if d := a.DeletedDateTime; d != nil && d.Before(a.CreatedDateTime) {
		v.add("deletedDateTime", "is before createdDateTime")
	}
	if now.IsZero() {
		return
	}
	if a.CreatedDateTime.After(now) {
		v.add("createdDateTime", "is in the future")
	}
	if d := a.DeletedDateTime; d != nil && d.After(now) {
		v.add("deletedDateTime", "is in the future")
	}
}

// ValidateChange checks the transition of one application from old to
// updated: the fields Entra never changes (id, appId, tenantId,
// createdDateTime, and the name of a federated identity credential, which is
// immutable for its id), and the rule that a scope or app role must be
// disabled (isEnabled=false) in one update before another update removes it
// (https://learn.microsoft.com/graph/api/resources/approle). Violations are
// *FieldError values joined with errors.Join; updated itself is
// checked by Validate.
func ValidateChange(old, updated Application) error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if old.ID != updated.ID {
		add("id", "is read-only")
	}
	if old.AppID != updated.AppID {
		add("appId", "is read-only")
	}
	if old.TenantID != updated.TenantID {
		add("tenantId", "is read-only")
	}
	if !old.CreatedDateTime.Equal(updated.CreatedDateTime) {
		add("createdDateTime", "is read-only")
	}
	oldNames := map[string][]string{} // id -> names (one, unless ids repeat)
	for _, c := range old.FederatedIdentityCredentials {
		if c.ID != "" {
			id := strings.ToLower(c.ID)
			oldNames[id] = append(oldNames[id], c.Name)
		}
	}
	for i, c := range updated.FederatedIdentityCredentials {
		names, ok := oldNames[strings.ToLower(c.ID)]
		if ok && c.ID != "" && !slices.Contains(names, c.Name) {
			add(fmt.Sprintf("federatedIdentityCredentials[%d].name", i), "is immutable (was %q)", names[0])
		}
	}
	newScopes := map[string]bool{}
	for _, s := range updated.Scopes() {
		newScopes[strings.ToLower(s.ID)] = true
	}
	for _, s := range old.Scopes() {
		if s.IsEnabled && !newScopes[strings.ToLower(s.ID)] {
			add("api.oauth2PermissionScopes", "removes the enabled scope %s (%q); set isEnabled to false first, then remove it", s.ID, s.Value)
		}
	}
	newRoles := map[string]bool{}
	for _, r := range updated.AppRoles {
		newRoles[strings.ToLower(r.ID)] = true
	}
	for _, r := range old.AppRoles {
		if r.IsEnabled && !newRoles[strings.ToLower(r.ID)] {
			add("appRoles", "removes the enabled app role %s (%q); set isEnabled to false first, then remove it", r.ID, r.Value)
		}
	}
	return errors.Join(errs...)
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	for i := limit; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

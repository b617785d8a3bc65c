package application

import (
	"maps"
	"slices"
	"time"

	"github.com/tenantry/tenantry/internal/deep"
)

// Sign-in audiences (signInAudience).
const (
	AzureADMyOrg                       = "AzureADMyOrg"
	AzureADMultipleOrgs                = "AzureADMultipleOrgs"
	AzureADandPersonalMicrosoftAccount = "AzureADandPersonalMicrosoftAccount"
	PersonalMicrosoftAccount           = "PersonalMicrosoftAccount"
)

// MicrosoftGraphAppID is the appId of Microsoft Graph; a scope without a
// resource prefix means Graph.
const MicrosoftGraphAppID = "00000003-0000-0000-c000-000000000000"

// DefaultAccessRoleID is the appRoleId of "assigned, no specific role".
const DefaultAccessRoleID = "00000000-0000-0000-0000-000000000000"

// Application is the application object of Microsoft Graph
// (https://learn.microsoft.com/graph/api/resources/application). TenantID
// (the home tenant) and Owners are carried on the object by tenantry; Graph
// serves them as the organization and the owners relationship.
type Application struct {
	// ID is the object id (Graph id, "Object ID"): a GUID, assigned by the
	// directory when empty, used only for directory queries and never
	// changed.
	ID string `json:"id"`
	// AppID is the client id (Graph appId) used in every protocol message: a
	// GUID the directory assigns (only System may supply one) and never
	// changes.
	AppID string `json:"appId"`
	// TenantID is the id of the home tenant, set by the directory on
	// creation and never changed.
	TenantID string `json:"tenantId"`
	// DisplayName is the app's name (Graph displayName): required, at most
	// 120 characters, or 90 for personal-account audiences.
	DisplayName string `json:"displayName"`
	// Description is free text of at most 1024 characters.
	Description string `json:"description,omitempty"`
	// Notes is free text about the app's management, kept as data.
	Notes string `json:"notes,omitempty"`
	// PublisherDomain is the publisher's domain, set by the directory to the
	// home tenant's default domain; callers cannot change it.
	PublisherDomain string `json:"publisherDomain,omitempty"`
	// VerifiedPublisher is the verified publisher, if any: set by
	// Directory.SetVerifiedPublisher (or by System at creation) and read by
	// consent decisions.
	VerifiedPublisher *VerifiedPublisher `json:"verifiedPublisher,omitempty"`
	// Info holds the app's informational links (Graph info).
	Info *InformationalURL `json:"info,omitempty"`
	// Tags are the app's tags: each 1 to 256 characters, without whitespace,
	// no duplicates.
	Tags []string `json:"tags,omitempty"`
	// SignInAudience is the accounts the app admits: AzureADMyOrg (the
	// default when empty on creation), AzureADMultipleOrgs,
	// AzureADandPersonalMicrosoftAccount or PersonalMicrosoftAccount.
	SignInAudience string `json:"signInAudience"`
	// IdentifierURIs are the App ID URIs (Graph identifierUris), each in one
	// of the accepted api://, https:// or urn: forms (see Validate), no
	// duplicates.
	IdentifierURIs []string `json:"identifierUris,omitempty"`
	// Web is the web platform: redirect URIs, home page, logout URL and
	// implicit grant settings.
	Web *Web `json:"web,omitempty"`
	// SPA is the single-page application platform (Graph spa): redirect URIs
	// for the authorization code flow with PKCE.
	SPA *RedirectURIs `json:"spa,omitempty"`
	// PublicClient is the public client (desktop and mobile) platform: its
	// redirect URIs.
	PublicClient *RedirectURIs `json:"publicClient,omitempty"`
	// IsFallbackPublicClient makes the app a public client when the request
	// does not say (Graph isFallbackPublicClient); the device code flow
	// requires it.
	IsFallbackPublicClient bool `json:"isFallbackPublicClient,omitempty"`
	// API describes the web API the app exposes, if it exposes one.
	API *API `json:"api,omitempty"`
	// AppRoles are the roles the app defines (not supported for
	// personal-account audiences); with the API's scopes at most 700
	// definitions.
	AppRoles []AppRole `json:"appRoles,omitempty"`
	// RequiredResourceAccess lists the permissions the app requests, per
	// resource app: at most 50 resource apps and 400 permissions in all (200
	// for personal-account audiences).
	RequiredResourceAccess []RequiredResourceAccess `json:"requiredResourceAccess,omitempty"`
	// PasswordCredentials are the app's client secrets, stored as hashes.
	PasswordCredentials []PasswordCredential `json:"passwordCredentials,omitempty"`
	// KeyCredentials are the app's certificates.
	KeyCredentials []KeyCredential `json:"keyCredentials,omitempty"`
	// FederatedIdentityCredentials are the external identities whose tokens
	// the app accepts as client assertions (at most 20).
	FederatedIdentityCredentials []FederatedIdentityCredential `json:"federatedIdentityCredentials,omitempty"`
	// OptionalClaims lists the extra claims per token type (not supported
	// for AzureADandPersonalMicrosoftAccount applications).
	OptionalClaims *OptionalClaims `json:"optionalClaims,omitempty"`
	// GroupMembershipClaims selects the groups claim: empty, None,
	// SecurityGroup, All, DirectoryRole or ApplicationGroup.
	GroupMembershipClaims string `json:"groupMembershipClaims,omitempty"`
	// Owners are the object ids of the app's owners (users or service
	// principals): GUIDs, no duplicates.
	Owners []string `json:"owners,omitempty"`
	// ExtensionProperties are the directory extensions the app defines, kept
	// as data.
	ExtensionProperties []ExtensionProperty `json:"extensionProperties,omitempty"`
	// Settings kept as data for single sign-on, provisioning and
	// application proxy: tenantry stores and returns them unchanged.
	SAMLMetadataURL string `json:"samlMetadataUrl,omitempty"`
	// ServiceManagementRef is Graph serviceManagementReference, kept as
	// data.
	ServiceManagementRef string `json:"serviceManagementReference,omitempty"`
	// DisabledByMicrosoftStatus is Graph disabledByMicrosoftStatus, kept as
	// data.
	DisabledByMicrosoftStatus string `json:"disabledByMicrosoftStatus,omitempty"`
	// TokenEncryptionKeyID is Graph tokenEncryptionKeyId: when set, the
	// keyId of one of the KeyCredentials; tenantry keeps it as data and does
	// not encrypt tokens.
	TokenEncryptionKeyID string `json:"tokenEncryptionKeyId,omitempty"`
	// DefaultRedirectURI is Graph defaultRedirectUri, kept as data.
	DefaultRedirectURI string `json:"defaultRedirectUri,omitempty"`
	// IsDeviceOnlyAuthSupported is Graph isDeviceOnlyAuthSupported, kept as
	// data.
	IsDeviceOnlyAuthSupported bool `json:"isDeviceOnlyAuthSupported,omitempty"`
	// SingleSignOn holds single sign-on settings, kept as data.
	SingleSignOn map[string]string `json:"x-singleSignOnSettings,omitempty"`
	// Provisioning holds provisioning settings, kept as data.
	Provisioning map[string]string `json:"x-provisioningSettings,omitempty"`
	// Proxy holds application proxy (onPremisesPublishing) settings, kept as
	// data.
	Proxy map[string]string `json:"x-onPremisesPublishing,omitempty"`
	// CreatedDateTime is when the app was created, set by the directory and
	// never changed; not in the future.
	CreatedDateTime time.Time `json:"createdDateTime"`
	// DeletedDateTime is when the app was soft-deleted; nil while it is
	// active.
	DeletedDateTime *time.Time `json:"deletedDateTime,omitempty"`
}

// VerifiedPublisher is the verified publisher of an app.
type VerifiedPublisher struct {
	// DisplayName is the publisher's name.
	DisplayName string `json:"displayName,omitempty"`
	// VerifiedPublisherID is the publisher's id (Partner Center id); an
	// empty id means not verified.
	VerifiedPublisherID string `json:"verifiedPublisherId,omitempty"`
	// AddedDateTime is when the publisher was verified.
	AddedDateTime *time.Time `json:"addedDateTime,omitempty"`
}

// InformationalURL holds the app's informational links shown on consent
// prompts.
type InformationalURL struct {
	// LogoURL is the URL of the app's logo.
	LogoURL string `json:"logoUrl,omitempty"`
	// MarketingURL is the URL of the app's marketing page.
	MarketingURL string `json:"marketingUrl,omitempty"`
	// PrivacyStatementURL is the URL of the privacy statement, shown on
	// consent prompts.
	PrivacyStatementURL string `json:"privacyStatementUrl,omitempty"`
	// SupportURL is the URL of the app's support page.
	SupportURL string `json:"supportUrl,omitempty"`
	// TermsOfServiceURL is the URL of the terms of service, shown on consent
	// prompts.
	TermsOfServiceURL string `json:"termsOfServiceUrl,omitempty"`
}

// Web holds the settings of a web (confidential) client.
type Web struct {
	// RedirectURIs are the web platform's redirect URIs (Graph
	// redirectUris).
	RedirectURIs []string `json:"redirectUris,omitempty"`
	// HomePageURL is the app's home page: an absolute http or https URL.
	HomePageURL string `json:"homePageUrl,omitempty"`
	// LogoutURL is where sign-out is sent: an absolute https URL of at most
	// 255 characters, without a wildcard for personal-account audiences.
	LogoutURL string `json:"logoutUrl,omitempty"`
	// ImplicitGrantSettings enable tokens from the authorize endpoint.
	ImplicitGrantSettings *ImplicitGrantSettings `json:"implicitGrantSettings,omitempty"`
}

// ImplicitGrantSettings enable tokens from the authorize endpoint.
type ImplicitGrantSettings struct {
	// EnableIDTokenIssuance is Graph enableIdTokenIssuance (an ID token from
	// the authorize endpoint), kept as data: Authorize issues codes only.
	EnableIDTokenIssuance bool `json:"enableIdTokenIssuance"`
	// EnableAccessTokenIssuance is Graph enableAccessTokenIssuance (an
	// access token from the authorize endpoint), kept as data: Authorize
	// issues codes only.
	EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
}

// RedirectURIs is the spa and publicClient platform: a list of redirect
// URIs.
type RedirectURIs struct {
	// RedirectURIs are the platform's redirect URIs (Graph redirectUris).
	RedirectURIs []string `json:"redirectUris,omitempty"`
}

// API describes the web API an application exposes.
type API struct {
	// AcceptMappedClaims (api.acceptMappedClaims; Graph's null reads as
	// false) lets the application's access tokens carry the claims a
	// claims mapping on its service principal defines. Without it a token
	// for the application is refused where its service principal has a
	// claims mapping (AADSTS50146).
	AcceptMappedClaims bool `json:"acceptMappedClaims,omitempty"`
	// KnownClientApplications are appIds of clients whose consent also
	// covers this API (combined consent): GUIDs, no duplicates.
	KnownClientApplications []string `json:"knownClientApplications,omitempty"`
	// OAuth2PermissionScopes are the delegated permissions (scopes) the API
	// publishes: at most 100 for personal-account audiences.
	OAuth2PermissionScopes []PermissionScope `json:"oauth2PermissionScopes,omitempty"`
	// PreAuthorizedApplications are clients that may use some of the API's
	// scopes without a consent prompt.
	PreAuthorizedApplications []PreAuthorizedApplication `json:"preAuthorizedApplications,omitempty"`
	// RequestedAccessTokenVersion is the format of the access tokens issued
	// for this API: 1, 2 or nil (meaning 1); it must be 2 for
	// personal-account audiences.
	RequestedAccessTokenVersion *int `json:"requestedAccessTokenVersion,omitempty"`
}

// Scope types.
const (
	ScopeTypeUser  = "User"
	ScopeTypeAdmin = "Admin"
)

// PermissionScope is a delegated permission (scope) the API publishes.
type PermissionScope struct {
	// ID is the scope's id: a GUID unique among the API's scopes.
	ID string `json:"id"`
	// Value is the scope's name as it appears in the scp claim: required,
	// unique, at most 120 characters (40 for personal-account audiences),
	// without spaces and not starting with ".".
	Value string `json:"value"`
	Type  string `json:"type"` // User or Admin
	// IsEnabled says whether the scope can be consented to and reaches
	// tokens; a scope must be disabled in one update before another removes
	// it.
	IsEnabled bool `json:"isEnabled"`
	// AdminConsentDisplayName is the scope's title on admin consent prompts.
	AdminConsentDisplayName string `json:"adminConsentDisplayName,omitempty"`
	// AdminConsentDescription is the scope's description on admin consent
	// prompts.
	AdminConsentDescription string `json:"adminConsentDescription,omitempty"`
	// UserConsentDisplayName is the scope's title on user consent prompts.
	UserConsentDisplayName string `json:"userConsentDisplayName,omitempty"`
	// UserConsentDescription is the scope's description on user consent
	// prompts.
	UserConsentDescription string `json:"userConsentDescription,omitempty"`
	// Origin is where the scope is defined: Application on a service
	// principal's copy.
	Origin string `json:"origin,omitempty"`
}

// PreAuthorizedApplication lets a client use the listed scopes without a
// consent prompt.
type PreAuthorizedApplication struct {
	// AppID is the client's appId: a GUID, listed once.
	AppID string `json:"appId"`
	// DelegatedPermissionIDs are the ids of the API's scopes the client may
	// use without consent; each must be a scope of the API.
	DelegatedPermissionIDs []string `json:"delegatedPermissionIds"`
}

// Member types of an app role.
const (
	MemberTypeUser        = "User"
	MemberTypeApplication = "Application"
)

// AppRole is a role the app defines, assignable to users/groups and/or
// client applications.
type AppRole struct {
	// ID is the role's id: a GUID unique among the app's roles.
	ID string `json:"id"`
	// AllowedMemberTypes lists who may be assigned the role: User,
	// Application or both.
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	// Value is the role's name as it appears in the roles claim: optional,
	// unique, at most 120 characters, without spaces and not starting with
	// ".".
	Value string `json:"value,omitempty"`
	// DisplayName is the role's name shown in assignment and consent
	// experiences: required.
	DisplayName string `json:"displayName"`
	// Description describes the role.
	Description string `json:"description"`
	// IsEnabled says whether the role can be assigned and reaches tokens; a
	// role must be disabled in one update before another removes it.
	IsEnabled bool `json:"isEnabled"`
	// Origin is where the role is defined: Application on a service
	// principal's copy.
	Origin string `json:"origin,omitempty"`
}

// Allows reports whether memberType (User or Application) may be assigned
// the role.
func (r AppRole) Allows(memberType string) bool {
	for _, t := range r.AllowedMemberTypes {
		if t == memberType {
			return true
		}
	}
	return false
}

// Resource access types.
const (
	AccessScope = "Scope" // delegated permission
	AccessRole  = "Role"  // application permission
)

// RequiredResourceAccess lists the permissions the app needs on one
// resource app.
type RequiredResourceAccess struct {
	// ResourceAppID is the appId of the resource app: a GUID, listed once.
	ResourceAppID string `json:"resourceAppId"`
	// ResourceAccess lists the scopes and app roles requested on the
	// resource (at most 30 for personal-account audiences).
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one required permission: a scope or an app role id.
type ResourceAccess struct {
	// ID is the id of the scope or app role.
	ID   string `json:"id"`
	Type string `json:"type"` // Scope or Role
}

// OptionalClaims lists extra claims per token type.
type OptionalClaims struct {
	// IDToken lists the optional claims of ID tokens.
	IDToken []OptionalClaim `json:"idToken,omitempty"`
	// AccessToken lists the optional claims of access tokens.
	AccessToken []OptionalClaim `json:"accessToken,omitempty"`
	// SAML2Token lists the optional claims of SAML tokens, kept as data.
	SAML2Token []OptionalClaim `json:"saml2Token,omitempty"`
}

// OptionalClaim is one optional claim.
type OptionalClaim struct {
	// Name is the claim's name: required.
	Name string `json:"name"`
	// Source is the claim's source (for example user); empty for a
	// predefined claim.
	Source string `json:"source,omitempty"`
	// Essential marks the claim as required for the client's task, kept as
	// data.
	Essential bool `json:"essential,omitempty"`
	// AdditionalProperties lists the claim's extra settings.
	AdditionalProperties []string `json:"additionalProperties,omitempty"`
}

// ExtensionProperty is a directory extension the app defines.
type ExtensionProperty struct {
	// ID is the extension's id.
	ID string `json:"id"`
	// Name is the extension's name.
	Name string `json:"name"`
	// DataType is the type of the extension's values (for example String).
	DataType string `json:"dataType"`
	// TargetObjects are the kinds of directory objects the extension applies
	// to (for example User).
	TargetObjects []string `json:"targetObjects"`
	// IsMultiValued says whether the extension holds a list of values.
	IsMultiValued bool `json:"isMultiValued,omitempty"`
}

// IsDeleted reports whether the application is soft-deleted.
func (a Application) IsDeleted() bool { return a.DeletedDateTime != nil }

// MultiTenant reports whether the audience admits other organizations.
func (a Application) MultiTenant() bool {
	return a.SignInAudience == AzureADMultipleOrgs || a.SignInAudience == AzureADandPersonalMicrosoftAccount
}

// AccessTokenVersion returns 1 or 2: the format of access tokens issued
// for this app as a resource (null means 1).
func (a Application) AccessTokenVersion() int {
	if a.API != nil && a.API.RequestedAccessTokenVersion != nil && *a.API.RequestedAccessTokenVersion == 2 {
		return 2
	}
	return 1
}

// Scopes returns the published delegated permissions.
func (a Application) Scopes() []PermissionScope {
	if a.API == nil {
		return nil
	}
	return a.API.OAuth2PermissionScopes
}

// ScopeByValue finds a published scope by its value.
func (a Application) ScopeByValue(v string) (PermissionScope, bool) {
	for _, s := range a.Scopes() {
		if s.Value == v {
			return s, true
		}
	}
	return PermissionScope{}, false
}

// ScopeByID finds a published scope by its id.
func (a Application) ScopeByID(id string) (PermissionScope, bool) {
	for _, s := range a.Scopes() {
		if s.ID == id {
			return s, true
		}
	}
	return PermissionScope{}, false
}

// RoleByID finds an app role by its id.
func (a Application) RoleByID(id string) (AppRole, bool) {
	for _, r := range a.AppRoles {
		if r.ID == id {
			return r, true
		}
	}
	return AppRole{}, false
}

// RedirectURIPlatform is where a redirect URI is registered.
type RedirectURIPlatform string

// Platforms of redirect URIs.
const (
	PlatformWeb    RedirectURIPlatform = "web"
	PlatformSPA    RedirectURIPlatform = "spa"
	PlatformPublic RedirectURIPlatform = "publicClient"
)

// RedirectURIsOf returns the redirect URIs registered for platform p.
func (a Application) RedirectURIsOf(p RedirectURIPlatform) []string {
	switch p {
	case PlatformWeb:
		if a.Web != nil {
			return a.Web.RedirectURIs
		}
	case PlatformSPA:
		if a.SPA != nil {
			return a.SPA.RedirectURIs
		}
	case PlatformPublic:
		if a.PublicClient != nil {
			return a.PublicClient.RedirectURIs
		}
	}
	return nil
}

// Equal reports whether a and o have the same properties: times are
// compared as instants (time.Time.Equal) and an empty collection equals a
// missing (nil) one, as Graph has no null collections; everything else as
// reflect.DeepEqual compares it.
func (a Application) Equal(o Application) bool { return deep.Equal(a, o) }

// Clone returns a deep copy of a.
func (a Application) Clone() Application {
	if a.VerifiedPublisher != nil {
		vp := *a.VerifiedPublisher
		vp.AddedDateTime = clonePtr(vp.AddedDateTime)
		a.VerifiedPublisher = &vp
	}
	a.Info = clonePtr(a.Info)
	a.Tags = slices.Clone(a.Tags)
	a.IdentifierURIs = slices.Clone(a.IdentifierURIs)
	if a.Web != nil {
		w := *a.Web
		w.RedirectURIs = slices.Clone(w.RedirectURIs)
		w.ImplicitGrantSettings = clonePtr(w.ImplicitGrantSettings)
		a.Web = &w
	}
	if a.SPA != nil {
		a.SPA = &RedirectURIs{RedirectURIs: slices.Clone(a.SPA.RedirectURIs)}
	}
	if a.PublicClient != nil {
		a.PublicClient = &RedirectURIs{RedirectURIs: slices.Clone(a.PublicClient.RedirectURIs)}
	}
	if a.API != nil {
		api := *a.API
		api.KnownClientApplications = slices.Clone(api.KnownClientApplications)
		api.OAuth2PermissionScopes = slices.Clone(api.OAuth2PermissionScopes)
		api.PreAuthorizedApplications = slices.Clone(api.PreAuthorizedApplications)
		for i := range api.PreAuthorizedApplications {
			api.PreAuthorizedApplications[i].DelegatedPermissionIDs = slices.Clone(api.PreAuthorizedApplications[i].DelegatedPermissionIDs)
		}
		api.RequestedAccessTokenVersion = clonePtr(api.RequestedAccessTokenVersion)
		a.API = &api
	}
	a.AppRoles = slices.Clone(a.AppRoles)
	for i := range a.AppRoles {
		a.AppRoles[i].AllowedMemberTypes = slices.Clone(a.AppRoles[i].AllowedMemberTypes)
	}
	a.RequiredResourceAccess = slices.Clone(a.RequiredResourceAccess)
	for i := range a.RequiredResourceAccess {
		a.RequiredResourceAccess[i].ResourceAccess = slices.Clone(a.RequiredResourceAccess[i].ResourceAccess)
	}
	a.PasswordCredentials = slices.Clone(a.PasswordCredentials)
	for i := range a.PasswordCredentials {
		a.PasswordCredentials[i] = a.PasswordCredentials[i].clone()
	}
	a.KeyCredentials = slices.Clone(a.KeyCredentials)
	for i := range a.KeyCredentials {
		a.KeyCredentials[i] = a.KeyCredentials[i].clone()
	}
	a.FederatedIdentityCredentials = slices.Clone(a.FederatedIdentityCredentials)
	for i := range a.FederatedIdentityCredentials {
		a.FederatedIdentityCredentials[i].Audiences = slices.Clone(a.FederatedIdentityCredentials[i].Audiences)
	}
	if a.OptionalClaims != nil {
		oc := OptionalClaims{
			IDToken:     cloneClaims(a.OptionalClaims.IDToken),
			AccessToken: cloneClaims(a.OptionalClaims.AccessToken),
			SAML2Token:  cloneClaims(a.OptionalClaims.SAML2Token),
		}
		a.OptionalClaims = &oc
	}
	a.Owners = slices.Clone(a.Owners)
	a.ExtensionProperties = slices.Clone(a.ExtensionProperties)
	for i := range a.ExtensionProperties {
		a.ExtensionProperties[i].TargetObjects = slices.Clone(a.ExtensionProperties[i].TargetObjects)
	}
	a.SingleSignOn = maps.Clone(a.SingleSignOn)
	a.Provisioning = maps.Clone(a.Provisioning)
	a.Proxy = maps.Clone(a.Proxy)
	a.DeletedDateTime = clonePtr(a.DeletedDateTime)
	return a
}

func cloneClaims(c []OptionalClaim) []OptionalClaim {
	c = slices.Clone(c)
	for i := range c {
		c[i].AdditionalProperties = slices.Clone(c[i].AdditionalProperties)
	}
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

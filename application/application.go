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
	ID                           string                        `json:"id"`
	AppID                        string                        `json:"appId"`
	TenantID                     string                        `json:"tenantId"`
	DisplayName                  string                        `json:"displayName"`
	Description                  string                        `json:"description,omitempty"`
	Notes                        string                        `json:"notes,omitempty"`
	PublisherDomain              string                        `json:"publisherDomain,omitempty"`
	VerifiedPublisher            *VerifiedPublisher            `json:"verifiedPublisher,omitempty"`
	Info                         *InformationalURL             `json:"info,omitempty"`
	Tags                         []string                      `json:"tags,omitempty"`
	SignInAudience               string                        `json:"signInAudience"`
	IdentifierURIs               []string                      `json:"identifierUris,omitempty"`
	Web                          *Web                          `json:"web,omitempty"`
	SPA                          *RedirectURIs                 `json:"spa,omitempty"`
	PublicClient                 *RedirectURIs                 `json:"publicClient,omitempty"`
	IsFallbackPublicClient       bool                          `json:"isFallbackPublicClient,omitempty"`
	API                          *API                          `json:"api,omitempty"`
	AppRoles                     []AppRole                     `json:"appRoles,omitempty"`
	RequiredResourceAccess       []RequiredResourceAccess      `json:"requiredResourceAccess,omitempty"`
	PasswordCredentials          []PasswordCredential          `json:"passwordCredentials,omitempty"`
	KeyCredentials               []KeyCredential               `json:"keyCredentials,omitempty"`
	FederatedIdentityCredentials []FederatedIdentityCredential `json:"federatedIdentityCredentials,omitempty"`
	OptionalClaims               *OptionalClaims               `json:"optionalClaims,omitempty"`
	GroupMembershipClaims        string                        `json:"groupMembershipClaims,omitempty"`
	Owners                       []string                      `json:"owners,omitempty"`
	ExtensionProperties          []ExtensionProperty           `json:"extensionProperties,omitempty"`
	// Settings kept as data for single sign-on, provisioning and
	// application proxy: tenantry stores and returns them unchanged.
	SAMLMetadataURL           string            `json:"samlMetadataUrl,omitempty"`
	ServiceManagementRef      string            `json:"serviceManagementReference,omitempty"`
	DisabledByMicrosoftStatus string            `json:"disabledByMicrosoftStatus,omitempty"`
	TokenEncryptionKeyID      string            `json:"tokenEncryptionKeyId,omitempty"`
	DefaultRedirectURI        string            `json:"defaultRedirectUri,omitempty"`
	IsDeviceOnlyAuthSupported bool              `json:"isDeviceOnlyAuthSupported,omitempty"`
	SingleSignOn              map[string]string `json:"x-singleSignOnSettings,omitempty"`
	Provisioning              map[string]string `json:"x-provisioningSettings,omitempty"`
	Proxy                     map[string]string `json:"x-onPremisesPublishing,omitempty"`
	CreatedDateTime           time.Time         `json:"createdDateTime"`
	DeletedDateTime           *time.Time        `json:"deletedDateTime,omitempty"`
}

// VerifiedPublisher is the verified publisher of an app.
type VerifiedPublisher struct {
	DisplayName         string     `json:"displayName,omitempty"`
	VerifiedPublisherID string     `json:"verifiedPublisherId,omitempty"`
	AddedDateTime       *time.Time `json:"addedDateTime,omitempty"`
}

// InformationalURL holds the app's informational links shown on consent
// prompts.
type InformationalURL struct {
	LogoURL             string `json:"logoUrl,omitempty"`
	MarketingURL        string `json:"marketingUrl,omitempty"`
	PrivacyStatementURL string `json:"privacyStatementUrl,omitempty"`
	SupportURL          string `json:"supportUrl,omitempty"`
	TermsOfServiceURL   string `json:"termsOfServiceUrl,omitempty"`
}

// Web holds the settings of a web (confidential) client.
type Web struct {
	RedirectURIs          []string               `json:"redirectUris,omitempty"`
	HomePageURL           string                 `json:"homePageUrl,omitempty"`
	LogoutURL             string                 `json:"logoutUrl,omitempty"`
	ImplicitGrantSettings *ImplicitGrantSettings `json:"implicitGrantSettings,omitempty"`
}

// ImplicitGrantSettings enable tokens from the authorize endpoint.
type ImplicitGrantSettings struct {
	EnableIDTokenIssuance     bool `json:"enableIdTokenIssuance"`
	EnableAccessTokenIssuance bool `json:"enableAccessTokenIssuance"`
}

// RedirectURIs is the spa and publicClient platform: a list of redirect
// URIs.
type RedirectURIs struct {
	RedirectURIs []string `json:"redirectUris,omitempty"`
}

// API describes the web API an application exposes.
type API struct {
	// AcceptMappedClaims (api.acceptMappedClaims; Graph's null reads as
	// false) lets the application's access tokens carry the claims a
	// claims mapping on its service principal defines. Without it a token
	// for the application is refused where its service principal has a
	// claims mapping (AADSTS50146).
	AcceptMappedClaims          bool                       `json:"acceptMappedClaims,omitempty"`
	KnownClientApplications     []string                   `json:"knownClientApplications,omitempty"`
	OAuth2PermissionScopes      []PermissionScope          `json:"oauth2PermissionScopes,omitempty"`
	PreAuthorizedApplications   []PreAuthorizedApplication `json:"preAuthorizedApplications,omitempty"`
	RequestedAccessTokenVersion *int                       `json:"requestedAccessTokenVersion,omitempty"`
}

// Scope types.
const (
	ScopeTypeUser  = "User"
	ScopeTypeAdmin = "Admin"
)

// PermissionScope is a delegated permission (scope) the API publishes.
type PermissionScope struct {
	ID                      string `json:"id"`
	Value                   string `json:"value"`
	Type                    string `json:"type"` // User or Admin
	IsEnabled               bool   `json:"isEnabled"`
	AdminConsentDisplayName string `json:"adminConsentDisplayName,omitempty"`
	AdminConsentDescription string `json:"adminConsentDescription,omitempty"`
	UserConsentDisplayName  string `json:"userConsentDisplayName,omitempty"`
	UserConsentDescription  string `json:"userConsentDescription,omitempty"`
	Origin                  string `json:"origin,omitempty"`
}

// PreAuthorizedApplication lets a client use the listed scopes without a
// consent prompt.
type PreAuthorizedApplication struct {
	AppID                  string   `json:"appId"`
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
	ID                 string   `json:"id"`
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Value              string   `json:"value,omitempty"`
	DisplayName        string   `json:"displayName"`
	Description        string   `json:"description"`
	IsEnabled          bool     `json:"isEnabled"`
	Origin             string   `json:"origin,omitempty"`
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
	ResourceAppID  string           `json:"resourceAppId"`
	ResourceAccess []ResourceAccess `json:"resourceAccess"`
}

// ResourceAccess is one required permission: a scope or an app role id.
type ResourceAccess struct {
	ID   string `json:"id"`
	Type string `json:"type"` // Scope or Role
}

// OptionalClaims lists extra claims per token type.
type OptionalClaims struct {
	IDToken     []OptionalClaim `json:"idToken,omitempty"`
	AccessToken []OptionalClaim `json:"accessToken,omitempty"`
	SAML2Token  []OptionalClaim `json:"saml2Token,omitempty"`
}

// OptionalClaim is one optional claim.
type OptionalClaim struct {
	Name                 string   `json:"name"`
	Source               string   `json:"source,omitempty"`
	Essential            bool     `json:"essential,omitempty"`
	AdditionalProperties []string `json:"additionalProperties,omitempty"`
}

// ExtensionProperty is a directory extension the app defines.
type ExtensionProperty struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	DataType      string   `json:"dataType"`
	TargetObjects []string `json:"targetObjects"`
	IsMultiValued bool     `json:"isMultiValued,omitempty"`
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

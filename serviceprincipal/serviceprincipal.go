package serviceprincipal

import (
	"maps"
	"slices"
	"time"

	"github.com/tenantry/tenantry/application"

	"github.com/tenantry/tenantry/internal/deep"
)

// Service principal types.
const (
	TypeApplication     = "Application"
	TypeLegacy          = "Legacy"
	TypeManagedIdentity = "ManagedIdentity"
)

// ServicePrincipal is the servicePrincipal resource of Microsoft Graph: the
// local instance of an application in one tenant. TenantID is the tenant it
// lives in; AppOwnerOrganizationID is the application's home tenant.
type ServicePrincipal struct {
	// ID is the object id of the service principal: a GUID, never changed.
	ID string `json:"id"`
	// TenantID is the id of the tenant the service principal lives in, never
	// changed.
	TenantID string `json:"tenantId"`
	// AppID is the appId of its application, never changed.
	AppID string `json:"appId,omitempty"`
	// AppOwnerOrganizationID is the id of the application's home tenant
	// (Graph appOwnerOrganizationId), never changed.
	AppOwnerOrganizationID string `json:"appOwnerOrganizationId,omitempty"`
	// AppDisplayName is the application's displayName, copied by Sync.
	AppDisplayName string `json:"appDisplayName,omitempty"`
	// DisplayName is the service principal's name in its tenant; it starts
	// as the application's displayName.
	DisplayName string `json:"displayName"`
	// Description is free text about the service principal.
	Description string `json:"description,omitempty"`
	// Notes is free text about the service principal's management, kept as
	// data.
	Notes string `json:"notes,omitempty"`
	// Homepage is the app's home page (Graph homepage), kept as data.
	Homepage string `json:"homepage,omitempty"`
	// LoginURL is where the service provider sends users to sign in (Graph
	// loginUrl), kept as data.
	LoginURL string `json:"loginUrl,omitempty"`
	// LogoutURL is the app's sign-out URL (Graph logoutUrl), kept as data.
	LogoutURL string `json:"logoutUrl,omitempty"`
	// Info holds the app's informational links; it starts as a copy of the
	// application's.
	Info *application.InformationalURL `json:"info,omitempty"`
	// ServicePrincipalType is Application, Legacy or ManagedIdentity; it is
	// never changed.
	ServicePrincipalType string `json:"servicePrincipalType"`
	// AccountEnabled says whether the service principal may sign in and
	// receive tokens; New sets it to true.
	AccountEnabled bool `json:"accountEnabled"`
	// AppRoleAssignmentRequired, when true, admits only principals assigned
	// to the app (directly or, for users, through a group): without an
	// assignment in force a user gets no token from or for it and a client
	// no app-only token for it; users cannot consent to it.
	AppRoleAssignmentRequired bool `json:"appRoleAssignmentRequired"`
	// ServicePrincipalNames are the appId and the application's
	// identifierUris, copied by Sync.
	ServicePrincipalNames []string `json:"servicePrincipalNames,omitempty"`
	// SignInAudience is the application's signInAudience, copied by Sync.
	SignInAudience string `json:"signInAudience,omitempty"`
	// Tags are the service principal's tags.
	Tags []string `json:"tags,omitempty"`
	// ReplyURLs are the application's redirect URIs over all platforms
	// (Graph replyUrls), copied by Sync.
	ReplyURLs []string `json:"replyUrls,omitempty"`
	// AppRoles are the application's app roles, copied by Sync with origin
	// Application.
	AppRoles []application.AppRole `json:"appRoles,omitempty"`
	// OAuth2PermissionScopes are the application's scopes, copied by Sync
	// with origin Application.
	OAuth2PermissionScopes []application.PermissionScope `json:"oauth2PermissionScopes,omitempty"`
	// PreferredSingleSignOnMode is Graph preferredSingleSignOnMode, kept as
	// data.
	PreferredSingleSignOnMode string `json:"preferredSingleSignOnMode,omitempty"`
	// NotificationEmails are the addresses notified about the app (Graph
	// notificationEmailAddresses), kept as data.
	NotificationEmails []string `json:"notificationEmailAddresses,omitempty"`
	// Classifications classify the delegated permissions the service
	// principal publishes (Graph delegatedPermissionClassifications); the
	// low-risk user consent policy reads them.
	Classifications []DelegatedPermissionClassification `json:"delegatedPermissionClassifications,omitempty"`
	// ClaimsMapping and ProvisioningMapping are kept as data (claims-mapping
	// policy definition, provisioning schema) and returned unchanged.
	ClaimsMapping map[string]string `json:"x-claimsMapping,omitempty"`
	// ProvisioningMapping is the provisioning schema, kept as data (see
	// ClaimsMapping).
	ProvisioningMapping map[string]string `json:"x-provisioningMapping,omitempty"`
	// Owners are the object ids of the owners; they follow the application's
	// owners and cannot be changed through the service principal.
	Owners []string `json:"owners,omitempty"`
	// CreatedDateTime is when the service principal was created, never
	// changed.
	CreatedDateTime time.Time `json:"createdDateTime"`
	// DeletedDateTime is set while the service principal is soft-deleted
	// (it follows its application in the home tenant).
	DeletedDateTime *time.Time `json:"deletedDateTime,omitempty"`
}

// Classification values of delegated permissions.
const (
	ClassificationLow    = "low"
	ClassificationMedium = "medium"
	ClassificationHigh   = "high"
)

// DelegatedPermissionClassification classifies one of the resource's
// delegated permissions (used by the low-risk user consent policy).
type DelegatedPermissionClassification struct {
	// ID is the classification's id.
	ID string `json:"id"`
	// PermissionID is the id of the classified scope.
	PermissionID string `json:"permissionId"`
	// PermissionName is the value of the classified scope.
	PermissionName string `json:"permissionName"`
	// Classification is low, medium or high.
	Classification string `json:"classification"`
}

// New builds the service principal of app in tenantID, copying the app's
// names, roles and scopes. It is enabled and requires no assignment.
func New(id string, app application.Application, tenantID string, now time.Time) ServicePrincipal {
	sp := ServicePrincipal{
		ID:                     id,
		TenantID:               tenantID,
		AppID:                  app.AppID,
		AppOwnerOrganizationID: app.TenantID,
		ServicePrincipalType:   TypeApplication,
		AccountEnabled:         true,
		CreatedDateTime:        now.UTC(),
	}
	sp.Sync(app)
	return sp
}

// Sync refreshes the copies sp keeps of app: names, audience, identifier
// URIs, reply URLs, roles and scopes. Tenant-local settings are kept.
func (sp *ServicePrincipal) Sync(app application.Application) {
	sp.AppDisplayName = app.DisplayName
	if sp.DisplayName == "" {
		sp.DisplayName = app.DisplayName
	}
	if sp.Info == nil && app.Info != nil {
		info := *app.Info
		sp.Info = &info
	}
	sp.SignInAudience = app.SignInAudience
	names := []string{app.AppID}
	names = append(names, app.IdentifierURIs...)
	sp.ServicePrincipalNames = names
	var reply []string
	for _, p := range []application.RedirectURIPlatform{application.PlatformWeb, application.PlatformSPA, application.PlatformPublic} {
		reply = append(reply, app.RedirectURIsOf(p)...)
	}
	sp.ReplyURLs = reply
	sp.AppRoles = nil
	for _, r := range app.AppRoles {
		r.AllowedMemberTypes = append([]string(nil), r.AllowedMemberTypes...)
		r.Origin = "Application"
		sp.AppRoles = append(sp.AppRoles, r)
	}
	sp.OAuth2PermissionScopes = nil
	for _, s := range app.Scopes() {
		s.Origin = "Application"
		sp.OAuth2PermissionScopes = append(sp.OAuth2PermissionScopes, s)
	}
}

// Usable reports whether sp may take part in sign-ins and tokens: enabled
// and not deleted.
func (sp ServicePrincipal) Usable() bool { return sp.AccountEnabled && sp.DeletedDateTime == nil }

// RoleByID finds an app role of sp by id.
func (sp ServicePrincipal) RoleByID(id string) (application.AppRole, bool) {
	for _, r := range sp.AppRoles {
		if r.ID == id {
			return r, true
		}
	}
	return application.AppRole{}, false
}

// RoleByValue finds an app role of sp by its value, as tokens carry it in
// the roles claim (case-sensitive).
func (sp ServicePrincipal) RoleByValue(v string) (application.AppRole, bool) {
	for _, r := range sp.AppRoles {
		if r.Value == v {
			return r, true
		}
	}
	return application.AppRole{}, false
}

// ScopeByValue finds a published scope of sp by value.
func (sp ServicePrincipal) ScopeByValue(v string) (application.PermissionScope, bool) {
	for _, s := range sp.OAuth2PermissionScopes {
		if s.Value == v {
			return s, true
		}
	}
	return application.PermissionScope{}, false
}

// Classification returns the classification of the scope with value v, or "".
func (sp ServicePrincipal) Classification(v string) string {
	for _, c := range sp.Classifications {
		if c.PermissionName == v {
			return c.Classification
		}
	}
	return ""
}

// Equal reports whether sp and o have the same properties: times are
// compared as instants (time.Time.Equal) and an empty collection equals a
// missing (nil) one, as Graph has no null collections; everything else as
// reflect.DeepEqual compares it.
func (sp ServicePrincipal) Equal(o ServicePrincipal) bool { return deep.Equal(sp, o) }

// Clone returns a deep copy of sp.
func (sp ServicePrincipal) Clone() ServicePrincipal {
	if sp.Info != nil {
		info := *sp.Info
		sp.Info = &info
	}
	sp.ServicePrincipalNames = slices.Clone(sp.ServicePrincipalNames)
	sp.Tags = slices.Clone(sp.Tags)
	sp.ReplyURLs = slices.Clone(sp.ReplyURLs)
	sp.AppRoles = slices.Clone(sp.AppRoles)
	for i := range sp.AppRoles {
		sp.AppRoles[i].AllowedMemberTypes = slices.Clone(sp.AppRoles[i].AllowedMemberTypes)
	}
	sp.OAuth2PermissionScopes = slices.Clone(sp.OAuth2PermissionScopes)
	sp.NotificationEmails = slices.Clone(sp.NotificationEmails)
	sp.Classifications = slices.Clone(sp.Classifications)
	sp.ClaimsMapping = maps.Clone(sp.ClaimsMapping)
	sp.ProvisioningMapping = maps.Clone(sp.ProvisioningMapping)
	sp.Owners = slices.Clone(sp.Owners)
	if sp.DeletedDateTime != nil {
		t := *sp.DeletedDateTime
		sp.DeletedDateTime = &t
	}
	return sp
}

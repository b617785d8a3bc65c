package storetest

import (
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// The values of the suite are built fresh by every call of their builder,
// so that a test can keep a pristine copy beside the one it writes and
// mutates: the expected value never shares memory with the written one.
// Every time is UTC with microsecond precision (what a SQL timestamp
// keeps), and no slice or map is empty but non-nil (see package store,
// "Values are shared").

var idSpace = uuid.MustParse("6ba7b811-9dad-11d1-80b4-00c04fd430c8") // the URL namespace

// id returns a deterministic, realistic object id (a UUID) for name.
func id(name string) string {
	return uuid.NewSHA1(idSpace, []byte("tenantry/storetest/"+name)).String()
}

// at returns a fixed UTC instant, microsecond precision, plus d.
func at(d time.Duration) time.Time {
	return time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC).Add(d)
}

func ptr[T any](v T) *T { return &v }

func newTenant(name, domain string, extra ...string) tenant.Tenant {
	t := tenant.Tenant{
		ID:          id("tenant/" + name),
		DisplayName: name + " Ltd — Zürich 東京",
		TenantType:  tenant.TypeAAD,
		VerifiedDomains: []tenant.VerifiedDomain{
			{Name: domain, IsDefault: true, IsInitial: true, Type: "Managed"},
		},
		Policy:          tenant.DefaultPolicy(),
		CreatedDateTime: at(0),
	}
	for _, d := range extra {
		t.VerifiedDomains = append(t.VerifiedDomains, tenant.VerifiedDomain{Name: d, Type: "Federated"})
	}
	t.Policy.GuestUserRoleID = tenant.GuestRoleRestricted
	return t
}

func newUser(name, tenantID string) tenant.User {
	return tenant.User{
		ID:                id("user/" + name),
		TenantID:          tenantID,
		UserPrincipalName: name + "@contoso.onmicrosoft.com",
		DisplayName:       "User " + name,
		GivenName:         name,
		Surname:           "Ñúñez",
		Mail:              name + "@contoso.com",
		AccountEnabled:    true,
		UserType:          tenant.Member,
		// SignInSessionsValidFromDateTime stays zero: never revoked.
		CreatedDateTime: at(time.Hour),
		PasswordHash: &tenant.PasswordHash{
			Algorithm: "argon2id", Time: 2, MemoryKiB: 19 * 1024, Threads: 1,
			Salt: []byte("0123456789abcdef"),
			Hash: []byte("argon2id-digest-of-32-bytes-----"),
		},
	}
}

func newGroup(name, tenantID string, members ...tenant.Ref) tenant.Group {
	return tenant.Group{
		ID:              id("group/" + name),
		TenantID:        tenantID,
		DisplayName:     "Group " + name,
		Description:     "members of " + name,
		SecurityEnabled: true,
		GroupTypes:      []string{"Unified"},
		Members:         members,
		CreatedDateTime: at(2 * time.Hour),
	}
}

func newRoleAssignment(name, tenantID, principalID string) tenant.RoleAssignment {
	return tenant.RoleAssignment{
		ID:               id("role/" + name),
		TenantID:         tenantID,
		PrincipalID:      principalID,
		RoleDefinitionID: "62e90394-69f5-4237-9190-012177145e10", // Global Administrator
		DirectoryScopeID: "/",
		CreatedDateTime:  at(3 * time.Hour),
	}
}

// newApplication returns an application with every nested part set.
func newApplication(name, tenantID string) application.Application {
	return application.Application{
		ID:              id("app/" + name),
		AppID:           id("appId/" + name),
		TenantID:        tenantID,
		DisplayName:     "App " + name,
		Description:     "the " + name + " application",
		Notes:           "notes",
		PublisherDomain: "contoso.com",
		VerifiedPublisher: &application.VerifiedPublisher{
			DisplayName: "Contoso", VerifiedPublisherID: "1234567", AddedDateTime: ptr(at(-time.Hour)),
		},
		Info:           &application.InformationalURL{LogoURL: "https://contoso.com/logo.png", PrivacyStatementURL: "https://contoso.com/privacy"},
		Tags:           []string{"HideApp", "WindowsAzureActiveDirectoryIntegratedApp"},
		SignInAudience: application.AzureADMultipleOrgs,
		IdentifierURIs: []string{"api://" + name, "https://contoso.com/" + name},
		Web: &application.Web{
			RedirectURIs:          []string{"https://" + name + ".contoso.com/callback", "https://localhost:8443/callback"},
			HomePageURL:           "https://" + name + ".contoso.com",
			ImplicitGrantSettings: &application.ImplicitGrantSettings{EnableIDTokenIssuance: true},
		},
		SPA:          &application.RedirectURIs{RedirectURIs: []string{"https://spa.contoso.com"}},
		PublicClient: &application.RedirectURIs{RedirectURIs: []string{"http://localhost"}},
		API: &application.API{
			KnownClientApplications: []string{id("appId/known")},
			OAuth2PermissionScopes: []application.PermissionScope{
				{ID: id("scope/read/" + name), Value: "Files.Read", Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: "Read files", UserConsentDisplayName: "Read your files"},
				{ID: id("scope/write/" + name), Value: "Files.Write.All", Type: application.ScopeTypeAdmin, IsEnabled: false, AdminConsentDisplayName: "Write all files"},
			},
			PreAuthorizedApplications: []application.PreAuthorizedApplication{
				{AppID: id("appId/cli"), DelegatedPermissionIDs: []string{id("scope/read/" + name)}},
			},
			RequestedAccessTokenVersion: ptr(2),
		},
		AppRoles: []application.AppRole{
			{ID: id("role/reader/" + name), AllowedMemberTypes: []string{application.MemberTypeUser, application.MemberTypeApplication}, Value: "Reader", DisplayName: "Reader", Description: "reads", IsEnabled: true},
			{ID: id("role/admin/" + name), AllowedMemberTypes: []string{application.MemberTypeApplication}, Value: "Admin", DisplayName: "Admin", Description: "administers"},
		},
		RequiredResourceAccess: []application.RequiredResourceAccess{{
			ResourceAppID: application.MicrosoftGraphAppID,
			ResourceAccess: []application.ResourceAccess{
				{ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Type: application.AccessScope},
				{ID: "df021288-bdef-4463-88db-98f22de89214", Type: application.AccessRole},
			},
		}},
		PasswordCredentials: []application.PasswordCredential{{
			KeyID: id("secret/" + name), DisplayName: "ci", Hint: "q~8",
			StartDateTime: at(0), EndDateTime: at(180 * 24 * time.Hour),
			CustomKeyIdentifier: []byte{0xca, 0xfe},
			SecretHash:          &application.SecretHash{Salt: []byte("salt-of-16-bytes"), Digest: []byte("hmac-sha256-digest-of-32-bytes--")},
		}},
		KeyCredentials: []application.KeyCredential{{
			KeyID: id("cert/" + name), DisplayName: "CN=" + name, Type: application.KeyTypeX509, Usage: application.KeyUsageVerify,
			Key: []byte{0x30, 0x82, 0x01, 0x0a, 0x02, 0x82}, CustomKeyIdentifier: []byte{1, 2, 3, 4},
			StartDateTime: at(0), EndDateTime: at(365 * 24 * time.Hour),
		}},
		FederatedIdentityCredentials: []application.FederatedIdentityCredential{{
			ID: id("fic/" + name), Name: "github-main", Issuer: "https://token.actions.githubusercontent.com",
			Subject: "repo:contoso/" + name + ":ref:refs/heads/main", Audiences: []string{application.TokenExchangeAudience},
		}},
		OptionalClaims: &application.OptionalClaims{
			IDToken:     []application.OptionalClaim{{Name: "email", Essential: true}},
			AccessToken: []application.OptionalClaim{{Name: "groups", AdditionalProperties: []string{"sam_account_name"}}},
		},
		GroupMembershipClaims: "SecurityGroup",
		Owners:                []string{id("user/alice")},
		ExtensionProperties: []application.ExtensionProperty{
			{ID: id("ext/" + name), Name: "extension_costCenter", DataType: "String", TargetObjects: []string{"User", "Group"}},
		},
		SingleSignOn:    map[string]string{"mode": "saml", "entityId": "urn:" + name},
		Provisioning:    map[string]string{"schema": "scim2"},
		Proxy:           map[string]string{"externalUrl": "https://" + name + ".msappproxy.net"},
		CreatedDateTime: at(4 * time.Hour),
	}
}

// mutateApplication changes a in place, deep inside its slices, maps and
// pointers: a stored copy that shared memory with a would change too.
func mutateApplication(a *application.Application) {
	a.DisplayName = "changed"
	*a.VerifiedPublisher.AddedDateTime = at(time.Minute)
	a.Info.LogoURL = "changed"
	a.Tags[0] = "changed"
	a.IdentifierURIs[1] = "api://changed"
	a.Web.RedirectURIs[0] = "https://changed"
	a.Web.ImplicitGrantSettings.EnableAccessTokenIssuance = true
	a.SPA.RedirectURIs[0] = "https://changed"
	a.API.KnownClientApplications[0] = "changed"
	a.API.OAuth2PermissionScopes[0].Value = "changed"
	a.API.PreAuthorizedApplications[0].DelegatedPermissionIDs[0] = "changed"
	*a.API.RequestedAccessTokenVersion = 1
	a.AppRoles[0].AllowedMemberTypes[0] = "changed"
	a.RequiredResourceAccess[0].ResourceAccess[0].Type = "changed"
	a.PasswordCredentials[0].CustomKeyIdentifier[0] = 0
	a.PasswordCredentials[0].SecretHash.Digest[0] = 0
	a.KeyCredentials[0].Key[0] = 0
	a.FederatedIdentityCredentials[0].Audiences[0] = "changed"
	a.OptionalClaims.AccessToken[0].AdditionalProperties[0] = "changed"
	a.Owners[0] = "changed"
	a.ExtensionProperties[0].TargetObjects[0] = "changed"
	a.SingleSignOn["mode"] = "changed"
	a.Provisioning["new"] = "changed"
	delete(a.Proxy, "externalUrl")
	a.DeletedDateTime = ptr(at(time.Hour))
}

func newServicePrincipal(name, tenantID string) serviceprincipal.ServicePrincipal {
	app := newApplication(name, id("tenant/home"))
	sp := serviceprincipal.New(id("sp/"+name+"/"+tenantID), app, tenantID, at(5*time.Hour))
	sp.Tags = []string{"WindowsAzureActiveDirectoryIntegratedApp"}
	sp.AppRoleAssignmentRequired = true
	sp.NotificationEmails = []string{"ops@contoso.com"}
	sp.Classifications = []serviceprincipal.DelegatedPermissionClassification{
		{ID: id("class/" + name), PermissionID: id("scope/read/" + name), PermissionName: "Files.Read", Classification: serviceprincipal.ClassificationLow},
	}
	sp.ClaimsMapping = map[string]string{"IncludeBasicClaimSet": "true"}
	sp.Owners = []string{id("user/bob")}
	return sp
}

func mutateServicePrincipal(sp *serviceprincipal.ServicePrincipal) {
	sp.DisplayName = "changed"
	sp.Info.LogoURL = "changed"
	sp.ServicePrincipalNames[0] = "changed"
	sp.Tags[0] = "changed"
	sp.ReplyURLs[0] = "changed"
	sp.AppRoles[0].AllowedMemberTypes[0] = "changed"
	sp.OAuth2PermissionScopes[0].IsEnabled = false
	sp.NotificationEmails[0] = "changed"
	sp.Classifications[0].Classification = serviceprincipal.ClassificationHigh
	sp.ClaimsMapping["IncludeBasicClaimSet"] = "false"
	sp.Owners[0] = "changed"
}

func newGrant(name, tenantID, clientID, resourceID string) consent.Grant {
	return consent.Grant{
		ID:              id("grant/" + name),
		TenantID:        tenantID,
		ClientID:        clientID,
		ConsentType:     consent.Principal,
		PrincipalID:     id("user/alice"),
		ResourceID:      resourceID,
		Scope:           consent.JoinScopes([]string{"User.Read", "openid", "offline_access"}),
		CreatedDateTime: at(6 * time.Hour),
	}
}

func newAssignment(name, tenantID, principalID, resourceID, roleID string) serviceprincipal.AppRoleAssignment {
	return serviceprincipal.AppRoleAssignment{
		ID:                   id("assignment/" + name),
		TenantID:             tenantID,
		AppRoleID:            roleID,
		PrincipalID:          principalID,
		PrincipalType:        serviceprincipal.PrincipalUser,
		PrincipalDisplayName: "Alice",
		ResourceID:           resourceID,
		ResourceDisplayName:  "Files API",
		CreatedDateTime:      at(7 * time.Hour),
		StartDateTime:        ptr(at(8 * time.Hour)),
		EndDateTime:          ptr(at(9 * time.Hour)),
	}
}

func newSigningKey(name, state string) store.SigningKey {
	return store.SigningKey{
		ID:        name,
		Algorithm: "RS256",
		State:     state,
		Sealed:    []byte("nonce-12-byte" + "sealed-private-key"),
		CreatedAt: at(10 * time.Hour),
	}
}

func newCode(name, tenantID string) store.Code {
	return store.Code{
		ID:         id("code/" + name),
		Kind:       "authorization_code",
		TenantID:   tenantID,
		ExpiresAt:  at(11 * time.Hour),
		RedeemedAt: ptr(at(10*time.Hour + time.Second)),
		Data:       []byte(`{"clientId":"x","redirectUri":"https://localhost/cb","pkce":"S256"}`),
	}
}

package consent_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/tenant"
)

const (
	homeTenant  = "11111111-1111-4111-8111-111111111111"
	otherTenant = "22222222-2222-4222-8222-222222222222"
	msTenant    = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

	graphID      = application.MicrosoftGraphAppID
	apiID        = "a1000000-0000-4000-8000-000000000001"
	clientID     = "c1000000-0000-4000-8000-000000000001"
	downstreamID = "d1000000-0000-4000-8000-000000000001"
	foreignID    = "e1000000-0000-4000-8000-000000000001"
	unknownID    = "f0000000-0000-4000-8000-000000000000"

	// Graph scope and role ids.
	gUserRead      = "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
	gMailRead      = "570282fd-fa5c-430d-a7fd-fc8dc98a9dca"
	gFilesRWAll    = "863451e7-0667-486c-a5d6-d135439485f0"
	gOldScope      = "0ld00000-0000-4000-8000-000000000000"
	gOpenID        = "37f7f235-527c-4136-accd-4a02d197296e"
	gUserReadAll   = "df021288-bdef-4463-88db-98f22de89214"
	gRoleDisabled  = "d15ab1ed-0000-4000-8000-000000000000"
	gRoleUserOnly  = "05e70000-0000-4000-8000-000000000000"
	aAccessAsUser  = "a5c00000-0000-4000-8000-000000000001"
	aAdmin         = "a5c00000-0000-4000-8000-000000000002"
	aProfile       = "a5c00000-0000-4000-8000-000000000003"
	aJobRole       = "a5c00000-0000-4000-8000-000000000004"
	dRead          = "d5c00000-0000-4000-8000-000000000001"
	dJobRole       = "d5c00000-0000-4000-8000-000000000002"
	memberID       = "u0000000-0000-4000-8000-000000000001"
	developerID    = "u0000000-0000-4000-8000-000000000002"
	publisherIDStr = "1234567"
)

func scope(id, value, typ string, enabled bool) application.PermissionScope {
	return application.PermissionScope{ID: id, Value: value, Type: typ, IsEnabled: enabled}
}

func role(id, value string, enabled bool, types ...string) application.AppRole {
	return application.AppRole{ID: id, Value: value, IsEnabled: enabled, AllowedMemberTypes: types, DisplayName: value}
}

func rra(resource string, access ...application.ResourceAccess) application.RequiredResourceAccess {
	return application.RequiredResourceAccess{ResourceAppID: resource, ResourceAccess: access}
}

func sc(id string) application.ResourceAccess {
	return application.ResourceAccess{ID: id, Type: application.AccessScope}
}
func ro(id string) application.ResourceAccess {
	return application.ResourceAccess{ID: id, Type: application.AccessRole}
}

func graphApp() application.Application {
	return application.Application{
		AppID: graphID, TenantID: msTenant, DisplayName: "Microsoft Graph", SignInAudience: application.AzureADMultipleOrgs,
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{
			scope(gUserRead, "User.Read", application.ScopeTypeUser, true),
			scope(gMailRead, "Mail.Read", application.ScopeTypeUser, true),
			scope(gFilesRWAll, "Files.ReadWrite.All", application.ScopeTypeAdmin, true),
			scope(gOldScope, "Old.Scope", application.ScopeTypeUser, false),
			scope(gOpenID, "openid", application.ScopeTypeUser, true),
		}},
		AppRoles: []application.AppRole{
			role(gUserReadAll, "User.Read.All", true, application.MemberTypeApplication),
			role(gRoleDisabled, "Role.Disabled", false, application.MemberTypeApplication),
			role(gRoleUserOnly, "Role.UserOnly", true, application.MemberTypeUser),
		},
	}
}

func apiApp() application.Application {
	return application.Application{
		AppID: apiID, TenantID: homeTenant, DisplayName: "API", SignInAudience: application.AzureADMultipleOrgs,
		API: &application.API{
			KnownClientApplications: []string{clientID},
			OAuth2PermissionScopes: []application.PermissionScope{
				scope(aAccessAsUser, "access_as_user", application.ScopeTypeUser, true),
				scope(aAdmin, "Api.Admin", application.ScopeTypeAdmin, true),
				scope(aProfile, "profile", application.ScopeTypeUser, true),
			},
			PreAuthorizedApplications: []application.PreAuthorizedApplication{
				{AppID: foreignID, DelegatedPermissionIDs: []string{aAccessAsUser}},
			},
		},
		AppRoles:               []application.AppRole{role(aJobRole, "Api.Job", true, application.MemberTypeApplication)},
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(downstreamID, sc(dRead), ro(dJobRole))},
	}
}

func downstreamApp() application.Application {
	return application.Application{
		AppID: downstreamID, TenantID: homeTenant, DisplayName: "Downstream", SignInAudience: application.AzureADMultipleOrgs,
		API:      &application.API{OAuth2PermissionScopes: []application.PermissionScope{scope(dRead, "Down.Read", application.ScopeTypeUser, true)}},
		AppRoles: []application.AppRole{role(dJobRole, "Down.Job", true, application.MemberTypeApplication)},
	}
}

func clientApp() application.Application {
	return application.Application{
		AppID: clientID, TenantID: homeTenant, DisplayName: "Client", SignInAudience: application.AzureADMultipleOrgs,
		Owners: []string{developerID},
		RequiredResourceAccess: []application.RequiredResourceAccess{
			rra(graphID, sc(gUserRead), ro(gUserReadAll)),
			rra(apiID, sc(aAccessAsUser)),
		},
	}
}

func foreignApp() application.Application {
	return application.Application{
		AppID: foreignID, TenantID: otherTenant, DisplayName: "Foreign", SignInAudience: application.AzureADMultipleOrgs,
		RequiredResourceAccess: []application.RequiredResourceAccess{rra(graphID, sc(gUserRead))},
	}
}

func resources() map[string]consent.Resource {
	return map[string]consent.Resource{
		graphID:      {App: graphApp()},
		apiID:        {App: apiApp()},
		downstreamID: {App: downstreamApp()},
		clientID:     {App: clientApp()},
	}
}

func homeTenantWith(c tenant.UserConsent) tenant.Tenant {
	t := tenant.Tenant{ID: homeTenant, DisplayName: "Home", Policy: tenant.DefaultPolicy()}
	t.Policy.SetUserConsent(c)
	return t
}

func member(id string, roles ...string) tenant.Caller {
	return tenant.Caller{User: tenant.User{ID: id, TenantID: homeTenant, AccountEnabled: true, UserType: tenant.Member}, Roles: roles}
}

func baseRequest() consent.Request {
	return consent.Request{
		Tenant:    homeTenantWith(tenant.UserConsentAll),
		Caller:    member(memberID),
		Client:    clientApp(),
		Resources: resources(),
	}
}

func ask(resource string, scopes ...string) []consent.ScopeRequest {
	return []consent.ScopeRequest{{ResourceAppID: resource, Scopes: scopes}}
}

func dg(client, resource string, scopes ...string) consent.DelegatedGrant {
	return consent.DelegatedGrant{ClientAppID: client, ResourceAppID: resource, Scopes: scopes}
}

func ids(s ...string) []string { return s }

type decideCase struct {
	name string
	edit func(r *consent.Request)
	want consent.Decision
	// On failure: the sentinel and, when set, the error's fields.
	err      error
	errRes   string
	errScope []string
	errRoles []string
	errApp   string
}

func runDecide(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := baseRequest()
			if tc.edit != nil {
				tc.edit(&r)
			}
			got, err := consent.Decide(r)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("Decide: %v", err)
				}
				want := tc.want
				if want.ConsentType == consent.AllPrincipals && want.SignIn == nil {
					// An administrator's consent for the organization always
					// lets every user sign in.
					want.SignIn = consent.BasicSignInScopes
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("decision (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("Decide error = %v, want %v (decision %+v)", err, tc.err, got)
			}
			var ce *consent.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *consent.Error", err)
			}
			if tc.errRes != "" && ce.ResourceAppID != tc.errRes {
				t.Errorf("ResourceAppID = %q, want %q", ce.ResourceAppID, tc.errRes)
			}
			if tc.errScope != nil && !slices.Equal(ce.Scopes, tc.errScope) {
				t.Errorf("Scopes = %q, want %q", ce.Scopes, tc.errScope)
			}
			if tc.errRoles != nil && !slices.Equal(ce.Roles, tc.errRoles) {
				t.Errorf("Roles = %q, want %q", ce.Roles, tc.errRoles)
			}
			if tc.errApp != "" && ce.ClientAppID != tc.errApp {
				t.Errorf("ClientAppID = %q, want %q", ce.ClientAppID, tc.errApp)
			}
			if !cmp.Equal(got, consent.Decision{}) {
				t.Errorf("a refused request returned decision %+v", got)
			}
		})
	}
}

// Shared expectations.
var (
	combinedUser = consent.Decision{
		ConsentType: consent.Principal,
		Delegated: []consent.DelegatedGrant{
			dg(apiID, downstreamID, "Down.Read"),
			dg(clientID, graphID, "User.Read"),
			dg(clientID, apiID, "access_as_user"),
		},
		Provision: ids(graphID, apiID, clientID, downstreamID),
	}
	combinedAdmin = consent.Decision{
		ConsentType: consent.AllPrincipals,
		Delegated:   combinedUser.Delegated,
		AppRoles: []consent.RoleGrant{
			{ClientAppID: apiID, ResourceAppID: downstreamID, AppRoleID: dJobRole, Value: "Down.Job"},
			{ClientAppID: clientID, ResourceAppID: graphID, AppRoleID: gUserReadAll, Value: "User.Read.All"},
		},
		Provision: combinedUser.Provision,
	}
)

func TestDecideGrants(t *testing.T) {
	runDecide(t, []decideCase{
		{
			name: "explicit scopes; OIDC scopes reported as sign-in scopes",
			edit: func(r *consent.Request) {
				r.Scopes = append(ask(graphID, "User.Read", "openid", "offline_access"), ask("", "profile", "email")...)
			},
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(clientID, graphID, "User.Read")}, Provision: ids(graphID, clientID), SignIn: consent.BasicSignInScopes},
		},
		{
			name: "values normalised: split, sorted, unique, empty dropped, requests merged",
			edit: func(r *consent.Request) {
				r.Scopes = []consent.ScopeRequest{
					{ResourceAppID: graphID, Scopes: []string{"User.Read  Mail.Read", "", " ", "User.Read"}},
					{ResourceAppID: strings.ToUpper(graphID), Scopes: []string{"Mail.Read"}},
				}
			},
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(clientID, graphID, "Mail.Read", "User.Read")}, Provision: ids(graphID, clientID)},
		},
		{
			name: "sign-in only",
			edit: func(r *consent.Request) { r.Scopes = ask("", "openid", "profile") },
			want: consent.Decision{ConsentType: consent.Principal, Provision: ids(clientID), SignIn: consent.BasicSignInScopes},
		},
		{
			name: "OIDC-named scope of a custom API is an ordinary scope",
			edit: func(r *consent.Request) {
				r.Client = foreignApp()
				r.Scopes = ask(apiID, "profile")
			},
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(foreignID, apiID, "profile")}, Provision: ids(apiID, foreignID)},
		},
		{
			name: "default without requiredResourceAccess provisions only the client",
			edit: func(r *consent.Request) { r.Client.RequiredResourceAccess = nil; r.Default = true },
			want: consent.Decision{ConsentType: consent.Principal, Provision: ids(clientID)},
		},
		{
			name: "default without requiredResourceAccess, tenant-wide",
			edit: func(r *consent.Request) {
				r.Client.RequiredResourceAccess = nil
				r.Default, r.TenantWide, r.Caller = true, true, member(memberID, tenant.RoleGlobalAdministrator)
			},
			want: consent.Decision{ConsentType: consent.AllPrincipals, Provision: ids(clientID)},
		},
		{
			name: "default user consent skips Role entries (not even validated)",
			edit: func(r *consent.Request) {
				r.Client = foreignApp()
				r.Client.RequiredResourceAccess = append(r.Client.RequiredResourceAccess, rra(graphID, ro(unknownID)), rra(unknownID, ro(unknownID)))
				r.Default = true
			},
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(foreignID, graphID, "User.Read")}, Provision: ids(graphID, foreignID)},
		},
		{
			name: "default with OIDC scopes and a .default scope request",
			edit: func(r *consent.Request) {
				r.Client = foreignApp()
				r.Scopes = append(ask("", "openid", "offline_access"), ask(graphID, ".default")...)
			},
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(foreignID, graphID, "User.Read")}, Provision: ids(graphID, foreignID), SignIn: consent.BasicSignInScopes},
		},
		{
			name: "Graph OIDC scope in requiredResourceAccess is a sign-in scope",
			edit: func(r *consent.Request) {
				r.Client = foreignApp()
				r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, sc(gOpenID))}
				r.Default = true
			},
			want: consent.Decision{ConsentType: consent.Principal, Provision: ids(foreignID), SignIn: consent.BasicSignInScopes},
		},
		{
			name: "combined consent through knownClientApplications (user)",
			edit: func(r *consent.Request) { r.Default = true },
			want: combinedUser,
		},
		{
			name: "combined consent, tenant-wide: both apps' Role entries",
			edit: func(r *consent.Request) {
				r.Default, r.TenantWide, r.Caller = true, true, member(memberID, tenant.RoleGlobalAdministrator)
			},
			want: combinedAdmin,
		},
		{
			name: "combined consent also for explicit scopes on the API",
			edit: func(r *consent.Request) { r.Scopes = ask(apiID, "access_as_user") },
			want: consent.Decision{
				ConsentType: consent.Principal,
				Delegated:   []consent.DelegatedGrant{dg(apiID, downstreamID, "Down.Read"), dg(clientID, apiID, "access_as_user")},
				Provision:   ids(apiID, clientID, downstreamID),
			},
		},
		{
			name: "no combined consent when API and client have different home tenants",
			edit: func(r *consent.Request) {
				res := r.Resources[apiID]
				res.App.TenantID = otherTenant
				r.Resources[apiID] = res
				r.Scopes = ask(apiID, "access_as_user")
			},
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(clientID, apiID, "access_as_user")}, Provision: ids(apiID, clientID)},
		},
		{
			name: "no combined consent when the client is not a known client",
			edit: func(r *consent.Request) {
				r.Resources[apiID].App.API.KnownClientApplications = []string{unknownID}
				r.Scopes = ask(apiID, "access_as_user")
			},
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(clientID, apiID, "access_as_user")}, Provision: ids(apiID, clientID)},
		},
		{
			name: "tenant-wide by a Global Administrator grants Admin scopes",
			edit: func(r *consent.Request) {
				r.Scopes = ask(graphID, "Files.ReadWrite.All")
				r.TenantWide, r.Caller = true, member(memberID, tenant.RoleGlobalAdministrator)
			},
			want: consent.Decision{ConsentType: consent.AllPrincipals, Delegated: []consent.DelegatedGrant{dg(clientID, graphID, "Files.ReadWrite.All")}, Provision: ids(graphID, clientID)},
		},
		{
			name: "tenant-wide by an Application Administrator without Graph app roles",
			edit: func(r *consent.Request) {
				r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, sc(gFilesRWAll)), rra(downstreamID, ro(dJobRole))}
				r.Default, r.TenantWide, r.Caller = true, true, member(memberID, tenant.RoleApplicationAdministrator)
			},
			want: consent.Decision{
				ConsentType: consent.AllPrincipals,
				Delegated:   []consent.DelegatedGrant{dg(clientID, graphID, "Files.ReadWrite.All")},
				AppRoles:    []consent.RoleGrant{{ClientAppID: clientID, ResourceAppID: downstreamID, AppRoleID: dJobRole, Value: "Down.Job"}},
				Provision:   ids(graphID, clientID, downstreamID),
			},
		},
		{
			name: "tenant-wide Graph app roles by a Privileged Role Administrator",
			edit: func(r *consent.Request) {
				r.Default, r.TenantWide, r.Caller = true, true, member(memberID, tenant.RolePrivilegedRoleAdministrator)
			},
			want: combinedAdmin,
		},
		{
			name: "tenant-wide by the system caller",
			edit: func(r *consent.Request) { r.Default, r.TenantWide, r.Caller = true, true, tenant.SystemCaller() },
			want: combinedAdmin,
		},
		{
			name: "tenant-wide by the zero caller",
			edit: func(r *consent.Request) { r.Default, r.TenantWide, r.Caller = true, true, tenant.Caller{} },
			err:  tenant.ErrForbidden,
		},
		{
			name: "tenant-wide ignores appRoleAssignmentRequired",
			edit: func(r *consent.Request) {
				r.Default, r.TenantWide, r.ClientAssignmentRequired, r.Caller = true, true, true, member(memberID, tenant.RoleGlobalAdministrator)
			},
			want: combinedAdmin,
		},
		{
			name: "duplicate requiredResourceAccess entries merge",
			edit: func(r *consent.Request) {
				r.Client = foreignApp()
				r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, sc(gUserRead), sc(gUserRead)), rra(graphID, sc(gMailRead))}
				r.Default = true
			},
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(foreignID, graphID, "Mail.Read", "User.Read")}, Provision: ids(graphID, foreignID)},
		},
	})
}

func TestDecideValidation(t *testing.T) {
	deleted := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ga := member(memberID, tenant.RoleGlobalAdministrator)
	runDecide(t, []decideCase{
		{name: "unknown scope", edit: func(r *consent.Request) { r.Scopes = ask(graphID, "User.Read", "Nope.Read", "Nope.Write") },
			err: consent.ErrUnknownScope, errRes: graphID, errScope: ids("Nope.Read", "Nope.Write")},
		{name: "app role cannot be requested dynamically", edit: func(r *consent.Request) {
			r.Scopes, r.TenantWide, r.Caller = ask(graphID, "User.Read.All"), true, ga
		}, err: consent.ErrUnknownScope, errRes: graphID, errScope: ids("User.Read.All")},
		{name: "disabled scope", edit: func(r *consent.Request) { r.Scopes = ask(graphID, "User.Read", "Old.Scope") },
			err: consent.ErrScopeDisabled, errRes: graphID, errScope: ids("Old.Scope")},
		{name: "disabled scope refused tenant-wide too", edit: func(r *consent.Request) {
			r.Scopes, r.TenantWide, r.Caller = ask(graphID, "Old.Scope"), true, ga
		}, err: consent.ErrScopeDisabled},
		{name: "unknown resource", edit: func(r *consent.Request) { r.Scopes = ask(unknownID, "X.Read") },
			err: consent.ErrUnknownResource, errRes: unknownID},
		{name: "scope without resource", edit: func(r *consent.Request) { r.Scopes = ask("", "openid", "User.Read") },
			err: consent.ErrUnknownResource},
		{name: ".default on an unknown resource", edit: func(r *consent.Request) { r.Scopes = ask(unknownID, ".default") },
			err: consent.ErrUnknownResource, errRes: unknownID},
		{name: "deleted resource", edit: func(r *consent.Request) {
			res := r.Resources[graphID]
			res.App.DeletedDateTime = &deleted
			r.Resources[graphID] = res
			r.Scopes = ask(graphID, "User.Read")
		}, err: consent.ErrUnknownResource, errRes: graphID},
		{name: "requiredResourceAccess resource missing", edit: func(r *consent.Request) {
			delete(r.Resources, apiID)
			r.Default = true
		}, err: consent.ErrUnknownResource, errRes: apiID, errApp: clientID},
		{name: "combined consent: API's resource missing", edit: func(r *consent.Request) {
			delete(r.Resources, downstreamID)
			r.Default = true
		}, err: consent.ErrUnknownResource, errRes: downstreamID, errApp: apiID},
		{name: "requiredResourceAccess unknown scope id", edit: func(r *consent.Request) {
			r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, sc(gUserRead), sc(unknownID))}
			r.Default = true
		}, err: consent.ErrUnknownScope, errRes: graphID, errScope: ids(unknownID)},
		{name: "requiredResourceAccess disabled scope", edit: func(r *consent.Request) {
			r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, sc(gOldScope))}
			r.Default = true
		}, err: consent.ErrScopeDisabled, errScope: ids("Old.Scope")},
		{name: "unknown role", edit: func(r *consent.Request) {
			r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, ro(unknownID))}
			r.Default, r.TenantWide, r.Caller = true, true, ga
		}, err: consent.ErrUnknownRole, errRes: graphID, errRoles: ids(unknownID)},
		{name: "disabled role", edit: func(r *consent.Request) {
			r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, ro(gRoleDisabled))}
			r.Default, r.TenantWide, r.Caller = true, true, ga
		}, err: consent.ErrUnknownRole, errRoles: ids(gRoleDisabled)},
		{name: "role not allowed for applications", edit: func(r *consent.Request) {
			r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, ro(gRoleUserOnly))}
			r.Default, r.TenantWide, r.Caller = true, true, ga
		}, err: consent.ErrUnknownRole, errRoles: ids(gRoleUserOnly)},
		{name: "requiredResourceAccess entry of unknown type", edit: func(r *consent.Request) {
			r.Client.RequiredResourceAccess = []application.RequiredResourceAccess{rra(graphID, application.ResourceAccess{ID: gUserRead, Type: "Both"})}
			r.Default = true
		}, err: consent.ErrInvalidRequest},
		{name: ".default mixed with explicit scopes", edit: func(r *consent.Request) {
			r.Default, r.Scopes = true, ask(graphID, "User.Read")
		}, err: consent.ErrInvalidRequest},
		{name: ".default scope mixed with explicit scopes", edit: func(r *consent.Request) {
			r.Scopes = append(ask(apiID, ".default"), ask(graphID, "User.Read")...)
		}, err: consent.ErrInvalidRequest},
		{name: "deleted client", edit: func(r *consent.Request) { r.Client.DeletedDateTime = &deleted; r.Default = true },
			err: consent.ErrUnknownClient},
		{name: "client without appId", edit: func(r *consent.Request) { r.Client.AppID = "" }, err: consent.ErrUnknownClient},
		{name: "validation precedes authorization", edit: func(r *consent.Request) {
			r.Tenant = homeTenantWith(tenant.UserConsentNone)
			r.Scopes = ask(graphID, "Nope")
		}, err: consent.ErrUnknownScope},
	})
}

func TestDecideTenantWideAuthorization(t *testing.T) {
	disabledGA := member(memberID, tenant.RoleGlobalAdministrator)
	disabledGA.User.AccountEnabled = false
	tw := func(c tenant.Caller) func(r *consent.Request) {
		return func(r *consent.Request) { r.Default, r.TenantWide, r.Caller = true, true, c }
	}
	runDecide(t, []decideCase{
		{name: "member", edit: tw(member(memberID)), err: tenant.ErrForbidden},
		{name: "Application Developer", edit: tw(member(developerID, tenant.RoleApplicationDeveloper)), err: tenant.ErrForbidden},
		{name: "Application Administrator with Graph app roles", edit: tw(member(memberID, tenant.RoleApplicationAdministrator)), err: tenant.ErrForbidden},
		{name: "Cloud Application Administrator with Graph app roles", edit: tw(member(memberID, tenant.RoleCloudApplicationAdministrator)), err: tenant.ErrForbidden},
		{name: "disabled Global Administrator", edit: tw(disabledGA), err: tenant.ErrForbidden},
		{name: "Application Administrator, delegated only", edit: func(r *consent.Request) {
			r.Scopes, r.TenantWide, r.Caller = ask(graphID, "Files.ReadWrite.All"), true, member(memberID, tenant.RoleApplicationAdministrator)
		}, want: consent.Decision{ConsentType: consent.AllPrincipals, Delegated: []consent.DelegatedGrant{dg(clientID, graphID, "Files.ReadWrite.All")}, Provision: ids(graphID, clientID)}},
	})
}

func TestDecideUserConsent(t *testing.T) {
	policy := func(c tenant.UserConsent) func(r *consent.Request) {
		return func(r *consent.Request) { r.Tenant = homeTenantWith(c) }
	}
	with := func(edits ...func(r *consent.Request)) func(r *consent.Request) {
		return func(r *consent.Request) {
			for _, e := range edits {
				e(r)
			}
		}
	}
	scopes := func(res string, s ...string) func(r *consent.Request) {
		return func(r *consent.Request) { r.Scopes = ask(res, s...) }
	}
	caller := func(c tenant.Caller) func(r *consent.Request) { return func(r *consent.Request) { r.Caller = c } }
	client := func(a application.Application) func(r *consent.Request) {
		return func(r *consent.Request) { r.Client = a }
	}
	classify := func(res string, cls ...serviceprincipal.DelegatedPermissionClassification) func(r *consent.Request) {
		return func(r *consent.Request) {
			x := r.Resources[res]
			x.Classifications = cls
			r.Resources[res] = x
		}
	}
	low := func(name, id string) serviceprincipal.DelegatedPermissionClassification {
		return serviceprincipal.DelegatedPermissionClassification{ID: "c-" + name + id, PermissionName: name, PermissionID: id, Classification: serviceprincipal.ClassificationLow}
	}
	verified := foreignApp()
	verified.VerifiedPublisher = &application.VerifiedPublisher{DisplayName: "Contoso", VerifiedPublisherID: publisherIDStr}
	emptyVerified := foreignApp()
	emptyVerified.VerifiedPublisher = &application.VerifiedPublisher{DisplayName: "Contoso"}
	disabled := member(memberID)
	disabled.User.AccountEnabled = false
	guest := func() tenant.Caller {
		c := member(memberID)
		c.User.UserType, c.User.HomeTenantID = tenant.Guest, otherTenant
		return c
	}()
	restricted := func(r *consent.Request) { r.Tenant.Policy.GuestUserRoleID = tenant.GuestRoleRestricted }
	dev := member(developerID, tenant.RoleApplicationDeveloper)
	userRead := consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(clientID, graphID, "User.Read")}, Provision: ids(graphID, clientID)}
	mailRead := consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(clientID, graphID, "Mail.Read")}, Provision: ids(graphID, clientID)}
	foreignUserRead := consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(foreignID, graphID, "User.Read")}, Provision: ids(graphID, foreignID)}

	runDecide(t, []decideCase{
		{name: "all: user scopes", edit: scopes(graphID, "User.Read"), want: userRead},
		{name: "Admin scope needs admin, listing exactly those scopes",
			edit: scopes(graphID, "User.Read", "Files.ReadWrite.All", "Mail.Read"),
			err:  consent.ErrAdminConsentRequired, errRes: graphID, errScope: ids("Files.ReadWrite.All")},
		{name: "scope of unknown type needs admin", edit: with(func(r *consent.Request) {
			r.Resources[graphID].App.API.OAuth2PermissionScopes[0].Type = ""
		}, scopes(graphID, "User.Read")), err: consent.ErrAdminConsentRequired, errScope: ids("User.Read")},
		{name: "Admin scope of a combined-consent API", edit: with(func(r *consent.Request) {
			r.Resources[downstreamID].App.API.OAuth2PermissionScopes[0].Type = application.ScopeTypeAdmin
			r.Default = true
		}), err: consent.ErrAdminConsentRequired, errRes: downstreamID, errApp: apiID, errScope: ids("Down.Read")},
		{name: "none: user consent disabled", edit: with(policy(tenant.UserConsentNone), scopes(graphID, "User.Read", "Mail.Read")),
			err: consent.ErrUserConsentDisabled, errRes: graphID, errScope: ids("Mail.Read", "User.Read")},
		{name: "none: even sign-in only", edit: with(policy(tenant.UserConsentNone), scopes("", "openid", "profile")),
			err: consent.ErrUserConsentDisabled, errScope: ids("openid", "profile")},
		{name: "none: precedes Admin-scope check", edit: with(policy(tenant.UserConsentNone), scopes(graphID, "Files.ReadWrite.All")),
			err: consent.ErrUserConsentDisabled},
		{name: "appRoleAssignmentRequired: only an admin", edit: with(scopes(graphID, "User.Read"), func(r *consent.Request) { r.ClientAssignmentRequired = true }),
			err: consent.ErrAdminConsentRequired},
		{name: "appRoleAssignmentRequired: also for a Global Administrator for self", edit: with(scopes(graphID, "User.Read"), caller(member(memberID, tenant.RoleGlobalAdministrator)), func(r *consent.Request) { r.ClientAssignmentRequired = true }),
			err: consent.ErrAdminConsentRequired},
		{name: "disabled caller", edit: with(scopes(graphID, "User.Read"), caller(disabled)), err: tenant.ErrForbidden},
		{name: "system caller cannot consent for self", edit: with(scopes(graphID, "User.Read"), caller(tenant.SystemCaller())), err: consent.ErrInvalidRequest},
		{name: "zero caller cannot consent for self", edit: with(scopes(graphID, "User.Read"), caller(tenant.Caller{})), err: consent.ErrInvalidRequest},
		{name: "guest under the guest role consents", edit: with(scopes(graphID, "User.Read"), caller(guest)), want: userRead},
		{name: "restricted guest cannot consent", edit: with(scopes(graphID, "User.Read"), caller(guest), restricted), err: tenant.ErrForbidden},
		{name: "restricted guest role does not affect members", edit: with(scopes(graphID, "User.Read"), restricted), want: userRead},

		{name: "low: home-tenant client, scope classified low by name",
			edit: with(policy(tenant.UserConsentLowRisk), scopes(graphID, "User.Read", "openid"), classify(graphID, low("User.Read", ""))), want: withSignIn(userRead, "openid")},
		{name: "low: classified low by permission id",
			edit: with(policy(tenant.UserConsentLowRisk), scopes(graphID, "Mail.Read"), classify(graphID, low("", gMailRead))), want: mailRead},
		{name: "low: unclassified scopes need admin",
			edit: with(policy(tenant.UserConsentLowRisk), scopes(graphID, "User.Read", "Mail.Read"), classify(graphID, low("User.Read", ""))),
			err:  consent.ErrAdminConsentRequired, errRes: graphID, errScope: ids("Mail.Read")},
		{name: "low: medium is not low",
			edit: with(policy(tenant.UserConsentLowRisk), scopes(graphID, "User.Read"), classify(graphID, serviceprincipal.DelegatedPermissionClassification{PermissionName: "User.Read", Classification: serviceprincipal.ClassificationMedium})),
			err:  consent.ErrAdminConsentRequired, errScope: ids("User.Read")},
		{name: "low: sign-in only for a home-tenant client",
			edit: with(policy(tenant.UserConsentLowRisk), scopes("", "openid")), want: consent.Decision{ConsentType: consent.Principal, Provision: ids(clientID), SignIn: consent.BasicSignInScopes}},
		{name: "low: foreign client of a verified publisher",
			edit: with(policy(tenant.UserConsentLowRisk), client(verified), scopes(graphID, "User.Read"), classify(graphID, low("User.Read", ""))),
			want: consent.Decision{ConsentType: consent.Principal, Delegated: []consent.DelegatedGrant{dg(foreignID, graphID, "User.Read")}, Provision: ids(graphID, foreignID)}},
		{name: "low: foreign unverified client needs admin even for low scopes",
			edit: with(policy(tenant.UserConsentLowRisk), client(foreignApp()), scopes(graphID, "User.Read"), classify(graphID, low("User.Read", ""))),
			err:  consent.ErrAdminConsentRequired, errRes: graphID, errScope: ids("User.Read"), errApp: foreignID},
		{name: "low: verified publisher without an id is unverified",
			edit: with(policy(tenant.UserConsentLowRisk), client(emptyVerified), scopes(graphID, "User.Read"), classify(graphID, low("User.Read", ""))),
			err:  consent.ErrAdminConsentRequired},
		{name: "low: foreign unverified client, sign-in only",
			edit: with(policy(tenant.UserConsentLowRisk), client(foreignApp()), scopes("", "openid", "profile")),
			err:  consent.ErrAdminConsentRequired, errScope: ids("openid", "profile")},
		{name: "all: foreign unverified client", edit: with(client(foreignApp()), scopes(graphID, "User.Read")), want: foreignUserRead},

		{name: "Application Developer consents for an owned app when user consent is off",
			edit: with(policy(tenant.UserConsentNone), caller(dev), scopes(graphID, "User.Read")), want: userRead},
		{name: "Application Developer: low-risk policy does not limit an owned app",
			edit: with(policy(tenant.UserConsentLowRisk), caller(dev), scopes(graphID, "Mail.Read")), want: mailRead},
		{name: "Application Developer: not for apps it does not own",
			edit: with(policy(tenant.UserConsentNone), caller(dev), client(foreignApp()), scopes(graphID, "User.Read")), err: consent.ErrUserConsentDisabled},
		{name: "Application Developer: never Admin scopes for self",
			edit: with(policy(tenant.UserConsentNone), caller(dev), scopes(graphID, "Files.ReadWrite.All")), err: consent.ErrAdminConsentRequired},
		{name: "Application Developer: combined-consent API it does not own",
			edit: with(policy(tenant.UserConsentNone), caller(dev), func(r *consent.Request) { r.Default = true }),
			err:  consent.ErrUserConsentDisabled, errApp: apiID, errRes: downstreamID, errScope: ids("Down.Read")},
		{name: "member owner without the developer role gets no exception",
			edit: with(policy(tenant.UserConsentNone), caller(member(developerID)), scopes(graphID, "User.Read")), err: consent.ErrUserConsentDisabled},
		{name: "Global Administrator consents for self when user consent is off",
			edit: with(policy(tenant.UserConsentNone), caller(member(memberID, tenant.RoleGlobalAdministrator)), scopes(graphID, "User.Read")), want: userRead},
		{name: "Cloud Application Administrator for self under low-risk policy",
			edit: with(policy(tenant.UserConsentLowRisk), caller(member(memberID, tenant.RoleCloudApplicationAdministrator)), scopes(graphID, "Mail.Read")), want: mailRead},
		{name: "Global Administrator: Admin scope only tenant-wide",
			edit: with(caller(member(memberID, tenant.RoleGlobalAdministrator)), scopes(graphID, "Files.ReadWrite.All")), err: consent.ErrAdminConsentRequired},
		{name: "low: combined-consent API checked against its own publisher and classifications",
			edit: with(policy(tenant.UserConsentLowRisk), func(r *consent.Request) { r.Default = true },
				classify(graphID, low("User.Read", "")), classify(apiID, low("access_as_user", ""))),
			err: consent.ErrAdminConsentRequired, errApp: apiID, errRes: downstreamID, errScope: ids("Down.Read")},
		{name: "low: combined consent with everything classified",
			edit: with(policy(tenant.UserConsentLowRisk), func(r *consent.Request) { r.Default = true },
				classify(graphID, low("User.Read", "")), classify(apiID, low("access_as_user", "")), classify(downstreamID, low("", dRead))),
			want: combinedUser},
	})
}

func TestErrorMessage(t *testing.T) {
	r := baseRequest()
	r.Scopes = ask(graphID, "User.Read", "Files.ReadWrite.All")
	_, err := consent.Decide(r)
	want := "consent: admin consent required for scope(s) Files.ReadWrite.All on " + graphID + ": these scopes require admin consent (type Admin)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	for _, tc := range []struct {
		err  *consent.Error
		want string
	}{
		{&consent.Error{Code: consent.ErrUnknownRole, Roles: ids("r1", "r2"), ResourceAppID: "x"}, "consent: unknown app role for app role(s) r1 r2 on x"},
		{&consent.Error{Code: tenant.ErrForbidden, Reason: "user account is disabled"}, "consent: forbidden: user account is disabled"},
		{&consent.Error{Code: consent.ErrUserConsentDisabled}, "consent: user consent is disabled"},
		{&consent.Error{}, "consent: refused"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	e := &consent.Error{Code: consent.ErrScopeDisabled}
	if !errors.Is(e, consent.ErrScopeDisabled) || errors.Is(e, consent.ErrUnknownScope) || e.Unwrap() != consent.ErrScopeDisabled {
		t.Error("Error does not unwrap to exactly its Code")
	}
	for _, s := range []error{consent.ErrAdminConsentRequired, consent.ErrUserConsentDisabled, consent.ErrUnknownScope, consent.ErrScopeDisabled,
		consent.ErrUnknownRole, consent.ErrUnknownResource, consent.ErrUnknownClient, consent.ErrInvalidRequest} {
		if !strings.HasPrefix(s.Error(), "consent: ") {
			t.Errorf("sentinel %q lacks the package prefix", s)
		}
	}
}

func TestDecideDoesNotModifyRequest(t *testing.T) {
	r := baseRequest()
	r.Default, r.TenantWide, r.Caller = true, true, member(memberID, tenant.RoleGlobalAdministrator)
	r.Scopes = ask("", "openid", "profile", "openid")
	before := baseRequest()
	before.Default, before.TenantWide, before.Caller = true, true, member(memberID, tenant.RoleGlobalAdministrator)
	before.Scopes = ask("", "openid", "profile", "openid")
	if _, err := consent.Decide(r); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, r, cmp.AllowUnexported(tenant.Caller{})); diff != "" {
		t.Fatalf("request modified (-before +after):\n%s", diff)
	}
}

func TestIsOIDCScope(t *testing.T) {
	for s, want := range map[string]bool{
		"openid": true, "profile": true, "email": true, "offline_access": true,
		"OpenID": false, "address": false, "phone": false, "User.Read": false, "": false, ".default": false,
	} {
		if got := consent.IsOIDCScope(s); got != want {
			t.Errorf("IsOIDCScope(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSplitScope(t *testing.T) {
	for _, tc := range []struct{ in, resource, value string }{
		{"api://contoso/Files.Read", "api://contoso", "Files.Read"},
		{"api://contoso.com/orders/Orders.Write", "api://contoso.com/orders", "Orders.Write"},
		{"https://graph.microsoft.com/User.Read", consent.GraphResource, "User.Read"},
		{"https://graph.microsoft.com/.default", consent.GraphResource, ".default"},
		{clientID + "/.default", clientID, ".default"},
		{clientID + "/access_as_user", clientID, "access_as_user"},
		{"User.Read", consent.GraphResource, "User.Read"},
		{".default", consent.GraphResource, ".default"},
		{"openid", "", "openid"},
		{"offline_access", "", "offline_access"},
		{"https://contoso.com//.default", "https://contoso.com/", ".default"},
		{"api://contoso//.default", "api://contoso/", ".default"},
		{"https://contoso.com/", "https://contoso.com", ""},
		{"api://contoso", "api://contoso", ""},
		{"  User.Read  ", consent.GraphResource, "User.Read"},
		{"", "", ""},
	} {
		r, v := consent.SplitScope(tc.in)
		if r != tc.resource || v != tc.value {
			t.Errorf("SplitScope(%q) = (%q, %q), want (%q, %q)", tc.in, r, v, tc.resource, tc.value)
		}
	}
}

func TestMatchesResource(t *testing.T) {
	api := apiApp()
	api.IdentifierURIs = []string{"api://contoso/orders", "https://contoso.com/"}
	graph := graphApp()
	for _, tc := range []struct {
		app      application.Application
		resource string
		want     bool
	}{
		{api, apiID, true},
		{api, strings.ToUpper(apiID), true},
		{api, "api://contoso/orders", true},
		{api, "API://Contoso/Orders", true},
		{api, "https://contoso.com/", true},
		{api, "https://contoso.com", false}, // trailing slash matters: use "//.default"
		{api, "api://contoso", false},
		{api, "", false},
		{api, consent.GraphResource, false},
		{graph, consent.GraphResource, true},
		{graph, graphID, true},
	} {
		if got := consent.MatchesResource(tc.app, tc.resource); got != tc.want {
			t.Errorf("MatchesResource(%s, %q) = %v, want %v", tc.app.DisplayName, tc.resource, got, tc.want)
		}
	}
	// Round trip with SplitScope.
	res, _ := consent.SplitScope("https://contoso.com//.default")
	if !consent.MatchesResource(api, res) {
		t.Error(`"https://contoso.com//.default" does not name the app with identifier "https://contoso.com/"`)
	}
	res, _ = consent.SplitScope("User.Read")
	if !consent.MatchesResource(graph, res) {
		t.Error(`bare "User.Read" does not name Microsoft Graph`)
	}
}

func TestPreAuthorized(t *testing.T) {
	api := apiApp()
	api.API.PreAuthorizedApplications = append(api.API.PreAuthorizedApplications,
		application.PreAuthorizedApplication{AppID: clientID, DelegatedPermissionIDs: []string{aAccessAsUser, strings.ToUpper(aProfile)}})
	deleted := apiApp()
	now := time.Now()
	deleted.DeletedDateTime = &now
	disabled := apiApp()
	disabled.API.OAuth2PermissionScopes[0].IsEnabled = false
	for _, tc := range []struct {
		name   string
		app    application.Application
		client string
		scopes []string
		want   bool
	}{
		{"listed scope", api, foreignID, ids("access_as_user"), true},
		{"duplicates and blanks", api, foreignID, ids("access_as_user", "", " access_as_user "), true},
		{"scope not listed for the client", api, foreignID, ids("access_as_user", "Api.Admin"), false},
		{"client not listed", api, unknownID, ids("access_as_user"), false},
		{"client not listed, no scopes", api, unknownID, nil, false},
		{"client listed, no scopes", api, foreignID, nil, true},
		{"client appId compared case-insensitively", api, strings.ToUpper(foreignID), ids("access_as_user"), true},
		{"permission id compared case-insensitively", api, clientID, ids("access_as_user", "profile"), true},
		{"OIDC-named scope of the API is an ordinary scope", api, foreignID, ids("profile"), false},
		{"unpublished scope", api, foreignID, ids("Nope"), false},
		{"disabled scope", disabled, foreignID, ids("access_as_user"), false},
		{"deleted resource", deleted, foreignID, ids("access_as_user"), false},
		{"no api", graphApp(), foreignID, ids("User.Read"), false},
		{"empty client", api, "", nil, false},
	} {
		if got := consent.PreAuthorized(tc.app, tc.client, tc.scopes); got != tc.want {
			t.Errorf("%s: PreAuthorized = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestDecideInvariants drives Decide with random resources, policies,
// callers and requests and checks DESIGN invariant 4 and the shape of every
// decision.
func TestDecideInvariants(t *testing.T) {
	values := []string{"A.Read", "B.Write", "C.All", "D.Admin", "openid", "profile", "E.Role"}
	rapid.Check(t, func(t *rapid.T) {
		resID := rapid.SampledFrom([]string{apiID, graphID}).Draw(t, "resource")
		res := application.Application{AppID: resID, TenantID: homeTenant, API: &application.API{}}
		var cls []serviceprincipal.DelegatedPermissionClassification
		for i, v := range values[:6] {
			if !rapid.Bool().Draw(t, "publish "+v) {
				continue
			}
			id := strings.Repeat(string(rune('a'+i)), 8) + "-0000-4000-8000-000000000000"
			typ := rapid.SampledFrom([]string{application.ScopeTypeUser, application.ScopeTypeUser, application.ScopeTypeAdmin, ""}).Draw(t, "type "+v)
			res.API.OAuth2PermissionScopes = append(res.API.OAuth2PermissionScopes, scope(id, v, typ, rapid.IntRange(0, 9).Draw(t, "enabled "+v) > 0))
			if c := rapid.SampledFrom([]string{"", "low", "medium"}).Draw(t, "class "+v); c != "" {
				cls = append(cls, serviceprincipal.DelegatedPermissionClassification{PermissionName: v, Classification: c})
			}
		}
		res.AppRoles = []application.AppRole{role("e0000000-0000-4000-8000-000000000000", "E.Role", rapid.Bool().Draw(t, "role enabled"), application.MemberTypeApplication)}
		cl := application.Application{AppID: clientID, TenantID: rapid.SampledFrom([]string{homeTenant, otherTenant}).Draw(t, "client tenant")}
		if rapid.Bool().Draw(t, "verified") {
			cl.VerifiedPublisher = &application.VerifiedPublisher{VerifiedPublisherID: publisherIDStr}
		}
		if rapid.Bool().Draw(t, "static") {
			var acc []application.ResourceAccess
			for _, s := range res.API.OAuth2PermissionScopes {
				if rapid.Bool().Draw(t, "rra "+s.Value) {
					acc = append(acc, sc(s.ID))
				}
			}
			if rapid.Bool().Draw(t, "rra role") {
				acc = append(acc, ro(res.AppRoles[0].ID))
			}
			cl.RequiredResourceAccess = []application.RequiredResourceAccess{rra(resID, acc...)}
		}
		roles := rapid.SampledFrom([]tenant.Roles{nil, {tenant.RoleGlobalAdministrator}, {tenant.RoleApplicationAdministrator}, {tenant.RoleApplicationDeveloper}}).Draw(t, "roles")
		req := consent.Request{
			Tenant:                   homeTenantWith(rapid.SampledFrom([]tenant.UserConsent{tenant.UserConsentNone, tenant.UserConsentLowRisk, tenant.UserConsentAll}).Draw(t, "policy")),
			Caller:                   member(memberID, roles...),
			Client:                   cl,
			ClientAssignmentRequired: rapid.Bool().Draw(t, "assignment required"),
			Resources:                map[string]consent.Resource{resID: {App: res, Classifications: cls}},
			Default:                  len(cl.RequiredResourceAccess) > 0,
			TenantWide:               rapid.Bool().Draw(t, "tenant-wide"),
		}
		if !req.Default {
			pool := values // mostly ask for what the resource publishes
			if len(res.API.OAuth2PermissionScopes) > 0 && rapid.IntRange(0, 3).Draw(t, "pool") > 0 {
				pool = nil
				for _, s := range res.API.OAuth2PermissionScopes {
					pool = append(pool, s.Value)
				}
			}
			req.Scopes = ask(resID, rapid.SliceOfN(rapid.SampledFrom(pool), 0, 4).Draw(t, "scopes")...)
		}
		dec, err := consent.Decide(req)
		dec2, err2 := consent.Decide(req)
		if !cmp.Equal(dec, dec2) || (err == nil) != (err2 == nil) {
			t.Fatal("Decide is not deterministic")
		}
		if err != nil {
			var ce *consent.Error
			if !errors.As(err, &ce) || ce.Code == nil {
				t.Fatalf("error %v is not a *consent.Error with a Code", err)
			}
			return
		}
		if !slices.Contains(dec.Provision, clientID) || !slices.IsSorted(dec.Provision) {
			t.Fatalf("Provision %v lacks the client or is unsorted", dec.Provision)
		}
		if req.TenantWide != (dec.ConsentType == consent.AllPrincipals) {
			t.Fatalf("ConsentType %s for TenantWide=%v", dec.ConsentType, req.TenantWide)
		}
		if !req.TenantWide {
			if len(dec.AppRoles) > 0 {
				t.Fatalf("app roles %v granted without admin consent", dec.AppRoles)
			}
			if req.ClientAssignmentRequired {
				t.Fatal("user consent to a client that requires assignment")
			}
			if req.Tenant.Policy.UserConsent() == tenant.UserConsentNone && len(roles) == 0 {
				t.Fatal("user consent where the tenant disables it")
			}
		} else if !roles.Has(tenant.RoleGlobalAdministrator, tenant.RoleApplicationAdministrator) {
			t.Fatalf("tenant-wide consent by %v", roles)
		}
		for _, g := range dec.Delegated {
			if len(g.Scopes) == 0 || !slices.IsSorted(g.Scopes) || len(slices.Compact(slices.Clone(g.Scopes))) != len(g.Scopes) {
				t.Fatalf("grant scopes %q not sorted, unique, non-empty", g.Scopes)
			}
			for _, v := range g.Scopes {
				s, ok := res.ScopeByValue(v)
				if !ok || !s.IsEnabled {
					t.Fatalf("granted %q which the resource does not publish enabled", v)
				}
				if resID == graphID && consent.IsOIDCScope(v) {
					t.Fatalf("recorded OIDC scope %q on Graph", v)
				}
				if !req.TenantWide && s.Type != application.ScopeTypeUser {
					t.Fatalf("user consent granted %s scope %q", s.Type, v)
				}
				if !req.TenantWide && len(roles) == 0 && req.Tenant.Policy.UserConsent() == tenant.UserConsentLowRisk {
					if !slices.ContainsFunc(cls, func(c serviceprincipal.DelegatedPermissionClassification) bool {
						return c.PermissionName == v && c.Classification == "low"
					}) {
						t.Fatalf("low-risk user consent granted unclassified %q", v)
					}
				}
			}
		}
		for _, g := range dec.AppRoles {
			r, ok := res.RoleByID(g.AppRoleID)
			if !ok || !r.IsEnabled || !r.Allows(application.MemberTypeApplication) {
				t.Fatalf("granted role %+v", g)
			}
		}
	})
}

// withSignIn returns d with the sign-in scopes set.
// withSignIn is d with consent to sign in: asking for any sign-in scope
// records the basic sign-in set.
func withSignIn(d consent.Decision, _ ...string) consent.Decision {
	d.SignIn = consent.BasicSignInScopes
	return d
}

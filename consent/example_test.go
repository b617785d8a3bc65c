package consent_test

import (
	"errors"
	"fmt"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/tenant"
)

// A user consents for self to the scopes a client asks for at sign-in; then
// the same user asks for a scope that needs an administrator.
func Example() {
	const (
		tenantID = "11111111-1111-4111-8111-111111111111"
		clientID = "c1000000-0000-4000-8000-000000000001"
	)
	graph := application.Application{
		AppID: application.MicrosoftGraphAppID, DisplayName: "Microsoft Graph",
		API: &application.API{OAuth2PermissionScopes: []application.PermissionScope{
			{ID: "e1fe6dd8-ba31-4d61-89e7-88639da4683d", Value: "User.Read", Type: application.ScopeTypeUser, IsEnabled: true},
			{ID: "863451e7-0667-486c-a5d6-d135439485f0", Value: "Files.ReadWrite.All", Type: application.ScopeTypeAdmin, IsEnabled: true},
		}},
	}
	org := tenant.Tenant{ID: tenantID, DisplayName: "Contoso", Policy: tenant.DefaultPolicy()}
	req := consent.Request{
		Tenant:    org,
		Caller:    tenant.Caller{User: tenant.User{ID: "0a000000-0000-4000-8000-000000000001", AccountEnabled: true, UserType: tenant.Member}},
		Client:    application.Application{AppID: clientID, TenantID: tenantID, DisplayName: "Contoso Portal"},
		Resources: map[string]consent.Resource{graph.AppID: {App: graph}},
	}

	// Split "openid offline_access User.Read" by resource.
	byResource := map[string][]string{}
	for _, s := range []string{"openid", "offline_access", "User.Read"} {
		resource, value := consent.SplitScope(s)
		if resource != "" && consent.MatchesResource(graph, resource) {
			resource = graph.AppID
		}
		byResource[resource] = append(byResource[resource], value)
	}
	for resource, values := range byResource {
		req.Scopes = append(req.Scopes, consent.ScopeRequest{ResourceAppID: resource, Scopes: values})
	}

	d, err := consent.Decide(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.ConsentType)
	for _, g := range d.Delegated {
		fmt.Println(g.ClientAppID, "->", g.ResourceAppID, g.Scopes)
	}
	fmt.Println("provision:", d.Provision)

	req.Scopes = []consent.ScopeRequest{{ResourceAppID: graph.AppID, Scopes: []string{"Files.ReadWrite.All"}}}
	_, err = consent.Decide(req)
	fmt.Println(errors.Is(err, consent.ErrAdminConsentRequired))
	fmt.Println(err)
	// Output:
	// Principal
	// c1000000-0000-4000-8000-000000000001 -> 00000003-0000-0000-c000-000000000000 [User.Read]
	// provision: [00000003-0000-0000-c000-000000000000 c1000000-0000-4000-8000-000000000001]
	// true
	// consent: admin consent required for scope(s) Files.ReadWrite.All on 00000003-0000-0000-c000-000000000000: these scopes require admin consent (type Admin)
}

func ExampleSplitScope() {
	for _, s := range []string{
		"api://contoso/Files.Read",
		"https://graph.microsoft.com/User.Read",
		"User.Read",
		"00000003-0000-0000-c000-000000000000/.default",
		"https://contoso.com//.default",
		"openid",
	} {
		resource, value := consent.SplitScope(s)
		fmt.Printf("%-48s resource=%q value=%q\n", s, resource, value)
	}
	// Output:
	// api://contoso/Files.Read                         resource="api://contoso" value="Files.Read"
	// https://graph.microsoft.com/User.Read            resource="https://graph.microsoft.com" value="User.Read"
	// User.Read                                        resource="https://graph.microsoft.com" value="User.Read"
	// 00000003-0000-0000-c000-000000000000/.default    resource="00000003-0000-0000-c000-000000000000" value=".default"
	// https://contoso.com//.default                    resource="https://contoso.com/" value=".default"
	// openid                                           resource="" value="openid"
}

func ExampleNarrow() {
	g := consent.Grant{ConsentType: consent.AllPrincipals, Scope: "Mail.Read User.Read"}
	g = consent.Merge(g, []string{"Files.Read"})
	fmt.Println(g.Scope)
	g, empty := consent.Narrow(g, []string{"Mail.Read", "Files.Read"})
	fmt.Println(g.Scope, empty)
	_, empty = consent.Narrow(g, []string{"User.Read"})
	fmt.Println(empty)
	// Output:
	// Files.Read Mail.Read User.Read
	// User.Read false
	// true
}

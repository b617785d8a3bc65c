package interop_test

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenantrytest"
)

// With the server posing as Entra's public cloud, MSAL and azidentity run
// with their defaults — Entra's hosts and instance discovery on — given
// only the test's HTTP client: instance discovery is served.
func TestAsEntraInstanceDiscovery(t *testing.T) {
	e := newEnv(t, tenantrytest.AsEntra())
	if e.base != "https://login.microsoftonline.com" {
		t.Fatalf("AsEntra base %q", e.base)
	}
	app := e.daemon("Orders Daemon", application.AzureADMultipleOrgs)
	e.consent(e.contoso.ID, app)
	secret := e.secret(app)
	scopes := []string{apiURI + "/.default"}

	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := confidential.New("https://login.microsoftonline.com/"+e.contoso.ID, app.AppID, cred, confidential.WithHTTPClient(e.client))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.AcquireTokenByCredential(e.ctx, scopes)
	if err != nil {
		t.Fatal(err)
	}
	if p := e.validate(r.AccessToken); p.TenantID != e.contoso.ID {
		t.Fatalf("principal %+v", p)
	}
	if n := e.requests("instance"); n == 0 {
		t.Fatal("MSAL made no instance discovery request")
	}

	az, err := azidentity.NewClientSecretCredential(e.contoso.ID, app.AppID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{Transport: e.client, Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	before := e.requests("instance")
	tok, err := az.GetToken(e.ctx, policy.TokenRequestOptions{Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	e.validate(tok.Token)
	if e.requests("instance") == before {
		t.Fatal("azidentity made no instance discovery request")
	}
}

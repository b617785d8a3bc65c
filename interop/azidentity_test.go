package interop_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
)

// clientOptions points azidentity at the test server: a custom cloud
// whose authority host is the server, the server's TLS client, and no
// retries (a refusal must surface at once).
func (e *env) clientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.base + "/"},
		Transport: e.client,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

func (e *env) tokenOptions() policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{apiURI + "/.default"}}
}

// azidentity's credentials against the server, with instance discovery
// disabled (the authority is not one of Entra's hosts).
func TestAzidentityCredentials(t *testing.T) {
	e := newEnv(t)
	app := e.daemon("Orders Daemon", application.AzureADMultipleOrgs)
	e.consent(e.contoso.ID, app)
	secret := e.secret(app)
	cert, key := e.certificate(app)

	t.Run("ClientSecretCredential", func(t *testing.T) {
		cred, err := azidentity.NewClientSecretCredential(e.contoso.ID, app.AppID, secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(e.ctx, e.tokenOptions())
		if err != nil {
			t.Fatal(err)
		}
		if p := e.validate(tok.Token); !p.IsApp || p.Roles[0] != "Orders.Read.All" {
			t.Fatalf("principal %+v", p)
		}
	})
	t.Run("ClientCertificateCredential", func(t *testing.T) {
		cred, err := azidentity.NewClientCertificateCredential(e.contoso.ID, app.AppID, []*x509.Certificate{cert}, key,
			&azidentity.ClientCertificateCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true, SendCertificateChain: true})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cred.GetToken(e.ctx, e.tokenOptions())
		if err != nil {
			t.Fatal(err)
		}
		e.validate(tok.Token)
	})
	t.Run("ClientAssertionCredential", func(t *testing.T) {
		// azidentity reuses one assertion for many requests (workload
		// identity files): the server must not make assertions single-use.
		assertion, err := signAssertion(cert, key, app.AppID, e.base+"/"+e.contoso.ID+"/oauth2/v2.0/token")
		if err != nil {
			t.Fatal(err)
		}
		cred, err := azidentity.NewClientAssertionCredential(e.contoso.ID, app.AppID, func(context.Context) (string, error) { return assertion, nil },
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			opts := e.tokenOptions()
			opts.EnableCAE = i == 1 // a second cache partition: a second request with the same assertion
			tok, err := cred.GetToken(e.ctx, opts)
			if err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
			e.validate(tok.Token)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		cred, err := azidentity.NewClientSecretCredential(e.contoso.ID, app.AppID, "not-the-secret-of-this-app", &azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cred.GetToken(e.ctx, e.tokenOptions())
		var afe *azidentity.AuthenticationFailedError
		if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != 401 || !strings.Contains(err.Error(), "AADSTS7000215") {
			t.Fatalf("got %T %v, want AuthenticationFailedError 401 AADSTS7000215", err, err)
		}
		t.Logf("azidentity surfaces: %s", firstLine(err.Error()))
	})
}

// DeviceCodeCredential: the user approves the code shown in the prompt
// (here in process, as the signed-in user would on the verification page).
func TestAzidentityDeviceCode(t *testing.T) {
	e := newEnv(t)
	client := e.must(e.dir.CreateApplication(e.ctx, tenantry.System(), e.contoso.ID, application.Application{
		DisplayName: "Orders CLI", IsFallbackPublicClient: true,
		PublicClient: &application.RedirectURIs{RedirectURIs: []string{"http://localhost"}},
		RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: e.api.AppID,
			ResourceAccess: []application.ResourceAccess{{ID: scopeID, Type: application.AccessScope}}}},
	}))
	e.consent(e.contoso.ID, client)
	user := e.admin[e.contoso.ID]
	prompts := 0
	cred, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
		ClientOptions: e.clientOptions(), DisableInstanceDiscovery: true, TenantID: e.contoso.ID, ClientID: client.AppID,
		UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
			prompts++
			if m.VerificationURL != e.base+"/devicelogin" || !strings.Contains(m.Message, m.UserCode) {
				t.Errorf("device code message %+v", m)
			}
			return e.dir.Issuer().ApproveDeviceCode(ctx, tenantry.UserActor(user.ID), m.UserCode)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(e.ctx, policy.TokenRequestOptions{Scopes: []string{apiURI + "/Orders.Read"}})
	if err != nil {
		t.Fatal(err)
	}
	p := e.validate(tok.Token)
	if p.IsApp || p.ObjectID != user.ID || !strings.Contains(" "+strings.Join(p.Scopes, " ")+" ", " Orders.Read ") || prompts != 1 {
		t.Fatalf("principal %+v after %d prompts", p, prompts)
	}
}

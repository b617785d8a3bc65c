package interop_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tenantry/tenantry/application"
)

// golang.org/x/oauth2's client credentials with each client
// authentication style, auto-detection (Basic first, then the body)
// included.
func TestOAuth2ClientCredentials(t *testing.T) {
	e := newEnv(t)
	app := e.daemon("Orders Daemon", application.AzureADMultipleOrgs)
	e.consent(e.contoso.ID, app)
	secret := e.secret(app)
	ctx := context.WithValue(e.ctx, oauth2.HTTPClient, e.client)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := clientcredentials.Config{ClientID: app.AppID, ClientSecret: secret, TokenURL: e.base + "/" + e.contoso.ID + "/oauth2/v2.0/token",
			Scopes: []string{apiURI + "/.default"}, AuthStyle: style}
		tok, err := cfg.Token(ctx)
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		if tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
			t.Fatalf("style %d: token %+v", style, tok)
		}
		e.validate(tok.AccessToken)
	}
	// A refusal surfaces as a RetrieveError with Entra's fields.
	cfg := clientcredentials.Config{ClientID: app.AppID, ClientSecret: "not-the-secret-of-this-app", TokenURL: e.base + "/" + e.contoso.ID + "/oauth2/v2.0/token",
		Scopes: []string{apiURI + "/.default"}, AuthStyle: oauth2.AuthStyleInParams, EndpointParams: url.Values{}}
	_, err := cfg.Token(ctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 || re.ErrorURI == "" {
		t.Fatalf("got %T %v, want RetrieveError invalid_client", err, err)
	}
	t.Logf("x/oauth2 surfaces: %s: %s", re.ErrorCode, firstLine(re.ErrorDescription))
}

package token

import (
	"context"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// The issuer refusal names the accepted issuers and, for a token of the
// other version than the one accepted for its tenant, the likely cause.
func TestIssuerRefusalExplains(t *testing.T) {
	s := vtNewSigner(t, jose.EdDSA)
	validator := func(t *testing.T, issuers ...string) *Validator {
		cfg := vtConfig(StaticKeySet(s.public()))
		cfg.Algorithms = []jose.SignatureAlgorithm{jose.EdDSA}
		cfg.Issuers = issuers
		return vtValidator(t, cfg)
	}
	for _, tc := range []struct {
		name    string
		issuers []string
		claims  map[string]any
		want    []string
	}{
		{
			name: "v1 token, only the v2 issuer", issuers: []string{vtIssuerV2}, claims: vtV1Claims(),
			want: []string{`accepted: "` + vtIssuerV2 + `"`, "this is a v1 token", "requestedAccessTokenVersion to 2", `accept "` + vtIssuerV1 + `" too`},
		},
		{
			name: "v1 token, only the v2 template", issuers: []string{vtTemplateV2}, claims: vtV1Claims(),
			want: []string{`accepted: "` + vtTemplateV2 + `"`, "this is a v1 token", "requestedAccessTokenVersion to 2"},
		},
		{
			name: "v2 token, only the v1 issuer", issuers: []string{vtIssuerV1}, claims: vtV2Claims(),
			want: []string{`accepted: "` + vtIssuerV1 + `"`, "this is a v2 token", "sets api.requestedAccessTokenVersion to 2", `Accept "` + vtIssuerV2 + `" too`},
		},
		{
			name: "another tenant", issuers: []string{vtIssuerV2, vtIssuerV1},
			claims: vtWith(vtV2Claims(), map[string]any{"iss": "https://login.microsoftonline.com/" + vtOtherTenant + "/v2.0", "tid": vtOtherTenant}),
			want:   []string{`accepted: "` + vtIssuerV2 + `", "` + vtIssuerV1 + `"`, "no accepted issuer names the token's tenant"},
		},
		{
			name: "many issuers", issuers: []string{"https://a.example", "https://b.example", "https://c.example", "https://d.example", "https://e.example", vtIssuerV1},
			claims: vtV2Claims(),
			want:   []string{`"https://d.example" (and 2 more)`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validator(t, tc.issuers...).Validate(context.Background(), s.token(t, tc.claims))
			if !errors.Is(err, ErrIssuer) {
				t.Fatalf("err = %v, want ErrIssuer", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q\nwant it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "e.example") {
				t.Errorf("err lists more issuers than it should: %q", err)
			}
		})
	}
}

// A tenant named other than by its GUID would refuse every token: it is a
// configuration error.
func TestNewValidatorRefusesNonGUIDTenants(t *testing.T) {
	keys := StaticKeySet()
	base := func() ValidatorConfig {
		return ValidatorConfig{Keys: keys, Issuers: []string{vtIssuerV2}, Audiences: []string{vtAPIAppID}}
	}
	for _, tc := range []struct {
		name string
		edit func(*ValidatorConfig)
		want string // substring of the error; "" = accepted
	}{
		{"v2 issuer with a domain", func(c *ValidatorConfig) {
			c.Issuers = []string{"https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"}
		}, `names tenant "contoso.onmicrosoft.com" by name or domain`},
		{"v1 issuer with a domain", func(c *ValidatorConfig) { c.Issuers = []string{"https://sts.windows.net/contoso.com/"} }, "v1 tokens carry the tenant's id"},
		{"common", func(c *ValidatorConfig) { c.Issuers = []string{"https://login.microsoftonline.com/common/v2.0"} },
			`use the template "https://login.microsoftonline.com/{tenantid}/v2.0"`},
		{"organizations", func(c *ValidatorConfig) {
			c.Issuers = []string{vtIssuerV1, "https://login.microsoftonline.com/organizations/v2.0"}
		}, `names "organizations"`},
		{"Entra host, tenant name", func(c *ValidatorConfig) { c.Issuers = []string{"https://login.microsoftonline.com/contoso/v2.0"} }, `names tenant "contoso" by name or domain`},
		{"allowed tenant domain", func(c *ValidatorConfig) { c.AllowedTenants = []string{vtTenant, "contoso.onmicrosoft.com"} },
			`AllowedTenants entry "contoso.onmicrosoft.com" is not a tenant id`},
		{"allowed tenant common", func(c *ValidatorConfig) {
			c.Issuers, c.AllowedTenants = []string{vtTemplateV2}, []string{"common"}
		}, `AllowedTenants entry "common"`},

		{"GUID issuers", func(c *ValidatorConfig) { c.Issuers = []string{vtIssuerV1, vtIssuerV2, strings.ToUpper(vtIssuerV2)} }, ""},
		{"templates", func(c *ValidatorConfig) { c.Issuers = []string{vtTemplateV1, vtTemplateV2} }, ""},
		{"upper-case allowed tenant", func(c *ValidatorConfig) { c.AllowedTenants = []string{strings.ToUpper(vtTenant)} }, ""},
		{"other identity providers", func(c *ValidatorConfig) {
			c.Issuers = []string{"https://accounts.google.com", "https://token.actions.githubusercontent.com", "https://idp.example/realm/", "https://dev-1.okta.com/oauth2/default"}
		}, ""},
		{"a test server's GUID issuer", func(c *ValidatorConfig) { c.Issuers = []string{"http://127.0.0.1:8080/" + vtTenant + "/v2.0"} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.edit(&cfg)
			_, err := NewValidator(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("NewValidator: %v", err)
			case tc.want != "" && err == nil:
				t.Fatal("NewValidator accepted the configuration")
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("err = %q\nwant it to contain %q", err, tc.want)
			case tc.want != "" && !errors.Is(err, ErrConfig):
				t.Errorf("err = %v, want it to match ErrConfig", err)
			}
		})
	}
}

package application_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantry/tenantry/application"
)

// The files in testdata are application objects as Microsoft Graph v1.0
// serves them (GET /applications/{id}, with null and empty properties kept),
// plus tenantry's additions: tenantId, owners (ids) and
// federatedIdentityCredentials (a relationship in Graph).
var graphContext = application.ValidationContext{
	TenantID:        "b5a3c8d2-4f1e-4a6b-9c7d-2e8f0a1b3c4d",
	VerifiedDomains: []string{"contoso.com", "contoso.onmicrosoft.com"},
	Now:             time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
}

func graphExamples(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 5 {
		t.Fatalf("found %d Graph examples in testdata, want at least 5", len(paths))
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func decodeStrict(t *testing.T, data []byte) application.Application {
	t.Helper()
	var a application.Application
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return a
}

func TestGraphJSONRoundTrip(t *testing.T) {
	for name, raw := range graphExamples(t) {
		t.Run(name, func(t *testing.T) {
			first := decodeStrict(t, raw)
			out, err := json.Marshal(first)
			if err != nil {
				t.Fatal(err)
			}
			second := decodeStrict(t, out)
			if diff := cmp.Diff(first, second, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("unmarshal → marshal → unmarshal changed the application (-first +second):\n%s", diff)
			}

			var orig, again any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&orig); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &again); err != nil {
				t.Fatal(err)
			}
			compareKeys(t, "$", orig, again)

			if err := first.Validate(graphContext); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// compareKeys walks the original Graph JSON and the re-marshalled JSON
// together: every property tenantry writes must be a property of the
// original (Graph's names, nothing invented), and every property of the
// original that carries data must survive. Properties whose value is null,
// false, "", [] or {} may be omitted; @odata annotations are ignored.
func compareKeys(t *testing.T, path string, orig, out any) {
	t.Helper()
	switch o := orig.(type) {
	case map[string]any:
		m, ok := out.(map[string]any)
		if !ok {
			t.Errorf("%s: object became %T", path, out)
			return
		}
		for k, v := range o {
			if strings.HasPrefix(k, "@odata.") {
				continue
			}
			w, present := m[k]
			if !present {
				if !zeroJSON(v) {
					t.Errorf("%s.%s: property with data %v was dropped", path, k, v)
				}
				continue
			}
			compareKeys(t, path+"."+k, v, w)
		}
		for k := range m {
			if _, ok := o[k]; !ok {
				t.Errorf("%s.%s: marshalled property is not in the Graph JSON", path, k)
			}
		}
	case []any:
		s, ok := out.([]any)
		if !ok || len(s) != len(o) {
			t.Errorf("%s: array of %d became %v", path, len(o), out)
			return
		}
		for i := range o {
			compareKeys(t, fmt.Sprintf("%s[%d]", path, i), o[i], s[i])
		}
	}
}

func zeroJSON(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

func TestGraphJSONContent(t *testing.T) {
	ex := graphExamples(t)

	api := decodeStrict(t, ex["api-scopes-roles.json"])
	if api.AccessTokenVersion() != 2 || api.SignInAudience != application.AzureADMultipleOrgs {
		t.Errorf("api: version %d, audience %s", api.AccessTokenVersion(), api.SignInAudience)
	}
	if s, ok := api.ScopeByValue("access_as_user"); !ok || s.Type != application.ScopeTypeUser || !s.IsEnabled {
		t.Errorf("api: access_as_user = %+v, %v", s, ok)
	}
	if got := api.API.PreAuthorizedApplications[0].DelegatedPermissionIDs; len(got) != 1 || got[0] != "9b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e" {
		t.Errorf("api: delegatedPermissionIds = %v", got)
	}
	if r, ok := api.RoleByID("d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a"); !ok || !r.Allows(application.MemberTypeUser) || !r.Allows(application.MemberTypeApplication) {
		t.Errorf("api: Orders.Approve = %+v, %v", r, ok)
	}

	daemon := decodeStrict(t, ex["daemon.json"])
	if !daemon.IsDeleted() || daemon.API.RequestedAccessTokenVersion != nil || daemon.AccessTokenVersion() != 1 {
		t.Errorf("daemon: deleted %v, version %v", daemon.IsDeleted(), daemon.API.RequestedAccessTokenVersion)
	}
	for _, ra := range daemon.RequiredResourceAccess[0].ResourceAccess {
		if ra.Type != application.AccessRole {
			t.Errorf("daemon: %s has type %s, want Role", ra.ID, ra.Type)
		}
	}

	web := decodeStrict(t, ex["web-app-secrets.json"])
	if len(web.PasswordCredentials) != 2 || web.PasswordCredentials[0].Hint != "Zq7" || web.PasswordCredentials[0].SecretText != "" {
		t.Errorf("web: passwordCredentials = %+v", web.PasswordCredentials)
	}
	if want := time.Date(2027, 1, 31, 10, 2, 45, 228145300, time.UTC); !web.PasswordCredentials[1].EndDateTime.Equal(want) {
		t.Errorf("web: 7-digit fraction parsed as %v", web.PasswordCredentials[1].EndDateTime)
	}
	if web.Web.ImplicitGrantSettings == nil || !web.Web.ImplicitGrantSettings.EnableIDTokenIssuance {
		t.Errorf("web: implicitGrantSettings = %+v", web.Web.ImplicitGrantSettings)
	}
	if p, ok := web.MatchRedirectURI("https://localhost:5001/signin-oidc"); !ok || p != application.PlatformWeb {
		t.Errorf("web: localhost redirect = %s, %v", p, ok)
	}

	spa := decodeStrict(t, ex["spa.json"])
	if p, ok := spa.MatchRedirectURI("http://localhost:5173"); !ok || p != application.PlatformSPA {
		t.Errorf("spa: any-port loopback = %s, %v", p, ok)
	}

	desktop := decodeStrict(t, ex["desktop-public-client.json"])
	if !desktop.IsFallbackPublicClient {
		t.Error("desktop: isFallbackPublicClient lost")
	}
	if p, ok := desktop.MatchRedirectURI("http://localhost:53117"); !ok || p != application.PlatformPublic {
		t.Errorf("desktop: MSAL loopback redirect = %s, %v", p, ok)
	}

	wl := decodeStrict(t, ex["workload-federated.json"])
	k := wl.KeyCredentials[0]
	cert, err := k.Certificate()
	if err != nil {
		t.Fatalf("workload: certificate: %v", err)
	}
	if !cert.NotAfter.Equal(k.EndDateTime) || !cert.NotBefore.Equal(k.StartDateTime) {
		t.Errorf("workload: validity %v–%v, certificate %v–%v", k.StartDateTime, k.EndDateTime, cert.NotBefore, cert.NotAfter)
	}
	if got := base64.RawURLEncoding.EncodeToString(k.CustomKeyIdentifier); got != k.Thumbprint() {
		t.Errorf("workload: customKeyIdentifier %s is not the SHA-1 thumbprint %s", got, k.Thumbprint())
	}
	f := wl.FederatedIdentityCredentials[0]
	if !f.Matches("https://token.actions.githubusercontent.com", "repo:contoso/deploy:ref:refs/heads/main", []string{application.TokenExchangeAudience}) {
		t.Errorf("workload: %+v does not match its own GitHub token", f)
	}
}

// api.acceptMappedClaims reads Graph's true, false and null, and is written
// under Graph's name.
func TestAcceptMappedClaimsJSON(t *testing.T) {
	for raw, want := range map[string]bool{
		`{"api":{"acceptMappedClaims":true}}`:  true,
		`{"api":{"acceptMappedClaims":false}}`: false,
		`{"api":{"acceptMappedClaims":null}}`:  false,
	} {
		a := decodeStrict(t, []byte(raw))
		if a.API == nil || a.API.AcceptMappedClaims != want {
			t.Errorf("%s: api = %+v, want acceptMappedClaims %v", raw, a.API, want)
		}
	}
	out, err := json.Marshal(application.API{AcceptMappedClaims: true})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m["acceptMappedClaims"] != true {
		t.Errorf("marshalled api: %s", out)
	}
}

// The JSON of a credential as Graph shows it carries neither the secret nor
// tenantry's hash.
func TestRedactedSecretJSON(t *testing.T) {
	p, err := application.NewPasswordCredential(secretID, "ci", "", created, created.AddDate(0, 6, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"secretText", "secretHash"} {
		if _, ok := m[k]; ok {
			t.Errorf("redacted JSON has %s: %s", k, b)
		}
	}
	if bytes.Contains(b, []byte(p.SecretText)) {
		t.Errorf("redacted JSON contains the secret: %s", b)
	}
	for _, k := range []string{"keyId", "displayName", "hint", "startDateTime", "endDateTime"} {
		if _, ok := m[k]; !ok {
			t.Errorf("redacted JSON lacks Graph property %s: %s", k, b)
		}
	}
}

// Marshalling the baseline and reading it back loses nothing.
func TestBaselineJSONRoundTrip(t *testing.T) {
	a := baseline(t)
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeStrict(t, b)
	if diff := cmp.Diff(a, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := got.Validate(vctx); err != nil {
		t.Error(err)
	}
}

package application_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

const (
	tenantID   = "b5a3c8d2-4f1e-4a6b-9c7d-2e8f0a1b3c4d"
	appID      = "8f2d5a61-3c7b-4e9a-b1d2-7e6f5a4b3c21"
	objectID   = "0b8c1e52-6d3f-4a7e-9b21-5c4d3e2f1a09"
	clientID   = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
	otherGUID  = "11111111-2222-4333-8444-555555555555"
	scope1ID   = "9b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
	scope2ID   = "2f3e4d5c-6b7a-4c8d-9e0f-1a2b3c4d5e6f"
	role1ID    = "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f"
	role2ID    = "d1e2f3a4-b5c6-4d7e-8f9a-0b1c2d3e4f5a"
	secretID   = "4e3d2c1b-0a9f-4e8d-8c7b-6a5f4e3d2c1b"
	certID     = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
	ficID      = "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"
	ownerID    = "6f5e4d3c-2b1a-4f0e-9d8c-7b6a5f4e3d2c"
	userReadID = "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
	usersAllID = "df021288-bdef-4463-88db-98f22de89214"
)

var (
	created = time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	vctx    = application.ValidationContext{
		TenantID:        tenantID,
		VerifiedDomains: []string{"contoso.com", "contoso.onmicrosoft.com"},
		Now:             time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
	}
)

// newCert returns a fresh self-signed ECDSA certificate valid from
// notBefore to notAfter.
func newCert(t testing.TB, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "tenantry test"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func ptr[T any](v T) *T { return &v }

// baseline is a valid AzureADMyOrg application using every feature the
// audience allows; each table case changes one thing.
func baseline(t testing.TB) application.Application {
	t.Helper()
	secret, err := application.NewPasswordCredential(secretID, "prod", "", created, created.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	cert := newCert(t, created, created.AddDate(2, 0, 0))
	return application.Application{
		ID:             objectID,
		AppID:          appID,
		TenantID:       tenantID,
		DisplayName:    "Contoso Orders",
		Description:    "Orders web app and API",
		Tags:           []string{"orders", "tier:1"},
		SignInAudience: application.AzureADMyOrg,
		IdentifierURIs: []string{"api://" + appID, "https://orders.contoso.com"},
		Web: &application.Web{
			RedirectURIs: []string{
				"https://orders.contoso.com/signin-oidc",
				"http://localhost:5000/signin-oidc",
				"https://*.preview.contoso.com/signin-oidc",
				"https://orders.contoso.com/cb?tenant=contoso",
			},
			HomePageURL:           "https://orders.contoso.com",
			LogoutURL:             "https://orders.contoso.com/signout-oidc",
			ImplicitGrantSettings: &application.ImplicitGrantSettings{EnableIDTokenIssuance: true},
		},
		SPA: &application.RedirectURIs{RedirectURIs: []string{"https://orders.contoso.com/spa", "http://localhost:3000"}},
		PublicClient: &application.RedirectURIs{RedirectURIs: []string{
			"msal" + appID + "://auth",
			application.NativeClientRedirectURI,
			"http://127.0.0.1/callback",
			"com.contoso.orders:/oauth2redirect",
		}},
		API: &application.API{
			KnownClientApplications: []string{clientID},
			OAuth2PermissionScopes: []application.PermissionScope{
				{ID: scope1ID, Value: "access_as_user", Type: application.ScopeTypeUser, IsEnabled: true, AdminConsentDisplayName: "Access Orders"},
				{ID: scope2ID, Value: "Orders.ReadWrite.All", Type: application.ScopeTypeAdmin, IsEnabled: true, AdminConsentDisplayName: "Read and write all orders"},
			},
			PreAuthorizedApplications:   []application.PreAuthorizedApplication{{AppID: clientID, DelegatedPermissionIDs: []string{scope1ID}}},
			RequestedAccessTokenVersion: ptr(2),
		},
		AppRoles: []application.AppRole{
			{ID: role1ID, AllowedMemberTypes: []string{application.MemberTypeApplication}, Value: "Orders.Read.All", DisplayName: "Read all orders", IsEnabled: true},
			{ID: role2ID, AllowedMemberTypes: []string{application.MemberTypeUser, application.MemberTypeApplication}, Value: "Orders.Approve", DisplayName: "Approver", IsEnabled: true},
		},
		RequiredResourceAccess: []application.RequiredResourceAccess{{
			ResourceAppID: application.MicrosoftGraphAppID,
			ResourceAccess: []application.ResourceAccess{
				{ID: userReadID, Type: application.AccessScope},
				{ID: usersAllID, Type: application.AccessRole},
			},
		}},
		PasswordCredentials: []application.PasswordCredential{secret.Stored()},
		KeyCredentials:      []application.KeyCredential{application.NewCertificateCredential(certID, "deploy", cert)},
		FederatedIdentityCredentials: []application.FederatedIdentityCredential{{
			ID:        ficID,
			Name:      "github-main",
			Issuer:    "https://token.actions.githubusercontent.com",
			Subject:   "repo:contoso/orders:ref:refs/heads/main",
			Audiences: []string{application.TokenExchangeAudience},
		}},
		OptionalClaims:        &application.OptionalClaims{IDToken: []application.OptionalClaim{{Name: "email"}}},
		GroupMembershipClaims: "SecurityGroup",
		Owners:                []string{ownerID},
		CreatedDateTime:       created,
	}
}

// personal is a valid AzureADandPersonalMicrosoftAccount application: no
// app roles, no optional claims, no query or wildcard redirect URIs, v2
// access tokens.
func personal(t testing.TB) application.Application {
	a := baseline(t)
	a.SignInAudience = application.AzureADandPersonalMicrosoftAccount
	a.AppRoles = nil
	a.OptionalClaims = nil
	a.Web.RedirectURIs = a.Web.RedirectURIs[:2]
	a.RequiredResourceAccess[0].ResourceAccess = a.RequiredResourceAccess[0].ResourceAccess[:1]
	return a
}

// fields returns the Field of every error joined in err, in order; an error
// that is not a *tenant.FieldError shows as "!" plus its text.
func fields(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var fe *tenant.FieldError
		if errors.As(e, &fe) {
			out = append(out, fe.Field)
		} else {
			out = append(out, "!"+e.Error())
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

func guids(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-0000-4000-8000-%012x", prefix, i)
	}
	return out
}

func TestBaselinesValid(t *testing.T) {
	for name, a := range map[string]application.Application{
		"AzureADMyOrg": baseline(t),
		"AzureADMultipleOrgs": func() application.Application {
			a := baseline(t)
			a.SignInAudience = application.AzureADMultipleOrgs
			return a
		}(),
		"AzureADandPersonalMicrosoftAccount": personal(t),
		"PersonalMicrosoftAccount": func() application.Application {
			a := personal(t)
			a.SignInAudience = application.PersonalMicrosoftAccount
			return a
		}(),
	} {
		if err := a.Validate(vctx); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := (application.Application{}).Validate(vctx); err == nil || !errors.Is(err, tenant.ErrInvalid) {
		t.Errorf("zero Application: got %v, want an ErrInvalid", err)
	}
}

type validateCase struct {
	name   string
	base   func(testing.TB) application.Application
	mutate func(a *application.Application)
	ctx    *application.ValidationContext
	want   []string // fields, in report order; nil means valid
}

func runValidateCases(t *testing.T, cases []validateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := tc.base
			if base == nil {
				base = baseline
			}
			a := base(t)
			if tc.mutate != nil {
				tc.mutate(&a)
			}
			ctx := vctx
			if tc.ctx != nil {
				ctx = *tc.ctx
			}
			err := a.Validate(ctx)
			if diff := cmp.Diff(tc.want, fields(err), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("fields (-want +got):\n%s\nerror: %v", diff, err)
			}
			if err != nil && !errors.Is(err, tenant.ErrInvalid) {
				t.Errorf("errors.Is(err, tenant.ErrInvalid) = false for %v", err)
			}
		})
	}
}

func TestValidateObject(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	runValidateCases(t, []validateCase{
		{name: "id not a GUID", mutate: func(a *application.Application) { a.ID = "0b8c1e526d3f4a7e9b215c4d3e2f1a09" }, want: []string{"id"}},
		{name: "id in braces", mutate: func(a *application.Application) { a.ID = "{" + objectID + "}" }, want: []string{"id"}},
		{name: "id uppercase is fine", mutate: func(a *application.Application) { a.ID = strings.ToUpper(objectID) }},
		{name: "appId missing", mutate: func(a *application.Application) { a.AppID = "" }, want: []string{"appId", "identifierUris[0]"}},
		{name: "tenantId not a GUID", mutate: func(a *application.Application) { a.TenantID = "contoso" }, want: []string{"tenantId"}},
		{name: "tenantId of another tenant", mutate: func(a *application.Application) { a.TenantID = otherGUID }, want: []string{"tenantId"}},
		{name: "tenantId from the app when the context has none", mutate: func(a *application.Application) {
			a.IdentifierURIs = []string{"api://" + tenantID + "/orders"}
		}, ctx: &application.ValidationContext{VerifiedDomains: vctx.VerifiedDomains}},
		{name: "signInAudience unknown", mutate: func(a *application.Application) { a.SignInAudience = "AzureAD" },
			want: []string{"signInAudience", "web.redirectUris[2]", "web.redirectUris[3]"}},
		{name: "signInAudience empty", mutate: func(a *application.Application) {
			a.SignInAudience = ""
			a.Web.RedirectURIs = a.Web.RedirectURIs[:2]
		}, want: []string{"signInAudience"}},
		{name: "displayName missing", mutate: func(a *application.Application) { a.DisplayName = " " }, want: []string{"displayName"}},
		{name: "displayName 120", mutate: func(a *application.Application) { a.DisplayName = long(120) }},
		{name: "displayName 121", mutate: func(a *application.Application) { a.DisplayName = long(121) }, want: []string{"displayName"}},
		{name: "displayName counts characters, not bytes", mutate: func(a *application.Application) { a.DisplayName = strings.Repeat("é", 120) }},
		{name: "personal displayName 90", base: personal, mutate: func(a *application.Application) { a.DisplayName = long(90) }},
		{name: "personal displayName 91", base: personal, mutate: func(a *application.Application) { a.DisplayName = long(91) }, want: []string{"displayName"}},
		{name: "description 1024", mutate: func(a *application.Application) { a.Description = long(1024) }},
		{name: "description 1025", mutate: func(a *application.Application) { a.Description = long(1025) }, want: []string{"description"}},
		{name: "tag empty", mutate: func(a *application.Application) { a.Tags = append(a.Tags, "") }, want: []string{"tags[2]"}},
		{name: "tag with space", mutate: func(a *application.Application) { a.Tags = append(a.Tags, "hide app") }, want: []string{"tags[2]"}},
		{name: "tag with tab", mutate: func(a *application.Application) { a.Tags = append(a.Tags, "hide\tapp") }, want: []string{"tags[2]"}},
		{name: "tag 256", mutate: func(a *application.Application) { a.Tags = append(a.Tags, long(256)) }},
		{name: "tag 257", mutate: func(a *application.Application) { a.Tags = append(a.Tags, long(257)) }, want: []string{"tags[2]"}},
		{name: "tag duplicate", mutate: func(a *application.Application) { a.Tags = append(a.Tags, "orders") }, want: []string{"tags[2]"}},
		{name: "groupMembershipClaims unknown", mutate: func(a *application.Application) { a.GroupMembershipClaims = "Groups" }, want: []string{"groupMembershipClaims"}},
		{name: "groupMembershipClaims None", mutate: func(a *application.Application) { a.GroupMembershipClaims = "None" }},
		{name: "groupMembershipClaims All", mutate: func(a *application.Application) { a.GroupMembershipClaims = "All" }},
		{name: "groupMembershipClaims DirectoryRole", mutate: func(a *application.Application) { a.GroupMembershipClaims = "DirectoryRole" }},
		{name: "groupMembershipClaims ApplicationGroup", mutate: func(a *application.Application) { a.GroupMembershipClaims = "ApplicationGroup" }},
		{name: "groupMembershipClaims empty", mutate: func(a *application.Application) { a.GroupMembershipClaims = "" }},
		{name: "owner not a GUID", mutate: func(a *application.Application) { a.Owners = append(a.Owners, "alice@contoso.com") }, want: []string{"owners[1]"}},
		{name: "owner duplicate", mutate: func(a *application.Application) { a.Owners = append(a.Owners, strings.ToUpper(ownerID)) }, want: []string{"owners[1]"}},
		{name: "deleted before created", mutate: func(a *application.Application) { a.DeletedDateTime = ptr(created.Add(-time.Second)) }, want: []string{"deletedDateTime"}},
		{name: "deleted after created", mutate: func(a *application.Application) { a.DeletedDateTime = ptr(created.Add(time.Hour)) }},
		{name: "deleted in the future", mutate: func(a *application.Application) { a.DeletedDateTime = ptr(vctx.Now.Add(time.Hour)) }, want: []string{"deletedDateTime"}},
		{name: "created in the future", mutate: func(a *application.Application) { a.CreatedDateTime = vctx.Now.Add(time.Hour) }, want: []string{"createdDateTime"}},
		{name: "no clock, no future check", mutate: func(a *application.Application) { a.CreatedDateTime = vctx.Now.Add(time.Hour) },
			ctx: &application.ValidationContext{TenantID: tenantID, VerifiedDomains: vctx.VerifiedDomains}},
		{name: "optionalClaims not for AzureADandPersonalMicrosoftAccount", base: personal, mutate: func(a *application.Application) {
			a.OptionalClaims = &application.OptionalClaims{AccessToken: []application.OptionalClaim{{Name: "ipaddr"}}}
		}, want: []string{"optionalClaims"}},
		{name: "empty optionalClaims fine for AzureADandPersonalMicrosoftAccount", base: personal, mutate: func(a *application.Application) {
			a.OptionalClaims = &application.OptionalClaims{}
		}},
		{name: "optionalClaims fine for PersonalMicrosoftAccount", base: personal, mutate: func(a *application.Application) {
			a.SignInAudience = application.PersonalMicrosoftAccount
			a.OptionalClaims = &application.OptionalClaims{IDToken: []application.OptionalClaim{{Name: "email"}}}
		}},
		{name: "optional claim without name", mutate: func(a *application.Application) {
			a.OptionalClaims.SAML2Token = []application.OptionalClaim{{Name: ""}}
		}, want: []string{"optionalClaims.saml2Token[0].name"}},
		{name: "1200 collection entries", mutate: func(a *application.Application) {
			a.API.KnownClientApplications = guids(1200-manifestEntries(*a)+1, "aaaaaaaa")
		}},
		{name: "1201 collection entries", mutate: func(a *application.Application) {
			a.API.KnownClientApplications = guids(1200-manifestEntries(*a)+2, "aaaaaaaa")
		}, want: []string{"api.knownClientApplications"}},
	})
}

// manifestEntries counts the collection entries of a the way the 1200 cap
// does.
func manifestEntries(a application.Application) int {
	n := len(a.IdentifierURIs) + len(a.AppRoles) + len(a.RequiredResourceAccess) + len(a.KeyCredentials) + len(a.PasswordCredentials)
	for _, p := range []application.RedirectURIPlatform{application.PlatformWeb, application.PlatformSPA, application.PlatformPublic} {
		n += len(a.RedirectURIsOf(p))
	}
	if a.API != nil {
		n += len(a.API.OAuth2PermissionScopes) + len(a.API.KnownClientApplications) + len(a.API.PreAuthorizedApplications)
	}
	return n
}

func TestValidateIdentifierURIs(t *testing.T) {
	org := []string{
		"api://" + appID,
		"api://" + strings.ToUpper(appID),
		"API://" + appID,
		"api://" + appID + "/" + appID,
		"api://" + tenantID + "/" + appID,
		"api://" + tenantID + "/orders",
		"api://" + tenantID + "/orders/v2",
		"api://productapi/" + appID,
		"api://contoso.com/orders",
		"api://Contoso.COM/orders",
		"api://orders.contoso.com/api",
		"api://contoso.onmicrosoft.com/orders",
		"https://contoso.onmicrosoft.com/orders",
		"https://contoso.com/orders",
		"https://orders.contoso.com",
		"https://eu.orders.contoso.com",
		"https://orders.contoso.com/api/v1",
		"https://ORDERS.Contoso.com/api",
		"urn:contoso:orders",
		"api://" + appID + "?env=test",
		"https://contoso.com/orders#v1",
		"https://contoso.com/" + strings.Repeat("a", 255-len("https://contoso.com/")),
	}
	rejected := []string{
		"",
		"api://" + tenantID,
		"api://" + appID + "/orders",
		"api://" + otherGUID,
		"api://" + otherGUID + "/" + appID,
		"api://" + otherGUID + "/orders",
		"api://fabrikam.com/orders",
		"api://productapi",
		"api://productapi/orders",
		"api://contoso.com",
		"api://evilcontoso.com/orders",
		"api:" + appID,
		"api:/" + appID,
		"api://",
		"api://" + appID + "/",
		"api://contoso.com:443/orders",
		"api://bad_host!/" + appID,
		"https://contoso.com",
		"https://contoso.com/",
		"https://contoso.com/orders/",
		"https://contoso.com/orders/?x=1",
		"https://fabrikam.com/orders",
		"https://evilcontoso.com/orders",
		"https://contoso.com.evil.com/orders",
		"https://contoso.com:8443/orders",
		"https://user@contoso.com/orders",
		"https://*.contoso.com",
		"api://" + appID + "*",
		"http://contoso.com/orders",
		"ftp://contoso.com/orders",
		"contoso.com/orders",
		"https://contoso.com/or ders",
		"https://contoso.com/%zz",
		"https://contoso.com/" + strings.Repeat("a", 256-len("https://contoso.com/")),
	}
	personalOK := []string{
		"api://" + appID,
		"api://" + tenantID + "/orders",
		"https://contoso.com/orders",
		"https://contoso.com/" + strings.Repeat("a", 120-len("https://contoso.com/")),
	}
	personalRejected := []string{
		"urn:contoso:orders",
		"api://" + appID + "?env=test",
		"https://contoso.com/orders#v1",
		"https://contoso.com/" + strings.Repeat("a", 121-len("https://contoso.com/")),
	}
	var cases []validateCase
	add := func(base func(testing.TB) application.Application, uris []string, ok bool) {
		for _, u := range uris {
			tc := validateCase{name: u, base: base, mutate: func(a *application.Application) { a.IdentifierURIs = []string{u} }}
			if base != nil {
				tc.name = "personal " + u
			}
			if !ok {
				tc.name = "rejects " + tc.name
				tc.want = []string{"identifierUris[0]"}
			}
			cases = append(cases, tc)
		}
	}
	add(nil, org, true)
	add(nil, rejected, false)
	add(personal, personalOK, true)
	add(personal, personalRejected, false)
	cases = append(cases,
		validateCase{name: "duplicate, case-insensitively", mutate: func(a *application.Application) {
			a.IdentifierURIs = []string{"api://" + appID, "api://" + strings.ToUpper(appID)}
		}, want: []string{"identifierUris[1]"}},
		validateCase{name: "no verified domains", mutate: func(a *application.Application) {
			a.IdentifierURIs = []string{"api://" + appID, "https://contoso.com/orders"}
		}, ctx: &application.ValidationContext{TenantID: tenantID}, want: []string{"identifierUris[1]"}},
		validateCase{name: "verified domains are case- and dot-insensitive", mutate: func(a *application.Application) {
			a.IdentifierURIs = []string{"https://contoso.com/orders"}
		}, ctx: &application.ValidationContext{TenantID: tenantID, VerifiedDomains: []string{"Contoso.COM."}}},
		validateCase{name: "personal: 50 URIs", base: personal, mutate: func(a *application.Application) {
			a.IdentifierURIs = nil
			for i := range 50 {
				a.IdentifierURIs = append(a.IdentifierURIs, fmt.Sprintf("https://contoso.com/api%d", i))
			}
		}},
		validateCase{name: "personal: 51 URIs", base: personal, mutate: func(a *application.Application) {
			a.IdentifierURIs = nil
			for i := range 51 {
				a.IdentifierURIs = append(a.IdentifierURIs, fmt.Sprintf("https://contoso.com/api%d", i))
			}
		}, want: []string{"identifierUris"}},
	)
	runValidateCases(t, cases)
}

func TestValidateRedirectURIsInApp(t *testing.T) {
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("https://orders.contoso.com/cb%d", i)
		}
		return out
	}
	runValidateCases(t, []validateCase{
		{name: "http on a public host", mutate: func(a *application.Application) {
			a.Web.RedirectURIs = append(a.Web.RedirectURIs, "http://orders.contoso.com/cb")
		}, want: []string{"web.redirectUris[4]"}},
		{name: "IPv6 loopback", mutate: func(a *application.Application) {
			a.PublicClient.RedirectURIs = append(a.PublicClient.RedirectURIs, "http://[::1]:5000/cb")
		}, want: []string{"publicClient.redirectUris[4]"}},
		{name: "custom scheme on spa", mutate: func(a *application.Application) {
			a.SPA.RedirectURIs = append(a.SPA.RedirectURIs, "msal"+appID+"://auth")
		}, want: []string{"spa.redirectUris[2]"}},
		{name: "wildcard on spa", mutate: func(a *application.Application) {
			a.SPA.RedirectURIs = append(a.SPA.RedirectURIs, "https://*.contoso.com/spa")
		}, want: []string{"spa.redirectUris[2]"}},
		{name: "duplicate within a platform, scheme and host case-folded", mutate: func(a *application.Application) {
			a.Web.RedirectURIs = append(a.Web.RedirectURIs, "HTTPS://Orders.Contoso.com/signin-oidc")
		}, want: []string{"web.redirectUris[4]"}},
		{name: "path case makes a different URI", mutate: func(a *application.Application) {
			a.Web.RedirectURIs = append(a.Web.RedirectURIs, "https://orders.contoso.com/Signin-OIDC")
		}},
		{name: "same URI on two platforms", mutate: func(a *application.Application) {
			a.SPA.RedirectURIs = append(a.SPA.RedirectURIs, a.Web.RedirectURIs[0])
		}},
		{name: "personal: query", base: personal, mutate: func(a *application.Application) {
			a.Web.RedirectURIs = append(a.Web.RedirectURIs, "https://orders.contoso.com/cb?x=1")
		}, want: []string{"web.redirectUris[2]"}},
		{name: "personal: wildcard", base: personal, mutate: func(a *application.Application) {
			a.Web.RedirectURIs = append(a.Web.RedirectURIs, "https://*.contoso.com/cb")
		}, want: []string{"web.redirectUris[2]"}},
		{name: "org: 256 in all", mutate: func(a *application.Application) {
			a.PublicClient.RedirectURIs = append(a.PublicClient.RedirectURIs, many(256-10)...)
		}},
		{name: "org: 257 in all", mutate: func(a *application.Application) {
			a.PublicClient.RedirectURIs = append(a.PublicClient.RedirectURIs, many(257-10)...)
		}, want: []string{"publicClient.redirectUris"}},
		{name: "org: the largest platform is named", mutate: func(a *application.Application) {
			a.Web.RedirectURIs = many(251)
		}, want: []string{"web.redirectUris"}},
		{name: "personal: 100 in all", base: personal, mutate: func(a *application.Application) {
			a.SPA.RedirectURIs = append(a.SPA.RedirectURIs, many(100-8)...)
		}},
		{name: "personal: 101 in all", base: personal, mutate: func(a *application.Application) {
			a.SPA.RedirectURIs = append(a.SPA.RedirectURIs, many(101-8)...)
		}, want: []string{"spa.redirectUris"}},
		{name: "PersonalMicrosoftAccount: 101 in all", base: personal, mutate: func(a *application.Application) {
			a.SignInAudience = application.PersonalMicrosoftAccount
			a.SPA.RedirectURIs = append(a.SPA.RedirectURIs, many(101-8)...)
		}, want: []string{"spa.redirectUris"}},
		{name: "logoutUrl over http", mutate: func(a *application.Application) { a.Web.LogoutURL = "http://orders.contoso.com/signout" }, want: []string{"web.logoutUrl"}},
		{name: "logoutUrl on https localhost", mutate: func(a *application.Application) { a.Web.LogoutURL = "https://localhost:5001/signout" }},
		{name: "logoutUrl relative", mutate: func(a *application.Application) { a.Web.LogoutURL = "/signout" }, want: []string{"web.logoutUrl"}},
		{name: "logoutUrl 256", mutate: func(a *application.Application) {
			a.Web.LogoutURL = "https://orders.contoso.com/" + strings.Repeat("a", 256-len("https://orders.contoso.com/"))
		}, want: []string{"web.logoutUrl"}},
		{name: "personal logoutUrl wildcard", base: personal, mutate: func(a *application.Application) { a.Web.LogoutURL = "https://*.contoso.com/signout" }, want: []string{"web.logoutUrl"}},
		{name: "homePageUrl ftp", mutate: func(a *application.Application) { a.Web.HomePageURL = "ftp://orders.contoso.com" }, want: []string{"web.homePageUrl"}},
		{name: "implicit grant allowed", mutate: func(a *application.Application) {
			a.Web.ImplicitGrantSettings = &application.ImplicitGrantSettings{EnableIDTokenIssuance: true, EnableAccessTokenIssuance: true}
		}},
	})
}

func TestValidateAPI(t *testing.T) {
	scope := func(i int) application.PermissionScope {
		return application.PermissionScope{ID: guids(i+1, "cccccccc")[i], Value: fmt.Sprintf("Scope.%d", i), Type: application.ScopeTypeUser, IsEnabled: true}
	}
	runValidateCases(t, []validateCase{
		{name: "requestedAccessTokenVersion 1", mutate: func(a *application.Application) { a.API.RequestedAccessTokenVersion = ptr(1) }},
		{name: "requestedAccessTokenVersion null", mutate: func(a *application.Application) { a.API.RequestedAccessTokenVersion = nil }},
		{name: "requestedAccessTokenVersion 3", mutate: func(a *application.Application) { a.API.RequestedAccessTokenVersion = ptr(3) }, want: []string{"api.requestedAccessTokenVersion"}},
		{name: "requestedAccessTokenVersion 0", mutate: func(a *application.Application) { a.API.RequestedAccessTokenVersion = ptr(0) }, want: []string{"api.requestedAccessTokenVersion"}},
		{name: "personal: version 1", base: personal, mutate: func(a *application.Application) { a.API.RequestedAccessTokenVersion = ptr(1) }, want: []string{"api.requestedAccessTokenVersion"}},
		{name: "personal: version null", base: personal, mutate: func(a *application.Application) { a.API.RequestedAccessTokenVersion = nil }, want: []string{"api.requestedAccessTokenVersion"}},
		{name: "personal: no api", base: personal, mutate: func(a *application.Application) { a.API = nil }, want: []string{"api.requestedAccessTokenVersion"}},
		{name: "org: no api", mutate: func(a *application.Application) { a.API = nil }},
		{name: "knownClientApplications not a GUID", mutate: func(a *application.Application) { a.API.KnownClientApplications = []string{"portal"} }, want: []string{"api.knownClientApplications[0]"}},
		{name: "knownClientApplications duplicate", mutate: func(a *application.Application) {
			a.API.KnownClientApplications = append(a.API.KnownClientApplications, clientID)
		}, want: []string{"api.knownClientApplications[1]"}},
		{name: "scope id not a GUID", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].ID = "2" }, want: []string{"api.oauth2PermissionScopes[1].id"}},
		{name: "scope id duplicate", mutate: func(a *application.Application) {
			a.API.OAuth2PermissionScopes[1].ID = strings.ToUpper(scope1ID)
		}, want: []string{"api.oauth2PermissionScopes[1].id"}},
		{name: "scope value missing", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = "" }, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "scope value with space", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = "Orders Read" }, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "scope value starting with dot", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = ".Orders" }, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "scope value with quote", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = `Orders"` }, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "scope value with backslash", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = `Orders\All` }, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "scope value non-ASCII", mutate: func(a *application.Application) {
			a.API.OAuth2PermissionScopes[1].Value = "Bestellungen.Lesen.Übersicht"
		}, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "scope value with every allowed symbol", mutate: func(a *application.Application) {
			a.API.OAuth2PermissionScopes[1].Value = "a:!#$%&'()*+,-./;<=>?@[]^_`{|}~Z9"
		}},
		{name: "scope value 120", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = strings.Repeat("s", 120) }},
		{name: "scope value 121", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = strings.Repeat("s", 121) }, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "personal: scope value 40", base: personal, mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = strings.Repeat("s", 40) }},
		{name: "personal: scope value 41", base: personal, mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = strings.Repeat("s", 41) }, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "scope value duplicate, case-insensitively", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Value = "Access_As_User" }, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "scope type unknown", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Type = "Everyone" }, want: []string{"api.oauth2PermissionScopes[1].type"}},
		{name: "scope type missing", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].Type = "" }, want: []string{"api.oauth2PermissionScopes[1].type"}},
		{name: "disabled scope still validated", mutate: func(a *application.Application) {
			a.API.OAuth2PermissionScopes[1].IsEnabled = false
			a.API.OAuth2PermissionScopes[1].Value = "bad value"
		}, want: []string{"api.oauth2PermissionScopes[1].value"}},
		{name: "personal: 100 scopes", base: personal, mutate: func(a *application.Application) {
			for i := range 98 {
				a.API.OAuth2PermissionScopes = append(a.API.OAuth2PermissionScopes, scope(i))
			}
		}},
		{name: "personal: 101 scopes", base: personal, mutate: func(a *application.Application) {
			for i := range 99 {
				a.API.OAuth2PermissionScopes = append(a.API.OAuth2PermissionScopes, scope(i))
			}
		}, want: []string{"api.oauth2PermissionScopes"}},
		{name: "preAuthorized appId not a GUID", mutate: func(a *application.Application) { a.API.PreAuthorizedApplications[0].AppID = "portal" }, want: []string{"api.preAuthorizedApplications[0].appId"}},
		{name: "preAuthorized client twice", mutate: func(a *application.Application) {
			a.API.PreAuthorizedApplications = append(a.API.PreAuthorizedApplications, application.PreAuthorizedApplication{AppID: clientID, DelegatedPermissionIDs: []string{scope2ID}})
		}, want: []string{"api.preAuthorizedApplications[1].appId"}},
		{name: "preAuthorized unknown scope", mutate: func(a *application.Application) {
			a.API.PreAuthorizedApplications[0].DelegatedPermissionIDs = append(a.API.PreAuthorizedApplications[0].DelegatedPermissionIDs, otherGUID)
		}, want: []string{"api.preAuthorizedApplications[0].delegatedPermissionIds[1]"}},
		{name: "preAuthorized scope id not a GUID", mutate: func(a *application.Application) {
			a.API.PreAuthorizedApplications[0].DelegatedPermissionIDs = []string{"access_as_user"}
		}, want: []string{"api.preAuthorizedApplications[0].delegatedPermissionIds[0]"}},
		{name: "preAuthorized scope twice", mutate: func(a *application.Application) {
			a.API.PreAuthorizedApplications[0].DelegatedPermissionIDs = []string{scope1ID, strings.ToUpper(scope1ID)}
		}, want: []string{"api.preAuthorizedApplications[0].delegatedPermissionIds[1]"}},
		{name: "preAuthorized role id is not a scope", mutate: func(a *application.Application) {
			a.API.PreAuthorizedApplications[0].DelegatedPermissionIDs = []string{role1ID}
		}, want: []string{"api.preAuthorizedApplications[0].delegatedPermissionIds[0]"}},
		{name: "personal: 31 scopes for one client", base: personal, mutate: func(a *application.Application) {
			ids := []string{}
			for i := range 31 {
				a.API.OAuth2PermissionScopes = append(a.API.OAuth2PermissionScopes, scope(i))
				ids = append(ids, scope(i).ID)
			}
			a.API.PreAuthorizedApplications[0].DelegatedPermissionIDs = ids
		}, want: []string{"api.preAuthorizedApplications[0].delegatedPermissionIds"}},
		{name: "personal: 101 clients", base: personal, mutate: func(a *application.Application) {
			a.API.PreAuthorizedApplications = nil
			for _, id := range guids(101, "dddddddd") {
				a.API.PreAuthorizedApplications = append(a.API.PreAuthorizedApplications, application.PreAuthorizedApplication{AppID: id, DelegatedPermissionIDs: []string{scope1ID}})
			}
		}, want: []string{"api.preAuthorizedApplications"}},
		{name: "personal: 501 pre-authorized scopes", base: personal, mutate: func(a *application.Application) {
			ids := []string{}
			for i := range 6 {
				a.API.OAuth2PermissionScopes = append(a.API.OAuth2PermissionScopes, scope(i))
				ids = append(ids, scope(i).ID)
			}
			a.API.PreAuthorizedApplications = nil
			for _, id := range guids(84, "dddddddd") { // 84 × 6 = 504
				a.API.PreAuthorizedApplications = append(a.API.PreAuthorizedApplications, application.PreAuthorizedApplication{AppID: id, DelegatedPermissionIDs: ids})
			}
		}, want: []string{"api.preAuthorizedApplications"}},
		{name: "org: many pre-authorized clients", mutate: func(a *application.Application) {
			for _, id := range guids(150, "dddddddd") {
				a.API.PreAuthorizedApplications = append(a.API.PreAuthorizedApplications, application.PreAuthorizedApplication{AppID: id, DelegatedPermissionIDs: []string{scope1ID, scope2ID}})
			}
		}},
	})
}

func TestValidateAppRoles(t *testing.T) {
	reader := application.AppRole{ID: role1ID, AllowedMemberTypes: []string{"User"}, Value: "Reader", DisplayName: "Reader", IsEnabled: true}
	runValidateCases(t, []validateCase{
		{name: "personal: app roles", base: personal, mutate: func(a *application.Application) { a.AppRoles = []application.AppRole{reader} }, want: []string{"appRoles"}},
		{name: "PersonalMicrosoftAccount: app roles", base: personal, mutate: func(a *application.Application) {
			a.SignInAudience = application.PersonalMicrosoftAccount
			a.AppRoles = []application.AppRole{reader}
		}, want: []string{"appRoles"}},
		{name: "id not a GUID", mutate: func(a *application.Application) { a.AppRoles[0].ID = "reader" }, want: []string{"appRoles[0].id"}},
		{name: "id duplicate", mutate: func(a *application.Application) { a.AppRoles[1].ID = role1ID }, want: []string{"appRoles[1].id"}},
		{name: "no member types", mutate: func(a *application.Application) { a.AppRoles[0].AllowedMemberTypes = nil }, want: []string{"appRoles[0].allowedMemberTypes"}},
		{name: "member type Group", mutate: func(a *application.Application) { a.AppRoles[0].AllowedMemberTypes = []string{"Group"} }, want: []string{"appRoles[0].allowedMemberTypes[0]"}},
		{name: "member type lower case", mutate: func(a *application.Application) { a.AppRoles[0].AllowedMemberTypes = []string{"user"} }, want: []string{"appRoles[0].allowedMemberTypes[0]"}},
		{name: "member type twice", mutate: func(a *application.Application) { a.AppRoles[0].AllowedMemberTypes = []string{"User", "User"} }, want: []string{"appRoles[0].allowedMemberTypes[1]"}},
		{name: "value optional", mutate: func(a *application.Application) { a.AppRoles[0].Value = "" }},
		{name: "value with space", mutate: func(a *application.Application) { a.AppRoles[0].Value = "Orders Reader" }, want: []string{"appRoles[0].value"}},
		{name: "value starting with dot", mutate: func(a *application.Application) { a.AppRoles[0].Value = ".Reader" }, want: []string{"appRoles[0].value"}},
		{name: "value 121", mutate: func(a *application.Application) { a.AppRoles[0].Value = strings.Repeat("r", 121) }, want: []string{"appRoles[0].value"}},
		{name: "value duplicate", mutate: func(a *application.Application) { a.AppRoles[1].Value = "orders.read.all" }, want: []string{"appRoles[1].value"}},
		{name: "displayName missing", mutate: func(a *application.Application) { a.AppRoles[1].DisplayName = "" }, want: []string{"appRoles[1].displayName"}},
		{name: "value shared with a scope", mutate: func(a *application.Application) { a.AppRoles[1].Value = "access_as_user" }, want: []string{"appRoles[1].value"}},
		{name: "id shared with a different scope", mutate: func(a *application.Application) { a.AppRoles[1].ID = scope2ID }, want: []string{"appRoles[1].id"}},
		{name: "id and definition shared with a scope", mutate: func(a *application.Application) {
			s := a.API.OAuth2PermissionScopes[1]
			a.AppRoles[1] = application.AppRole{ID: s.ID, AllowedMemberTypes: []string{"User"}, Value: s.Value, DisplayName: s.AdminConsentDisplayName, Description: s.AdminConsentDescription, IsEnabled: s.IsEnabled}
		}},
		{name: "700 roles and scopes", mutate: func(a *application.Application) {
			for i, id := range guids(696, "eeeeeeee") {
				a.AppRoles = append(a.AppRoles, application.AppRole{ID: id, AllowedMemberTypes: []string{"User"}, Value: fmt.Sprintf("R%d", i), DisplayName: "r"})
			}
		}},
		{name: "701 roles and scopes", mutate: func(a *application.Application) {
			for i, id := range guids(696, "eeeeeeee") {
				a.AppRoles = append(a.AppRoles, application.AppRole{ID: id, AllowedMemberTypes: []string{"User"}, Value: fmt.Sprintf("R%d", i), DisplayName: "r"})
			}
			a.API.OAuth2PermissionScopes = append(a.API.OAuth2PermissionScopes, application.PermissionScope{ID: otherGUID, Value: "extra", Type: "User"})
		}, want: []string{"appRoles"}},
		{name: "701 definitions, mostly scopes", mutate: func(a *application.Application) {
			for i, id := range guids(697, "eeeeeeee") {
				a.API.OAuth2PermissionScopes = append(a.API.OAuth2PermissionScopes, application.PermissionScope{ID: id, Value: fmt.Sprintf("S%d", i), Type: "User"})
			}
		}, want: []string{"api.oauth2PermissionScopes"}},
		{name: "701 roles alone", mutate: func(a *application.Application) {
			a.API = nil
			for i, id := range guids(699, "eeeeeeee") {
				a.AppRoles = append(a.AppRoles, application.AppRole{ID: id, AllowedMemberTypes: []string{"User"}, Value: fmt.Sprintf("R%d", i), DisplayName: "r"})
			}
		}, want: []string{"appRoles"}},
	})
}

func TestValidateRequiredResourceAccess(t *testing.T) {
	resources := func(n, perAPI int, prefix string) []application.RequiredResourceAccess {
		out := []application.RequiredResourceAccess{}
		for i, id := range guids(n, prefix) {
			r := application.RequiredResourceAccess{ResourceAppID: id}
			for _, pid := range guids(perAPI, fmt.Sprintf("%08x", i)) {
				r.ResourceAccess = append(r.ResourceAccess, application.ResourceAccess{ID: pid, Type: application.AccessScope})
			}
			out = append(out, r)
		}
		return out
	}
	runValidateCases(t, []validateCase{
		{name: "resourceAppId not a GUID", mutate: func(a *application.Application) { a.RequiredResourceAccess[0].ResourceAppID = "graph" }, want: []string{"requiredResourceAccess[0].resourceAppId"}},
		{name: "resource twice", mutate: func(a *application.Application) {
			a.RequiredResourceAccess = append(a.RequiredResourceAccess, application.RequiredResourceAccess{ResourceAppID: application.MicrosoftGraphAppID})
		}, want: []string{"requiredResourceAccess[1].resourceAppId"}},
		{name: "permission id not a GUID", mutate: func(a *application.Application) { a.RequiredResourceAccess[0].ResourceAccess[0].ID = "User.Read" }, want: []string{"requiredResourceAccess[0].resourceAccess[0].id"}},
		{name: "permission type unknown", mutate: func(a *application.Application) { a.RequiredResourceAccess[0].ResourceAccess[0].Type = "Delegated" }, want: []string{"requiredResourceAccess[0].resourceAccess[0].type"}},
		{name: "permission twice", mutate: func(a *application.Application) {
			r := &a.RequiredResourceAccess[0]
			r.ResourceAccess = append(r.ResourceAccess, r.ResourceAccess[0])
		}, want: []string{"requiredResourceAccess[0].resourceAccess[2]"}},
		{name: "same id as Scope and Role", mutate: func(a *application.Application) {
			r := &a.RequiredResourceAccess[0]
			r.ResourceAccess = append(r.ResourceAccess, application.ResourceAccess{ID: userReadID, Type: application.AccessRole})
		}},
		{name: "50 resources", mutate: func(a *application.Application) { a.RequiredResourceAccess = resources(50, 1, "ffffffff") }},
		{name: "51 resources", mutate: func(a *application.Application) { a.RequiredResourceAccess = resources(51, 1, "ffffffff") }, want: []string{"requiredResourceAccess"}},
		{name: "400 permissions", mutate: func(a *application.Application) { a.RequiredResourceAccess = resources(10, 40, "ffffffff") }},
		{name: "401 permissions", mutate: func(a *application.Application) {
			a.RequiredResourceAccess = append(resources(10, 40, "ffffffff"), resources(1, 1, "abababab")...)
		}, want: []string{"requiredResourceAccess"}},
		{name: "personal: 30 per API", base: personal, mutate: func(a *application.Application) { a.RequiredResourceAccess = resources(2, 30, "ffffffff") }},
		{name: "personal: 31 per API", base: personal, mutate: func(a *application.Application) { a.RequiredResourceAccess = resources(2, 31, "ffffffff") }, want: []string{"requiredResourceAccess[0].resourceAccess", "requiredResourceAccess[1].resourceAccess"}},
		{name: "personal: 200 permissions", base: personal, mutate: func(a *application.Application) { a.RequiredResourceAccess = resources(8, 25, "ffffffff") }},
		{name: "personal: 201 permissions", base: personal, mutate: func(a *application.Application) {
			a.RequiredResourceAccess = append(resources(8, 25, "ffffffff"), resources(1, 1, "abababab")...)
		}, want: []string{"requiredResourceAccess"}},
	})
}

func TestValidateCredentials(t *testing.T) {
	fic := func(i int) application.FederatedIdentityCredential {
		return application.FederatedIdentityCredential{
			ID: guids(i+1, "99999999")[i], Name: fmt.Sprintf("cred-%d", i),
			Issuer: "https://token.actions.githubusercontent.com", Subject: fmt.Sprintf("repo:contoso/r%d:ref:refs/heads/main", i),
			Audiences: []string{application.TokenExchangeAudience},
		}
	}
	runValidateCases(t, []validateCase{
		{name: "secret keyId not a GUID", mutate: func(a *application.Application) { a.PasswordCredentials[0].KeyID = "prod" }, want: []string{"passwordCredentials[0].keyId"}},
		{name: "secret keyId duplicate", mutate: func(a *application.Application) {
			p := a.PasswordCredentials[0]
			a.PasswordCredentials = append(a.PasswordCredentials, p)
		}, want: []string{"passwordCredentials[1].keyId"}},
		{name: "keyId shared by a secret and a certificate", mutate: func(a *application.Application) { a.KeyCredentials[0].KeyID = secretID }, want: []string{"keyCredentials[0].keyId"}},
		{name: "secret ends before it starts", mutate: func(a *application.Application) {
			a.PasswordCredentials[0].EndDateTime = a.PasswordCredentials[0].StartDateTime.Add(-time.Hour)
		}, want: []string{"passwordCredentials[0].endDateTime"}},
		{name: "secret ends when it starts", mutate: func(a *application.Application) {
			a.PasswordCredentials[0].EndDateTime = a.PasswordCredentials[0].StartDateTime
		}, want: []string{"passwordCredentials[0].endDateTime"}},
		{name: "expired secret is still valid data", mutate: func(a *application.Application) {
			a.PasswordCredentials[0].EndDateTime = vctx.Now.AddDate(-1, 0, 0)
			a.PasswordCredentials[0].StartDateTime = vctx.Now.AddDate(-2, 0, 0)
		}},
		{name: "secret text stored", mutate: func(a *application.Application) { a.PasswordCredentials[0].SecretText = "plaintext-secret-value" }, want: []string{"passwordCredentials[0].secretText"}},
		{name: "hint of 4", mutate: func(a *application.Application) { a.PasswordCredentials[0].Hint = "abcd" }, want: []string{"passwordCredentials[0].hint"}},
		{name: "bad secret hash", mutate: func(a *application.Application) { a.PasswordCredentials[0].SecretHash.Digest = []byte{1, 2, 3} }, want: []string{"passwordCredentials[0].secretHash"}},
		{name: "secret without hash (imported from Graph)", mutate: func(a *application.Application) { a.PasswordCredentials[0].SecretHash = nil }},
		{name: "personal: 2 secrets", base: personal, mutate: func(a *application.Application) {
			p := a.PasswordCredentials[0]
			p.KeyID = otherGUID
			a.PasswordCredentials = append(a.PasswordCredentials, p)
		}},
		{name: "personal: 3 secrets", base: personal, mutate: func(a *application.Application) {
			for _, id := range guids(2, "77777777") {
				p := a.PasswordCredentials[0]
				p.KeyID = id
				a.PasswordCredentials = append(a.PasswordCredentials, p)
			}
		}, want: []string{"passwordCredentials"}},
		{name: "org: many secrets", mutate: func(a *application.Application) {
			for _, id := range guids(10, "77777777") {
				p := a.PasswordCredentials[0]
				p.KeyID = id
				a.PasswordCredentials = append(a.PasswordCredentials, p)
			}
		}},
		{name: "key type unknown", mutate: func(a *application.Application) { a.KeyCredentials[0].Type = "X509" }, want: []string{"keyCredentials[0].type"}},
		{name: "key usage unknown", mutate: func(a *application.Application) { a.KeyCredentials[0].Usage = "Auth" }, want: []string{"keyCredentials[0].usage"}},
		{name: "key usage Sign", mutate: func(a *application.Application) { a.KeyCredentials[0].Usage = application.KeyUsageSign }},
		{name: "key usage Encrypt", mutate: func(a *application.Application) { a.KeyCredentials[0].Usage = "Encrypt" }},
		{name: "key ends before it starts", mutate: func(a *application.Application) {
			a.KeyCredentials[0].EndDateTime = a.KeyCredentials[0].StartDateTime.Add(time.Hour)
			a.KeyCredentials[0].StartDateTime = a.KeyCredentials[0].StartDateTime.Add(2 * time.Hour)
		}, want: []string{"keyCredentials[0].endDateTime"}},
		{name: "key is not a certificate", mutate: func(a *application.Application) { a.KeyCredentials[0].Key = []byte("-----BEGIN CERTIFICATE-----") }, want: []string{"keyCredentials[0].key"}},
		{name: "key missing", mutate: func(a *application.Application) { a.KeyCredentials[0].Key = nil }, want: []string{"keyCredentials[0].key"}},
		{name: "key outlives its certificate", mutate: func(a *application.Application) {
			a.KeyCredentials[0].EndDateTime = a.KeyCredentials[0].EndDateTime.Add(time.Second)
		}, want: []string{"keyCredentials[0].endDateTime"}},
		{name: "key starts before its certificate", mutate: func(a *application.Application) {
			a.KeyCredentials[0].StartDateTime = a.KeyCredentials[0].StartDateTime.Add(-time.Second)
		}, want: []string{"keyCredentials[0].startDateTime"}},
		{name: "key within its certificate", mutate: func(a *application.Application) {
			a.KeyCredentials[0].StartDateTime = a.KeyCredentials[0].StartDateTime.Add(time.Hour)
			a.KeyCredentials[0].EndDateTime = a.KeyCredentials[0].EndDateTime.Add(-time.Hour)
		}},
		{name: "symmetric key", mutate: func(a *application.Application) {
			a.KeyCredentials[0].Type = application.KeyTypeSymmetric
			a.KeyCredentials[0].Key = []byte("0123456789abcdef0123456789abcdef")
		}},
		{name: "symmetric key without key", mutate: func(a *application.Application) {
			a.KeyCredentials[0].Type = application.KeyTypeSymmetric
			a.KeyCredentials[0].Key = nil
		}, want: []string{"keyCredentials[0].key"}},
		{name: "tokenEncryptionKeyId of a key", mutate: func(a *application.Application) {
			a.KeyCredentials[0].Usage = "Encrypt"
			a.TokenEncryptionKeyID = certID
		}},
		{name: "tokenEncryptionKeyId unknown", mutate: func(a *application.Application) { a.TokenEncryptionKeyID = otherGUID }, want: []string{"tokenEncryptionKeyId"}},
		{name: "tokenEncryptionKeyId not a GUID", mutate: func(a *application.Application) { a.TokenEncryptionKeyID = "cert" }, want: []string{"tokenEncryptionKeyId"}},
		{name: "federated id not a GUID", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].ID = "gh" }, want: []string{"federatedIdentityCredentials[0].id"}},
		{name: "federated id duplicate", mutate: func(a *application.Application) {
			c := fic(1)
			c.ID = ficID
			a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, c)
		}, want: []string{"federatedIdentityCredentials[1].id"}},
		{name: "federated name too short", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Name = "gh" }, want: []string{"federatedIdentityCredentials[0].name"}},
		{name: "federated name 120", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Name = strings.Repeat("n", 120) }},
		{name: "federated name 121", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Name = strings.Repeat("n", 121) }, want: []string{"federatedIdentityCredentials[0].name"}},
		{name: "federated name starts with -", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Name = "-github" }, want: []string{"federatedIdentityCredentials[0].name"}},
		{name: "federated name with dot", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Name = "github.main" }, want: []string{"federatedIdentityCredentials[0].name"}},
		{name: "federated name with space", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Name = "github main" }, want: []string{"federatedIdentityCredentials[0].name"}},
		{name: "federated name duplicate", mutate: func(a *application.Application) {
			c := fic(1)
			c.Name = "GitHub-Main"
			a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, c)
		}, want: []string{"federatedIdentityCredentials[1].name"}},
		{name: "issuer missing", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Issuer = "" }, want: []string{"federatedIdentityCredentials[0].issuer"}},
		{name: "issuer with trailing space", mutate: func(a *application.Application) {
			a.FederatedIdentityCredentials[0].Issuer = "https://token.actions.githubusercontent.com "
		}, want: []string{"federatedIdentityCredentials[0].issuer"}},
		{name: "issuer 601", mutate: func(a *application.Application) {
			a.FederatedIdentityCredentials[0].Issuer = "https://" + strings.Repeat("i", 593)
		}, want: []string{"federatedIdentityCredentials[0].issuer"}},
		{name: "subject missing", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Subject = "" }, want: []string{"federatedIdentityCredentials[0].subject"}},
		{name: "subject 600", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Subject = strings.Repeat("s", 600) }},
		{name: "subject 601", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Subject = strings.Repeat("s", 601) }, want: []string{"federatedIdentityCredentials[0].subject"}},
		{name: "no audience", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Audiences = nil }, want: []string{"federatedIdentityCredentials[0].audiences"}},
		{name: "two audiences", mutate: func(a *application.Application) {
			a.FederatedIdentityCredentials[0].Audiences = []string{application.TokenExchangeAudience, "api://other"}
		}, want: []string{"federatedIdentityCredentials[0].audiences"}},
		{name: "empty audience", mutate: func(a *application.Application) { a.FederatedIdentityCredentials[0].Audiences = []string{""} }, want: []string{"federatedIdentityCredentials[0].audiences[0]"}},
		{name: "audience 601", mutate: func(a *application.Application) {
			a.FederatedIdentityCredentials[0].Audiences = []string{strings.Repeat("a", 601)}
		}, want: []string{"federatedIdentityCredentials[0].audiences[0]"}},
		{name: "description 601", mutate: func(a *application.Application) {
			a.FederatedIdentityCredentials[0].Description = strings.Repeat("d", 601)
		}, want: []string{"federatedIdentityCredentials[0].description"}},
		{name: "issuer and subject duplicate", mutate: func(a *application.Application) {
			c := fic(1)
			c.Subject = a.FederatedIdentityCredentials[0].Subject
			a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, c)
		}, want: []string{"federatedIdentityCredentials[1].subject"}},
		{name: "same subject, other issuer", mutate: func(a *application.Application) {
			c := fic(1)
			c.Issuer = "https://gitlab.com"
			c.Subject = a.FederatedIdentityCredentials[0].Subject
			a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, c)
		}},
		{name: "20 federated credentials", mutate: func(a *application.Application) {
			for i := 1; i < 20; i++ {
				a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, fic(i))
			}
		}},
		{name: "21 federated credentials", mutate: func(a *application.Application) {
			for i := 1; i < 21; i++ {
				a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, fic(i))
			}
		}, want: []string{"federatedIdentityCredentials"}},
	})
}

func TestValidateReportsEveryViolation(t *testing.T) {
	a := baseline(t)
	a.DisplayName = ""
	a.Web.RedirectURIs[0] = "http://orders.contoso.com/cb"
	a.AppRoles[0].ID = "x"
	err := a.Validate(vctx)
	want := []string{"displayName", "web.redirectUris[0]", "appRoles[0].id"}
	if diff := cmp.Diff(want, fields(err)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	var fe *tenant.FieldError
	if !errors.As(err, &fe) || fe.Field != "displayName" {
		t.Errorf("errors.As: got %v, want the displayName FieldError first", fe)
	}
	if !strings.Contains(err.Error(), "invalid web.redirectUris[0]: must use https") {
		t.Errorf("message %q does not explain the redirect URI", err)
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	a := baseline(t)
	before := a.Clone()
	_ = a.Validate(vctx)
	if diff := cmp.Diff(before, a); diff != "" {
		t.Errorf("Validate modified the application (-before +after):\n%s", diff)
	}
}

func TestValidateChange(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(a *application.Application)
		want   []string
	}{
		{name: "no change"},
		{name: "display name", mutate: func(a *application.Application) { a.DisplayName = "Renamed" }},
		{name: "id", mutate: func(a *application.Application) { a.ID = otherGUID }, want: []string{"id"}},
		{name: "appId", mutate: func(a *application.Application) { a.AppID = otherGUID }, want: []string{"appId"}},
		{name: "tenantId", mutate: func(a *application.Application) { a.TenantID = otherGUID }, want: []string{"tenantId"}},
		{name: "createdDateTime", mutate: func(a *application.Application) { a.CreatedDateTime = a.CreatedDateTime.Add(time.Second) }, want: []string{"createdDateTime"}},
		{name: "createdDateTime in another zone", mutate: func(a *application.Application) {
			a.CreatedDateTime = a.CreatedDateTime.In(time.FixedZone("CET", 3600))
		}},
		{name: "federated credential renamed", mutate: func(a *application.Application) {
			a.FederatedIdentityCredentials[0].Name = "github-renamed"
		}, want: []string{"federatedIdentityCredentials[0].name"}},
		{name: "federated credential replaced under a new id", mutate: func(a *application.Application) {
			a.FederatedIdentityCredentials[0].ID = otherGUID
			a.FederatedIdentityCredentials[0].Name = "github-renamed"
		}},
		{name: "federated credential subject changed", mutate: func(a *application.Application) {
			a.FederatedIdentityCredentials[0].Subject = "repo:contoso/orders:environment:prod"
		}},
		{name: "enabled scope removed", mutate: func(a *application.Application) {
			a.API.OAuth2PermissionScopes = a.API.OAuth2PermissionScopes[:1]
			a.API.PreAuthorizedApplications = nil
		}, want: []string{"api.oauth2PermissionScopes"}},
		{name: "enabled scopes removed with the api", mutate: func(a *application.Application) { a.API = nil }, want: []string{"api.oauth2PermissionScopes", "api.oauth2PermissionScopes"}},
		{name: "enabled scope disabled", mutate: func(a *application.Application) { a.API.OAuth2PermissionScopes[1].IsEnabled = false }},
		{name: "enabled role removed", mutate: func(a *application.Application) { a.AppRoles = a.AppRoles[1:] }, want: []string{"appRoles"}},
		{name: "enabled role disabled", mutate: func(a *application.Application) { a.AppRoles[0].IsEnabled = false }},
		{name: "everything at once", mutate: func(a *application.Application) {
			a.ID, a.AppID = otherGUID, otherGUID
			a.AppRoles = nil
		}, want: []string{"id", "appId", "appRoles", "appRoles"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := baseline(t)
			updated := old.Clone()
			if tc.mutate != nil {
				tc.mutate(&updated)
			}
			err := application.ValidateChange(old, updated)
			if diff := cmp.Diff(tc.want, fields(err), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("fields (-want +got):\n%s\nerror: %v", diff, err)
			}
			if err != nil && !errors.Is(err, tenant.ErrInvalid) {
				t.Errorf("not an ErrInvalid: %v", err)
			}
		})
	}

	t.Run("disabled scope and role may then be removed", func(t *testing.T) {
		old := baseline(t)
		old.API.OAuth2PermissionScopes[1].IsEnabled = false
		old.AppRoles[0].IsEnabled = false
		updated := old.Clone()
		updated.API.OAuth2PermissionScopes = updated.API.OAuth2PermissionScopes[:1]
		updated.AppRoles = updated.AppRoles[1:]
		if err := application.ValidateChange(old, updated); err != nil {
			t.Error(err)
		}
	})
}

package token

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"
)

const (
	tenant    = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	apiAppID  = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	clientApp = "2b4ad1b4-7f38-4f45-9d1e-0f4e0a4fb3a4"
	clientSP  = "9c1c6f4e-1b7e-4a55-8b5e-6f3d2a1b0c9d"
	userOID   = "d8f3a1c2-55b6-4e8f-9a7d-3c2b1a0f9e8d"
)

func TestAuthorityIssuer(t *testing.T) {
	cases := []struct {
		a       Authority
		version Version
		want    string
	}{
		{Authority{}, 2, "https://login.microsoftonline.com/" + tenant + "/v2.0"},
		{Authority{}, 0, "https://login.microsoftonline.com/" + tenant + "/v2.0"},
		{Authority{}, 1, "https://sts.windows.net/" + tenant + "/"},
		{Authority{V2Base: "https://127.0.0.1:8443/", V1Base: "https://127.0.0.1:8443/sts"}, 2, "https://127.0.0.1:8443/" + tenant + "/v2.0"},
		{Authority{V2Base: "https://127.0.0.1:8443/", V1Base: "https://127.0.0.1:8443/sts"}, 1, "https://127.0.0.1:8443/sts/" + tenant + "/"},
	}
	for _, tc := range cases {
		if got := tc.a.Issuer(tc.version, tenant); got != tc.want {
			t.Errorf("%+v.Issuer(%d) = %q, want %q", tc.a, tc.version, got, tc.want)
		}
	}
}

func TestClientAuthString(t *testing.T) {
	for c, want := range map[ClientAuth]string{ClientAuthPublic: "0", ClientAuthSecret: "1", ClientAuthCertificate: "2", 7: "0"} {
		if got := c.String(); got != want {
			t.Errorf("ClientAuth(%d) = %q, want %q", c, got, want)
		}
	}
}

func manyGroups(n int) []string {
	g := make([]string, n)
	for i := range g {
		g[i] = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
	}
	return g
}

func TestBuildAccess(t *testing.T) {
	iat := testNow.Unix()
	v2iss := "https://login.microsoftonline.com/" + tenant + "/v2.0"
	v1iss := "https://sts.windows.net/" + tenant + "/"
	appOnly := Access{
		TenantID: tenant, Audience: apiAppID, ClientAppID: clientApp, ClientAuth: ClientAuthCertificate,
		AppOnly: true, ClientObjectID: clientSP, Roles: []string{"Orders.ReadWrite.All"},
		Scopes: []string{"ignored"}, Name: "ignored", Username: "ignored", UserObjectID: "ignored", Subject: "ignored",
		AIO: "aio", TokenID: "uti1", IssuedAt: testNow, IncludeAppIDType: true,
	}
	delegated := Access{
		TenantID: tenant, Audience: apiAppID, ClientAppID: clientApp, ClientAuth: ClientAuthPublic,
		UserObjectID: userOID, Subject: "pairwise-sub", Name: "Adele Vance", Username: "adele@contoso.com",
		Scopes: []string{"Orders.Read", "User.Read"}, Roles: []string{"Approver"}, IPAddress: "203.0.113.7",
		AuthMethods: []string{"pwd", "mfa"}, TokenID: "uti2", IssuedAt: testNow, Lifetime: 90 * time.Minute,
		ClientCapabilities: []string{"cp1"}, WIDs: []string{"b79fbf4d-3ef9-4689-8143-76b194e85509"},
	}
	with := func(a Access, f func(*Access)) Access { f(&a); return a }

	cases := []struct {
		name string
		in   Access
		want AccessClaims
	}{
		{"v2 app-only", with(appOnly, func(a *Access) { a.Version = 2 }), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v2iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 3600,
			AIO: "aio", AuthorizedParty: clientApp, AuthorizedPartyACR: "2", IDType: "app", ObjectID: clientSP,
			Roles: []string{"Orders.ReadWrite.All"}, Subject: clientSP, TenantID: tenant, TokenID: "uti1", Version: "2.0",
		}},
		{"v1 app-only", with(appOnly, func(a *Access) { a.Version = 1; a.ClientAuth = ClientAuthSecret }), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v1iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 3600,
			AIO: "aio", AppID: clientApp, AppIDACR: "1", IdentityProvider: v1iss, IDType: "app", ObjectID: clientSP,
			Roles: []string{"Orders.ReadWrite.All"}, Subject: clientSP, TenantID: tenant, TokenID: "uti1", Version: "1.0",
		}},
		{"app-only without the idtyp optional claim", with(appOnly, func(a *Access) { a.Version = 2; a.IncludeAppIDType = false }), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v2iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 3600,
			AIO: "aio", AuthorizedParty: clientApp, AuthorizedPartyACR: "2", ObjectID: clientSP,
			Roles: []string{"Orders.ReadWrite.All"}, Subject: clientSP, TenantID: tenant, TokenID: "uti1", Version: "2.0",
		}},
		{"delegated ignores IncludeAppIDType", with(delegated, func(a *Access) { a.Version = 2; a.IncludeAppIDType = true; a.ClientCapabilities = nil; a.WIDs = nil }), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v2iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 5400,
			AuthorizedParty: clientApp, AuthorizedPartyACR: "0", IPAddress: "203.0.113.7", Name: "Adele Vance",
			ObjectID: userOID, PreferredUsername: "adele@contoso.com", Roles: []string{"Approver"},
			Scope: "Orders.Read User.Read", Subject: "pairwise-sub", TenantID: tenant, TokenID: "uti2", Version: "2.0",
		}},
		{"v2 delegated", with(delegated, func(a *Access) { a.Version = 2 }), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v2iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 5400,
			AuthorizedParty: clientApp, AuthorizedPartyACR: "0", IPAddress: "203.0.113.7", Name: "Adele Vance",
			ObjectID: userOID, PreferredUsername: "adele@contoso.com", Roles: []string{"Approver"},
			Scope: "Orders.Read User.Read", Subject: "pairwise-sub", TenantID: tenant, TokenID: "uti2", Version: "2.0",
			WIDs: []string{"b79fbf4d-3ef9-4689-8143-76b194e85509"}, ClientCapabilities: []string{"cp1"},
		}},
		{"v1 delegated with idtyp", with(delegated, func(a *Access) { a.Version = 1; a.IncludeUserIDType = true }), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v1iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 5400,
			ACR: "1", AMR: []string{"pwd", "mfa"}, AppID: clientApp, AppIDACR: "0", IDType: "user", IPAddress: "203.0.113.7",
			Name: "Adele Vance", ObjectID: userOID, Roles: []string{"Approver"}, Scope: "Orders.Read User.Read",
			Subject: "pairwise-sub", TenantID: tenant, UniqueName: "adele@contoso.com", UPN: "adele@contoso.com",
			TokenID: "uti2", Version: "1.0", WIDs: []string{"b79fbf4d-3ef9-4689-8143-76b194e85509"}, ClientCapabilities: []string{"cp1"},
		}},
		{"200 groups fit", with(delegated, func(a *Access) {
			a.Version = 2
			a.Groups = manyGroups(200)
			a.Scopes = nil
			a.Roles = nil
			a.WIDs = nil
			a.ClientCapabilities = nil
			a.IPAddress = ""
		}), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v2iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 5400,
			AuthorizedParty: clientApp, AuthorizedPartyACR: "0", Groups: manyGroups(200), Name: "Adele Vance",
			ObjectID: userOID, PreferredUsername: "adele@contoso.com", Subject: "pairwise-sub", TenantID: tenant, TokenID: "uti2", Version: "2.0",
		}},
		{"201 groups overage", with(delegated, func(a *Access) {
			a.Version = 2
			a.Groups = manyGroups(201)
			a.Scopes = nil
			a.Roles = nil
			a.WIDs = nil
			a.ClientCapabilities = nil
			a.IPAddress = ""
		}), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v2iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 5400,
			AuthorizedParty: clientApp, AuthorizedPartyACR: "0",
			ClaimNames:   map[string]string{"groups": "src1"},
			ClaimSources: map[string]ClaimSource{"src1": {Endpoint: "https://graph.microsoft.com/v1.0/users/" + userOID + "/getMemberObjects"}},
			Name:         "Adele Vance", ObjectID: userOID, PreferredUsername: "adele@contoso.com", Subject: "pairwise-sub", TenantID: tenant, TokenID: "uti2", Version: "2.0",
		}},
		{"app-only overage", with(appOnly, func(a *Access) { a.Version = 2; a.Groups = manyGroups(300); a.Roles = nil }), AccessClaims{
			Audience: Audience{apiAppID}, Issuer: v2iss, IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 3600,
			AIO: "aio", AuthorizedParty: clientApp, AuthorizedPartyACR: "2",
			ClaimNames:   map[string]string{"groups": "src1"},
			ClaimSources: map[string]ClaimSource{"src1": {Endpoint: "https://graph.microsoft.com/v1.0/servicePrincipals/" + clientSP + "/getMemberObjects"}},
			IDType:       "app", ObjectID: clientSP, Subject: clientSP, TenantID: tenant, TokenID: "uti1", Version: "2.0",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := BuildAccess(tc.in)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("BuildAccess (-want +got):\n%s", d)
			}
			if strings.Contains(tc.name, "app-only") && (got.Scope != "" || got.Name != "" || got.PreferredUsername != "") {
				t.Error("app-only token carries user claims")
			}
		})
	}
}

func TestBuildID(t *testing.T) {
	iat := testNow.Unix()
	in := IDToken{
		TenantID: tenant, ClientAppID: clientApp, Nonce: "n1", Subject: "sub", UserObjectID: userOID,
		Name: "Adele", Username: "adele@contoso.com", Email: "adele@contoso.com", Roles: []string{"r"},
		SessionID: "sid", LoginHint: "hint", AIO: "aio", TokenID: "uti", AccessTokenHash: "ath", IssuedAt: testNow,
	}
	got := BuildIDToken(in)
	want := IDClaims{
		Audience: Audience{clientApp}, Issuer: "https://login.microsoftonline.com/" + tenant + "/v2.0",
		IssuedAt: iat, NotBefore: iat, ExpiresAt: iat + 3600, AIO: "aio", AccessTokenHash: "ath",
		Email: "adele@contoso.com", LoginHint: "hint", Name: "Adele", Nonce: "n1", ObjectID: userOID,
		PreferredUsername: "adele@contoso.com", Roles: []string{"r"}, SessionID: "sid", Subject: "sub",
		TenantID: tenant, TokenID: "uti", Version: "2.0",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("BuildIDToken v2 (-want +got):\n%s", d)
	}
	in.Version, in.Lifetime, in.Groups = 1, 10*time.Minute, manyGroups(201)
	got = BuildIDToken(in)
	want.Issuer, want.Version, want.ExpiresAt = "https://sts.windows.net/"+tenant+"/", "1.0", iat+600
	want.PreferredUsername, want.UniqueName = "", "adele@contoso.com"
	want.ClaimNames = map[string]string{"groups": "src1"}
	want.ClaimSources = map[string]ClaimSource{"src1": {Endpoint: GraphBase + "/users/" + userOID + "/getMemberObjects"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("BuildIDToken v1 (-want +got):\n%s", d)
	}
}

func TestAccessClaimsMarshalExact(t *testing.T) {
	c := AccessClaims{
		Audience: Audience{"api://orders"}, Issuer: "https://sts.windows.net/t/", IssuedAt: 1700000000, NotBefore: 1700000000,
		ExpiresAt: 1700003600, ACR: "1", AMR: []string{"pwd"}, AppID: "app", AppIDACR: "1", Name: "A \"B\" <C>\n",
		Roles: []string{"r1", "r2"}, Scope: "a b", Subject: "s", TenantID: "t", Version: "1.0",
		Extra: map[string]any{"zz": 1, "aa": []string{"x"}, "nil": nil},
	}
	got, err := c.MarshalJSON() // json.Marshal would HTML-escape <>
	if err != nil {
		t.Fatal(err)
	}
	want := `{"aud":"api://orders","iss":"https://sts.windows.net/t/","iat":1700000000,"nbf":1700000000,"exp":1700003600,` +
		`"acr":"1","amr":["pwd"],"appid":"app","appidacr":"1","name":"A \"B\" <C>\n","roles":["r1","r2"],"scp":"a b",` +
		`"sub":"s","tid":"t","ver":"1.0","aa":["x"],"nil":null,"zz":1}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	c.Audience = Audience{"a", "b"}
	c.Extra = nil
	got, _ = json.Marshal(c)
	if !strings.HasPrefix(string(got), `{"aud":["a","b"],`) {
		t.Errorf("multi-audience: %s", got)
	}
	empty, _ := json.Marshal(AccessClaims{})
	if string(empty) != "{}" {
		t.Errorf("zero claims = %s", empty)
	}
	onlyExtra, _ := json.Marshal(IDClaims{Extra: map[string]any{"b": true, "a": "x"}})
	if string(onlyExtra) != `{"a":"x","b":true}` {
		t.Errorf("extra only = %s", onlyExtra)
	}
	for _, name := range []string{"aud", "sub", "_claim_names", "xms_cc", "roles"} {
		_, err := json.Marshal(AccessClaims{Extra: map[string]any{name: "x"}})
		if !errors.Is(err, ErrInvalidClaims) {
			t.Errorf("extra %q: err = %v, want ErrInvalidClaims", name, err)
		}
	}
	if _, err := json.Marshal(IDClaims{Extra: map[string]any{"nonce": "x"}}); !errors.Is(err, ErrInvalidClaims) {
		t.Errorf("IDClaims extra nonce: err = %v", err)
	}
	if _, err := json.Marshal(IDClaims{Extra: map[string]any{"f": func() {}}}); !errors.Is(err, ErrInvalidClaims) {
		t.Errorf("unmarshalable extra: err = %v", err)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s/", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "é漢字🙂", "\u2028\u2029", "bad\xff\xfeutf8", "<>&", "\xed\xa0\x80"} {
		got := appendJSONString(nil, s)
		var back, viaStd string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: invalid JSON %s: %v", s, got, err)
			continue
		}
		std, _ := json.Marshal(s)
		if err := json.Unmarshal(std, &viaStd); err != nil {
			t.Fatal(err)
		}
		if back != viaStd {
			t.Errorf("%q: decodes to %q, encoding/json gives %q", s, back, viaStd)
		}
	}
}

// plainAccess and plainID are the claim sets without their JSON methods:
// encoding/json's reflection view, the reference for the fast codec.
type (
	plainAccess AccessClaims
	plainID     IDClaims
)

var equateEmpty = cmpopts.EquateEmpty()

func genStr() *rapid.Generator[string] {
	return rapid.OneOf(rapid.Just(""), rapid.String(), rapid.StringMatching(`[a-zA-Z0-9 ./:@_-]{1,12}`))
}

func genStrs() *rapid.Generator[[]string] {
	return rapid.OneOf(rapid.Just[[]string](nil), rapid.SliceOfN(genStr(), 0, 4))
}

func genExtra() *rapid.Generator[map[string]any] {
	val := rapid.OneOf(
		rapid.Map(rapid.String(), func(s string) any { return s }),
		rapid.Map(rapid.Int64(), func(i int64) any { return float64(i) }),
		rapid.Map(rapid.Float64Range(-1e6, 1e6), func(f float64) any { return f }),
		rapid.Map(rapid.Bool(), func(b bool) any { return b }),
		rapid.Just[any](nil),
		rapid.Map(rapid.SliceOfN(rapid.String(), 0, 3), func(s []string) any {
			out := make([]any, len(s))
			for i, v := range s {
				out[i] = v
			}
			return out
		}),
		rapid.Map(rapid.MapOfN(rapid.String(), rapid.String(), 0, 2), func(m map[string]string) any {
			out := map[string]any{}
			for k, v := range m {
				out[k] = v
			}
			return out
		}),
	)
	return rapid.OneOf(rapid.Just[map[string]any](nil), rapid.MapOfN(rapid.StringMatching(`(x_|é)[a-z\p{Han}]{0,6}`), val, 1, 4))
}

func genAccess(t *rapid.T) AccessClaims {
	return AccessClaims{
		Audience: rapid.OneOf(rapid.Just[Audience](nil), rapid.Map(genStr(), func(s string) Audience { return Audience{s} }),
			rapid.Map(rapid.SliceOfN(genStr(), 2, 3), func(s []string) Audience { return s })).Draw(t, "aud"),
		Issuer: genStr().Draw(t, "iss"), IssuedAt: rapid.Int64().Draw(t, "iat"), NotBefore: rapid.Int64().Draw(t, "nbf"),
		ExpiresAt: rapid.Int64().Draw(t, "exp"), ACR: genStr().Draw(t, "acr"), AIO: genStr().Draw(t, "aio"),
		AMR: genStrs().Draw(t, "amr"), AppID: genStr().Draw(t, "appid"), AppIDACR: genStr().Draw(t, "appidacr"),
		AuthorizedParty: genStr().Draw(t, "azp"), AuthorizedPartyACR: genStr().Draw(t, "azpacr"),
		Groups: genStrs().Draw(t, "groups"), HasGroups: rapid.Bool().Draw(t, "hasgroups"),
		ClaimNames:       rapid.MapOfN(genStr(), genStr(), 0, 2).Draw(t, "_claim_names"),
		ClaimSources:     rapid.MapOfN(genStr(), rapid.Map(genStr(), func(s string) ClaimSource { return ClaimSource{s} }), 0, 2).Draw(t, "_claim_sources"),
		IdentityProvider: genStr().Draw(t, "idp"), IDType: genStr().Draw(t, "idtyp"), IPAddress: genStr().Draw(t, "ipaddr"),
		Name: genStr().Draw(t, "name"), ObjectID: genStr().Draw(t, "oid"), PreferredUsername: genStr().Draw(t, "pu"),
		RH: genStr().Draw(t, "rh"), Roles: genStrs().Draw(t, "roles"), Scope: genStr().Draw(t, "scp"),
		Subject: genStr().Draw(t, "sub"), TenantID: genStr().Draw(t, "tid"), UniqueName: genStr().Draw(t, "un"),
		UPN: genStr().Draw(t, "upn"), TokenID: genStr().Draw(t, "uti"), Version: genStr().Draw(t, "ver"),
		WIDs: genStrs().Draw(t, "wids"), ClientCapabilities: genStrs().Draw(t, "xms_cc"), Extra: genExtra().Draw(t, "extra"),
	}
}

func genID(t *rapid.T) IDClaims {
	return IDClaims{
		Audience: rapid.OneOf(rapid.Just[Audience](nil), rapid.Map(genStr(), func(s string) Audience { return Audience{s} })).Draw(t, "aud"),
		Issuer:   genStr().Draw(t, "iss"), IssuedAt: rapid.Int64().Draw(t, "iat"), NotBefore: rapid.Int64().Draw(t, "nbf"),
		ExpiresAt: rapid.Int64().Draw(t, "exp"), AIO: genStr().Draw(t, "aio"), AccessTokenHash: genStr().Draw(t, "at_hash"),
		CodeHash: genStr().Draw(t, "c_hash"), Email: genStr().Draw(t, "email"), Groups: genStrs().Draw(t, "groups"),
		HasGroups: rapid.Bool().Draw(t, "hasgroups"), ClaimNames: rapid.MapOfN(genStr(), genStr(), 0, 2).Draw(t, "cn"),
		IdentityProvider: genStr().Draw(t, "idp"), LoginHint: genStr().Draw(t, "lh"), Name: genStr().Draw(t, "name"),
		Nonce: genStr().Draw(t, "nonce"), ObjectID: genStr().Draw(t, "oid"), PreferredUsername: genStr().Draw(t, "pu"),
		RH: genStr().Draw(t, "rh"), Roles: genStrs().Draw(t, "roles"), SessionID: genStr().Draw(t, "sid"),
		Subject: genStr().Draw(t, "sub"), TenantID: genStr().Draw(t, "tid"), UniqueName: genStr().Draw(t, "un"),
		TokenID: genStr().Draw(t, "uti"), Version: genStr().Draw(t, "ver"), Extra: genExtra().Draw(t, "extra"),
	}
}

// checkCodec compares the fast encoding of v with encoding/json's view of
// ref (the same claims without methods) merged with extra, and checks that
// decoding gives v back.
func checkCodec[C any](t *rapid.T, v *C, ref any, extra map[string]any) {
	fast, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	std, err := json.Marshal(ref)
	if err != nil {
		t.Fatalf("reference Marshal: %v", err)
	}
	var gotMap, wantMap map[string]any
	if err := json.Unmarshal(fast, &gotMap); err != nil {
		t.Fatalf("fast encoding is invalid JSON: %v\n%s", err, fast)
	}
	if err := json.Unmarshal(std, &wantMap); err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		b, _ := json.Marshal(v)
		var vv any
		_ = json.Unmarshal(b, &vv)
		wantMap[k] = vv
	}
	if d := cmp.Diff(wantMap, gotMap); d != "" {
		t.Fatalf("encoding differs from encoding/json (-want +got):\n%s", d)
	}
	back := new(C)
	if err := json.Unmarshal(fast, back); err != nil {
		t.Fatalf("Unmarshal(Marshal(c)): %v\n%s", err, fast)
	}
	if d := cmp.Diff(v, back, equateEmpty); d != "" {
		t.Fatalf("round trip differs (-want +got):\n%s", d)
	}
}

func TestClaimsCodecProperties(t *testing.T) {
	t.Run("access", rapid.MakeCheck(func(t *rapid.T) {
		c := genAccess(t)
		checkCodec(t, &c, plainAccess(c), c.Extra)
	}))
	t.Run("id", rapid.MakeCheck(func(t *rapid.T) {
		c := genID(t)
		checkCodec(t, &c, plainID(c), c.Extra)
	}))
}

func TestAccessClaimsUnmarshal(t *testing.T) {
	ok := []struct {
		name, in string
		want     AccessClaims
	}{
		{"aud string", `{"aud":"a"}`, AccessClaims{Audience: Audience{"a"}}},
		{"aud array", `{"aud":["a","b"]}`, AccessClaims{Audience: Audience{"a", "b"}}},
		{"aud single array", ` { "aud" : [ "a" ] } `, AccessClaims{Audience: Audience{"a"}}},
		{"aud null", `{"aud":null}`, AccessClaims{}},
		{"escaped key", `{"a\u0075d":"x","s\u0075b":"y\u00e9\n"}`, AccessClaims{Audience: Audience{"x"}, Subject: "yé\n"}},
		{"float dates", `{"iat":1.7e9,"nbf":1700000000.0,"exp":-5}`, AccessClaims{IssuedAt: 1700000000, NotBefore: 1700000000, ExpiresAt: -5}},
		{"nulls", `{"iss":null,"roles":null,"hasgroups":null,"iat":null,"_claim_names":null}`, AccessClaims{}},
		{"empty array", `{"roles":[]}`, AccessClaims{Roles: []string{}}},
		{"overage", `{"_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"https://g/x"}}}`,
			AccessClaims{ClaimNames: map[string]string{"groups": "src1"}, ClaimSources: map[string]ClaimSource{"src1": {"https://g/x"}}}},
		{"unknown claims", `{"sub":"s","ctry":"FR","n":1,"o":{"a":[1,"x",null]}}`, AccessClaims{
			Subject: "s", Extra: map[string]any{"ctry": "FR", "n": 1.0, "o": map[string]any{"a": []any{1.0, "x", nil}}},
		}},
		{"empty", `{}`, AccessClaims{}},
		{"hasgroups", `{"hasgroups":true}`, AccessClaims{HasGroups: true}},
		{"invalid utf8 replaced", "{\"name\":\"a\xffb\"}", AccessClaims{Name: "a\ufffdb"}},
	}
	for _, tc := range ok {
		var got AccessClaims
		if err := got.UnmarshalJSON([]byte(tc.in)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
	bad := map[string]string{
		"not object":       `["aud"]`,
		"string":           `"x"`,
		"empty input":      ``,
		"trailing":         `{"sub":"a"} x`,
		"trailing nul":     "{}\x00",
		"trailing comma":   `{"sub":"a",}`,
		"missing colon":    `{"sub" "a"}`,
		"unterminated":     `{"sub":"a"`,
		"dup known":        `{"sub":"a","sub":"b"}`,
		"dup escaped":      `{"aud":"a","a\u0075d":"b"}`,
		"dup unknown":      `{"x":1,"x":2}`,
		"iat string":       `{"iat":"1700000000"}`,
		"iat fraction":     `{"iat":1.5}`,
		"iat overflow":     `{"iat":1e300}`,
		"iat bad number":   `{"iat":01}`,
		"roles string":     `{"roles":"admin"}`,
		"roles numbers":    `{"roles":[1]}`,
		"aud number":       `{"aud":1}`,
		"hasgroups string": `{"hasgroups":"true"}`,
		"control char":     "{\"sub\":\"a\x01\"}",
		"bad escape":       `{"sub":"\q"}`,
		"bad extra":        `{"x":[1,}`,
		"bad extra lit":    `{"x":tru}`,
		"claim names type": `{"_claim_names":{"groups":1}}`,
		"bare key":         `{sub:"a"}`,
	}
	for name, in := range bad {
		var got AccessClaims
		err := got.UnmarshalJSON([]byte(in))
		if !errors.Is(err, ErrInvalidClaims) {
			t.Errorf("%s: err = %v, want ErrInvalidClaims", name, err)
		}
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("%s: json.Unmarshal accepted it", name)
		}
	}

	// null leaves the value alone, as encoding/json's convention wants.
	c := AccessClaims{Subject: "keep"}
	if err := c.UnmarshalJSON([]byte(" null ")); err != nil || c.Subject != "keep" {
		t.Errorf("null: %v, %+v", err, c)
	}
	// A failed decode leaves the value alone too.
	if err := c.UnmarshalJSON([]byte(`{"sub":"new","iat":"x"}`)); err == nil || c.Subject != "keep" {
		t.Errorf("failed decode modified the claims: %+v", c)
	}
	// Error texts do not echo claim values.
	err := c.UnmarshalJSON([]byte(`{"iat":"secret-value"}`))
	if err == nil || strings.Contains(err.Error(), "secret-value") {
		t.Errorf("error %v", err)
	}

	var id IDClaims
	if err := json.Unmarshal([]byte(`{"aud":["c"],"nonce":"n","at_hash":"h","sid":"s","login_hint":"l","x":true}`), &id); err != nil {
		t.Fatal(err)
	}
	wantID := IDClaims{Audience: Audience{"c"}, Nonce: "n", AccessTokenHash: "h", SessionID: "s", LoginHint: "l", Extra: map[string]any{"x": true}}
	if d := cmp.Diff(wantID, id); d != "" {
		t.Errorf("IDClaims (-want +got):\n%s", d)
	}
	if err := id.UnmarshalJSON([]byte(`{"nonce":"a","nonce":"b"}`)); !errors.Is(err, ErrInvalidClaims) {
		t.Errorf("IDClaims duplicate: %v", err)
	}

	var aud Audience
	for in, want := range map[string]Audience{`"a"`: {"a"}, `["a","b"]`: {"a", "b"}, `null`: nil} {
		if err := json.Unmarshal([]byte(in), &aud); err != nil || cmp.Diff(want, aud) != "" {
			t.Errorf("Audience %s = %v, %v", in, aud, err)
		}
	}
	if !(Audience{"a", "b"}).Contains("b") || (Audience{"a"}).Contains("b") {
		t.Error("Audience.Contains")
	}
}

// FuzzClaimsUnmarshal checks the hand-written decoder against encoding/json:
// it never accepts invalid JSON, agrees with encoding/json on the standard
// claims whenever both accept, and its output survives a round trip.
func FuzzClaimsUnmarshal(f *testing.F) {
	seeds := []string{
		`{}`, `null`, `{"aud":"a","iss":"i","iat":1,"nbf":2,"exp":3,"roles":["r"],"scp":"a b"}`,
		`{"aud":["a","b"],"x":{"y":[1,2,{"z":null}]},"hasgroups":true}`,
		`{"a\u0075d":"x","name":"\ud83d\ude00\u2028"}`, `{"iat":1.7e9}`, `{"_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"e"}}}`,
		`{"sub":"a","sub":"b"}`, `{"Sub":"a"}`, "{}\x00", "null\x00", "{\"sub\":\"a\"}\x00", "{\"name\":\"\xff\"}", `{"nonce":"n","sid":"s","c_hash":"c"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	c := sampleAccess()
	b, _ := json.Marshal(&c)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var a AccessClaims
		if err := a.UnmarshalJSON(data); err == nil {
			checkDecoded(t, data, &a, a.Extra, func() any { var p plainAccess; return &p }, func(p any) any { v := AccessClaims(*p.(*plainAccess)); v.Extra = nil; return &v })
		} else if !errors.Is(err, ErrInvalidClaims) {
			t.Fatalf("error %v does not wrap ErrInvalidClaims", err)
		}
		var i IDClaims
		if err := i.UnmarshalJSON(data); err == nil {
			checkDecoded(t, data, &i, i.Extra, func() any { var p plainID; return &p }, func(p any) any { v := IDClaims(*p.(*plainID)); v.Extra = nil; return &v })
		}
	})
}

func checkDecoded[C any](t *testing.T, data []byte, got *C, extra map[string]any, newRef func() any, fromRef func(any) any) {
	t.Helper()
	if !json.Valid(data) {
		t.Fatalf("accepted invalid JSON %q", data)
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return
	}
	// Round trip.
	enc, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("Marshal of decoded claims: %v", err)
	}
	back := new(C)
	if err := json.Unmarshal(enc, back); err != nil {
		t.Fatalf("round trip: %v\n%s", err, enc)
	}
	if d := cmp.Diff(got, back, equateEmpty); d != "" {
		t.Fatalf("round trip differs:\n%s", d)
	}
	// Differential against encoding/json, unless a key differs from a
	// standard claim only by case (encoding/json folds case; JWT does not).
	for k := range extra {
		for std := range accessStandard {
			if strings.EqualFold(k, std) {
				return
			}
		}
		for std := range idStandard {
			if strings.EqualFold(k, std) {
				return
			}
		}
	}
	ref := newRef()
	if json.Unmarshal(data, ref) != nil {
		return // e.g. 1.7e9 for a NumericDate: accepted here, refused there
	}
	noExtra := *got
	switch v := any(&noExtra).(type) {
	case *AccessClaims:
		v.Extra = nil
	case *IDClaims:
		v.Extra = nil
	}
	if d := cmp.Diff(fromRef(ref), any(&noExtra), equateEmpty); d != "" {
		t.Fatalf("differs from encoding/json (-std +fast):\n%s", d)
	}
}

func TestPairwiseSubject(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	sub := PairwiseSubject(key, tenant, clientApp, userOID)
	m := hmac.New(sha256.New, key)
	io.WriteString(m, tenant+"|"+clientApp+"|"+userOID)
	if want := base64.RawURLEncoding.EncodeToString(m.Sum(nil)); sub != want || len(sub) != 43 {
		t.Errorf("sub = %q, want %q", sub, want)
	}
	if PairwiseSubject(key, strings.ToUpper(tenant), strings.ToUpper(clientApp), strings.ToUpper(userOID)) != sub {
		t.Error("sub depends on GUID case")
	}
	others := []string{
		PairwiseSubject(key, tenant, apiAppID, userOID),
		PairwiseSubject(key, apiAppID, clientApp, userOID),
		PairwiseSubject(key, tenant, clientApp, clientSP),
		PairwiseSubject(bytes.Repeat([]byte{8}, 32), tenant, clientApp, userOID),
		PairwiseSubject(key, tenant+"|"+clientApp, "", userOID),
	}
	for i, o := range others {
		if o == sub {
			t.Errorf("variant %d yields the same sub", i)
		}
	}
}

func TestNewTokenID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewTokenID(nil)
		b, err := base64.RawURLEncoding.Strict().DecodeString(id)
		if err != nil || len(id) != 22 || len(b) != 16 {
			t.Fatalf("NewTokenID = %q (%v)", id, err)
		}
		if seen[id] {
			t.Fatalf("duplicate token id %q", id)
		}
		seen[id] = true
	}
	fixed := bytes.Repeat([]byte{0xfb}, 16)
	if got := NewTokenID(bytes.NewReader(fixed)); got != base64.RawURLEncoding.EncodeToString(fixed) {
		t.Errorf("NewTokenID(fixed) = %q", got)
	}
	a, b := NewTokenID(iotest.ErrReader(errors.New("broken"))), NewTokenID(iotest.ErrReader(errors.New("broken")))
	if len(a) != 22 || a == b {
		t.Errorf("failing reader: %q, %q", a, b)
	}
}

func TestTokenHash(t *testing.T) {
	// OpenID Connect Core 1.0, appendix A.3.
	got, err := ClaimHash(jose.RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")
	if err != nil || got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Errorf("at_hash = %q, %v", got, err)
	}
	// Ed25519 hashes with SHA-512 (OpenID Connect Core errata set 2).
	if got, _ := ClaimHash(jose.EdDSA, "dNZX1hEZ9wBCzNL40Upu646bdzQA"); got != "8xltSlOGYrWy8W9yNvRlEth1i_bXW-JROWPLvCv5zog" {
		t.Errorf("EdDSA c_hash = %q", got)
	}
	if _, err := ClaimHash("none", "x"); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("none: %v", err)
	}
}

func TestNewOpaqueClaims(t *testing.T) {
	b64url := regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	seen := map[string]bool{}
	for range 100 {
		aio, rh := NewOpaqueClaims(nil)
		if len(aio) != 48 || !b64url.MatchString(aio) {
			t.Fatalf("aio %q is not 48 base64url characters", aio)
		}
		body, ok := strings.CutPrefix(rh, "0.")
		if !ok || !strings.HasSuffix(body, ".") || len(body) != 37 || !b64url.MatchString(strings.TrimSuffix(body, ".")) {
			t.Fatalf("rh %q is not Entra-shaped (0.{base64url}.)", rh)
		}
		if seen[aio] || seen[rh] {
			t.Fatal("repeated value")
		}
		seen[aio], seen[rh] = true, true
	}
	// A failing source falls back to crypto/rand.
	if aio, rh := NewOpaqueClaims(iotest.ErrReader(errors.New("broken"))); aio == "" || rh == "" || seen[aio] {
		t.Fatal("no value from a failing source")
	}
	c := BuildAccess(Access{AIO: "a", RH: "r"})
	i := BuildIDToken(IDToken{AIO: "a", RH: "r"})
	if c.AIO != "a" || c.RH != "r" || i.AIO != "a" || i.RH != "r" {
		t.Fatalf("aio/rh not carried: %+v %+v", c, i)
	}
}

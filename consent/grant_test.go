package consent_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/consent"
)

const (
	clientSP   = "5c000000-0000-4000-8000-000000000001"
	resourceSP = "5e000000-0000-4000-8000-000000000001"
	otherSP    = "5e000000-0000-4000-8000-000000000002"
	userA      = "0a000000-0000-4000-8000-000000000001"
	userB      = "0b000000-0000-4000-8000-000000000001"
)

func grant(consentType, principal, resource, scope string) consent.Grant {
	return consent.Grant{ID: "g", TenantID: homeTenant, ClientID: clientSP, ConsentType: consentType, PrincipalID: principal, ResourceID: resource, Scope: scope}
}

func TestGrantScopes(t *testing.T) {
	for _, tc := range []struct {
		scope string
		want  []string
	}{
		{"", nil},
		{"openid User.Read", []string{"openid", "User.Read"}},
		{"  User.Read   Mail.Read ", []string{"User.Read", "Mail.Read"}},
	} {
		got := grant(consent.Principal, userA, resourceSP, tc.scope).Scopes()
		if !slices.Equal(got, tc.want) {
			t.Errorf("Scopes(%q) = %q, want %q", tc.scope, got, tc.want)
		}
	}
}

func TestGrantCovers(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    consent.Grant
		user string
		want bool
	}{
		{"all principals cover a user", grant(consent.AllPrincipals, "", resourceSP, "x"), userA, true},
		{"all principals cover app-only use", grant(consent.AllPrincipals, "", resourceSP, "x"), "", true},
		{"principal covers its user", grant(consent.Principal, userA, resourceSP, "x"), userA, true},
		{"principal does not cover another user", grant(consent.Principal, userA, resourceSP, "x"), userB, false},
		{"principal does not cover app-only use", grant(consent.Principal, userA, resourceSP, "x"), "", false},
		{"principal grant without principal covers nobody", grant(consent.Principal, "", resourceSP, "x"), "", false},
		{"unknown consent type: not tenant-wide", grant("Other", userA, resourceSP, "x"), userB, false},
	} {
		if got := tc.g.Covers(tc.user); got != tc.want {
			t.Errorf("%s: Covers(%q) = %v, want %v", tc.name, tc.user, got, tc.want)
		}
	}
}

func TestJoinScopes(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   [][]string
		want string
	}{
		{"nothing", nil, ""},
		{"empty lists", [][]string{{}, nil}, ""},
		{"only empty values", [][]string{{"", ""}}, ""},
		{"sorted union", [][]string{{"User.Read", "openid"}, {"Mail.Read", "User.Read"}}, "Mail.Read User.Read openid"},
		{"empty value dropped", [][]string{{"", "b", "a", "b"}}, "a b"},
	} {
		if got := consent.JoinScopes(tc.in...); got != tc.want {
			t.Errorf("%s: JoinScopes = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestGrantedScopes(t *testing.T) {
	grants := []consent.Grant{
		grant(consent.AllPrincipals, "", resourceSP, "User.Read openid"),
		grant(consent.Principal, userA, resourceSP, "Mail.Read User.Read"),
		grant(consent.Principal, userB, resourceSP, "Files.Read"),
		grant(consent.AllPrincipals, "", otherSP, "Other.Read"),
		{ClientID: "someone-else", ConsentType: consent.AllPrincipals, ResourceID: resourceSP, Scope: "Secret.Read"},
	}
	for _, tc := range []struct {
		name     string
		resource string
		user     string
		want     []string
	}{
		{"user A: tenant-wide and own", resourceSP, userA, []string{"Mail.Read", "User.Read", "openid"}},
		{"user B", resourceSP, userB, []string{"Files.Read", "User.Read", "openid"}},
		{"app-only use: tenant-wide only", resourceSP, "", []string{"User.Read", "openid"}},
		{"other resource", otherSP, userA, []string{"Other.Read"}},
		{"no grants", "nothing", userA, nil},
	} {
		got := consent.GrantedScopes(grants, clientSP, tc.resource, tc.user)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: GrantedScopes = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestGrantCloneAndJSON(t *testing.T) {
	g := grant(consent.Principal, userA, resourceSP, "User.Read")
	g.CreatedDateTime = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	c := g.Clone()
	if diff := cmp.Diff(g, c); diff != "" {
		t.Fatalf("Clone differs:\n%s", diff)
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "clientId", "consentType", "principalId", "resourceId", "scope"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks Graph property %q: %s", k, b)
		}
	}
	tenantWide := grant(consent.AllPrincipals, "", resourceSP, "User.Read")
	b, _ = json.Marshal(tenantWide)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var back consent.Grant
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tenantWide, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		scope string
		add   []string
		want  string
	}{
		{"into empty", "", []string{"User.Read"}, "User.Read"},
		{"union, sorted", "User.Read openid", []string{"Mail.Read", "User.Read"}, "Mail.Read User.Read openid"},
		{"nothing to add", "b a", nil, "a b"},
		{"blank and space-separated values", "a", []string{"", " c  b "}, "a b c"},
	} {
		g := grant(consent.Principal, userA, resourceSP, tc.scope)
		got := consent.Merge(g, tc.add)
		if got.Scope != tc.want {
			t.Errorf("%s: Merge scope = %q, want %q", tc.name, got.Scope, tc.want)
		}
		got.Scope = g.Scope
		if got != g {
			t.Errorf("%s: Merge changed fields other than scope", tc.name)
		}
		if g.Scope != tc.scope {
			t.Errorf("%s: Merge modified its argument", tc.name)
		}
	}
}

func TestNarrow(t *testing.T) {
	for _, tc := range []struct {
		name      string
		scope     string
		remove    []string
		want      string
		wantEmpty bool
	}{
		{"remove one", "Mail.Read User.Read openid", []string{"Mail.Read"}, "User.Read openid", false},
		{"remove absent", "User.Read", []string{"Files.Read"}, "User.Read", false},
		{"remove all", "a b", []string{"b", "a"}, "", true},
		{"remove space-separated", "a b c", []string{"a c"}, "b", false},
		{"remove nothing normalises", "b  a b", nil, "a b", false},
		{"empty grant", "", []string{"a"}, "", true},
		{"case-sensitive", "User.Read", []string{"user.read"}, "User.Read", false},
	} {
		g := grant(consent.AllPrincipals, "", resourceSP, tc.scope)
		got, empty := consent.Narrow(g, tc.remove)
		if got.Scope != tc.want || empty != tc.wantEmpty {
			t.Errorf("%s: Narrow = (%q, %v), want (%q, %v)", tc.name, got.Scope, empty, tc.want, tc.wantEmpty)
		}
		got.Scope = g.Scope
		if got != g {
			t.Errorf("%s: Narrow changed fields other than scope", tc.name)
		}
	}
}

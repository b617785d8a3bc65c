package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/store"
)

// exampleSeed returns testdata/seed.json as generic JSON, to edit.
func exampleSeed(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at walks a path of keys and indexes in generic JSON.
func at(v any, path ...any) map[string]any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v.(map[string]any)
}

func newDirectory(t *testing.T) *tenantry.Directory {
	t.Helper()
	dir, err := tenantry.New(context.Background(), tenantry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	return dir
}

// The example seed parses and applies, and applies again without a change.
func TestExampleSeedApplies(t *testing.T) {
	m, err := loadSeed("testdata/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := newDirectory(t)
	changes, err := applySeed(context.Background(), dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) == 0 {
		t.Fatal("the example seed changed nothing")
	}
	again, err := applySeed(context.Background(), dir, m)
	if err != nil || len(again) != 0 {
		t.Errorf("applied again: %v, %v", again, err)
	}
	u, err := dir.Issuer().SignIn(context.Background(), tenantry.SignInRequest{Tenant: "contoso.com", UserPrincipalName: "admin@contoso.com", Password: adminPassword})
	if err != nil || u.ID != "7d0a6a1c-2222-4c2e-9a57-3f0b6d2e8a01" {
		t.Errorf("admin sign-in: %s, %v", u.ID, err)
	}
}

// A bad seed is refused with an error naming the object and the field,
// showing no secret, and leaves the directory as it was.
func TestSeedErrorsNameObjectAndField(t *testing.T) {
	cases := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"short client secret", func(m map[string]any) {
			at(m, "tenants", 0, "applications", 1, "passwordCredentials", 0)["secretText"] = "too-short"
		}, `seed: tenants[0].applications[1] "Orders Daemon": passwordCredentials[0].secretText: shorter than 16 characters`},
		{"short password", func(m map[string]any) {
			at(m, "tenants", 0, "users", 1)["password"] = "short"
		}, `seed: tenants[0].users[1] "ada@contoso.com": password: is shorter than 8 characters`},
		{"unknown directory role", func(m map[string]any) {
			at(m, "tenants", 0, "users", 0)["directoryRoles"] = []any{"Global Administrator", "Wizard"}
		}, `seed: tenants[0].users[0] "admin@contoso.com": directoryRoles[1]: is not a supported directory role`},
		{"application id not a GUID", func(m map[string]any) {
			at(m, "tenants", 0, "applications", 2)["id"] = "web"
		}, `seed: tenants[0].applications[2] "Orders Web": id: must be a GUID`},
		{"missing appId", func(m map[string]any) {
			delete(at(m, "tenants", 0, "applications", 0), "appId")
		}, `seed: tenants[0].applications[0] "Orders API": appId: is required in a manifest`},
		{"service principal id taken", func(m map[string]any) {
			at(m, "tenants", 0, "servicePrincipals", 2)["id"] = "7d0a6a1c-2222-4c2e-9a57-3f0b6d2e8a02"
		}, `seed: tenants[0].servicePrincipals[2] "` + seedWeb + `": id: is the id of another directory object`},
		{"unknown group member", func(m map[string]any) {
			at(m, "tenants", 0, "groups", 0, "members", 0)["userPrincipalName"] = "nobody@contoso.com"
		}, `seed: tenants[0].groups[0] "Order Approvers": members[0].userPrincipalName: the tenant has no user nobody@contoso.com`},
		{"unpublished scope", func(m map[string]any) {
			at(m, "tenants", 0, "oauth2PermissionGrants", 0)["scope"] = "Orders.Delete"
		}, `seed: tenants[0].oauth2PermissionGrants[0] "` + seedWeb + ` on ` + seedAPI + `": scope: the resource publishes no enabled scope Orders.Delete`},
		{"unknown role value", func(m map[string]any) {
			at(m, "tenants", 0, "assignments", 0)["role"] = "Orders.Delete"
		}, `seed: tenants[0].assignments[0] "Orders.Delete of ` + seedAPI + `": role: the resource has no role Orders.Delete`},
		{"unknown group", func(m map[string]any) {
			at(m, "tenants", 0, "assignments", 0)["group"] = "Nobody"
		}, `seed: tenants[0].assignments[0] "Orders.Approve of ` + seedAPI + `": group: the tenant has no group named Nobody`},
		{"unknown field", func(m map[string]any) {
			at(m, "tenants", 0, "users", 1)["pasword"] = "x"
		}, `seed: json: unknown field "pasword"`},
		{"wrong type", func(m map[string]any) {
			at(m, "tenants", 0, "users", 1)["password"] = 12345678
		}, `cannot be a string`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := exampleSeed(t)
			c.edit(m)
			raw, err := json.MarshalIndent(m, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			dir := newDirectory(t)
			seed, err := parseSeed(raw)
			if err == nil {
				_, err = applySeed(context.Background(), dir, seed)
			}
			var se *seedError
			if !errors.As(err, &se) {
				t.Fatalf("%v; want a seed error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n  %s\nwant\n  %s", err, c.want)
			}
			for _, s := range []string{daemonSecret, webSecret, adminPassword, "too-short"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error shows a secret: %s", err)
				}
			}
			if err := dir.Store().View(context.Background(), func(tx store.ReadTx) error {
				_, err := store.Tenants.Get(tx, seedTenant)
				return err
			}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the refused seed was half-applied: tenant lookup %v", err)
			}
		})
	}
}

func TestSeedFileRefusals(t *testing.T) {
	if _, err := parseSeed([]byte(`{"tenants": []} {"tenants": []}`)); err == nil || !strings.Contains(err.Error(), "after the manifest") {
		t.Errorf("trailing data: %v", err)
	}
	if _, err := parseSeed([]byte("{\n\"tenants\": [\n}")); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := loadSeed(t.TempDir() + "/missing.json"); err == nil {
		t.Error("a missing seed file loaded")
	}
}

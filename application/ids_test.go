package application

import (
	"fmt"
	"testing"
)

func TestFillPermissionIDs(t *testing.T) {
	n := 0
	newID := func() string { n++; return fmt.Sprintf("new-%d", n) }
	prev := Application{
		AppRoles: []AppRole{{ID: "r1", Value: "A"}, {ID: "r2", Value: "B"}},
		API:      &API{OAuth2PermissionScopes: []PermissionScope{{ID: "s1", Value: "S"}}},
	}
	a := Application{
		AppRoles: []AppRole{{Value: "B"}, {ID: "kept", Value: "K"}, {Value: "C"}, {}},
		API:      &API{OAuth2PermissionScopes: []PermissionScope{{Value: "S"}, {Value: "T"}}},
	}
	a.FillPermissionIDs(prev, newID)
	var got []string
	for _, r := range a.AppRoles {
		got = append(got, r.ID)
	}
	for _, s := range a.API.OAuth2PermissionScopes {
		got = append(got, s.ID)
	}
	want := []string{"r2", "kept", "new-1", "new-2", "s1", "new-3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ids %v, want %v", got, want)
	}
	// Nothing to fill: no id is drawn, an application without an API is fine.
	b := Application{AppRoles: []AppRole{{ID: "x"}}}
	b.FillPermissionIDs(Application{}, func() string { t.Fatal("drew an id"); return "" })
	if r, ok := prev.RoleByValue("B"); !ok || r.ID != "r2" {
		t.Errorf("RoleByValue(B) = %+v, %t", r, ok)
	}
	if _, ok := prev.RoleByValue("b"); ok {
		t.Error("RoleByValue ignores case")
	}
}

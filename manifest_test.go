package tenantry

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// storedApp reads an application by appId straight from the store.
func (f *fixture) storedApp(appID string) application.Application {
	f.t.Helper()
	var a application.Application
	if err := f.d.st.View(f.ctx, func(tx store.ReadTx) error {
		var err error
		a, err = store.Applications.One(tx, store.AppByAppID, appID)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return a
}

// A manifest changes applications through the same write path as
// UpdateApplication: what the server manages (publisher verification) is
// kept, and a re-applied manifest changes nothing.
func TestManifestKeepsServerManagedProperties(t *testing.T) {
	f := newFixture(t)
	const tid, appID = "11110000-0000-4000-8000-000000000001", "0f0e0d0c-0000-4000-8000-00000000a001"
	m := Manifest{Tenants: []ManifestTenant{{ID: tid, DisplayName: "Contoso",
		Applications: []application.Application{{AppID: appID, DisplayName: "API"}}}}}
	if _, err := f.d.Apply(f.ctx, System(), m); err != nil {
		t.Fatal(err)
	}
	app := f.storedApp(appID)
	vp := &application.VerifiedPublisher{DisplayName: "Contoso", VerifiedPublisherID: "1234567"}
	if _, err := f.d.SetVerifiedPublisher(f.ctx, System(), app.ID, vp); err != nil {
		t.Fatal(err)
	}
	plan, err := f.d.Plan(f.ctx, System(), m)
	if err != nil || len(plan) != 0 {
		t.Fatalf("plan after publisher verification = %+v, %v; want no change", plan, err)
	}
	m.Tenants[0].Applications[0].DisplayName = "API v2"
	if _, err := f.d.Apply(f.ctx, System(), m); err != nil {
		t.Fatal(err)
	}
	got := f.storedApp(appID)
	if got.DisplayName != "API v2" || got.VerifiedPublisher == nil || got.VerifiedPublisher.VerifiedPublisherID != vp.VerifiedPublisherID {
		t.Errorf("after a manifest update: displayName %q, verifiedPublisher %+v", got.DisplayName, got.VerifiedPublisher)
	}
	if got.PublisherDomain != app.PublisherDomain || !got.CreatedDateTime.Equal(app.CreatedDateTime) || got.ID != app.ID {
		t.Errorf("server-managed properties changed: %+v", got)
	}
}

// Apply writes one audit event per object it creates or changes, in the
// object's tenant and naming it: created objects whole, changed ones by
// their modified properties.
func TestManifestApplyAuditsEachObject(t *testing.T) {
	f := newFixture(t)
	const (
		conID, fabID    = "11110000-0000-4000-8000-000000000001", "11110000-0000-4000-8000-000000000002"
		apiID, clientID = "0f0e0d0c-0000-4000-8000-00000000a001", "0f0e0d0c-0000-4000-8000-00000000c001"
	)
	api := apiApp()
	api.AppID = apiID
	m := Manifest{Tenants: []ManifestTenant{
		{ID: conID, DisplayName: "Contoso",
			Users: []ManifestUser{{UserPrincipalName: "admin@contoso.onmicrosoft.com", DisplayName: "Admin", DirectoryRoles: []string{tenant.RoleGlobalAdministrator}}},
			Applications: []application.Application{api, {AppID: clientID, DisplayName: "Client", SignInAudience: application.AzureADMultipleOrgs,
				RequiredResourceAccess: []application.RequiredResourceAccess{{ResourceAppID: apiID, ResourceAccess: []application.ResourceAccess{
					{ID: "aaaaaaaa-0000-4000-8000-000000000001", Type: application.AccessScope},
					{ID: "bbbbbbbb-0000-4000-8000-000000000001", Type: application.AccessRole}}}}}}},
		{ID: fabID, DisplayName: "Fabrikam",
			Users:             []ManifestUser{{UserPrincipalName: "clerk@fabrikam.onmicrosoft.com", DisplayName: "Clerk"}},
			ServicePrincipals: []ManifestServicePrincipal{{AppID: apiID, AppRoleAssignmentRequired: true}},
			Consents:          []ManifestConsent{{ClientAppID: clientID}},
			Assignments:       []ManifestAssignment{{ResourceAppID: apiID, Role: "Files.Admin", UserPrincipalName: "clerk@fabrikam.onmicrosoft.com"}}},
	}}
	seen := len(f.events())
	changes, err := f.d.Apply(f.ctx, System(), m)
	if err != nil {
		t.Fatal(err)
	}
	events := f.events()[seen:]
	if len(events) != len(changes) {
		t.Fatalf("%d events for %d changes: %v", len(events), len(changes), changes)
	}
	actions := map[string]int{}
	targets := map[string]bool{}
	for i, e := range events {
		c := changes[i]
		actions[e.Action]++
		if e.TenantID == "" || e.TenantID != c.TenantID || e.TargetID == "" || e.Actor != "system" {
			t.Errorf("event %d (%s %s): tenant %q (change's %q), target %q, actor %q", i, e.Action, c.Key, e.TenantID, c.TenantID, e.TargetID, e.Actor)
		}
		if targets[e.TargetKind+"/"+e.TargetID] {
			t.Errorf("two events for %s %s", e.TargetKind, e.TargetID)
		}
		targets[e.TargetKind+"/"+e.TargetID] = true
		// A created object is recorded whole: its own id is in it.
		var obj map[string]any
		if err := json.Unmarshal(e.After, &obj); err != nil || obj["id"] != e.TargetID || e.Before != nil {
			t.Errorf("event %d (%s): after %s, before %s; want the whole object", i, e.Action, e.After, e.Before)
		}
	}
	want := map[string]int{"tenant.create": 2, "user.create": 2, "directoryRole.assign": 1, "application.create": 2,
		// The admin consent's grant on the API, and the basic sign-in set
		// it records tenant-wide.
		"servicePrincipal.create": 4, "oauth2PermissionGrant.create": 2, "appRoleAssignment.create": 2}
	if diff := cmp.Diff(want, actions); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
	for _, e := range events {
		if e.Action == "tenant.create" && e.TenantID != e.TargetID {
			t.Errorf("tenant.create of %s in tenant %s", e.TargetID, e.TenantID)
		}
	}

	// Changes are recorded by their modified properties.
	m.Tenants[0].Applications[1].DisplayName = "Client v2"
	m.Tenants[1].Users[0].DisplayName = "Head clerk"
	m.Tenants[1].ServicePrincipals[0].AppRoleAssignmentRequired = false
	seen = len(f.events())
	changes, err = f.d.Apply(f.ctx, System(), m)
	if err != nil {
		t.Fatal(err)
	}
	events = f.events()[seen:]
	if len(events) != 3 || len(changes) != 3 {
		t.Fatalf("events %d, changes %v; want 3 each", len(events), changes)
	}
	wantUpdates := []struct{ action, tenantID, before, after string }{
		{"user.update", fabID, `{"displayName":"Clerk"}`, `{"displayName":"Head clerk"}`},
		{"application.update", conID, `{"displayName":"Client"}`, `{"displayName":"Client v2"}`},
		{"servicePrincipal.update", fabID, `{"appRoleAssignmentRequired":true}`, `{"appRoleAssignmentRequired":false}`},
	}
	slices.SortFunc(events, func(a, b store.AuditEvent) int { return strings.Compare(a.Action, b.Action) })
	slices.SortFunc(wantUpdates, func(a, b struct{ action, tenantID, before, after string }) int {
		return strings.Compare(a.action, b.action)
	})
	for i, w := range wantUpdates {
		e := events[i]
		if e.Action != w.action || e.TenantID != w.tenantID || string(e.Before) != w.before || string(e.After) != w.after {
			t.Errorf("event %s in %s: %s → %s; want %s in %s: %s → %s", e.Action, e.TenantID, e.Before, e.After, w.action, w.tenantID, w.before, w.after)
		}
	}
	seen = len(f.events())
	if ch, err := f.d.Apply(f.ctx, System(), m); err != nil || len(ch) != 0 || len(f.events()) != seen {
		t.Errorf("re-apply: %v, %v, %d new events", ch, err, len(f.events())-seen)
	}
}

// Every operation but Apply writes exactly one audit event; Apply writes
// one per object, which mutate refuses elsewhere.
func TestOnlyApplyWritesSeveralEvents(t *testing.T) {
	f := newFixture(t)
	two := func(o *op) error {
		if err := o.audit("t", "x.one", store.Tenants, "a", nil, nil); err != nil {
			return err
		}
		return o.audit("t", "x.two", store.Tenants, "b", nil, nil)
	}
	if err := f.d.mutate(f.ctx, System(), two); err == nil {
		t.Error("mutate accepted an operation writing two audit events")
	}
	if err := f.d.mutate(f.ctx, System(), func(*op) error { return nil }); err == nil {
		t.Error("mutate accepted an operation writing no audit event")
	}
	if err := f.d.mutatePerObject(f.ctx, System(), func(*op) error { return nil }); err == nil {
		t.Error("mutatePerObject accepted an operation writing no audit event")
	}
	if err := f.d.mutatePerObject(f.ctx, System(), two); err != nil {
		t.Errorf("mutatePerObject refused one event per object: %v", err)
	}
}

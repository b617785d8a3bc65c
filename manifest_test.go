package tenantry

import (
	"testing"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
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
	plan, err := f.d.Plan(f.ctx, m)
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

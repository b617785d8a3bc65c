package tenantry

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

// lastEvent returns the newest audit event.
func (f *fixture) lastEvent() (e struct {
	Action        string
	Before, After string
}) {
	f.t.Helper()
	ev := f.events()
	last := ev[len(ev)-1]
	e.Action, e.Before, e.After = last.Action, string(last.Before), string(last.After)
	return e
}

func TestGroupMembershipAuditNamesOnlyTheMember(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	var members []tenant.Ref
	for i := range 40 {
		u := f.user(tn.ID, fmt.Sprintf("m%d@contoso.onmicrosoft.com", i))
		members = append(members, tenant.Ref{ID: u.ID, Type: tenant.MemberUser})
	}
	g, err := f.d.AddGroup(f.ctx, System, tn.ID, GroupSpec{DisplayName: "Big", Members: members})
	if err != nil {
		t.Fatal(err)
	}
	newcomer := f.user(tn.ID, "new@contoso.onmicrosoft.com")
	if _, err := f.d.AddGroupMember(f.ctx, System, g.ID, tenant.Ref{ID: newcomer.ID, Type: tenant.MemberUser}); err != nil {
		t.Fatal(err)
	}
	check := func(action, field, other string) {
		t.Helper()
		e := f.lastEvent()
		if e.Action != action {
			t.Fatalf("last event %s, want %s", e.Action, action)
		}
		got, empty := e.After, e.Before
		if field == "before" {
			got, empty = e.Before, e.After
		}
		var rec struct {
			Member tenant.Ref `json:"member"`
		}
		if err := json.Unmarshal([]byte(got), &rec); err != nil || rec.Member.ID != newcomer.ID || rec.Member.Type != tenant.MemberUser {
			t.Fatalf("%s %s = %s, want the member %s", action, field, got, newcomer.ID)
		}
		if empty != "" {
			t.Fatalf("%s records the other side too: %s", action, empty)
		}
		if strings.Contains(e.Before+e.After, other) || len(e.Before)+len(e.After) > 200 {
			t.Fatalf("%s records the member list (%d bytes)", action, len(e.Before)+len(e.After))
		}
	}
	check("group.addMember", "after", members[0].ID)
	if _, err := f.d.RemoveGroupMember(f.ctx, System, g.ID, newcomer.ID); err != nil {
		t.Fatal(err)
	}
	check("group.removeMember", "before", members[0].ID)
}

func TestRegisterRefusesCallerBuiltCredentials(t *testing.T) {
	f := newFixture(t)
	tn := f.tenant("Contoso")
	member := f.user(tn.ID, "member@contoso.onmicrosoft.com")
	start := f.clock.Now()
	pw, err := application.NewPasswordCredential("0d000000-0000-4000-8000-000000000001", "mine", "a-secret-of-16-chars", start, start.AddDate(100, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	key := application.KeyCredential{KeyID: "0d000000-0000-4000-8000-000000000002", Type: "AsymmetricX509Cert", Usage: "Verify", Key: []byte("not a certificate"), StartDateTime: start, EndDateTime: start.AddDate(100, 0, 0)}
	fic := application.FederatedIdentityCredential{ID: "0d000000-0000-4000-8000-000000000003", Name: "gh", Issuer: "https://issuer.example.com", Subject: "me", Audiences: []string{application.TokenExchangeAudience}}
	for _, tc := range []struct {
		field string
		app   application.Application
	}{
		{"passwordCredentials", application.Application{DisplayName: "P", PasswordCredentials: []application.PasswordCredential{pw.Stored()}}},
		{"keyCredentials", application.Application{DisplayName: "K", KeyCredentials: []application.KeyCredential{key}}},
		{"federatedIdentityCredentials", application.Application{DisplayName: "F", FederatedIdentityCredentials: []application.FederatedIdentityCredential{fic}}},
	} {
		before := len(f.events())
		_, err := f.d.RegisterApplication(f.ctx, UserActor(member.ID), tn.ID, tc.app)
		var fe *tenant.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Fatalf("register with %s: err = %v, want a FieldError naming it", tc.field, err)
		}
		if after := len(f.events()); after != before {
			t.Fatalf("refused registration wrote %d events", after-before)
		}
	}
	// A user's app starts without credentials; AddPassword adds one, audited.
	a, err := f.d.RegisterApplication(f.ctx, UserActor(member.ID), tn.ID, application.Application{DisplayName: "Clean"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.AddPassword(f.ctx, UserActor(member.ID), a.ID, PasswordSpec{DisplayName: "generated"}); err != nil {
		t.Fatal(err)
	}
	if e := f.lastEvent(); e.Action != "application.addPassword" {
		t.Fatalf("last event %s, want application.addPassword", e.Action)
	}
	// Writing through the stored credential's pointers and slices in
	// UpdateApplication is refused too.
	for _, tc := range []struct {
		field string
		fn    func(a *application.Application)
	}{
		{"passwordCredentials", func(a *application.Application) { a.PasswordCredentials[0].SecretHash.Digest[0] ^= 1 }},
		{"passwordCredentials", func(a *application.Application) { a.PasswordCredentials[0].EndDateTime = start.AddDate(100, 0, 0) }},
		{"keyCredentials", func(a *application.Application) { a.KeyCredentials = append(a.KeyCredentials, key) }},
		{"federatedIdentityCredentials", func(a *application.Application) { a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, fic) }},
	} {
		stored, _ := f.d.Application(f.ctx, a.ID)
		_, err := f.d.UpdateApplication(f.ctx, UserActor(member.ID), a.ID, func(a *application.Application) error { tc.fn(a); return nil })
		var fe *tenant.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Fatalf("update of %s: err = %v, want a FieldError naming it", tc.field, err)
		}
		if now, _ := f.d.Application(f.ctx, a.ID); !cmp.Equal(stored, now) {
			t.Fatalf("refused update changed the application: %s", cmp.Diff(stored, now))
		}
	}
}

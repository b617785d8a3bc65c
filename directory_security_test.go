package tenantry

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

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

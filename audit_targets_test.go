package tenantry

import (
	"encoding/json"
	"testing"

	"github.com/tenantry/tenantry/store"
)

// TestAuditEventsTargetNoCode: the audit events of code redemption, code
// replay, the device code flow and strict refresh rotation target the
// user (or the client application) the code was for, never the code's
// record, whose id is a hash of the code.
func TestAuditEventsTargetNoCode(t *testing.T) {
	e := newFT(t, func(c *TokenConfig) { c.RefreshTokenRotation = RefreshRotationStrict; c.RefreshReuseGrace = -1 })
	iss := e.d.Issuer()
	az := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read offline_access")
	ar := ftOK(iss.Authorize(e.ctx, az))(t)
	ftOK(e.redeem(az, ar.Code))(t)
	if _, err := e.redeem(az, ar.Code); err == nil {
		t.Fatal("a replayed code was redeemed")
	}
	req := DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read offline_access"}
	approved := ftOK(iss.DeviceCode(e.ctx, req))(t)
	if err := iss.ApproveDeviceCode(e.ctx, UserActor(e.alice.ID), approved.UserCode); err != nil {
		t.Fatal(err)
	}
	tr := ftOK(e.poll(ftPublicApp, approved.DeviceCode))(t)
	refresh := func(rt string) (*TokenResponse, error) {
		return iss.Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantRefreshToken, ClientID: ftPublicApp, RefreshToken: rt})
	}
	ftOK(refresh(tr.RefreshToken))(t)
	if _, err := refresh(tr.RefreshToken); err == nil {
		t.Fatal("a superseded refresh token was redeemed")
	}
	denied := ftOK(iss.DeviceCode(e.ctx, req))(t)
	if err := iss.DenyDeviceCode(e.ctx, UserActor(e.bob.ID), denied.UserCode); err != nil {
		t.Fatal(err)
	}

	events := ftOK(e.d.auditLog(e.ctx))(t)
	want := map[string]struct{ kind, id string }{
		"token.redeemCode":       {store.Users.Name(), e.alice.ID},
		"token.codeReplayed":     {store.Users.Name(), e.alice.ID},
		"deviceCode.approved":    {store.Users.Name(), e.alice.ID},
		"deviceCode.declined":    {store.Users.Name(), e.bob.ID},
		"token.redeemDeviceCode": {store.Users.Name(), e.alice.ID},
		"token.rotateRefresh":    {store.Users.Name(), e.alice.ID},
		"token.refreshReuse":     {store.Users.Name(), e.alice.ID},
	}
	seen := map[string]bool{}
	for _, ev := range events {
		if ev.Action == "deviceCode.issue" {
			t.Errorf("a device code request, which changes no directory object, is audited: %+v", ev)
		}
		if ev.TargetKind == store.Codes.Name() {
			t.Errorf("%s targets a code record (%s)", ev.Action, ev.TargetID)
		}
		w, ok := want[ev.Action]
		if !ok {
			continue
		}
		seen[ev.Action] = true
		if ev.TargetKind != w.kind || ev.TargetID != w.id {
			t.Errorf("%s targets %s %s, want %s %s", ev.Action, ev.TargetKind, ev.TargetID, w.kind, w.id)
		}
	}
	for action := range want {
		if !seen[action] {
			t.Errorf("no %s event", action)
		}
	}
}

// TestAuditAssignmentNamesRoleValue: the audit events of assigning and
// unassigning an app role name the role's value beside its id.
func TestAuditAssignmentNamesRoleValue(t *testing.T) {
	e := newFT(t)
	orders := e.sp(t, ftOrdersApp, e.conID)
	a := ftOK(e.d.AssignAppRole(e.ctx, UserActor(e.admin.ID), AssignmentSpec{ResourceID: orders.ID, PrincipalID: e.alice.ID, AppRoleID: ftRoleManage}))(t)
	if err := e.d.UnassignAppRole(e.ctx, UserActor(e.admin.ID), a.ID); err != nil {
		t.Fatal(err)
	}
	events := ftOK(e.d.auditLog(e.ctx))(t)
	check := func(action string, pick func(store.AuditEvent) json.RawMessage) {
		t.Helper()
		for _, ev := range events {
			if ev.Action != action {
				continue
			}
			var got struct {
				ID           string `json:"id"`
				AppRoleID    string `json:"appRoleId"`
				AppRoleValue string `json:"appRoleValue"`
			}
			if err := json.Unmarshal(pick(ev), &got); err != nil {
				t.Fatalf("%s: %v", action, err)
			}
			if got.ID != a.ID || got.AppRoleID != ftRoleManage || got.AppRoleValue != "Orders.Manage" {
				t.Errorf("%s records %+v, want the assignment with role %s (Orders.Manage)", action, got, ftRoleManage)
			}
			return
		}
		t.Errorf("no %s event", action)
	}
	check("appRoleAssignment.create", func(ev store.AuditEvent) json.RawMessage { return ev.After })
	check("appRoleAssignment.delete", func(ev store.AuditEvent) json.RawMessage { return ev.Before })
}

package tenantry

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/store"
)

// The password grant: tokens of a sign-in by the user, with the consent
// already given; the same refusals as the sign-in page (50126 for a wrong
// password and an unknown account alike, 50053 once locked, 50057 for a
// disabled account); no consent is recorded by it (65001).
func TestPasswordGrant(t *testing.T) {
	e := newFT(t)
	rob := ftOK(e.d.CreateUser(e.ctx, System(), e.conID, UserSpec{UserPrincipalName: "rob@contoso.com", Password: "Rob-Passw0rd!"}))(t)
	ropc := func(user, password, scope string) (*TokenResponse, error) {
		return e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantPassword, ClientID: ftPublicApp, Username: user, Password: password, Scope: scope, ClientInfo: true})
	}
	read := ftURI(ftOrdersApp) + "/Orders.Read"
	// No consent yet: the grant cannot ask for it.
	_, err := ropc("rob@contoso.com", "Rob-Passw0rd!", read+" openid offline_access")
	ftWantErr(t, err, 65001, OAuthInvalidGrant)
	// Consent through a sign-in, then the password grant works.
	e.signIn(t, e.authz(ftPublicApp, "http://localhost:6000", rob.ID, read+" openid offline_access"))
	tr, err := ropc("ROB@contoso.com", "Rob-Passw0rd!", read+" openid offline_access")
	if err != nil {
		t.Fatal(err)
	}
	if c := ftClaims(t, tr.AccessToken); c["oid"] != rob.ID || !strings.Contains(c["scp"].(string), "Orders.Read") {
		t.Fatalf("claims %v", c)
	}
	if tr.RefreshToken == "" || tr.IDToken == "" || tr.ClientInfo == "" {
		t.Fatalf("response %+v", tr)
	}
	// A confidential web app must authenticate.
	_, err = e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: e.conID, GrantType: GrantPassword, ClientID: ftWebApp, Username: "rob@contoso.com", Password: "Rob-Passw0rd!", Scope: read})
	ftWantErr(t, err, 7000218, OAuthInvalidClient)
	// Wrong password and unknown account: one answer.
	_, err = ropc("rob@contoso.com", "wrong", read)
	wrong := ftWantErr(t, err, 50126, OAuthInvalidGrant)
	_, err = ropc("nobody@contoso.com", "wrong", read)
	if unknown := ftWantErr(t, err, 50126, OAuthInvalidGrant); unknown.ErrorDescription != wrong.ErrorDescription {
		t.Fatalf("unknown account answered %q, wrong password %q", unknown.ErrorDescription, wrong.ErrorDescription)
	}
	_, err = ropc("rob@contoso.com", "", read)
	ftWantErr(t, err, 900144, OAuthInvalidRequest)
	// Disabled: 50057 with the right password.
	ftOK(e.d.DisableUser(e.ctx, System(), rob.ID))(t)
	_, err = ropc("rob@contoso.com", "Rob-Passw0rd!", read)
	ftWantErr(t, err, 50057, OAuthInvalidGrant)
	ftOK(e.d.EnableUser(e.ctx, System(), rob.ID))(t)
	// Locked after ten failures, even with the right password.
	for range 10 {
		_, _ = ropc("rob@contoso.com", "wrong", read)
	}
	_, err = ropc("rob@contoso.com", "Rob-Passw0rd!", read)
	ftWantErr(t, err, 50053, OAuthInvalidGrant)
	// Every request is in the sign-in log, without the password.
	events, _, err := e.d.st.SignIns(e.ctx, store.SignInFilter{}, store.LogPage{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range events {
		if ev.GrantType == GrantPassword {
			n++
		}
		if raw, _ := json.Marshal(ev); strings.Contains(string(raw), "Rob-Passw0rd!") {
			t.Fatalf("the sign-in log holds the password: %v", ev)
		}
	}
	if n < 15 {
		t.Fatalf("%d password grant events in the sign-in log", n)
	}
}

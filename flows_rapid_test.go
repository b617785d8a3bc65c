package tenantry

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// Property tests of the token flows against the invariants listed in the README.
// Each property builds the flow fixture (newFT) and compares every issued
// token with an oracle computed here from what the store holds, not with
// the Directory's own decision code.

var (
	ftScopeValues = []string{"Orders.Read", "Orders.Write", "Orders.Admin"}
	ftScopeIDs    = []string{ftScopeRead, ftScopeWrite, ftScopeAdmin}
	ftRoleIDs     = []string{ftRoleManage, ftRoleSync, ftRoleAudit}
)

// ftTokenErr returns the AADSTS code of err, or fails when err is not a
// *TokenError.
func ftTokenErr(t ftTB, err error) int {
	t.Helper()
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("not a *TokenError: %T %v", err, err)
	}
	if te.Status != 400 && te.Status != 401 {
		t.Fatalf("AADSTS%d with HTTP status %d", te.Code, te.Status)
	}
	return te.Code
}

// ftSubset draws a non-empty subset of values (in their order).
func ftSubset(t *rapid.T, values []string, label string) []string {
	for {
		var out []string
		for _, v := range values {
			if rapid.Bool().Draw(t, label+" "+v) {
				out = append(out, v)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
}

// ---------------------------------------------------------------------------
// (c) invariant 7: after any of the revocation events, no new token from
// client credentials or a refresh token.

type ftEvent struct {
	name  string
	cc    bool // also stops client credentials
	codes []int
	apply func(t *rapid.T, e *ftEnv)
}

var ftEvents = []ftEvent{
	{"user disabled", false, []int{50057}, func(t *rapid.T, e *ftEnv) {
		ftOK(e.d.DisableUser(e.ctx, System(), e.alice.ID))(t)
	}},
	{"client service principal disabled", true, []int{7000112}, func(t *rapid.T, e *ftEnv) {
		// After the app's deletion its home service principal is deleted
		// too, and cannot be changed any more.
		if _, err := e.d.DisableServicePrincipal(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID); err != nil && !errors.Is(err, ErrDeleted) {
			t.Fatal(err)
		}
	}},
	{"client app deleted", true, []int{700016}, func(t *rapid.T, e *ftEnv) {
		if err := e.d.DeleteApplication(e.ctx, System(), e.apps[ftWebApp].ID); err != nil {
			t.Fatal(err)
		}
	}},
	{"secret removed", true, []int{7000215}, func(t *rapid.T, e *ftEnv) {
		if _, err := e.d.RemovePassword(e.ctx, System(), e.apps[ftWebApp].ID, e.keyID["short"]); err != nil && !errors.Is(err, ErrDeleted) {
			t.Fatal(err)
		}
	}},
	{"secret expired", true, []int{7000222}, func(t *rapid.T, e *ftEnv) {
		e.clock.Advance(3 * time.Hour)
	}},
	{"grant revoked", false, []int{65001}, func(t *rapid.T, e *ftEnv) {
		for _, g := range ftOK(e.d.allGrants(e.ctx, e.sp(t, ftWebApp, e.conID).ID))(t) {
			if err := e.d.DeleteGrant(e.ctx, UserActor(e.admin.ID), g.ID); err != nil {
				t.Fatal(err)
			}
		}
	}},
	{"sessions revoked", false, []int{50173}, func(t *rapid.T, e *ftEnv) {
		ftOK(e.d.RevokeSignInSessions(e.ctx, System(), e.alice.ID))(t)
	}},
}

func TestFlowPropertyRevocationStopsTokens(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := newFT(t)
		// The web app authenticates with a secret that expires in two hours.
		p := ftOK(e.d.AddPassword(e.ctx, System(), e.apps[ftWebApp].ID, PasswordSpec{DisplayName: "short", End: e.clock.Now().Add(2 * time.Hour)}))(t)
		e.secret[ftWebApp], e.keyID["short"] = p.SecretText, p.KeyID
		rt := e.webSignIn(t, e.alice.ID).RefreshToken
		cc := func() error {
			_, err := e.cc(e.conID, ftWebApp, e.secret[ftWebApp], ftURI(ftOrdersApp)+"/.default")
			return err
		}
		if err := cc(); err != nil {
			t.Fatalf("before any event: %v", err)
		}
		e.clock.Advance(time.Duration(rapid.IntRange(0, 60).Draw(t, "minutes")) * time.Minute)
		order := rapid.Permutation(ftEvents).Draw(t, "events")
		n := rapid.IntRange(1, len(order)).Draw(t, "count")
		// After each event, not only after the last one: every event
		// stops what it concerns at once, and the earlier ones keep doing so.
		var applied []ftEvent
		stopsCC, userDisabled := false, false
		var codes []int
		for _, ev := range order[:n] {
			ev.apply(t, e)
			applied = append(applied, ev)
			stopsCC = stopsCC || ev.cc
			userDisabled = userDisabled || ev.name == "user disabled"
			codes = append(codes, ev.codes...)
			if rapid.Bool().Draw(t, "advance") {
				// A few minutes, so that only the event expires the secret.
				e.clock.Advance(time.Duration(rapid.IntRange(1, 8).Draw(t, "minutesAfter")) * time.Minute)
			}
			_, err := e.refresh(ftWebApp, rt, "")
			if err == nil {
				t.Fatalf("invariant 7: refresh succeeded after %v", ftEventNames(applied))
			}
			if code := ftTokenErr(t, err); !slices.Contains(codes, code) {
				t.Fatalf("refresh after %v refused with AADSTS%d, want one of %v", ftEventNames(applied), code, codes)
			}
			err = cc()
			switch {
			case stopsCC && err == nil:
				t.Fatalf("invariant 7: client credentials succeeded after %v", ftEventNames(applied))
			case stopsCC && !slices.Contains(codes, ftTokenErr(t, err)):
				t.Fatalf("client credentials after %v: %v", ftEventNames(applied), err)
			case !stopsCC && err != nil:
				t.Fatalf("client credentials refused after %v, which do not concern it: %v", ftEventNames(applied), err)
			}
			// A fresh sign-in is refused too when the events concern the
			// user or the client.
			if stopsCC || userDisabled {
				req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
				if ar, err := e.d.Issuer().Authorize(e.ctx, req); err == nil {
					if _, err := e.redeem(req, ar.Code); err == nil {
						t.Fatalf("invariant 7: a new sign-in got tokens after %v", ftEventNames(applied))
					}
				} else if code := ftTokenErr(t, err); !slices.Contains(codes, code) {
					t.Fatalf("sign-in after %v refused with AADSTS%d, want one of %v", ftEventNames(applied), code, codes)
				}
			}
		}
	})
}

func ftEventNames(evs []ftEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.name)
	}
	return out
}

// ---------------------------------------------------------------------------
// (d) invariant 3: no token for a tenant the client's audience does not
// admit, whichever authority segment is used.

func ftAdmits(audience, homeTenant, tid string) bool {
	switch audience {
	case application.AzureADMyOrg:
		return tid == homeTenant
	case application.AzureADMultipleOrgs:
		return tid != tenant.ConsumersID
	}
	return false
}

func TestFlowPropertyAudience(t *testing.T) {
	audiences := []string{application.AzureADMyOrg, application.AzureADMultipleOrgs}
	issued := 0
	rapid.Check(t, func(t *rapid.T) {
		e := newFT(t)
		segments := []string{e.conID, e.fabID, "contoso.com", "fabrikam.com", "common", "organizations", "consumers"}
		// Fabrikam holds the daemon and the API, with a role, and carol's
		// consent to the web app, from when both were multi-tenant.
		provisioned := rapid.Bool().Draw(t, "provisioned")
		if provisioned {
			daemonSP := ftOK(e.d.CreateServicePrincipal(e.ctx, System(), e.fabID, ftDaemonApp))(t)
			ordersSP := ftOK(e.d.CreateServicePrincipal(e.ctx, System(), e.fabID, ftOrdersApp))(t)
			ftOK(e.d.AssignAppRole(e.ctx, System(), AssignmentSpec{ResourceID: ordersSP.ID, PrincipalID: daemonSP.ID, AppRoleID: ftRoleSync}))(t)
		}
		var carolRT, carolAT string
		if rapid.Bool().Draw(t, "carolSignedIn") {
			req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, ftURI(ftOrdersApp)+"/Orders.Read offline_access")
			req.Tenant = e.fabID
			tr := e.signIn(t, req)
			carolRT, carolAT = tr.RefreshToken, tr.AccessToken
		}
		set := func(appID, aud string) {
			ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[appID].ID, func(a *application.Application) error {
				a.SignInAudience = aud
				return nil
			}))(t)
		}
		// Then the audiences change: of the clients and of the API, the
		// resource side (narrowed after consent, its service principal in
		// Fabrikam must give no token any more).
		daemonAud := rapid.SampledFrom(audiences).Draw(t, "daemonAudience")
		webAud := rapid.SampledFrom(audiences).Draw(t, "webAudience")
		ordersAud := rapid.SampledFrom(audiences).Draw(t, "ordersAudience")
		set(ftDaemonApp, daemonAud)
		set(ftWebApp, webAud)
		set(ftOrdersApp, ordersAud)
		// admitted: the model's answer for a token of client in tenant tid
		// for the Orders API (REFERENCE §3: both the client's and the
		// resource's audience must admit the tenant).
		admitted := func(clientAud, tid string) bool {
			return ftAdmits(clientAud, e.conID, tid) && ftAdmits(ordersAud, e.conID, tid)
		}
		// refusal checks the reason of a refusal in a named foreign tenant
		// where the audiences or the missing service principals explain it
		// (REFERENCE §3): the client not admitted is AADSTS700016
		// (application not found in the directory), a client without a
		// service principal there AADSTS7000229, the resource not admitted
		// or not provisioned AADSTS500011 (resource principal not found).
		ordersThere := provisioned || carolRT != ""
		refusal := func(what, clientAud string, clientThere bool, seg string, err error) {
			code := ftTokenErr(t, err)
			if seg != e.fabID && seg != "fabrikam.com" {
				return
			}
			codes := map[int]bool{}
			if !ftAdmits(clientAud, e.conID, e.fabID) {
				codes[700016] = true
			}
			if !clientThere {
				codes[7000229] = true
			}
			if !ftAdmits(ordersAud, e.conID, e.fabID) || !ordersThere {
				codes[500011] = true
			}
			if len(codes) > 0 && !codes[code] {
				t.Fatalf("%s at /%s (client %s, API %s, client provisioned %v, API provisioned %v): AADSTS%d, want one of %v: %v",
					what, seg, clientAud, ordersAud, clientThere, ordersThere, code, slices.Sorted(maps.Keys(codes)), err)
			}
		}
		// A token issued abroad before the API was narrowed no longer
		// validates for it.
		if carolAT != "" && ordersAud == application.AzureADMyOrg {
			if _, err := e.d.Issuer().ValidateAccessToken(e.ctx, carolAT, ftOrdersApp); err == nil {
				t.Fatalf("invariant 3: the single-tenant API validates a token issued in Fabrikam")
			}
		}

		// Client credentials.
		seg := rapid.SampledFrom(segments).Draw(t, "ccSegment")
		tr, err := e.cc(seg, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default")
		if err == nil {
			issued++
			tid, _ := ftClaims(t, tr.AccessToken)["tid"].(string)
			if !admitted(daemonAud, tid) {
				t.Fatalf("invariant 3: %s daemon got a token for the %s API in tenant %s at /%s", daemonAud, ordersAud, tid, seg)
			}
		} else {
			refusal("client credentials", daemonAud, provisioned, seg, err)
			if seg == e.conID || seg == "contoso.com" {
				t.Fatalf("client credentials at home refused: %v", err)
			}
		}

		// Authorization code.
		user := rapid.SampledFrom([]tenant.User{e.alice, e.carol}).Draw(t, "user")
		seg = rapid.SampledFrom(segments).Draw(t, "signInSegment")
		req := e.authz(ftWebApp, ftWebRedirect, user.ID, ftURI(ftOrdersApp)+"/Orders.Read offline_access")
		req.Tenant = seg
		if ar, err := e.d.Issuer().Authorize(e.ctx, req); err == nil {
			tr, err := e.redeem(req, ar.Code)
			if err == nil {
				issued++
				tid, _ := ftClaims(t, tr.AccessToken)["tid"].(string)
				if !admitted(webAud, tid) || tid != user.TenantID {
					t.Fatalf("invariant 3: %s web app got a token for %s on the %s API in tenant %s at /%s", webAud, user.UserPrincipalName, ordersAud, tid, seg)
				}
			} else {
				ftTokenErr(t, err)
			}
		} else if user.ID == e.carol.ID {
			refusal("sign-in", webAud, true, seg, err)
		} else {
			ftTokenErr(t, err)
		}
		// The service principal of a single-tenant app is never created
		// abroad by a sign-in.
		if webAud == application.AzureADMyOrg && carolRT == "" {
			if _, err := e.d.ServicePrincipalByAppID(e.ctx, System(), e.fabID, ftWebApp); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("invariant 3: single-tenant web app has a service principal in Fabrikam: %v", err)
			}
		}

		// A refresh token from when the app was multi-tenant.
		if carolRT != "" {
			seg := rapid.SampledFrom([]string{e.fabID, "common", "organizations"}).Draw(t, "refreshSegment")
			tr, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: seg, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: carolRT})
			if err == nil {
				issued++
				if tid, _ := ftClaims(t, tr.AccessToken)["tid"].(string); !admitted(webAud, tid) {
					t.Fatalf("invariant 3: refresh gave a %s web app a token for the %s API in tenant %s", webAud, ordersAud, tid)
				}
			} else {
				refusal("refresh", webAud, true, seg, err)
			}
		}
	})
	if issued == 0 {
		t.Fatal("no token was issued: the property is vacuous")
	}
}

// ---------------------------------------------------------------------------
// (e) mint → validate round trip, and (f) any flipped byte fails.

// ftIssue issues one token of a randomly chosen kind and returns it with the
// appId of its resource.
func ftIssue(t *rapid.T, e *ftEnv) (raw, resource string) {
	// Optional claims and group claims on the resources, at random.
	if rapid.Bool().Draw(t, "optionalClaims") {
		for _, id := range []string{ftOrdersApp, ftLegacyApp} {
			ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[id].ID, func(a *application.Application) error {
				a.OptionalClaims = &application.OptionalClaims{AccessToken: []application.OptionalClaim{
					{Name: "upn"}, {Name: "email"}, {Name: "acct"}, {Name: "given_name"}, {Name: "idtyp", AdditionalProperties: []string{"include_user_token"}},
				}}
				a.GroupMembershipClaims = rapid.SampledFrom([]string{"", "SecurityGroup", "All"}).Draw(t, "groupClaims")
				return nil
			}))(t)
		}
	}
	user := rapid.SampledFrom([]tenant.User{e.alice, e.bob}).Draw(t, "user")
	switch rapid.IntRange(0, 5).Draw(t, "kind") {
	case 0:
		return ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default"))(t).AccessToken, ftOrdersApp
	case 1:
		return ftOK(e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], ftLegacyURI+"/.default"))(t).AccessToken, ftLegacyApp
	case 2:
		client := rapid.SampledFrom([]string{ftWebApp, ftSPAApp, ftPublicApp}).Draw(t, "client")
		redirect := map[string]string{ftWebApp: ftWebRedirect, ftSPAApp: ftSPARedirect, ftPublicApp: "http://localhost:4711"}[client]
		scopes := ftSubset(t, []string{"Orders.Read", "Orders.Write"}, "scope")
		var s []string
		for _, v := range scopes {
			s = append(s, ftURI(ftOrdersApp)+"/"+v)
		}
		return e.signIn(t, e.authz(client, redirect, user.ID, strings.Join(s, " "))).AccessToken, ftOrdersApp
	case 3:
		return e.signIn(t, e.authz(ftWebApp, ftWebRedirect, user.ID, ftLegacyURI+"/Legacy.Read")).AccessToken, ftLegacyApp
	case 4:
		incoming := e.webSignIn(t, user.ID).AccessToken
		return ftOK(e.obo(ftOrdersApp, incoming, ftURI(ftDownApp)+"/Files.Read"))(t).AccessToken, ftDownApp
	default:
		da := ftOK(e.d.Issuer().DeviceCode(e.ctx, DeviceCodeRequest{Tenant: e.conID, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read"}))(t)
		if err := e.d.Issuer().ApproveDeviceCode(e.ctx, UserActor(user.ID), da.UserCode); err != nil {
			t.Fatal(err)
		}
		return ftOK(e.poll(ftPublicApp, da.DeviceCode))(t).AccessToken, ftOrdersApp
	}
}

func TestFlowPropertyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := newFT(t)
		if rapid.Bool().Draw(t, "assignRole") {
			ftOK(e.d.AssignAppRole(e.ctx, System(), AssignmentSpec{ResourceID: e.sp(t, ftOrdersApp, e.conID).ID, PrincipalID: e.clerks.ID, AppRoleID: ftRoleManage}))(t)
		}
		raw, resource := ftIssue(t, e)
		e.clock.Advance(time.Duration(rapid.IntRange(0, 59).Draw(t, "minutes")) * time.Minute)
		p, err := e.d.Issuer().ValidateAccessToken(e.ctx, raw, resource)
		if err != nil {
			t.Fatalf("a token just issued does not validate: %v", err)
		}
		// The claims the Validator decoded are those in the token, typed
		// and as JSON.
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		var want token.AccessClaims
		if err := json.Unmarshal(payload, &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, *p.Claims); diff != "" {
			t.Fatalf("validated claims differ from the token's (-token +validated):\n%s", diff)
		}
		var inToken, reencoded map[string]any
		if err := json.Unmarshal(payload, &inToken); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(ftOK(json.Marshal(p.Claims))(t), &reencoded); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(inToken, reencoded); diff != "" {
			t.Fatalf("validated claims re-encode differently (-token +validated):\n%s", diff)
		}
		// The principal agrees with the claims.
		appID, _ := inToken["azp"].(string)
		if appID == "" {
			appID, _ = inToken["appid"].(string)
		}
		// App-only tokens are the daemon's (oid = its service principal);
		// idtyp is an optional claim and may be absent.
		appOnly := inToken["oid"] == e.sp(t, ftDaemonApp, e.conID).ID
		if idtyp, ok := inToken["idtyp"]; ok && idtyp != map[bool]string{true: "app", false: "user"}[appOnly] {
			t.Fatalf("idtyp %v in a token with app-only = %v", idtyp, appOnly)
		}
		if p.TenantID != inToken["tid"] || p.ObjectID != inToken["oid"] || p.AppID != appID || p.Version.String() != inToken["ver"] || p.IsApp != appOnly {
			t.Fatalf("principal %+v disagrees with claims %v", p, inToken)
		}
		if !slices.Equal(p.Scopes, strings.Fields(want.Scope)) || !slices.Equal(p.Roles, want.Roles) {
			t.Fatalf("principal scopes/roles %v %v, claims %q %v", p.Scopes, p.Roles, want.Scope, want.Roles)
		}
	})
}

func TestFlowPropertyFlippedByte(t *testing.T) {
	e := newFT(t)
	type issued struct{ raw, resource string }
	var tokens []issued
	// One token of each kind, issued up front.
	rapid.Check(t, func(rt *rapid.T) {
		if len(tokens) < 12 {
			raw, res := ftIssue(rt, e)
			tokens = append(tokens, issued{raw, res})
		}
	})
	var rts []string
	for _, extra := range []string{"", " openid", " profile", " openid email"} {
		rts = append(rts, e.signIn(t, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read offline_access"+extra)).RefreshToken)
	}
	rapid.Check(t, func(t *rapid.T) {
		if rapid.IntRange(0, 4).Draw(t, "refreshToken") == 0 {
			rt := rapid.SampledFrom(rts).Draw(t, "rt")
			i := rapid.IntRange(0, len(rt)-1).Draw(t, "index")
			x := byte(rapid.IntRange(1, 255).Draw(t, "xor"))
			b := []byte(rt)
			b[i] ^= x
			if _, err := e.refresh(ftWebApp, string(b), ""); err == nil {
				t.Fatalf("refresh token with byte %d xor %#x accepted", i, x)
			}
			return
		}
		tok := rapid.SampledFrom(tokens).Draw(t, "token")
		i := rapid.IntRange(0, len(tok.raw)-1).Draw(t, "index")
		x := byte(rapid.IntRange(1, 255).Draw(t, "xor"))
		b := []byte(tok.raw)
		b[i] ^= x
		_, err := e.d.Issuer().ValidateAccessToken(e.ctx, string(b), tok.resource)
		if err == nil {
			t.Fatalf("token with byte %d xor %#x (%q→%q) validates", i, x, tok.raw[i], b[i])
		}
		for _, want := range []error{token.ErrMalformed, token.ErrSignature, token.ErrUnknownKey, token.ErrAlgorithm} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("flipped byte %d: unexpected error kind %v", i, err)
	})
	// go-jose agrees: every issued token verifies with the published keys.
	jwks := ftOK(e.d.Issuer().JWKS(e.ctx, e.conID, 2))(t)
	for _, tok := range tokens {
		if _, err := ftVerifyWithJWKS(t, jwks, tok.raw, jose.ES256); err != nil {
			t.Fatal(err)
		}
	}
}

package tenantry

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
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
// (a) invariant 5 and (b) invariant 6: a state machine over grants, role
// assignments, group membership, scope and role enablement and
// appRoleAssignmentRequired, issuing tokens all along.

type ftClaimsMachine struct {
	e        *ftEnv
	ordersSP string
	webSP    string
	daemonSP string
	rts      []ftHeldRT
	issued   int
}

type ftHeldRT struct {
	user, rt string
}

func newFTClaimsMachine(t *rapid.T) *ftClaimsMachine {
	e := newFT(t)
	return &ftClaimsMachine{
		e:        e,
		ordersSP: e.sp(t, ftOrdersApp, e.conID).ID,
		webSP:    e.sp(t, ftWebApp, e.conID).ID,
		daemonSP: e.sp(t, ftDaemonApp, e.conID).ID,
	}
}

func (m *ftClaimsMachine) pickUser(t *rapid.T) string {
	return rapid.SampledFrom([]string{m.e.alice.ID, m.e.bob.ID}).Draw(t, "user")
}

// setupErr accepts the typed refusals of setup operations.
func (m *ftClaimsMachine) setupErr(t *rapid.T, what string, err error) {
	if err == nil {
		return
	}
	for _, ok := range []error{tenant.ErrInvalid, tenant.ErrForbidden, store.ErrAlreadyExists, store.ErrNotFound,
		consent.ErrAdminConsentRequired, consent.ErrScopeDisabled, consent.ErrUnknownScope, consent.ErrUserConsentDisabled, ErrForbidden} {
		if errors.Is(err, ok) {
			return
		}
	}
	t.Fatalf("%s: unexpected error %v", what, err)
}

func (m *ftClaimsMachine) Consent(t *rapid.T) {
	scopes := ftSubset(t, ftScopeValues, "scope")
	if rapid.Bool().Draw(t, "tenantWide") {
		_, err := m.e.d.Consent(m.e.ctx, UserActor(m.e.admin.ID), m.e.conID, ConsentSpec{ClientAppID: ftWebApp, TenantWide: true, Scopes: []consent.ScopeRequest{{ResourceAppID: ftOrdersApp, Scopes: scopes}}})
		m.setupErr(t, "admin consent", err)
		return
	}
	u := m.pickUser(t)
	_, err := m.e.d.Consent(m.e.ctx, UserActor(u), m.e.conID, ConsentSpec{ClientAppID: ftWebApp, Scopes: []consent.ScopeRequest{{ResourceAppID: ftOrdersApp, Scopes: scopes}}})
	m.setupErr(t, "user consent", err)
}

func (m *ftClaimsMachine) Revoke(t *rapid.T) {
	grants := ftOK(m.e.d.Grants(m.e.ctx, System(), m.webSP, PageRequest{}))(t).Items
	if len(grants) == 0 {
		t.Skip("no grant")
	}
	g := rapid.SampledFrom(grants).Draw(t, "grant")
	var scopes []string
	if rapid.Bool().Draw(t, "partial") {
		scopes = ftSubset(t, ftScopeValues, "revoke")
	}
	m.setupErr(t, "revoke", m.e.d.RevokeGrant(m.e.ctx, UserActor(m.e.admin.ID), g.ID, scopes))
}

func (m *ftClaimsMachine) ToggleScope(t *rapid.T) {
	id := rapid.SampledFrom(ftScopeIDs).Draw(t, "scopeID")
	_, err := m.e.d.UpdateApplication(m.e.ctx, System(), m.e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		for i := range a.API.OAuth2PermissionScopes {
			if a.API.OAuth2PermissionScopes[i].ID == id {
				a.API.OAuth2PermissionScopes[i].IsEnabled = !a.API.OAuth2PermissionScopes[i].IsEnabled
			}
		}
		return nil
	})
	m.setupErr(t, "toggle scope", err)
}

func (m *ftClaimsMachine) ToggleRole(t *rapid.T) {
	id := rapid.SampledFrom(ftRoleIDs).Draw(t, "roleID")
	_, err := m.e.d.UpdateApplication(m.e.ctx, System(), m.e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		for i := range a.AppRoles {
			if a.AppRoles[i].ID == id {
				a.AppRoles[i].IsEnabled = !a.AppRoles[i].IsEnabled
			}
		}
		return nil
	})
	m.setupErr(t, "toggle role", err)
}

func (m *ftClaimsMachine) Assign(t *rapid.T) {
	resource := rapid.SampledFrom([]string{m.ordersSP, m.ordersSP, m.webSP}).Draw(t, "resource")
	principal := rapid.SampledFrom([]string{m.e.alice.ID, m.e.bob.ID, m.e.clerks.ID, m.daemonSP, m.webSP}).Draw(t, "principal")
	role := rapid.SampledFrom(append([]string{application.DefaultAccessRoleID}, ftRoleIDs...)).Draw(t, "role")
	_, err := m.e.d.AssignAppRole(m.e.ctx, UserActor(m.e.admin.ID), AssignmentSpec{ResourceID: resource, PrincipalID: principal, AppRoleID: role})
	m.setupErr(t, "assign", err)
}

func (m *ftClaimsMachine) assignmentsOn(t ftTB, resourceSP string) []serviceprincipal.AppRoleAssignment {
	var out []serviceprincipal.AppRoleAssignment
	err := m.e.d.Store().View(m.e.ctx, func(tx store.ReadTx) error {
		var err error
		out, err = store.Assignments.Lookup(tx, store.AssignmentByResource, resourceSP)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (m *ftClaimsMachine) Unassign(t *rapid.T) {
	all := append(m.assignmentsOn(t, m.ordersSP), m.assignmentsOn(t, m.webSP)...)
	if len(all) == 0 {
		t.Skip("no assignment")
	}
	a := rapid.SampledFrom(all).Draw(t, "assignment")
	m.setupErr(t, "unassign", m.e.d.UnassignAppRole(m.e.ctx, UserActor(m.e.admin.ID), a.ID))
}

func (m *ftClaimsMachine) Membership(t *rapid.T) {
	u := m.pickUser(t)
	_, err := m.e.d.AddGroupMember(m.e.ctx, System(), m.e.clerks.ID, tenant.Ref{ID: u, Type: tenant.MemberUser})
	if errors.Is(err, store.ErrAlreadyExists) {
		_, err = m.e.d.RemoveGroupMember(m.e.ctx, System(), m.e.clerks.ID, u)
	}
	m.setupErr(t, "group membership", err)
}

func (m *ftClaimsMachine) Require(t *rapid.T) {
	sp := rapid.SampledFrom([]string{m.ordersSP, m.webSP}).Draw(t, "sp")
	_, err := m.e.d.UpdateServicePrincipal(m.e.ctx, System(), sp, func(s *serviceprincipal.ServicePrincipal) error {
		s.AppRoleAssignmentRequired = !s.AppRoleAssignmentRequired
		return nil
	})
	m.setupErr(t, "toggle appRoleAssignmentRequired", err)
}

func (m *ftClaimsMachine) Advance(t *rapid.T) {
	m.e.clock.Advance(time.Duration(rapid.IntRange(1, 30).Draw(t, "minutes")) * time.Minute)
}

// oracle: the enabled app roles principal holds on resourceSP, directly or
// (users) through a group it is a direct member of, and whether it holds
// any assignment in force there (appRoleAssignmentRequired).
func (m *ftClaimsMachine) oracleRoles(t ftTB, principal string, user bool, resourceSP string) (roles []string, assigned bool) {
	app := m.e.app(t, ftOrdersApp)
	var groups []string
	if user {
		err := m.e.d.Store().View(m.e.ctx, func(tx store.ReadTx) error {
			gs, err := store.Groups.Lookup(tx, store.GroupByMember, principal)
			for _, g := range gs {
				groups = append(groups, g.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	member := application.MemberTypeApplication
	if user {
		member = application.MemberTypeUser
	}
	for _, a := range m.assignmentsOn(t, resourceSP) {
		if a.PrincipalID != principal && !(user && a.PrincipalType == serviceprincipal.PrincipalGroup && slices.Contains(groups, a.PrincipalID)) {
			continue
		}
		if a.AppRoleID == application.DefaultAccessRoleID {
			assigned = true
			continue
		}
		if resourceSP != m.ordersSP {
			continue
		}
		for _, r := range app.AppRoles {
			if r.ID == a.AppRoleID && r.IsEnabled {
				assigned = true
				if slices.Contains(r.AllowedMemberTypes, member) {
					roles = append(roles, r.Value)
				}
			}
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles), assigned
}

// oracleScopes: the enabled scopes granted to the web app on the API for
// user (its own grant or an AllPrincipals one).
func (m *ftClaimsMachine) oracleScopes(t ftTB, user string) []string {
	app := m.e.app(t, ftOrdersApp)
	enabled := map[string]bool{}
	for _, s := range app.API.OAuth2PermissionScopes {
		enabled[s.Value] = s.IsEnabled
	}
	var out []string
	for _, g := range ftOK(m.e.d.Grants(m.e.ctx, System(), m.webSP, PageRequest{}))(t).Items {
		if g.ResourceID != m.ordersSP || !(g.ConsentType == consent.AllPrincipals || (g.ConsentType == consent.Principal && g.PrincipalID == user)) {
			continue
		}
		for _, s := range strings.Fields(g.Scope) {
			if enabled[s] {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (m *ftClaimsMachine) required(t ftTB, sp string) bool {
	return ftOK(m.e.d.ServicePrincipal(m.e.ctx, System(), sp))(t).AppRoleAssignmentRequired
}

// checkDelegated checks a delegated access token against the oracle.
func (m *ftClaimsMachine) checkDelegated(t *rapid.T, raw, user string, asked []string) {
	m.issued++
	c := ftClaims(t, raw)
	if c["oid"] != user || c["aud"] != ftOrdersApp || c["azp"] != ftWebApp {
		t.Fatalf("token for the wrong user or parties: %v", c)
	}
	scp := ftScp(c)
	granted := m.oracleScopes(t, user)
	for _, s := range scp {
		if !slices.Contains(granted, s) {
			t.Fatalf("invariant 5: scp %v holds %s, granted and enabled: %v", scp, s, granted)
		}
	}
	if asked != nil {
		want := slices.Clone(asked)
		slices.Sort(want)
		if !slices.Equal(scp, want) {
			t.Fatalf("scp %v, asked %v", scp, want)
		}
	}
	roles, assigned := m.oracleRoles(t, user, true, m.ordersSP)
	if got := ftStrings(c, "roles"); !slices.Equal(got, roles) {
		t.Fatalf("invariant 5: roles %v, want the enabled assigned roles %v", got, roles)
	}
	if m.required(t, m.ordersSP) && !assigned {
		t.Fatal("invariant 6: token for a user not assigned to the resource")
	}
	if _, onClient := m.oracleRoles(t, user, true, m.webSP); m.required(t, m.webSP) && !onClient {
		t.Fatal("invariant 6: token for a user not assigned to the client")
	}
}

// checkDelegatedRefusal checks that an assignment refusal is justified.
func (m *ftClaimsMachine) checkDelegatedRefusal(t *rapid.T, err error, user string, allowed ...int) {
	code := ftTokenErr(t, err)
	if !slices.Contains(allowed, code) {
		t.Fatalf("unexpected refusal: %v", err)
	}
	if code == 50105 {
		_, onRes := m.oracleRoles(t, user, true, m.ordersSP)
		_, onClient := m.oracleRoles(t, user, true, m.webSP)
		if !(m.required(t, m.ordersSP) && !onRes) && !(m.required(t, m.webSP) && !onClient) {
			t.Fatalf("AADSTS50105 for a user assigned where required: %v", err)
		}
	}
}

func (m *ftClaimsMachine) ClientCredentials(t *rapid.T) {
	client := rapid.SampledFrom([]string{ftDaemonApp, ftWebApp}).Draw(t, "client")
	clientSP := map[string]string{ftDaemonApp: m.daemonSP, ftWebApp: m.webSP}[client]
	tr, err := m.e.cc(m.e.conID, client, m.e.secret[client], ftURI(ftOrdersApp)+"/.default")
	roles, assigned := m.oracleRoles(t, clientSP, false, m.ordersSP)
	if err != nil {
		if code := ftTokenErr(t, err); code != 501051 || !m.required(t, m.ordersSP) || assigned {
			t.Fatalf("client credentials refused: %v (required=%t assigned=%t)", err, m.required(t, m.ordersSP), assigned)
		}
		return
	}
	m.issued++
	c := ftClaims(t, tr.AccessToken)
	if got := ftStrings(c, "roles"); !slices.Equal(got, roles) {
		t.Fatalf("invariant 5: app-only roles %v, want %v", got, roles)
	}
	if m.required(t, m.ordersSP) && !assigned {
		t.Fatal("invariant 6: app-only token for an unassigned client")
	}
}

func (m *ftClaimsMachine) SignIn(t *rapid.T) {
	user := m.pickUser(t)
	asked := ftSubset(t, ftScopeValues, "ask")
	var scope []string
	for _, s := range asked {
		scope = append(scope, ftURI(ftOrdersApp)+"/"+s)
	}
	req := m.e.authz(ftWebApp, ftWebRedirect, user, strings.Join(scope, " ")+" offline_access")
	req.Prompt = rapid.SampledFrom([]string{"", "none", "consent"}).Draw(t, "prompt")
	ar, err := m.e.d.Issuer().Authorize(m.e.ctx, req)
	if err != nil {
		m.checkDelegatedRefusal(t, err, user, 65001, 90094, 50105)
		return
	}
	tr, err := m.e.redeem(req, ar.Code)
	if err != nil {
		t.Fatalf("redeeming a fresh code: %v", err)
	}
	m.checkDelegated(t, tr.AccessToken, user, asked)
	m.rts = append(m.rts, ftHeldRT{user: user, rt: tr.RefreshToken})
}

func (m *ftClaimsMachine) Refresh(t *rapid.T) {
	if len(m.rts) == 0 {
		t.Skip("no refresh token")
	}
	h := rapid.SampledFrom(m.rts).Draw(t, "rt")
	var asked []string
	scope := ""
	if rapid.Bool().Draw(t, "narrow") {
		asked = ftSubset(t, ftScopeValues, "refreshScope")
		for _, s := range asked {
			scope += ftURI(ftOrdersApp) + "/" + s + " "
		}
	}
	tr, err := m.e.refresh(ftWebApp, h.rt, strings.TrimSpace(scope))
	if err != nil {
		m.checkDelegatedRefusal(t, err, h.user, 65001, 50105)
		return
	}
	m.checkDelegated(t, tr.AccessToken, h.user, asked)
}

// Check: no user's own grant holds an Admin-type scope (invariant 4).
func (m *ftClaimsMachine) Check(t *rapid.T) {
	for _, g := range ftOK(m.e.d.Grants(m.e.ctx, System(), m.webSP, PageRequest{}))(t).Items {
		if g.ConsentType == consent.Principal && slices.Contains(strings.Fields(g.Scope), "Orders.Admin") {
			t.Fatalf("invariant 4: a user's own grant holds an Admin-type scope: %+v", g)
		}
	}
}

func TestFlowPropertyClaimsWithinGrants(t *testing.T) {
	issued := 0
	rapid.Check(t, func(t *rapid.T) {
		m := newFTClaimsMachine(t)
		t.Repeat(rapid.StateMachineActions(m))
		issued += m.issued
	})
	if issued == 0 {
		t.Fatal("no token was issued: the property is vacuous")
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
		if err := e.d.RemovePassword(e.ctx, System(), e.apps[ftWebApp].ID, e.keyID["short"]); err != nil && !errors.Is(err, ErrDeleted) {
			t.Fatal(err)
		}
	}},
	{"secret expired", true, []int{7000222}, func(t *rapid.T, e *ftEnv) {
		e.clock.Advance(3 * time.Hour)
	}},
	{"grant revoked", false, []int{65001}, func(t *rapid.T, e *ftEnv) {
		for _, g := range ftOK(e.d.Grants(e.ctx, System(), e.sp(t, ftWebApp, e.conID).ID, PageRequest{}))(t).Items {
			if err := e.d.RevokeGrant(e.ctx, UserActor(e.admin.ID), g.ID, nil); err != nil {
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
		applied := order[:n]
		stopsCC := false
		var codes []int
		for _, ev := range applied {
			ev.apply(t, e)
			stopsCC = stopsCC || ev.cc
			codes = append(codes, ev.codes...)
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
		// A fresh sign-in is refused too when the event concerns the user
		// or the client.
		if stopsCC || slices.ContainsFunc(applied, func(ev ftEvent) bool { return ev.name == "user disabled" }) {
			if _, err := e.d.Issuer().Authorize(e.ctx, e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")); err == nil {
				req := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read")
				ar := ftOK(e.d.Issuer().Authorize(e.ctx, req))(t)
				if _, err := e.redeem(req, ar.Code); err == nil {
					t.Fatalf("invariant 7: a new sign-in got tokens after %v", ftEventNames(applied))
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
		if rapid.Bool().Draw(t, "provisioned") {
			daemonSP := ftOK(e.d.CreateServicePrincipal(e.ctx, System(), e.fabID, ftDaemonApp))(t)
			ordersSP := ftOK(e.d.CreateServicePrincipal(e.ctx, System(), e.fabID, ftOrdersApp))(t)
			ftOK(e.d.AssignAppRole(e.ctx, System(), AssignmentSpec{ResourceID: ordersSP.ID, PrincipalID: daemonSP.ID, AppRoleID: ftRoleSync}))(t)
		}
		var carolRT string
		if rapid.Bool().Draw(t, "carolSignedIn") {
			req := e.authz(ftWebApp, ftWebRedirect, e.carol.ID, ftURI(ftOrdersApp)+"/Orders.Read offline_access")
			req.Tenant = e.fabID
			carolRT = e.signIn(t, req).RefreshToken
		}
		set := func(appID, aud string) {
			ftOK(e.d.UpdateApplication(e.ctx, System(), e.apps[appID].ID, func(a *application.Application) error {
				a.SignInAudience = aud
				return nil
			}))(t)
		}
		daemonAud := rapid.SampledFrom(audiences).Draw(t, "daemonAudience")
		webAud := rapid.SampledFrom(audiences).Draw(t, "webAudience")
		set(ftDaemonApp, daemonAud)
		set(ftWebApp, webAud)

		// Client credentials.
		seg := rapid.SampledFrom(segments).Draw(t, "ccSegment")
		tr, err := e.cc(seg, ftDaemonApp, e.secret[ftDaemonApp], ftURI(ftOrdersApp)+"/.default")
		if err == nil {
			issued++
			tid, _ := ftClaims(t, tr.AccessToken)["tid"].(string)
			if !ftAdmits(daemonAud, e.conID, tid) {
				t.Fatalf("invariant 3: %s daemon got a token for tenant %s at /%s", daemonAud, tid, seg)
			}
		} else {
			ftTokenErr(t, err)
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
				if !ftAdmits(webAud, e.conID, tid) || tid != user.TenantID {
					t.Fatalf("invariant 3: %s web app got a token for %s in tenant %s at /%s", webAud, user.UserPrincipalName, tid, seg)
				}
			}
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
				if tid, _ := ftClaims(t, tr.AccessToken)["tid"].(string); !ftAdmits(webAud, e.conID, tid) {
					t.Fatalf("invariant 3: refresh gave a %s web app a token for tenant %s", webAud, tid)
				}
			} else {
				ftTokenErr(t, err)
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

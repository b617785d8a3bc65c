package tenantry

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// ---------------------------------------------------------------------------
// (a) invariant 5, (b) invariant 6 and invariant 7's revoked grants and
// sessions: a state machine over consent and revocation, role assignments
// (some bounded in time), group membership (groups nested in groups),
// scope and role enablement, appRoleAssignmentRequired and the tenant's
// user consent policy, issuing delegated and app-only tokens all along.
//
// The machine keeps its own model of all of it: what was granted to the
// web app on the Orders API (per user and tenant-wide), which scopes and
// roles are enabled, which assignments exist, who is a direct member of
// which group, when sessions were revoked. Every token and every refusal is
// judged against that model, as REFERENCE.md §2, §3 and §4.5 state Entra's
// rules, never against what the store answers. After each operation the
// store's grants must be what the model granted.

// ftSignInScopes are the OpenID Connect scopes a sign-in asks for; Entra
// records them in the user's delegated grant like any other (REFERENCE
// §1.9, §2).
var ftSignInScopes = []string{"openid", "profile", "email", "offline_access"}

const ftAll = "*" // model key of the AllPrincipals grant

type ftModelAssign struct {
	id, resource, principal, roleID string
	start, end                      *time.Time
}

// active: an assignment is in force from its start (inclusive) to its end
// (exclusive).
func (a ftModelAssign) active(now time.Time) bool {
	return (a.start == nil || !now.Before(*a.start)) && (a.end == nil || now.Before(*a.end))
}

type ftHeldRT struct {
	user, rt string
	orders   []string // Orders scope values the sign-in asked for
	oidc     []string // sign-in scopes it asked for
	issued   time.Time
}

type ftClaimsMachine struct {
	e        *ftEnv
	ordersSP string
	webSP    string
	daemonSP string
	leads    string // a second group, nested in clerks or holding it
	rts      []ftHeldRT

	delegated, appOnly int
	signIns            int  // sign-in log events seen (invariant 12)
	signInsKnown       bool // signIns was read
	reached            map[string]int

	// The model.
	orders      map[string]map[string]bool // Orders scopes granted to the web app, by user id or ftAll
	signIn      map[string]map[string]bool // sign-in scopes granted to the web app, by user id or ftAll
	scopeOn     map[string]bool            // Orders scope enabled, by value
	scopeAdmin  map[string]bool            // Orders scope of type Admin, by value
	roleOn      map[string]bool            // Orders app role enabled, by id
	roleValue   map[string]string
	roleMember  map[string]string // allowed member type, by role id
	required    map[string]bool   // appRoleAssignmentRequired, by service principal id
	assigns     []ftModelAssign
	members     map[string]map[string]bool // direct members (users and groups), by group id
	userConsent tenant.UserConsent
	validFrom   map[string]time.Time // signInSessionsValidFromDateTime, by user id
}

func newFTClaimsMachine(t *rapid.T) *ftClaimsMachine {
	e := newFT(t)
	m := &ftClaimsMachine{
		e:        e,
		ordersSP: e.sp(t, ftOrdersApp, e.conID).ID,
		webSP:    e.sp(t, ftWebApp, e.conID).ID,
		daemonSP: e.sp(t, ftDaemonApp, e.conID).ID,
		orders:   map[string]map[string]bool{}, signIn: map[string]map[string]bool{},
		scopeOn: map[string]bool{}, scopeAdmin: map[string]bool{}, roleOn: map[string]bool{}, roleValue: map[string]string{}, roleMember: map[string]string{},
		required: map[string]bool{}, members: map[string]map[string]bool{}, validFrom: map[string]time.Time{},
		userConsent: tenant.UserConsentAll, // the fixture's tenants keep the default policy
	}
	m.leads = ftOK(e.d.CreateGroup(e.ctx, System(), e.conID, GroupSpec{DisplayName: "Leads", SecurityEnabled: true}))(t).ID
	// The fixture as the model starts from it.
	m.members[e.clerks.ID] = map[string]bool{e.bob.ID: true}
	m.members[m.leads] = map[string]bool{}
	for _, s := range e.apps[ftOrdersApp].API.OAuth2PermissionScopes {
		m.scopeOn[s.Value], m.scopeAdmin[s.Value] = s.IsEnabled, s.Type == application.ScopeTypeAdmin
	}
	for _, r := range e.apps[ftOrdersApp].AppRoles {
		m.roleOn[r.ID], m.roleValue[r.ID], m.roleMember[r.ID] = r.IsEnabled, r.Value, r.AllowedMemberTypes[0]
	}
	for _, sp := range []string{m.ordersSP, m.webSP} {
		for _, a := range m.assignmentsOn(t, sp) {
			m.assigns = append(m.assigns, ftModelAssign{id: a.ID, resource: a.ResourceID, principal: a.PrincipalID, roleID: a.AppRoleID})
		}
	}
	if gs := ftOK(e.d.allGrants(e.ctx, m.webSP))(t); len(gs) != 0 {
		t.Fatalf("the fixture's web app already holds grants: %+v", gs)
	}
	return m
}

func (m *ftClaimsMachine) reach(what string) {
	if m.reached != nil {
		m.reached[what]++
	}
}

func (m *ftClaimsMachine) pickUser(t *rapid.T) string {
	return rapid.SampledFrom([]string{m.e.alice.ID, m.e.bob.ID}).Draw(t, "user")
}

func (m *ftClaimsMachine) userName(id string) string {
	switch id {
	case m.e.alice.ID:
		return "alice"
	case m.e.bob.ID:
		return "bob"
	}
	return id
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

func addAll(set map[string]map[string]bool, key string, values []string) {
	if len(values) == 0 {
		return
	}
	if set[key] == nil {
		set[key] = map[string]bool{}
	}
	for _, v := range values {
		set[key][v] = true
	}
}

// has reports whether the model grants scope v (Orders or sign-in) to the
// web app for user. A sign-in scope counts as granted once the user (or
// the tenant) consented to any: Entra's first consent records the basic
// sign-in set, not necessarily only the scopes that request named
// (REFERENCE §2, "initial consent prompts also include offline_access").
func (m *ftClaimsMachine) has(user, v string) bool {
	if slices.Contains(ftSignInScopes, v) {
		return len(m.signIn[user]) > 0 || len(m.signIn[ftAll]) > 0
	}
	return (m.orders[user][v] || m.orders[ftAll][v]) && m.scopeOn[v]
}

// wantErrs checks err against the refusals the model expects: none means
// the request must succeed, else err must carry one of the codes (each
// code one reason that applies).
func wantErrs(t *rapid.T, what string, err error, codes map[int]string) {
	if len(codes) == 0 {
		if err != nil {
			t.Fatalf("%s refused, the model expects success: %v", what, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s succeeded, the model expects a refusal: %v", what, codes)
	}
	code := ftTokenErr(t, err)
	if _, ok := codes[code]; !ok {
		t.Fatalf("%s refused with AADSTS%d, the model expects one of %v: %v", what, code, codes, err)
	}
}

func (m *ftClaimsMachine) Consent(t *rapid.T) {
	scopes := ftSubset(t, ftScopeValues, "scope")
	disabled := slices.ContainsFunc(scopes, func(v string) bool { return !m.scopeOn[v] })
	if rapid.Bool().Draw(t, "tenantWide") {
		_, err := m.e.d.Consent(m.e.ctx, UserActor(m.e.admin.ID), m.e.conID, ConsentSpec{ClientAppID: ftWebApp, TenantWide: true, Scopes: []consent.ScopeRequest{{ResourceAppID: ftOrdersApp, Scopes: scopes}}})
		m.setupErr(t, "admin consent", err)
		if disabled != (err != nil) || (err != nil && !errors.Is(err, consent.ErrScopeDisabled)) {
			t.Fatalf("admin consent to %v (a scope disabled: %v): %v", scopes, disabled, err)
		}
		if err == nil {
			addAll(m.orders, ftAll, scopes)
			// An administrator's consent for the organization lets every
			// user sign in: it records the basic sign-in set tenant-wide.
			addAll(m.signIn, ftAll, ftSignInScopes)
		}
		return
	}
	u := m.pickUser(t)
	_, err := m.e.d.Consent(m.e.ctx, UserActor(u), m.e.conID, ConsentSpec{ClientAppID: ftWebApp, Scopes: []consent.ScopeRequest{{ResourceAppID: ftOrdersApp, Scopes: scopes}}})
	m.setupErr(t, "user consent", err)
	// A user consents for self only to User-type, enabled scopes, where the
	// tenant's policy lets users consent, and never to an app that
	// requires assignment (REFERENCE §2).
	var want []error
	if disabled {
		want = append(want, consent.ErrScopeDisabled)
	}
	if slices.ContainsFunc(scopes, func(v string) bool { return m.scopeAdmin[v] }) || m.required[m.webSP] {
		want = append(want, consent.ErrAdminConsentRequired)
	}
	if m.userConsent == tenant.UserConsentNone {
		want = append(want, consent.ErrUserConsentDisabled)
	}
	if len(want) == 0 && err != nil {
		t.Fatalf("user consent of %s to %v refused: %v", m.userName(u), scopes, err)
	}
	if len(want) > 0 && (err == nil || !slices.ContainsFunc(want, func(w error) bool { return errors.Is(err, w) })) {
		t.Fatalf("user consent of %s to %v: err=%v, want one of %v", m.userName(u), scopes, err, want)
	}
	if err == nil {
		addAll(m.orders, u, scopes)
	}
}

// grantOf returns the store's grant of the web app on resource (any
// resource when resource is "") for key, as ids.
func (m *ftClaimsMachine) grantsOf(t *rapid.T, key, resource string) []consent.Grant {
	var out []consent.Grant
	for _, g := range ftOK(m.e.d.allGrants(m.e.ctx, m.webSP))(t) {
		mine := (key == ftAll && g.ConsentType == consent.AllPrincipals) || (g.ConsentType == consent.Principal && g.PrincipalID == key)
		if mine && (resource == "" || g.ResourceID == resource) {
			out = append(out, g)
		}
	}
	return out
}

func (m *ftClaimsMachine) Revoke(t *rapid.T) {
	var keys []string
	for _, k := range []string{ftAll, m.e.alice.ID, m.e.bob.ID} {
		if len(m.orders[k]) > 0 || len(m.signIn[k]) > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		t.Skip("nothing granted")
	}
	k := rapid.SampledFrom(keys).Draw(t, "grantOf")
	actor := UserActor(m.e.admin.ID)
	if k != ftAll && rapid.Bool().Draw(t, "bySelf") {
		actor = UserActor(k) // a user revokes her own consent
	}
	if rapid.Bool().Draw(t, "partial") && len(m.orders[k]) > 0 {
		// Narrow the Orders grant (perhaps by scopes it does not hold).
		scopes := ftSubset(t, ftScopeValues, "revoke")
		gs := m.grantsOf(t, k, m.ordersSP)
		if len(gs) != 1 {
			t.Fatalf("the model granted %v to %s, the store holds %d grants on the API", slices.Sorted(maps.Keys(m.orders[k])), m.userName(k), len(gs))
		}
		if err := m.e.d.revokeGrant(m.e.ctx, actor, gs[0].ID, scopes); err != nil {
			t.Fatalf("revoking %v of %s's grant: %v", scopes, m.userName(k), err)
		}
		for _, v := range scopes {
			delete(m.orders[k], v)
		}
		m.reach("partial revocation")
		return
	}
	// Revoke every grant of the web app for k: nothing is left to it.
	for _, g := range m.grantsOf(t, k, "") {
		if err := m.e.d.DeleteGrant(m.e.ctx, actor, g.ID); err != nil {
			t.Fatalf("revoking %s's grant %s: %v", m.userName(k), g.ID, err)
		}
	}
	if left := m.grantsOf(t, k, ""); len(left) > 0 {
		t.Fatalf("revoked every grant of %s, the store keeps %+v", m.userName(k), left)
	}
	delete(m.orders, k)
	delete(m.signIn, k)
	m.reach("full revocation")
}

func (m *ftClaimsMachine) ToggleScope(t *rapid.T) {
	m.rarely(t)
	i := rapid.IntRange(0, len(ftScopeIDs)-1).Draw(t, "scope")
	_, err := m.e.d.UpdateApplication(m.e.ctx, System(), m.e.apps[ftOrdersApp].ID, func(a *application.Application) error {
		for j := range a.API.OAuth2PermissionScopes {
			if a.API.OAuth2PermissionScopes[j].ID == ftScopeIDs[i] {
				a.API.OAuth2PermissionScopes[j].IsEnabled = !a.API.OAuth2PermissionScopes[j].IsEnabled
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("toggle scope: %v", err)
	}
	m.scopeOn[ftScopeValues[i]] = !m.scopeOn[ftScopeValues[i]]
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
	if err != nil {
		t.Fatalf("toggle role: %v", err)
	}
	m.roleOn[id] = !m.roleOn[id]
}

// Assign assigns a role (or default access), directly or to a group, and
// perhaps for a window of time only (just-in-time access): the window may
// end, or begin, while refresh tokens are held.
func (m *ftClaimsMachine) Assign(t *rapid.T) {
	resource := rapid.SampledFrom([]string{m.ordersSP, m.ordersSP, m.webSP}).Draw(t, "resource")
	principal := rapid.SampledFrom([]string{m.e.alice.ID, m.e.bob.ID, m.e.clerks.ID, m.e.clerks.ID, m.leads, m.leads, m.daemonSP, m.webSP}).Draw(t, "principal")
	role := rapid.SampledFrom(append([]string{application.DefaultAccessRoleID}, ftRoleIDs...)).Draw(t, "role")
	spec := AssignmentSpec{ResourceID: resource, PrincipalID: principal, AppRoleID: role}
	now := m.e.clock.Now()
	switch rapid.IntRange(0, 3).Draw(t, "window") {
	case 1: // ends soon
		end := now.Add(time.Duration(rapid.IntRange(1, 90).Draw(t, "endMinutes")) * time.Minute)
		spec.End = &end
	case 2: // begins later
		start := now.Add(time.Duration(rapid.IntRange(1, 60).Draw(t, "startMinutes")) * time.Minute)
		spec.Start = &start
	}
	a, err := m.e.d.AssignAppRole(m.e.ctx, UserActor(m.e.admin.ID), spec)
	m.setupErr(t, "assign", err)
	// The role must exist on the resource, be enabled and allow the
	// principal's member type (REFERENCE §1.10).
	member := application.MemberTypeUser
	if principal == m.daemonSP || principal == m.webSP {
		member = application.MemberTypeApplication
	}
	valid := role == application.DefaultAccessRoleID || (resource == m.ordersSP && m.roleOn[role] && m.roleMember[role] == member)
	if err == nil && !valid {
		t.Fatalf("assignment of role %s (enabled %v, for %s) to a %s on %s accepted", role, m.roleOn[role], m.roleMember[role], member, resource)
	}
	if err != nil {
		dup := slices.ContainsFunc(m.assigns, func(x ftModelAssign) bool {
			return x.resource == resource && x.principal == principal && x.roleID == role
		})
		if valid && !dup {
			t.Fatalf("valid assignment of role %s refused: %v", role, err)
		}
		return
	}
	m.assigns = append(m.assigns, ftModelAssign{id: a.ID, resource: resource, principal: principal, roleID: role, start: spec.Start, end: spec.End})
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
	if len(m.assigns) == 0 {
		t.Skip("no assignment")
	}
	i := rapid.IntRange(0, len(m.assigns)-1).Draw(t, "assignment")
	if err := m.e.d.UnassignAppRole(m.e.ctx, UserActor(m.e.admin.ID), m.assigns[i].id); err != nil {
		t.Fatalf("unassign: %v", err)
	}
	m.assigns = slices.Delete(m.assigns, i, i+1)
}

// Membership adds a user to a group or removes her.
func (m *ftClaimsMachine) Membership(t *rapid.T) {
	u := m.pickUser(t)
	g := rapid.SampledFrom([]string{m.e.clerks.ID, m.leads}).Draw(t, "group")
	m.toggleMember(t, g, tenant.Ref{ID: u, Type: tenant.MemberUser})
}

// Nest puts one group in the other, or takes it out: roles assigned to
// the outer group must not reach the inner group's members (Entra gives
// roles through direct membership only).
func (m *ftClaimsMachine) Nest(t *rapid.T) {
	inner, outer := m.leads, m.e.clerks.ID
	if rapid.Bool().Draw(t, "clerksInLeads") {
		inner, outer = outer, inner
	}
	if m.members[inner][outer] {
		t.Skip("would make a cycle")
	}
	m.toggleMember(t, outer, tenant.Ref{ID: inner, Type: tenant.MemberGroup})
}

func (m *ftClaimsMachine) toggleMember(t *rapid.T, group string, ref tenant.Ref) {
	if m.members[group][ref.ID] {
		if _, err := m.e.d.RemoveGroupMember(m.e.ctx, System(), group, ref.ID); err != nil {
			t.Fatalf("remove member: %v", err)
		}
		delete(m.members[group], ref.ID)
		return
	}
	if _, err := m.e.d.AddGroupMember(m.e.ctx, System(), group, ref); err != nil {
		t.Fatalf("add member: %v", err)
	}
	m.members[group][ref.ID] = true
	if ref.Type == tenant.MemberGroup {
		m.reach("group nested in a group")
	}
}

func (m *ftClaimsMachine) Require(t *rapid.T) {
	m.rarely(t)
	sp := rapid.SampledFrom([]string{m.ordersSP, m.webSP}).Draw(t, "sp")
	_, err := m.e.d.UpdateServicePrincipal(m.e.ctx, System(), sp, func(s *serviceprincipal.ServicePrincipal) error {
		s.AppRoleAssignmentRequired = !s.AppRoleAssignmentRequired
		return nil
	})
	if err != nil {
		t.Fatalf("toggle appRoleAssignmentRequired: %v", err)
	}
	m.required[sp] = !m.required[sp]
}

func (m *ftClaimsMachine) SetPolicy(t *rapid.T) {
	m.rarely(t)
	c := rapid.SampledFrom([]tenant.UserConsent{tenant.UserConsentNone, tenant.UserConsentAll}).Draw(t, "userConsent")
	p := ftOK(m.e.d.ResolveTenant(m.e.ctx, System(), m.e.conID))(t).Policy
	p.SetUserConsent(c)
	if _, err := m.e.d.SetAuthorizationPolicy(m.e.ctx, System(), m.e.conID, p); err != nil {
		t.Fatalf("set policy: %v", err)
	}
	m.userConsent = c
}

func (m *ftClaimsMachine) RevokeSessions(t *rapid.T) {
	m.rarely(t)
	u := m.pickUser(t)
	if _, err := m.e.d.RevokeSignInSessions(m.e.ctx, System(), u); err != nil {
		t.Fatalf("revoke sessions: %v", err)
	}
	m.validFrom[u] = m.e.clock.Now()
}

// reachState counts the states around a user's token request that the
// invariants speak of.
func (m *ftClaimsMachine) reachState(user string) {
	now := m.e.clock.Now()
	for _, a := range m.assigns {
		if a.principal == user && a.end != nil && !now.Before(*a.end) {
			m.reach("token request after an assignment's window ended")
		}
		for inner := range m.members[a.principal] {
			if m.members[inner][user] && a.roleID != application.DefaultAccessRoleID && a.resource == m.ordersSP {
				m.reach("token request with a role on a group the user is a nested member of")
			}
		}
	}
}

func (m *ftClaimsMachine) Advance(t *rapid.T) {
	m.e.clock.Advance(time.Duration(rapid.IntRange(1, 30).Draw(t, "minutes")) * time.Minute)
}

// modelRoles: the enabled app roles principal holds on the Orders API now,
// directly or (users) through a group it is a direct member of, and
// whether it holds an assignment in force on resourceSP
// (appRoleAssignmentRequired).
func (m *ftClaimsMachine) modelRoles(principal string, user bool, resourceSP string) (roles []string, assigned bool) {
	now := m.e.clock.Now()
	member := application.MemberTypeApplication
	if user {
		member = application.MemberTypeUser
	}
	for _, a := range m.assigns {
		holds := a.principal == principal || (user && m.members[a.principal][principal])
		if !holds || a.resource != resourceSP || !a.active(now) {
			continue
		}
		if a.roleID == application.DefaultAccessRoleID {
			assigned = true
			continue
		}
		if m.roleOn[a.roleID] {
			assigned = true
			if m.roleMember[a.roleID] == member {
				roles = append(roles, m.roleValue[a.roleID])
			}
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles), assigned
}

// assignmentRefusals adds AADSTS50105 where the app the user signs in to,
// or the resource when the request names it, requires assignment and the
// user holds none in force (REFERENCE §3; invariant 6).
func (m *ftClaimsMachine) assignmentRefusals(user string, withResource bool, codes map[int]string) {
	sps := []string{m.webSP}
	if withResource {
		sps = append(sps, m.ordersSP)
	}
	for _, sp := range sps {
		if _, ok := m.modelRoles(user, true, sp); m.required[sp] && !ok {
			codes[50105] = "not assigned"
		}
	}
}

// checkDelegated checks a delegated access token against the model.
func (m *ftClaimsMachine) checkDelegated(t *rapid.T, raw, user string, asked []string) {
	m.delegated++
	c := ftClaims(t, raw)
	if c["oid"] != user || c["aud"] != ftOrdersApp || c["azp"] != ftWebApp {
		t.Fatalf("token for the wrong user or parties: %v", c)
	}
	scp := ftScp(c)
	for _, s := range scp {
		if !m.has(user, s) {
			t.Fatalf("invariant 5: scp %v holds %s, which the model has not granted (or is disabled)", scp, s)
		}
		if !slices.Contains(asked, s) {
			t.Fatalf("scp %v holds %s, not asked for (%v)", scp, s, asked)
		}
	}
	want := slices.Clone(asked)
	slices.Sort(want)
	if !slices.Equal(scp, want) {
		t.Fatalf("scp %v, asked %v", scp, want)
	}
	roles, _ := m.modelRoles(user, true, m.ordersSP)
	if got := ftStrings(c, "roles"); !slices.Equal(got, roles) {
		t.Fatalf("invariant 5: roles %v, want the enabled roles assigned in force (directly or through a direct group) %v", got, roles)
	}
}

// rarely lets an action run a third as often as it is drawn: the ones
// that block most sign-ins (and client credentials, a quarter as often),
// so that delegated tokens are about as many as app-only ones.
func (m *ftClaimsMachine) rarely(t *rapid.T) {
	if rapid.IntRange(0, 2).Draw(t, "rarely") != 0 {
		t.Skip("drawn a third as often")
	}
}

func (m *ftClaimsMachine) ClientCredentials(t *rapid.T) {
	if rapid.IntRange(0, 3).Draw(t, "rarely") != 0 {
		t.Skip("drawn a quarter as often")
	}
	client := rapid.SampledFrom([]string{ftDaemonApp, ftWebApp}).Draw(t, "client")
	clientSP := map[string]string{ftDaemonApp: m.daemonSP, ftWebApp: m.webSP}[client]
	m.countSignIns(t)
	tr, err := m.e.cc(m.e.conID, client, m.e.secret[client], ftURI(ftOrdersApp)+"/.default")
	m.logged(t, "client credentials", GrantClientCredentials, err)
	roles, assigned := m.modelRoles(clientSP, false, m.ordersSP)
	codes := map[int]string{}
	if m.required[m.ordersSP] && !assigned {
		codes[501051] = "client not assigned"
	}
	wantErrs(t, "client credentials", err, codes)
	if err != nil {
		return
	}
	m.appOnly++
	c := ftClaims(t, tr.AccessToken)
	if got := ftStrings(c, "roles"); !slices.Equal(got, roles) {
		t.Fatalf("invariant 5: app-only roles %v, want %v", got, roles)
	}
}

// splitAsked separates Orders scope values from sign-in scopes.
func splitAsked(values []string) (orders, oidc []string) {
	for _, v := range values {
		if slices.Contains(ftSignInScopes, v) {
			oidc = append(oidc, v)
		} else {
			orders = append(orders, v)
		}
	}
	return orders, oidc
}

func (m *ftClaimsMachine) SignIn(t *rapid.T) {
	user := m.pickUser(t)
	asked := ftSubset(t, ftScopeValues[:2], "ask")
	if rapid.IntRange(0, 4).Draw(t, "askAdmin") == 0 {
		asked = append(asked, "Orders.Admin")
	}
	oidc := []string{"offline_access"}
	for _, s := range []string{"openid", "profile"} {
		if rapid.Bool().Draw(t, s) {
			oidc = append(oidc, s)
		}
	}
	var scope []string
	for _, s := range asked {
		scope = append(scope, ftURI(ftOrdersApp)+"/"+s)
	}
	prompt := rapid.SampledFrom([]string{"", "", "", "none", "consent"}).Draw(t, "prompt")
	req := m.e.authz(ftWebApp, ftWebRedirect, user, strings.Join(append(scope, oidc...), " "))
	req.Prompt = prompt

	// The model's answer (REFERENCE §2, §3): scopes not yet granted need
	// the user's consent; prompt=consent asks for all of them again.
	codes := map[int]string{}
	var missing []string
	for _, v := range append(slices.Clone(asked), oidc...) {
		if !m.has(user, v) {
			missing = append(missing, v)
		}
	}
	var consented []string
	switch {
	case len(missing) == 0 && prompt != "consent":
	case prompt == "none":
		codes[65001] = "consent required, prompt=none"
	default:
		consented = missing
		if len(consented) == 0 {
			consented = append(slices.Clone(asked), oidc...)
		}
		if slices.ContainsFunc(consented, func(v string) bool { return !slices.Contains(ftSignInScopes, v) && !m.scopeOn[v] }) {
			codes[65001] = "a scope to consent is disabled"
		}
		if slices.ContainsFunc(consented, func(v string) bool { return m.scopeAdmin[v] }) {
			codes[90094] = "Admin-type scope"
		}
		if m.userConsent == tenant.UserConsentNone {
			codes[90094] = "user consent disabled"
		}
		if m.required[m.webSP] {
			codes[90094] = "app requires assignment: admin consent"
		}
	}
	m.assignmentRefusals(user, true, codes)
	m.reachState(user)

	m.countSignIns(t)
	ar, err := m.e.d.Issuer().Authorize(m.e.ctx, req)
	m.logged(t, "authorize", FlowAuthorize, err)
	what := fmt.Sprintf("sign-in of %s for %v %v prompt=%q", m.userName(user), asked, oidc, prompt)
	wantErrs(t, what, err, codes)
	if err != nil {
		m.reach(fmt.Sprint("sign-in refused ", ftTokenErr(t, err), " ", slices.Sorted(maps.Values(codes))))
		return
	}
	o, s := splitAsked(consented)
	addAll(m.orders, user, o)
	addAll(m.signIn, user, s)
	m.countSignIns(t)
	tr, err := m.e.redeem(req, ar.Code)
	m.logged(t, "code redemption", GrantAuthorizationCode, err)
	if err != nil {
		t.Fatalf("redeeming a fresh code: %v", err)
	}
	m.checkDelegated(t, tr.AccessToken, user, asked)
	m.rts = append(m.rts, ftHeldRT{user: user, rt: tr.RefreshToken, orders: asked, oidc: oidc, issued: m.e.clock.Now()})
}

// Refresh redeems a held refresh token, as it was issued, narrowed to some
// Orders scopes, or narrowed to sign-in scopes only: every redemption
// re-checks grants, assignments and the user's revocation time against the
// model (invariant 7, checked at every step).
func (m *ftClaimsMachine) Refresh(t *rapid.T) {
	if len(m.rts) == 0 {
		t.Skip("no refresh token")
	}
	h := rapid.SampledFrom(m.rts).Draw(t, "rt")
	asked, oidc := h.orders, h.oidc
	scope := ""
	switch rapid.IntRange(0, 2).Draw(t, "narrow") {
	case 1:
		asked, oidc = ftSubset(t, ftScopeValues, "refreshScope"), []string{"offline_access"}
		for _, s := range asked {
			scope += ftURI(ftOrdersApp) + "/" + s + " "
		}
		scope += "offline_access"
	case 2:
		asked, oidc = nil, []string{"openid", "offline_access"}
		scope = "openid offline_access"
	}
	codes := map[int]string{}
	for _, v := range append(slices.Clone(asked), oidc...) {
		if !m.has(h.user, v) {
			codes[65001] = "not granted: " + v
		}
	}
	vf, revoked := m.validFrom[h.user]
	if revoked && h.issued.Before(vf) {
		codes[50173] = "sessions revoked"
	}
	m.assignmentRefusals(h.user, len(asked) > 0, codes)
	m.reachState(h.user)
	m.countSignIns(t)
	tr, err := m.e.refresh(ftWebApp, h.rt, scope)
	m.logged(t, "refresh", GrantRefreshToken, err)
	if revoked && h.issued.Equal(vf) {
		return // revoked in the instant of issue: either answer is right
	}
	wantErrs(t, fmt.Sprintf("refresh of %s's token for %v %v", m.userName(h.user), asked, oidc), err, codes)
	if err != nil {
		m.reach(fmt.Sprint("refresh refused ", ftTokenErr(t, err)))
		return
	}
	if len(asked) == 0 {
		m.reach("refresh for sign-in scopes only")
		return
	}
	m.checkDelegated(t, tr.AccessToken, h.user, asked)
}

// Check: the store holds the grants the model made: exactly the Orders
// scopes granted to the web app for each user and tenant-wide, and the
// sign-in scopes consented to (perhaps with more of the basic sign-in set,
// but none where the model has none); no user's own grant holds an
// Admin-type scope (invariant 4).
func (m *ftClaimsMachine) Check(t *rapid.T) {
	storeOrders := map[string]map[string]bool{}
	storeSignIn := map[string]map[string]bool{}
	for _, g := range ftOK(m.e.d.allGrants(m.e.ctx, m.webSP))(t) {
		key := g.PrincipalID
		if g.ConsentType == consent.AllPrincipals {
			key = ftAll
		}
		o, s := splitAsked(g.Scopes())
		if g.ResourceID == m.ordersSP {
			addAll(storeOrders, key, o)
		}
		addAll(storeSignIn, key, s)
		if g.ConsentType == consent.Principal && slices.Contains(o, "Orders.Admin") {
			t.Fatalf("invariant 4: a user's own grant holds an Admin-type scope: %+v", g)
		}
	}
	for _, k := range []string{ftAll, m.e.alice.ID, m.e.bob.ID} {
		if got, want := slices.Sorted(maps.Keys(storeOrders[k])), slices.Sorted(maps.Keys(m.orders[k])); !slices.Equal(got, want) {
			t.Fatalf("the store grants %v on the API to the web app for %s, the model %v", got, m.userName(k), want)
		}
		got, want := storeSignIn[k], m.signIn[k]
		missing := slices.ContainsFunc(slices.Collect(maps.Keys(want)), func(v string) bool { return !got[v] })
		if missing || (len(got) > 0) != (len(want) > 0) {
			t.Fatalf("the store grants sign-in scopes %v to the web app for %s, the model %v", slices.Sorted(maps.Keys(got)), m.userName(k), slices.Sorted(maps.Keys(want)))
		}
	}
}

func TestFlowPropertyClaimsWithinGrants(t *testing.T) {
	var delegated, appOnly int
	reached := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		m := newFTClaimsMachine(t)
		m.reached = reached
		for range 5 {
			t.Repeat(rapid.StateMachineActions(m))
		}
		delegated += m.delegated
		appOnly += m.appOnly
	})
	t.Logf("tokens issued: %d delegated, %d app-only; states reached: %v", delegated, appOnly, reached)
	if delegated == 0 || appOnly == 0 {
		t.Fatalf("delegated tokens %d, app-only tokens %d: a half of the property is vacuous", delegated, appOnly)
	}
}

// countSignIns records how many sign-in events the log holds before the
// machine's first request.
func (m *ftClaimsMachine) countSignIns(t *rapid.T) {
	if m.signInsKnown {
		return
	}
	events, _, err := m.e.d.Store().SignIns(m.e.ctx, store.SignInFilter{}, store.LogPage{})
	if err != nil {
		t.Fatal(err)
	}
	m.signIns, m.signInsKnown = len(events), true
}

// logged checks invariant 12 after one request to the token service: the
// sign-in log grew by exactly one event, of that flow, whose outcome and
// AADSTS code are the request's.
func (m *ftClaimsMachine) logged(t *rapid.T, what, flow string, err error) {
	events, _, lerr := m.e.d.Store().SignIns(m.e.ctx, store.SignInFilter{}, store.LogPage{})
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(events) != m.signIns+1 {
		t.Fatalf("invariant 12: %s added %d sign-in events, want 1", what, len(events)-m.signIns)
	}
	m.signIns = len(events)
	e := events[len(events)-1]
	wantCode, wantOutcome := 0, store.SignInSuccess
	if err != nil {
		wantCode, wantOutcome = ftTokenErr(t, err), store.SignInFailure
	}
	if e.GrantType != flow || e.Outcome != wantOutcome || e.ErrorCode != wantCode {
		t.Fatalf("invariant 12: %s (err=%v) logged as %s %s AADSTS%d", what, err, e.GrantType, e.Outcome, e.ErrorCode)
	}
}

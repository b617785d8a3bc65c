package tenantry

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/tenant"
)

// dirMachine drives random sequences of Directory operations and checks the
// invariants listed in the README (1–4, 6 for assignments, 8, 9, 10) after every
// step, against a small model of what the operations promised. Admission by
// sign-in audience (invariant 3) is decided by the model (modelAdmits), from
// the audiences the model recorded, never by the implementation's own rule.
type dirMachine struct {
	ctx   context.Context
	d     *Directory
	clock *ManualClock

	// The model.
	tenants   []string
	names     map[string]string // tenant display name by id
	domains   map[string]string // tenant initial domain by id
	users     []modelUser
	groups    []modelGroup
	apps      []string                           // object ids ever registered (purged ones removed)
	deleted   map[string]application.Application // soft-deleted apps as they were before deletion
	spPairs   map[string]bool                    // (appId/tenant) pairs some successful operation could create
	auditSeen int                                // events in the log

	audience map[string]string // sign-in audience by appId, as last set
	home     map[string]string // home tenant by appId
	appIDOf  map[string]string // appId by application object id
	secrets  map[string]modelSecret
	// kept holds, for each soft-deleted application (object id), the app
	// role assignments that involve its home service principal: a restore
	// must bring back every one that no later operation removed.
	kept   map[string]map[string]serviceprincipal.AppRoleAssignment
	serial int64 // certificate serial numbers and manifest appIds

	// reached counts the states the invariants speak of, over all runs,
	// so that a test can show it reaches them.
	reached map[string]int
}

type modelUser struct {
	id, tenantID string
	role         string // directory role, "" for none
	roleID       string // the role assignment's id
}

type modelGroup struct{ id, tenantID string }

type modelSecret struct{ keyID, text string }

// consentsDespitePolicy: the roles that consent for self when the tenant's
// user consent is off (REFERENCE §1.13): administrators who may consent
// tenant-wide, and Application Developers.
func (u modelUser) consentsDespitePolicy() bool {
	switch u.role {
	case tenant.RoleGlobalAdministrator, tenant.RoleApplicationAdministrator, tenant.RoleApplicationDeveloper:
		return true
	}
	return false
}

// modelAdmits is Entra's sign-in audience rule (REFERENCE §3) for the
// tenants this machine creates (organizations, never the consumers
// tenant): a single-tenant app is admitted in its home tenant only, a
// multi-tenant one in every organization.
func (m *dirMachine) modelAdmits(appID, tenantID string) bool {
	switch m.audience[appID] {
	case application.AzureADMyOrg:
		return tenantID == m.home[appID]
	case application.AzureADMultipleOrgs:
		return tenantID != tenant.ConsumersID
	}
	return false
}

// fixed scope and role ids the generators draw from; values derive from ids.
var (
	scopeIDs = []string{"11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000003"}
	roleIDs  = []string{"22222222-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"}
)

func scopeValue(i int) string { return fmt.Sprintf("Scope%d", i) }
func roleValue(i int) string  { return fmt.Sprintf("Role%d", i) }

func newDirMachine(t *rapid.T, st store.Store) *dirMachine {
	clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	d, err := New(context.Background(), Config{Store: st, Now: clock.Now, NewID: SequentialIDs(t.Name()), Tokens: TokenConfig{Algorithm: jose.ES256}})
	if err != nil {
		t.Fatal(err)
	}
	m := &dirMachine{ctx: context.Background(), d: d, clock: clock, deleted: map[string]application.Application{}, spPairs: map[string]bool{},
		names: map[string]string{}, domains: map[string]string{}, audience: map[string]string{}, home: map[string]string{}, appIDOf: map[string]string{},
		secrets: map[string]modelSecret{}, kept: map[string]map[string]serviceprincipal.AppRoleAssignment{}}
	m.auditSeen = len(m.audit(t))
	return m
}

func (m *dirMachine) audit(t *rapid.T) []store.AuditEvent {
	ev, err := m.d.auditLog(m.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// mutated records the outcome of a mutating operation: exactly one audit
// event on success, none on failure (invariant 9).
func (m *dirMachine) mutated(t *rapid.T, what string, err error) {
	m.mutatedN(t, what, err, 1)
}

// mutatedN is mutated for an operation that, on success, appends n events
// (a manifest that changes nothing appends none).
func (m *dirMachine) mutatedN(t *rapid.T, what string, err error, n int) {
	ev := m.audit(t)
	want := m.auditSeen
	if err == nil {
		want += n
	}
	if len(ev) != want {
		t.Fatalf("%s (err=%v): audit log has %d events, want %d", what, err, len(ev), want)
	}
	m.auditSeen = len(ev)
	if err == nil {
		m.reach(what)
	}
	// Errors must be typed: never an untyped internal failure.
	if err != nil && !expectedError(err) {
		t.Fatalf("%s: unexpected error kind: %v", what, err)
	}
}

func expectedError(err error) bool {
	for _, target := range []error{tenant.ErrForbidden, tenant.ErrInvalid, store.ErrNotFound, store.ErrAlreadyExists,
		ErrAudience, ErrDeleted, ErrNotDeleted, ErrRestoreExpired, ErrInvalidRequest, ErrForbidden,
		consent.ErrAdminConsentRequired, consent.ErrUserConsentDisabled, consent.ErrUnknownScope, consent.ErrScopeDisabled,
		consent.ErrUnknownRole, consent.ErrUnknownResource, consent.ErrInvalidRequest, consent.ErrUnknownClient} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

func (m *dirMachine) pickTenant(t *rapid.T) string {
	if len(m.tenants) == 0 {
		t.Skip("no tenant yet")
	}
	return rapid.SampledFrom(m.tenants).Draw(t, "tenant")
}

func (m *dirMachine) pickActor(t *rapid.T, tenantID string) Actor {
	var in []modelUser
	for _, u := range m.users {
		if u.tenantID == tenantID {
			in = append(in, u)
		}
	}
	if len(in) == 0 || rapid.IntRange(0, 4).Draw(t, "systemActor") == 0 {
		return System()
	}
	return UserActor(rapid.SampledFrom(in).Draw(t, "actor").id)
}

func (m *dirMachine) pickApp(t *rapid.T) application.Application {
	if len(m.apps) == 0 {
		t.Skip("no application yet")
	}
	id := rapid.SampledFrom(m.apps).Draw(t, "app")
	a, err := m.d.Application(m.ctx, System(), id)
	if err != nil {
		t.Fatalf("model app %s missing from the store: %v", id, err)
	}
	return a
}

func (m *dirMachine) CreateTenant(t *rapid.T) {
	if len(m.tenants) >= 3 {
		t.Skip("enough tenants")
	}
	name := fmt.Sprintf("T%d", len(m.tenants))
	tn, err := m.d.CreateTenant(m.ctx, System(), TenantSpec{DisplayName: name})
	m.mutated(t, "CreateTenant", err)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	m.tenants = append(m.tenants, tn.ID)
	m.names[tn.ID] = name
	for _, dom := range tn.VerifiedDomains {
		if dom.IsInitial {
			m.domains[tn.ID] = dom.Name
		}
	}
	m.checkStored(t, store.Tenants, tn.ID, tn)
}

func (m *dirMachine) CreateUser(t *rapid.T) {
	tid := m.pickTenant(t)
	admin := rapid.Bool().Draw(t, "admin")
	n := len(m.users)
	u, err := m.d.CreateUser(m.ctx, System(), tid, UserSpec{UserPrincipalName: fmt.Sprintf("u%d@%s", n, m.domains[tid]), DisplayName: fmt.Sprint("User ", n)})
	m.mutated(t, "CreateUser", err)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	m.checkStored(t, store.Users, u.ID, u)
	if admin {
		role := rapid.SampledFrom([]string{tenant.RoleGlobalAdministrator, tenant.RoleApplicationAdministrator, tenant.RoleApplicationDeveloper}).Draw(t, "role")
		ra, err := m.d.AssignDirectoryRole(m.ctx, System(), tid, DirectoryRoleSpec{PrincipalID: u.ID, RoleID: role})
		m.mutated(t, "AssignDirectoryRole", err)
		if err != nil {
			t.Fatalf("AssignDirectoryRole: %v", err)
		}
		m.users = append(m.users, modelUser{id: u.ID, tenantID: tid, role: role, roleID: ra.ID})
		return
	}
	m.users = append(m.users, modelUser{id: u.ID, tenantID: tid})
}

func (m *dirMachine) SetPolicy(t *rapid.T) {
	tid := m.pickTenant(t)
	p := tenant.DefaultPolicy()
	p.DefaultUserRolePermissions.AllowedToCreateApps = rapid.Bool().Draw(t, "allowedToCreateApps")
	p.SetUserConsent(tenant.UserConsent(rapid.IntRange(0, 2).Draw(t, "userConsent")))
	_, err := m.d.SetAuthorizationPolicy(m.ctx, m.pickActor(t, tid), tid, p)
	m.mutated(t, "SetAuthorizationPolicy", err)
}

func genApp(t *rapid.T, resources []application.Application) application.Application {
	a := application.Application{
		DisplayName:    "App " + rapid.StringMatching(`[A-Za-z]{1,8}`).Draw(t, "name"),
		SignInAudience: rapid.SampledFrom([]string{application.AzureADMyOrg, application.AzureADMultipleOrgs}).Draw(t, "audience"),
		Web:            &application.Web{RedirectURIs: []string{"https://app.example.com/cb"}},
	}
	if rapid.Bool().Draw(t, "isAPI") {
		a.API = &application.API{}
		for i, id := range scopeIDs {
			if rapid.Bool().Draw(t, "hasScope") {
				typ := application.ScopeTypeUser
				if i == 2 {
					typ = application.ScopeTypeAdmin // Scope2 is always Admin-type
				}
				a.API.OAuth2PermissionScopes = append(a.API.OAuth2PermissionScopes, application.PermissionScope{ID: id, Value: scopeValue(i), Type: typ, IsEnabled: true, AdminConsentDisplayName: "s"})
			}
		}
		for i, id := range roleIDs {
			if rapid.Bool().Draw(t, "hasRole") {
				mt := []string{application.MemberTypeUser}
				if i == 1 {
					mt = []string{application.MemberTypeApplication}
				}
				a.AppRoles = append(a.AppRoles, application.AppRole{ID: id, Value: roleValue(i), DisplayName: "r", Description: "r", AllowedMemberTypes: mt, IsEnabled: true})
			}
		}
	}
	if len(resources) > 0 && rapid.Bool().Draw(t, "requires") {
		r := rapid.SampledFrom(resources).Draw(t, "requiredResource")
		rra := application.RequiredResourceAccess{ResourceAppID: r.AppID}
		for _, s := range r.Scopes() {
			if rapid.Bool().Draw(t, "requireScope") {
				rra.ResourceAccess = append(rra.ResourceAccess, application.ResourceAccess{ID: s.ID, Type: application.AccessScope})
			}
		}
		for _, ro := range r.AppRoles {
			if ro.Allows(application.MemberTypeApplication) && rapid.Bool().Draw(t, "requireRole") {
				rra.ResourceAccess = append(rra.ResourceAccess, application.ResourceAccess{ID: ro.ID, Type: application.AccessRole})
			}
		}
		if len(rra.ResourceAccess) > 0 {
			a.RequiredResourceAccess = []application.RequiredResourceAccess{rra}
		}
	}
	return a
}

func (m *dirMachine) liveApps(t *rapid.T) []application.Application {
	var out []application.Application
	for _, id := range m.apps {
		a, err := m.d.Application(m.ctx, System(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !a.IsDeleted() {
			out = append(out, a)
		}
	}
	return out
}

func (m *dirMachine) CreateApplication(t *rapid.T) {
	tid := m.pickTenant(t)
	actor := m.pickActor(t, tid)
	spec := genApp(t, m.liveApps(t))
	before := m.spSet(t)
	a, err := m.d.CreateApplication(m.ctx, actor, tid, spec)
	m.mutated(t, "CreateApplication", err)
	if err != nil {
		return
	}
	m.apps = append(m.apps, a.ID)
	m.spPairs[a.AppID+"/"+tid] = true
	m.audience[a.AppID], m.home[a.AppID], m.appIDOf[a.ID] = spec.SignInAudience, tid, a.AppID
	m.checkStored(t, store.Applications, a.ID, a)
	if a.TenantID != tid || a.AppID == "" || a.ID == "" {
		t.Fatalf("registered app has tenant %q appId %q id %q", a.TenantID, a.AppID, a.ID)
	}
	m.checkNewSPs(t, before)
}

func (m *dirMachine) ToggleScopeOrRole(t *rapid.T) {
	a := m.pickApp(t)
	_, err := m.d.UpdateApplication(m.ctx, m.pickActor(t, a.TenantID), a.ID, func(x *application.Application) error {
		if x.API != nil && len(x.API.OAuth2PermissionScopes) > 0 && rapid.Bool().Draw(t, "scope") {
			i := rapid.IntRange(0, len(x.API.OAuth2PermissionScopes)-1).Draw(t, "i")
			x.API.OAuth2PermissionScopes[i].IsEnabled = !x.API.OAuth2PermissionScopes[i].IsEnabled
		} else if len(x.AppRoles) > 0 {
			i := rapid.IntRange(0, len(x.AppRoles)-1).Draw(t, "i")
			x.AppRoles[i].IsEnabled = !x.AppRoles[i].IsEnabled
		}
		return nil
	})
	m.mutated(t, "UpdateApplication", err)
	if err == nil {
		// Every service principal of the app carries the new copies.
		a2, _ := m.d.Application(m.ctx, System(), a.ID)
		for _, sp := range m.allSPs(t) {
			if sp.AppID == a.AppID && !cmp.Equal(len(sp.AppRoles), len(a2.AppRoles)) {
				t.Fatalf("service principal %s not synced with its app", sp.ID)
			}
			if sp.AppID == a.AppID {
				for _, r := range a2.AppRoles {
					if got, _ := sp.RoleByID(r.ID); got.IsEnabled != r.IsEnabled {
						t.Fatalf("service principal %s role %s enabled=%v, app says %v", sp.ID, r.Value, got.IsEnabled, r.IsEnabled)
					}
				}
			}
		}
	}
}

func (m *dirMachine) AddRemovePassword(t *rapid.T) {
	a := m.pickApp(t)
	actor := m.pickActor(t, a.TenantID)
	if len(a.PasswordCredentials) > 0 && rapid.Bool().Draw(t, "remove") {
		keyID := a.PasswordCredentials[0].KeyID
		_, err := m.d.RemovePassword(m.ctx, actor, a.ID, keyID)
		m.mutated(t, "RemovePassword", err)
		if err == nil && m.secrets[a.AppID].keyID == keyID {
			delete(m.secrets, a.AppID)
		}
		return
	}
	cred, err := m.d.AddPassword(m.ctx, actor, a.ID, PasswordSpec{DisplayName: "s"})
	m.mutated(t, "AddPassword", err)
	if err != nil {
		return
	}
	m.secrets[a.AppID] = modelSecret{keyID: cred.KeyID, text: cred.SecretText}
	stored, _ := m.d.Application(m.ctx, System(), a.ID)
	for _, p := range stored.PasswordCredentials {
		if p.SecretText != "" {
			t.Fatal("a secret's text was stored")
		}
		if p.KeyID == cred.KeyID && !p.Matches(cred.SecretText) {
			t.Fatal("stored secret hash does not match the returned secret")
		}
	}
}

func (m *dirMachine) CreateServicePrincipal(t *rapid.T) {
	a := m.pickApp(t)
	tid := m.pickTenant(t)
	before := m.spSet(t)
	sp, err := m.d.CreateServicePrincipal(m.ctx, m.pickActor(t, tid), tid, a.AppID)
	m.mutated(t, "CreateServicePrincipal", err)
	if err == nil {
		m.spPairs[a.AppID+"/"+tid] = true
		m.checkStored(t, store.ServicePrincipals, sp.ID, sp)
	}
	admits := m.modelAdmits(a.AppID, tid)
	if errors.Is(err, ErrAudience) && admits {
		t.Fatalf("ErrAudience for %s (%s) in tenant %s, which its audience admits", a.AppID, m.audience[a.AppID], tid)
	}
	if !admits && !errors.Is(err, ErrAudience) && !a.IsDeleted() && !errors.Is(err, store.ErrAlreadyExists) && !errors.Is(err, tenant.ErrForbidden) {
		t.Fatalf("service principal of %s (%s) in tenant %s: err=%v, want ErrAudience", a.AppID, m.audience[a.AppID], tid, err)
	}
	m.checkNewSPs(t, before)
}

// SetAudience narrows or widens an application's sign-in audience; a
// narrowed app keeps the service principals consent made abroad, which must
// then get no token (invariant 3).
func (m *dirMachine) SetAudience(t *rapid.T) {
	a := m.pickApp(t)
	aud := rapid.SampledFrom([]string{application.AzureADMyOrg, application.AzureADMultipleOrgs}).Draw(t, "audience")
	_, err := m.d.UpdateApplication(m.ctx, m.pickActor(t, a.TenantID), a.ID, func(x *application.Application) error {
		x.SignInAudience = aud
		return nil
	})
	m.mutated(t, "UpdateApplication(signInAudience)", err)
	if err == nil {
		m.audience[a.AppID] = aud
	}
}

func (m *dirMachine) Consent(t *rapid.T) {
	client := m.pickApp(t)
	tid := m.pickTenant(t)
	actor := m.pickActor(t, tid)
	spec := ConsentSpec{ClientAppID: client.AppID, TenantWide: rapid.Bool().Draw(t, "tenantWide")}
	resources := m.liveApps(t)
	if rapid.Bool().Draw(t, "default") || len(resources) == 0 {
		spec.Default = true
	} else {
		r := rapid.SampledFrom(resources).Draw(t, "resource")
		n := rapid.IntRange(1, 3).Draw(t, "n")
		var vals []string
		for i := 0; i < n; i++ {
			// Mostly scopes the resource publishes, so that grants exist.
			if ps := r.Scopes(); len(ps) > 0 && rapid.IntRange(0, 3).Draw(t, "published") != 0 {
				vals = append(vals, rapid.SampledFrom(ps).Draw(t, "publishedScope").Value)
				continue
			}
			vals = append(vals, scopeValue(rapid.IntRange(0, 3).Draw(t, "scope")))
		}
		spec.Scopes = []consent.ScopeRequest{{ResourceAppID: r.AppID, Scopes: vals}}
	}
	m.consent(t, client, tid, actor, spec)
}

// ConsentAbroad: an administrator (or the system) of a tenant other than
// its home consents tenant-wide to what a multi-tenant app requires, so
// that its service principal (and its resources') exist abroad and a later
// SetAudience narrows an app already consented to.
func (m *dirMachine) ConsentAbroad(t *rapid.T) {
	var clients []application.Application
	for _, a := range m.liveApps(t) {
		if m.audience[a.AppID] == application.AzureADMultipleOrgs {
			clients = append(clients, a)
		}
	}
	if len(clients) == 0 || len(m.tenants) < 2 {
		t.Skip("no multi-tenant app or no second tenant")
	}
	client := rapid.SampledFrom(clients).Draw(t, "client")
	var abroad []string
	for _, tid := range m.tenants {
		if tid != client.TenantID {
			abroad = append(abroad, tid)
		}
	}
	tid := rapid.SampledFrom(abroad).Draw(t, "tenant")
	actor := System()
	for _, u := range m.users {
		if u.tenantID == tid && u.role == tenant.RoleGlobalAdministrator {
			actor = UserActor(u.id)
		}
	}
	m.consent(t, client, tid, actor, ConsentSpec{ClientAppID: client.AppID, Default: true, TenantWide: true})
}

// ConsentAsOwner: an owner of an app consents for herself in its home
// tenant, where the policy may forbid user consent: owning the client
// gives no right to consent (REFERENCE §1.13 exempts roles, not owners).
func (m *dirMachine) ConsentAsOwner(t *rapid.T) {
	var owned []application.Application
	for _, a := range m.liveApps(t) {
		if len(a.Owners) > 0 {
			owned = append(owned, a)
		}
	}
	if len(owned) == 0 {
		t.Skip("no owned application")
	}
	client := rapid.SampledFrom(owned).Draw(t, "client")
	owner := rapid.SampledFrom(client.Owners).Draw(t, "owner")
	if m.userOf(UserActor(owner)).role == "" {
		m.reach("consent by an owner without a role")
	}
	m.consent(t, client, client.TenantID, UserActor(owner), ConsentSpec{ClientAppID: client.AppID, Default: true})
}

func (m *dirMachine) consent(t *rapid.T, client application.Application, tid string, actor Actor, spec ConsentSpec) {
	before := m.spSet(t)
	grantsBefore := map[string][]string{}
	for _, g := range m.allGrants(t) {
		grantsBefore[g.ID] = g.Scopes()
	}
	tn, _ := m.d.ResolveTenant(m.ctx, System(), tid)
	res, err := m.d.Consent(m.ctx, actor, tid, spec)
	m.mutated(t, "Consent", err)
	// Invariant 3, by the model: no consent for a client whose audience
	// does not admit the tenant.
	if !m.modelAdmits(client.AppID, tid) {
		if err == nil {
			t.Fatalf("consent to %s (%s) succeeded in tenant %s", client.AppID, m.audience[client.AppID], tid)
		}
		if !client.IsDeleted() && actor == System() && spec.TenantWide && !errors.Is(err, ErrAudience) {
			t.Fatalf("consent to %s (%s) in tenant %s: %v, want ErrAudience", client.AppID, m.audience[client.AppID], tid, err)
		}
	}
	// Invariant 4: where the tenant's policy forbids user consent, only the
	// roles that may consent for self anyway (REFERENCE §1.13) get a grant
	// for themselves; owning the client is no such right.
	selfForbidden := !spec.TenantWide && tn.Policy.UserConsent() == tenant.UserConsentNone && !m.userOf(actor).consentsDespitePolicy()
	if selfForbidden && err == nil {
		t.Fatalf("user consent by %+v recorded while the tenant forbids it", m.userOf(actor))
	}
	if err != nil {
		return
	}
	for _, sp := range res.Created {
		m.spPairs[sp.AppID+"/"+tid] = true
	}
	m.spPairs[client.AppID+"/"+tid] = true
	m.checkNewSPs(t, before)
	// What may be granted: the scopes asked for, or with .default those the
	// client's requiredResourceAccess names.
	asked := map[string][]string{} // scope values by resource appId
	for _, sr := range spec.Scopes {
		asked[sr.ResourceAppID] = append(asked[sr.ResourceAppID], sr.Scopes...)
	}
	if spec.Default {
		for _, rra := range client.RequiredResourceAccess {
			r, err := m.d.ApplicationByAppID(m.ctx, System(), rra.ResourceAppID)
			if err != nil {
				continue
			}
			for _, ra := range rra.ResourceAccess {
				for _, ps := range r.Scopes() {
					if ps.ID == ra.ID && ra.Type == application.AccessScope {
						asked[r.AppID] = append(asked[r.AppID], ps.Value)
					}
				}
			}
		}
	}
	// Invariant 4: granted scopes are published and enabled; user consent
	// never grants Admin scopes; a grant gains only scopes asked for.
	for _, g := range res.Grants {
		resSP, err := m.d.ServicePrincipal(m.ctx, System(), g.ResourceID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range g.Scopes() {
			ps, ok := resSP.ScopeByValue(s)
			if !ok && consent.IsOIDCScope(s) {
				continue // the sign-in scopes, filed on Microsoft Graph or the client itself (README, invariant 4)
			}
			if !ok {
				t.Fatalf("grant holds scope %q the resource does not publish", s)
			}
			if g.ConsentType == consent.Principal && ps.Type == application.ScopeTypeAdmin {
				t.Fatalf("user consent granted Admin scope %q", s)
			}
			if !slices.Contains(grantsBefore[g.ID], s) && !slices.Contains(asked[resSP.AppID], s) {
				t.Fatalf("consent %+v added scope %q to grant %s, asked for %v", spec, s, g.ID, asked[resSP.AppID])
			}
		}
		for _, sr := range spec.Scopes {
			for _, v := range sr.Scopes {
				if slices.Contains(g.Scopes(), v) {
					if ps, _ := resSP.ScopeByValue(v); !ps.IsEnabled {
						t.Fatalf("consent granted disabled scope %q", v)
					}
				}
			}
		}
		if g.ConsentType == consent.Principal && (g.PrincipalID != actor.UserID() || actor.UserID() == "") {
			t.Fatalf("user consent by %q recorded for principal %q", actor.UserID(), g.PrincipalID)
		}
	}
	if (len(res.Assignments) > 0 || anyAll(res.Grants)) && !spec.TenantWide {
		t.Fatalf("tenant-wide grants without TenantWide")
	}
}

// userOf returns the model's user behind actor (the zero modelUser for the
// system actor).
func (m *dirMachine) userOf(actor Actor) modelUser {
	for _, u := range m.users {
		if u.id == actor.UserID() {
			return u
		}
	}
	return modelUser{}
}

func (m *dirMachine) allGrants(t *rapid.T) []consent.Grant {
	var out []consent.Grant
	err := m.d.Store().View(m.ctx, func(tx store.ReadTx) error {
		var err error
		out, err = store.Grants.All(tx, "", "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func anyAll(gs []consent.Grant) bool {
	for _, g := range gs {
		if g.ConsentType == consent.AllPrincipals {
			return true
		}
	}
	return false
}

func (m *dirMachine) AssignRole(t *rapid.T) {
	sps := m.allSPs(t)
	if len(sps) == 0 {
		t.Skip("no service principal")
	}
	res := rapid.SampledFrom(sps).Draw(t, "resource")
	var principals []string
	for _, u := range m.users {
		if u.tenantID == res.TenantID {
			principals = append(principals, u.id)
		}
	}
	for _, sp := range sps {
		if sp.TenantID == res.TenantID {
			principals = append(principals, sp.ID)
		}
	}
	principal := rapid.SampledFrom(principals).Draw(t, "principal")
	roleID := rapid.SampledFrom(append(slices.Clone(roleIDs), application.DefaultAccessRoleID)).Draw(t, "roleID")
	a, err := m.d.AssignAppRole(m.ctx, m.pickActor(t, res.TenantID), AssignmentSpec{ResourceID: res.ID, PrincipalID: principal, AppRoleID: roleID})
	m.mutated(t, "AssignAppRole", err)
	if err != nil {
		return
	}
	m.checkStored(t, store.Assignments, a.ID, a)
	// Invariant 6 (assignment side): the role exists, is enabled and
	// allows the principal's member type.
	if roleID != application.DefaultAccessRoleID {
		r, ok := res.RoleByID(roleID)
		member := application.MemberTypeUser
		if a.PrincipalType == serviceprincipal.PrincipalServicePrincipal {
			member = application.MemberTypeApplication
		}
		if !ok || !r.IsEnabled || !r.Allows(member) {
			t.Fatalf("assignment of role %s (exists=%v enabled=%v) to a %s", roleID, ok, r.IsEnabled, a.PrincipalType)
		}
	}
}

func (m *dirMachine) Unassign(t *rapid.T) {
	var all []serviceprincipal.AppRoleAssignment
	_ = m.d.Store().View(m.ctx, func(tx store.ReadTx) error {
		var err error
		all, err = store.Assignments.All(tx, "", "")
		return err
	})
	if len(all) == 0 {
		t.Skip("no assignment")
	}
	a := rapid.SampledFrom(all).Draw(t, "assignment")
	err := m.d.UnassignAppRole(m.ctx, m.pickActor(t, a.TenantID), a.ID)
	m.mutated(t, "UnassignAppRole", err)
	if err == nil {
		for _, kept := range m.kept {
			delete(kept, a.ID)
		}
	}
}

// assignmentsOf returns the app role assignments in which sp is the
// resource or the principal.
func (m *dirMachine) assignmentsOf(t *rapid.T, spID string) map[string]serviceprincipal.AppRoleAssignment {
	out := map[string]serviceprincipal.AppRoleAssignment{}
	err := m.d.Store().View(m.ctx, func(tx store.ReadTx) error {
		for _, idx := range []string{store.AssignmentByResource, store.AssignmentByPrincipal} {
			as, err := store.Assignments.Lookup(tx, idx, spID)
			if err != nil {
				return err
			}
			for _, a := range as {
				out[a.ID] = a
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (m *dirMachine) DisableEnable(t *rapid.T) {
	if rapid.Bool().Draw(t, "user") && len(m.users) > 0 {
		u := rapid.SampledFrom(m.users).Draw(t, "u")
		_, err := m.d.setUserEnabled(m.ctx, m.pickActor(t, u.tenantID), u.id, rapid.Bool().Draw(t, "enabled"))
		m.mutated(t, "EnableUser or DisableUser", err)
		return
	}
	sps := m.allSPs(t)
	if len(sps) == 0 {
		t.Skip("nothing to disable")
	}
	sp := rapid.SampledFrom(sps).Draw(t, "sp")
	_, err := m.d.setServicePrincipalEnabled(m.ctx, m.pickActor(t, sp.TenantID), sp.ID, rapid.Bool().Draw(t, "enabled"))
	m.mutated(t, "EnableServicePrincipal or DisableServicePrincipal", err)
}

func (m *dirMachine) DeleteApplication(t *rapid.T) {
	a := m.pickApp(t)
	if rapid.Bool().Draw(t, "withAssignments") {
		// Prefer a live application whose home service principal takes
		// part in assignments: a restore must bring them back.
		var with []application.Application
		for _, x := range m.liveApps(t) {
			if sp, err := m.d.ServicePrincipalByAppID(m.ctx, System(), x.TenantID, x.AppID); err == nil && len(m.assignmentsOf(t, sp.ID)) > 0 {
				with = append(with, x)
			}
		}
		if len(with) > 0 {
			a = rapid.SampledFrom(with).Draw(t, "appWithAssignments")
		}
	}
	var kept map[string]serviceprincipal.AppRoleAssignment
	if sp, err := m.d.ServicePrincipalByAppID(m.ctx, System(), a.TenantID, a.AppID); err == nil {
		kept = m.assignmentsOf(t, sp.ID)
	}
	err := m.d.DeleteApplication(m.ctx, m.pickActor(t, a.TenantID), a.ID)
	m.mutated(t, "DeleteApplication", err)
	if err == nil {
		m.deleted[a.ID] = a
		m.kept[a.ID] = kept
		got, _ := m.d.Application(m.ctx, System(), a.ID)
		if !got.IsDeleted() {
			t.Fatal("deleted application is not marked deleted")
		}
		if sp, err := m.d.ServicePrincipalByAppID(m.ctx, System(), a.TenantID, a.AppID); err == nil && sp.DeletedDateTime == nil {
			t.Fatal("home service principal did not follow its application into deletion")
		}
	}
}

func (m *dirMachine) RestoreApplication(t *rapid.T) {
	if len(m.deleted) == 0 {
		t.Skip("nothing deleted")
	}
	var ids []string
	for id := range m.deleted {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	id := rapid.SampledFrom(ids).Draw(t, "deletedApp")
	orig := m.deleted[id]
	deletedAt := *must(m.d.Application(m.ctx, System(), id)).DeletedDateTime
	restored, err := m.d.RestoreApplication(m.ctx, System(), id)
	m.mutated(t, "RestoreApplication", err)
	expired := m.clock.Now().UTC().Sub(deletedAt) > RestoreWindow
	if expired != errors.Is(err, ErrRestoreExpired) {
		t.Fatalf("restore %v after %v: err=%v", id, m.clock.Now().Sub(deletedAt), err)
	}
	if err != nil {
		return
	}
	delete(m.deleted, id)
	// Invariant 8: the same object comes back, with the same ids.
	if diff := cmp.Diff(orig, restored); diff != "" {
		t.Fatalf("restored application differs (-before +after):\n%s", diff)
	}
	sp, err := m.d.ServicePrincipalByAppID(m.ctx, System(), orig.TenantID, orig.AppID)
	if err != nil || sp.DeletedDateTime != nil {
		t.Fatalf("home service principal not restored: %v", err)
	}
	// Nothing else is lost: the home service principal's app role
	// assignments (as resource and as principal) are back, unchanged.
	now := m.assignmentsOf(t, sp.ID)
	if len(m.kept[id]) > 0 {
		m.reach("restore with the home SP's assignments to keep")
	}
	for aid, a := range m.kept[id] {
		if diff := cmp.Diff(a, now[aid]); diff != "" {
			t.Fatalf("assignment %s of the home service principal lost across delete and restore (-before +after):\n%s", aid, diff)
		}
	}
	delete(m.kept, id)
}

func (m *dirMachine) PurgeApplication(t *rapid.T) {
	if len(m.deleted) == 0 || rapid.IntRange(0, 3).Draw(t, "purgeLive") == 0 {
		// A live application cannot be purged: ErrNotDeleted, and nothing
		// changes.
		a := m.pickApp(t)
		if a.IsDeleted() {
			t.Skip("picked a deleted application")
		}
		err := m.d.PurgeApplication(m.ctx, System(), a.ID)
		m.mutated(t, "PurgeApplication(live)", err)
		m.reach("purge of a live application")
		if !errors.Is(err, ErrNotDeleted) {
			t.Fatalf("purge of live application %s: err=%v, want ErrNotDeleted", a.AppID, err)
		}
		if diff := cmp.Diff(a, must(m.d.Application(m.ctx, System(), a.ID))); diff != "" {
			t.Fatalf("a refused purge changed the application:\n%s", diff)
		}
		return
	}
	var ids []string
	for id := range m.deleted {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	id := rapid.SampledFrom(ids).Draw(t, "deletedApp")
	appID := m.appIDOf[id]
	var spIDs []string
	for _, sp := range m.allSPs(t) {
		if sp.AppID == appID {
			spIDs = append(spIDs, sp.ID)
		}
	}
	err := m.d.PurgeApplication(m.ctx, System(), id)
	m.mutated(t, "PurgeApplication", err)
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	delete(m.deleted, id)
	delete(m.kept, id)
	delete(m.secrets, appID)
	// The purged app's service principals go with their assignments.
	for _, kept := range m.kept {
		for aid, a := range kept {
			if slices.Contains(spIDs, a.PrincipalID) || slices.Contains(spIDs, a.ResourceID) {
				delete(kept, aid)
			}
		}
	}
	m.apps = slices.DeleteFunc(m.apps, func(x string) bool { return x == id })
	if _, err := m.d.Application(m.ctx, System(), id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("purged application still readable: %v", err)
	}
}

func (m *dirMachine) AdvanceClock(t *rapid.T) {
	m.clock.Advance(time.Duration(rapid.IntRange(1, 40).Draw(t, "days")) * 24 * time.Hour)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (m *dirMachine) allSPs(t *rapid.T) []serviceprincipal.ServicePrincipal {
	var out []serviceprincipal.ServicePrincipal
	err := m.d.Store().View(m.ctx, func(tx store.ReadTx) error {
		var err error
		out, err = store.ServicePrincipals.All(tx, "", "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (m *dirMachine) spSet(t *rapid.T) map[string]bool {
	s := map[string]bool{}
	for _, sp := range m.allSPs(t) {
		s[sp.ID] = true
	}
	return s
}

// checkNewSPs asserts invariant 3 for service principals that appeared:
// the app's audience, as the model knows it, admits their tenant.
func (m *dirMachine) checkNewSPs(t *rapid.T, before map[string]bool) {
	for _, sp := range m.allSPs(t) {
		if before[sp.ID] {
			continue
		}
		a, err := m.d.ApplicationByAppID(m.ctx, System(), sp.AppID)
		if err != nil {
			t.Fatalf("new service principal %s without application: %v", sp.ID, err)
		}
		if !m.modelAdmits(a.AppID, sp.TenantID) {
			t.Fatalf("service principal of %s (%s by the model) created in tenant %s", a.AppID, m.audience[a.AppID], sp.TenantID)
		}
	}
}

// checkStored asserts invariant 10 for one returned object: the store
// gives back exactly what the operation returned.
func checkStoredIn[T any](t *rapid.T, d *Directory, c *store.Collection[T], id string, want T) {
	var got T
	err := d.Store().View(context.Background(), func(tx store.ReadTx) error {
		var err error
		got, err = c.Get(tx, id)
		return err
	})
	if err != nil {
		t.Fatalf("%s %s: %v", c.Name(), id, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s %s: stored value differs from the returned one (-returned +stored):\n%s", c.Name(), id, diff)
	}
}

func (m *dirMachine) checkStored(t *rapid.T, c store.Kind, id string, want any) {
	switch w := want.(type) {
	case tenant.Tenant:
		checkStoredIn(t, m.d, store.Tenants, id, w)
	case tenant.User:
		checkStoredIn(t, m.d, store.Users, id, w)
	case application.Application:
		checkStoredIn(t, m.d, store.Applications, id, w)
	case serviceprincipal.ServicePrincipal:
		checkStoredIn(t, m.d, store.ServicePrincipals, id, w)
	case serviceprincipal.AppRoleAssignment:
		checkStoredIn(t, m.d, store.Assignments, id, w)
	default:
		t.Fatalf("checkStored: %T", want)
	}
}

// Check runs after every action: the global invariants.
func (m *dirMachine) Check(t *rapid.T) {
	var apps []application.Application
	var sps []serviceprincipal.ServicePrincipal
	var grants []consent.Grant
	var events []store.AuditEvent
	err := m.d.Store().View(m.ctx, func(tx store.ReadTx) error {
		var err error
		if apps, err = store.Applications.All(tx, "", ""); err != nil {
			return err
		}
		if sps, err = store.ServicePrincipals.All(tx, "", ""); err != nil {
			return err
		}
		if grants, err = store.Grants.All(tx, "", ""); err != nil {
			return err
		}
		events, err = tx.Audit(0, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// 1. One application per appId, in one existing home tenant.
	byAppID := map[string]application.Application{}
	for _, a := range apps {
		if _, dup := byAppID[a.AppID]; dup {
			t.Fatalf("appId %s has two application objects", a.AppID)
		}
		byAppID[a.AppID] = a
		if !slices.Contains(m.tenants, a.TenantID) {
			t.Fatalf("application %s lives in unknown tenant %s", a.AppID, a.TenantID)
		}
	}
	if len(apps) != len(m.apps) {
		t.Fatalf("store has %d applications, model %d", len(apps), len(m.apps))
	}
	// 2 and 3. At most one SP per (appId, tenant), each one created by an
	// operation that may create it; the home SP exists while its app does.
	pairs := map[string]bool{}
	for _, sp := range sps {
		key := sp.AppID + "/" + sp.TenantID
		if pairs[key] {
			t.Fatalf("two service principals for %s", key)
		}
		pairs[key] = true
		if !m.spPairs[key] {
			t.Fatalf("service principal %s appeared without an operation that creates it", key)
		}
		if a, ok := byAppID[sp.AppID]; ok && a.TenantID == sp.TenantID && a.IsDeleted() != (sp.DeletedDateTime != nil) {
			t.Fatalf("home service principal of %s: deleted=%v, app deleted=%v", sp.AppID, sp.DeletedDateTime != nil, a.IsDeleted())
		}
	}
	for _, a := range apps {
		if !pairs[a.AppID+"/"+a.TenantID] {
			t.Fatalf("application %s has no home service principal", a.AppID)
		}
	}
	// 4. Principal grants hold no Admin-type scope.
	for _, g := range grants {
		if g.ConsentType != consent.Principal {
			continue
		}
		for _, s := range g.Scopes() {
			if s == scopeValue(2) {
				t.Fatalf("user grant %s holds the Admin scope %s", g.ID, s)
			}
		}
	}
	// 9. The audit log is ordered and append-only.
	for i, e := range events {
		if e.Seq != int64(i+1) {
			t.Fatalf("audit event %d has seq %d", i, e.Seq)
		}
		if i > 0 && e.Time.Before(events[i-1].Time) {
			t.Fatalf("audit event %d is older than its predecessor", e.Seq)
		}
		for _, part := range [][]byte{e.Before, e.After} {
			for _, secret := range []string{"secretText", "digest", "passwordHash"} {
				if strings.Contains(string(part), secret) {
					t.Fatalf("audit event %d (%s) carries secret material (%s)", e.Seq, e.Action, secret)
				}
			}
			for _, sec := range m.secrets {
				if strings.Contains(string(part), sec.text) {
					t.Fatalf("audit event %d (%s) carries a client secret", e.Seq, e.Action)
				}
			}
		}
	}
	if len(events) != m.auditSeen {
		t.Fatalf("audit log has %d events, model %d", len(events), m.auditSeen)
	}
}

// RunDirectoryInvariants runs the Directory state machine over stores made
// by newStore (each run gets a fresh, empty store). Every backend runs it.
func RunDirectoryInvariants(t *testing.T, newStore func() store.Store) {
	reached := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		st := newStore()
		defer st.Close()
		m := newDirMachine(t, st)
		m.reached = reached
		// Several rounds of rapid's default step count: the states the
		// invariants speak of (consent abroad, then narrowing, then a
		// token) need longer sequences.
		for range 4 {
			t.Repeat(rapid.StateMachineActions(m))
		}
	})
	t.Logf("states reached: %v", reached)
	// The generators must reach the states the invariants speak of.
	for _, state := range []string{
		"refused an operation by no actor", "purge of a live application", "cc: token issued abroad",
		"group nested in a group", "removed owner tries the home SP",
	} {
		if reached[state] == 0 && !t.Failed() {
			t.Errorf("no run reached %q", state)
		}
	}
}

func TestDirectoryInvariants(t *testing.T) {
	RunDirectoryInvariants(t, func() store.Store { return memory.New() })
}

package tenantry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// More actions of the Directory state machine: every other mutating
// operation, each checked for its one audit event (invariant 9), and client
// credentials, judged by the model's sign-in audiences (invariant 3).

func (m *dirMachine) RevokeGrant(t *rapid.T) {
	grants := m.allGrants(t)
	if len(grants) == 0 {
		t.Skip("no grant")
	}
	g := rapid.SampledFrom(grants).Draw(t, "grant")
	var scopes []string
	if rapid.Bool().Draw(t, "partial") {
		scopes = []string{scopeValue(rapid.IntRange(0, 3).Draw(t, "scope"))}
	}
	actor := System()
	if rapid.Bool().Draw(t, "asUser") {
		actor = m.pickActor(t, g.TenantID)
	}
	err := m.d.revokeGrant(m.ctx, actor, g.ID, scopes)
	m.mutated(t, "RevokeGrant", err)
	if err != nil {
		return
	}
	// The revocation changed the grant as asked.
	var after []string
	for _, x := range m.allGrants(t) {
		if x.ID == g.ID {
			after = x.Scopes()
		}
	}
	for _, s := range g.Scopes() {
		if want := scopes != nil && !slices.Contains(scopes, s); slices.Contains(after, s) != want {
			t.Fatalf("revoking %v from %v left %v", scopes, g.Scopes(), after)
		}
	}
	if len(after) > len(g.Scopes()) {
		t.Fatalf("revoking %v from %v left %v", scopes, g.Scopes(), after)
	}
}

// AddGroup creates a group (the action keeps an early name: rapid draws
// actions listed first more often, and nesting needs groups).
func (m *dirMachine) AddGroup(t *rapid.T) {
	tid := m.pickTenant(t)
	var members []tenant.Ref
	for _, u := range m.users {
		if u.tenantID == tid && rapid.Bool().Draw(t, "member") {
			members = append(members, tenant.Ref{ID: u.id, Type: tenant.MemberUser})
		}
	}
	g, err := m.d.CreateGroup(m.ctx, m.pickActor(t, tid), tid, GroupSpec{DisplayName: fmt.Sprint("G", len(m.groups)), SecurityEnabled: true, Members: members})
	m.mutated(t, "CreateGroup", err)
	if err == nil {
		m.groups = append(m.groups, modelGroup{id: g.ID, tenantID: tid})
	}
}

// GroupMembership adds or removes a user or a group (nesting groups in
// groups) as a member of a group.
func (m *dirMachine) GroupMembership(t *rapid.T) {
	if len(m.groups) == 0 {
		t.Skip("no group")
	}
	g := rapid.SampledFrom(m.groups).Draw(t, "group")
	var refs []tenant.Ref
	for _, u := range m.users {
		if u.tenantID == g.tenantID {
			refs = append(refs, tenant.Ref{ID: u.id, Type: tenant.MemberUser})
		}
	}
	for _, o := range m.groups {
		if o.tenantID == g.tenantID && o.id != g.id {
			refs = append(refs, tenant.Ref{ID: o.id, Type: tenant.MemberGroup})
		}
	}
	if len(refs) == 0 {
		t.Skip("no possible member")
	}
	ref := rapid.SampledFrom(refs).Draw(t, "memberRef")
	actor := m.pickActor(t, g.tenantID)
	var others []string // the group's other members
	err := m.d.Store().View(m.ctx, func(tx store.ReadTx) error {
		gr, err := store.Groups.Get(tx, g.id)
		for _, r := range gr.Members {
			if r.ID != ref.ID {
				others = append(others, r.ID)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if rapid.Bool().Draw(t, "remove") {
		_, err = m.d.RemoveGroupMember(m.ctx, actor, g.id, ref.ID)
		m.mutated(t, "RemoveGroupMember", err)
	} else {
		_, err = m.d.AddGroupMember(m.ctx, actor, g.id, ref)
		m.mutated(t, "AddGroupMember", err)
		if err == nil && ref.Type == tenant.MemberGroup {
			m.reach("group nested in a group")
		}
	}
	// The event names the member added or removed, as Entra's "Add member
	// to group" does, not the whole member list.
	if err == nil && len(others) > 0 {
		ev := m.audit(t)
		last := ev[len(ev)-1]
		for _, id := range others {
			if strings.Contains(string(last.Before)+string(last.After), id) {
				t.Fatalf("the audit event of a membership change (%s) lists the other member %s", last.Action, id)
			}
		}
		m.reach("membership change in a group with other members")
	}
}

func (m *dirMachine) RevokeSessions(t *rapid.T) {
	if len(m.users) == 0 {
		t.Skip("no user")
	}
	u := rapid.SampledFrom(m.users).Draw(t, "user")
	_, err := m.d.RevokeSignInSessions(m.ctx, m.pickActor(t, u.tenantID), u.id)
	m.mutated(t, "RevokeSignInSessions", err)
}

func (m *dirMachine) UpdateServicePrincipal(t *rapid.T) {
	sps := m.allSPs(t)
	if len(sps) == 0 {
		t.Skip("no service principal")
	}
	sp := rapid.SampledFrom(sps).Draw(t, "sp")
	required := rapid.Bool().Draw(t, "required")
	tag := rapid.StringMatching(`[a-z]{0,6}`).Draw(t, "tag")
	_, err := m.d.UpdateServicePrincipal(m.ctx, m.pickActor(t, sp.TenantID), sp.ID, func(x *serviceprincipal.ServicePrincipal) error {
		x.AppRoleAssignmentRequired = required
		x.Tags = []string{tag}
		return nil
	})
	m.mutated(t, "UpdateServicePrincipal", err)
	if err == nil {
		if got := must(m.d.ServicePrincipal(m.ctx, System(), sp.ID)); got.AppRoleAssignmentRequired != required || got.AppID != sp.AppID || got.TenantID != sp.TenantID {
			t.Fatalf("service principal update not kept or spilled into its identity: %+v", got)
		}
	}
}

var (
	dirCertKeyOnce sync.Once
	dirCertKey     *ecdsa.PrivateKey
)

// dirCert makes a small self-signed certificate, distinct by serial.
func (m *dirMachine) dirCert(t *rapid.T) *x509.Certificate {
	dirCertKeyOnce.Do(func() {
		var err error
		if dirCertKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	m.serial++
	now := m.clock.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(m.serial), Subject: pkix.Name{CommonName: "rapid"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &dirCertKey.PublicKey, dirCertKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Credentials adds or removes a certificate or a federated credential.
func (m *dirMachine) Credentials(t *rapid.T) {
	a := m.pickApp(t)
	actor := m.pickActor(t, a.TenantID)
	remove := rapid.Bool().Draw(t, "remove")
	if rapid.Bool().Draw(t, "certificate") {
		if remove && len(a.KeyCredentials) > 0 {
			_, err := m.d.RemoveKey(m.ctx, actor, a.ID, rapid.SampledFrom(a.KeyCredentials).Draw(t, "key").KeyID)
			m.mutated(t, "RemoveKey", err)
			return
		}
		_, err := m.d.AddKey(m.ctx, actor, a.ID, KeySpec{DisplayName: "rapid", Certificate: m.dirCert(t)})
		m.mutated(t, "AddKey", err)
		return
	}
	if remove && len(a.FederatedIdentityCredentials) > 0 {
		_, err := m.d.RemoveFederatedCredential(m.ctx, actor, a.ID, rapid.SampledFrom(a.FederatedIdentityCredentials).Draw(t, "fic").ID)
		m.mutated(t, "RemoveFederatedCredential", err)
		return
	}
	m.serial++
	_, err := m.d.AddFederatedCredential(m.ctx, actor, a.ID, application.FederatedIdentityCredential{
		Name: fmt.Sprint("fic", m.serial), Issuer: "https://token.actions.githubusercontent.com", Subject: fmt.Sprint("repo:o/r:", m.serial),
	})
	m.mutated(t, "AddFederatedCredential", err)
}

func (m *dirMachine) Owners(t *rapid.T) {
	a := m.pickApp(t)
	actor := m.pickActor(t, a.TenantID)
	if len(a.Owners) > 0 && rapid.Bool().Draw(t, "remove") {
		// Owners without a directory role are the ones whose powers the
		// removal ends: draw among them more often, so that short runs (the
		// PostgreSQL ones) reach the check below.
		candidates := a.Owners
		var plain []string
		for _, o := range a.Owners {
			if m.userOf(UserActor(o)).role == "" {
				plain = append(plain, o)
			}
		}
		if len(plain) > 0 && rapid.IntRange(0, 2).Draw(t, "prefer plain owner") > 0 {
			candidates = plain
		}
		owner := rapid.SampledFrom(candidates).Draw(t, "owner")
		_, err := m.d.RemoveOwner(m.ctx, actor, a.ID, owner)
		m.mutated(t, "RemoveOwner", err)
		if err != nil || m.userOf(UserActor(owner)).role != "" {
			return
		}
		// A removed owner without a directory role manages nothing of the
		// app any more: not its home service principal's role assignments.
		sp, err := m.d.ServicePrincipalByAppID(m.ctx, System(), a.TenantID, a.AppID)
		if err != nil {
			t.Fatalf("home service principal: %v", err)
		}
		_, err = m.d.AssignAppRole(m.ctx, UserActor(owner), AssignmentSpec{ResourceID: sp.ID, PrincipalID: owner, AppRoleID: application.DefaultAccessRoleID})
		m.mutated(t, "AssignAppRole (by a removed owner)", err)
		if !errors.Is(err, tenant.ErrForbidden) && !errors.Is(err, ErrDeleted) {
			t.Fatalf("a removed owner of %s assigned herself on its home service principal: err=%v", a.AppID, err)
		}
		m.reach("removed owner tries the home SP")
		return
	}
	var in []string
	for _, u := range m.users {
		if u.tenantID == a.TenantID {
			in = append(in, u.id)
		}
	}
	if len(in) == 0 {
		t.Skip("no user in the home tenant")
	}
	_, err := m.d.AddOwner(m.ctx, actor, a.ID, rapid.SampledFrom(in).Draw(t, "owner"))
	m.mutated(t, "AddOwner", err)
}

// ApplyManifest applies a manifest naming an existing tenant with a new
// user, perhaps a new application and perhaps a service principal of an
// existing one: one audit event for the whole change, and none when the
// same manifest is applied again.
func (m *dirMachine) ApplyManifest(t *rapid.T) {
	tid := m.pickTenant(t)
	m.serial++
	mt := ManifestTenant{ID: tid, DisplayName: m.names[tid],
		Users: []ManifestUser{{UserPrincipalName: fmt.Sprintf("m%d@%s", m.serial, m.domains[tid]), DisplayName: "Manifest user"}}}
	var newApp application.Application
	if rapid.Bool().Draw(t, "withApp") {
		newApp = genApp(t, nil)
		newApp.AppID = fmt.Sprintf("0d000000-0000-4000-8000-%012d", m.serial)
		mt.Applications = []application.Application{newApp}
	}
	var spApp string
	if live := m.liveApps(t); len(live) > 0 && rapid.Bool().Draw(t, "withSP") {
		spApp = rapid.SampledFrom(live).Draw(t, "spApp").AppID
		mt.ServicePrincipals = []ManifestServicePrincipal{{AppID: spApp}}
	}
	man := Manifest{Tenants: []ManifestTenant{mt}}
	changes, err := m.d.Apply(m.ctx, System(), man)
	// One audit event per object the manifest created or changed.
	m.mutatedN(t, "Apply", err, len(changes))
	if spApp != "" && !m.modelAdmits(spApp, tid) && !m.spPairs[spApp+"/"+tid] {
		if err == nil {
			t.Fatalf("manifest provisioned %s (%s) in tenant %s", spApp, m.audience[spApp], tid)
		}
	}
	if err != nil {
		return
	}
	if len(changes) == 0 {
		t.Fatal("a manifest with a new user changed nothing")
	}
	var u tenant.User
	err = m.d.Store().View(m.ctx, func(tx store.ReadTx) error {
		var err error
		u, err = store.Users.One(tx, store.UserByUPN, strings.ToLower(mt.Users[0].UserPrincipalName))
		return err
	})
	if err != nil {
		t.Fatalf("manifest user: %v", err)
	}
	m.users = append(m.users, modelUser{id: u.ID, tenantID: tid})
	if newApp.AppID != "" {
		a, err := m.d.ApplicationByAppID(m.ctx, System(), newApp.AppID)
		if err != nil {
			t.Fatalf("manifest application: %v", err)
		}
		m.apps = append(m.apps, a.ID)
		m.audience[a.AppID], m.home[a.AppID], m.appIDOf[a.ID] = newApp.SignInAudience, tid, a.AppID
		m.spPairs[a.AppID+"/"+tid] = true
	}
	if spApp != "" {
		m.spPairs[spApp+"/"+tid] = true
	}
	again, err := m.d.Apply(m.ctx, System(), man)
	m.mutatedN(t, "Apply (again)", err, 0)
	if err != nil || len(again) != 0 {
		t.Fatalf("applying the same manifest again: %v, changes %v", err, again)
	}
}

// ClientCredentials asks for an app-only token for a random client (with
// a secret the model holds) on a random resource in a random tenant: a
// token only where the model admits both the client and the resource in
// that tenant (invariant 3), including after the audience was narrowed
// on an app consent had already provisioned abroad.
func (m *dirMachine) ClientCredentials(t *rapid.T) {
	var clients []string
	for appID := range m.secrets {
		clients = append(clients, appID)
	}
	if len(clients) == 0 {
		t.Skip("no client secret")
	}
	slices.Sort(clients)
	var client, tid, resource string
	if rapid.Bool().Draw(t, "provisioned") {
		// A client and a resource both provisioned in the tenant, where
		// the audience may have been narrowed since.
		var pairs []string
		for k := range m.spPairs {
			if appID, _, _ := strings.Cut(k, "/"); m.secrets[appID].text != "" {
				pairs = append(pairs, k)
			}
		}
		if len(pairs) == 0 {
			t.Skip("no provisioned client with a secret")
		}
		slices.Sort(pairs)
		var p string
		client, p, _ = strings.Cut(rapid.SampledFrom(pairs).Draw(t, "clientPair"), "/")
		tid = p
		var resources []string
		for k := range m.spPairs {
			if appID, pt, _ := strings.Cut(k, "/"); pt == tid && appID != client {
				resources = append(resources, appID)
			}
		}
		if len(resources) == 0 {
			t.Skip("no other service principal in the tenant")
		}
		slices.Sort(resources)
		resource = rapid.SampledFrom(resources).Draw(t, "resource")
	} else {
		client = rapid.SampledFrom(clients).Draw(t, "client")
		tid = m.pickTenant(t)
		var resources []string
		for _, id := range m.apps {
			resources = append(resources, m.appIDOf[id])
		}
		resource = rapid.SampledFrom(resources).Draw(t, "resource")
	}
	if m.spPairs[client+"/"+tid] && !m.modelAdmits(client, tid) {
		m.reach("cc: client narrowed after its SP was provisioned")
	}
	if m.spPairs[resource+"/"+tid] && !m.modelAdmits(resource, tid) {
		m.reach("cc: resource narrowed after its SP was provisioned")
	}
	tr, err := m.d.Issuer().Token(m.ctx, TokenRequest{Tenant: tid, GrantType: GrantClientCredentials, ClientID: client, ClientSecret: m.secrets[client].text, Scope: resource + "/.default"})
	m.afterTokenRequest(t)
	if err != nil {
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatalf("client credentials: not a *TokenError: %v", err)
		}
		if !m.modelAdmits(client, tid) && te.Code != 700016 {
			t.Fatalf("client credentials for %s (%s) in tenant %s: AADSTS%d, want 700016", client, m.audience[client], tid, te.Code)
		}
		return
	}
	if !m.modelAdmits(client, tid) {
		t.Fatalf("invariant 3: client %s (%s, home %s) got a token in tenant %s", client, m.audience[client], m.home[client], tid)
	}
	if !m.modelAdmits(resource, tid) {
		t.Fatalf("invariant 3: a token for resource %s (%s, home %s) was issued in tenant %s", resource, m.audience[resource], m.home[resource], tid)
	}
	m.reach("cc: token issued")
	if tid != m.home[client] {
		m.reach("cc: token issued abroad")
	}
	if c := dirClaims(t, tr.AccessToken); c["tid"] != tid {
		t.Fatalf("token for tenant %s carries tid %v", tid, c["tid"])
	}
}

// afterTokenRequest accounts for the audit events a token request may
// append: only key rotations, never an event of its own.
func (m *dirMachine) afterTokenRequest(t *rapid.T) {
	ev := m.audit(t)
	for _, e := range ev[m.auditSeen:] {
		if e.Action != "signingKeys.rotate" {
			t.Fatalf("a token request appended audit event %q", e.Action)
		}
	}
	m.auditSeen = len(ev)
}

func dirClaims(t *rapid.T, raw string) map[string]any { return ftClaims(t, raw) }

// reach counts a state the machine reached (see dirMachine.reached).
func (m *dirMachine) reach(what string) {
	if m.reached != nil {
		m.reached[what]++
	}
}

// UnassignDirectoryRole takes a user's directory role away.
func (m *dirMachine) UnassignDirectoryRole(t *rapid.T) {
	var with []int
	for i, u := range m.users {
		if u.roleID != "" {
			with = append(with, i)
		}
	}
	if len(with) == 0 {
		t.Skip("no directory role assigned")
	}
	i := rapid.SampledFrom(with).Draw(t, "userWithRole")
	err := m.d.UnassignDirectoryRole(m.ctx, m.pickActor(t, m.users[i].tenantID), m.users[i].roleID)
	m.mutated(t, "UnassignDirectoryRole", err)
	if err == nil {
		m.users[i].role, m.users[i].roleID = "", ""
	}
}

// SetVerifiedPublisher records or clears publisher verification; only the
// system may.
func (m *dirMachine) SetVerifiedPublisher(t *rapid.T) {
	a := m.pickApp(t)
	actor := System()
	if rapid.Bool().Draw(t, "asUser") {
		actor = m.pickActor(t, a.TenantID)
	}
	var vp *application.VerifiedPublisher
	if rapid.Bool().Draw(t, "verified") {
		vp = &application.VerifiedPublisher{DisplayName: "Contoso", VerifiedPublisherID: "1234567"}
	}
	_, err := m.d.SetVerifiedPublisher(m.ctx, actor, a.ID, vp)
	m.mutated(t, "SetVerifiedPublisher", err)
	if actor != System() && err == nil {
		t.Fatal("a user recorded publisher verification")
	}
}

// DeleteServicePrincipal removes a service principal outside its app's
// home tenant, with the assignments that involve it.
func (m *dirMachine) DeleteServicePrincipal(t *rapid.T) {
	var abroad []serviceprincipal.ServicePrincipal
	for _, sp := range m.allSPs(t) {
		if sp.TenantID != m.home[sp.AppID] {
			abroad = append(abroad, sp)
		}
	}
	if len(abroad) == 0 {
		t.Skip("no service principal abroad")
	}
	sp := rapid.SampledFrom(abroad).Draw(t, "sp")
	err := m.d.DeleteServicePrincipal(m.ctx, m.pickActor(t, sp.TenantID), sp.ID)
	m.mutated(t, "DeleteServicePrincipal", err)
	if err != nil {
		return
	}
	for _, kept := range m.kept {
		for aid, a := range kept {
			if a.PrincipalID == sp.ID || a.ResourceID == sp.ID {
				delete(kept, aid)
			}
		}
	}
	if len(m.assignmentsOf(t, sp.ID)) > 0 {
		t.Fatal("assignments of a deleted service principal remain")
	}
}

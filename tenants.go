package tenantry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// TenantSpec describes a new tenant.
type TenantSpec struct {
	// ID is the tenant id; empty means a new one.
	ID          string
	DisplayName string
	// Domains are extra verified domains; the initial
	// "{name}.onmicrosoft.com" domain is always added. The first entry
	// becomes the default domain.
	Domains []string
	// Policy replaces tenant.DefaultPolicy() when set.
	Policy *tenant.AuthorizationPolicy
}

// CreateTenant creates a tenant. Only System may create tenants.
func (d *Directory) CreateTenant(ctx context.Context, actor Actor, spec TenantSpec) (tenant.Tenant, error) {
	if actor != System {
		return tenant.Tenant{}, &tenant.ForbiddenError{Reason: "only the system creates tenants"}
	}
	var out tenant.Tenant
	err := d.mutate(ctx, actor, func(o *op) error {
		t := tenant.Tenant{
			ID: spec.ID, DisplayName: spec.DisplayName, TenantType: tenant.TypeAAD,
			Policy: tenant.DefaultPolicy(), CreatedDateTime: o.now,
		}
		if t.ID == "" {
			t.ID = d.newID()
		}
		if spec.Policy != nil {
			t.Policy = spec.Policy.Clone()
		}
		initial := tenant.InitialDomain(spec.DisplayName)
		// Make the initial domain unique, as Entra does, by suffixing.
		for i := 2; ; i++ {
			if _, err := store.Tenants.One(o.tx, store.TenantByDomain, initial); errors.Is(err, store.ErrNotFound) {
				break
			} else if err != nil {
				return err
			}
			initial = strings.TrimSuffix(tenant.InitialDomain(spec.DisplayName), ".onmicrosoft.com") + fmt.Sprint(i) + ".onmicrosoft.com"
		}
		for i, dom := range spec.Domains {
			t.VerifiedDomains = append(t.VerifiedDomains, tenant.VerifiedDomain{Name: strings.ToLower(dom), IsDefault: i == 0, Type: "Managed"})
		}
		t.VerifiedDomains = append(t.VerifiedDomains, tenant.VerifiedDomain{Name: initial, IsInitial: true, IsDefault: len(spec.Domains) == 0, Type: "Managed"})
		if err := t.Validate(); err != nil {
			return err
		}
		if err := store.Tenants.Create(o.tx, t); err != nil {
			return err
		}
		out = t
		return o.audit(t.ID, "tenant.create", store.Tenants, t.ID, nil, t)
	})
	return out, err
}

// SetAuthorizationPolicy replaces a tenant's authorization policy (who may
// register apps, user consent, guest access). Requires Global
// Administrator.
func (d *Directory) SetAuthorizationPolicy(ctx context.Context, actor Actor, tenantID string, p tenant.AuthorizationPolicy) (tenant.Tenant, error) {
	var out tenant.Tenant
	err := d.mutate(ctx, actor, func(o *op) error {
		t, err := store.Tenants.Get(o.tx, tenantID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(tenantID); err != nil {
			return err
		}
		before := t
		t = t.Clone()
		t.Policy = p.Clone()
		if err := t.Validate(); err != nil {
			return err
		}
		if err := store.Tenants.Put(o.tx, t); err != nil {
			return err
		}
		out = t
		return o.audit(t.ID, "tenant.setAuthorizationPolicy", store.Tenants, t.ID, before, t)
	})
	return out, err
}

// UserSpec describes a new user.
type UserSpec struct {
	// UserPrincipalName is alias@domain in the tenant's namespace: a
	// member's domain is a verified domain of the tenant (its initial
	// domain included), a guest's is "alias_home.com#EXT#@{initial
	// domain}" (see tenant.Tenant.CheckUserPrincipalName).
	UserPrincipalName string
	DisplayName       string
	Mail              string
	// Guest makes the user a guest whose identity lives in HomeTenantID.
	// The guest is PendingAcceptance until its home user redeems the
	// invitation (RedeemInvitation), which links the two.
	Guest        bool
	HomeTenantID string
	// HomeUserID links the guest to its home account at creation (then
	// HomeTenantID may be empty). Only System may set it: anyone else
	// invites, and the home user redeems.
	HomeUserID string
	// Password, when set, is hashed with argon2id for sign-in pages.
	Password string
	// Disabled creates the account disabled.
	Disabled bool
}

// AddUser creates a user in tenantID. Requires Global Administrator. The
// userPrincipalName must lie in the tenant's namespace, else a
// *tenant.FieldError names it. System (imports, dev seeds, personal
// accounts) may also use a domain no other tenant has verified (one no
// tenant verified, or, for a guest, another domain of its own tenant),
// never another tenant's; the #EXT# form of guests always holds.
func (d *Directory) AddUser(ctx context.Context, actor Actor, tenantID string, spec UserSpec) (tenant.User, error) {
	var hash *tenant.PasswordHash
	if spec.Password != "" {
		h, err := tenant.HashPassword(spec.Password, tenant.DefaultPasswordParams)
		if err != nil {
			return tenant.User{}, err
		}
		hash = &h
	}
	var out tenant.User
	err := d.mutate(ctx, actor, func(o *op) error {
		t, err := store.Tenants.Get(o.tx, tenantID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(tenantID); err != nil {
			return err
		}
		u := tenant.User{
			ID: d.newID(), TenantID: tenantID, UserPrincipalName: spec.UserPrincipalName,
			DisplayName: spec.DisplayName, Mail: spec.Mail, AccountEnabled: !spec.Disabled,
			UserType: tenant.Member, CreatedDateTime: o.now, SignInSessionsValidFromDateTime: o.now,
			PasswordHash: hash,
		}
		if spec.Guest {
			u.UserType, u.HomeTenantID, u.ExternalUserState = tenant.Guest, spec.HomeTenantID, tenant.PendingAcceptance
		}
		if spec.HomeUserID != "" {
			if err := linkAtCreation(o, &u, spec.HomeUserID); err != nil {
				return err
			}
		}
		if err := u.Validate(); err != nil {
			return err
		}
		if err := checkUPN(o, t, u.UserPrincipalName, u.UserType); err != nil {
			return err
		}
		if err := store.Users.Create(o.tx, u); err != nil {
			return err
		}
		out = u
		return o.audit(tenantID, "user.create", store.Users, u.ID, nil, u)
	})
	return out, err
}

// checkUPN enforces t's namespace on a new user's userPrincipalName.
// System may also use a domain no other tenant has verified (imports, dev
// seeds, personal accounts), never another tenant's, and the form a user
// type requires always holds.
func checkUPN(o *op, t tenant.Tenant, upn, userType string) error {
	err := t.CheckUserPrincipalName(upn, userType)
	if err == nil || o.actor != System {
		return err
	}
	if err := tenant.CheckUserPrincipalNameForm(upn, userType); err != nil {
		return err
	}
	_, domain, _ := tenant.SplitUserPrincipalName(upn)
	owner, lerr := store.Tenants.One(o.tx, store.TenantByDomain, domain)
	switch {
	case errors.Is(lerr, store.ErrNotFound), lerr == nil && owner.ID == t.ID:
		return nil
	case lerr != nil:
		return lerr
	}
	return &tenant.FieldError{Field: "userPrincipalName", Reason: "the domain " + domain + " is verified by another tenant"}
}

func (d *Directory) changeUser(ctx context.Context, actor Actor, userID, action string, fn func(u *tenant.User)) (tenant.User, error) {
	var out tenant.User
	err := d.mutate(ctx, actor, func(o *op) error {
		u, err := store.Users.Get(o.tx, userID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(u.TenantID); err != nil {
			return err
		}
		before := u
		u = u.Clone()
		fn(&u)
		if err := store.Users.Put(o.tx, u); err != nil {
			return err
		}
		out = u
		return o.audit(u.TenantID, action, store.Users, u.ID, before, u)
	})
	return out, err
}

// SetUserEnabled enables or disables a user account (accountEnabled). A
// disabled user gets no new tokens and cannot consent. Requires Global
// Administrator.
func (d *Directory) SetUserEnabled(ctx context.Context, actor Actor, userID string, enabled bool) (tenant.User, error) {
	action := "user.disable"
	if enabled {
		action = "user.enable"
	}
	return d.changeUser(ctx, actor, userID, action, func(u *tenant.User) { u.AccountEnabled = enabled })
}

// RevokeSignInSessions invalidates the user's refresh tokens and sessions
// issued until now (Graph's revokeSignInSessions). Requires Global
// Administrator.
func (d *Directory) RevokeSignInSessions(ctx context.Context, actor Actor, userID string) (tenant.User, error) {
	now := d.clock()
	return d.changeUser(ctx, actor, userID, "user.revokeSignInSessions", func(u *tenant.User) {
		// Sessions issued in the same microsecond as the revocation are
		// revoked too.
		u.SignInSessionsValidFromDateTime = now.Add(1)
	})
}

// GroupSpec describes a new group.
type GroupSpec struct {
	DisplayName     string
	Description     string
	SecurityEnabled bool
	Members         []tenant.Ref
}

// AddGroup creates a group in tenantID. Members must exist in the tenant.
// Requires Global Administrator.
func (d *Directory) AddGroup(ctx context.Context, actor Actor, tenantID string, spec GroupSpec) (tenant.Group, error) {
	var out tenant.Group
	err := d.mutate(ctx, actor, func(o *op) error {
		if _, err := store.Tenants.Get(o.tx, tenantID); err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(tenantID); err != nil {
			return err
		}
		g := tenant.Group{
			ID: d.newID(), TenantID: tenantID, DisplayName: spec.DisplayName, Description: spec.Description,
			SecurityEnabled: spec.SecurityEnabled, Members: append([]tenant.Ref(nil), spec.Members...), CreatedDateTime: o.now,
		}
		if err := g.Validate(); err != nil {
			return err
		}
		for _, m := range g.Members {
			if err := checkMember(o.tx, tenantID, m); err != nil {
				return err
			}
		}
		if err := store.Groups.Create(o.tx, g); err != nil {
			return err
		}
		out = g
		return o.audit(tenantID, "group.create", store.Groups, g.ID, nil, g)
	})
	return out, err
}

// AddGroupMember adds a member to a group. Requires Global Administrator.
func (d *Directory) AddGroupMember(ctx context.Context, actor Actor, groupID string, m tenant.Ref) (tenant.Group, error) {
	return d.changeGroup(ctx, actor, groupID, "group.addMember", m, false, func(o *op, g *tenant.Group) error {
		if g.HasMember(m.ID) {
			return fmt.Errorf("%w: %s is already a member", store.ErrAlreadyExists, m.ID)
		}
		if err := checkMember(o.tx, g.TenantID, m); err != nil {
			return err
		}
		if m.Type == tenant.MemberGroup {
			// Refuse cycles: g must not be reachable from m.
			inner, err := transitiveMembers(o.tx, m.ID)
			if err != nil {
				return err
			}
			if inner[g.ID] {
				return invalid("adding group %s to %s would create a cycle", m.ID, g.ID)
			}
		}
		g.Members = append(g.Members, m)
		return nil
	})
}

// RemoveGroupMember removes a member from a group. Requires Global
// Administrator.
func (d *Directory) RemoveGroupMember(ctx context.Context, actor Actor, groupID, memberID string) (tenant.Group, error) {
	return d.changeGroup(ctx, actor, groupID, "group.removeMember", tenant.Ref{ID: memberID}, true, func(o *op, g *tenant.Group) error {
		for i, m := range g.Members {
			if m.ID == memberID {
				g.Members = append(g.Members[:i:i], g.Members[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("%w: %s is not a member of %s", store.ErrNotFound, memberID, groupID)
	})
}

// memberChange is the audit record of a group membership change: the
// member added (in after) or removed (in before), as Entra's "Add member
// to group" and "Remove member from group" events name the member rather
// than the group's whole member list.
type memberChange struct {
	Member tenant.Ref `json:"member"`
}

// changeGroup changes a group's members with fn and audits the one member
// m that was added or, with removed, removed.
func (d *Directory) changeGroup(ctx context.Context, actor Actor, groupID, action string, m tenant.Ref, removed bool, fn func(o *op, g *tenant.Group) error) (tenant.Group, error) {
	var out tenant.Group
	err := d.mutate(ctx, actor, func(o *op) error {
		g, err := store.Groups.Get(o.tx, groupID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(g.TenantID); err != nil {
			return err
		}
		before := g
		g = g.Clone()
		if err := fn(o, &g); err != nil {
			return err
		}
		if err := g.Validate(); err != nil {
			return err
		}
		if err := store.Groups.Put(o.tx, g); err != nil {
			return err
		}
		out = g
		if removed {
			rec := m
			for _, r := range before.Members {
				if r.ID == m.ID {
					rec = r
				}
			}
			return o.audit(g.TenantID, action, store.Groups, g.ID, memberChange{Member: rec}, nil)
		}
		return o.audit(g.TenantID, action, store.Groups, g.ID, nil, memberChange{Member: m})
	})
	return out, err
}

func checkMember(tx store.ReadTx, tenantID string, m tenant.Ref) error {
	var tid string
	switch m.Type {
	case tenant.MemberUser:
		u, err := store.Users.Get(tx, m.ID)
		if err != nil {
			return fmt.Errorf("member %s: %w", m.ID, err)
		}
		tid = u.TenantID
	case tenant.MemberGroup:
		g, err := store.Groups.Get(tx, m.ID)
		if err != nil {
			return fmt.Errorf("member %s: %w", m.ID, err)
		}
		tid = g.TenantID
	case tenant.MemberServicePrincipal:
		sp, err := store.ServicePrincipals.Get(tx, m.ID)
		if err != nil {
			return fmt.Errorf("member %s: %w", m.ID, err)
		}
		tid = sp.TenantID
	default:
		return invalid("member type %q", m.Type)
	}
	if tid != tenantID {
		return invalid("member %s belongs to another tenant", m.ID)
	}
	return nil
}

// transitiveMembers returns the ids reachable downward from group id
// (members, members of nested groups, ...).
func transitiveMembers(tx store.ReadTx, id string) (map[string]bool, error) {
	seen := map[string]bool{}
	queue := []string{id}
	for len(queue) > 0 {
		g, err := store.Groups.Get(tx, queue[0])
		queue = queue[1:]
		if err != nil {
			return nil, err
		}
		for _, m := range g.Members {
			if !seen[m.ID] {
				seen[m.ID] = true
				if m.Type == tenant.MemberGroup {
					queue = append(queue, m.ID)
				}
			}
		}
	}
	return seen, nil
}

// groupsOf returns the ids of the groups principalID belongs to, directly
// (direct=true) or transitively, sorted.
func groupsOf(tx store.ReadTx, principalID string, direct bool) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	queue := []string{principalID}
	for len(queue) > 0 {
		gs, err := store.Groups.Lookup(tx, store.GroupByMember, queue[0])
		queue = queue[1:]
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			if !seen[g.ID] {
				seen[g.ID] = true
				out = append(out, g.ID)
				if !direct {
					queue = append(queue, g.ID)
				}
			}
		}
	}
	return out, nil
}

// AssignDirectoryRole gives principalID (a user of tenantID) a directory
// role (tenant.RoleGlobalAdministrator, ...). Requires Global
// Administrator.
func (d *Directory) AssignDirectoryRole(ctx context.Context, actor Actor, tenantID, principalID, roleID string) (tenant.RoleAssignment, error) {
	var out tenant.RoleAssignment
	err := d.mutate(ctx, actor, func(o *op) error {
		if err := o.requireDirectoryAdmin(tenantID); err != nil {
			return err
		}
		u, err := store.Users.Get(o.tx, principalID)
		if err != nil {
			return err
		}
		if u.TenantID != tenantID {
			return invalid("user %s belongs to another tenant", principalID)
		}
		ra := tenant.RoleAssignment{ID: d.newID(), TenantID: tenantID, PrincipalID: principalID, RoleDefinitionID: roleID, DirectoryScopeID: "/", CreatedDateTime: o.now}
		if err := ra.Validate(); err != nil {
			return err
		}
		existing, err := store.DirectoryRoles.Lookup(o.tx, store.RoleByPrincipal, principalID)
		if err != nil {
			return err
		}
		for _, e := range existing {
			if e.RoleDefinitionID == roleID {
				return fmt.Errorf("%w: role already assigned", store.ErrAlreadyExists)
			}
		}
		if err := store.DirectoryRoles.Create(o.tx, ra); err != nil {
			return err
		}
		out = ra
		return o.audit(tenantID, "directoryRole.assign", store.DirectoryRoles, ra.ID, nil, ra)
	})
	return out, err
}

// RemoveDirectoryRole deletes a directory role assignment. Requires Global
// Administrator.
func (d *Directory) RemoveDirectoryRole(ctx context.Context, actor Actor, assignmentID string) error {
	return d.mutate(ctx, actor, func(o *op) error {
		ra, err := store.DirectoryRoles.Get(o.tx, assignmentID)
		if err != nil {
			return err
		}
		if err := o.requireDirectoryAdmin(ra.TenantID); err != nil {
			return err
		}
		if err := store.DirectoryRoles.Delete(o.tx, ra.ID); err != nil {
			return err
		}
		return o.audit(ra.TenantID, "directoryRole.remove", store.DirectoryRoles, ra.ID, ra, nil)
	})
}

// ResolveTenant finds a tenant by id or by verified domain
// (case-insensitive); "consumers" names the personal-account tenant.
func (d *Directory) ResolveTenant(ctx context.Context, idOrDomain string) (tenant.Tenant, error) {
	var out tenant.Tenant
	err := d.st.View(ctx, func(tx store.ReadTx) error {
		t, err := resolveTenant(tx, idOrDomain)
		out = t
		return err
	})
	return out, err
}

// canonicalGUID returns s as a lower-case, hyphenated GUID if it is a GUID
// in any of the forms uuid.Parse accepts; the common canonical case costs
// no allocation.
func canonicalGUID(s string) (string, bool) {
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		canonical := true
		for i := 0; i < 36; i++ {
			c := s[i]
			if i == 8 || i == 13 || i == 18 || i == 23 {
				continue
			}
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				canonical = false
				break
			}
		}
		if canonical {
			return s, true
		}
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return id.String(), true
}

func resolveTenant(tx store.ReadTx, idOrDomain string) (tenant.Tenant, error) {
	if strings.EqualFold(idOrDomain, "consumers") {
		idOrDomain = tenant.ConsumersID
	}
	if id, ok := canonicalGUID(idOrDomain); ok {
		return store.Tenants.Get(tx, id)
	}
	return store.Tenants.One(tx, store.TenantByDomain, strings.ToLower(idOrDomain))
}

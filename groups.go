package tenantry

import (
	"context"
	"fmt"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// GroupSpec describes a new group.
type GroupSpec struct {
	DisplayName     string       // the group's displayName
	Description     string       // the group's description
	SecurityEnabled bool         // a security group (securityEnabled)
	Members         []tenant.Ref // direct members, in the tenant
}

// CreateGroup creates a group in tenantID. Members must exist in the tenant.
// Requires Global Administrator.
func (d *Directory) CreateGroup(ctx context.Context, actor Actor, tenantID string, spec GroupSpec) (tenant.Group, error) {
	var out tenant.Group
	err := d.mutate(ctx, actor, func(o *op) error {
		if _, err := byID(o.tx, store.Tenants, tenantID); err != nil {
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
		out = g.Clone()
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
func (d *core) changeGroup(ctx context.Context, actor Actor, groupID, action string, m tenant.Ref, removed bool, fn func(o *op, g *tenant.Group) error) (tenant.Group, error) {
	var out tenant.Group
	err := d.mutate(ctx, actor, func(o *op) error {
		g, err := byID(o.tx, store.Groups, groupID)
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
		out = g.Clone()
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
		u, err := byID(tx, store.Users, m.ID)
		if err != nil {
			return fmt.Errorf("member %s: %w", m.ID, err)
		}
		tid = u.TenantID
	case tenant.MemberGroup:
		g, err := byID(tx, store.Groups, m.ID)
		if err != nil {
			return fmt.Errorf("member %s: %w", m.ID, err)
		}
		tid = g.TenantID
	case tenant.MemberServicePrincipal:
		sp, err := byID(tx, store.ServicePrincipals, m.ID)
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

package tenantry

import (
	"errors"
	"fmt"

	"github.com/tenantry/tenantry/internal/deep"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// ManifestGroup is a group of a ManifestTenant, matched by its id when the
// manifest gives one, else by its displayName in the tenant.
type ManifestGroup struct {
	// ID is the object id the group is created with (and the key that
	// matches it); empty means a new one.
	ID string `json:"id,omitempty"`
	// DisplayName is the group's name: the key that matches it when ID is
	// empty.
	DisplayName string `json:"displayName"`
	// Description is free text about the group.
	Description string `json:"description,omitempty"`
	// SecurityEnabled makes it a security group (securityEnabled).
	SecurityEnabled bool `json:"securityEnabled,omitempty"`
	// Members are direct members; Apply adds missing ones and removes none.
	Members []ManifestMember `json:"members,omitempty"`
}

// ManifestMember names one member of a ManifestGroup by exactly one of its
// fields.
type ManifestMember struct {
	// UserPrincipalName names a user of the tenant.
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	// AppID names the service principal of an application in the tenant.
	AppID string `json:"appId,omitempty"`
	// Group is the displayName of a group of the tenant declared before
	// this one (or existing).
	Group string `json:"group,omitempty"`
}

// applyGroup creates the group mg declares, or updates the one it matches
// and adds the members it lacks.
func (d *core) applyGroup(r *manifestRun, tenantID string, mg ManifestGroup) error {
	o := r.o
	g, found, err := findGroup(o.tx, tenantID, mg.ID, mg.DisplayName)
	if err != nil {
		return err
	}
	members := make([]tenant.Ref, 0, len(mg.Members))
	for k, m := range mg.Members {
		ref, err := manifestMember(o.tx, tenantID, fmt.Sprintf("members[%d]", k), m)
		if err != nil {
			return err
		}
		if found && ref.Type == tenant.MemberGroup {
			// Refuse cycles: g must not be reachable from the member.
			inner, err := transitiveMembers(o.tx, ref.ID)
			if err != nil {
				return err
			}
			if inner[g.ID] || ref.ID == g.ID {
				return &tenant.FieldError{Field: fmt.Sprintf("members[%d].group", k), Reason: "would make the group a member of itself"}
			}
		}
		members = append(members, ref)
	}
	gobj := object{tenantID: tenantID, kind: "group", key: mg.DisplayName, k: store.Groups, id: g.ID}
	if !found {
		id := mg.ID
		if id == "" {
			id = d.newID()
		} else if err := idFree(o.tx, id); err != nil {
			return err
		}
		g = tenant.Group{ID: id, TenantID: tenantID, DisplayName: mg.DisplayName, Description: mg.Description,
			SecurityEnabled: mg.SecurityEnabled, CreatedDateTime: o.now}
		for _, m := range members {
			if !g.HasMember(m.ID) {
				g.Members = append(g.Members, m)
			}
		}
		if err := g.Validate(); err != nil {
			return err
		}
		if err := store.Groups.Create(o.tx, g); err != nil {
			return err
		}
		gobj.id = g.ID
		return r.created(gobj, "group.create", g)
	}
	ng := g.Clone()
	ng.DisplayName, ng.Description, ng.SecurityEnabled = mg.DisplayName, mg.Description, mg.SecurityEnabled
	for _, m := range members {
		if !ng.HasMember(m.ID) {
			ng.Members = append(ng.Members, m)
		}
	}
	if deep.Equal(g, ng) {
		return nil
	}
	if err := ng.Validate(); err != nil {
		return err
	}
	if err := store.Groups.Put(o.tx, ng); err != nil {
		return err
	}
	return r.updated(gobj, g, ng)
}

// findGroup finds the group of tenantID with id, or, when id is empty,
// the one named name. Several groups of that name are an error: the
// manifest must then give the id.
func findGroup(tx store.ReadTx, tenantID, id, name string) (tenant.Group, bool, error) {
	if id != "" {
		g, err := store.Groups.Get(tx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return g, false, nil
		case err != nil:
			return g, false, err
		case g.TenantID != tenantID:
			return g, false, &tenant.FieldError{Field: "id", Reason: "is a group of another tenant"}
		}
		return g, true, nil
	}
	gs, err := store.Groups.Lookup(tx, store.ByTenant, tenantID)
	if err != nil {
		return tenant.Group{}, false, err
	}
	var out tenant.Group
	n := 0
	for _, g := range gs {
		if g.DisplayName == name {
			out, n = g, n+1
		}
	}
	if n > 1 {
		return out, false, &tenant.FieldError{Field: "displayName", Reason: "several groups of the tenant are named " + name + "; give the group's id"}
	}
	return out, n == 1, nil
}

// manifestMember resolves a group member of tenantID; field is its path.
func manifestMember(tx store.ReadTx, tenantID, field string, m ManifestMember) (tenant.Ref, error) {
	switch {
	case countSet(m.UserPrincipalName, m.AppID, m.Group) != 1:
		return tenant.Ref{}, &tenant.FieldError{Field: field, Reason: "names exactly one of userPrincipalName, appId and group"}
	case m.UserPrincipalName != "":
		u, err := manifestUser(tx, tenantID, field+".userPrincipalName", m.UserPrincipalName)
		return tenant.Ref{ID: u.ID, Type: tenant.MemberUser}, err
	case m.AppID != "":
		sp, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(m.AppID, tenantID))
		if errors.Is(err, store.ErrNotFound) {
			return tenant.Ref{}, &tenant.FieldError{Field: field + ".appId", Reason: "the tenant has no service principal of " + m.AppID}
		}
		return tenant.Ref{ID: sp.ID, Type: tenant.MemberServicePrincipal}, err
	}
	g, found, err := findGroup(tx, tenantID, "", m.Group)
	if err == nil && !found {
		err = &tenant.FieldError{Field: field + ".group", Reason: "the tenant has no group named " + m.Group + " (declare it before)"}
	}
	return tenant.Ref{ID: g.ID, Type: tenant.MemberGroup}, err
}

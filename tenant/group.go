package tenant

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/guid"
)

// Member types of a group.
const (
	MemberUser             = "User"
	MemberGroup            = "Group"
	MemberServicePrincipal = "ServicePrincipal"
)

// Group is a group in a tenant. Members are users, nested groups and
// service principals.
type Group struct {
	// ID is the group's object id.
	ID string `json:"id"`
	// TenantID is the id of the tenant the group lives in.
	TenantID string `json:"tenantId"`
	// DisplayName is the group's name.
	DisplayName string `json:"displayName"`
	// Description is free text about the group.
	Description string `json:"description,omitempty"`
	// SecurityEnabled marks a security group (Graph securityEnabled).
	SecurityEnabled bool `json:"securityEnabled"`
	// MailEnabled marks a mail-enabled group (Graph mailEnabled), kept as
	// data.
	MailEnabled bool `json:"mailEnabled"`
	// GroupTypes is Graph groupTypes (such as Unified), kept as data.
	GroupTypes []string `json:"groupTypes,omitempty"`
	// Members are the group's direct members: users, groups and service
	// principals of its tenant.
	Members []Ref `json:"members,omitempty"`
	// CreatedDateTime is when the group was created.
	CreatedDateTime time.Time `json:"createdDateTime"`
}

// Ref references a directory object by id and type.
type Ref struct {
	// ID is the object id of the referenced object.
	ID   string `json:"id"`
	Type string `json:"@odata.type"` // User, Group or ServicePrincipal
}

// Clone returns a deep copy of g.
func (g Group) Clone() Group {
	g.GroupTypes = append([]string(nil), g.GroupTypes...)
	g.Members = append([]Ref(nil), g.Members...)
	return g
}

// HasMember reports whether id is a direct member of g.
func (g Group) HasMember(id string) bool {
	for _, m := range g.Members {
		if m.ID == id {
			return true
		}
	}
	return false
}

// MemberIDs returns the ids of g's direct members.
func (g Group) MemberIDs() []string {
	ids := make([]string, len(g.Members))
	for i, m := range g.Members {
		ids[i] = m.ID
	}
	return ids
}

// Validate checks g's own fields.
func (g Group) Validate() error {
	var errs []error
	if !guid.Valid(g.ID) {
		errs = append(errs, &FieldError{Field: "id", Reason: "must be a GUID"})
	}
	if !guid.Valid(g.TenantID) {
		errs = append(errs, &FieldError{Field: "tenantId", Reason: "must be a GUID"})
	}
	if strings.TrimSpace(g.DisplayName) == "" || len(g.DisplayName) > 256 {
		errs = append(errs, &FieldError{Field: "displayName", Reason: "is required, at most 256 characters"})
	}
	seen := map[string]bool{}
	for i, m := range g.Members {
		f := fmt.Sprintf("members[%d]", i)
		if !guid.Valid(m.ID) {
			errs = append(errs, &FieldError{Field: f + ".id", Reason: "must be a GUID"})
		}
		if m.ID == g.ID {
			errs = append(errs, &FieldError{Field: f, Reason: "a group cannot contain itself"})
		}
		switch m.Type {
		case MemberUser, MemberGroup, MemberServicePrincipal:
		default:
			errs = append(errs, &FieldError{Field: f + ".@odata.type", Reason: "must be User, Group or ServicePrincipal"})
		}
		if seen[m.ID] {
			errs = append(errs, &FieldError{Field: f, Reason: "is duplicated"})
		}
		seen[m.ID] = true
	}
	return errors.Join(errs...)
}

package serviceprincipal

import (
	"slices"
	"time"

	"github.com/tenantry/tenantry/application"
)

// Principal types of an app role assignment.
const (
	PrincipalUser             = "User"
	PrincipalGroup            = "Group"
	PrincipalServicePrincipal = "ServicePrincipal"
)

// AppRoleAssignment assigns an app role of a resource service principal to
// a user, group or client service principal. An assignment to a client
// service principal is an application permission. StartDateTime and
// EndDateTime, when set, bound the assignment in time (just-in-time
// elevation); they are tenantry's own.
type AppRoleAssignment struct {
	// ID is the assignment's id.
	ID string `json:"id"`
	// TenantID is the id of the tenant the assignment lives in.
	TenantID string `json:"tenantId"`
	// AppRoleID is the id of the assigned app role of the resource;
	// application.DefaultAccessRoleID means access without a specific role.
	AppRoleID string `json:"appRoleId"`
	// PrincipalID is the object id of the user, group or service principal
	// assigned the role.
	PrincipalID string `json:"principalId"`
	// PrincipalType is User, Group or ServicePrincipal.
	PrincipalType string `json:"principalType"`
	// PrincipalDisplayName is the principal's display name when the
	// assignment was made.
	PrincipalDisplayName string `json:"principalDisplayName,omitempty"`
	// ResourceID is the object id of the resource service principal that
	// defines the role.
	ResourceID string `json:"resourceId"`
	// ResourceDisplayName is the resource's display name when the assignment
	// was made.
	ResourceDisplayName string `json:"resourceDisplayName,omitempty"`
	// CreatedDateTime is when the assignment was made.
	CreatedDateTime time.Time `json:"createdDateTime"`
	// StartDateTime, when set, is when the assignment comes into force.
	StartDateTime *time.Time `json:"x-startDateTime,omitempty"`
	// EndDateTime, when set, is when the assignment ends (exclusive).
	EndDateTime *time.Time `json:"x-endDateTime,omitempty"`
}

// Clone returns a deep copy of a.
func (a AppRoleAssignment) Clone() AppRoleAssignment {
	if a.StartDateTime != nil {
		t := *a.StartDateTime
		a.StartDateTime = &t
	}
	if a.EndDateTime != nil {
		t := *a.EndDateTime
		a.EndDateTime = &t
	}
	return a
}

// ActiveAt reports whether the assignment is in force at t.
func (a AppRoleAssignment) ActiveAt(t time.Time) bool {
	if a.StartDateTime != nil && t.Before(*a.StartDateTime) {
		return false
	}
	if a.EndDateTime != nil && !t.Before(*a.EndDateTime) {
		return false
	}
	return true
}

// Holder identifies who asks for roles on a resource: the principal's own
// id and, for users, the ids of the groups it is a direct member of. Per
// Entra, service principals do not receive roles through groups.
type Holder struct {
	// ID is the object id of the principal.
	ID   string
	Type string // User or ServicePrincipal
	// GroupIDs are the ids of the groups a user is a direct member of; empty
	// for a service principal.
	GroupIDs []string
}

// RolesFor returns the sorted, de-duplicated values of the enabled app
// roles on resource that holder holds at time now, from assignments (which
// may contain assignments to other resources and principals; they are
// ignored). Roles reach a user directly or through a group it is a direct
// member of; a service principal only directly. Disabled roles, roles not
// allowed for the holder's member type, the default access role and
// assignments outside their time window give nothing.
func RolesFor(resource ServicePrincipal, holder Holder, assignments []AppRoleAssignment, now time.Time) []string {
	memberType := application.MemberTypeUser
	if holder.Type == PrincipalServicePrincipal {
		memberType = application.MemberTypeApplication
	}
	var out []string
	for _, a := range assignments {
		if a.ResourceID != resource.ID || !a.ActiveAt(now) || !holds(holder, a) {
			continue
		}
		r, ok := resource.RoleByID(a.AppRoleID)
		if !ok || !r.IsEnabled || r.Value == "" || !r.Allows(memberType) {
			continue
		}
		out = append(out, r.Value)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// IsAssigned reports whether holder has any assignment in force on
// resource (including the default access role): the test for
// appRoleAssignmentRequired.
func IsAssigned(resource ServicePrincipal, holder Holder, assignments []AppRoleAssignment, now time.Time) bool {
	for _, a := range assignments {
		if a.ResourceID == resource.ID && a.ActiveAt(now) && holds(holder, a) {
			if a.AppRoleID == application.DefaultAccessRoleID {
				return true
			}
			if r, ok := resource.RoleByID(a.AppRoleID); ok && r.IsEnabled {
				return true
			}
		}
	}
	return false
}

func holds(h Holder, a AppRoleAssignment) bool {
	if a.PrincipalID == h.ID {
		return true
	}
	return h.Type == PrincipalUser && a.PrincipalType == PrincipalGroup && slices.Contains(h.GroupIDs, a.PrincipalID)
}

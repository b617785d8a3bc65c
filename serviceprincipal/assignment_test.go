package serviceprincipal_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
)

const (
	asgTenant   = "11111111-1111-4111-8111-111111111111"
	asgResource = "5e000000-0000-4000-8000-000000000001"
	asgOtherRes = "5e000000-0000-4000-8000-000000000002"
	asgUser     = "0a000000-0000-4000-8000-000000000001"
	asgOther    = "0b000000-0000-4000-8000-000000000001"
	asgGroup    = "06000000-0000-4000-8000-000000000001"
	asgNested   = "06000000-0000-4000-8000-000000000002"
	asgClientSP = "5c000000-0000-4000-8000-000000000001"

	roleReader   = "a0000000-0000-4000-8000-000000000001" // User
	roleWriter   = "a0000000-0000-4000-8000-000000000002" // User
	roleJob      = "a0000000-0000-4000-8000-000000000003" // Application
	roleBoth     = "a0000000-0000-4000-8000-000000000004" // User and Application
	roleDisabled = "a0000000-0000-4000-8000-000000000005" // User, disabled
	roleNoValue  = "a0000000-0000-4000-8000-000000000006" // User, no value
	roleMissing  = "a0000000-0000-4000-8000-000000000009"
)

var asgNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func asgResourceSP() serviceprincipal.ServicePrincipal {
	app := application.Application{
		AppID: "ap000000-0000-4000-8000-000000000001", TenantID: asgTenant, DisplayName: "Orders API",
		AppRoles: []application.AppRole{
			{ID: roleReader, Value: "Orders.Read", IsEnabled: true, AllowedMemberTypes: []string{application.MemberTypeUser}},
			{ID: roleWriter, Value: "Orders.Write", IsEnabled: true, AllowedMemberTypes: []string{application.MemberTypeUser}},
			{ID: roleJob, Value: "Orders.Job", IsEnabled: true, AllowedMemberTypes: []string{application.MemberTypeApplication}},
			{ID: roleBoth, Value: "Orders.Admin", IsEnabled: true, AllowedMemberTypes: []string{application.MemberTypeUser, application.MemberTypeApplication}},
			{ID: roleDisabled, Value: "Orders.Old", IsEnabled: false, AllowedMemberTypes: []string{application.MemberTypeUser}},
			{ID: roleNoValue, Value: "", IsEnabled: true, AllowedMemberTypes: []string{application.MemberTypeUser}},
		},
	}
	return serviceprincipal.New(asgResource, app, asgTenant, asgNow)
}

func asg(role, principal, principalType string) serviceprincipal.AppRoleAssignment {
	return serviceprincipal.AppRoleAssignment{ID: role + principal, TenantID: asgTenant, AppRoleID: role, PrincipalID: principal, PrincipalType: principalType, ResourceID: asgResource}
}

func window(a serviceprincipal.AppRoleAssignment, start, end time.Duration) serviceprincipal.AppRoleAssignment {
	if start != 0 {
		s := asgNow.Add(start)
		a.StartDateTime = &s
	}
	if end != 0 {
		e := asgNow.Add(end)
		a.EndDateTime = &e
	}
	return a
}

func onResource(a serviceprincipal.AppRoleAssignment, resource string) serviceprincipal.AppRoleAssignment {
	a.ResourceID = resource
	return a
}

var (
	userHolder   = serviceprincipal.Holder{ID: asgUser, Type: serviceprincipal.PrincipalUser, GroupIDs: []string{asgGroup}}
	clientHolder = serviceprincipal.Holder{ID: asgClientSP, Type: serviceprincipal.PrincipalServicePrincipal, GroupIDs: []string{asgGroup}}
)

func TestRolesFor(t *testing.T) {
	const (
		user  = serviceprincipal.PrincipalUser
		group = serviceprincipal.PrincipalGroup
		sp    = serviceprincipal.PrincipalServicePrincipal
	)
	for _, tc := range []struct {
		name   string
		holder serviceprincipal.Holder
		asgs   []serviceprincipal.AppRoleAssignment
		want   []string
	}{
		{"no assignments", userHolder, nil, nil},
		{"direct user assignment", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleReader, asgUser, user)}, []string{"Orders.Read"}},
		{"sorted and unique", userHolder, []serviceprincipal.AppRoleAssignment{
			asg(roleWriter, asgUser, user), asg(roleReader, asgUser, user), asg(roleReader, asgGroup, group),
		}, []string{"Orders.Read", "Orders.Write"}},
		{"through a direct group", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleWriter, asgGroup, group)}, []string{"Orders.Write"}},
		{"not through a group the user is not a direct member of", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleWriter, asgNested, group)}, nil},
		{"group id assigned as a user does not count", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleWriter, asgGroup, user)}, nil},
		{"another user's assignment", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleReader, asgOther, user)}, nil},
		{"assignment on another resource", userHolder, []serviceprincipal.AppRoleAssignment{onResource(asg(roleReader, asgUser, user), asgOtherRes)}, nil},
		{"disabled role gives nothing", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleDisabled, asgUser, user)}, nil},
		{"role without value gives nothing", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleNoValue, asgUser, user)}, nil},
		{"default access role gives nothing", userHolder, []serviceprincipal.AppRoleAssignment{asg(application.DefaultAccessRoleID, asgUser, user)}, nil},
		{"unknown role gives nothing", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleMissing, asgUser, user)}, nil},
		{"application-only role not for users", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleJob, asgUser, user), asg(roleBoth, asgUser, user)}, []string{"Orders.Admin"}},
		{"client: application roles", clientHolder, []serviceprincipal.AppRoleAssignment{asg(roleJob, asgClientSP, sp), asg(roleBoth, asgClientSP, sp)}, []string{"Orders.Admin", "Orders.Job"}},
		{"client: user-only role not for applications", clientHolder, []serviceprincipal.AppRoleAssignment{asg(roleReader, asgClientSP, sp)}, nil},
		{"client: never through groups", clientHolder, []serviceprincipal.AppRoleAssignment{asg(roleJob, asgGroup, group)}, nil},
		{"window open", userHolder, []serviceprincipal.AppRoleAssignment{window(asg(roleReader, asgUser, user), -time.Hour, time.Hour)}, []string{"Orders.Read"}},
		{"window not started", userHolder, []serviceprincipal.AppRoleAssignment{window(asg(roleReader, asgUser, user), time.Second, 0)}, nil},
		{"window ended", userHolder, []serviceprincipal.AppRoleAssignment{window(asg(roleReader, asgUser, user), 0, -time.Second)}, nil},
	} {
		got := serviceprincipal.RolesFor(asgResourceSP(), tc.holder, tc.asgs, asgNow)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: RolesFor = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestActiveAt(t *testing.T) {
	a := asg(roleReader, asgUser, serviceprincipal.PrincipalUser)
	for _, tc := range []struct {
		name       string
		start, end time.Duration // 0: unset
		want       bool
	}{
		{"unbounded", 0, 0, true},
		{"start in the past", -time.Minute, 0, true},
		{"start in the future", time.Minute, 0, false},
		{"end in the future", 0, time.Minute, true},
		{"end in the past", 0, -time.Minute, false},
	} {
		w := window(a, tc.start, tc.end)
		if got := w.ActiveAt(asgNow); got != tc.want {
			t.Errorf("%s: ActiveAt = %v, want %v", tc.name, got, tc.want)
		}
	}
	start, end := asgNow, asgNow
	edge := a
	edge.StartDateTime, edge.EndDateTime = &start, &end
	if edge.ActiveAt(asgNow) {
		t.Error("an assignment ending at now is active")
	}
	edge.EndDateTime = nil
	if !edge.ActiveAt(asgNow) {
		t.Error("an assignment starting at now is not active")
	}
}

func TestIsAssigned(t *testing.T) {
	const (
		user  = serviceprincipal.PrincipalUser
		group = serviceprincipal.PrincipalGroup
		sp    = serviceprincipal.PrincipalServicePrincipal
	)
	for _, tc := range []struct {
		name   string
		holder serviceprincipal.Holder
		asgs   []serviceprincipal.AppRoleAssignment
		want   bool
	}{
		{"no assignments", userHolder, nil, false},
		{"default access role", userHolder, []serviceprincipal.AppRoleAssignment{asg(application.DefaultAccessRoleID, asgUser, user)}, true},
		{"enabled role", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleReader, asgUser, user)}, true},
		{"role without value still assigns", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleNoValue, asgUser, user)}, true},
		{"disabled role does not assign", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleDisabled, asgUser, user)}, false},
		{"unknown role does not assign", userHolder, []serviceprincipal.AppRoleAssignment{asg(roleMissing, asgUser, user)}, false},
		{"through a direct group", userHolder, []serviceprincipal.AppRoleAssignment{asg(application.DefaultAccessRoleID, asgGroup, group)}, true},
		{"not through another group", userHolder, []serviceprincipal.AppRoleAssignment{asg(application.DefaultAccessRoleID, asgNested, group)}, false},
		{"other resource", userHolder, []serviceprincipal.AppRoleAssignment{onResource(asg(application.DefaultAccessRoleID, asgUser, user), asgOtherRes)}, false},
		{"other principal", userHolder, []serviceprincipal.AppRoleAssignment{asg(application.DefaultAccessRoleID, asgOther, user)}, false},
		{"expired", userHolder, []serviceprincipal.AppRoleAssignment{window(asg(roleReader, asgUser, user), 0, -time.Second)}, false},
		{"not yet started", userHolder, []serviceprincipal.AppRoleAssignment{window(asg(roleReader, asgUser, user), time.Second, 0)}, false},
		{"client directly", clientHolder, []serviceprincipal.AppRoleAssignment{asg(roleJob, asgClientSP, sp)}, true},
		{"client with default access", clientHolder, []serviceprincipal.AppRoleAssignment{asg(application.DefaultAccessRoleID, asgClientSP, sp)}, true},
		{"client never through a group", clientHolder, []serviceprincipal.AppRoleAssignment{asg(roleJob, asgGroup, group)}, false},
		{"one valid among invalid", userHolder, []serviceprincipal.AppRoleAssignment{
			asg(roleDisabled, asgUser, user), onResource(asg(roleReader, asgUser, user), asgOtherRes), asg(roleWriter, asgGroup, group),
		}, true},
	} {
		if got := serviceprincipal.IsAssigned(asgResourceSP(), tc.holder, tc.asgs, asgNow); got != tc.want {
			t.Errorf("%s: IsAssigned = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAppRoleAssignmentClone(t *testing.T) {
	a := window(asg(roleReader, asgUser, serviceprincipal.PrincipalUser), -time.Hour, time.Hour)
	c := a.Clone()
	*c.StartDateTime = c.StartDateTime.Add(time.Minute)
	*c.EndDateTime = c.EndDateTime.Add(time.Minute)
	if !a.StartDateTime.Equal(asgNow.Add(-time.Hour)) || !a.EndDateTime.Equal(asgNow.Add(time.Hour)) {
		t.Error("Clone shares the time window")
	}
}

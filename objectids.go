package tenantry

import (
	"errors"
	"fmt"

	"github.com/tenantry/tenantry/store"
)

// byID loads the record of kind c with object id id. When there is none but
// id names an object of another kind (an application's appId where a
// service principal's object id is expected, say), the error says what id
// was given and which one is expected; it still matches store.ErrNotFound.
// The search for the other kind runs only on the not-found path.
func byID[T any](tx store.ReadTx, c *store.Collection[T], id string) (T, error) {
	v, err := c.Get(tx, id)
	if err != nil && errors.Is(err, store.ErrNotFound) {
		err = wrongKind(tx, c.Name(), id, err)
	}
	return v, err
}

// idKinds names the kinds whose ids callers pass, in the order an id is
// looked for among them.
var idKinds = []struct {
	kind, noun string
	find       func(tx store.ReadTx, id string) error
}{
	{"application", "an application's object id", func(tx store.ReadTx, id string) error { _, err := store.Applications.Get(tx, id); return err }},
	{"appId", "an application's appId (client id)", func(tx store.ReadTx, id string) error {
		_, err := store.Applications.One(tx, store.AppByAppID, id)
		return err
	}},
	{"servicePrincipal", "a service principal's object id", func(tx store.ReadTx, id string) error { _, err := store.ServicePrincipals.Get(tx, id); return err }},
	{"user", "a user's object id", func(tx store.ReadTx, id string) error { _, err := store.Users.Get(tx, id); return err }},
	{"group", "a group's object id", func(tx store.ReadTx, id string) error { _, err := store.Groups.Get(tx, id); return err }},
	{"tenant", "a tenant's id", func(tx store.ReadTx, id string) error { _, err := store.Tenants.Get(tx, id); return err }},
	{"oauth2PermissionGrant", "a delegated permission grant's id", func(tx store.ReadTx, id string) error { _, err := store.Grants.Get(tx, id); return err }},
	{"appRoleAssignment", "an app role assignment's id", func(tx store.ReadTx, id string) error { _, err := store.Assignments.Get(tx, id); return err }},
	{"roleAssignment", "a directory role assignment's id", func(tx store.ReadTx, id string) error { _, err := store.DirectoryRoles.Get(tx, id); return err }},
}

// kindNouns names a kind in messages.
var kindNouns = map[string]string{
	"application": "application", "servicePrincipal": "service principal", "user": "user", "group": "group",
	"tenant": "tenant", "oauth2PermissionGrant": "delegated permission grant", "appRoleAssignment": "app role assignment",
	"roleAssignment": "directory role assignment",
}

// wrongKind returns notFound, or, when id is the id of another kind, an
// error naming that kind and the id expected.
func wrongKind(tx store.ReadTx, want, id string, notFound error) error {
	for _, k := range idKinds {
		if k.kind == want {
			continue
		}
		if err := k.find(tx, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return notFound
		}
		noun := kindNouns[want]
		hint := fmt.Sprintf("pass the %s's id", noun)
		switch {
		case want == "servicePrincipal" && k.kind == "appId":
			hint = "pass the service principal's object id (Directory.ServicePrincipalByAppID finds it)"
		case want == "servicePrincipal" && k.kind == "application":
			hint = "pass the service principal's object id (Directory.ServicePrincipalByAppID finds it by the application's appId)"
		case want == "application" && k.kind == "appId":
			hint = "pass the application's object id (Directory.ApplicationByAppID finds it)"
		case want == "application" && k.kind == "servicePrincipal":
			hint = "pass the application's object id (Directory.ApplicationByAppID finds it by the service principal's appId)"
		case want == "oauth2PermissionGrant" && k.kind == "servicePrincipal":
			hint = "pass the grant's id (Directory.Grants lists the grants a client service principal holds)"
		case want == "appRoleAssignment" && (k.kind == "user" || k.kind == "group" || k.kind == "servicePrincipal"):
			hint = "pass the assignment's id (Directory.Assignments lists the assignments a principal holds)"
		case want == "tenant":
			hint = "pass the tenant's id (Directory.ResolveTenant finds it by domain)"
		case want == "user" || want == "group" || want == "servicePrincipal" || want == "application":
			hint = fmt.Sprintf("pass the %s's object id", noun)
		}
		return &wrongKindError{
			msg: fmt.Sprintf("tenantry: %s %q not found: that is %s; %s", noun, safe(id), k.noun, hint),
			err: notFound,
		}
	}
	return notFound
}

// wrongKindError is a not-found error for an id of another kind; it
// unwraps to the store's not-found error.
type wrongKindError struct {
	msg string
	err error
}

func (e *wrongKindError) Error() string { return e.msg }

func (e *wrongKindError) Unwrap() error { return e.err }

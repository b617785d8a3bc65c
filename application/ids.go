package application

// FillPermissionIDs gives an id to every app role and delegated scope of a
// that has none, so that they may be registered by value alone. A role or
// scope whose value prev (the stored application, or the zero Application
// for a new one) already publishes keeps the id it has there: updating an
// application, or applying a manifest again, with ids left out changes no
// id. Any other gets newID(). Ids are required once stored (Validate), as
// Microsoft Graph requires them; FillPermissionIDs runs before validation.
func (a *Application) FillPermissionIDs(prev Application, newID func() string) {
	for i := range a.AppRoles {
		r := &a.AppRoles[i]
		if r.ID != "" {
			continue
		}
		if old, ok := prev.RoleByValue(r.Value); ok && r.Value != "" {
			r.ID = old.ID
		} else {
			r.ID = newID()
		}
	}
	if a.API == nil {
		return
	}
	for i := range a.API.OAuth2PermissionScopes {
		s := &a.API.OAuth2PermissionScopes[i]
		if s.ID != "" {
			continue
		}
		if old, ok := prev.ScopeByValue(s.Value); ok && s.Value != "" {
			s.ID = old.ID
		} else {
			s.ID = newID()
		}
	}
}

// RoleByValue finds an app role by its value, as tokens carry it in the
// roles claim (case-sensitive).
func (a Application) RoleByValue(v string) (AppRole, bool) {
	for _, r := range a.AppRoles {
		if r.Value == v {
			return r, true
		}
	}
	return AppRole{}, false
}

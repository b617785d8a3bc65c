package tenantry

import (
	"errors"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// verifiedEmail returns the address the email claim of u's tokens may
// carry, or "". It follows Entra's removeUnverifiedEmailClaim behaviour,
// which tenantry always applies: an address is emitted only when its domain
// is a verified domain of the user's own (home) tenant, so that no tenant
// can hand an application an address in a domain another organisation owns
// (the "nOAuth" account-takeover pattern). For a member that is its tenant
// t; for a guest linked to its home account, the home account's own mail in
// the home account's tenant; for a guest not linked yet, whose home tenant
// only the inviting tenant asserts, its tenant t.
func verifiedEmail(tx store.ReadTx, t tenant.Tenant, u tenant.User) (string, error) {
	mail, home := u.Mail, t
	if u.IsGuest() && u.HomeUserID != "" {
		hu, err := store.Users.Get(tx, u.HomeUserID)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		if home, err = store.Tenants.Get(tx, hu.TenantID); errors.Is(err, store.ErrNotFound) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		mail = hu.Mail
	}
	if mail == "" {
		return "", nil
	}
	_, domain, ok := tenant.SplitUserPrincipalName(mail)
	if !ok || !home.HasDomain(domain) {
		return "", nil
	}
	return mail, nil
}

// isEmailClaim reports whether name is a claim only verifiedEmail decides
// (email, xms_edov); a claims mapping cannot set them.
func isEmailClaim(name string) bool {
	return strings.EqualFold(name, "email") || strings.EqualFold(name, "xms_edov")
}

// hasIDTokenClaim reports whether app asks for the optional ID-token claim
// name.
func hasIDTokenClaim(app application.Application, name string) bool {
	if app.OptionalClaims == nil {
		return false
	}
	for _, oc := range app.OptionalClaims.IDToken {
		if oc.Name == name {
			return true
		}
	}
	return false
}

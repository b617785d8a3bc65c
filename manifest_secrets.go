package tenantry

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

// manifestSecrets returns creds with each caller-chosen secret (an entry
// with secretText) replaced by its stored form: the credential of cur it
// matches (the same keyId when the entry gives one, and the same secret),
// with the displayName and dates the entry sets, or a new credential made
// as AddPassword makes one (keyId, start and end defaulted alike). Entries
// without secretText are returned as given. The secret itself is never
// kept, returned or put in an error.
func (d *core) manifestSecrets(o *op, creds, cur []application.PasswordCredential) ([]application.PasswordCredential, error) {
	if creds == nil {
		return nil, nil
	}
	out := make([]application.PasswordCredential, 0, len(creds))
	var errs []error
	for i, p := range creds {
		if p.SecretText == "" {
			out = append(out, p)
			continue
		}
		f := fmt.Sprintf("passwordCredentials[%d]", i)
		switch n := len(p.SecretText); {
		case n < application.MinSuppliedSecretLength:
			errs = append(errs, &tenant.FieldError{Field: f + ".secretText", Reason: fmt.Sprintf("shorter than %d characters", application.MinSuppliedSecretLength)})
			continue
		case n > application.MaxSuppliedSecretLength:
			errs = append(errs, &tenant.FieldError{Field: f + ".secretText", Reason: fmt.Sprintf("longer than %d characters", application.MaxSuppliedSecretLength)})
			continue
		case p.SecretHash != nil:
			errs = append(errs, &tenant.FieldError{Field: f + ".secretHash", Reason: "must not be given with secretText"})
			continue
		}
		if j := slices.IndexFunc(cur, func(c application.PasswordCredential) bool {
			return (p.KeyID == "" || c.KeyID == p.KeyID) && c.Matches(p.SecretText)
		}); j >= 0 {
			c := cur[j].Stored()
			if p.DisplayName != "" {
				c.DisplayName = p.DisplayName
			}
			if !p.StartDateTime.IsZero() {
				c.StartDateTime = p.StartDateTime.UTC()
			}
			if !p.EndDateTime.IsZero() {
				c.EndDateTime = p.EndDateTime.UTC()
			}
			out = append(out, c)
			continue
		}
		keyID, start, end := p.KeyID, p.StartDateTime, p.EndDateTime
		if keyID == "" {
			keyID = d.newID()
		}
		if start.IsZero() {
			start = o.now
		}
		if end.IsZero() {
			end = start.Add(DefaultSecretLifetime)
		}
		c, err := application.NewPasswordCredential(keyID, p.DisplayName, p.SecretText, start, end)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		c = c.Stored()
		c.CustomKeyIdentifier = slices.Clone(p.CustomKeyIdentifier)
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

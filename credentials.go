package tenantry

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
)

// DefaultSecretLifetime is how long a client secret is valid when its end
// is not given.
const DefaultSecretLifetime = 180 * 24 * time.Hour

// PasswordSpec describes a new client secret.
type PasswordSpec struct {
	// DisplayName names the secret (displayName): at most 256 characters.
	DisplayName string
	// Secret is a caller-supplied secret (16–64 characters), for dev seeds
	// and imports; empty means a generated 40-character secret.
	Secret string
	// Start defaults to now; End defaults to Start + DefaultSecretLifetime.
	Start, End time.Time
}

// AddPassword adds a client secret to the application and returns the
// credential with SecretText set: the only time the secret is visible. It
// is stored as a salted SHA-256 digest. Requires an owner or an
// application administrator.
func (d *Directory) AddPassword(ctx context.Context, actor Actor, applicationID string, spec PasswordSpec) (application.PasswordCredential, error) {
	start := spec.Start
	if start.IsZero() {
		start = d.clock()
	}
	end := spec.End
	if end.IsZero() {
		end = start.Add(DefaultSecretLifetime)
	}
	cred, err := application.NewPasswordCredential(d.newID(), spec.DisplayName, spec.Secret, start, end)
	if err != nil {
		return application.PasswordCredential{}, err
	}
	_, err = d.changeApp(ctx, actor, applicationID, "application.addPassword", func(o *op, a *application.Application) error {
		a.PasswordCredentials = append(a.PasswordCredentials, cred.Stored())
		return nil
	})
	if err != nil {
		return application.PasswordCredential{}, err
	}
	return cred, nil
}

// RemovePassword removes the client secret with keyID and returns the
// updated application (secrets redacted as in every read). Requires an
// owner or an application administrator.
func (d *Directory) RemovePassword(ctx context.Context, actor Actor, applicationID, keyID string) (application.Application, error) {
	return d.changeApp(ctx, actor, applicationID, "application.removePassword", func(o *op, a *application.Application) error {
		return removeFirst(&a.PasswordCredentials, func(p application.PasswordCredential) bool { return p.KeyID == keyID }, "password credential "+keyID)
	})
}

// KeySpec describes a key credential to add: a certificate whose public
// key authenticates the client (certificate assertions).
type KeySpec struct {
	// DisplayName names the credential (displayName); optional.
	DisplayName string
	// Certificate is the X.509 certificate; required.
	Certificate *x509.Certificate
}

// AddKey registers a key credential for client authentication
// (certificate assertions), as Graph's addKey does, and returns it.
// Requires an owner or an application administrator.
func (d *Directory) AddKey(ctx context.Context, actor Actor, applicationID string, spec KeySpec) (application.KeyCredential, error) {
	if spec.Certificate == nil {
		return application.KeyCredential{}, invalid("certificate is required")
	}
	kc := application.NewCertificateCredential(d.newID(), spec.DisplayName, spec.Certificate)
	_, err := d.changeApp(ctx, actor, applicationID, "application.addKey", func(o *op, a *application.Application) error {
		for _, k := range a.KeyCredentials {
			if slices.Equal(k.Key, kc.Key) {
				return fmt.Errorf("%w: certificate already registered", store.ErrAlreadyExists)
			}
		}
		a.KeyCredentials = append(a.KeyCredentials, kc)
		return nil
	})
	return kc, err
}

// RemoveKey removes the key credential with keyID and returns the updated
// application. Requires an owner or an application administrator.
func (d *Directory) RemoveKey(ctx context.Context, actor Actor, applicationID, keyID string) (application.Application, error) {
	return d.changeApp(ctx, actor, applicationID, "application.removeKey", func(o *op, a *application.Application) error {
		return removeFirst(&a.KeyCredentials, func(k application.KeyCredential) bool { return k.KeyID == keyID }, "key credential "+keyID)
	})
}

// AddFederatedCredential trusts an external issuer's tokens (workload
// identity federation). Audiences default to api://AzureADTokenExchange.
// Requires an owner or an application administrator.
func (d *Directory) AddFederatedCredential(ctx context.Context, actor Actor, applicationID string, fic application.FederatedIdentityCredential) (application.FederatedIdentityCredential, error) {
	fic.ID = d.newID()
	if len(fic.Audiences) == 0 {
		fic.Audiences = []string{application.TokenExchangeAudience}
	}
	_, err := d.changeApp(ctx, actor, applicationID, "application.addFederatedCredential", func(o *op, a *application.Application) error {
		a.FederatedIdentityCredentials = append(a.FederatedIdentityCredentials, fic)
		return nil
	})
	return fic, err
}

// RemoveFederatedCredential removes the federated credential with id and
// returns the updated application. Requires an owner or an application
// administrator.
func (d *Directory) RemoveFederatedCredential(ctx context.Context, actor Actor, applicationID, id string) (application.Application, error) {
	return d.changeApp(ctx, actor, applicationID, "application.removeFederatedCredential", func(o *op, a *application.Application) error {
		return removeFirst(&a.FederatedIdentityCredentials, func(f application.FederatedIdentityCredential) bool { return f.ID == id }, "federated credential "+id)
	})
}

// removeFirst deletes the first element of *s that matches, or reports
// ErrNotFound naming what.
func removeFirst[T any](s *[]T, match func(T) bool, what string) error {
	i := slices.IndexFunc(*s, match)
	if i < 0 {
		return fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	*s = slices.Delete(*s, i, i+1)
	return nil
}

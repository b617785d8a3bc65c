package tenantry

import (
	"errors"
	"fmt"
)

// ManifestError is the error of Plan and Apply about one object of a
// manifest. Path locates the object in the manifest's JSON
// ("tenants[0].applications[1]"), Name is its display name or natural key,
// and Err says why it was refused: usually a *tenant.FieldError naming the
// object's property ("passwordCredentials[0].secretText"), or several
// joined with errors.Join. Nothing of a refused manifest is applied.
type ManifestError struct {
	// Path is the object's place in the manifest, in JSON names.
	Path string
	// Name is the object's display name or natural key.
	Name string
	// Err is the reason.
	Err error
}

// Error implements error: `tenantry: manifest: {path} "{name}": {reason}`.
func (e *ManifestError) Error() string {
	return fmt.Sprintf("tenantry: manifest: %s %q: %v", e.Path, e.Name, e.Err)
}

// Unwrap returns the reason.
func (e *ManifestError) Unwrap() error { return e.Err }

// manifestErr wraps err about the object at path, unless it already
// locates an object.
func manifestErr(path, name string, err error) error {
	var me *ManifestError
	if errors.As(err, &me) {
		return err
	}
	return &ManifestError{Path: path, Name: name, Err: err}
}

// Package invalid holds the validation error of the domain model, which
// tenant and application both report (as tenant.FieldError and
// application.FieldError, aliases of one type) without either importing the
// other.
package invalid

import "errors"

// FieldError names the field of a directory object that failed validation.
type FieldError struct {
	Field  string // Graph property path, e.g. "web.redirectUris[2]"
	Reason string // what is wrong with it, e.g. "must use https"
}

// Error implements error: "invalid {field}: {reason}".
func (e *FieldError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// ErrInvalid is matched (errors.Is) by every validation error of the domain
// model.
var ErrInvalid = errors.New("invalid object")

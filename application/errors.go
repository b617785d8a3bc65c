package application

import "github.com/tenantry/tenantry/internal/invalid"

// FieldError names the property of an application that failed validation:
// Field is the Graph property path (e.g. "web.redirectUris[2]"), Reason
// what is wrong with it. It is the same type as tenant.FieldError, so
// errors.As with either matches the validation errors of every package of
// the domain model.
type FieldError = invalid.FieldError

// ErrInvalid is matched (errors.Is) by every FieldError; it is the same
// value as tenant.ErrInvalid.
var ErrInvalid = invalid.ErrInvalid

// Package application models the Entra ID application object: the global
// definition of an app in its home tenant (names, sign-in audience, redirect
// URIs, credentials, published scopes and app roles, API dependencies), with
// Microsoft Graph's JSON property names and Entra's validation rules.
//
// Validation failures are *FieldError values naming the Graph property;
// they match ErrInvalid with errors.Is. FieldError and ErrInvalid are
// tenant's too (one type, one value), so callers match the validation
// errors of every domain package alike, and this package imports no other
// domain package.
package application

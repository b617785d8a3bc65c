// Package application models the Entra ID application object: the global
// definition of an app in its home tenant (names, sign-in audience, redirect
// URIs, credentials, published scopes and app roles, API dependencies), with
// Microsoft Graph's JSON property names and Entra's validation rules.
//
// Validation failures are *tenant.FieldError values naming the Graph
// property; they match tenant.ErrInvalid with errors.Is.
package application

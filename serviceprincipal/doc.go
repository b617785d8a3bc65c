// Package serviceprincipal models the per-tenant instance of an
// application: the service principal (enterprise application), with its
// copies of the app's roles and scopes and its tenant-local settings, and
// app role assignments to users, groups and client service principals.
//
// The rules here are pure: which roles a principal holds on a resource,
// whether a principal is assigned where assignment is required.
package serviceprincipal

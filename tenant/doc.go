// Package tenant models Entra ID tenants: the organization, its users,
// groups, directory role assignments and the tenant-wide settings
// (authorizationPolicy) that decide who may register applications and who
// may consent to them.
//
// Everything here is data and pure rules; persistence lives in package store
// and the operations that span objects live in the root package.
package tenant

// Package consent models delegated permission grants
// (oauth2PermissionGrant) and decides, as pure functions, what a consent
// request may grant: what a user may consent to under the tenant's policy,
// what needs an administrator, and what an admin consent creates
// (tenant-wide delegated grants and app role assignments for application
// permissions).
package consent

// Package tenantry models Microsoft Entra ID's application identity system
// as an embeddable Go library: tenants and their users, groups and
// settings; application objects and their per-tenant service principals;
// consent (delegated grants and app role assignments); and a token service
// that issues and validates Entra-shaped OAuth 2.0 / OpenID Connect tokens.
//
// # Shape
//
// The domain packages hold the objects and every rule about them as pure
// functions: [github.com/tenantry/tenantry/tenant],
// [github.com/tenantry/tenantry/application],
// [github.com/tenantry/tenantry/serviceprincipal] and
// [github.com/tenantry/tenantry/consent]. Package
// [github.com/tenantry/tenantry/store] defines persistence (transactions,
// typed errors, the audit log) with an in-memory backend in store/memory
// and a conformance suite in store/storetest. Package
// [github.com/tenantry/tenantry/token] knows keys, JWKS, claims, minting
// and validation for resource servers.
//
// This package is the shell, in two parts sharing one store, clock and set
// of keys: a [Directory] manages the directory (tenants, users, groups,
// applications, service principals, consent, assignments), and its
// [Issuer] ([Directory.Issuer]) is the token service. Every mutating
// operation loads what it needs, decides with the pure rules, and writes in
// one transaction together with exactly one audit event (applying a
// manifest, which changes many objects at once, writes one per object).
//
// # Actors
//
// Operations take an [Actor]: [System] for the operator, or [UserActor]
// for a user acting in its own tenant with its directory roles. The zero
// Actor is no one: every operation refuses it. Permission failures match
// [ErrForbidden].
//
// # Reads
//
// Reads take the actor too and answer only what it may see, by one rule
// ([github.com/tenantry/tenantry/tenant.Reader]): a user sees objects of
// her own tenant as far as her user type, the tenant's guest role and her
// directory roles allow; anything else answers as a missing object would
// (store.ErrNotFound). Listings ([Directory.Users], [Directory.Audit], …)
// return a [Page] and resume from its opaque cursor ([PageRequest]).
//
// # Tokens
//
// [Issuer.Token] runs the OAuth grants (client credentials with a
// secret, a certificate or a federated credential; authorization code
// with PKCE; refresh; on-behalf-of; device code); [Issuer.Authorize]
// issues codes for signed-in users. Failures are [*TokenError] values
// carrying the OAuth error, the AADSTS code and a description; sentinels
// such as [ErrInvalidClientSecret] and [ErrConsentRequired] match them by
// code with errors.Is.
package tenantry

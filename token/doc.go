// Package token validates and issues Entra ID (Azure AD) shaped tokens:
// v1 and v2 access tokens, ID tokens, their signing keys and JSON Web Key
// Sets, and client assertions.
//
// # For a resource server
//
// An API protected by Entra, or by a tenantry Directory, needs three
// things from this package:
//
//  1. A [KeySource] for the issuer's signing keys: [NewRemoteKeySet] on
//     Entra's https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys
//     (cached, refreshed on an unknown kid and every 24 hours), or
//     [ParseJWKS] on a pinned copy of that document. Both keep each key's
//     "issuer" member, so a key published for one tenant never verifies
//     another tenant's tokens. The v2 key set verifies v1 tokens too.
//  2. A [Validator] built with [NewValidator] from a [ValidatorConfig]:
//     the accepted issuers (exact, or the {tenantid} templates Entra's
//     common endpoint publishes, see [TenantIDPlaceholder]), the tenants
//     served ([ValidatorConfig.AllowedTenants], by tenant id: empty means
//     every tenant in the world), and the API's audiences (its appId and
//     App ID URIs). A tenant named by domain is a configuration error.
//     [Validator.Validate] checks a bearer token and returns its [Principal].
//  3. Authorization on the [Principal]: [Principal.HasScope] for delegated
//     tokens (a user through a client), [Principal.HasRole] for app roles,
//     [Principal.IsApp] for app-only tokens, keyed on TenantID and ObjectID
//     (never on the mutable Username). For net/http, [Validator.Middleware]
//     or [Validator.Authenticate] put the principal in the request context
//     ([FromContext]) and [RequireScope], [RequireRole], [RequireAnyRole]
//     and [RequireScopeOrRole] answer 401/403 with RFC 6750 challenges.
//
// Errors of [Validator.Validate] wrap one sentinel each ([ErrExpired],
// [ErrAudience], [ErrIssuer], [ErrTenant], ...; see [ErrMalformed]) and never
// contain the token. An [ErrIssuer] refusal lists the accepted issuers and
// says when the token is of the other version (v1 tokens come from an API
// without requestedAccessTokenVersion 2).
//
// # For an issuer
//
// The rest of the package is what a token service needs: signing keys and
// their lifecycle ([GenerateKey], [Rotate], [Withdraw], [SealKey] and
// [OpenKey] for storage), a [Keyring] that signs ([Keyring.Sign]), resolves
// key ids and renders the JWKS ([Keyring.JWKS]); claim sets shaped by
// Entra's rules ([BuildAccess], [BuildIDToken], [PairwiseSubject],
// [NewTokenID], [NewOpaqueClaims]); client authentication with JWT
// assertions ([ParseClientAssertion], [MatchCertificate]) and federated
// tokens ([VerifyExternalToken]); and PKCE ([S256Challenge]). The root
// package tenantry uses them to run the OAuth flows.
package token

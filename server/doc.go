// Package server exposes a [tenantry.Issuer] over HTTP with Microsoft Entra
// ID's URL layout and JSON shapes, so that unmodified clients — MSAL,
// azidentity, golang.org/x/oauth2, go-oidc — work against it.
//
// Every endpoint lives under the authority's tenant segment, the first
// path segment at the host root: a tenant id, one of its verified domains,
// "common", "organizations" or "consumers", matched in any letter case.
//
//	/{tenant}/v2.0/.well-known/openid-configuration   OpenID Connect discovery (v2)
//	/{tenant}/.well-known/openid-configuration        discovery (v1)
//	/{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys
//	/{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/token
//	/{tenant}/oauth2/v2.0/devicecode, /{tenant}/oauth2/devicecode
//	/common/discovery/instance                        MSAL instance discovery
//
// Issuers and endpoint URLs derive from the Issuer's configured authority
// ([tenantry.Issuer.Authority]), never from a request's Host or forwarding
// headers. Refusals are answered as Entra answers them: a 4xx status (401
// for invalid_client, 400 for every other caller error; never 2xx or 5xx)
// and a JSON body with error, error_description (with the AADSTS code,
// trace and correlation ids and timestamp), error_codes, timestamp,
// trace_id, correlation_id and error_uri.
//
// Handlers translate HTTP to the Issuer's calls and back and hold no
// domain rule: what a token contains and who may have one is decided by the
// Issuer.
package server

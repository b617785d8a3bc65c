// Package tenantrytest is a fake Microsoft Entra ID for tests: a TLS
// httptest server ([NewServer]) serving package server's endpoints
// (discovery, keys, instance discovery, token, device code, authorize with
// its sign-in and consent pages, admin consent, logout) over a
// [tenantry.Directory] that obeys Entra's rules, with one-line seeding,
// token helpers, a manual clock, key rotation, a record of every request
// and per-endpoint fault injection.
//
// The fake is strict like production: tokens are signed with RS256 keys
// published at the JWKS endpoint, and a wrong secret, an unknown client,
// an app without a service principal or consent in the tenant, or a
// single-tenant app used from another tenant are refused with Entra's
// OAuth errors and AADSTS codes (7000215, 700016, 7000229, …), as
// [tenantry.TokenError] values in process and Entra's error JSON over
// HTTP.
//
//	srv := tenantrytest.NewServer(t)
//	contoso := srv.CreateTenant("Contoso")
//	api := srv.CreateAPI(contoso, "Orders", tenantrytest.Roles("Orders.Read.All"), tenantrytest.Scopes("Orders.Read"))
//	daemon := srv.CreateApp(contoso, "Daemon")
//	srv.Grant(daemon, api, "Orders.Read.All")   // requiredResourceAccess + admin consent
//	raw := srv.AppToken(t, contoso, daemon, api) // client credentials, through the real Issuer
//
// Clients under test reach the Server at [Server.Authority] with
// [Server.Client], which trusts its certificate. With [AsEntra] the
// Server poses as Entra's public cloud: issuers and endpoints name
// https://login.microsoftonline.com and https://sts.windows.net, and the
// client dials the test server for those hosts, so code with Entra's URLs
// hard-coded runs unmodified once it is given the client.
//
// Time and keys are the test's: the Directory's clock is manual
// ([Server.Advance], [Server.Now]) and [Server.RotateKeys] and
// [Server.WithdrawKey] drive the signing keys. [Server.Requests] lists
// what clients asked and what they were answered; [Server.Fail] and
// [Server.FailNext] make an endpoint answer 5xx, stall, reset the
// connection or publish a broken key set, to test retries.
//
// Authorization requests sign in, without a page, a user queued with
// [Server.QueueSignIn] or the one their login_hint names (unless
// [WithoutLoginHintSignIn]); missing consent is then recorded where the
// tenant's policy lets the user give it. Without either, the sign-in and
// consent pages answer, as for a browser.
package tenantrytest

// Package server exposes a [tenantry.Issuer] over HTTP with Microsoft Entra
// ID's URL layout and JSON shapes, so that unmodified clients — MSAL,
// azidentity, golang.org/x/oauth2, go-oidc — work against it, and serves
// the interactive pages a browser needs: sign-in, consent, admin consent,
// device code verification and sign-out.
//
// Every endpoint but four lives under the authority's tenant segment, the
// first path segment at the host root: a tenant id, one of its verified
// domains, "common", "organizations" or "consumers", matched in any letter
// case.
//
//	/{tenant}/v2.0/.well-known/openid-configuration   OpenID Connect discovery (v2)
//	/{tenant}/.well-known/openid-configuration        discovery (v1)
//	/{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys
//	/{tenant}/oauth2/v2.0/token, /{tenant}/oauth2/token
//	/{tenant}/oauth2/v2.0/devicecode, /{tenant}/oauth2/devicecode
//	/{tenant}/oauth2/v2.0/authorize, /{tenant}/oauth2/authorize   code flow with PKCE (GET or POST)
//	/{tenant}/v2.0/adminconsent, /{tenant}/adminconsent           admin consent
//	/{tenant}/oauth2/v2.0/logout, /{tenant}/oauth2/logout         sign-out (GET or POST)
//	/common/discovery/instance                        MSAL instance discovery
//	/devicelogin                                      device code verification page
//	/error?code=N                                     what AADSTS code N means
//	/static/tenantry.css                              the pages' style sheet
//
// Issuers and endpoint URLs derive from the Issuer's configured authority
// ([tenantry.Issuer.Authority]), never from a request's Host or forwarding
// headers. Refusals are answered as Entra answers them: a 4xx status (401
// for invalid_client, 400 for every other caller error; never 2xx or 5xx)
// and a JSON body with error, error_description (with the AADSTS code,
// trace and correlation ids and timestamp), error_codes, timestamp,
// trace_id, correlation_id and error_uri (the /error page).
//
// # Authorization
//
// The authorize endpoint takes response_type=code with PKCE, response_mode
// query (the default), fragment or form_post (an auto-submitting form: a
// script allowed by a CSP nonce, and a Continue button inside <noscript>),
// prompt login, consent, none or select_account, login_hint (prefills the
// user name), domain_hint (accepted), state (echoed byte for byte) and
// nonce; other parameters (claims, clidata, client_info, x-client-*,
// client-request-id) are ignored. Until [tenantry.Issuer.ConsentPrompt]
// has validated the client, the redirect URI and the tenant segment
// (AADSTS700016, 50011, 500113, 90002, 900023), refusals are shown on an
// HTML error page (400) and nothing is sent to the redirect URI; after
// that they are sent there (error, error_description, state) in the
// request's response mode. prompt=none without a session is refused with
// login_required (AADSTS50058).
//
// The sign-in page checks a user name and password with
// [tenantry.Issuer.SignIn] (a wrong password and an unknown account get
// the same page; a lockout, AADSTS50053, and a disabled account get their
// own message). When consent is missing the consent page lists the
// permissions with their consent texts and the app's publisher (verified
// or "unverified"); an administrator also sees "Consent on behalf of your
// organization" (AuthorizeRequest.ConsentFor), and a user the tenant's
// policy does not let consent sees "Need admin approval" with a way back
// to the app. Cancel and the way back record nothing and answer
// access_denied (AADSTS65004; AuthorizeRequest.ConsentFor =
// ConsentDeclined, refused in the same transaction as the check). The forms and buttons have stable ids:
// #username, #password, #signin (sign-in), #accept, #cancel, #org-consent
// (consent), #back (admin approval), #usercode, #next (device code entry),
// #continue, #cancel (device confirmation), #continue (form_post without
// JavaScript).
//
// The admin consent endpoints (client_id, redirect_uri, state, and scope
// at v2) have an administrator sign in and grant the client's delegated
// and application permissions on behalf of her organization with
// [tenantry.Issuer.AdminConsent]; success redirects with
// admin_consent=True, tenant and state (and scope at v2). The logout
// endpoints end the session and follow post_logout_redirect_uri only when
// it is a registered redirect URI of the client named by client_id or by
// id_token_hint's aud; otherwise they show a signed-out page. /devicelogin
// takes the user code, signs the user in if needed, asks "Are you trying
// to sign in to …?" and approves ([tenantry.Issuer.ApproveDeviceCode]) or
// declines ([tenantry.Issuer.DenyDeviceCode]) the device's sign-in.
//
// # Pages, sessions and forms
//
// Pages are html/template templates embedded in the binary with one style
// sheet; they load nothing from elsewhere, work without JavaScript, and
// are labelled for screen readers and keyboards (a lang attribute,
// headings, labels for every input, visible focus, errors in an aria-live
// region, autocomplete="username" and "current-password"). Every page is
// sent with Content-Security-Policy "default-src 'none'; style-src 'self';
// img-src 'self'; form-action 'self' [the validated redirect URI's
// origin]; frame-ancestors 'none'; base-uri 'none'" (plus script-src with
// a nonce on the form_post page), X-Frame-Options: DENY, Referrer-Policy:
// no-referrer and Cache-Control: no-store.
//
// A sign-in is kept in a session cookie, signed with HMAC-SHA-256 under
// Config.SessionKey, naming one user and her tenant for
// Config.SessionLifetime (8 hours by default): HttpOnly, Secure (unless
// Config.InsecureHTTP), SameSite=Lax, Path=/. A request for a tenant the
// user does not belong to asks for a sign-in again, and so does a session
// that no longer stands ([tenantry.Issuer.CheckSession]: the account was
// disabled, or its sign-in sessions revoked, since she signed in). Logout
// clears the cookie; the session holds no server-side state. Every form carries an
// anti-forgery token bound to a random cookie of the browser and to the
// signed-in user, checked in constant time; a post without a valid one
// is refused with a 403 page before anything else happens.
//
// Config.AutoSignIn is a test and development switch that signs requests
// in without any page; it must never be set on a server others can reach.
//
// Handlers translate HTTP to the Issuer's calls and back and hold no
// domain rule: what a token contains, who may consent and who may have a
// token is decided by the Issuer.
package server

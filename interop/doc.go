// Package interop holds the tests that point unmodified real clients —
// MSAL Go, azidentity, golang.org/x/oauth2, go-oidc and a headless
// Chromium — at tenantry's HTTP server. It is a module of its own so that
// the library's go.mod stays free of those clients.
package interop

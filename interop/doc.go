// Package interop holds the tests that point unmodified real clients —
// MSAL Go, azidentity, golang.org/x/oauth2, go-oidc and a headless
// Chromium — at tenantry's HTTP server. It is a module of its own so that
// the library's go.mod stays free of those clients.
//
// The browser tests look for Chromium at /usr/bin/chromium or on the PATH
// (TENANTRY_CHROMIUM names another binary) and are skipped without it.
// With TENANTRY_SCREENSHOTS=1 they also write a picture of each page to
// the repository's docs/screenshots.
package interop

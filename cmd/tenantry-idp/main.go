// Command tenantry-idp is a development identity provider: it serves
// Microsoft Entra ID's endpoints for a directory seeded from a manifest
// file, over HTTPS with a generated certificate that clients are told to
// trust.
//
//	go run ./cmd/tenantry-idp -addr 127.0.0.1:8443 -seed seed.json
//
// It is meant for a developer's machine and for tests: see the README's
// "Development identity provider" section for its flags and the seed
// format.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

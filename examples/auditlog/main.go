// Command auditlog shows the audit log: every change to the directory
// appends exactly one event in the same transaction, naming who did what to
// which object. A created object is recorded whole, a changed one by its
// modified properties (old and new values, as Entra's modifiedProperties);
// a secret never appears, and a refused operation (a user without the
// right, or the zero Actor, which is never the system) changes nothing and
// leaves no event.
//
//	go run ./examples/auditlog
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/tenant"
)

func main() {
	if err := run(context.Background(), os.Stdout, tenantry.Config{}); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, cfg tenantry.Config) error {
	dir, err := tenantry.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer dir.Close()
	sys := tenantry.System()

	contoso, err := dir.CreateTenant(ctx, sys, tenantry.TenantSpec{DisplayName: "Contoso", Domains: []string{"contoso.com"}})
	if err != nil {
		return err
	}
	dana, err := dir.CreateUser(ctx, sys, contoso.ID, tenantry.UserSpec{UserPrincipalName: "dana@contoso.com", DisplayName: "Dana"})
	if err != nil {
		return err
	}
	eve, err := dir.CreateUser(ctx, sys, contoso.ID, tenantry.UserSpec{UserPrincipalName: "eve@contoso.com", DisplayName: "Eve"})
	if err != nil {
		return err
	}
	// Dana registers an app (and owns it), renames it and adds a secret.
	app, err := dir.CreateApplication(ctx, tenantry.UserActor(dana.ID), contoso.ID, application.Application{DisplayName: "Orders"})
	if err != nil {
		return err
	}
	rename := func(a *application.Application) error { a.DisplayName = "Contoso Orders"; return nil }
	if _, err := dir.UpdateApplication(ctx, tenantry.UserActor(dana.ID), app.ID, rename); err != nil {
		return err
	}
	secret, err := dir.AddPassword(ctx, tenantry.UserActor(dana.ID), app.ID, tenantry.PasswordSpec{DisplayName: "ci"})
	if err != nil {
		return err
	}

	// Refused: Eve does not own the app; the zero Actor is nobody.
	_, err = dir.UpdateApplication(ctx, tenantry.UserActor(eve.ID), app.ID, rename)
	fmt.Fprintf(w, "Eve renames Dana's app: forbidden=%t\n", errors.Is(err, tenantry.ErrForbidden))
	_, err = dir.AddPassword(ctx, tenantry.Actor{}, app.ID, tenantry.PasswordSpec{})
	fmt.Fprintf(w, "the zero Actor adds a secret: forbidden=%t\n", errors.Is(err, tenantry.ErrForbidden))

	// The operator reads the whole log (a Global Administrator of Contoso
	// would read Contoso's part: Audit is scoped like every read).
	page, err := dir.Audit(ctx, tenantry.System(), "", tenantry.AuditQuery{Page: tenantry.PageRequest{Size: tenantry.MaxPageSize}})
	if err != nil {
		return err
	}
	events := page.Items
	// New wrote the first events: the consumers tenant, which every
	// directory has (personal Microsoft accounts sign in there), and the
	// first signing key.
	names := strings.NewReplacer("user:"+dana.ID, "Dana", "user:"+eve.ID, "Eve")
	fmt.Fprintf(w, "audit log (%d events):\n", len(events))
	leaked := false
	for _, e := range events {
		fmt.Fprintf(w, "  #%d %-24s by %-6s in %-9s on %s\n", e.Seq, e.Action, names.Replace(e.Actor), tenantName(e.TenantID, contoso.ID), e.TargetKind)
		if e.Action == "application.update" {
			fmt.Fprintf(w, "      before %s\n      after  %s\n", e.Before, e.After)
		}
		leaked = leaked || strings.Contains(string(e.Before)+string(e.After), secret.SecretText)
	}
	fmt.Fprintf(w, "the secret appears in the log: %t\n", leaked)
	return nil
}

func tenantName(id, contosoID string) string {
	switch id {
	case "":
		return "-"
	case tenant.ConsumersID:
		return "consumers"
	case contosoID:
		return "Contoso"
	}
	return id
}

package tenantry

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
)

// goList runs go list with args in the module and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// go-cmp is a test library (its authors say it may panic and its Diff
// output is unstable): no package links it but the conformance suite
// store/storetest, a testing package that only tests import.
func TestNoTestLibraryInProduction(t *testing.T) {
	testOnly := map[string]bool{
		"github.com/tenantry/tenantry/store/storetest": true,
	}
	for _, pkg := range goList(t, "github.com/tenantry/tenantry/...") {
		if testOnly[pkg] {
			continue
		}
		for _, dep := range goList(t, "-deps", pkg) {
			if strings.HasPrefix(dep, "github.com/google/go-cmp/") || testOnly[dep] {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}

// Modified properties are named as in Graph, compare times as instants
// and carry no secret.
func TestModifiedProperties(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	before := application.Application{ID: "a", DisplayName: "Old", CreatedDateTime: at,
		PasswordCredentials: []application.PasswordCredential{{KeyID: "k", Hint: "abc", SecretHash: &application.SecretHash{Salt: []byte("salt"), Digest: []byte("digest")}}}}
	after := before.Clone()
	after.DisplayName = "New"
	after.CreatedDateTime = at.In(time.FixedZone("UTC+3", 3*3600))
	after.PasswordCredentials[0].DisplayName = "renamed"
	mods, ok := modifiedProperties(before, after)
	if !ok {
		t.Fatal("no modified properties for two applications")
	}
	var names []string
	for _, m := range mods {
		names = append(names, m.Name)
		if strings.Contains(string(m.OldValue)+string(m.NewValue), "ZGlnZXN0") { // base64 of "digest"
			t.Errorf("%s carries the secret's digest: %s → %s", m.Name, m.OldValue, m.NewValue)
		}
	}
	if got := strings.Join(names, ","); got != "displayName,passwordCredentials" {
		t.Errorf("modified properties = %s, want displayName,passwordCredentials", got)
	}
	if string(mods[0].OldValue) != `"Old"` || string(mods[0].NewValue) != `"New"` {
		t.Errorf("displayName: %s → %s", mods[0].OldValue, mods[0].NewValue)
	}
	e := auditEvent(at, System(), "t", "application.update", store.Applications, "a", before, after)
	var b, a map[string]json.RawMessage
	if err := json.Unmarshal(e.Before, &b); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(e.After, &a); err != nil {
		t.Fatal(err)
	}
	if len(a) != 2 || string(a["displayName"]) != `"New"` || string(b["displayName"]) != `"Old"` {
		t.Errorf("audit event before %s after %s", e.Before, e.After)
	}
	if _, ok := modifiedProperties([]string{"a"}, []string{"b"}); ok {
		t.Error("modified properties of two slices")
	}
}

// Only the Directory hashes passwords: the domain packages, the store
// contract and the token package link no argon2.
func TestPasswordHashingOnlyInTheShell(t *testing.T) {
	for _, pkg := range []string{"tenant", "application", "serviceprincipal", "consent", "store", "store/memory", "token"} {
		for _, dep := range goList(t, "-deps", "github.com/tenantry/tenantry/"+pkg) {
			if strings.HasPrefix(dep, "golang.org/x/crypto/") {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}

// The domain packages are siblings: application imports no other domain
// package (its FieldError is tenant's through a shared internal type).
func TestApplicationImportsNoDomainPackage(t *testing.T) {
	for _, dep := range goList(t, "-deps", "github.com/tenantry/tenantry/application") {
		switch strings.TrimPrefix(dep, "github.com/tenantry/tenantry/") {
		case "tenant", "serviceprincipal", "consent", "store", "token":
			t.Errorf("application links %s", dep)
		}
	}
}

// Programs that do not use PostgreSQL do not link pgx: the root package
// and every package but the PostgreSQL store and the URL opener (and
// what imports them on purpose: the development IdP, tenantrytest)
// stay free of it.
func TestRootDoesNotLinkPgx(t *testing.T) {
	for _, pkg := range []string{"github.com/tenantry/tenantry", "github.com/tenantry/tenantry/server", "github.com/tenantry/tenantry/token", "github.com/tenantry/tenantry/store/memory"} {
		for _, dep := range goList(t, "-deps", pkg) {
			if strings.HasPrefix(dep, "github.com/jackc/") {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}

package postgres_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/token"
)

// namedStore opens a store whose connections carry application_name
// name, so that a test can find them in pg_stat_activity.
func namedStore(t *testing.T, name, schema string) *postgres.Store {
	return open(t, postgres.Config{URL: withParam(serverURL(t), "application_name="+name), Schema: schema})
}

// terminate ends, from a connection of its own, the server backends of
// the connections named name whose state matches state ("" for any), and
// returns how many it ended. The server itself keeps running.
func terminate(t *testing.T, name, state string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND ($2 = '' OR state = $2) AND pid <> pg_backend_pid()`, name, state).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestKilledMidTransaction: the backend of an Update whose function has
// written and is waiting is terminated from another connection; the
// caller gets an error, nothing of the transaction is visible, and the
// store goes on working.
func TestKilledMidTransaction(t *testing.T) {
	name := fmt.Sprintf("tenantry_kill_%d", schemas.Add(1))
	s := namedStore(t, name, "")
	c := storeCode("held")
	written, release := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	runs := 0
	go func() {
		errc <- s.Update(context.Background(), func(tx store.Tx) error {
			runs++
			if err := store.Codes.Create(tx, c); err != nil {
				return err
			}
			if err := tx.AppendAudit(store.AuditEvent{Time: time.Now(), Actor: "test", Action: "code.create", TargetKind: "code", TargetID: c.ID}); err != nil {
				return err
			}
			if runs == 1 {
				close(written)
				<-release
			}
			return store.Codes.Put(tx, storeCode("second"))
		})
	}()
	<-written
	if n := terminate(t, name, "idle in transaction"); n != 1 {
		t.Fatalf("terminated %d backends idle in a transaction, want the Update's one", n)
	}
	close(release)
	err := <-errc
	if err == nil {
		t.Fatal("Update whose connection was terminated returned nil, want an error")
	}
	t.Logf("Update returned: %v", err)
	if runs != 1 {
		t.Errorf("the update function ran %d times, want once: a lost connection is not retried", runs)
	}
	err = s.View(context.Background(), func(tx store.ReadTx) error {
		for _, id := range []string{c.ID, storeCode("second").ID} {
			if _, err := store.Codes.Get(tx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get %s after the terminated Update returned %v, want ErrNotFound", id, err)
			}
		}
		events, err := tx.Audit(0, 0)
		if len(events) != 0 {
			t.Errorf("audit log holds %d events after the terminated Update, want none", len(events))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return store.Codes.Create(tx, c) }); err != nil {
		t.Fatalf("Update after the terminated one: %v", err)
	}
}

func storeCode(name string) store.Code {
	return store.Code{ID: "code-" + name, Kind: "device_code", TenantID: "t", ExpiresAt: time.Unix(1e9, 0).UTC(), Data: []byte(`{}`)}
}

// TestPoolRecovers: every backend of the pool's connections is
// terminated (pg_terminate_backend; the server keeps running, others use
// it); the very next View, Update, AppendSignIn and SignIns succeed on
// new connections.
func TestPoolRecovers(t *testing.T) {
	name := fmt.Sprintf("tenantry_recover_%d", schemas.Add(1))
	s := namedStore(t, name, "")
	ctx := context.Background()
	for i := range 3 {
		if err := s.Update(ctx, func(tx store.Tx) error { return store.Codes.Put(tx, storeCode(fmt.Sprint(i))) }); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 2 {
		if n := terminate(t, name, ""); n == 0 {
			t.Fatal("no backend to terminate")
		}
		if err := s.View(ctx, func(tx store.ReadTx) error {
			_, err := store.Codes.Get(tx, storeCode("0").ID)
			return err
		}); err != nil {
			t.Fatalf("round %d: View after the backends were terminated: %v", round, err)
		}
		terminate(t, name, "")
		if err := s.Update(ctx, func(tx store.Tx) error { return store.Codes.Put(tx, storeCode("after")) }); err != nil {
			t.Fatalf("round %d: Update after the backends were terminated: %v", round, err)
		}
		terminate(t, name, "")
		if err := s.AppendSignIn(ctx, store.SignInEvent{Time: time.Now(), Outcome: store.SignInSuccess, RequestID: fmt.Sprint(round)}); err != nil {
			t.Fatal(err)
		}
		events, _, err := s.SignIns(ctx, store.SignInFilter{}, store.LogPage{})
		if err != nil {
			t.Fatalf("round %d: SignIns after the backends were terminated: %v", round, err)
		}
		if len(events) != round+1 {
			t.Fatalf("round %d: the sign-in log holds %d events, want %d", round, len(events), round+1)
		}
	}
}

// TestCancelledMidUpdate: the context of an Update is cancelled while its
// function runs, after a write; nothing is written, the error matches
// context.Canceled, and the store goes on working.
func TestCancelledMidUpdate(t *testing.T) {
	s := open(t, postgres.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := store.Codes.Create(tx, storeCode("a")); err != nil {
			return err
		}
		cancel()
		_ = store.Codes.Create(tx, storeCode("b")) // fails: the context is done
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update cancelled mid-function returned %v, want context.Canceled", err)
	}
	err = s.View(context.Background(), func(tx store.ReadTx) error {
		all, err := store.Codes.All(tx, "", "")
		if len(all) != 0 {
			t.Errorf("%d codes stored by a cancelled Update, want none", len(all))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error { return store.Codes.Create(tx, storeCode("a")) }); err != nil {
		t.Fatalf("Update after a cancelled one: %v", err)
	}
}

// TestTwoDirectories: two Directories on one database (same
// key-encryption key), as two processes: a token the one issues validates
// with the other (they share the signing keys); a revocation through one
// stops the very next token request through the other; a rotation
// through one is what the other signs with once it reloads its keys.
func TestTwoDirectories(t *testing.T) {
	schema := freshSchema(t)
	s1 := open(t, postgres.Config{Schema: schema})
	e := newTokenEnv(t, s1, token.ES256)
	s2 := open(t, postgres.Config{Schema: schema})
	d2, err := tenantry.New(context.Background(), tenantry.Config{Store: s2,
		Tokens: tenantry.TokenConfig{Algorithm: token.ES256, KeyEncryptionKey: kek, KeyRefreshInterval: time.Nanosecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := e.request(false, false)
	tok := must[*tenantry.TokenResponse](t)(d2.Issuer().Token(ctx, req))
	if _, err := e.d.Issuer().ValidateAccessToken(ctx, tok.AccessToken, e.api.AppID); err != nil {
		t.Fatalf("a token of the second Directory does not validate with the first: %v", err)
	}
	before := kid(t, tok.AccessToken)
	if k := kid(t, must[*tenantry.TokenResponse](t)(e.d.Issuer().Token(ctx, req)).AccessToken); k != before {
		t.Fatalf("the Directories sign with keys %s and %s, want one shared key", k, before)
	}

	if err := e.d.Issuer().ForceRotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	after := kid(t, must[*tenantry.TokenResponse](t)(d2.Issuer().Token(ctx, req)).AccessToken)
	if after == before {
		t.Fatalf("after a rotation through the first Directory, the second still signs with %s", before)
	}
	if k := kid(t, must[*tenantry.TokenResponse](t)(e.d.Issuer().Token(ctx, req)).AccessToken); k != after {
		t.Fatalf("after the rotation the Directories sign with %s and %s, want the new key for both", k, after)
	}

	sp := must[serviceprincipal.ServicePrincipal](t)(d2.ServicePrincipalByAppID(ctx, tenantry.System(), e.tenantID, e.client.AppID))
	if _, err := d2.DisableServicePrincipal(ctx, tenantry.System(), sp.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.d.Issuer().Token(ctx, req)
	var te *tenantry.TokenError
	if !errors.As(err, &te) || te.Code != 7000112 {
		t.Fatalf("token request through the first Directory after the second disabled the client returned %v, want AADSTS7000112", err)
	}
}

// kid returns the key id in a JWT's header.
func kid(t *testing.T, jwt string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}

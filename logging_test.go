package tenantry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/token"
)

// recorder is a slog.Handler that keeps every record.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec.Clone())
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// find returns the attributes of the records with message msg.
func (r *recorder) find(msg string) []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, rec := range r.recs {
		if rec.Message != msg {
			continue
		}
		m := map[string]string{"level": rec.Level.String()}
		rec.Attrs(func(a slog.Attr) bool {
			m[a.Key] = fmt.Sprint(a.Value.Any())
			return true
		})
		out = append(out, m)
	}
	return out
}

// text is every message and attribute logged, for secret checks.
func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.recs {
		b.WriteString(rec.Message)
		rec.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
			return true
		})
		b.WriteByte('\n')
	}
	return b.String()
}

func TestLoggerKeys(t *testing.T) {
	ctx := context.Background()
	clock := NewManualClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	st := memory.New()
	logA, logB := &recorder{}, &recorder{}
	cfg := TokenConfig{Algorithm: jose.ES256, KeyEncryptionKey: testKEK()}
	a, err := New(ctx, Config{Store: st, Now: clock.Now, NewID: SequentialIDs(t.Name()), Logger: slog.New(logA), Tokens: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := New(ctx, Config{Store: st, Now: clock.Now, NewID: SequentialIDs(t.Name() + "b"), Logger: slog.New(logB), Tokens: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Issuer().JWKS(ctx, "common", token.Version2); err != nil { // b loads a's key set
		t.Fatal(err)
	}
	if err := a.Issuer().ForceRotateKeys(ctx); err != nil {
		t.Fatal(err)
	}
	rot := logA.find("tenantry: signing keys changed")
	if len(rot) == 0 || rot[len(rot)-1]["action"] != "signingKeys.rotate" || rot[len(rot)-1]["level"] != "INFO" {
		t.Fatalf("rotation records = %v", rot)
	}
	ring, err := a.Issuer().tokens.keyring(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kid := ring.Keys()[0].ID
	if err := a.Issuer().WithdrawKey(ctx, kid); err != nil {
		t.Fatal(err)
	}
	rot = logA.find("tenantry: signing keys changed")
	if last := rot[len(rot)-1]; last["action"] != "signingKeys.withdraw" || last["kid"] != kid || last["level"] != "WARN" {
		t.Errorf("withdrawal record = %v", last)
	}
	// b notices the new set at its next reload, and logs it once.
	if n := len(logB.find("tenantry: signing keys reloaded")); n != 0 {
		t.Fatalf("%d reload records before any change was read", n)
	}
	clock.Advance(2 * time.Minute)
	for range 2 {
		if _, err := b.Issuer().JWKS(ctx, "common", token.Version2); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Minute)
	}
	reloads := logB.find("tenantry: signing keys reloaded")
	if len(reloads) != 1 || strings.Contains(reloads[0]["keys"], kid) {
		t.Errorf("reload records = %v, want one without the withdrawn key %s", reloads, kid)
	}
	for _, l := range []*recorder{logA, logB} {
		if s := l.text(); strings.Contains(s, "PRIVATE") || strings.Contains(s, "pkcs8") {
			t.Errorf("key material logged:\n%s", s)
		}
	}
}

func TestLoggerFederatedKeysAndLockout(t *testing.T) {
	ctx := context.Background()
	log := &recorder{}
	e := newFT(t, func(c *TokenConfig) {
		c.FederatedKeys = func(context.Context, string) (token.KeySource, error) {
			return nil, errors.New("discovery: HTTP 503")
		}
	})
	e.d.log = slog.New(log)
	ftOK(e.d.AddFederatedCredential(ctx, System(), e.apps[ftDaemonApp].ID, application.FederatedIdentityCredential{Name: "github-main", Issuer: ftFedIssuer, Subject: ftFedSubject}))(t)
	a := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
	_, err := e.assertionCC(e.conID, ftDaemonApp, a, ftURI(ftOrdersApp)+"/.default")
	ftWantErr(t, err, 70021, OAuthInvalidClient)
	recs := log.find("tenantry: federated issuer keys unavailable")
	if len(recs) != 1 || recs[0]["issuer"] != ftFedIssuer || recs[0]["clientId"] != ftDaemonApp || !strings.Contains(recs[0]["error"], "HTTP 503") {
		t.Fatalf("federated records = %v", recs)
	}
	if strings.Contains(log.text(), a) || strings.Contains(log.text(), strings.Split(a, ".")[1]) {
		t.Error("the federated assertion was logged")
	}

	dirs, _, tn, u := lockoutDirs(t, 1, LockoutConfig{Threshold: 3})
	lockLog := &recorder{}
	dirs[0].log = slog.New(lockLog)
	for range 2 {
		wantSignIn(t, dirs[0], tn.ID, "wrong password", 50126)
	}
	if n := len(lockLog.find("tenantry: account locked after failed sign-ins")); n != 0 {
		t.Fatalf("%d lockout records before the threshold", n)
	}
	wantSignIn(t, dirs[0], tn.ID, "wrong password", 50126)
	locks := lockLog.find("tenantry: account locked after failed sign-ins")
	if len(locks) != 1 || locks[0]["userId"] != u.ID || locks[0]["tenantId"] != tn.ID || locks[0]["failures"] != "3" || locks[0]["level"] != "WARN" {
		t.Fatalf("lockout records = %v", locks)
	}
	if s := lockLog.text(); strings.Contains(s, "wrong password") || strings.Contains(s, lockoutPass) {
		t.Errorf("a password was logged:\n%s", s)
	}
}

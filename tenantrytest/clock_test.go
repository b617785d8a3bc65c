package tenantrytest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenantry/tenantry"
	"github.com/tenantry/tenantry/tenantrytest"
	"github.com/tenantry/tenantry/token"
)

// Advance lets a token expire for a validator on the Server's clock.
func TestAdvanceExpiresTokens(t *testing.T) {
	s := newSeeded(t)
	raw := s.srv.AppToken(t, s.contoso, s.daemon, s.api)
	v, err := token.NewValidator(s.srv.Issuer().ValidatorConfig(s.api.Audiences()...))
	if err != nil {
		t.Fatal(err)
	}
	before := s.srv.Now()
	s.srv.Advance(59 * time.Minute)
	if _, err := v.Validate(context.Background(), raw); err != nil {
		t.Fatalf("59 minutes later: %v", err)
	}
	s.srv.Advance(time.Minute)
	if _, err := v.Validate(context.Background(), raw); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("an hour later: %v, want ErrExpired", err)
	}
	if got := s.srv.Now().Sub(before); got != time.Hour {
		t.Errorf("Now moved by %v", got)
	}
	// An HTTP validator on the same clock agrees.
	if _, err := keySetValidator(t, s).Validate(context.Background(), raw); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("remote key set validator: %v, want ErrExpired", err)
	}
}

// StartAt fixes the clock's start, which tokens carry.
func TestStartAt(t *testing.T) {
	at := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	srv := tenantrytest.NewServer(t, tenantrytest.StartAt(at))
	contoso := srv.CreateTenant("Contoso")
	api := srv.CreateAPI(contoso, "API", tenantrytest.Roles("Read"))
	app := srv.CreateApp(contoso, "Daemon")
	srv.Grant(app, api, "Read")
	if got := claims(t, srv.AppToken(t, contoso, app, api))["iat"]; got != float64(at.Unix()) {
		t.Errorf("iat = %v, want %d", got, at.Unix())
	}
}

// RotateKeys: new tokens carry the new kid, tokens signed before still
// validate (the retired key stays published for its overlap), the JWKS
// lists both; WithdrawKey stops the old key's tokens at once.
func TestRotateAndWithdrawKeys(t *testing.T) {
	s := newSeeded(t)
	old := s.srv.AppToken(t, s.contoso, s.daemon, s.api)
	oldKid, _ := header(t, old)["kid"].(string)
	s.srv.RotateKeys()
	fresh := s.srv.AppToken(t, s.contoso, s.daemon, s.api)
	newKid, _ := header(t, fresh)["kid"].(string)
	if newKid == "" || newKid == oldKid {
		t.Fatalf("kid after rotation %q, before %q", newKid, oldKid)
	}
	_, body := get(t, s.srv.Client(), s.srv.Authority(s.contoso.ID)+"/discovery/v2.0/keys")
	kids := map[string]bool{}
	for _, k := range body["keys"].([]any) {
		kids[k.(map[string]any)["kid"].(string)] = true
	}
	if !kids[oldKid] || !kids[newKid] {
		t.Errorf("JWKS kids %v, want %s and %s", kids, oldKid, newKid)
	}
	v := keySetValidator(t, s)
	for name, raw := range map[string]string{"old": old, "new": fresh} {
		if _, err := v.Validate(context.Background(), raw); err != nil {
			t.Errorf("%s token after rotation: %v", name, err)
		}
	}
	s.srv.WithdrawKey(oldKid)
	local, err := token.NewValidator(s.srv.Issuer().ValidatorConfig(s.api.Audiences()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Validate(context.Background(), old); err == nil {
		t.Error("a token of the withdrawn key validated")
	}
	if _, err := local.Validate(context.Background(), fresh); err != nil {
		t.Errorf("the new key's token after the withdrawal: %v", err)
	}
}

// WithConfig adjusts the Directory: a shorter access token lifetime and
// another signing algorithm reach the tokens.
func TestWithConfig(t *testing.T) {
	srv := tenantrytest.NewServer(t, tenantrytest.WithConfig(func(c *tenantry.Config) {
		c.Tokens.AccessTokenLifetime = 10 * time.Minute
		c.Tokens.Algorithm = token.ES256
	}))
	contoso := srv.CreateTenant("Contoso")
	api := srv.CreateAPI(contoso, "API", tenantrytest.Roles("Read"))
	app := srv.CreateApp(contoso, "Daemon")
	srv.Grant(app, api, "Read")
	raw := srv.AppToken(t, contoso, app, api)
	c := claims(t, raw)
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 600 {
		t.Errorf("lifetime = %vs, want 600", exp-iat)
	}
	if alg := header(t, raw)["alg"]; alg != "ES256" {
		t.Errorf("alg = %v, want ES256", alg)
	}
}

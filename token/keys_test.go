package token

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is SHA-1.
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// Keyring is the validator's key source.
var _ KeySource = (*Keyring)(nil)

func TestGenerateKey(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k, err := GenerateKey(alg, testNow, nil)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha1.Sum(k.Certificate.Raw) //nolint:gosec
			if want := base64.RawURLEncoding.EncodeToString(sum[:]); k.ID != want || len(k.ID) != 27 {
				t.Errorf("ID = %q, want thumbprint %q", k.ID, want)
			}
			if k.Algorithm != alg || k.State != KeyNext || !k.CreatedAt.Equal(testNow) {
				t.Errorf("alg=%s state=%s created=%v", k.Algorithm, k.State, k.CreatedAt)
			}
			if !k.ActivatedAt.IsZero() || !k.RetiredAt.IsZero() || !k.ExpiresAt.IsZero() {
				t.Error("lifecycle times set on a new key")
			}
			if !k.Certificate.NotBefore.Equal(testNow.Add(-5*time.Minute)) || !k.Certificate.NotAfter.Equal(testNow.Add(CertificateValidity)) {
				t.Errorf("validity %v .. %v", k.Certificate.NotBefore, k.Certificate.NotAfter)
			}
			if err := k.Certificate.CheckSignature(k.Certificate.SignatureAlgorithm, k.Certificate.RawTBSCertificate, k.Certificate.Signature); err != nil {
				t.Errorf("certificate is not self-signed: %v", err)
			}
			switch pub := k.Public().Key.(type) {
			case *rsa.PublicKey:
				if alg != jose.RS256 || pub.N.BitLen() != 2048 || pub.E != 65537 {
					t.Errorf("RSA key for %s: %d bits, e=%d", alg, pub.N.BitLen(), pub.E)
				}
			case *ecdsa.PublicKey:
				if alg != jose.ES256 || pub.Curve.Params().Name != "P-256" {
					t.Errorf("EC key for %s", alg)
				}
			case ed25519.PublicKey:
				if alg != jose.EdDSA {
					t.Errorf("Ed25519 key for %s", alg)
				}
			default:
				t.Errorf("public key %T", pub)
			}
			if p := k.Public(); p.ID != k.ID || p.Algorithm != alg {
				t.Errorf("Public() = %+v", p)
			}
			if err := validateKey(k); err != nil {
				t.Error(err)
			}
		})
	}
	if _, err := GenerateKey(jose.PS256, testNow, nil); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("PS256: err = %v, want ErrUnsupportedAlgorithm", err)
	}
	if _, err := GenerateKey(jose.EdDSA, testNow, bytes.NewReader(nil)); err == nil {
		t.Error("GenerateKey with an exhausted random source succeeded")
	}
}

func TestValidateKey(t *testing.T) {
	ec, ec2, ed := activeKey(t, jose.ES256), activeKey(t, jose.ES256), activeKey(t, jose.EdDSA)
	mut := func(f func(k *Key)) *Key { c := *ec; f(&c); return &c }
	cases := map[string]*Key{
		"nil":            nil,
		"no signer":      mut(func(k *Key) { k.Signer = nil }),
		"no certificate": mut(func(k *Key) { k.Certificate = nil }),
		"empty id":       mut(func(k *Key) { k.ID = "" }),
		"custom id":      mut(func(k *Key) { k.ID = "my-key" }),
		"bad state":      mut(func(k *Key) { k.State = "revoked" }),
		"alg mismatch":   mut(func(k *Key) { k.Algorithm = jose.EdDSA }),
		"alg unknown":    mut(func(k *Key) { k.Algorithm = jose.HS256 }),
		"foreign cert":   mut(func(k *Key) { k.Certificate, k.ID = ec2.Certificate, ec2.ID }),
		"ed as rsa":      func() *Key { c := *ed; c.Algorithm = jose.RS256; return &c }(),
	}
	for name, k := range cases {
		err := validateKey(k)
		if !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("%s: err = %v, want ErrInvalidKey", name, err)
		}
		if _, err := NewKeyring([]*Key{k}, testNow); err == nil {
			t.Errorf("%s: NewKeyring accepted the key", name)
		}
	}
}

// rotationPolicy is a fast policy for rotation tests.
var rotationPolicy = RotationPolicy{SigningPeriod: 30 * 24 * time.Hour, Overlap: 7 * 24 * time.Hour, Algorithm: jose.EdDSA, Lead: 5 * 24 * time.Hour}

func byState(keys []*Key, alg jose.SignatureAlgorithm, s KeyState) []*Key {
	var out []*Key
	for _, k := range keys {
		if k.Algorithm == alg && k.State == s {
			out = append(out, k)
		}
	}
	return out
}

func findKey(keys []*Key, id string) *Key {
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}

func mustRotate(t testing.TB, keys []*Key, now time.Time, p RotationPolicy) ([]*Key, bool) {
	t.Helper()
	next, changed, err := Rotate(keys, now, p, nil)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return next, changed
}

func TestRotateLifecycle(t *testing.T) {
	p := rotationPolicy
	t0 := testNow

	keys, changed := mustRotate(t, nil, t0, p)
	if !changed || len(keys) != 1 {
		t.Fatalf("bootstrap: changed=%v, %d keys, want the active key alone", changed, len(keys))
	}
	a0 := byState(keys, p.Algorithm, KeyActive)
	if len(a0) != 1 || !a0[0].ActivatedAt.Equal(t0) {
		t.Fatalf("bootstrap: %d active", len(a0))
	}

	// Nothing to do until the lead before the signing period's end.
	leadStart := p.SigningPeriod - p.Lead
	same, changed := mustRotate(t, keys, t0.Add(leadStart-time.Second), p)
	if changed {
		t.Fatal("changed before the lead")
	}
	if d := cmp.Diff(keys, same); d != "" {
		t.Fatalf("unchanged rotation differs:\n%s", d)
	}
	if &same[0] == &keys[0] || same[0] == keys[0] {
		t.Fatal("Rotate returned the input keys instead of copies")
	}

	// Within the lead the successor is published as next.
	tl := t0.Add(leadStart)
	keys, changed = mustRotate(t, keys, tl, p)
	n0 := byState(keys, p.Algorithm, KeyNext)
	if !changed || len(keys) != 2 || len(n0) != 1 || !n0[0].CreatedAt.Equal(tl) {
		t.Fatalf("lead: changed=%v, %d keys, next %v", changed, len(keys), n0)
	}
	if same, changed := mustRotate(t, keys, t0.Add(p.SigningPeriod-time.Second), p); changed || len(same) != 2 {
		t.Fatalf("changed again before the period ended: %d keys", len(same))
	}

	// Promotion: next → active, active → retired; the new active key's
	// successor waits for its lead.
	t1 := t0.Add(p.SigningPeriod)
	keys1, changed := mustRotate(t, keys, t1, p)
	if !changed || len(keys1) != 2 {
		t.Fatalf("promotion: changed=%v, %d keys", changed, len(keys1))
	}
	old := findKey(keys1, a0[0].ID)
	if old.State != KeyRetired || !old.RetiredAt.Equal(t1) || !old.ExpiresAt.Equal(t1.Add(p.Overlap)) {
		t.Errorf("old active: %+v", old)
	}
	promoted := findKey(keys1, n0[0].ID)
	if promoted.State != KeyActive || !promoted.ActivatedAt.Equal(t1) {
		t.Errorf("old next: %+v", promoted)
	}
	if n1 := byState(keys1, p.Algorithm, KeyNext); len(n1) != 0 {
		t.Errorf("new next before its lead: %+v", n1)
	}
	// The input was not touched.
	if keys[0].State != a0[0].State || a0[0].State != KeyActive || n0[0].State != KeyNext {
		t.Error("Rotate modified its input")
	}

	// The retired key is still published until ExpiresAt, then dropped.
	ring, err := NewKeyring(keys1, t1.Add(p.Overlap-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.PublicKey(context.Background(), old.ID); err != nil {
		t.Errorf("retired key not accepted during overlap: %v", err)
	}
	keys2, changed := mustRotate(t, keys1, t1.Add(p.Overlap), p)
	if !changed || findKey(keys2, old.ID) != nil || len(keys2) != 1 {
		t.Errorf("expired key kept: changed=%v %d keys", changed, len(keys2))
	}
	ring, err = NewKeyring(keys1, t1.Add(p.Overlap))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.PublicKey(context.Background(), old.ID); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("expired key: err = %v, want ErrUnknownKey", err)
	}

	// ForceRotate retires the active key at once: with a next key
	// published, however recently, that key signs.
	t3 := t1.Add(time.Hour)
	withNext, _ := mustRotate(t, keys1, t1.Add(leadStart), p)
	n1 := byState(withNext, p.Algorithm, KeyNext)
	if len(n1) != 1 {
		t.Fatalf("no next key within the lead: %v", withNext)
	}
	forced, err := ForceRotate(withNext, t1.Add(leadStart+time.Hour), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if k := findKey(forced, promoted.ID); k.State != KeyRetired || !k.ExpiresAt.Equal(t1.Add(leadStart+time.Hour+p.Overlap)) {
		t.Errorf("forced: old active %+v", k)
	}
	if a := byState(forced, p.Algorithm, KeyActive); len(a) != 1 || a[0].ID != n1[0].ID {
		t.Errorf("forced: active %+v, want former next %s", a, n1[0].ID)
	}
	// Without one, a key is generated and signs at once.
	forced, err = ForceRotate(keys1, t3, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := byState(forced, p.Algorithm, KeyActive); len(a) != 1 || a[0].ID == promoted.ID || !a[0].CreatedAt.Equal(t3) {
		t.Errorf("forced without a next key: active %+v", a)
	}
}

// TestRotateLead: a key past its signing period keeps signing until its
// successor has been published for the lead, so that a Rotate that did not
// run during the lead (a process that was down) never activates a key
// nobody could have fetched.
func TestRotateLead(t *testing.T) {
	p := rotationPolicy
	keys, _ := mustRotate(t, nil, testNow, p)
	active := keys[0]
	late := testNow.Add(p.SigningPeriod + 3*24*time.Hour) // the lead passed unseen
	keys, changed := mustRotate(t, keys, late, p)
	if !changed || len(keys) != 2 {
		t.Fatalf("late rotation: changed=%v, %d keys", changed, len(keys))
	}
	if a := byState(keys, p.Algorithm, KeyActive); len(a) != 1 || a[0].ID != active.ID {
		t.Fatalf("a key was activated without pre-publication: %v", a)
	}
	next := byState(keys, p.Algorithm, KeyNext)[0]
	if _, changed := mustRotate(t, keys, late.Add(p.Lead-time.Second), p); changed {
		t.Fatal("the successor signed before its lead")
	}
	keys, _ = mustRotate(t, keys, late.Add(p.Lead), p)
	if a := byState(keys, p.Algorithm, KeyActive); len(a) != 1 || a[0].ID != next.ID {
		t.Fatalf("successor not activated after its lead: %v", a)
	}
	// A Lead at least the SigningPeriod publishes the successor as soon
	// as a key activates, and is the SigningPeriod.
	eager := RotationPolicy{SigningPeriod: 24 * time.Hour, Lead: 48 * time.Hour, Algorithm: jose.EdDSA}
	keys, _ = mustRotate(t, nil, testNow, eager)
	if len(byState(keys, eager.Algorithm, KeyNext)) != 1 {
		t.Fatalf("eager lead: %d keys, want the active and the next one", len(keys))
	}
	if n, err := eager.normalize(); err != nil || n.Lead != eager.SigningPeriod {
		t.Fatalf("normalized lead = %v, %v", n.Lead, err)
	}
}

func TestRotateRepairs(t *testing.T) {
	p := rotationPolicy
	gen := func(state KeyState, created time.Time) *Key {
		k, err := GenerateKey(p.Algorithm, created, nil)
		if err != nil {
			t.Fatal(err)
		}
		k.State = state
		if state == KeyActive {
			k.ActivatedAt = created
		}
		return k
	}
	olderActive := gen(KeyActive, testNow.Add(-48*time.Hour))
	newerActive := gen(KeyActive, testNow.Add(-24*time.Hour))
	oldNext := gen(KeyNext, testNow.Add(-72*time.Hour))
	newNext := gen(KeyNext, testNow.Add(-1*time.Hour))
	retiredNoExpiry := gen(KeyRetired, testNow.Add(-100*time.Hour))
	retiredNoExpiry.RetiredAt = testNow.Add(-time.Hour)
	otherAlg := activeKey(t, jose.ES256)
	otherAlg.ActivatedAt = testNow.Add(-365 * 24 * time.Hour) // long past p's period: not p's business

	in := []*Key{olderActive, newerActive, oldNext, newNext, retiredNoExpiry, otherAlg}
	snapshot := make([]Key, len(in))
	for i, k := range in {
		snapshot[i] = *k
	}
	out, changed := mustRotate(t, in, testNow, p)
	if !changed {
		t.Fatal("repairs not reported as a change")
	}
	for i, k := range in {
		if d := cmp.Diff(snapshot[i], *k); d != "" {
			t.Fatalf("input key %d modified:\n%s", i, d)
		}
	}
	if a := byState(out, p.Algorithm, KeyActive); len(a) != 1 || a[0].ID != newerActive.ID {
		t.Errorf("active = %v, want the newest", a)
	}
	if k := findKey(out, olderActive.ID); k.State != KeyRetired || !k.ExpiresAt.Equal(testNow.Add(p.Overlap)) {
		t.Errorf("older active: %+v", k)
	}
	if n := byState(out, p.Algorithm, KeyNext); len(n) != 1 || n[0].ID != oldNext.ID {
		t.Errorf("next = %v, want the oldest", n)
	}
	if k := findKey(out, retiredNoExpiry.ID); !k.ExpiresAt.Equal(retiredNoExpiry.RetiredAt.Add(p.Overlap)) {
		t.Errorf("retired without expiry: %+v", k)
	}
	if k := findKey(out, otherAlg.ID); k == nil || k.State != KeyActive {
		t.Errorf("key of another algorithm touched: %+v", k)
	}
	if _, err := NewKeyring(out, testNow); err != nil {
		t.Errorf("NewKeyring(Rotate output): %v", err)
	}

	// Invalid input.
	if _, _, err := Rotate([]*Key{nil}, testNow, p, nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil key: %v", err)
	}
	bad := *oldNext
	bad.State = "weird"
	if _, _, err := Rotate([]*Key{&bad}, testNow, p, nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("bad state: %v", err)
	}
	for _, pol := range []RotationPolicy{{SigningPeriod: -1}, {Overlap: -time.Hour}, {Lead: -time.Hour}, {Algorithm: jose.HS256}} {
		if _, _, err := Rotate(nil, testNow, pol, nil); !errors.Is(err, ErrInvalidRotationPolicy) {
			t.Errorf("policy %+v: err = %v", pol, err)
		}
	}
	// The zero policy means RS256, 30 days, 7 days, a lead of 7 days.
	if p, err := (RotationPolicy{}).normalize(); err != nil || p != (RotationPolicy{DefaultSigningPeriod, DefaultOverlap, jose.RS256, DefaultLead}) {
		t.Errorf("zero policy = %+v, %v", p, err)
	}
}

// TestRotateStateMachine drives Rotate and ForceRotate through random
// schedules and checks the lifecycle invariants after every step.
func TestRotateStateMachine(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		p := RotationPolicy{
			SigningPeriod: time.Duration(rapid.IntRange(1, 60).Draw(rt, "periodDays")) * 24 * time.Hour,
			Overlap:       time.Duration(rapid.IntRange(1, 20).Draw(rt, "overlapDays")) * 24 * time.Hour,
			Algorithm:     jose.EdDSA,
			Lead:          time.Duration(rapid.IntRange(0, 30).Draw(rt, "leadDays")) * 24 * time.Hour,
		}
		now := testNow
		keys, _, err := Rotate(nil, now, p, nil)
		if err != nil {
			rt.Fatal(err)
		}
		// retiredAt remembers when each key stopped signing.
		retiredAt := map[string]time.Time{}

		step := func(force bool) {
			prev := make([]Key, len(keys))
			for i, k := range keys {
				prev[i] = *k
			}
			var next []*Key
			var err error
			if force {
				next, err = ForceRotate(keys, now, p, nil)
			} else {
				next, _, err = Rotate(keys, now, p, nil)
			}
			if err != nil {
				rt.Fatal(err)
			}
			for i, k := range keys {
				if d := cmp.Diff(prev[i], *k); d != "" {
					rt.Fatalf("input modified:\n%s", d)
				}
			}
			checkKeySet(rt, prev, next, now, p, force, retiredAt)
			// Idempotence: a second Rotate at the same instant changes nothing.
			again, changed, err := Rotate(next, now, p, nil)
			if err != nil || changed || cmp.Diff(next, again) != "" {
				rt.Fatalf("second Rotate at the same time changed the set (err %v)", err)
			}
			keys = next
		}
		rt.Repeat(map[string]func(*rapid.T){
			"advance": func(rt *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(0, 24*90).Draw(rt, "hours")) * time.Hour)
				step(false)
			},
			"force": func(rt *rapid.T) {
				now = now.Add(time.Duration(rapid.IntRange(0, 48).Draw(rt, "hours")) * time.Hour)
				step(true)
			},
		})
	})
}

func checkKeySet(rt *rapid.T, prev []Key, next []*Key, now time.Time, p RotationPolicy, forced bool, retiredAt map[string]time.Time) {
	p, _ = p.normalize()
	actives, nexts := byState(next, p.Algorithm, KeyActive), byState(next, p.Algorithm, KeyNext)
	if len(actives) != 1 || len(nexts) > 1 {
		rt.Fatalf("%d active and %d next keys, want 1 and at most 1", len(actives), len(nexts))
	}
	end := actives[0].ActivatedAt.Add(p.SigningPeriod)
	if !now.Before(end.Add(-p.Lead)) && len(nexts) != 1 {
		rt.Fatalf("no next key within the lead of the active key's end")
	}
	if !now.Before(end) && (len(nexts) != 1 || !now.Before(nexts[0].CreatedAt.Add(p.Lead))) {
		rt.Fatalf("active key past its signing period with a successor published for the lead")
	}
	hadNext := false
	for _, k := range prev {
		hadNext = hadNext || (k.Algorithm == p.Algorithm && k.State == KeyNext)
	}
	for _, k := range next {
		if k.State == KeyRetired {
			if !now.Before(k.ExpiresAt) {
				rt.Fatalf("expired retired key %s kept", k.ID)
			}
			if !k.ExpiresAt.Equal(k.RetiredAt.Add(p.Overlap)) {
				rt.Fatalf("retired key %s: ExpiresAt %v, RetiredAt %v", k.ID, k.ExpiresAt, k.RetiredAt)
			}
		}
	}
	byID := map[string]Key{}
	for _, k := range prev {
		byID[k.ID] = k
	}
	for _, k := range next {
		before, existed := byID[k.ID]
		if !existed {
			if k.State != KeyNext && (!forced || hadNext) {
				rt.Fatalf("new key %s is %s, want next (pre-published)", k.ID, k.State)
			}
			continue
		}
		switch {
		case before.State == k.State:
		case before.State == KeyNext && k.State == KeyActive:
			if !forced && now.Before(before.CreatedAt.Add(p.Lead)) {
				rt.Fatalf("key %s activated %v after its publication, before the lead %v", k.ID, now.Sub(before.CreatedAt), p.Lead)
			}
		case before.State == KeyActive && k.State == KeyRetired:
			retiredAt[k.ID] = now
		default:
			rt.Fatalf("key %s went from %s to %s", k.ID, before.State, k.State)
		}
	}
	// Nothing that signed disappears before its overlap ends, and next or
	// active keys never disappear.
	ring, err := NewKeyring(next, now)
	if err != nil {
		rt.Fatalf("NewKeyring: %v", err)
	}
	for _, k := range prev {
		_, err := ring.PublicKey(context.Background(), k.ID)
		switch {
		case k.State != KeyRetired && err != nil:
			rt.Fatalf("%s key %s dropped", k.State, k.ID)
		case k.State == KeyRetired && now.Before(retiredAt[k.ID].Add(p.Overlap)) && err != nil:
			rt.Fatalf("retired key %s dropped during its overlap", k.ID)
		}
	}
	if s, err := ring.Signing(p.Algorithm); err != nil || s.ID != actives[0].ID {
		rt.Fatalf("Signing = %v, %v", s, err)
	}
}

func TestKeyring(t *testing.T) {
	ctx := context.Background()
	rsActive := activeKey(t, jose.RS256)
	esActive := activeKey(t, jose.ES256)
	esNext, err := GenerateKey(jose.ES256, testNow, nil)
	if err != nil {
		t.Fatal(err)
	}
	retired := activeKey(t, jose.ES256)
	retired.State, retired.RetiredAt, retired.ExpiresAt = KeyRetired, testNow, testNow.Add(time.Hour)
	expired := activeKey(t, jose.ES256)
	expired.State, expired.RetiredAt, expired.ExpiresAt = KeyRetired, testNow.Add(-time.Hour), testNow

	ring := newRing(t, retired, esNext, expired, esActive, rsActive)
	for _, k := range []*Key{rsActive, esActive, esNext, retired} {
		pk, err := ring.PublicKey(ctx, k.ID)
		if err != nil {
			t.Errorf("PublicKey(%s %s): %v", k.State, k.Algorithm, err)
			continue
		}
		if d := cmp.Diff(k.Public(), pk); d != "" {
			t.Errorf("PublicKey(%s):\n%s", k.State, d)
		}
	}
	for _, kid := range []string{expired.ID, "", "nope", strings.Repeat("x", 10000)} {
		_, err := ring.PublicKey(ctx, kid)
		if !errors.Is(err, ErrUnknownKey) {
			t.Errorf("PublicKey(%.10q): err = %v, want ErrUnknownKey", kid, err)
		}
		if err != nil && len(err.Error()) > 120 {
			t.Errorf("error message of %d bytes echoes the kid", len(err.Error()))
		}
	}

	s, err := ring.Signing(jose.ES256)
	if err != nil || s.ID != esActive.ID {
		t.Fatalf("Signing(ES256) = %v, %v", s, err)
	}
	s.State = KeyRetired // a copy: the ring is unaffected
	if s2, _ := ring.Signing(jose.ES256); s2.State != KeyActive {
		t.Error("Signing returned the ring's own key")
	}
	if _, err := ring.Signing(jose.EdDSA); !errors.Is(err, ErrNoSigningKey) {
		t.Errorf("Signing(EdDSA): err = %v", err)
	}

	var ids []string
	for _, k := range ring.Keys() {
		ids = append(ids, k.ID)
	}
	want := []string{rsActive.ID, esActive.ID, esNext.ID, retired.ID}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("Keys order (-want +got):\n%s", d)
	}
	pubs := ring.PublicKeys()
	if len(pubs) != 4 || pubs[0].ID != rsActive.ID {
		t.Errorf("PublicKeys = %v", pubs)
	}

	// Input keys are copied.
	esActive.State = KeyRetired
	if _, err := ring.Signing(jose.ES256); err != nil {
		t.Error("NewKeyring kept a reference to the caller's key")
	}
	esActive.State = KeyActive

	// Inconsistent sets.
	esActive2 := activeKey(t, jose.ES256)
	noExpiry := *retired
	noExpiry.ExpiresAt = time.Time{}
	for name, keys := range map[string][]*Key{
		"two active":       {esActive, esActive2},
		"duplicate":        {esNext, esNext},
		"retired no exp":   {&noExpiry},
		"nil key":          {nil},
		"rsa 1024 signing": {weakRSAKey(t)},
	} {
		if _, err := NewKeyring(keys, testNow); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: err = %v, want ErrInvalidKey", name, err)
		}
	}
	empty, err := NewKeyring(nil, testNow)
	if err != nil || len(empty.Keys()) != 0 {
		t.Errorf("empty keyring: %v", err)
	}
}

// weakRSAKey builds a consistent key around a 1024-bit RSA key.
func weakRSAKey(t *testing.T) *Key {
	t.Helper()
	priv, err := rsa.GenerateKey(nil, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := selfSign(priv, testNow, strings.NewReader(strings.Repeat("r", 64)))
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: CertificateThumbprint(cert), Algorithm: jose.RS256, State: KeyActive, Signer: priv, Certificate: cert}
}

func TestKeyringConcurrent(t *testing.T) {
	key := activeKey(t, jose.EdDSA)
	ring := newRing(t, key)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := ring.PublicKey(context.Background(), key.ID); err != nil {
					t.Error(err)
				}
				if _, err := ring.JWKS("iss"); err != nil {
					t.Error(err)
				}
				if _, err := ring.Sign(jose.EdDSA, &AccessClaims{Subject: "s"}, SignOptions{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// ---------------------------------------------------------------------------
// Sealing.

var testKEK = bytes.Repeat([]byte{0x42}, KEKSize)

func TestSealOpenRoundTrip(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			k := activeKey(t, alg)
			k.State = KeyRetired
			k.RetiredAt = testNow.Add(time.Hour)
			k.ExpiresAt = testNow.Add(8 * 24 * time.Hour)
			sealed, err := SealKey(k, testKEK)
			if err != nil {
				t.Fatal(err)
			}
			der, _ := x509.MarshalPKCS8PrivateKey(k.Signer)
			if bytes.Contains(sealed, der[len(der)-32:]) {
				t.Fatal("sealed output contains private key bytes in the clear")
			}
			got, err := OpenKey(sealed, testKEK)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(k, got); d != "" {
				t.Errorf("OpenKey(SealKey(k)) differs:\n%s", d)
			}
			// The opened key signs tokens that verify with the original.
			got.State, got.RetiredAt, got.ExpiresAt = KeyActive, time.Time{}, time.Time{}
			tok, err := newRing(t, got).Sign(alg, &AccessClaims{Subject: "s"}, SignOptions{})
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jws.Verify(k.Public().Key); err != nil {
				t.Error(err)
			}
			again, _ := SealKey(k, testKEK)
			if bytes.Equal(again, sealed) {
				t.Error("two seals are identical: nonce not random")
			}
		})
	}
}

func TestOpenKeyErrors(t *testing.T) {
	k := activeKey(t, jose.ES256)
	sealed, err := SealKey(k, testKEK)
	if err != nil {
		t.Fatal(err)
	}
	otherKEK := bytes.Repeat([]byte{0x43}, KEKSize)
	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	cases := []struct {
		name   string
		sealed []byte
		kek    []byte
		want   error
	}{
		{"wrong kek", sealed, otherKEK, ErrKeyDecryption},
		{"tampered kid", flip(5), testKEK, ErrKeyDecryption},
		{"tampered nonce", flip(2 + len(k.ID) + 1), testKEK, ErrKeyDecryption},
		{"tampered ciphertext", flip(len(sealed) - 20), testKEK, ErrKeyDecryption},
		{"tampered tag", flip(len(sealed) - 1), testKEK, ErrKeyDecryption},
		{"short kek", sealed, testKEK[:16], ErrInvalidKEK},
		{"long kek", sealed, append(bytes.Clone(testKEK), 0), ErrInvalidKEK},
		{"nil kek", sealed, nil, ErrInvalidKEK},
		{"unknown version", flip(0), testKEK, ErrSealedFormat},
		{"empty", nil, testKEK, ErrSealedFormat},
		{"truncated", sealed[:2+len(k.ID)+10], testKEK, ErrSealedFormat},
	}
	for _, tc := range cases {
		got, err := OpenKey(tc.sealed, tc.kek)
		if !errors.Is(err, tc.want) || got != nil {
			t.Errorf("%s: key %v, err = %v, want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := SealKey(k, testKEK[:31]); !errors.Is(err, ErrInvalidKEK) {
		t.Errorf("SealKey with a short KEK: %v", err)
	}
	hsm := *k
	hsm.Signer = &opaqueSigner{inner: k.Signer}
	if _, err := SealKey(&hsm, testKEK); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("SealKey of a non-exportable signer: %v", err)
	}
	if _, err := SealKey(nil, testKEK); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("SealKey(nil): %v", err)
	}
}

func TestWithdraw(t *testing.T) {
	p := rotationPolicy
	p.Lead = 28 * 24 * time.Hour // a retired key still within its overlap when the next key appears
	t0 := testNow
	keys, _ := mustRotate(t, nil, t0, p)
	leadStart := p.SigningPeriod - p.Lead
	keys, _ = mustRotate(t, keys, t0.Add(leadStart), p)
	t1 := t0.Add(p.SigningPeriod)
	keys, _ = mustRotate(t, keys, t1, p)
	keys, _ = mustRotate(t, keys, t1.Add(leadStart), p) // retired, active, next
	retired := byState(keys, p.Algorithm, KeyRetired)[0]
	active := byState(keys, p.Algorithm, KeyActive)[0]
	next := byState(keys, p.Algorithm, KeyNext)[0]
	t2 := t1.Add(leadStart + time.Hour)

	for _, tc := range []struct {
		name     string
		kid      string
		active   string // expected active key id
		wantNext int    // next keys after the withdrawal
	}{
		{"active", active.ID, next.ID, 0}, // the successor's lead is weeks away
		{"next", next.ID, active.ID, 1},   // within the lead: a new successor
		{"retired", retired.ID, active.ID, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Withdraw(keys, tc.kid, t2, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if findKey(out, tc.kid) != nil {
				t.Fatalf("withdrawn key %s still in the set", tc.kid)
			}
			a, n := byState(out, p.Algorithm, KeyActive), byState(out, p.Algorithm, KeyNext)
			if len(a) != 1 || len(n) != tc.wantNext || a[0].ID != tc.active || (len(n) == 1 && n[0].ID == tc.kid) {
				t.Fatalf("after withdrawal: %d active (%v), %d next", len(a), a, len(n))
			}
			// Unlike a retired key, it is neither published nor accepted.
			ring, err := NewKeyring(out, t2)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ring.PublicKey(context.Background(), tc.kid); !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("withdrawn key: err = %v, want ErrUnknownKey", err)
			}
			doc, err := ring.JWKS("")
			if err != nil || bytes.Contains(doc, []byte(tc.kid)) {
				t.Fatalf("withdrawn key published: %v", err)
			}
			if findKey(keys, tc.kid) == nil || findKey(keys, tc.kid).State != map[string]KeyState{active.ID: KeyActive, next.ID: KeyNext, retired.ID: KeyRetired}[tc.kid] {
				t.Fatal("Withdraw modified its input")
			}
		})
	}
	if _, err := Withdraw(keys, "no-such-kid", t2, p, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown kid: err = %v, want ErrUnknownKey", err)
	}
}

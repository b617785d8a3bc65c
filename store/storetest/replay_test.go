package storetest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/store/storetest"
	"github.com/tenantry/tenantry/tenant"
)

// TestReplay: Update runs fn twice, the first run's writes and result are
// discarded and the second's count; a function that is not re-runnable is
// caught; a done context stops the first run; a panic propagates.
func TestReplay(t *testing.T) {
	s := storetest.Replay(memory.New())
	defer s.Close()
	u := tenant.User{ID: "u1", TenantID: "t1", UserPrincipalName: "a@contoso.com"}
	runs := 0
	err := s.Update(t.Context(), func(tx store.Tx) error {
		runs++
		if err := store.Users.Create(tx, u); err != nil {
			return err // the first run's Create, if committed, would make this fail
		}
		if err := tx.AppendAudit(store.AuditEvent{Action: "create"}); err != nil {
			return err
		}
		if runs == 1 {
			return errors.New("first run fails: discarded")
		}
		return nil
	})
	if err != nil || runs != 2 {
		t.Fatalf("Update returned %v after %d runs, want success after 2", err, runs)
	}
	err = s.View(t.Context(), func(tx store.ReadTx) error {
		events, err := tx.Audit(0, 0)
		if err == nil && (len(events) != 1 || events[0].Seq != 1) {
			t.Errorf("audit log holds %d events (%+v), want the second run's only, with Seq 1", len(events), events)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// A function with an effect outside its transaction shows it twice.
	var created []string
	err = s.Update(t.Context(), func(tx store.Tx) error {
		created = append(created, "u2")
		return store.Users.Create(tx, tenant.User{ID: "u2", TenantID: "t1"})
	})
	if err != nil || len(created) != 2 {
		t.Errorf("a function appending outside its transaction: Update returned %v, appended %d times, want success and 2", err, len(created))
	}

	// The second run's error is returned.
	errSecond := errors.New("second")
	runs = 0
	err = s.Update(t.Context(), func(tx store.Tx) error {
		runs++
		if runs == 2 {
			return errSecond
		}
		return nil
	})
	if !errors.Is(err, errSecond) {
		t.Errorf("Update returned %v, want the second run's error", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	runs = 0
	err = s.Update(ctx, func(store.Tx) error { runs++; return nil })
	if !errors.Is(err, context.Canceled) || runs != 0 {
		t.Errorf("Update with a done context returned %v after %d runs, want context.Canceled and none", err, runs)
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Error("a panic in fn did not propagate")
			}
		}()
		_ = s.Update(t.Context(), func(store.Tx) error { panic("boom") })
	}()
}

// TestReplayInPlace: an update function that changes a value it read in
// place, and so the stored record behind the store's back, is reported
// with ErrNotRerunnable; one that clones first is not.
func TestReplayInPlace(t *testing.T) {
	s := storetest.Replay(memory.New())
	defer s.Close()
	g := tenant.Group{ID: "g1", TenantID: "t1", DisplayName: "eng", GroupTypes: []string{"Unified"}}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return store.Groups.Create(tx, g) }); err != nil {
		t.Fatal(err)
	}
	rename := func(clone bool) error {
		return s.Update(t.Context(), func(tx store.Tx) error {
			got, err := store.Groups.Get(tx, "g1")
			if err != nil {
				return err
			}
			if clone {
				got = got.Clone()
			}
			got.GroupTypes[0] = "DynamicMembership"
			return store.Groups.Put(tx, got)
		})
	}
	if err := rename(false); !errors.Is(err, storetest.ErrNotRerunnable) {
		t.Errorf("Update changing a read value in place returned %v, want ErrNotRerunnable", err)
	}
	if err := rename(true); err != nil {
		t.Errorf("Update changing a clone returned %v, want success", err)
	}
}

// TestReplayView: View runs fn twice, each run in a View of its own, and
// returns the second run's result; a function that changes a value it
// read in place is caught; a done context stops the first run.
func TestReplayView(t *testing.T) {
	s := storetest.Replay(memory.New())
	defer s.Close()
	g := tenant.Group{ID: "g1", TenantID: "t1", DisplayName: "eng", GroupTypes: []string{"Unified"}}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return store.Groups.Create(tx, g) }); err != nil {
		t.Fatal(err)
	}
	runs := 0
	errSecond := errors.New("second")
	err := s.View(t.Context(), func(tx store.ReadTx) error {
		runs++
		if _, err := store.Groups.Get(tx, "g1"); err != nil {
			return err
		}
		if runs == 2 {
			return errSecond
		}
		return nil
	})
	if !errors.Is(err, errSecond) || runs != 2 {
		t.Errorf("View returned %v after %d runs, want the second run's error after 2", err, runs)
	}

	err = s.View(t.Context(), func(tx store.ReadTx) error {
		got, err := store.Groups.Get(tx, "g1")
		if err == nil {
			got.GroupTypes[0] = "DynamicMembership"
		}
		return err
	})
	if !errors.Is(err, storetest.ErrNotRerunnable) {
		t.Errorf("View changing a read value in place returned %v, want ErrNotRerunnable", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	runs = 0
	err = s.View(ctx, func(store.ReadTx) error { runs++; return nil })
	if !errors.Is(err, context.Canceled) || runs != 0 {
		t.Errorf("View with a done context returned %v after %d runs, want context.Canceled and none", err, runs)
	}
}

package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/store"
)

// testAudit: Seqs start at 1 and increase strictly in commit order (and in
// append order within a transaction); events are returned as written
// (Before and After byte for byte, copied at AppendAudit); the events of a
// failed transaction are absent; Audit(after, limit) returns the right
// window.
func testAudit(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	tid := id("tenant/contoso")
	event := func(n int) store.AuditEvent {
		return store.AuditEvent{
			Time:       at(time.Duration(n) * time.Second),
			TenantID:   tid,
			Actor:      id("user/alice"),
			Action:     fmt.Sprintf("action-%d", n),
			TargetKind: "application",
			TargetID:   id(fmt.Sprintf("app/%d", n)),
			Before:     json.RawMessage(fmt.Sprintf(`{"displayName":"before %d","tags":["a"]}`, n)),
			After:      json.RawMessage(fmt.Sprintf(`{"displayName":"after %d","tags":[]}`, n)),
		}
	}
	var want []store.AuditEvent
	appendEvents := func(what string, fail bool, ns ...int) {
		t.Helper()
		err := s.Update(t.Context(), func(tx store.Tx) error {
			if err := store.Applications.Put(tx, newApplication(what, tid)); err != nil {
				return err
			}
			for _, n := range ns {
				e := event(n)
				e.Seq = 999 // ignored
				if err := tx.AppendAudit(e); err != nil {
					return err
				}
				e.Before[2] = 'X' // the caller reuses its buffer
			}
			if fail {
				return errAbort
			}
			return nil
		})
		if fail {
			wantErr(t, err, errAbort, what)
			return
		}
		if !noErr(t, err, what) {
			return
		}
		for _, n := range ns {
			want = append(want, event(n))
		}
	}
	appendEvents("one", false, 1)
	appendEvents("three", false, 2, 3, 4)
	appendEvents("failed", true, 90, 91)
	appendEvents("none", false)
	update(t, s, "audit only", func(tx store.Tx) error { return tx.AppendAudit(event(5)) })
	want = append(want, event(5))
	appendEvents("two", false, 6, 7)

	var got []store.AuditEvent
	view(t, s, "Audit(0, 0)", func(tx store.ReadTx) (err error) {
		got, err = tx.Audit(0, 0)
		return err
	})
	if len(got) > 0 && got[0].Seq != 1 {
		t.Errorf("first audit event has Seq %d, want 1", got[0].Seq)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Errorf("audit event %d has Seq %d after Seq %d, want strictly increasing", i, got[i].Seq, got[i-1].Seq)
		}
	}
	// Compare contents with the Seqs the store assigned.
	for i := range min(len(got), len(want)) {
		want[i].Seq = got[i].Seq
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Audit(0, 0) returned other events than committed, in commit order (-want +got):\n%s", diff)
	}

	// Windows.
	afters := []int64{0}
	for _, e := range got {
		afters = append(afters, e.Seq)
	}
	afters = append(afters, got[len(got)-1].Seq+5)
	view(t, s, "Audit windows", func(tx store.ReadTx) error {
		for _, after := range afters {
			for _, limit := range []int{0, 1, 2, 3, 100} {
				var w []store.AuditEvent
				for _, e := range want {
					if e.Seq > after && (limit == 0 || len(w) < limit) {
						w = append(w, e)
					}
				}
				g, err := tx.Audit(after, limit)
				if !noErr(t, err, fmt.Sprintf("Audit(%d, %d)", after, limit)) {
					continue
				}
				if len(w) == 0 && len(g) == 0 {
					continue
				}
				if diff := cmp.Diff(w, g); diff != "" {
					t.Errorf("Audit(%d, %d) returned another window (-want +got):\n%s", after, limit, diff)
				}
			}
		}
		return nil
	})
}

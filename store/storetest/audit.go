package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
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

// auditMatches is the suite's own reading of store.AuditFilter.
func auditMatches(f store.AuditFilter, e store.AuditEvent) bool {
	for _, c := range [][2]string{{f.TenantID, e.TenantID}, {f.Actor, e.Actor}, {f.Action, e.Action}, {f.TargetKind, e.TargetKind}, {f.TargetID, e.TargetID}} {
		if c[0] != "" && c[0] != c[1] {
			return false
		}
	}
	return (f.Since.IsZero() || e.Time.Equal(f.Since) || e.Time.After(f.Since)) && (f.Until.IsZero() || e.Time.Before(f.Until))
}

// testAuditFilters: AuditEvents returns the events that match the filter
// (tenant, actor, action, target kind and id, time range, and any
// combination), in either order, in pages that follow the cursor, with a
// transaction's own events included inside Update.
func testAuditFilters(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	t1, t2 := id("tenant/one"), id("tenant/two")
	tenants := []string{t1, t2, ""}
	actors := []string{id("user/alice"), id("user/bob"), "system"}
	actions := []string{"application.create", "application.update", "user.create", "servicePrincipal.delete"}
	kinds := []string{"application", "application", "user", "servicePrincipal"}
	event := func(n int) store.AuditEvent {
		a := n % len(actions)
		// Times mostly increase; every seventh event is older than its
		// predecessor (a clock set back), and some share an instant.
		tm := at(time.Duration(n/2) * time.Minute)
		if n%7 == 6 {
			tm = at(-time.Hour)
		}
		return store.AuditEvent{
			Time: tm, TenantID: tenants[n%3], Actor: actors[(n/3)%3], Action: actions[a],
			TargetKind: kinds[a], TargetID: id(fmt.Sprintf("target/%d", n%5)),
			After: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		}
	}
	const total = store.DefaultPageSize + 30
	for b := 0; b < total; b += 10 {
		update(t, s, "append events", func(tx store.Tx) error {
			for n := b; n < min(b+10, total); n++ {
				if err := tx.AppendAudit(event(n)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var all []store.AuditEvent
	view(t, s, "Audit(0, 0)", func(tx store.ReadTx) (err error) {
		all, err = tx.Audit(0, 0)
		return err
	})
	if len(all) != total {
		t.Fatalf("audit log holds %d events, want %d", len(all), total)
	}
	filters := []store.AuditFilter{
		{},
		{TenantID: t1}, {TenantID: t2}, {TenantID: id("tenant/none")},
		{Actor: actors[0]}, {Actor: "system"},
		{Action: "application.update"}, {Action: "application"},
		{TargetKind: "application"}, {TargetID: id("target/3")},
		{TenantID: t1, Actor: actors[1], TargetKind: "application"},
		{Since: at(10 * time.Minute)}, {Until: at(10 * time.Minute)},
		{Since: at(5 * time.Minute), Until: at(20 * time.Minute)},
		{Since: at(-time.Hour), Until: at(-time.Hour + time.Nanosecond)},
		{Since: at(time.Minute), Until: at(time.Minute)},
		{TenantID: t2, Since: at(3 * time.Minute), Until: at(40 * time.Minute), Action: "user.create"},
	}
	check := func(tx store.ReadTx, all []store.AuditEvent, label string) {
		t.Helper()
		for _, f := range filters {
			var want []store.AuditEvent
			for _, e := range all {
				if auditMatches(f, e) {
					want = append(want, e)
				}
			}
			for _, order := range []store.LogOrder{store.OldestFirst, store.NewestFirst} {
				w := want
				if order == store.NewestFirst {
					w = reversed(want)
				}
				for _, limit := range []int{1, 3, 0, total + 1} {
					got, err := walkLog(func(p store.LogPage) ([]store.AuditEvent, int64, error) { return tx.AuditEvents(f, p) },
						func(e store.AuditEvent) int64 { return e.Seq }, order, limit)
					if !noErr(t, err, fmt.Sprintf("%s: AuditEvents(%+v), order %d, limit %d", label, f, order, limit)) {
						continue
					}
					if len(w) == 0 && len(got) == 0 {
						continue
					}
					if diff := cmp.Diff(w, got); diff != "" {
						t.Errorf("%s: AuditEvents(%+v), order %d, limit %d returned other events (-want +got):\n%s", label, f, order, limit, diff)
					}
				}
			}
		}
	}
	view(t, s, "filters", func(tx store.ReadTx) error { check(tx, all, "View"); return nil })

	// Cursors that are not the Seq of a matching event, or past the end.
	view(t, s, "cursors", func(tx store.ReadTx) error {
		f := store.AuditFilter{TenantID: t1} // events 0, 3, 6, …: Seqs 1, 4, 7, …
		for _, c := range []struct {
			p        store.LogPage
			wantSeqs []int64
			wantNext int64
		}{
			{store.LogPage{After: 2, Limit: 2}, []int64{4, 7}, 7},
			{store.LogPage{After: 5, Limit: 2, Order: store.NewestFirst}, []int64{4, 1}, 0},
			{store.LogPage{After: total + 50, Limit: 1}, nil, 0},
			{store.LogPage{After: total + 50, Limit: 1, Order: store.NewestFirst}, []int64{all[len(all)-1-(len(all)-1)%3].Seq}, all[len(all)-1-(len(all)-1)%3].Seq},
			{store.LogPage{After: 1, Limit: 5, Order: store.NewestFirst}, nil, 0},
			{store.LogPage{After: -3, Limit: 1}, []int64{1}, 1},
		} {
			got, next, err := tx.AuditEvents(f, c.p)
			if !noErr(t, err, "AuditEvents") {
				continue
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if !slices.Equal(seqs, c.wantSeqs) || next != c.wantNext {
				t.Errorf("AuditEvents(tenant one, %+v) returned Seqs %v and cursor %d, want %v and %d", c.p, seqs, next, c.wantSeqs, c.wantNext)
			}
		}
		return nil
	})

	// Inside Update: the transaction's own events, with the Seqs they get.
	var inTx []store.AuditEvent
	update(t, s, "own events", func(tx store.Tx) error {
		inTx = slices.Clone(all)
		for n := total; n < total+4; n++ {
			if err := tx.AppendAudit(event(n)); err != nil {
				return err
			}
			e := event(n)
			e.Seq = all[len(all)-1].Seq + int64(n-total+1)
			inTx = append(inTx, e)
		}
		check(tx, inTx, "Update with own events")
		return nil
	})
	view(t, s, "after commit", func(tx store.ReadTx) error {
		got, err := tx.Audit(0, 0)
		if noErr(t, err, "Audit") {
			if diff := cmp.Diff(inTx, got); diff != "" {
				t.Errorf("committed audit log differs from what the transaction saw (-in tx +committed):\n%s", diff)
			}
		}
		check(tx, inTx, "View after the commit")
		return nil
	})
}

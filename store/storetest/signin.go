package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/tenantry/tenantry/store"
)

// signInEvent returns a varied, valid sign-in event: every fourth is a
// refusal, and every seventh is older than its predecessor (a clock set
// back: the log is ordered by Seq, not by time).
func signInEvent(n int) store.SignInEvent {
	tenants := []string{id("tenant/one"), id("tenant/two"), ""}
	clients := []string{id("appId/web"), id("appId/daemon"), "not-a-guid"}
	grants := []string{"client_credentials", "authorization_code", "refresh_token", "authorize"}
	tm := at(time.Duration(n/2) * time.Second)
	if n%7 == 6 {
		tm = at(-time.Hour)
	}
	e := store.SignInEvent{
		Time:                 tm,
		TenantID:             tenants[n%3],
		ClientAppID:          clients[(n/3)%3],
		ResourceAppID:        id(fmt.Sprintf("appId/api/%d", n%2)),
		GrantType:            grants[n%4],
		ClientCredentialType: "clientSecret",
		Outcome:              store.SignInSuccess,
		CorrelationID:        id(fmt.Sprintf("correlation/%d", n%9)),
		RequestID:            id(fmt.Sprintf("request/%d", n)),
		IPAddress:            fmt.Sprintf("192.0.2.%d", n%250),
		UserAgent:            "Go-http-client/1.1",
	}
	if e.GrantType == "client_credentials" {
		e.ServicePrincipalID = id(fmt.Sprintf("sp/%d", n%3))
	} else {
		e.UserID = id(fmt.Sprintf("user/%d", n%5))
	}
	if n%4 == 3 {
		e.Outcome, e.ErrorCode, e.OAuthError = store.SignInFailure, []int{7000215, 50126, 700016}[n%3], "invalid_client"
	}
	return e
}

// signInMatches is the suite's own reading of store.SignInFilter.
func signInMatches(f store.SignInFilter, e store.SignInEvent) bool {
	for _, c := range [][2]string{
		{f.TenantID, e.TenantID}, {f.ClientAppID, e.ClientAppID}, {f.ResourceAppID, e.ResourceAppID},
		{f.UserID, e.UserID}, {f.ServicePrincipalID, e.ServicePrincipalID}, {f.GrantType, e.GrantType},
		{f.CorrelationID, e.CorrelationID}, {string(f.Outcome), string(e.Outcome)},
	} {
		if c[0] != "" && c[0] != c[1] {
			return false
		}
	}
	return (f.ErrorCode == 0 || f.ErrorCode == e.ErrorCode) &&
		(f.Since.IsZero() || !e.Time.Before(f.Since)) && (f.Until.IsZero() || e.Time.Before(f.Until))
}

func signIns(t *testing.T, s store.Store, f store.SignInFilter, order store.LogOrder, limit int) ([]store.SignInEvent, error) {
	return walkLog(func(p store.LogPage) ([]store.SignInEvent, int64, error) { return s.SignIns(t.Context(), f, p) },
		func(e store.SignInEvent) int64 { return e.Seq }, order, limit)
}

// testSignInLog: AppendSignIn assigns Seqs 1, 2, 3, … in append order,
// ignores the caller's Seq, stores the event as written (its time in UTC),
// refuses invalid events with ErrInvalid without appending them, cuts long
// fields at a character boundary, and honours a done context; SignIns
// returns the events that match a filter (every field, and combinations),
// in either order, in pages that follow the cursor; the log is outside
// transactions: an event appended during an Update that fails stays, and
// one may be appended during a View.
func testSignInLog(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	got, next, err := s.SignIns(t.Context(), store.SignInFilter{}, store.LogPage{})
	if noErr(t, err, "SignIns of an empty log") && (len(got) != 0 || next != 0) {
		t.Errorf("SignIns of an empty log returned %d events and cursor %d, want none and 0", len(got), next)
	}
	const total = store.DefaultPageSize + 40
	var want []store.SignInEvent
	for n := range total {
		e := signInEvent(n)
		e.Seq = 999 // ignored
		if n == 5 {
			e.Time = e.Time.In(time.FixedZone("CET", 3600))
		}
		if !noErr(t, s.AppendSignIn(t.Context(), e), "AppendSignIn") {
			return
		}
		e.Seq = int64(len(want) + 1)
		e.Time = e.Time.UTC()
		want = append(want, e)
	}
	for _, bad := range []struct {
		what string
		edit func(e *store.SignInEvent)
	}{
		{"without a time", func(e *store.SignInEvent) { e.Time = time.Time{} }},
		{"without an outcome", func(e *store.SignInEvent) { e.Outcome = "" }},
		{"with an unknown outcome", func(e *store.SignInEvent) { e.Outcome = "SUCCESS" }},
		{"of a success with an AADSTS code", func(e *store.SignInEvent) { e.ErrorCode = 50126 }},
		{"of a success with an OAuth error", func(e *store.SignInEvent) { e.OAuthError = "invalid_grant" }},
	} {
		e := signInEvent(0)
		bad.edit(&e)
		wantErr(t, s.AppendSignIn(t.Context(), e), store.ErrInvalid, "AppendSignIn of an event "+bad.what)
	}
	done, cancel := context.WithCancel(t.Context())
	cancel()
	wantErr(t, s.AppendSignIn(done, signInEvent(1)), context.Canceled, "AppendSignIn with a done context")
	_, _, err = s.SignIns(done, store.SignInFilter{}, store.LogPage{})
	wantErr(t, err, context.Canceled, "SignIns with a done context")

	// Long fields are cut at a character boundary.
	long := signInEvent(total)
	long.ClientAppID = strings.Repeat("é", store.MaxSignInFieldLen) // 2 bytes each
	long.UserAgent = "x" + strings.Repeat("€", store.MaxSignInFieldLen)
	long.IPAddress = strings.Repeat("a", store.MaxSignInFieldLen)
	if noErr(t, s.AppendSignIn(t.Context(), long), "AppendSignIn of an event with long fields") {
		long.Seq = int64(len(want) + 1)
		long.ClientAppID = strings.Repeat("é", store.MaxSignInFieldLen/2)
		long.UserAgent = "x" + strings.Repeat("€", (store.MaxSignInFieldLen-1)/3)
		want = append(want, long)
	}

	all, err := signIns(t, s, store.SignInFilter{}, store.OldestFirst, 0)
	if !noErr(t, err, "SignIns of every event") {
		return
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Fatalf("SignIns returned other events than appended, in append order (-want +got):\n%s", diff)
	}
	for _, e := range all {
		if e.Time.Location() != time.UTC {
			t.Errorf("event %d has time %v, want UTC", e.Seq, e.Time)
		}
		for _, f := range []string{e.ClientAppID, e.UserAgent} {
			if len(f) > store.MaxSignInFieldLen || !utf8.ValidString(f) {
				t.Errorf("event %d holds a field of %d bytes (valid UTF-8: %v), want at most %d, valid", e.Seq, len(f), utf8.ValidString(f), store.MaxSignInFieldLen)
			}
		}
	}

	filters := []store.SignInFilter{
		{},
		{TenantID: id("tenant/one")}, {TenantID: id("tenant/none")},
		{ClientAppID: id("appId/daemon")}, {ClientAppID: "not-a-guid"},
		{ResourceAppID: id("appId/api/1")},
		{UserID: id("user/2")}, {ServicePrincipalID: id("sp/1")},
		{GrantType: "refresh_token"}, {CorrelationID: id("correlation/4")},
		{Outcome: store.SignInFailure}, {Outcome: store.SignInSuccess},
		{ErrorCode: 50126}, {ErrorCode: 1},
		{Since: at(30 * time.Second)}, {Until: at(30 * time.Second)},
		{Since: at(10 * time.Second), Until: at(40 * time.Second)},
		{Since: at(-time.Hour), Until: at(-time.Hour + time.Nanosecond)},
		{TenantID: id("tenant/two"), Outcome: store.SignInFailure, Since: at(5 * time.Second)},
		{ClientAppID: id("appId/web"), GrantType: "authorization_code", UserID: id("user/1")},
	}
	for _, f := range filters {
		var w []store.SignInEvent
		for _, e := range want {
			if signInMatches(f, e) {
				w = append(w, e)
			}
		}
		for _, order := range []store.LogOrder{store.OldestFirst, store.NewestFirst} {
			wo := w
			if order == store.NewestFirst {
				wo = reversed(w)
			}
			for _, limit := range []int{1, 4, 0, total + 10} {
				got, err := signIns(t, s, f, order, limit)
				if !noErr(t, err, fmt.Sprintf("SignIns(%+v), order %d, limit %d", f, order, limit)) {
					continue
				}
				if len(wo) == 0 && len(got) == 0 {
					continue
				}
				if diff := cmp.Diff(wo, got); diff != "" {
					t.Errorf("SignIns(%+v), order %d, limit %d returned other events (-want +got):\n%s", f, order, limit, diff)
				}
			}
		}
	}

	// Not transactional: events appended in a failed Update and in a View
	// stay. (An append is an effect outside the transaction: an update
	// function that may run again must make it once.)
	n := len(want)
	appended := false
	err = s.Update(t.Context(), func(tx store.Tx) error {
		if !appended {
			if err := s.AppendSignIn(t.Context(), signInEvent(1000)); err != nil {
				return err
			}
			appended = true
		}
		return errAbort
	})
	wantErr(t, err, errAbort, "Update that appends a sign-in event and fails")
	appended = false
	view(t, s, "append during a View", func(store.ReadTx) error {
		if appended { // a View function may run again, too
			return nil
		}
		appended = true
		return s.AppendSignIn(t.Context(), signInEvent(1001))
	})
	got, _, err = s.SignIns(t.Context(), store.SignInFilter{}, store.LogPage{After: int64(n)})
	if noErr(t, err, "SignIns") && (len(got) != 2 || got[0].RequestID != signInEvent(1000).RequestID || got[1].RequestID != signInEvent(1001).RequestID) {
		t.Errorf("after appends during a failed Update and a View, the log has %d new events, want both", len(got))
	}
}

// testSignInIndependence: AppendSignIn and SignIns return while an Update
// or a View, on another goroutine, is in the middle of its function: the
// sign-in log waits for no transaction.
func testSignInIndependence(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	for _, kind := range []string{"Update", "View"} {
		inside, release := make(chan struct{}), make(chan struct{})
		var once sync.Once // the function may run more than once
		var wg sync.WaitGroup
		wg.Go(func() {
			var err error
			if kind == "Update" {
				err = s.Update(t.Context(), func(tx store.Tx) error {
					once.Do(func() { close(inside) })
					<-release
					return store.Codes.Put(tx, counter("held", 1))
				})
			} else {
				err = s.View(t.Context(), func(store.ReadTx) error {
					once.Do(func() { close(inside) })
					<-release
					return nil
				})
			}
			noErr(t, err, kind+" held open")
		})
		<-inside
		returned := make(chan error, 1)
		go func() {
			err := s.AppendSignIn(t.Context(), signInEvent(7))
			if err == nil {
				_, _, err = s.SignIns(t.Context(), store.SignInFilter{}, store.LogPage{})
			}
			returned <- err
		}()
		select {
		case err := <-returned:
			noErr(t, err, "AppendSignIn and SignIns during an open "+kind)
		case <-time.After(10 * time.Second):
			t.Errorf("AppendSignIn or SignIns waited 10s for an open %s", kind)
		}
		close(release)
		wg.Wait()
	}
}

// testSignInConcurrency: writers append concurrently while pollers follow
// the log by cursor and a writer of records commits Updates; every event
// is stored once, with strictly increasing Seqs, each writer's in the
// order it appended them; and a poller misses none (an event is visible
// only once every earlier one is).
func testSignInConcurrency(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	const perWriter = 100
	var wwg sync.WaitGroup
	for w := range writers {
		wwg.Go(func() {
			for i := range perWriter {
				e := signInEvent(i)
				e.UserID, e.RequestID = fmt.Sprintf("writer-%d", w), fmt.Sprint(i)
				if err := s.AppendSignIn(t.Context(), e); err != nil {
					t.Errorf("concurrent AppendSignIn returned %v, want success", err)
					return
				}
			}
		})
	}
	wwg.Go(func() {
		for i := range writesEach {
			err := s.Update(t.Context(), func(tx store.Tx) error {
				return errors.Join(store.Codes.Put(tx, counter("records", i)),
					tx.AppendAudit(store.AuditEvent{Time: at(0), Actor: "writer", Action: "count", TargetKind: "code"}))
			})
			if err != nil {
				t.Errorf("concurrent Update returned %v, want success", err)
				return
			}
		}
	})
	stop := make(chan struct{})
	polled := make([][]int64, readers)
	var rwg sync.WaitGroup
	for r := range readers {
		rwg.Go(func() {
			var cursor int64
			for final := false; ; {
				select {
				case <-stop:
					final = true
				default:
				}
				events, _, err := s.SignIns(t.Context(), store.SignInFilter{}, store.LogPage{After: cursor, Limit: 7})
				if err != nil {
					t.Errorf("concurrent SignIns returned %v, want success", err)
					return
				}
				for _, e := range events {
					polled[r] = append(polled[r], e.Seq)
					cursor = e.Seq
				}
				// A filtered read meanwhile.
				if _, _, err := s.SignIns(t.Context(), store.SignInFilter{UserID: "writer-1", Outcome: store.SignInFailure}, store.LogPage{Order: store.NewestFirst}); err != nil {
					t.Errorf("concurrent filtered SignIns returned %v, want success", err)
					return
				}
				if final && len(events) == 0 {
					return
				}
			}
		})
	}
	wwg.Wait()
	close(stop)
	rwg.Wait()

	all, err := signIns(t, s, store.SignInFilter{}, store.OldestFirst, 0)
	if !noErr(t, err, "SignIns after the concurrent appends") {
		return
	}
	if len(all) != writers*perWriter {
		t.Fatalf("log holds %d events after %d concurrent appends, want as many", len(all), writers*perWriter)
	}
	next := map[string]int{}
	seqs := make([]int64, len(all))
	for i, e := range all {
		seqs[i] = e.Seq
		if e.RequestID != fmt.Sprint(next[e.UserID]) {
			t.Fatalf("event %d is append %s of %s, want append %d: a writer's events out of order", e.Seq, e.RequestID, e.UserID, next[e.UserID])
		}
		next[e.UserID]++
	}
	for r, got := range polled {
		if diff := cmp.Diff(seqs, got); diff != "" {
			t.Errorf("poller %d following the cursor saw other Seqs than the log holds (-log +polled):\n%s", r, diff)
		}
	}
}

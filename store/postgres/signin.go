package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store"
)

// signInBatch bounds the events of one write of the sign-in log.
const signInBatch = 1000

var signInColumns = []string{"seq", "time_s", "time_ns", "tenant_id", "client_app_id", "resource_app_id", "user_id",
	"service_principal_id", "grant_type", "client_credential_type", "outcome", "error_code", "oauth_error",
	"correlation_id", "request_id", "ip_address", "user_agent"}

const sqlSignInColumns = `seq, time_s, time_ns, tenant_id, client_app_id, resource_app_id, user_id,
	service_principal_id, grant_type, client_credential_type, outcome, error_code, oauth_error,
	correlation_id, request_id, ip_address, user_agent`

// signInWriter buffers appended sign-in events and writes them in the
// background, oldest first, a batch per transaction.
type signInWriter struct {
	s       *Store
	max     int
	timeout time.Duration

	mu       sync.Mutex
	buf      []store.SignInEvent // appended, not yet written, in append order
	appended uint64              // events appended since Open
	written  uint64              // events written (or dropped at Close)
	changed  chan struct{}       // closed and replaced when written or stopping changes
	wake     chan struct{}       // capacity 1: events to write
	stopping bool
	dropped  int
	done     chan struct{} // closed when the loop ends
}

func newSignInWriter(s *Store, max int, timeout time.Duration) *signInWriter {
	if max <= 0 {
		max = 4096
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	w := &signInWriter{s: s, max: max, timeout: timeout, changed: make(chan struct{}), wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.loop()
	return w
}

// broadcast wakes the waiters; the caller holds mu.
func (w *signInWriter) broadcast() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// AppendSignIn implements store.Store. The event is prepared and buffered;
// the background writer writes it, usually within one round trip of the
// server (see the package documentation, "Sign-in log"). AppendSignIn
// waits only while Config.SignInBuffer events are buffered.
func (s *Store) AppendSignIn(ctx context.Context, e store.SignInEvent) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: sign-in log: %w", err)
	}
	e, err := store.PrepareSignIn(e)
	if err != nil {
		return fmt.Errorf("postgres: sign-in log: %w", err)
	}
	if err := s.enter("sign-in log"); err != nil {
		return err
	}
	defer s.leave()
	w := s.signIns
	w.mu.Lock()
	for len(w.buf) >= w.max {
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("postgres: sign-in log: %w", ctx.Err())
		}
		w.mu.Lock()
	}
	w.buf = append(w.buf, e)
	w.appended++
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// flush waits until every event appended before the call is written.
func (w *signInWriter) flush(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	target := w.appended
	for w.written < target {
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			w.mu.Lock()
			return ctx.Err()
		}
		w.mu.Lock()
	}
	return nil
}

func (w *signInWriter) loop() {
	defer close(w.done)
	var deadline time.Time
	failures := 0
	for {
		w.mu.Lock()
		for len(w.buf) == 0 && !w.stopping {
			w.mu.Unlock()
			<-w.wake
			w.mu.Lock()
		}
		if len(w.buf) == 0 {
			w.mu.Unlock()
			return
		}
		if w.stopping && deadline.IsZero() {
			deadline = time.Now().Add(w.timeout)
		}
		batch := w.buf[:min(len(w.buf), signInBatch)]
		w.mu.Unlock()

		err := w.write(batch)

		w.mu.Lock()
		if err == nil || (!deadline.IsZero() && time.Now().After(deadline)) {
			if err != nil {
				w.dropped += len(w.buf)
				batch = w.buf
			}
			w.buf = append(w.buf[:0:0], w.buf[len(batch):]...)
			w.written += uint64(len(batch))
			w.broadcast()
		}
		w.mu.Unlock()
		if err == nil {
			failures = 0
			continue
		}
		failures++
		w.s.log.Error("postgres: sign-in log write failed; retrying", "events", len(batch), "failures", failures, "error", err)
		pause := min(50*time.Millisecond<<min(failures, 7), 5*time.Second)
		if !deadline.IsZero() {
			pause = min(pause, time.Until(deadline)+time.Millisecond)
		}
		select {
		case <-time.After(pause):
		case <-w.wake:
		}
	}
}

// write writes batch in one transaction: the Seqs come from the row
// 'signin' of counters, locked until the commit, so that the writers of
// every process append one after the other and an event becomes visible
// only with, or after, every event of lower Seq.
func (w *signInWriter) write(batch []store.SignInEvent) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return pgx.BeginTxFunc(ctx, w.s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var last int64
		if err := tx.QueryRow(ctx, `UPDATE counters SET seq = seq + $1 WHERE name = 'signin' RETURNING seq`, len(batch)).Scan(&last); err != nil {
			return err
		}
		first := last - int64(len(batch)) + 1
		rows := make([][]any, len(batch))
		for i := range batch {
			e := &batch[i]
			rows[i] = []any{first + int64(i), e.Time.Unix(), int32(e.Time.Nanosecond()), []byte(e.TenantID), []byte(e.ClientAppID),
				[]byte(e.ResourceAppID), []byte(e.UserID), []byte(e.ServicePrincipalID), []byte(e.GrantType),
				[]byte(e.ClientCredentialType), string(e.Outcome), int64(e.ErrorCode), []byte(e.OAuthError),
				[]byte(e.CorrelationID), []byte(e.RequestID), []byte(e.IPAddress), []byte(e.UserAgent)}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"signin_log"}, signInColumns, pgx.CopyFromRows(rows))
		return err
	})
}

// close writes what is buffered, for at most the timeout, and ends the
// loop. It reports the events it had to drop.
func (w *signInWriter) close() error {
	w.mu.Lock()
	w.stopping = true
	w.broadcast()
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dropped > 0 {
		return fmt.Errorf("postgres: close: %d sign-in events could not be written", w.dropped)
	}
	return nil
}

// SignIns implements store.Store. It first waits until every event this
// process appended before the call is written, then reads the page in
// one query.
func (s *Store) SignIns(ctx context.Context, sf store.SignInFilter, p store.LogPage) ([]store.SignInEvent, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("postgres: sign-in log: %w", err)
	}
	if err := s.enter("sign-in log"); err != nil {
		return nil, 0, err
	}
	defer s.leave()
	if err := s.signIns.flush(ctx); err != nil {
		return nil, 0, fmt.Errorf("postgres: sign-in log: %w", err)
	}
	var f filter
	f.eq("tenant_id", sf.TenantID)
	f.eq("client_app_id", sf.ClientAppID)
	f.eq("resource_app_id", sf.ResourceAppID)
	f.eq("user_id", sf.UserID)
	f.eq("service_principal_id", sf.ServicePrincipalID)
	f.eq("grant_type", sf.GrantType)
	f.eq("correlation_id", sf.CorrelationID)
	if sf.Outcome != "" {
		f.conds = append(f.conds, "outcome = "+f.arg(string(sf.Outcome)))
	}
	if sf.ErrorCode != 0 {
		f.conds = append(f.conds, "error_code = "+f.arg(int64(sf.ErrorCode)))
	}
	f.times(sf.Since, sf.Until)
	sql, limit := f.page(`SELECT `+sqlSignInColumns+` FROM signin_log`, p)
	rows, err := s.pool.Query(ctx, sql, f.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: sign-in log: %w", err)
	}
	defer rows.Close()
	var out []store.SignInEvent
	for rows.Next() {
		var e store.SignInEvent
		var secs, code int64
		var nsec int32
		var outcome string
		var tid, client, res, user, sp, grant, credType, oauth, corr, req, ip, ua []byte
		if err := rows.Scan(&e.Seq, &secs, &nsec, &tid, &client, &res, &user, &sp, &grant, &credType, &outcome, &code, &oauth, &corr, &req, &ip, &ua); err != nil {
			return nil, 0, fmt.Errorf("postgres: sign-in log: %w", err)
		}
		e.Time = time.Unix(secs, int64(nsec)).UTC()
		e.TenantID, e.ClientAppID, e.ResourceAppID, e.UserID, e.ServicePrincipalID = string(tid), string(client), string(res), string(user), string(sp)
		e.GrantType, e.ClientCredentialType, e.OAuthError = string(grant), string(credType), string(oauth)
		e.CorrelationID, e.RequestID, e.IPAddress, e.UserAgent = string(corr), string(req), string(ip), string(ua)
		e.Outcome, e.ErrorCode = store.SignInOutcome(outcome), int(code)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("postgres: sign-in log: %w", err)
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Seq
	}
	return out, next, nil
}

package postgres

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantry/tenantry/store"
)

const (
	// sqlBeginUpdate and sqlLock open an Update: the lock of the
	// writers' row comes first, before any read, so that every read of
	// the transaction sees the state the previous writer committed.
	sqlBeginUpdate = `BEGIN ISOLATION LEVEL READ COMMITTED`
	sqlLock        = `SELECT seq, rev FROM counters WHERE name = 'audit' FOR UPDATE`
	sqlUnlock      = `UPDATE counters SET seq = $1, rev = $2 WHERE name = 'audit'`

	sqlProbeRev  = `SELECT rev FROM records WHERE kind = $1 AND id = $2`
	sqlProbeUniq = `SELECT k.idx, k.key, k.id FROM record_keys k JOIN unnest($3::text[], $4::bytea[]) AS u(idx, key)
		ON k.idx = u.idx AND k.key = u.key WHERE k.kind = $1 AND k.uniq AND k.id <> $2 LIMIT 1`
	sqlPut = `INSERT INTO records (kind, id, rev, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, id) DO UPDATE SET rev = excluded.rev, data = excluded.data`
	sqlDeleteKeys = `DELETE FROM record_keys WHERE kind = $1 AND id = $2`
	sqlAddKeys    = `INSERT INTO record_keys (kind, idx, key, id, uniq)
		SELECT $1, u.idx, u.key, $2, u.uniq FROM unnest($3::text[], $4::bytea[], $5::bool[]) AS u(idx, key, uniq)`
	sqlDelete = `DELETE FROM records WHERE kind = $1 AND id = $2`
)

// rollbackTimeout bounds the ROLLBACK of a failed Update.
const rollbackTimeout = 10 * time.Second

// Update runs fn in a read-write transaction (see the package
// documentation, "Transactions"): Updates run one at a time across every
// process sharing the database, so fn sees the latest committed state and
// its writes never conflict with another's; a serialization failure or
// deadlock reported by the server (which a CockroachDB cluster may
// report) is retried with jittered exponential backoff, at most
// Config.MaxRetries times, and then returns an error matching
// store.ErrConflict. fn's error is returned unchanged; a panic in fn
// propagates after the rollback.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: update: %w", err)
	}
	if err := s.enter("update"); err != nil {
		return err
	}
	defer s.leave()
	select {
	case s.wmu <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("postgres: update: %w", ctx.Err())
	}
	defer func() { <-s.wmu }()
	for attempt := 0; ; attempt++ {
		err, retry := s.attempt(ctx, fn)
		if !retry {
			return err
		}
		if attempt >= s.maxRetries {
			return fmt.Errorf("postgres: update: %d attempts failed: %w: %w", attempt+1, store.ErrConflict, err)
		}
		// Full jitter over an exponential ceiling: 2 ms, 4 ms, … 250 ms.
		ceiling := min(2*time.Millisecond<<attempt, 250*time.Millisecond)
		select {
		case <-time.After(rand.N(ceiling) + time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("postgres: update: %w", ctx.Err())
		}
	}
}

// attempt runs fn once in a transaction; retry reports a failure worth
// another attempt.
func (s *Store) attempt(ctx context.Context, fn func(tx store.Tx) error) (err error, retry bool) {
	t := &tx{ctx: ctx}
	conn, err := s.begin(ctx, t)
	if err != nil {
		return fmt.Errorf("postgres: update: begin: %w", err), retryable(err)
	}
	t.conn = conn
	committed := false
	defer func() {
		t.end()
		if !committed {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			_, _ = conn.Exec(rctx, "ROLLBACK") // a broken connection is destroyed by Release
			cancel()
		}
		conn.Release()
	}()
	ferr := fn(t)
	t.end()
	if t.err != nil && retryable(t.err) {
		return t.err, true
	}
	if ferr != nil {
		return ferr, false
	}
	if t.err != nil {
		return t.err, false
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: update: not committed: %w", err), false
	}
	b := &pgx.Batch{}
	t.queueAudit(b)
	if t.wrote {
		b.Queue(sqlUnlock, t.seq, t.rev)
	}
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: update: commit: %w", err), retryable(err)
	}
	if conn.Conn().PgConn().TxStatus() != 'I' {
		return fmt.Errorf("postgres: update: commit: the transaction did not end"), false
	}
	committed = true
	return nil, false
}

// begin acquires a connection, begins a transaction on it and takes the
// writers' lock, in one round trip; on a second connection if the first
// was dead (the server ended it, say).
func (s *Store) begin(ctx context.Context, t *tx) (*pgxpool.Conn, error) {
	for attempt := 0; ; attempt++ {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		b := &pgx.Batch{}
		b.Queue(sqlBeginUpdate)
		b.Queue(sqlLock).QueryRow(func(row pgx.Row) error { return row.Scan(&t.seq, &t.rev) })
		err = conn.SendBatch(ctx, b).Close()
		if err == nil {
			return conn, nil
		}
		closed := conn.Conn().IsClosed()
		conn.Release()
		if !closed || attempt > 0 || ctx.Err() != nil {
			return nil, err
		}
	}
}

// tx is the transaction of Update. It holds the writers' lock: seq and
// rev are the last audit Seq and record revision, final as they are
// handed out.
type tx struct {
	mu      sync.Mutex
	ctx     context.Context
	conn    *pgxpool.Conn
	seq     int64
	rev     int64
	pending []store.AuditEvent // appended, not yet inserted
	wrote   bool               // records or audit events written: the counters change
	done    bool
	err     error // a failed statement: the transaction is lost
}

var (
	_ store.Tx           = (*tx)(nil)
	_ store.UniqueReader = (*tx)(nil)
)

func (t *tx) end() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}

// check reports whether the transaction may be used; the caller holds mu.
func (t *tx) check() error {
	if t.done {
		return errDone
	}
	return t.err
}

// fail records a failed statement.
func (t *tx) fail(err error) error {
	if t.err == nil {
		t.err = fmt.Errorf("postgres: update: %w", err)
	}
	return t.err
}

// Get implements store.ReadTx.
func (t *tx) Get(k store.Kind, id string) (any, store.Rev, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return nil, 0, err
	}
	r, ok, err := getRecord(t.ctx, t.conn, k, id)
	if err != nil {
		return nil, 0, t.fail(err)
	}
	if !ok {
		return nil, 0, notFound(k, id)
	}
	return r.v, r.rev, nil
}

// Lookup implements store.ReadTx.
func (t *tx) Lookup(k store.Kind, index, key string) ([]any, error) {
	return t.lookup(k, index, key, false)
}

// One implements store.UniqueReader.
func (t *tx) One(k store.Kind, index, key string) (any, error) {
	vs, err := t.lookup(k, index, key, true)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, notFoundKey(k, index, key)
	}
	return vs[0], nil
}

func (t *tx) lookup(k store.Kind, index, key string, one bool) ([]any, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return nil, err
	}
	if _, err := checkIndex(k, index, false); err != nil {
		return nil, err
	}
	rs, err := lookupRecords(t.ctx, t.conn, k, index, key, one)
	if err != nil {
		return nil, t.fail(err)
	}
	return values(rs), nil
}

// List implements store.ReadTx.
func (t *tx) List(k store.Kind, index, key string, p store.Page) ([]any, string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return nil, "", err
	}
	q, res, err := listQuery(k, index, key, p)
	if err != nil {
		return nil, "", err
	}
	if err := runQuery(t.ctx, t.conn, q); err != nil {
		return nil, "", t.fail(err)
	}
	return res.items, res.next, nil
}

// flushAudit inserts the pending audit events, so that reads of the log
// see them.
func (t *tx) flushAudit() error {
	if len(t.pending) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	t.queueAudit(b)
	if err := t.conn.SendBatch(t.ctx, b).Close(); err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *tx) queueAudit(b *pgx.Batch) {
	for i := range t.pending {
		b.Queue(sqlAuditAdd, auditArgs(&t.pending[i])...)
	}
	t.pending = nil
}

// Audit implements store.ReadTx: the committed events and this
// transaction's, with their final Seqs.
func (t *tx) Audit(after int64, limit int) ([]store.AuditEvent, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := t.flushAudit(); err != nil {
		return nil, err
	}
	q, res := auditWindowQuery(after, limit)
	if err := runQuery(t.ctx, t.conn, q); err != nil {
		return nil, t.fail(err)
	}
	return res.events, nil
}

// AuditEvents implements store.ReadTx: the committed events and this
// transaction's, with their final Seqs.
func (t *tx) AuditEvents(f store.AuditFilter, p store.LogPage) ([]store.AuditEvent, int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return nil, 0, err
	}
	if err := t.flushAudit(); err != nil {
		return nil, 0, err
	}
	q, res := auditPageQuery(f, p)
	if err := runQuery(t.ctx, t.conn, q); err != nil {
		return nil, 0, t.fail(err)
	}
	return res.events, res.next, nil
}

// AppendAudit implements store.Tx. The event gets its Seq at once (the
// transaction holds the writers' lock) and is inserted with the commit,
// or before a read of the log.
func (t *tx) AppendAudit(e store.AuditEvent) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return err
	}
	t.seq++
	t.wrote = true
	e.Seq = t.seq
	e.Before = bytes.Clone(e.Before)
	e.After = bytes.Clone(e.After)
	t.pending = append(t.pending, e)
	return nil
}

// Put implements store.Tx.
func (t *tx) Put(k store.Kind, v any, rev store.Rev) error {
	return t.write(k, v, rev, false)
}

// Create implements store.Tx.
func (t *tx) Create(k store.Kind, v any) error {
	return t.write(k, v, 0, true)
}

// write checks a Put or Create (revision, existence, unique keys) in one
// round trip, then writes the record and its keys in another.
func (t *tx) write(k store.Kind, v any, rev store.Rev, create bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	what := "put"
	if create {
		what = "create"
	}
	if err := t.check(); err != nil {
		return err
	}
	if err := k.Check(v); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	id := k.ID(v)
	data, err := k.Encode(v)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	idx, keys, uniq := keysOf(k, v)
	var uidx []string
	var ukeys [][]byte
	for i := range idx {
		if uniq[i] {
			uidx, ukeys = append(uidx, idx[i]), append(ukeys, keys[i])
		}
	}
	if create || rev != 0 || len(uidx) > 0 {
		var cur *int64
		var holder struct {
			idx      string
			key, hid []byte
		}
		b := &pgx.Batch{}
		b.Queue(sqlProbeRev, k.Name(), []byte(id)).Query(func(rows pgx.Rows) error {
			defer rows.Close()
			for rows.Next() {
				if err := rows.Scan(&cur); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		if len(uidx) > 0 {
			b.Queue(sqlProbeUniq, k.Name(), []byte(id), uidx, ukeys).Query(func(rows pgx.Rows) error {
				defer rows.Close()
				for rows.Next() {
					if err := rows.Scan(&holder.idx, &holder.key, &holder.hid); err != nil {
						return err
					}
				}
				return rows.Err()
			})
		}
		if err := t.conn.SendBatch(t.ctx, b).Close(); err != nil {
			return t.fail(err)
		}
		switch {
		case create && cur != nil:
			return fmt.Errorf("postgres: create %s %q: %w", k.Name(), id, store.ErrAlreadyExists)
		case rev != 0 && (cur == nil || store.Rev(*cur) != rev):
			var have int64
			if cur != nil {
				have = *cur
			}
			return fmt.Errorf("postgres: put %s %q: revision %d, want %d: %w", k.Name(), id, have, rev, store.ErrConflict)
		case holder.hid != nil:
			return fmt.Errorf("postgres: %s %q: index %s key %q is held by %q: %w",
				k.Name(), id, holder.idx, holder.key, holder.hid, store.ErrAlreadyExists)
		}
	}
	t.rev++
	b := &pgx.Batch{}
	b.Queue(sqlPut, k.Name(), []byte(id), t.rev, data)
	b.Queue(sqlDeleteKeys, k.Name(), []byte(id))
	if len(idx) > 0 {
		b.Queue(sqlAddKeys, k.Name(), []byte(id), idx, keys, uniq)
	}
	if err := t.conn.SendBatch(t.ctx, b).Close(); err != nil {
		if isCode(err, codeUniqueViolation) {
			return fmt.Errorf("postgres: %s %s %q: %w: %w", what, k.Name(), id, store.ErrAlreadyExists, t.fail(err))
		}
		return t.fail(err)
	}
	t.wrote = true
	return nil
}

// Delete implements store.Tx: the record and its keys, in one round trip.
// It takes a revision, as a write does.
func (t *tx) Delete(k store.Kind, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return err
	}
	var deleted int64
	b := &pgx.Batch{}
	b.Queue(sqlDelete, k.Name(), []byte(id)).Exec(func(ct pgconn.CommandTag) error {
		deleted = ct.RowsAffected()
		return nil
	})
	b.Queue(sqlDeleteKeys, k.Name(), []byte(id))
	if err := t.conn.SendBatch(t.ctx, b).Close(); err != nil {
		return t.fail(err)
	}
	if deleted == 0 {
		return notFound(k, id)
	}
	// A deletion takes a revision too, so that every commit that writes
	// moves the counter row, which Views check their cache against.
	t.rev++
	t.wrote = true
	return nil
}

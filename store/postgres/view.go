package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantry/tenantry/store"
)

// sqlBeginView opens the snapshot of a View. It is sent in the same
// round trip as the View's first read.
const sqlBeginView = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`

// viewCommitTimeout bounds the COMMIT of a View, which runs after View
// returned.
const viewCommitTimeout = 30 * time.Second

var errDone = fmt.Errorf("postgres: transaction used after it ended: %w", store.ErrClosed)

// View runs fn in a read-only REPEATABLE READ transaction: one snapshot
// of the committed state. The transaction begins with fn's first read, in
// the same round trip, and its COMMIT is sent after fn returned without
// View waiting for it (the connection returns to the pool once it is
// done; Close waits for it). Reads are cached for the transaction: a
// record read twice, or read after a Prefetch (store.Prefetcher) fetched
// it, costs no round trip. fn's error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(tx store.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: view: %w", err)
	}
	if err := s.enter("view"); err != nil {
		return err
	}
	defer s.leave()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: view: %w", err)
	}
	rt := &readTx{s: s, ctx: ctx, conn: conn}
	defer rt.end(s)
	return fn(rt)
}

// readTx is the transaction of View.
type readTx struct {
	s     *Store
	mu    sync.Mutex
	ctx   context.Context
	conn  *pgxpool.Conn
	begun bool
	done  bool
	err   error // a failed round trip: the transaction is lost
	recs  map[recKey]cachedRecord
	looks map[lookKey][]string // complete lookups: ids in order
}

type recKey struct{ kind, id string }

type lookKey struct{ kind, index, key string }

type cachedRecord struct {
	v     any
	rev   store.Rev
	found bool
}

var (
	_ store.ReadTx       = (*readTx)(nil)
	_ store.UniqueReader = (*readTx)(nil)
	_ store.Prefetcher   = (*readTx)(nil)
)

// end releases the connection: at once if no transaction began, else
// after the COMMIT, sent in the background.
func (rt *readTx) end(s *Store) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.done = true
	conn := rt.conn
	rt.conn = nil
	if conn == nil {
		return
	}
	if !rt.begun {
		conn.Release()
		return
	}
	s.views.Add(1)
	go func() {
		defer s.views.Done()
		ctx, cancel := context.WithTimeout(context.Background(), viewCommitTimeout)
		defer cancel()
		// A failed COMMIT leaves the connection in a transaction, or
		// closed: Release then destroys it.
		_, _ = conn.Exec(ctx, "COMMIT")
		conn.Release()
	}()
}

// run sends b, with the BEGIN of the snapshot ahead of it when the
// transaction has not begun, in one round trip.
func (rt *readTx) run(b *pgx.Batch) error {
	if rt.done {
		return errDone
	}
	if rt.err != nil {
		return rt.err
	}
	first := !rt.begun
	if first {
		b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: sqlBeginView}}, b.QueuedQueries...)
		rt.begun = true
	}
	err := rt.conn.SendBatch(rt.ctx, b).Close()
	if err != nil && first && rt.conn.Conn().IsClosed() && rt.ctx.Err() == nil {
		// The pooled connection was dead (the server ended it, say).
		// Nothing was read yet: read again on another.
		rt.conn.Release()
		rt.conn = nil
		conn, aerr := rt.s.pool.Acquire(rt.ctx)
		if aerr != nil {
			rt.begun = false // nothing to commit
			rt.err = fmt.Errorf("postgres: view: %w", aerr)
			return rt.err
		}
		rt.conn = conn
		err = conn.SendBatch(rt.ctx, resend(b)).Close()
	}
	if err != nil {
		rt.err = fmt.Errorf("postgres: view: %w", err)
		return rt.err
	}
	return nil
}

// resend returns a copy of b's queries, to send on another connection
// (a sent batch keeps statement descriptions of the connection it went
// through).
func resend(b *pgx.Batch) *pgx.Batch {
	nb := &pgx.Batch{}
	for _, q := range b.QueuedQueries {
		nq := nb.Queue(q.SQL, q.Arguments...)
		nq.Fn = q.Fn
	}
	return nb
}

func (rt *readTx) cacheRecords(k store.Kind, rs []record) {
	if rt.recs == nil {
		rt.recs = map[recKey]cachedRecord{}
	}
	for _, r := range rs {
		rt.recs[recKey{k.Name(), r.id}] = cachedRecord{v: r.v, rev: r.rev, found: true}
	}
}

func (rt *readTx) cacheLookup(k store.Kind, index, key string, rs []record) {
	rt.cacheRecords(k, rs)
	if rt.looks == nil {
		rt.looks = map[lookKey][]string{}
	}
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.id
	}
	rt.looks[lookKey{k.Name(), index, key}] = ids
}

// cachedLookup returns the records of a cached lookup.
func (rt *readTx) cachedLookup(k store.Kind, index, key string) ([]any, bool) {
	ids, ok := rt.looks[lookKey{k.Name(), index, key}]
	if !ok {
		return nil, false
	}
	if len(ids) == 0 {
		return nil, true
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = rt.recs[recKey{k.Name(), id}].v
	}
	return out, true
}

// queueGet queues the read of a record by id into b.
func (rt *readTx) queueGet(b *pgx.Batch, k store.Kind, id string) {
	b.Queue(sqlGet, k.Name(), []byte(id)).Query(func(rows pgx.Rows) error {
		defer rows.Close()
		c := cachedRecord{}
		if rows.Next() {
			var data []byte
			var rev int64
			if err := rows.Scan(&rev, &data); err != nil {
				return err
			}
			v, err := k.Decode(data)
			if err != nil {
				return err
			}
			c = cachedRecord{v: v, rev: store.Rev(rev), found: true}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if rt.recs == nil {
			rt.recs = map[recKey]cachedRecord{}
		}
		rt.recs[recKey{k.Name(), id}] = c
		return nil
	})
}

// queueLookup queues a lookup by key into b.
func (rt *readTx) queueLookup(b *pgx.Batch, k store.Kind, index, key string) {
	b.Queue(sqlLookup, k.Name(), index, []byte(key)).Query(func(rows pgx.Rows) error {
		rs, err := scanRecords(k, rows)
		if err == nil {
			rt.cacheLookup(k, index, key, rs)
		}
		return err
	})
}

// Get implements store.ReadTx.
func (rt *readTx) Get(k store.Kind, id string) (any, store.Rev, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	c, ok := rt.recs[recKey{k.Name(), id}]
	if !ok {
		b := &pgx.Batch{}
		rt.queueGet(b, k, id)
		if err := rt.run(b); err != nil {
			return nil, 0, err
		}
		c = rt.recs[recKey{k.Name(), id}]
	} else if rt.done {
		return nil, 0, errDone
	}
	if !c.found {
		return nil, 0, notFound(k, id)
	}
	return c.v, c.rev, nil
}

// Lookup implements store.ReadTx.
func (rt *readTx) Lookup(k store.Kind, index, key string) ([]any, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if _, err := checkIndex(k, index, false); err != nil {
		return nil, err
	}
	if rt.done {
		return nil, errDone
	}
	if vs, ok := rt.cachedLookup(k, index, key); ok {
		return vs, nil
	}
	b := &pgx.Batch{}
	rt.queueLookup(b, k, index, key)
	if err := rt.run(b); err != nil {
		return nil, err
	}
	vs, _ := rt.cachedLookup(k, index, key)
	return vs, nil
}

// One implements store.UniqueReader.
func (rt *readTx) One(k store.Kind, index, key string) (any, error) {
	vs, err := rt.Lookup(k, index, key)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, notFoundKey(k, index, key)
	}
	return vs[0], nil
}

// List implements store.ReadTx.
func (rt *readTx) List(k store.Kind, index, key string, p store.Page) ([]any, string, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	q, res, err := listQuery(k, index, key, p)
	if err != nil {
		return nil, "", err
	}
	if err := rt.runOne(q); err != nil {
		return nil, "", err
	}
	return res.items, res.next, nil
}

// runOne sends q in a batch of its own.
func (rt *readTx) runOne(q readQuery) error {
	b := &pgx.Batch{}
	b.Queue(q.sql, q.args...).Query(q.scan)
	return rt.run(b)
}

// Audit implements store.ReadTx.
func (rt *readTx) Audit(after int64, limit int) ([]store.AuditEvent, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	q, res := auditWindowQuery(after, limit)
	if err := rt.runOne(q); err != nil {
		return nil, err
	}
	return res.events, nil
}

// AuditEvents implements store.ReadTx.
func (rt *readTx) AuditEvents(f store.AuditFilter, p store.LogPage) ([]store.AuditEvent, int64, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	q, res := auditPageQuery(f, p)
	if err := rt.runOne(q); err != nil {
		return nil, 0, err
	}
	return res.events, res.next, nil
}

// errVia refuses a Read whose Via is not a read of one record.
var errVia = errors.New("postgres: prefetch: Via must read one record, by id or by a unique index, without a Via")

// Prefetch implements store.Prefetcher: every read not yet cached is
// queued in one batch, sent in one round trip (with the BEGIN of the
// snapshot when it is the transaction's first), and cached.
func (rt *readTx) Prefetch(reads ...store.Read) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	b := &pgx.Batch{}
	for _, r := range reads {
		if r.Via != nil {
			v := r.Via
			if v.Via != nil {
				return errVia
			}
			if _, err := checkIndex(r.Kind, r.Index, false); err != nil {
				return err
			}
			if v.Index == "" {
				r.Key, r.Via = v.Key, nil
			} else if ix, err := checkIndex(v.Kind, v.Index, false); err != nil {
				return err
			} else if !ix.Unique {
				return errVia
			} else {
				if _, ok := rt.looks[lookKey{v.Kind.Name(), v.Index, v.Key}]; !ok {
					rt.queueVia(b, r)
				}
				continue
			}
		}
		if r.Index == "" {
			if _, ok := rt.recs[recKey{r.Kind.Name(), r.Key}]; !ok {
				rt.queueGet(b, r.Kind, r.Key)
			}
			continue
		}
		if _, err := checkIndex(r.Kind, r.Index, false); err != nil {
			return err
		}
		if _, ok := rt.looks[lookKey{r.Kind.Name(), r.Index, r.Key}]; !ok {
			rt.queueLookup(b, r.Kind, r.Index, r.Key)
		}
	}
	if b.Len() == 0 {
		if rt.done {
			return errDone
		}
		return nil
	}
	return rt.run(b)
}

// queueVia queues a Read with a Via: the lookup of r's kind by the id of
// the record Via finds. The Via record's own lookup is cached as empty
// when no record holds its key.
func (rt *readTx) queueVia(b *pgx.Batch, r store.Read) {
	v := r.Via
	b.Queue(sqlLookupVia, r.Kind.Name(), r.Index, v.Kind.Name(), v.Index, []byte(v.Key)).Query(func(rows pgx.Rows) error {
		defer rows.Close()
		var via string
		var rs []record
		seen := false
		for rows.Next() {
			var vid, id, data []byte
			var rev *int64
			if err := rows.Scan(&vid, &id, &rev, &data); err != nil {
				return err
			}
			seen, via = true, string(vid)
			if rev == nil {
				continue
			}
			val, err := r.Kind.Decode(data)
			if err != nil {
				return err
			}
			rs = append(rs, record{id: string(id), v: val, rev: store.Rev(*rev)})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !seen {
			rt.cacheLookup(v.Kind, v.Index, v.Key, nil)
			return nil
		}
		rt.cacheLookup(r.Kind, r.Index, via, rs)
		return nil
	})
}

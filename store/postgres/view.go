package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// View runs fn against one snapshot of the committed state (see the
// package documentation, "Views and the token path" and "The snapshot
// cache"). When the store's
// cache holds every record fn's first read asks for, View checks with one
// statement that no commit happened since they were read and then answers
// fn from the cache; otherwise, or as soon as fn reads what the cache
// lacks, fn reads in a READ ONLY REPEATABLE READ transaction, which
// begins with the read, in the same round trip, and whose COMMIT is sent
// after fn returned without View waiting for it (the connection returns
// to the pool once it is done; Close waits for it). If that transaction's
// snapshot is newer than the cache fn had read from, fn runs again, once,
// in a transaction of its own, and the second run's result is returned.
// Reads are cached for the transaction: a record read twice, or read
// after a Prefetch (store.Prefetcher) fetched it, costs no round trip.
// fn's error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(tx store.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: view: %w", err)
	}
	if err := s.enter("view"); err != nil {
		return err
	}
	defer s.leave()
	rerun, err := s.view(ctx, fn, s.cache != nil)
	if rerun {
		_, err = s.view(ctx, fn, false)
	}
	return err
}

// view runs fn once; rerun reports that fn's reads were answered by a
// cache older than the snapshot it then had to read from, and that fn
// must run again.
func (s *Store) view(ctx context.Context, fn func(tx store.ReadTx) error, cached bool) (rerun bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: view: %w", err)
	}
	rt := &readTx{s: s, ctx: ctx, conn: conn, tried: !cached}
	defer rt.end(s)
	err = fn(rt)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.rerun, err
}

// readTx is the transaction of View. It reads from its generation of the
// store's cache (gen, when the counter check found it current) and from
// its own snapshot, once begun; both are the state at tag.
type readTx struct {
	s     *Store
	mu    sync.Mutex
	ctx   context.Context
	conn  *pgxpool.Conn
	tried bool        // the cache was consulted, or may not be
	gen   *generation // the cache's generation fn reads from, verified current
	cand  *generation // a generation the snapshot's counter may verify
	tag   counter     // the snapshot's counter, read with the BEGIN
	begun bool
	done  bool
	rerun bool  // the snapshot is newer than gen: fn must run again
	err   error // a failed round trip: the transaction is lost
	recs  map[recKey]cachedRecord
	looks map[lookKey][]string // complete lookups: ids in order
	fresh entries              // read, not yet published to the cache
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

// usable reports whether rt may still read.
func (rt *readTx) usable() error {
	if rt.done {
		return errDone
	}
	return rt.err
}

// fetch makes rt hold every read of ws. At the transaction's first read,
// the cache's generation is used if it holds them all and the counter
// has not moved; otherwise what rt lacks is read from the snapshot.
func (rt *readTx) fetch(ws []want) error {
	if err := rt.usable(); err != nil {
		return err
	}
	if rt.holds(ws) {
		return nil
	}
	if !rt.tried {
		rt.tried = true
		if g := rt.s.cache.current(); g != nil {
			rt.gen = g
			if !rt.holds(ws) {
				rt.gen, rt.cand = nil, g
			} else if ok, err := rt.check(g); ok || err != nil {
				if err != nil {
					rt.gen = nil
				}
				return err
			} else {
				rt.gen = nil
			}
		}
	}
	b := &pgx.Batch{}
	rt.queueMissing(b, ws)
	return rt.send(b)
}

// holds reports whether rt holds every read of ws.
func (rt *readTx) holds(ws []want) bool {
	for _, w := range ws {
		if _, ok := rt.resolve(w); !ok {
			return false
		}
	}
	return true
}

// queueMissing queues into b the reads of ws rt does not hold, each once.
func (rt *readTx) queueMissing(b *pgx.Batch, ws []want) {
	for i, w := range ws {
		r, ok := rt.resolve(w)
		if ok || slices.Contains(ws[:i], w) {
			continue
		}
		switch {
		case r.get:
			rt.queueGet(b, r.k, r.key)
		case r.via != nil:
			rt.queueVia(b, store.Read{Kind: r.k, Index: r.idx, Via: r.via})
		default:
			rt.queueLookup(b, r.k, r.idx, r.key)
		}
	}
}

// send runs b in the snapshot (see run), then checks the snapshot against
// the generation fn read from, and publishes what b read to the cache.
func (rt *readTx) send(b *pgx.Batch) error {
	if err := rt.run(b); err != nil {
		return err
	}
	if rt.gen != nil && rt.tag != rt.gen.tag {
		// A commit came between the counter check and the snapshot: what
		// fn read from the cache is older than what it would read now.
		rt.rerun, rt.err = true, errRerun
		return rt.err
	}
	if rt.cand != nil {
		if rt.tag == rt.cand.tag {
			rt.gen = rt.cand
		}
		rt.cand = nil
	}
	if rt.s.cache != nil && rt.fresh.len() > 0 {
		rt.s.cache.publish(rt.tag, &rt.fresh)
		rt.fresh = entries{}
	}
	return nil
}

// run sends b, with the BEGIN of the snapshot and the read of its counter
// ahead of it when the transaction has not begun, in one round trip.
func (rt *readTx) run(b *pgx.Batch) error {
	if err := rt.usable(); err != nil {
		return err
	}
	first := !rt.begun
	if first {
		head := &pgx.Batch{}
		head.Queue(sqlBeginView)
		head.Queue(sqlCounter).QueryRow(func(row pgx.Row) error { return row.Scan(&rt.tag.seq, &rt.tag.rev) })
		b.QueuedQueries = append(head.QueuedQueries, b.QueuedQueries...)
		rt.begun = true
	}
	err := rt.conn.SendBatch(rt.ctx, b).Close()
	if err != nil && first && rt.conn.Conn().IsClosed() && rt.ctx.Err() == nil {
		// The pooled connection was dead (the server ended it, say).
		// Nothing was read in the snapshot yet: read again on another.
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
		rt.keep(recKey{k.Name(), r.id}, cachedRecord{v: r.v, rev: r.rev, found: true})
	}
}

// keep caches a record (or its absence) for the transaction, and for the
// store's cache.
func (rt *readTx) keep(key recKey, c cachedRecord) {
	if rt.recs == nil {
		rt.recs = map[recKey]cachedRecord{}
	}
	rt.recs[key] = c
	if rt.s.cache != nil {
		rt.fresh.recs = append(rt.fresh.recs, recEntry{key, c})
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
	lk := lookKey{k.Name(), index, key}
	rt.looks[lk] = ids
	if rt.s.cache != nil {
		rt.fresh.looks = append(rt.fresh.looks, lookEntry{lk, ids})
	}
}

// cachedLookup returns the records of a lookup rt holds.
func (rt *readTx) cachedLookup(k store.Kind, index, key string) ([]any, bool) {
	ids, ok := rt.look(k, index, key)
	if !ok {
		return nil, false
	}
	if len(ids) == 0 {
		return nil, true
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		c, _ := rt.rec(k, id)
		out[i] = c.v
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
		rt.keep(recKey{k.Name(), id}, c)
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
	if err := rt.fetch([]want{{get: true, k: k, key: id}}); err != nil {
		return nil, 0, err
	}
	c, _ := rt.rec(k, id)
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
	if err := rt.fetch([]want{{k: k, idx: index, key: key}}); err != nil {
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
	return rt.send(b)
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

// Prefetch implements store.Prefetcher: every read rt does not hold yet
// is queued in one batch, sent in one round trip (with the BEGIN of the
// snapshot when it is the transaction's first), and cached; or, at the
// transaction's first read, answered by the store's cache (see View).
func (rt *readTx) Prefetch(reads ...store.Read) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	ws, err := wantsOf(reads)
	if err != nil {
		return err
	}
	return rt.fetch(ws)
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

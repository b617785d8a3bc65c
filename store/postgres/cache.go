package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tenantry/tenantry/store"
)

// sqlCounter reads the audit counter row: the Seq of the last audit event
// and the last record revision. Every Update that writes changes it (see
// tx.Delete, which takes a revision too), so two reads that find the same
// value see the same committed records.
const sqlCounter = `SELECT seq, rev FROM counters WHERE name = 'audit'`

// defaultCacheEntries is the bound of the snapshot cache when
// Config.CacheEntries is 0.
const defaultCacheEntries = 65536

// counter is a value of the audit counter row. Both fields only grow, and
// every commit that writes grows one of them, so counters are totally
// ordered by the commits they follow.
type counter struct{ seq, rev int64 }

// after reports whether c follows o.
func (c counter) after(o counter) bool {
	return c.rev > o.rev || c.rev == o.rev && c.seq > o.seq
}

// errRerun ends the first run of a View function whose snapshot turned
// out to be older than the transaction it had to begin: View runs the
// function again, in a transaction of its own. The function never sees
// it returned from View.
var errRerun = errors.New("postgres: view: the snapshot moved; running again")

// snapCache is the store's cache of records read by Views, shared by every
// View of the Store: one generation at a time, the records and lookups
// read in snapshots whose audit counter was the generation's. A View whose
// first read the generation answers checks the counter with one statement
// and, if it has not moved, reads from the generation alone (see View).
type snapCache struct {
	max int
	mu  sync.RWMutex // guards gen and the maps of the current generation
	gen *generation  // nil: nothing cached
}

// generation is what the cache holds for one value of the counter. Once
// it stops being the cache's current one it never changes again, so a
// View bound to it keeps reading one state.
type generation struct {
	tag   counter
	recs  map[recKey]cachedRecord
	looks map[lookKey][]string
}

func newSnapCache(n int) *snapCache {
	switch {
	case n < 0:
		return nil
	case n == 0:
		n = defaultCacheEntries
	}
	return &snapCache{max: n}
}

func newGeneration(tag counter) *generation {
	return &generation{tag: tag, recs: map[recKey]cachedRecord{}, looks: map[lookKey][]string{}}
}

// current returns the current generation, or nil.
func (c *snapCache) current() *generation {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// stale drops g, found out of date by a counter now at tag.
func (c *snapCache) stale(g *generation, tag counter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == g && tag.after(g.tag) {
		c.gen = newGeneration(tag)
	}
}

// rec returns g's record for k, if g holds it.
func (c *snapCache) rec(g *generation, k recKey) (cachedRecord, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := g.recs[k]
	return r, ok
}

// look returns g's lookup for k, if g holds it.
func (c *snapCache) look(g *generation, k lookKey) ([]string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ids, ok := g.looks[k]
	return ids, ok
}

// entries is what a View read from the server since it last published:
// records (found or not) and complete lookups, with the records they
// found.
type entries struct {
	recs  []recEntry
	looks []lookEntry
}

type recEntry struct {
	k recKey
	r cachedRecord
}

type lookEntry struct {
	k   lookKey
	ids []string
}

func (e *entries) len() int { return len(e.recs) + len(e.looks) }

// publish adds e, read in a snapshot whose counter was tag, to the cache:
// to the current generation if it has that tag, to a new one if tag
// follows it (the old one is dropped), to none if tag precedes it. A
// generation that would outgrow the bound is dropped too, and e starts a
// new one.
func (c *snapCache) publish(tag counter, e *entries) {
	if e.len() == 0 || e.len() > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gen
	switch {
	case g == nil || tag.after(g.tag):
		g = newGeneration(tag)
	case g.tag != tag:
		return
	case len(g.recs)+len(g.looks)+e.len() > c.max:
		g = newGeneration(tag)
	}
	c.gen = g
	for _, r := range e.recs {
		g.recs[r.k] = r.r
	}
	for _, l := range e.looks {
		g.looks[l.k] = l.ids
	}
}

// check reads the counter outside any transaction, in a statement of
// its own (its own snapshot), or takes the value a concurrent View's
// statement read, sent after this one asked (see checker): it reports
// whether the counter is still at g's tag, and drops g from the cache
// when it has moved.
func (rt *readTx) check(g *generation) (bool, error) {
	now, err := rt.s.checks.read(rt.ctx, rt.readCounter)
	if err != nil {
		rt.err = fmt.Errorf("postgres: view: %w", err)
		return false, rt.err
	}
	if now != g.tag {
		rt.s.cache.stale(g, now)
		return false, nil
	}
	return true, nil
}

// readCounter reads the counter on rt's connection, the first statement
// it sends; on another connection if the pooled one was dead (the server
// ended it, say).
func (rt *readTx) readCounter() (counter, error) {
	var now counter
	read := func() error { return rt.conn.QueryRow(rt.ctx, sqlCounter).Scan(&now.seq, &now.rev) }
	err := read()
	if err != nil && rt.conn.Conn().IsClosed() && rt.ctx.Err() == nil {
		rt.conn.Release()
		rt.conn = nil
		conn, aerr := rt.s.pool.Acquire(rt.ctx)
		if aerr != nil {
			return counter{}, aerr
		}
		rt.conn = conn
		err = read()
	}
	return now, err
}

// checker coalesces the counter checks of concurrent Views. A View needs
// a value of the counter read after it began; a read sent after the View
// asked is one, whoever sends it. So at most one read is in flight and
// one is gathering: a View joins the gathering one, whose first View
// sends it once the read in flight has returned, and every View that
// joined takes its value.
type checker struct {
	mu   sync.Mutex
	busy bool        // a read is in flight
	next *checkRound // the read gathering Views, not sent yet
}

type checkRound struct {
	start chan struct{} // closed when the round's read may be sent
	done  chan struct{} // closed when tag and err are set
	tag   counter
	err   error
}

// read returns a value of the counter read after the call began: the one
// send reads, or the one of a read another View sends after the call
// began. A View that joined a read that failed sends its own.
func (c *checker) read(ctx context.Context, send func() (counter, error)) (counter, error) {
	c.mu.Lock()
	if r := c.next; r != nil {
		c.mu.Unlock()
		select {
		case <-r.done:
			if r.err == nil {
				return r.tag, nil
			}
			return send() // the sender's failure (its context, say) need not be ours
		case <-ctx.Done():
			return counter{}, ctx.Err()
		}
	}
	r := &checkRound{start: make(chan struct{}), done: make(chan struct{})}
	if c.busy {
		c.next = r
	} else {
		c.busy = true
		close(r.start)
	}
	c.mu.Unlock()
	// Not interruptible: the read in flight returns within its own
	// context, and Views that joined this round wait for it.
	<-r.start
	c.mu.Lock()
	if c.next == r {
		c.next = nil // Views that ask from now on join the next round
	}
	c.mu.Unlock()
	r.tag, r.err = send()
	close(r.done)
	c.mu.Lock()
	if c.next != nil {
		close(c.next.start)
	} else {
		c.busy = false
	}
	c.mu.Unlock()
	return r.tag, r.err
}

// want is a read of Get, Lookup, One or Prefetch: a record by id (get),
// the lookup of key in index idx, or, when via is set, the lookup in idx
// of the id of the record via finds.
type want struct {
	get bool
	k   store.Kind
	idx string
	key string
	via *store.Read
}

// wantsOf normalises reads into wants, checking their indexes.
func wantsOf(reads []store.Read) ([]want, error) {
	out := make([]want, 0, len(reads))
	for _, r := range reads {
		if r.Via != nil {
			v := r.Via
			if v.Via != nil {
				return nil, errVia
			}
			if _, err := checkIndex(r.Kind, r.Index, false); err != nil {
				return nil, err
			}
			if v.Index == "" {
				out = append(out, want{k: r.Kind, idx: r.Index, key: v.Key})
				continue
			}
			ix, err := checkIndex(v.Kind, v.Index, false)
			if err != nil {
				return nil, err
			}
			if !ix.Unique {
				return nil, errVia
			}
			out = append(out, want{k: r.Kind, idx: r.Index, via: v})
			continue
		}
		if r.Index == "" {
			out = append(out, want{get: true, k: r.Kind, key: r.Key})
			continue
		}
		if _, err := checkIndex(r.Kind, r.Index, false); err != nil {
			return nil, err
		}
		out = append(out, want{k: r.Kind, idx: r.Index, key: r.Key})
	}
	return out, nil
}

// rec returns the record rt holds for (k, id): read in its snapshot, or
// in its generation.
func (rt *readTx) rec(k store.Kind, id string) (cachedRecord, bool) {
	key := recKey{k.Name(), id}
	if c, ok := rt.recs[key]; ok {
		return c, true
	}
	if rt.gen != nil {
		return rt.s.cache.rec(rt.gen, key)
	}
	return cachedRecord{}, false
}

// look returns the ids of the lookup rt holds for (k, index, key).
func (rt *readTx) look(k store.Kind, index, key string) ([]string, bool) {
	lk := lookKey{k.Name(), index, key}
	if ids, ok := rt.looks[lk]; ok {
		return ids, true
	}
	if rt.gen != nil {
		return rt.s.cache.look(rt.gen, lk)
	}
	return nil, false
}

// resolve reports whether rt holds w, and otherwise the read to queue: w
// itself, or, for a Via whose record rt holds, the plain lookup by that
// record's id.
func (rt *readTx) resolve(w want) (want, bool) {
	switch {
	case w.get:
		_, ok := rt.rec(w.k, w.key)
		return w, ok
	case w.via != nil:
		ids, ok := rt.look(w.via.Kind, w.via.Index, w.via.Key)
		if !ok {
			return w, false
		}
		if len(ids) == 0 {
			return w, true // Via finds none: nothing to read
		}
		plain := want{k: w.k, idx: w.idx, key: ids[0]}
		_, ok = rt.look(plain.k, plain.idx, plain.key)
		return plain, ok
	default:
		_, ok := rt.look(w.k, w.idx, w.key)
		return w, ok
	}
}

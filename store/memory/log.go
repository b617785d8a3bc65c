package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/tenantry/tenantry/store"
)

// logChunk is the number of events per chunk of a log. Chunks have a fixed
// capacity, so appending never copies the log: an append holds the log's
// lock for a constant time however long the log is, and a reader that
// copied the chunk list may go on reading the events it saw while later
// ones are appended.
const logChunk = 4096

// chunkLog is an append-only log of events. Event i (0-based) has Seq i+1.
type chunkLog[E any] struct {
	chunks [][]E
	n      int64
}

// auditLog is the audit log, guarded by the store's mu.
type auditLog = chunkLog[store.AuditEvent]

func (l *chunkLog[E]) append(e E) {
	if l.n%logChunk == 0 {
		l.chunks = append(l.chunks, make([]E, 0, logChunk))
	}
	last := len(l.chunks) - 1
	l.chunks[last] = append(l.chunks[last], e)
	l.n++
}

// at returns the event with Seq seq, 1 <= seq <= l.n.
func (l *chunkLog[E]) at(seq int64) *E {
	i := seq - 1
	return &l.chunks[i/logChunk][i%logChunk]
}

// window appends to out copies of the events with Seq > after, oldest
// first, at most limit of them (limit <= 0: all), and returns out.
func (l *chunkLog[E]) window(out []E, after int64, limit int) []E {
	after = max(after, 0)
	for i := after; i < l.n; i++ {
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, l.chunks[i/logChunk][i%logChunk])
	}
	return out
}

// snapshot returns a view of the events appended so far that stays valid
// while more are appended: its chunk list is a copy, and the events it
// covers are never written again.
func (l *chunkLog[E]) snapshot() chunkLog[E] {
	return chunkLog[E]{chunks: slices.Clone(l.chunks), n: l.n}
}

// page returns the events with Seqs 1..n (event seq at at(seq)) that match,
// in p's order after p's cursor, at most p's limit, and the cursor of the
// next page: the Seq of the last event returned if another match follows,
// else 0.
func page[E any](n int64, at func(seq int64) *E, match func(*E) bool, p store.LogPage) ([]E, int64) {
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultPageSize
	}
	seq, step := max(p.After, 0)+1, int64(1)
	if p.Order == store.NewestFirst {
		seq, step = n, -1
		if p.After > 0 && p.After <= n {
			seq = p.After - 1
		}
	}
	var out []E
	var last int64
	for ; seq >= 1 && seq <= n; seq += step {
		e := at(seq)
		if !match(e) {
			continue
		}
		if len(out) == limit {
			return out, last
		}
		out = append(out, *e)
		last = seq
	}
	return out, 0
}

// signInLog is the sign-in log. It has its own lock, taken by appends and,
// only to copy the chunk list, by readers: an append waits for no
// transaction and no scan.
type signInLog struct {
	mu     sync.Mutex
	log    chunkLog[store.SignInEvent]
	closed bool
}

// AppendSignIn implements store.Store: the event is prepared, then
// appended under the sign-in log's lock, which only appends and the
// snapshots of readers take.
func (s *Store) AppendSignIn(ctx context.Context, e store.SignInEvent) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: sign-in log: %w", err)
	}
	e, err := store.PrepareSignIn(e)
	if err != nil {
		return fmt.Errorf("memory: sign-in log: %w", err)
	}
	l := &s.signIns
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("memory: sign-in log: %w", store.ErrClosed)
	}
	e.Seq = l.log.n + 1
	l.log.append(e)
	return nil
}

// SignIns implements store.Store. It holds the sign-in log's lock only to
// copy the chunk list, and scans outside it.
func (s *Store) SignIns(ctx context.Context, f store.SignInFilter, p store.LogPage) ([]store.SignInEvent, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("memory: sign-in log: %w", err)
	}
	l := &s.signIns
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, 0, fmt.Errorf("memory: sign-in log: %w", store.ErrClosed)
	}
	snap := l.log.snapshot()
	l.mu.Unlock()
	events, next := page(snap.n, snap.at, f.Match, p)
	return events, next, nil
}

func (l *signInLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.log = chunkLog[store.SignInEvent]{}
}

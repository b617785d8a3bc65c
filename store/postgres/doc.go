// Package postgres is the PostgreSQL [store.Store], on
// github.com/jackc/pgx/v5: a durable store that several processes share.
// Only its users import it; the root package never does, so programs that
// do not use PostgreSQL do not link pgx.
//
//	s, err := postgres.Open(ctx, postgres.Config{URL: os.Getenv("DATABASE_URL")})
//	if err != nil { … }
//	defer s.Close()
//	d, err := tenantry.New(ctx, tenantry.Config{Store: s, Tokens: tenantry.TokenConfig{KeyEncryptionKey: kek}})
//
// Processes sharing a database must share the TokenConfig.KeyEncryptionKey.
//
// # Layout
//
// Records are Graph-shaped documents read and written whole, and the store
// is generic over kinds (package store describes a kind by its name, id and
// indexes), so a record is one row of a table records(kind, id, rev, data):
// data is the JSON document Kind.Encode makes, stored as bytea, byte for
// byte. Not jsonb: the store never queries inside a document (every lookup
// goes through an explicit index), jsonb would parse each write and
// re-serialise each read, and it refuses the \u0000 escape a Go string
// may hold. An operator can still query documents with
// convert_from(data, 'UTF8')::jsonb.
//
// Index keys are rows of record_keys(kind, idx, key, id, uniq), one per
// key of a record in an index; its primary key (kind, idx, key, id) makes a
// lookup and a page of an index one range scan in id order, and a partial
// unique index on (kind, idx, key) where uniq backs the unique indexes.
// Ids and keys are bytea, so that they sort byte-wise as Go strings do
// (text would sort by the database's collation and refuse a NUL byte).
// The audit log and the sign-in log are tables with a column per field
// (strings as bytea, times as Unix seconds and nanoseconds, exact), keyed
// by Seq, with an index by tenant. The counters table holds the last audit
// Seq and record revision (row 'audit', also the writers' lock) and the
// last sign-in Seq (row 'signin').
//
// # Schema and migrations
//
// The schema is embedded as versioned migrations, migrations/NNNN_name.sql,
// applied by Open in one transaction and recorded in schema_migrations.
// Opening is idempotent and safe when several processes open at once: the
// transaction first locks row 0 of schema_migrations (inserted if missing
// with INSERT … ON CONFLICT DO UPDATE, which takes the row lock), so a
// second process waits for the first to commit and then finds every
// version recorded. Advisory locks would do the same on PostgreSQL, but
// CockroachDB has none. A database at a newer version than the package
// knows is refused with ErrSchema. Config.Schema puts the tables in a
// schema of their own (created if missing) through the connections'
// search_path.
//
// # Transactions
//
// [Store.Update] runs at READ COMMITTED behind an explicit lock: its first
// statement, sent with the BEGIN, is SELECT … FOR UPDATE of the counters
// row 'audit', and the transaction holds that row until it commits. Every
// Update of every process takes it first, so Updates run one after the
// other; each statement of one sees everything committed before it took
// the lock and no other writer's work, since none can commit meanwhile. The
// history of Updates is therefore serial, which is what SERIALIZABLE
// promises, and no Update fails with a serialization failure or conflicts
// on a unique key another one is writing. The row also hands out the audit
// Seqs and record revisions: an event's Seq is final when it is appended,
// Seqs follow commit order with no gaps, and the counter is written back
// with the commit, in the same round trip. (SERIALIZABLE with the same
// counter row would abort every pair of overlapping writers; PostgreSQL
// takes a SERIALIZABLE transaction's snapshot at its first statement,
// before that statement waits for the lock, so the lock cannot come
// first.) In-process, Updates also queue on a mutex, so that a process
// keeps one connection waiting for the lock, not one per goroutine. The
// cost is that writes do not run in parallel: BenchmarkMutation measures
// about 1,700 to 1,900 mutations per second on a small machine; a
// directory's management writes are rarely that many.
//
// Writes go to the server as they are made, so that the transaction's own
// reads (Get, Lookup, One, List, the audit log) see them through SQL: a Put
// or Create checks revision, existence and unique keys in one round trip
// and writes the record and its keys in a second (an unconditional Put of
// a kind without unique indexes skips the check), a Delete takes one.
// Audit events are sent with the commit, or before a read of the log.
// A serialization failure or deadlock reported by the server (CockroachDB
// may report them; PostgreSQL does not under this scheme) is retried with
// jittered exponential backoff up to Config.MaxRetries times; exhausted
// retries return an error matching store.ErrConflict. A connection lost
// during the update function is not retried: the caller gets the error,
// and the server has rolled the transaction back. A connection lost during
// the COMMIT leaves the outcome unknown to the caller, as with any
// database. A dead pooled connection found before a transaction began is
// replaced once, silently.
//
// # Views and the token path
//
// [Store.View] reads one snapshot: a READ ONLY, REPEATABLE READ
// transaction, or the store's snapshot cache when it can answer. The
// transaction costs no round trip of its own. The BEGIN is sent with the
// view's first read, in the same round trip, together with a read of the
// counters row 'audit'; the COMMIT is sent after the view's function
// returned, by a goroutine, and View does not wait for it (the connection
// returns to the pool once it is done; Close waits). Reads are cached for
// the transaction, and the transaction offers [store.Prefetcher]: the
// reads it announces go out together, in one pgx batch, one round trip.
//
// # The snapshot cache
//
// Every Update that writes changes the counters row 'audit' (its Seq
// counts audit events, its revision counts record writes, deletions
// included), in the transaction of its writes: two snapshots that find
// the row at the same value hold the same records. So what a View reads
// in its transaction (records by id, lookups by index key, records and
// lookups found empty; not listings or logs) is kept in a cache that the
// Store's Views share, tagged with the counter value of the snapshot it
// was read in. When the cache holds every record a View's first read asks
// for, View does not begin a transaction: it reads the counter with one
// statement, outside any transaction, and if the counter is at the
// cache's tag the View reads from the cache alone, the state that
// statement saw. Concurrent Views share that statement: each takes the
// value of a read sent after it asked (one read in flight, one gathering
// Views). A read the cache lacks begins the transaction then; if its
// snapshot's counter is not the cache's (a commit came in between), the
// View's function runs again, once, in a transaction of its own:
// [store.Store.View] allows a function to run more than once. A counter
// that moved empties the cache, and the new snapshot's reads fill it
// again.
//
// A warm client-credentials issuance therefore costs one statement and
// one round trip, whatever the number of records it reads; a cold one (an
// empty cache, after a start or a commit) waits for the grant's two
// prefetches (one when the tenant and the resource are named by id), plus
// the counter's round trip after a commit. TestTokenPathRoundTrips counts
// them with a pgx tracer. The cache holds at most Config.CacheEntries
// records and lookups (65,536 by default; a negative value turns it off)
// and is emptied when full. Since every View checks the counter before
// trusting the cache, a write by another process is seen by the next View
// of this one, as without the cache; a crash of this or another process
// leaves nothing to invalidate. The counter must only move forward: a
// database restored to an earlier state, or a counter rewritten by hand,
// needs the processes using it restarted.
//
// # Sign-in log
//
// [Store.AppendSignIn] does not wait for the server: it buffers the event
// and a background writer appends the buffer in one transaction per batch
// (up to 1,000 events, with COPY), taking the Seqs from the counters row
// 'signin', which it locks until the commit. It writes as soon as events
// arrive; events gather only while the previous batch is being written, a
// round trip or a few. Seqs increase strictly in append order (one writer
// per process; the row lock orders processes) and an event becomes
// visible only with, or after, every event of lower Seq. [Store.SignIns]
// first waits until every event this process appended before the call is
// written. AppendSignIn waits only when Config.SignInBuffer events (4,096
// by default) are buffered. A failed write is retried with backoff, and
// reported to Config.Logger. Close writes the buffer, waiting at most
// Config.CloseTimeout (10 s) for a server that fails, and reports the
// events it dropped. A crash of the process loses the events buffered and
// not yet committed: at most Config.SignInBuffer, usually the few appended
// during the last round trip.
//
// # CockroachDB
//
// The SQL is chosen to run on CockroachDB too (no advisory locks, no
// LOCK TABLE, no PostgreSQL-only functions; upserts, SELECT … FOR UPDATE,
// unnest, COPY, partial indexes), but the package is tested only against
// PostgreSQL. See the README's PostgreSQL section.
package postgres

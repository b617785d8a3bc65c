// Package memory is the embedded, in-memory [store.Store]: the default
// backend of tenantry, for tests, development and single-process use. Its
// data lives in Go maps and is lost when the process exits.
//
//	s := memory.New()
//	defer s.Close()
//
// # Layout
//
// Each kind is a table map[id]{value, revision}. A unique index maps a key
// to the record holding it, value included, so that a lookup by unique key
// (a service principal by appId and tenant) is one map access. A
// non-unique index maps a key to the sorted set of ids that have it, and
// the ids of a kind are kept in another sorted set, the listing of index "".
// A set of one id is stored inline, a small set is a sorted slice, and a
// large one is a list of sorted blocks of at most 512 ids: an insert moves
// at most 512 strings, and a page of a listing costs a binary search rather
// than a sort (sorting a million ids takes about 0.3 s per call; keeping
// them sorted adds a few microseconds to a create or delete at that size,
// and 16 bytes per id per set).
//
// Get, a lookup by key and the first page of a List cost the same whatever
// the number of records, apart from cache misses; a page after a cursor
// adds a binary search.
//
// # Transactions
//
// [Store.Update] calls are serialised by a writer mutex, so the function
// runs once and never sees a conflict. Its writes are buffered in an
// overlay, per kind a map of pending values and deletions; reads in the
// transaction see the committed state overlaid with them, index lookups and
// listings included. Unique indexes are checked at each Put and Create
// against that combined view. A transaction with many writes to a kind
// indexes their keys as needed, so bulk loads in one transaction stay
// linear. Commit computes the index changes first and then applies them
// while holding the store's RWMutex in write mode: readers wait for no more
// than the apply.
//
// [Store.View] holds the RWMutex in read mode while its function runs,
// which makes its reads a consistent snapshot. View functions must be
// short: a commit waits for running Views, and new Views wait behind a
// waiting commit, so one long View delays the token path of every other
// goroutine until it ends. Do not call View or Update inside View (a
// nested View deadlocks as soon as a commit is waiting) nor Update inside
// Update; read large listings a page per View.
//
// A panic in an Update function propagates after the transaction is
// discarded; nothing of it is written. A transaction used after its View or
// Update returned fails with an error matching [store.ErrClosed] on the
// goroutine that ran it (a best-effort check, not a synchronisation: never
// hand a transaction to another goroutine).
//
// # Values
//
// Writes store k.Clone(v), so callers may go on changing their value. Reads
// return the stored value itself, not a copy: treat it as read-only, as
// package store says.
//
// # Revisions and audit
//
// A commit that writes records increments a store-wide revision counter;
// every record it writes gets that revision. Inside Update, Get of a record
// the transaction wrote returns the revision it will have after commit
// (the memory store knows it, because writers are serialised). Audit events
// get Seqs 1, 2, 3, … in commit order with no gaps; the events of one
// transaction are consecutive. The audit log is kept in chunks, so that an
// append never copies it. A filtered read of it scans the events after the
// cursor (or before it, newest first) inside the View.
//
// # Sign-in log
//
// The sign-in log is a chunked log of its own with its own mutex, apart
// from the transactions: [Store.AppendSignIn] takes that mutex for the
// append alone and waits for no View, Update or reader. [Store.SignIns]
// takes it only to copy the list of chunks (events already appended are
// never written again), then scans outside it. Events get Seqs 1, 2, 3, …
// in append order with no gaps. The log lives as long as the store: about
// 250 bytes per event plus the strings it holds.
package memory

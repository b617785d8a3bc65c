// Package storetest is the conformance suite of [store.Store]: a backend
// that passes it is correct. Every backend's tests call it with one line,
// as io/fs implementations call testing/fstest.TestFS:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
//	}
//
// The suite uses the real kinds of package store and realistic values built
// with the domain packages (nested slices, maps, pointers, byte strings and
// UTC times with microsecond precision, which a SQL timestamp keeps).
// Stored values are compared with go-cmp, strictly: no slice or map in the
// suite's values is empty but non-nil. Tenants, users, applications and
// service principals are compared by their Equal methods, which go-cmp
// uses: times as instants, an empty collection as a missing one.
//
// It checks, each in a subtest named after it: round trips of every kind
// and copying of written values; refusal of invalid values; ErrNotFound and
// ErrAlreadyExists; unique index enforcement across committed and pending
// writes; that the optional [store.UniqueReader], wherever a transaction
// offers it, agrees with Lookup for every unique index of every kind; index
// maintenance on change and delete; revisions and optimistic
// concurrency (PutIf); that reads in a transaction see its own writes; that
// a failed write has no effect; atomicity of failed, panicking and
// cancelled updates; read-only views; paging; the audit log and its
// filtered pages; the sign-in log (Seqs, refusal of invalid events, cut
// fields, filters and pages, independence from transactions, concurrent
// appends that pollers following the cursor never miss); isolation of
// concurrent readers and writers and the absence of lost updates; a rapid
// state machine against a map model, which checks UniqueReader too; and
// Close.
//
// The concurrency subtests start goroutines: run the suite with -race.
//
// [Replay] wraps a store so that every update function runs twice, the
// first run rolled back. Run the suite, and the code that uses a store,
// under it too: an update function with effects outside its transaction
// then shows them.
//
//	func TestConformanceReplay(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return storetest.Replay(memory.New()) })
//	}
package storetest

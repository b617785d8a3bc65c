package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Errors returned by every backend; match them with errors.Is.
var (
	// ErrNotFound: no record with that id or key.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: Create found a record with the same id, or a write
	// would give a unique index key to a second record.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrConflict: the record changed since it was read (optimistic
	// concurrency), or a concurrent transaction conflicted and retries were
	// exhausted.
	ErrConflict = errors.New("store: conflict")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly: a write was attempted through a read transaction.
	ErrReadOnly = errors.New("store: read-only transaction")
	// ErrInvalid: a log event the store refuses to record (see
	// PrepareSignIn).
	ErrInvalid = errors.New("store: invalid event")
)

// Store is a transactional record store. Implementations must be safe for
// concurrent use.
type Store interface {
	// View runs fn against a consistent snapshot. fn must not keep tx.
	// fn may run more than once (a backend that answers from a cache
	// runs it again when the cache turns out older than its snapshot)
	// and must have no effects outside tx; the last run's result is
	// returned.
	View(ctx context.Context, fn func(tx ReadTx) error) error
	// Update runs fn in a read-write transaction. If fn returns nil the
	// writes commit atomically; otherwise nothing is written and fn's error
	// is returned. If fn panics, nothing is written and the panic
	// propagates. If ctx is done before the commit, nothing is written and
	// the error matches ctx.Err(). fn may run more than once and must have
	// no effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// AppendSignIn appends e to the sign-in log. The sign-in log is not
	// part of any transaction: the token path, which only reads records,
	// appends to it after its View (or inside it), and an event stays
	// whatever becomes of a transaction running meanwhile. Called from an
	// update function it is an effect outside the transaction, made once
	// per run. AppendSignIn waits for no transaction and no reader of the
	// log, so that it costs the token path little; it prepares e with
	// PrepareSignIn
	// (refusing an invalid event with ErrInvalid, cutting long fields)
	// and ignores e.Seq. Seqs start at 1 and increase strictly in append
	// order, and an event is visible to SignIns only once every event
	// appended before it is, so that a reader paging by Seq misses none.
	// A done ctx appends nothing and returns an error matching ctx.Err():
	// to record a request whose context may be cancelled, pass
	// context.WithoutCancel(ctx).
	AppendSignIn(ctx context.Context, e SignInEvent) error
	// SignIns returns a page of the sign-in events that match f: those
	// after p.After in p.Order, at most p.Limit of them. next is the Seq
	// of the last event returned if more matching events follow the page
	// (the cursor of the next page), else 0.
	SignIns(ctx context.Context, f SignInFilter, p LogPage) (events []SignInEvent, next int64, err error)
	// Close releases the store's resources. View, Update, AppendSignIn and
	// SignIns called after Close return ErrClosed.
	Close() error
}

// Rev is a record's revision: it changes on every write of the record.
// Zero means "does not exist".
type Rev uint64

// ReadTx reads records. Reads see the transaction's own writes (records,
// indexes and listings alike). Naming an index the kind does not have is an
// error.
type ReadTx interface {
	// Get returns the record of kind k with id, or ErrNotFound. Inside
	// Update, the revision of a record the transaction has written is
	// provisional: PutIf with it succeeds in the same transaction, but the
	// committed record may carry another one.
	Get(k Kind, id string) (any, Rev, error)
	// Lookup returns the records whose index has key, sorted by id; none
	// (and no error) if no record has key.
	Lookup(k Kind, index, key string) ([]any, error)
	// List returns up to p.Limit records of kind k whose index has key
	// (index "" lists every record of the kind), in id order, starting
	// after p.After; next is the cursor of the following page (the id of
	// the last item) or "" if no record follows the page.
	List(k Kind, index, key string, p Page) (items []any, next string, err error)
	// Audit returns audit events with Seq > after, oldest first, at most
	// limit (0 = all).
	Audit(after int64, limit int) ([]AuditEvent, error)
	// AuditEvents returns a page of the audit events that match f: those
	// after p.After in p.Order, at most p.Limit of them. next is the Seq
	// of the last event returned if more matching events follow the page
	// (the cursor of the next page), else 0. Inside Update the log
	// includes the transaction's own events, with the Seqs they will get.
	AuditEvents(f AuditFilter, p LogPage) (events []AuditEvent, next int64, err error)
}

// UniqueReader is an optional capability of a ReadTx: the record holding a
// key of a unique index, read without building a slice. It returns
// ErrNotFound when no record holds the key. Collection.One uses it when the
// transaction provides it; backends gain speed on the token path by doing
// so.
type UniqueReader interface {
	One(k Kind, index, key string) (any, error)
}

// Tx reads and writes records in one transaction. A write that fails
// (ErrConflict, ErrAlreadyExists, ErrNotFound, a value of the wrong kind)
// has no effect, and the transaction may go on: fn decides whether to
// return the error.
type Tx interface {
	ReadTx
	// Put creates or replaces the record. If rev is not 0, the stored
	// revision must equal rev, else ErrConflict (rev 0 means
	// unconditional). Unique index violations are ErrAlreadyExists.
	Put(k Kind, v any, rev Rev) error
	// Create stores a new record; ErrAlreadyExists if the id is taken.
	Create(k Kind, v any) error
	// Delete removes the record; ErrNotFound if it does not exist.
	Delete(k Kind, id string) error
	// AppendAudit appends an event to the audit log; its Seq is assigned
	// at commit (the Seq of e is ignored). Seqs start at 1 and increase
	// strictly in commit order, and within a transaction in append order.
	AppendAudit(e AuditEvent) error
}

// Page selects a window of a listing.
type Page struct {
	After string // exclusive cursor: the id of the last record seen
	Limit int    // at most this many; 0 means 100
}

// DefaultPageSize is the page size used when Page.Limit is 0.
const DefaultPageSize = 100

// AuditEvent records one mutation: who did what to which object, when, with
// the object before and after as JSON (secrets removed). The Directory
// records a created object whole in After, a deleted one in Before, and a
// changed one by its modified properties only.
type AuditEvent struct {
	// Seq is the event's position in the audit log, assigned by the store
	// when it is appended.
	Seq int64 `json:"seq"`
	// Time is when the mutation happened.
	Time time.Time `json:"time"`
	// TenantID is the tenant the target lives in.
	TenantID string `json:"tenantId,omitempty"`
	// Actor is who made the change: "system" or "user:{id}".
	Actor string `json:"actor"`
	// Action names the operation, e.g. "application.create".
	Action string `json:"action"`
	// TargetKind is the Kind name of the changed object, e.g. "application".
	TargetKind string `json:"targetKind"`
	// TargetID is the id of the changed object.
	TargetID string `json:"targetId"`
	// Before is the object before the change as JSON, secrets removed; empty
	// for a creation.
	Before json.RawMessage `json:"before,omitempty"`
	// After is the object after the change as JSON, secrets removed; empty
	// for a deletion.
	After json.RawMessage `json:"after,omitempty"`
}

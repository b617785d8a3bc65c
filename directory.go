package tenantry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/tenant"
)

// RestoreWindow is how long a soft-deleted application can be restored.
const RestoreWindow = 30 * 24 * time.Hour

// Config configures a Directory. The zero value is usable: an in-memory
// store, the wall clock and random UUIDs.
type Config struct {
	// Store persists the directory; nil means a new store/memory store.
	Store store.Store
	// Now is the clock; nil means time.Now. Tests and examples pass the Now
	// method of a [ManualClock].
	Now func() time.Time
	// NewID returns a new object id (a UUID string); nil means random
	// UUIDs. Tests and examples inject a deterministic source, such as
	// [SequentialIDs].
	NewID func() string
	// Logger receives operational logs: signing key rotations and
	// withdrawals (Warn), key reloads that found another set or failed,
	// federated issuers whose keys could not be obtained (Warn) and smart
	// lockouts (Warn). Records name ids, issuers and key ids, never a
	// secret, code, token, password or key material. Nil discards them.
	Logger *slog.Logger
	// Tokens configures the token service.
	Tokens TokenConfig
	// Lockout configures smart lockout of password sign-in.
	Lockout LockoutConfig
}

// Directory is the management side of tenantry's imperative shell: it runs
// the pure rules of the domain packages inside store transactions. Every
// mutating operation loads what it needs, decides, and writes in one
// transaction together with exactly one audit event (Apply, which changes
// many objects at once, one per object). Its token service is
// [Directory.Issuer]. A Directory is safe for concurrent use.
type Directory struct{ *core }

// Issuer is the token service of a Directory: the OAuth 2.0 and OpenID
// Connect flows (Token, Authorize, the device code flow, SignIn), the
// signing keys (RotateKeys, WithdrawKey, JWKS, KeySource) and validation of
// tokens for APIs registered in the directory. It shares the Directory's
// store, clock and keys; obtain it with [Directory.Issuer]. An Issuer is
// safe for concurrent use.
type Issuer struct{ *core }

// core holds what the Directory and its Issuer share.
type core struct {
	st     store.Store
	now    func() time.Time
	newID  func() string
	log    *slog.Logger
	tokens *tokenService
	locks  LockoutConfig
	// correlation generates the correlation ids of requests that bring none.
	correlation correlationIDs
}

// New returns a Directory over cfg.Store and makes sure the consumers
// tenant (personal Microsoft accounts) exists.
func New(ctx context.Context, cfg Config) (*Directory, error) {
	d := &core{st: cfg.Store, now: cfg.Now, newID: cfg.NewID, log: cfg.Logger, locks: cfg.Lockout.withDefaults()}
	if d.st == nil {
		d.st = memory.New()
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.newID == nil {
		d.newID = uuid.NewString
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	err := d.st.Update(ctx, func(tx store.Tx) error {
		if _, err := store.Tenants.Get(tx, tenant.ConsumersID); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		c := tenant.Consumers(d.clock())
		if err := store.Tenants.Create(tx, c); err != nil {
			return err
		}
		return tx.AppendAudit(auditEvent(d.clock(), System(), c.ID, "tenant.create", store.Tenants, c.ID, nil, c))
	})
	if err != nil {
		return nil, fmt.Errorf("tenantry: init: %w", err)
	}
	ts, err := newTokenService(ctx, d, cfg.Tokens)
	if err != nil {
		return nil, err
	}
	d.tokens = ts
	return &Directory{core: d}, nil
}

// Issuer returns the Directory's token service.
func (d *Directory) Issuer() *Issuer { return &Issuer{core: d.core} }

// StoreReader is the read side of a Store: consistent snapshots (records
// and the audit log) and the sign-in log. It has no way to write.
type StoreReader interface {
	// View runs fn against a consistent snapshot (store.Store.View).
	View(ctx context.Context, fn func(tx store.ReadTx) error) error
	// SignIns returns a page of the sign-in log (store.Store.SignIns).
	SignIns(ctx context.Context, f store.SignInFilter, p store.LogPage) ([]store.SignInEvent, int64, error)
}

// Store returns a read-only view of the underlying store, for the
// operator's own reads (exports, tests). It bypasses the actor-scoped
// reads, as the operator who holds the Directory may; it never writes, so
// the audit log and the invariants hold. Write through the Directory.
// Values read in View are the store's own records: Clone one before
// changing it (the Directory's reads hand out copies).
func (d *Directory) Store() StoreReader { return readOnlyStore{d.st} }

// readOnlyStore hides the writing methods of a Store (a type assertion on
// it finds none).
type readOnlyStore struct{ st store.Store }

func (s readOnlyStore) View(ctx context.Context, fn func(tx store.ReadTx) error) error {
	return s.st.View(ctx, fn)
}

func (s readOnlyStore) SignIns(ctx context.Context, f store.SignInFilter, p store.LogPage) ([]store.SignInEvent, int64, error) {
	return s.st.SignIns(ctx, f, p)
}

// Close closes the store.
func (d *Directory) Close() error { return d.st.Close() }

func (d *core) clock() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

// op is one mutating operation in progress.
type op struct {
	d      *core
	tx     store.Tx
	now    time.Time
	actor  Actor
	events int
}

// mutate runs fn in one transaction; fn must record exactly one audit
// event through op.audit (invariant 9).
func (d *core) mutate(ctx context.Context, actor Actor, fn func(o *op) error) error {
	return d.run(ctx, actor, false, fn)
}

// mutatePerObject runs fn, which changes several objects at once, in one
// transaction; fn must record one audit event per object it creates or
// changes, at least one, through op.audit. Only applying a manifest does:
// every other operation uses mutate.
func (d *core) mutatePerObject(ctx context.Context, actor Actor, fn func(o *op) error) error {
	return d.run(ctx, actor, true, fn)
}

func (d *core) run(ctx context.Context, actor Actor, perObject bool, fn func(o *op) error) error {
	if actor.IsZero() {
		return noActor()
	}
	return d.st.Update(ctx, func(tx store.Tx) error {
		o := &op{d: d, tx: tx, now: d.clock(), actor: actor}
		if err := fn(o); err != nil {
			return err
		}
		if o.events != 1 && !(perObject && o.events > 1) {
			return fmt.Errorf("tenantry: internal error: operation wrote %d audit events", o.events)
		}
		return nil
	})
}

func (o *op) audit(tenantID, action string, k store.Kind, id string, before, after any) error {
	o.events++
	return o.tx.AppendAudit(auditEvent(o.now, o.actor, tenantID, action, k, id, before, after))
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

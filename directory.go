package tenantry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/tenant"
)

// Errors of Directory operations, besides the store's (store.ErrNotFound,
// store.ErrAlreadyExists, store.ErrConflict), validation errors
// (tenant.ErrInvalid) and consent errors (package consent).
var (
	// ErrForbidden: the actor may not perform the operation. It is
	// tenant.ErrForbidden, so both names match.
	ErrForbidden = tenant.ErrForbidden
	// ErrAudience: the application's sign-in audience does not admit the
	// tenant.
	ErrAudience = errors.New("tenantry: the application's sign-in audience does not admit this tenant")
	// ErrDeleted: the object is soft-deleted.
	ErrDeleted = errors.New("tenantry: object is deleted")
	// ErrNotDeleted: restore or purge of an object that is not deleted.
	ErrNotDeleted = errors.New("tenantry: object is not deleted")
	// ErrRestoreExpired: the 30-day restore window has passed.
	ErrRestoreExpired = errors.New("tenantry: restore window of 30 days has passed")
	// ErrInvalidRequest: an argument is missing or malformed.
	ErrInvalidRequest = errors.New("tenantry: invalid request")
)

// RestoreWindow is how long a soft-deleted application can be restored.
const RestoreWindow = 30 * 24 * time.Hour

// Actor is who performs an operation: System, or a user given by object id
// with UserActor. A user acts within its own tenant, with its directory
// roles there.
type Actor struct{ userID string }

// System is the actor for operations done by the operator or the library
// itself; it passes every permission check.
var System = Actor{}

// UserActor returns the actor for the user with the given object id.
func UserActor(userID string) Actor { return Actor{userID: userID} }

// UserID returns the user's object id, or "" for System.
func (a Actor) UserID() string { return a.userID }

// String returns "system" or "user:{id}", as written in the audit log.
func (a Actor) String() string {
	if a.userID == "" {
		return "system"
	}
	return "user:" + a.userID
}

// Config configures a Directory. The zero value is usable: an in-memory
// store, the wall clock and random UUIDs.
type Config struct {
	// Store persists the directory; nil means a new store/memory store.
	Store store.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID returns a new object id (a UUID string); nil means random
	// UUIDs. Tests inject a deterministic source.
	NewID func() string
	// Logger receives operational logs (never secrets or tokens); nil
	// discards them.
	Logger *slog.Logger
	// Tokens configures the token service.
	Tokens TokenConfig
	// Lockout configures smart lockout of password sign-in.
	Lockout LockoutConfig
}

// Directory is the imperative shell of tenantry: it runs the pure rules of
// the domain packages inside store transactions. Every mutating operation
// loads what it needs, decides, and writes in one transaction together with
// exactly one audit event. A Directory is safe for concurrent use.
type Directory struct {
	st     store.Store
	now    func() time.Time
	newID  func() string
	log    *slog.Logger
	tokens *tokenService
	locks  LockoutConfig
}

// New returns a Directory over cfg.Store and makes sure the consumers
// tenant (personal Microsoft accounts) exists.
func New(ctx context.Context, cfg Config) (*Directory, error) {
	d := &Directory{st: cfg.Store, now: cfg.Now, newID: cfg.NewID, log: cfg.Logger, locks: cfg.Lockout.withDefaults()}
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
		return tx.AppendAudit(auditEvent(d.clock(), System, c.ID, "tenant.create", store.Tenants, c.ID, nil, c))
	})
	if err != nil {
		return nil, fmt.Errorf("tenantry: init: %w", err)
	}
	ts, err := newTokenService(ctx, d, cfg.Tokens)
	if err != nil {
		return nil, err
	}
	d.tokens = ts
	return d, nil
}

// Store returns the underlying store, for reads the Directory does not
// wrap. Write through the Directory, or the audit log and invariants are
// not kept.
func (d *Directory) Store() store.Store { return d.st }

// Close closes the store.
func (d *Directory) Close() error { return d.st.Close() }

func (d *Directory) clock() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

// op is one mutating operation in progress.
type op struct {
	d      *Directory
	tx     store.Tx
	now    time.Time
	actor  Actor
	events int
}

// mutate runs fn in one transaction; fn must record exactly one audit
// event through op.audit.
func (d *Directory) mutate(ctx context.Context, actor Actor, fn func(o *op) error) error {
	return d.st.Update(ctx, func(tx store.Tx) error {
		o := &op{d: d, tx: tx, now: d.clock(), actor: actor}
		if err := fn(o); err != nil {
			return err
		}
		if o.events != 1 {
			return fmt.Errorf("tenantry: internal error: operation wrote %d audit events", o.events)
		}
		return nil
	})
}

func (o *op) audit(tenantID, action string, k store.Kind, id string, before, after any) error {
	o.events++
	return o.tx.AppendAudit(auditEvent(o.now, o.actor, tenantID, action, k, id, before, after))
}

// auditEvent builds the event of one mutation. A created object is
// recorded whole in After, a deleted one in Before; for an object changed in
// place only its modified properties are recorded, old values in Before and
// new ones in After (as Entra's audit logs list modifiedProperties).
func auditEvent(now time.Time, actor Actor, tenantID, action string, k store.Kind, id string, before, after any) store.AuditEvent {
	e := store.AuditEvent{
		Time: now, TenantID: tenantID, Actor: actor.String(), Action: action,
		TargetKind: k.Name(), TargetID: id,
	}
	if b, a, ok := modifiedProperties(redact(before), redact(after)); ok {
		e.Before, e.After = b, a
		return e
	}
	e.Before, e.After = redactJSON(before), redactJSON(after)
	return e
}

// modifiedProperties encodes the fields (by JSON name) in which two values
// of the same struct type differ; ok is false for anything else.
func modifiedProperties(before, after any) (b, a json.RawMessage, ok bool) {
	bv, av := reflect.ValueOf(before), reflect.ValueOf(after)
	if bv.Kind() != reflect.Struct || !av.IsValid() || bv.Type() != av.Type() {
		return nil, nil, false
	}
	t := bv.Type()
	old, new := map[string]any{}, map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		x, y := bv.Field(i).Interface(), av.Field(i).Interface()
		if !reflect.DeepEqual(x, y) {
			old[name], new[name] = x, y
		}
	}
	b, errB := json.Marshal(old)
	a, errA := json.Marshal(new)
	if errB != nil || errA != nil {
		return nil, nil, false
	}
	return b, a, true
}

// redact removes secret material from objects of the model.
func redact(v any) any {
	switch x := v.(type) {
	case application.Application:
		return redactApp(x)
	case tenant.User:
		x.PasswordHash = nil
		return x
	}
	return v
}

// redactJSON encodes v for the audit log without secret material.
func redactJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(redact(v))
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", "unencodable: "+err.Error()))
	}
	return b
}

// redactApp returns a copy of a without secret hashes.
func redactApp(a application.Application) application.Application {
	a = a.Clone()
	for i := range a.PasswordCredentials {
		a.PasswordCredentials[i] = a.PasswordCredentials[i].Redacted()
	}
	return a
}

// caller loads the acting user (which must belong to tenantID) with its
// directory roles there.
func (o *op) caller(tenantID string) (tenant.Caller, error) {
	return loadCaller(o.tx, o.actor, tenantID)
}

func loadCaller(tx store.ReadTx, actor Actor, tenantID string) (tenant.Caller, error) {
	if actor.userID == "" {
		return tenant.Caller{}, nil
	}
	u, err := store.Users.Get(tx, actor.userID)
	if err != nil {
		return tenant.Caller{}, fmt.Errorf("tenantry: actor %s: %w", actor, err)
	}
	if u.TenantID != tenantID {
		return tenant.Caller{}, &tenant.ForbiddenError{Reason: "the actor is not a user of tenant " + tenantID}
	}
	if !u.AccountEnabled {
		return tenant.Caller{}, &tenant.ForbiddenError{Reason: "the actor's account is disabled"}
	}
	ras, err := store.DirectoryRoles.Lookup(tx, store.RoleByPrincipal, u.ID)
	if err != nil {
		return tenant.Caller{}, err
	}
	c := tenant.Caller{User: u}
	for _, ra := range ras {
		c.Roles = append(c.Roles, ra.RoleDefinitionID)
	}
	return c, nil
}

// requireAppManager checks that the actor may manage app: System, an owner,
// or an application administrator of the home tenant.
func (o *op) requireAppManager(app application.Application) error {
	c, err := o.caller(app.TenantID)
	if err != nil {
		return err
	}
	if c.User.ID == "" || c.Roles.IsAppAdmin() {
		return nil
	}
	if !c.User.AccountEnabled {
		return &tenant.ForbiddenError{Reason: "user account is disabled"}
	}
	for _, id := range app.Owners {
		if id == c.User.ID {
			return nil
		}
	}
	return &tenant.ForbiddenError{Reason: "only owners and application administrators may manage the application"}
}

// requireSPManager checks that the actor may manage sp in its tenant:
// System, an owner of sp, or an application administrator there.
func (o *op) requireSPManager(sp serviceprincipal.ServicePrincipal) error {
	c, err := o.caller(sp.TenantID)
	if err != nil {
		return err
	}
	if c.User.ID == "" || c.Roles.IsAppAdmin() {
		return nil
	}
	for _, id := range sp.Owners {
		if id == c.User.ID && c.User.AccountEnabled {
			return nil
		}
	}
	return &tenant.ForbiddenError{Reason: "only owners and application administrators may manage the service principal"}
}

func (o *op) requireDirectoryAdmin(tenantID string) error {
	c, err := o.caller(tenantID)
	if err != nil {
		return err
	}
	return tenant.CanManageDirectory(c)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

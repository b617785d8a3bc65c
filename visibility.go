package tenantry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// Reads are scoped to what their actor may see, by one rule
// (tenant.Reader): System sees everything; the zero Actor, an unknown or
// disabled user is refused with an error matching ErrForbidden before
// anything is looked up; a user sees objects of her own tenant only, as
// much as her user type, the tenant's guest role and her directory roles
// allow. An object the actor may not see answers exactly as a missing one
// does, with an error matching store.ErrNotFound, so that a read never
// reveals that an id exists in another tenant. A listing the actor may not
// make (a guest enumerating, a user listing another tenant, a log read
// without the role) is refused with ErrForbidden. Users' reads never carry
// credential hashes (password hashes, secret digests); System reads
// records as stored.

// DefaultPageSize is the page size of a listing whose PageRequest.Size is 0.
const DefaultPageSize = 100

// MaxPageSize bounds PageRequest.Size, as Microsoft Graph bounds $top for
// directory objects.
const MaxPageSize = 999

// maxCursorLen bounds a cursor before it is decoded.
const maxCursorLen = 1024

// PageRequest selects a page of a listing.
type PageRequest struct {
	// Size is the most items the page may hold: 0 means DefaultPageSize;
	// a negative size or one above MaxPageSize is refused.
	Size int
	// Cursor is the Next of the previous page, "" for the first page. It
	// is opaque, and valid only for the listing that returned it.
	Cursor string
}

// Page is one page of a listing: at most the size asked for, fewer only on
// the last page. Items the actor may not see are left out as if they did
// not exist.
type Page[T any] struct {
	// Items are the page's items, in the listing's order.
	Items []T
	// Next is the cursor of the following page, "" after the last page.
	Next string
}

// readFor runs fn in one read transaction with the actor's Reader. The zero
// Actor, an unknown user and a disabled one are refused with ErrForbidden.
func (d *core) readFor(ctx context.Context, actor Actor, fn func(tx store.ReadTx, r tenant.Reader) error) error {
	if actor.IsZero() {
		return noActor()
	}
	return d.st.View(ctx, func(tx store.ReadTx) error {
		r, err := loadReader(tx, actor)
		if err != nil {
			return err
		}
		return fn(tx, r)
	})
}

// loadReader returns the Reader of actor: System's, or the user's in her
// own tenant. It refuses the zero Actor and every user who reads nothing
// (unknown, disabled).
func loadReader(tx store.ReadTx, actor Actor) (tenant.Reader, error) {
	switch actor.kind {
	case actorSystem:
		return tenant.SystemReader(), nil
	case actorNone:
		return tenant.Reader{}, noActor()
	}
	u, err := store.Users.Get(tx, actor.userID)
	if errors.Is(err, store.ErrNotFound) {
		return tenant.Reader{}, &tenant.ForbiddenError{Reason: "the actor is not a user of the directory"}
	} else if err != nil {
		return tenant.Reader{}, err
	}
	t, err := store.Tenants.Get(tx, u.TenantID)
	if err != nil {
		return tenant.Reader{}, err
	}
	c, err := loadCaller(tx, actor, u.TenantID)
	if err != nil {
		return tenant.Reader{}, err
	}
	r := tenant.NewReader(t, c)
	if r.Access == tenant.ReadNothing {
		return r, &tenant.ForbiddenError{Reason: "the actor may read nothing"}
	}
	return r, nil
}

// authorizeLogRead checks that actor may read the activity logs (the audit
// log and the sign-in log) of tenantID, "" meaning every tenant: System,
// or a Global Administrator of that tenant (tenant.Reader.ReadsLogs). It
// refuses with ErrForbidden.
func (d *core) authorizeLogRead(ctx context.Context, actor Actor, tenantID string) error {
	return d.readFor(ctx, actor, func(_ store.ReadTx, r tenant.Reader) error {
		return requireLogReader(r, tenantID)
	})
}

func requireLogReader(r tenant.Reader, tenantID string) error {
	if !r.ReadsLogs(tenantID) {
		return &tenant.ForbiddenError{Reason: "reading the activity logs requires Global Administrator of the tenant"}
	}
	return nil
}

// kindRule tells the read rule what an object of one kind is and how much
// of it a reader gets.
type kindRule[T any] struct {
	c      *store.Collection[T]
	object func(r tenant.Reader, v T) tenant.Object
	show   func(r tenant.Reader, v T, s tenant.Sight) T
	// clone deep-copies a stored value: a read hands out a copy, never
	// the store's own record, so that changing what was read changes
	// nothing stored.
	clone func(T) T
}

func asIs[T any](_ tenant.Reader, v T, _ tenant.Sight) T { return v }

var (
	tenantRule = kindRule[tenant.Tenant]{clone: tenant.Tenant.Clone, c: store.Tenants,
		object: func(_ tenant.Reader, t tenant.Tenant) tenant.Object {
			return tenant.Object{Kind: tenant.ObjectTenant, TenantID: t.ID, ID: t.ID}
		},
		show: func(_ tenant.Reader, t tenant.Tenant, s tenant.Sight) tenant.Tenant {
			if s == tenant.Limited {
				return tenant.LimitedTenant(t)
			}
			return t
		}}
	userRule = kindRule[tenant.User]{clone: tenant.User.Clone, c: store.Users,
		object: func(_ tenant.Reader, u tenant.User) tenant.Object {
			return tenant.Object{Kind: tenant.ObjectUser, TenantID: u.TenantID, ID: u.ID}
		},
		show: func(r tenant.Reader, u tenant.User, s tenant.Sight) tenant.User {
			if s == tenant.Limited {
				return tenant.LimitedUser(u)
			}
			if !r.IsSystem() {
				u.PasswordHash = nil
			}
			return u
		}}
	groupRule = kindRule[tenant.Group]{clone: tenant.Group.Clone, c: store.Groups,
		object: func(r tenant.Reader, g tenant.Group) tenant.Object {
			return tenant.Object{Kind: tenant.ObjectGroup, TenantID: g.TenantID, ID: g.ID, Joined: r.UserID != "" && g.HasMember(r.UserID)}
		},
		show: asIs[tenant.Group]}
	appRule = kindRule[application.Application]{clone: application.Application.Clone, c: store.Applications,
		object: func(_ tenant.Reader, a application.Application) tenant.Object {
			return tenant.Object{Kind: tenant.ObjectApplication, TenantID: a.TenantID, ID: a.ID}
		},
		show: func(r tenant.Reader, a application.Application, _ tenant.Sight) application.Application {
			if !r.IsSystem() {
				return redactApp(a)
			}
			return a
		}}
	spRule = kindRule[serviceprincipal.ServicePrincipal]{clone: serviceprincipal.ServicePrincipal.Clone, c: store.ServicePrincipals,
		object: func(_ tenant.Reader, sp serviceprincipal.ServicePrincipal) tenant.Object {
			return tenant.Object{Kind: tenant.ObjectServicePrincipal, TenantID: sp.TenantID, ID: sp.ID}
		},
		show: asIs[serviceprincipal.ServicePrincipal]}
	grantRule = kindRule[consent.Grant]{clone: consent.Grant.Clone, c: store.Grants,
		object: func(_ tenant.Reader, g consent.Grant) tenant.Object {
			return tenant.Object{Kind: tenant.ObjectGrant, TenantID: g.TenantID, ID: g.ID, HolderID: g.PrincipalID}
		},
		show: asIs[consent.Grant]}
	assignmentRule = kindRule[serviceprincipal.AppRoleAssignment]{clone: serviceprincipal.AppRoleAssignment.Clone, c: store.Assignments,
		object: func(_ tenant.Reader, a serviceprincipal.AppRoleAssignment) tenant.Object {
			return tenant.Object{Kind: tenant.ObjectAssignment, TenantID: a.TenantID, ID: a.ID, HolderID: a.PrincipalID}
		},
		show: asIs[serviceprincipal.AppRoleAssignment]}
)

// notFound is the answer to a missing object and to one the reader may not
// see alike.
func notFound(kind, key string) error {
	return fmt.Errorf("tenantry: no %s with %s: %w", kind, key, store.ErrNotFound)
}

// visible returns v as the reader sees it, or the not-found answer, which
// names the object by key (e.g. `id "…"`).
func visible[T any](r tenant.Reader, k kindRule[T], v T, err error, key string) (T, error) {
	var zero T
	if errors.Is(err, store.ErrNotFound) {
		return zero, notFound(k.c.Name(), key)
	} else if err != nil {
		return zero, err
	}
	s := r.Sees(k.object(r, v))
	if s == tenant.Hidden {
		return zero, notFound(k.c.Name(), key)
	}
	return k.show(r, k.clone(v), s), nil
}

// get reads one object by id for actor.
func get[T any](ctx context.Context, d *core, actor Actor, k kindRule[T], id string) (T, error) {
	var out T
	err := d.readFor(ctx, actor, func(tx store.ReadTx, r tenant.Reader) error {
		v, err := k.c.Get(tx, id)
		if errors.Is(err, store.ErrNotFound) && r.IsSystem() {
			// Only the operator learns what else the id names: for a
			// user it could reveal objects she may not see.
			return wrongKind(tx, k.c.Name(), id, notFound(k.c.Name(), fmt.Sprintf("id %.100q", id)))
		}
		out, err = visible(r, k, v, err, fmt.Sprintf("id %.100q", id))
		return err
	})
	return out, err
}

// one reads one object by a unique index key for actor; shown names the
// key in the not-found answer.
func one[T any](ctx context.Context, d *core, actor Actor, k kindRule[T], index, key, shown string) (T, error) {
	var out T
	err := d.readFor(ctx, actor, func(tx store.ReadTx, r tenant.Reader) error {
		v, err := k.c.One(tx, index, key)
		out, err = visible(r, k, v, err, shown)
		return err
	})
	return out, err
}

// listTenant lists the objects of one tenant, for a reader who may
// enumerate it (tenant.Reader.Lists).
func listTenant[T any](ctx context.Context, d *core, actor Actor, k kindRule[T], kind tenant.ObjectKind, tenantID string, pr PageRequest) (Page[T], error) {
	return list(ctx, d, actor, k, store.ByTenant, tenantID, pr, func(r tenant.Reader) error {
		if !r.Lists(kind, tenantID) {
			return &tenant.ForbiddenError{Reason: "the actor may not list the " + k.c.Name() + "s of tenant " + tenantID}
		}
		return nil
	})
}

// list pages through the records of k whose index has key, leaving out
// those the reader may not see. allow, if set, decides first whether the
// reader may make the listing at all.
func list[T any](ctx context.Context, d *core, actor Actor, k kindRule[T], index, key string, pr PageRequest, allow func(r tenant.Reader) error) (Page[T], error) {
	listing := k.c.Name() + "/" + index + "/" + key
	size, after, err := pageRequest(listing, pr)
	if err != nil {
		return Page[T]{}, err
	}
	var out Page[T]
	err = d.readFor(ctx, actor, func(tx store.ReadTx, r tenant.Reader) error {
		if allow != nil {
			if err := allow(r); err != nil {
				return err
			}
		}
		// Hidden records are skipped, and the page is filled from the
		// records after them; Next is set only when a visible item follows
		// the page, so that neither a short page nor a cursor tells of
		// records the reader may not see.
		out = Page[T]{Items: make([]T, 0, min(size, 16))}
		// One record more than the page shows whether a visible one follows.
		p, last := store.Page{After: after, Limit: size + 1}, ""
		for {
			items, next, err := k.c.List(tx, index, key, p)
			if err != nil {
				return err
			}
			for _, v := range items {
				s := r.Sees(k.object(r, v))
				if s == tenant.Hidden {
					continue
				}
				if len(out.Items) == size {
					out.Next = encodeCursor(listing, last)
					return nil
				}
				out.Items = append(out.Items, k.show(r, k.clone(v), s))
				last = k.c.ID(v)
			}
			if next == "" {
				return nil
			}
			p.After = next
		}
	})
	return out, err
}

// pageRequest checks pr against the bounds and decodes its cursor for
// listing.
func pageRequest(listing string, pr PageRequest) (size int, after string, err error) {
	switch {
	case pr.Size < 0 || pr.Size > MaxPageSize:
		return 0, "", invalid("page size %d: must be between 0 and %d", pr.Size, MaxPageSize)
	case pr.Size == 0:
		pr.Size = DefaultPageSize
	}
	after, err = decodeCursor(listing, pr.Cursor)
	return pr.Size, after, err
}

// encodeCursor makes the opaque cursor that resumes listing after the
// position after.
func encodeCursor(listing, after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(listing + "\x00" + after))
}

// decodeCursor returns the position a cursor of listing holds; "" for the
// empty cursor. A cursor of another listing, or one that is not a cursor,
// is an invalid request.
func decodeCursor(listing, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	if len(cursor) > maxCursorLen {
		return "", invalid("cursor longer than %d bytes", maxCursorLen)
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", invalid("malformed cursor")
	}
	l, after, ok := strings.Cut(string(b), "\x00")
	if !ok || l != listing || after == "" {
		return "", invalid("the cursor belongs to another listing")
	}
	return after, nil
}

// logCursor and parseLogCursor are the cursors of log listings (the audit
// and sign-in logs), which page by sequence number. listing names the log
// and its scope.
func logCursor(listing string, seq int64) string {
	if seq == 0 {
		return ""
	}
	return encodeCursor(listing, strconv.FormatInt(seq, 10))
}

func parseLogCursor(listing, cursor string) (int64, error) {
	after, err := decodeCursor(listing, cursor)
	if err != nil || after == "" {
		return 0, err
	}
	seq, err := strconv.ParseInt(after, 10, 64)
	if err != nil || seq <= 0 {
		return 0, invalid("malformed cursor")
	}
	return seq, nil
}

// logPage checks pr and returns the store's page of log listing.
func logPage(listing string, pr PageRequest, order store.LogOrder) (store.LogPage, error) {
	if pr.Size < 0 || pr.Size > MaxPageSize {
		return store.LogPage{}, invalid("page size %d: must be between 0 and %d", pr.Size, MaxPageSize)
	}
	size := pr.Size
	if size == 0 {
		size = DefaultPageSize
	}
	after, err := parseLogCursor(listing, pr.Cursor)
	return store.LogPage{After: after, Limit: size, Order: order}, err
}

package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/postgres"
	"github.com/tenantry/tenantry/tenant"
)

// pair opens two stores on one schema: two processes sharing a database.
// a counts its round trips with c.
func pair(t *testing.T, c *counter) (a, b *postgres.Store) {
	schema := freshSchema(t)
	a = open(t, postgres.Config{Schema: schema, Tracer: c})
	b = open(t, postgres.Config{Schema: schema})
	return a, b
}

func putUser(t *testing.T, s store.Store, u tenant.User) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx store.Tx) error { return store.Users.Put(tx, u) }); err != nil {
		t.Fatal(err)
	}
}

// readUser reads the user by id and by UPN in one View of s, counting the
// round trips with c.
func readUser(t *testing.T, s store.Store, c *counter, id, upn string) (byID, byUPN *tenant.User, n int64) {
	t.Helper()
	n, _ = c.measure(func(ctx context.Context) {
		err := s.View(ctx, func(tx store.ReadTx) error {
			byID, byUPN = nil, nil
			if err := store.Prefetch(tx, store.Read{Kind: store.Users, Key: id},
				store.Read{Kind: store.Users, Index: store.UserByUPN, Key: upn}); err != nil {
				return err
			}
			u, err := store.Users.Get(tx, id)
			if err == nil {
				byID = &u
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			v, err := store.Users.One(tx, store.UserByUPN, upn)
			if err == nil {
				byUPN = &v
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	return byID, byUPN, n
}

// TestCacheSeesOtherProcess: a View of store A answered from A's cache
// (one round trip: the counter's) still sees, at once, a write another
// process (store B, a pool of its own) committed: a changed record, a
// created one A had read as missing (by id and by unique key), a deleted
// one.
func TestCacheSeesOtherProcess(t *testing.T) {
	c := &counter{}
	a, b := pair(t, c)
	u := tenant.User{ID: "u1", TenantID: "t1", UserPrincipalName: "ada@contoso.com", DisplayName: "Ada"}
	for range 2 {
		byID, byUPN, _ := readUser(t, a, c, u.ID, "ada@contoso.com")
		if byID != nil || byUPN != nil {
			t.Fatalf("A found %v, %v before anyone created the user", byID, byUPN)
		}
	}
	if _, _, n := readUser(t, a, c, u.ID, "ada@contoso.com"); n != 1 {
		t.Fatalf("a View of records A read as missing made %d round trips, want 1 (answered from the cache)", n)
	}
	putUser(t, b, u)
	byID, byUPN, _ := readUser(t, a, c, u.ID, "ada@contoso.com")
	if byID == nil || byUPN == nil || byID.DisplayName != "Ada" || byUPN.DisplayName != "Ada" {
		t.Fatalf("after B created the user, A's next View found %v by id and %v by UPN, want Ada", byID, byUPN)
	}
	if _, _, n := readUser(t, a, c, u.ID, "ada@contoso.com"); n != 1 {
		t.Fatalf("a View of records A just read made %d round trips, want 1 (answered from the cache)", n)
	}
	u.DisplayName = "Ada Lovelace"
	putUser(t, b, u)
	byID, byUPN, _ = readUser(t, a, c, u.ID, "ada@contoso.com")
	if byID == nil || byUPN == nil || byID.DisplayName != "Ada Lovelace" || byUPN.DisplayName != "Ada Lovelace" {
		t.Fatalf("after B renamed the user, A's next View found %v by id and %v by UPN, want Ada Lovelace", byID, byUPN)
	}
	u.UserPrincipalName = "lovelace@contoso.com"
	putUser(t, b, u)
	byID, byUPN, _ = readUser(t, a, c, u.ID, "ada@contoso.com")
	if byID == nil || byID.UserPrincipalName != "lovelace@contoso.com" || byUPN != nil {
		t.Fatalf("after B changed the UPN, A's next View found %v by id and %v by the old UPN, want the new UPN and none", byID, byUPN)
	}
	if err := b.Update(context.Background(), func(tx store.Tx) error { return tx.Delete(store.Users, u.ID) }); err != nil {
		t.Fatal(err)
	}
	byID, _, _ = readUser(t, a, c, u.ID, "lovelace@contoso.com")
	if byID != nil {
		t.Fatalf("after B deleted the user, A's next View found %v", byID)
	}
	// An Update that writes only an audit event moves the counter too.
	putUser(t, b, u)
	readUser(t, a, c, u.ID, "lovelace@contoso.com")
	if err := b.Update(context.Background(), func(tx store.Tx) error {
		return tx.AppendAudit(store.AuditEvent{Action: "test.note", Actor: "system"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, n := readUser(t, a, c, u.ID, "lovelace@contoso.com"); n == 1 {
		t.Fatal("after B appended an audit event, A's View was answered from the cache")
	}
}

// TestCacheOff: with Config.CacheEntries negative, every View reads in a
// snapshot.
func TestCacheOff(t *testing.T) {
	c := &counter{}
	s := open(t, postgres.Config{Tracer: c, CacheEntries: -1})
	putUser(t, s, tenant.User{ID: "u1", TenantID: "t1", UserPrincipalName: "ada@contoso.com"})
	for range 3 {
		if _, _, n := readUser(t, s, c, "u1", "ada@contoso.com"); n != 1 {
			t.Fatalf("a View with the cache off made %d round trips, want 1 (its prefetch, with the BEGIN)", n)
		}
	}
	_, sqls := c.measure(func(ctx context.Context) {
		_ = s.View(ctx, func(tx store.ReadTx) error { _, err := store.Users.Get(tx, "u1"); return err })
	})
	if len(sqls) != 1 || !strings.Contains(sqls[0], "BEGIN") {
		t.Fatalf("a View with the cache off sent %q, want one batch with the BEGIN", sqls)
	}
}

// TestCacheBound: a cache bounded to a few entries stays correct as it
// fills and is emptied.
func TestCacheBound(t *testing.T) {
	c := &counter{}
	s := open(t, postgres.Config{Tracer: c, CacheEntries: 3})
	for i := range 10 {
		putUser(t, s, tenant.User{ID: fmt.Sprint("u", i), TenantID: "t1", UserPrincipalName: fmt.Sprintf("u%d@contoso.com", i), DisplayName: fmt.Sprint(i)})
	}
	for range 3 {
		for i := range 10 {
			byID, byUPN, _ := readUser(t, s, c, fmt.Sprint("u", i), fmt.Sprintf("u%d@contoso.com", i))
			if byID == nil || byUPN == nil || byID.DisplayName != fmt.Sprint(i) || byUPN.DisplayName != fmt.Sprint(i) {
				t.Fatalf("user %d read as %v and %v", i, byID, byUPN)
			}
		}
	}
	// Two entries fit: the same View again is answered from the cache.
	readUser(t, s, c, "u1", "u1@contoso.com")
	if _, _, n := readUser(t, s, c, "u1", "u1@contoso.com"); n != 1 {
		t.Fatalf("a View of two cached entries made %d round trips, want 1", n)
	}
}

// TestCacheInterleaved: random writes through two stores and reads
// through the first, each read checked against a model of the committed
// state: a write by either store is seen by the next View.
func TestCacheInterleaved(t *testing.T) {
	c := &counter{}
	a, b := pair(t, c)
	r := rand.New(rand.NewPCG(1, 2))
	model := map[string]tenant.User{}
	id := func() string { return fmt.Sprint("u", r.IntN(6)) }
	for step := range 300 {
		s := a
		if r.IntN(2) == 0 {
			s = b
		}
		switch k := r.IntN(10); {
		case k < 3:
			u := tenant.User{ID: id(), TenantID: "t1", DisplayName: fmt.Sprint("v", step)}
			u.UserPrincipalName = u.ID + "@contoso.com"
			if r.IntN(2) == 0 {
				u.UserPrincipalName = fmt.Sprint("x", step, "@contoso.com")
			}
			err := s.Update(context.Background(), func(tx store.Tx) error { return store.Users.Put(tx, u) })
			if err == nil {
				model[u.ID] = u
			} else if !errors.Is(err, store.ErrAlreadyExists) {
				t.Fatal(err)
			}
		case k < 4:
			i := id()
			err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Delete(store.Users, i) })
			if err == nil {
				delete(model, i)
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
		default:
			i := id()
			byID, byUPN, _ := readUser(t, a, c, i, i+"@contoso.com")
			want, ok := model[i]
			if (byID != nil) != ok || ok && byID.DisplayName != want.DisplayName {
				t.Fatalf("step %d: A read %s by id as %v, want %v (present %v)", step, i, byID, want, ok)
			}
			var wantUPN *tenant.User
			for _, u := range model {
				if u.UserPrincipalName == i+"@contoso.com" {
					wantUPN = &u
				}
			}
			if (byUPN == nil) != (wantUPN == nil) || byUPN != nil && byUPN.DisplayName != wantUPN.DisplayName {
				t.Fatalf("step %d: A read %s@contoso.com as %v, want %v", step, i, byUPN, wantUPN)
			}
		}
	}
}

// TestCacheSnapshot: while another store rewrites two records in every
// Update, giving both the same value, every View of the first store, from
// its cache, from a snapshot or both, finds them equal, whether it reads
// them in one prefetch or one after the other, with a read the cache
// lacks between them.
func TestCacheSnapshot(t *testing.T) {
	a, b := pair(t, &counter{})
	write := func(s store.Store, v int) error {
		return s.Update(context.Background(), func(tx store.Tx) error {
			for _, id := range []string{"u1", "u2"} {
				if err := store.Users.Put(tx, tenant.User{ID: id, TenantID: "t1", DisplayName: fmt.Sprint(v)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := write(b, 0); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := 1; ; v++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := write(b, v); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for i := range 2000 {
		var first, second tenant.User
		err := a.View(context.Background(), func(tx store.ReadTx) error {
			if i%2 == 0 {
				if err := store.Prefetch(tx, store.Read{Kind: store.Users, Key: "u1"}, store.Read{Kind: store.Users, Key: "u2"}); err != nil {
					return err
				}
			}
			var err error
			if first, err = store.Users.Get(tx, "u1"); err != nil {
				return err
			}
			if i%2 == 1 {
				// A record the cache lacks: the View begins a snapshot,
				// which may be newer than what it read from the cache.
				if _, err := store.Users.Get(tx, fmt.Sprint("none", i)); !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("a user never written: %w", err)
				}
			}
			second, err = store.Users.Get(tx, "u2")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if first.DisplayName != second.DisplayName {
			t.Fatalf("View %d found u1 at %s and u2 at %s: not one snapshot", i, first.DisplayName, second.DisplayName)
		}
	}
	close(stop)
	wg.Wait()
}

// TestCacheConcurrentViews: while Views of store A keep its counter
// checks in flight (concurrent Views share them), every View that begins
// after store B committed a write sees it.
func TestCacheConcurrentViews(t *testing.T) {
	a, b := pair(t, &counter{})
	read := func() (string, error) {
		var name string
		err := a.View(context.Background(), func(tx store.ReadTx) error {
			u, err := store.Users.Get(tx, "u1")
			name = u.DisplayName
			return err
		})
		return name, err
	}
	putUser(t, b, tenant.User{ID: "u1", TenantID: "t1", DisplayName: "0"})
	stop := make(chan struct{})
	var bg sync.WaitGroup
	for range 4 {
		bg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := read(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	defer func() { close(stop); bg.Wait() }()
	for v := 1; v <= 100; v++ {
		putUser(t, b, tenant.User{ID: "u1", TenantID: "t1", DisplayName: fmt.Sprint(v)})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				name, err := read()
				if err != nil {
					t.Error(err)
				} else if name != fmt.Sprint(v) {
					t.Errorf("a View begun after write %d committed found %s", v, name)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
}

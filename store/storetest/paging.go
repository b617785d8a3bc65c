package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// testPaging: List walks every record exactly once in id order, for index
// "" and for an index key; next is the last id of a page when more
// follow and "" at the end; Limit 0 means DefaultPageSize; a cursor need
// not be an existing id.
func testPaging(t *testing.T, open func(*testing.T) store.Store) {
	s := open(t)
	t1, t2 := id("tenant/one"), id("tenant/two")
	const n = store.DefaultPageSize + 50
	var users []tenant.User
	var all, inT1, inT2 []string
	for i := range n {
		tid := t1
		if i%3 == 0 {
			tid = t2
		}
		u := newUser(fmt.Sprintf("p%03d", i), tid)
		users = append(users, u)
		all = append(all, u.ID)
		if tid == t1 {
			inT1 = append(inT1, u.ID)
		} else {
			inT2 = append(inT2, u.ID)
		}
	}
	slices.Sort(all)
	slices.Sort(inT1)
	slices.Sort(inT2)
	// Create in three transactions, in an order unrelated to the ids.
	for part := range 3 {
		update(t, s, "Create users", func(tx store.Tx) error {
			for i := len(users) - 1 - part; i >= 0; i -= 3 {
				if err := store.Users.Create(tx, users[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}

	view(t, s, "paging", func(tx store.ReadTx) error {
		for _, limit := range []int{1, 2, 7, len(inT2), len(inT1), n, n + 1, 0} {
			wantAll(t, tx, store.Users, "", "", limit, all, "walk of every record")
			wantAll(t, tx, store.Users, store.ByTenant, t1, limit, inT1, "walk of an index key")
			wantAll(t, tx, store.Users, store.ByTenant, t2, limit, inT2, "walk of an index key")
		}
		page := func(index, key string, p store.Page, want []string, wantNext string, what string) {
			t.Helper()
			items, next, err := store.Users.List(tx, index, key, p)
			if !noErr(t, err, what) {
				return
			}
			got := ids(store.Users, items)
			if !slices.Equal(got, want) || next != wantNext {
				t.Errorf("%s: List(%q, %q, %+v) returned %d ids (first %q) and cursor %q, want %d ids (first %q) and cursor %q",
					what, index, key, p, len(got), first(got), next, len(want), first(want), wantNext)
			}
		}
		page("", "", store.Page{}, all[:store.DefaultPageSize], all[store.DefaultPageSize-1], "first page with Limit 0 (DefaultPageSize)")
		page("", "", store.Page{After: all[store.DefaultPageSize-1]}, all[store.DefaultPageSize:], "", "last page with Limit 0")
		page(store.ByTenant, t2, store.Page{Limit: len(inT2)}, inT2, "", "a page holding exactly the remaining records ends with cursor \"\"")
		page("", "", store.Page{Limit: 5, After: all[10] + "\x00"}, all[11:16], all[15], "cursor between two ids")
		page("", "", store.Page{Limit: 5, After: "\x00"}, all[:5], all[4], "cursor before every id")
		page("", "", store.Page{Limit: 5, After: "~"}, nil, "", "cursor after every id")
		page(store.ByTenant, id("tenant/none"), store.Page{Limit: 5}, nil, "", "key without records")
		return nil
	})

	// A cursor stays valid when its record and the next one are deleted.
	var next string
	view(t, s, "first page", func(tx store.ReadTx) (err error) {
		_, next, err = store.Users.List(tx, "", "", store.Page{Limit: 10})
		return err
	})
	if next != all[9] {
		t.Fatalf("first page of 10 ended with cursor %q, want %q", next, all[9])
	}
	update(t, s, "Delete the cursor's record and the next", func(tx store.Tx) error {
		if err := store.Users.Delete(tx, all[9]); err != nil {
			return err
		}
		return store.Users.Delete(tx, all[10])
	})
	view(t, s, "next page", func(tx store.ReadTx) error {
		items, _, err := store.Users.List(tx, "", "", store.Page{After: next, Limit: 3})
		if noErr(t, err, "List after a deleted cursor") && !slices.Equal(ids(store.Users, items), all[11:14]) {
			t.Errorf("List after a deleted cursor returned %v, want %v", ids(store.Users, items), all[11:14])
		}
		return nil
	})
}

func first(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

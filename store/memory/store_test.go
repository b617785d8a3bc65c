package memory_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
)

// TestTxAfterEnd: a transaction kept after its View or Update returned
// refuses every call.
func TestTxAfterEnd(t *testing.T) {
	s := memory.New()
	var rtx store.ReadTx
	var wtx store.Tx
	if err := s.View(t.Context(), func(tx store.ReadTx) error { rtx = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(tx store.Tx) error { wtx = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	sp := serviceprincipal.ServicePrincipal{ID: "sp", TenantID: "t"}
	for what, err := range map[string]error{
		"Get through a kept View tx":   second(rtx.Get(store.ServicePrincipals, "sp")),
		"Get through a kept Update tx": second(wtx.Get(store.ServicePrincipals, "sp")),
		"Put through a kept Update tx": wtx.Put(store.ServicePrincipals, sp, 0),
		"AppendAudit after the Update": wtx.AppendAudit(store.AuditEvent{Action: "late"}),
		"Delete through a kept Update": wtx.Delete(store.ServicePrincipals, "sp"),
		"Create through a kept Update": wtx.Create(store.ServicePrincipals, sp),
	} {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s returned %v, want an error matching ErrClosed", what, err)
		}
	}
}

func second[A, B any](_ A, _ B, err error) error { return err }

// TestManyRecords drives sets past the block size of the sorted id sets
// through the store: listings by index and of every record, with deletes
// and moves, against a sorted model.
func TestManyRecords(t *testing.T) {
	s := memory.New()
	const n = 3000
	tenantOf := func(i int) string { return fmt.Sprintf("tenant-%d", i%3/2) } // 2/3 in tenant-0
	var want = map[string][]string{}
	var all []string
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range n {
			id := fmt.Sprintf("%08x", uint32(i)*2654435761)
			sp := serviceprincipal.ServicePrincipal{ID: id, TenantID: tenantOf(i), DisplayName: id}
			if err := store.ServicePrincipals.Create(tx, sp); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Delete every 4th record, move every 7th to tenant-9, in batches.
	for b := 0; b < n; b += 500 {
		err := s.Update(t.Context(), func(tx store.Tx) error {
			for i := b; i < b+500; i++ {
				id := fmt.Sprintf("%08x", uint32(i)*2654435761)
				switch {
				case i%4 == 0:
					if err := store.ServicePrincipals.Delete(tx, id); err != nil {
						return err
					}
				case i%7 == 0:
					sp := serviceprincipal.ServicePrincipal{ID: id, TenantID: "tenant-9", DisplayName: id}
					if err := store.ServicePrincipals.Put(tx, sp); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		id := fmt.Sprintf("%08x", uint32(i)*2654435761)
		switch {
		case i%4 == 0:
			continue
		case i%7 == 0:
			want["tenant-9"] = append(want["tenant-9"], id)
		default:
			want[tenantOf(i)] = append(want[tenantOf(i)], id)
		}
		all = append(all, id)
	}
	slices.Sort(all)
	err = s.View(t.Context(), func(tx store.ReadTx) error {
		check := func(index, key string, want []string) {
			slices.Sort(want)
			for _, limit := range []int{1, 99, 512, 0} {
				var got []string
				p := store.Page{Limit: limit}
				for {
					items, next, err := store.ServicePrincipals.List(tx, index, key, p)
					if err != nil {
						t.Fatal(err)
					}
					for _, sp := range items {
						got = append(got, sp.ID)
					}
					if next == "" {
						break
					}
					p.After = next
				}
				if !slices.Equal(got, want) {
					t.Errorf("List(%q, %q) with limit %d walked %d ids, want %d in order", index, key, limit, len(got), len(want))
				}
			}
			if index == "" {
				return
			}
			vs, err := store.ServicePrincipals.Lookup(tx, index, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != len(want) {
				t.Errorf("Lookup(%q, %q) returned %d records, want %d", index, key, len(vs), len(want))
			}
		}
		check("", "", all)
		for key, ids := range want {
			check(store.ByTenant, key, ids)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

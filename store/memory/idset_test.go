package memory

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// checkSet compares s with the sorted model and checks the block
// invariants.
func checkSet(t interface {
	Helper()
	Fatalf(string, ...any)
}, s idSet, model map[string]bool) {
	t.Helper()
	want := make([]string, 0, len(model))
	for id := range model {
		want = append(want, id)
	}
	slices.Sort(want)
	got := collect(&s, "")
	if !slices.Equal(got, want) {
		t.Fatalf("set holds %d ids, model %d: sets differ", len(got), len(want))
	}
	if s.len() != len(want) {
		t.Fatalf("len() = %d, want %d", s.len(), len(want))
	}
	if b := s.big; b != nil {
		if len(b.b) != len(b.max) {
			t.Fatalf("%d blocks but %d maxima", len(b.b), len(b.max))
		}
		for i, blk := range b.b {
			if len(blk) == 0 || len(blk) > blockSize || b.max[i] != blk[len(blk)-1] {
				t.Fatalf("block %d has %d ids and max %q, want 1..%d ids ending with the max", i, len(blk), b.max[i], blockSize)
			}
		}
	}
	// Seeks from every id and from between ids.
	for _, i := range []int{0, len(want) / 3, len(want) / 2, len(want) - 1} {
		if i < 0 || i >= len(want) {
			continue
		}
		after := want[i]
		if got := collect(&s, after); !slices.Equal(got, want[i+1:]) {
			t.Fatalf("after(%q) yields %d ids, want %d", after, len(got), len(want)-i-1)
		}
		if got := collect(&s, after+"\x00"); !slices.Equal(got, want[i+1:]) {
			t.Fatalf("after(%q+NUL) yields %d ids, want %d", after, len(got), len(want)-i-1)
		}
	}
}

func collect(s *idSet, after string) []string {
	var out []string
	s.ascend(after, func(id string) bool {
		out = append(out, id)
		return true
	})
	return out
}

// TestIDSetRandom drives an idSet through growth into blocks, splits,
// merges and back to a flat slice, against a map.
func TestIDSetRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s idSet
	model := map[string]bool{}
	const universe = 4 * blockSize
	for step := range 30_000 {
		id := fmt.Sprintf("%08x", r.IntN(universe)*2654435761%(1<<32))
		// Grow for the first half, shrink for the second.
		add := r.IntN(4) != 0
		if step > 15_000 {
			add = r.IntN(4) == 0
		}
		if add {
			if s.add(id) == model[id] {
				t.Fatalf("add(%q) reported a wrong presence", id)
			}
			model[id] = true
		} else {
			if s.remove(id) != model[id] {
				t.Fatalf("remove(%q) reported a wrong presence", id)
			}
			delete(model, id)
		}
		if step%997 == 0 {
			checkSet(t, s, model)
		}
	}
	checkSet(t, s, model)
}

// TestIDSetProperties checks add, remove and after against a map on random
// short operation sequences.
func TestIDSetProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var s idSet
		model := map[string]bool{}
		ids := rapid.SliceOfN(rapid.StringMatching(`[a-f]{1,3}`), 1, 2*blockSize).Draw(rt, "ids")
		for _, id := range ids {
			if rapid.IntRange(0, 3).Draw(rt, "remove") == 0 {
				s.remove(id)
				delete(model, id)
			} else {
				s.add(id)
				model[id] = true
			}
		}
		checkSet(rt, s, model)
	})
}

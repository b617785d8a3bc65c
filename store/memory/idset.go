package memory

import (
	"slices"
	"sort"
)

// blockSize bounds the blocks of a large idSet. An insert or delete moves at
// most blockSize strings inside one block (a few hundred nanoseconds), and a
// seek is two binary searches; a set of n ids has about 2n/blockSize blocks.
const blockSize = 512

// idSet is a sorted set of record ids: the ids of a kind, or of one key of
// an index. Small sets (nearly every index key) are a single sorted slice;
// a set that outgrows blockSize becomes a list of sorted blocks, each at
// most blockSize long, so that keeping 1,000,000 ids in order costs
// O(blockSize) per insert instead of O(n), and listing a page costs a seek
// instead of a sort.
//
// A set of one id, the most common case (the assignments of one principal,
// the members of one group), keeps it inline: no allocation, and one cache
// miss less to reach it.
//
// The zero idSet is empty and ready to use. idSet is a value type: callers
// that keep it in a map store it back after a change. Ids are never "".
type idSet struct {
	one string // the id of a set of one; flat and big are then nil
	// oneV is the committed value of record one when known (nil
	// otherwise): table.apply refreshes it on every write of the record,
	// so that a lookup by a key held by a single record needs no second
	// map access. Any change of one clears it.
	oneV any
	flat []string // the ids, sorted, of a set of 2..blockSize
	big  *blocks  // a larger set
}

type blocks struct {
	b   [][]string // non-empty sorted blocks; every id of b[i] < every id of b[i+1]
	max []string   // max[i] == last id of b[i]
	n   int
}

func (s idSet) len() int {
	switch {
	case s.big != nil:
		return s.big.n
	case s.one != "":
		return 1
	}
	return len(s.flat)
}

// add inserts id and reports whether it was absent.
func (s *idSet) add(id string) bool {
	switch {
	case s.one == id:
		return false
	case s.one != "":
		s.flat = []string{min(s.one, id), max(s.one, id)}
		s.one, s.oneV = "", nil
		return true
	case s.big == nil && len(s.flat) == 0:
		s.one, s.oneV, s.flat = id, nil, nil
		return true
	}
	if s.big == nil {
		i, found := slices.BinarySearch(s.flat, id)
		if found {
			return false
		}
		s.flat = slices.Insert(s.flat, i, id)
		if len(s.flat) > blockSize {
			s.promote()
		}
		return true
	}
	return s.big.add(id)
}

// remove deletes id and reports whether it was present.
func (s *idSet) remove(id string) bool {
	if s.one != "" {
		if s.one != id {
			return false
		}
		s.one, s.oneV = "", nil
		return true
	}
	if s.big == nil {
		i, found := slices.BinarySearch(s.flat, id)
		if !found {
			return false
		}
		s.flat = slices.Delete(s.flat, i, i+1)
		if len(s.flat) == 1 {
			s.one, s.oneV, s.flat = s.flat[0], nil, nil
		}
		return true
	}
	if !s.big.remove(id) {
		return false
	}
	if s.big.n <= blockSize/4 {
		s.demote()
	}
	return true
}

// promote turns a flat set into blocks of half the block size.
func (s *idSet) promote() {
	b := &blocks{n: len(s.flat)}
	const half = blockSize / 2
	for i := 0; i < len(s.flat); i += half {
		j := min(i+half, len(s.flat))
		blk := slices.Clone(s.flat[i:j])
		b.b = append(b.b, blk)
		b.max = append(b.max, blk[len(blk)-1])
	}
	s.flat, s.big = nil, b
}

// demote turns a set of blocks that has become small back into one slice.
func (s *idSet) demote() {
	flat := make([]string, 0, s.big.n)
	for _, blk := range s.big.b {
		flat = append(flat, blk...)
	}
	s.flat, s.big = flat, nil
	switch len(flat) {
	case 0:
		s.flat = nil
	case 1:
		s.one, s.oneV, s.flat = flat[0], nil, nil
	}
}

// find returns the index of the first block whose last id is >= id, or
// len(b.b) if there is none.
func (b *blocks) find(id string) int {
	return sort.SearchStrings(b.max, id)
}

func (b *blocks) add(id string) bool {
	i := b.find(id)
	if i == len(b.b) {
		i-- // larger than every id: append to the last block
	}
	blk := b.b[i]
	j, found := slices.BinarySearch(blk, id)
	if found {
		return false
	}
	blk = slices.Insert(blk, j, id)
	b.n++
	if len(blk) <= blockSize {
		b.b[i], b.max[i] = blk, blk[len(blk)-1]
		return true
	}
	// Split: the right half gets its own backing array so that later
	// inserts into the left half cannot overwrite it.
	h := len(blk) / 2
	left, right := blk[:h:h], slices.Clone(blk[h:])
	b.b[i], b.max[i] = left, left[h-1]
	b.b = slices.Insert(b.b, i+1, right)
	b.max = slices.Insert(b.max, i+1, right[len(right)-1])
	return true
}

func (b *blocks) remove(id string) bool {
	i := b.find(id)
	if i == len(b.b) {
		return false
	}
	blk := b.b[i]
	j, found := slices.BinarySearch(blk, id)
	if !found {
		return false
	}
	blk = slices.Delete(blk, j, j+1)
	b.n--
	switch {
	case len(blk) == 0:
		b.b = slices.Delete(b.b, i, i+1)
		b.max = slices.Delete(b.max, i, i+1)
	case i+1 < len(b.b) && len(blk) < blockSize/4 && len(blk)+len(b.b[i+1]) <= blockSize:
		// Merge a small block into its right neighbour to keep the
		// number of blocks proportional to n.
		merged := append(blk, b.b[i+1]...)
		b.b[i], b.max[i] = merged, merged[len(merged)-1]
		b.b = slices.Delete(b.b, i+1, i+2)
		b.max = slices.Delete(b.max, i+1, i+2)
	default:
		b.b[i], b.max[i] = blk, blk[len(blk)-1]
	}
	return true
}

// ascend calls yield with the ids greater than after (every id when after
// is ""), in ascending order, until yield returns false.
func (s *idSet) ascend(after string, yield func(id string) bool) {
	if s.one != "" {
		if s.one > after {
			yield(s.one)
		}
		return
	}
	if s.big == nil {
		for _, id := range s.flat[firstAfter(s.flat, after):] {
			if !yield(id) {
				return
			}
		}
		return
	}
	b := s.big
	i, j := 0, 0
	if after != "" {
		// The first block whose last id is > after.
		i = sort.Search(len(b.max), func(k int) bool { return b.max[k] > after })
		if i < len(b.b) {
			j = firstAfter(b.b[i], after)
		}
	}
	for ; i < len(b.b); i, j = i+1, 0 {
		for _, id := range b.b[i][j:] {
			if !yield(id) {
				return
			}
		}
	}
}

// firstAfter returns the index of the first id in sorted that is greater
// than after.
func firstAfter(sorted []string, after string) int {
	if after == "" {
		return 0
	}
	i, found := slices.BinarySearch(sorted, after)
	if found {
		i++
	}
	return i
}

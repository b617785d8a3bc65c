package storetest

import (
	"fmt"

	"github.com/tenantry/tenantry/store"
)

// walkLog reads every page of a log in order with page size limit,
// following the cursors, and returns the events. It fails if a page is
// larger than the limit or out of order, if a cursor is not the Seq of the
// page's last event, or if a cursor announces a page that is empty.
func walkLog[E any](read func(p store.LogPage) ([]E, int64, error), seq func(E) int64, order store.LogOrder, limit int) ([]E, error) {
	size := limit
	if size <= 0 {
		size = store.DefaultPageSize
	}
	var out []E
	p := store.LogPage{Limit: limit, Order: order}
	for pages := 0; pages < 100_000; pages++ {
		events, next, err := read(p)
		if err != nil {
			return nil, err
		}
		if p.After != 0 && len(events) == 0 {
			return nil, fmt.Errorf("cursor %d announced more events, but the page after it is empty", p.After)
		}
		if len(events) > size {
			return nil, fmt.Errorf("page after %d holds %d events, limit %d", p.After, len(events), size)
		}
		for _, e := range events {
			if len(out) > 0 {
				prev := seq(out[len(out)-1])
				if (order == store.OldestFirst && seq(e) <= prev) || (order == store.NewestFirst && seq(e) >= prev) {
					return nil, fmt.Errorf("page after %d: Seq %d follows Seq %d, want order %d", p.After, seq(e), prev, order)
				}
			}
			out = append(out, e)
		}
		if next == 0 {
			return out, nil
		}
		if len(events) == 0 {
			return nil, fmt.Errorf("empty page after %d returned cursor %d", p.After, next)
		}
		if last := seq(events[len(events)-1]); next != last {
			return nil, fmt.Errorf("page after %d returned cursor %d, want the Seq of its last event, %d", p.After, next, last)
		}
		p.After = next
	}
	return nil, fmt.Errorf("log paging did not end")
}

// reversed returns a reversed copy of s.
func reversed[E any](s []E) []E {
	out := make([]E, len(s))
	for i, e := range s {
		out[len(s)-1-i] = e
	}
	return out
}

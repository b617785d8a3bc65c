package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store"
)

// Seed writes vs, records of kind k, with COPY, in one transaction that
// holds the writers' lock: a bulk load for benchmarks, without audit
// events.
func Seed(ctx context.Context, s *Store, k store.Kind, vs []any) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		var seq, rev int64
		if err := tx.QueryRow(ctx, sqlLock).Scan(&seq, &rev); err != nil {
			return err
		}
		recs := make([][]any, 0, len(vs))
		var keys [][]any
		for _, v := range vs {
			data, err := k.Encode(v)
			if err != nil {
				return err
			}
			rev++
			id := []byte(k.ID(v))
			recs = append(recs, []any{k.Name(), id, rev, data})
			idx, ks, uniq := keysOf(k, v)
			for i := range idx {
				keys = append(keys, []any{k.Name(), idx[i], ks[i], id, uniq[i]})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"}, []string{"kind", "id", "rev", "data"}, pgx.CopyFromRows(recs)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"record_keys"}, []string{"kind", "idx", "key", "id", "uniq"}, pgx.CopyFromRows(keys)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlUnlock, seq, rev); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "ANALYZE records; ANALYZE record_keys")
		return err
	})
}

// DropCache empties s's snapshot cache, as a process that just started
// has it.
func DropCache(s *Store) {
	s.cache.mu.Lock()
	s.cache.gen = nil
	s.cache.mu.Unlock()
}

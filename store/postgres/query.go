package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tenantry/tenantry/store"
)

// querier is what reads and writes run on: a pooled connection, inside or
// outside an explicit transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// The record reads. Ids and keys are bytea: they compare byte-wise, as Go
// strings do, and the ORDER BY follows the primary keys.
const (
	sqlGet    = `SELECT rev, data FROM records WHERE kind = $1 AND id = $2`
	sqlLookup = `SELECT r.id, r.rev, r.data FROM record_keys k JOIN records r ON r.kind = k.kind AND r.id = k.id
		WHERE k.kind = $1 AND k.idx = $2 AND k.key = $3 ORDER BY k.id`
	sqlOne = `SELECT r.id, r.rev, r.data FROM record_keys k JOIN records r ON r.kind = k.kind AND r.id = k.id
		WHERE k.kind = $1 AND k.idx = $2 AND k.key = $3 ORDER BY k.id LIMIT 1`
	// sqlLookupVia: the records of kind $1 whose index $2 has as key the
	// id of the record of kind $3 holding key $5 in unique index $4. One
	// row per record found (v_id the key), or one row of NULLs but v_id
	// when none has it, or no row when no record holds the unique key.
	sqlLookupVia = `SELECT v.id, r.id, r.rev, r.data FROM record_keys v
		LEFT JOIN record_keys k ON k.kind = $1 AND k.idx = $2 AND k.key = v.id
		LEFT JOIN records r ON r.kind = k.kind AND r.id = k.id
		WHERE v.kind = $3 AND v.idx = $4 AND v.key = $5 AND v.uniq ORDER BY k.id`
	sqlListAll = `SELECT id, rev, data FROM records WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3`
	sqlListKey = `SELECT r.id, r.rev, r.data FROM record_keys k JOIN records r ON r.kind = k.kind AND r.id = k.id
		WHERE k.kind = $1 AND k.idx = $2 AND k.key = $3 AND k.id > $4 ORDER BY k.id LIMIT $5`
)

// record is a decoded record.
type record struct {
	id  string
	v   any
	rev store.Rev
}

// checkIndex reports an error unless k has the index (or index is "" and
// empty is allowed).
func checkIndex(k store.Kind, index string, empty bool) (store.Index, error) {
	if index == "" && empty {
		return store.Index{}, nil
	}
	for _, ix := range k.Indexes() {
		if ix.Name == index {
			return ix, nil
		}
	}
	if index == "" {
		return store.Index{}, fmt.Errorf("postgres: lookup %s: index is required", k.Name())
	}
	return store.Index{}, fmt.Errorf("postgres: %s has no index %q", k.Name(), index)
}

// scanRecords decodes rows of (id, rev, data).
func scanRecords(k store.Kind, rows pgx.Rows) ([]record, error) {
	defer rows.Close()
	var out []record
	for rows.Next() {
		var id, data []byte
		var rev int64
		if err := rows.Scan(&id, &rev, &data); err != nil {
			return nil, err
		}
		v, err := k.Decode(data)
		if err != nil {
			return nil, err
		}
		out = append(out, record{id: string(id), v: v, rev: store.Rev(rev)})
	}
	return out, rows.Err()
}

func values(rs []record) []any {
	if len(rs) == 0 {
		return nil
	}
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = r.v
	}
	return out
}

func notFound(k store.Kind, id string) error {
	return fmt.Errorf("postgres: %s %q: %w", k.Name(), id, store.ErrNotFound)
}

func notFoundKey(k store.Kind, index, key string) error {
	return fmt.Errorf("%w: %s with %s %q", store.ErrNotFound, k.Name(), index, key)
}

// getRecord reads one record by id.
func getRecord(ctx context.Context, q querier, k store.Kind, id string) (record, bool, error) {
	rows, err := q.Query(ctx, sqlGet, k.Name(), []byte(id))
	if err != nil {
		return record{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return record{}, false, rows.Err()
	}
	var data []byte
	var rev int64
	if err := rows.Scan(&rev, &data); err != nil {
		return record{}, false, err
	}
	v, err := k.Decode(data)
	if err != nil {
		return record{}, false, err
	}
	rows.Close()
	return record{id: id, v: v, rev: store.Rev(rev)}, true, rows.Err()
}

// lookupRecords reads the records with key in index, in id order.
func lookupRecords(ctx context.Context, q querier, k store.Kind, index, key string, one bool) ([]record, error) {
	if _, err := checkIndex(k, index, false); err != nil {
		return nil, err
	}
	sql := sqlLookup
	if one {
		sql = sqlOne
	}
	rows, err := q.Query(ctx, sql, k.Name(), index, []byte(key))
	if err != nil {
		return nil, err
	}
	return scanRecords(k, rows)
}

// readQuery is a read to send: alone, or queued in a batch.
type readQuery struct {
	sql  string
	args []any
	scan func(rows pgx.Rows) error
}

// runQuery sends q and scans its rows.
func runQuery(ctx context.Context, db querier, q readQuery) error {
	rows, err := db.Query(ctx, q.sql, q.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return q.scan(rows)
}

type listResult struct {
	items []any
	next  string
}

// listQuery is the read of a page of a listing; res holds the page once
// the query's rows are scanned.
func listQuery(k store.Kind, index, key string, p store.Page) (readQuery, *listResult, error) {
	if _, err := checkIndex(k, index, true); err != nil {
		return readQuery{}, nil, err
	}
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultPageSize
	}
	q := readQuery{sql: sqlListAll, args: []any{k.Name(), []byte(p.After), limit + 1}}
	if index != "" {
		q = readQuery{sql: sqlListKey, args: []any{k.Name(), index, []byte(key), []byte(p.After), limit + 1}}
	}
	res := &listResult{}
	q.scan = func(rows pgx.Rows) error {
		rs, err := scanRecords(k, rows)
		if err != nil {
			return err
		}
		if len(rs) > limit {
			rs = rs[:limit]
			res.next = rs[limit-1].id
		}
		res.items = values(rs)
		return nil
	}
	return q, res, nil
}

// keysOf returns v's index keys, flattened: parallel slices of index
// name, key and uniqueness.
func keysOf(k store.Kind, v any) (idx []string, keys [][]byte, uniq []bool) {
	for _, ix := range k.Indexes() {
		for _, key := range slices.Compact(slices.Sorted(slices.Values(k.Keys(ix.Name, v)))) {
			idx = append(idx, ix.Name)
			keys = append(keys, []byte(key))
			uniq = append(uniq, ix.Unique)
		}
	}
	return idx, keys, uniq
}

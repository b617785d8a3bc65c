package postgres

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store"
)

const (
	auditColumns = `seq, time_s, time_ns, tenant_id, actor, action, target_kind, target_id, before, after`
	sqlAuditAdd  = `INSERT INTO audit_log (` + auditColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
)

// auditArgs returns the arguments of sqlAuditAdd for e.
func auditArgs(e *store.AuditEvent) []any {
	return []any{e.Seq, e.Time.Unix(), e.Time.Nanosecond(), []byte(e.TenantID), []byte(e.Actor), []byte(e.Action),
		[]byte(e.TargetKind), []byte(e.TargetID), nilIfEmpty(e.Before), nilIfEmpty(e.After)}
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func scanAudit(rows pgx.Rows) ([]store.AuditEvent, error) {
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var secs int64
		var nsec int32
		var tid, actor, action, kind, target, before, after []byte
		if err := rows.Scan(&e.Seq, &secs, &nsec, &tid, &actor, &action, &kind, &target, &before, &after); err != nil {
			return nil, err
		}
		e.Time = time.Unix(secs, int64(nsec)).UTC()
		e.TenantID, e.Actor, e.Action, e.TargetKind, e.TargetID = string(tid), string(actor), string(action), string(kind), string(target)
		if len(before) > 0 {
			e.Before = json.RawMessage(before)
		}
		if len(after) > 0 {
			e.After = json.RawMessage(after)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

type auditResult struct {
	events []store.AuditEvent
	next   int64
}

// auditWindowQuery reads the events with Seq > after, oldest first, at
// most limit (0: all).
func auditWindowQuery(after int64, limit int) (readQuery, *auditResult) {
	res := &auditResult{}
	q := readQuery{sql: `SELECT ` + auditColumns + ` FROM audit_log WHERE seq > $1 ORDER BY seq`, args: []any{after}}
	if limit > 0 {
		q.sql += ` LIMIT $2`
		q.args = append(q.args, limit)
	}
	q.scan = func(rows pgx.Rows) (err error) {
		res.events, err = scanAudit(rows)
		return err
	}
	return q, res
}

// filter builds the WHERE clause of a log page.
type filter struct {
	conds []string
	args  []any
}

func (f *filter) arg(v any) string {
	f.args = append(f.args, v)
	return fmt.Sprintf("$%d", len(f.args))
}

// eq matches a bytea column exactly, when v is set.
func (f *filter) eq(col, v string) {
	if v != "" {
		f.conds = append(f.conds, col+" = "+f.arg([]byte(v)))
	}
}

// times bounds the event times: at or after since, before until.
func (f *filter) times(since, until time.Time) {
	if !since.IsZero() {
		f.conds = append(f.conds, fmt.Sprintf("(time_s, time_ns) >= (%s, %s)", f.arg(since.Unix()), f.arg(since.Nanosecond())))
	}
	if !until.IsZero() {
		f.conds = append(f.conds, fmt.Sprintf("(time_s, time_ns) < (%s, %s)", f.arg(until.Unix()), f.arg(until.Nanosecond())))
	}
}

// page completes the query of a log page: the cursor, the order and one
// row more than the limit, which tells whether a next page follows.
func (f *filter) page(sql string, p store.LogPage) (string, int) {
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultPageSize
	}
	order := "ASC"
	if p.Order == store.NewestFirst {
		order = "DESC"
		if p.After > 0 {
			f.conds = append(f.conds, "seq < "+f.arg(p.After))
		}
	} else {
		f.conds = append(f.conds, "seq > "+f.arg(max(p.After, 0)))
	}
	if len(f.conds) > 0 {
		sql += " WHERE " + strings.Join(f.conds, " AND ")
	}
	return sql + " ORDER BY seq " + order + " LIMIT " + f.arg(limit+1), limit
}

// auditPageQuery reads a page of the audit events that match af.
func auditPageQuery(af store.AuditFilter, p store.LogPage) (readQuery, *auditResult) {
	var f filter
	f.eq("tenant_id", af.TenantID)
	f.eq("actor", af.Actor)
	f.eq("action", af.Action)
	f.eq("target_kind", af.TargetKind)
	f.eq("target_id", af.TargetID)
	f.times(af.Since, af.Until)
	sql, limit := f.page(`SELECT `+auditColumns+` FROM audit_log`, p)
	res := &auditResult{}
	q := readQuery{sql: sql, args: f.args, scan: func(rows pgx.Rows) error {
		events, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if len(events) > limit {
			events = events[:limit]
			res.next = events[limit-1].Seq
		}
		res.events = events
		return nil
	}}
	return q, res
}

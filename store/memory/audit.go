package memory

import (
	"github.com/tenantry/tenantry/store"
)

// auditChunk is the number of events per chunk of the audit log. Chunks
// have a fixed capacity, so appending never copies the log: a commit that
// appends holds the write lock for a constant time however long the log is.
const auditChunk = 4096

// auditLog is the append-only audit log. Event i (0-based) has Seq i+1.
type auditLog struct {
	chunks [][]store.AuditEvent
	n      int64
}

func (l *auditLog) append(e store.AuditEvent) {
	if l.n%auditChunk == 0 {
		l.chunks = append(l.chunks, make([]store.AuditEvent, 0, auditChunk))
	}
	last := len(l.chunks) - 1
	l.chunks[last] = append(l.chunks[last], e)
	l.n++
}

// window appends to out copies of the events with Seq > after, oldest
// first, at most limit of them (limit <= 0: all), and returns out.
func (l *auditLog) window(out []store.AuditEvent, after int64, limit int) []store.AuditEvent {
	after = max(after, 0)
	for i := after; i < l.n; i++ {
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, l.chunks[i/auditChunk][i%auditChunk])
	}
	return out
}

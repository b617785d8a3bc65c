package store

// Prefetcher is an optional capability of a ReadTx: Prefetch announces
// reads the caller is about to make, so that a backend that pays a round
// trip per read (a SQL server) can make them together, in one round trip,
// and answer the reads that follow from what it fetched. It changes no
// result: Get, Lookup, One and List after it return what they would have
// returned without it, in the same snapshot. A record that does not exist
// is no error; Prefetch reports only a failure of the backend (or of the
// transaction). Call it through [Prefetch], which does nothing when the
// transaction lacks the capability, as the in-memory store's do (its reads
// cost no round trip).
//
// The token path uses it: client credentials are served in two round
// trips whatever the number of records they read.
type Prefetcher interface {
	Prefetch(reads ...Read) error
}

// Read names a read to prefetch: the record of Kind with id Key (Index
// ""), or the records whose index Index has Key, as Lookup and One read
// them. When Via is set, Key is ignored: the key is the id of the record
// Via finds, which must be a read of one record by id or by a unique
// index key, without a Via of its own (for example the app role
// assignments of the service principal that holds an (appId, tenant)
// key); if Via finds none, nothing is read.
type Read struct {
	Kind  Kind   // the record kind read
	Index string // the index read by, "" for a read by id
	Key   string // the id, or the index key
	Via   *Read  // the one-record read whose result's id is the key, if any
}

// Prefetch calls tx's Prefetch when tx is a [Prefetcher] and does nothing
// otherwise.
func Prefetch(tx ReadTx, reads ...Read) error {
	if p, ok := tx.(Prefetcher); ok && len(reads) > 0 {
		return p.Prefetch(reads...)
	}
	return nil
}

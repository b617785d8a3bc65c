// Package store defines what tenantry needs from persistence: read
// transactions, atomic read-modify-write transactions, typed errors, an
// append-only audit log written in those transactions, and a sign-in log
// appended outside them. Backends live in sub-packages (store/memory, the
// embedded default) and prove themselves with the conformance suite in
// store/storetest.
//
// # Model
//
// A backend stores records of a few kinds (tenants, users, applications,
// service principals, grants, assignments, signing keys, …). Each kind is
// described by a [Collection]: its name, how to get a record's id, and its
// secondary indexes (for example service principals by (appId, tenant)).
// Backends are generic over kinds: they see only the [Kind] interface, so
// adding a kind never touches a backend.
//
// # Transactions
//
// [Store.View] runs a function against a consistent snapshot;
// [Store.Update] runs a function whose writes commit atomically or not at
// all. An update function may run more than once (backends retry
// conflicts), so it must touch nothing but its transaction.
//
// # Logs
//
// The audit log records every mutation, in the mutation's transaction:
// [Tx.AppendAudit] writes, [ReadTx.AuditEvents] reads a filtered page. The
// sign-in log records every token request and sign-in, issued or refused;
// the token path only reads records, so the log is appended outside any
// transaction ([Store.AppendSignIn]) and read with [Store.SignIns]. Both
// are ordered by a Seq and paged by it ([LogPage]), oldest or newest first.
//
// # Values are shared
//
// For speed, values read from a store may share slices and maps with the
// stored record. Treat them as read-only; call the type's Clone method
// before changing one in place. Writes are copied by the backend.
//
// A backend returns what was written, equal under go-cmp, with one
// exception: an empty slice or map may come back nil. Neither the Clone
// methods nor JSON with omitempty, the form SQL backends store, keep that
// difference, and Microsoft Graph does not make it either.
package store

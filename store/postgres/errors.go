package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the store acts on.
const (
	codeSerializationFailure = "40001"
	codeDeadlock             = "40P01"
	codeUniqueViolation      = "23505"
	codeDuplicateTable       = "42P07"
	codeDuplicateSchema      = "42P06"
	// codeDuplicateObject is what a concurrent CREATE TABLE IF NOT EXISTS
	// may also answer: the table's row type already exists.
	codeDuplicateObject = "42710"
)

// isCode reports whether err is a server error with one of codes.
func isCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// retryable reports whether a transaction that failed with err may succeed
// if run again: a serialization failure or a deadlock.
func retryable(err error) bool {
	return isCode(err, codeSerializationFailure, codeDeadlock)
}

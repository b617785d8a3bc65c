// Package postgres is the PostgreSQL store.
package postgres

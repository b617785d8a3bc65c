// Package storeurl opens the store.Store a URL names, for programs that
// choose their store when they start, as the development identity provider
// and tenantrytest do:
//
//	memory:                                  a new in-memory store (store/memory)
//	postgres://user@host:5432/db?schema=idp  PostgreSQL (store/postgres)
//
// A PostgreSQL URL takes every parameter pgx accepts; the parameter
// "schema", which this package removes before the URL reaches pgx, puts
// the store's tables in that schema (postgres.Config.Schema). Importing
// this package links pgx; programs that use only the memory store need
// not.
package storeurl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
	"github.com/tenantry/tenantry/store/postgres"
)

// ErrURL is wrapped by the errors about a URL this package cannot open.
// Errors name the URL's scheme at most, never the URL, which may carry a
// password.
var ErrURL = errors.New("storeurl: invalid store URL")

// Open opens the store rawURL names.
func Open(ctx context.Context, rawURL string) (store.Store, error) {
	kind, cfg, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	if kind == "memory" {
		return memory.New(), nil
	}
	return postgres.Open(ctx, cfg)
}

// OpenTemporary opens the store rawURL names for one test or one run: a
// PostgreSQL store in a new schema of its own (a schema parameter is
// ignored), which drop removes with everything in it after closing the
// store; a memory store as Open opens it, which drop closes.
func OpenTemporary(ctx context.Context, rawURL string) (st store.Store, drop func() error, err error) {
	kind, cfg, err := parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if kind == "memory" {
		m := memory.New()
		return m, m.Close, nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, nil, err
	}
	cfg.Schema = "tenantry_tmp_" + hex.EncodeToString(b[:])
	ps, err := postgres.Open(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	drop = func() error {
		cerr := ps.Close()
		if errors.Is(cerr, store.ErrClosed) {
			cerr = nil
		}
		conn, err := pgx.Connect(context.Background(), cfg.URL)
		if err != nil {
			return errors.Join(cerr, fmt.Errorf("storeurl: dropping the temporary schema: %w", err))
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+cfg.Schema+" CASCADE")
		return errors.Join(cerr, err)
	}
	return ps, drop, nil
}

// parse tells the store kind of rawURL and, for PostgreSQL, its
// configuration.
func parse(rawURL string) (string, postgres.Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", postgres.Config{}, fmt.Errorf("%w: not a URL", ErrURL)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		scheme = u.Path // "memory"
	}
	switch scheme {
	case "memory":
		if u.Opaque != "" || u.Host != "" || (u.Scheme != "" && u.Path != "") || u.RawQuery != "" {
			return "", postgres.Config{}, fmt.Errorf("%w: the memory store takes no address (use memory:)", ErrURL)
		}
		return "memory", postgres.Config{}, nil
	case "postgres", "postgresql":
		q := u.Query()
		schema := q.Get("schema")
		q.Del("schema")
		u.RawQuery = q.Encode()
		return "postgres", postgres.Config{URL: u.String(), Schema: schema}, nil
	}
	return "", postgres.Config{}, fmt.Errorf("%w: unknown store %q (use memory: or postgres://…)", ErrURL, scheme)
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tenantry/tenantry/store"
)

// Config configures a Store. URL is required; every other field has a
// default.
type Config struct {
	// URL is the server's connection string, in any form pgx accepts
	// ("postgres://user@host:5432/db?sslmode=verify-full", or key=value
	// pairs). Pool settings in it (pool_max_conns, …) are honoured.
	URL string
	// Schema, when set, is the schema the store's tables live in: it is
	// created if missing and becomes the search_path of every connection.
	// Letters, digits and underscores, at most 63 bytes. Empty: the
	// server's search_path.
	Schema string
	// MaxConns bounds the pool; 0 keeps the URL's pool_max_conns or, when
	// it sets none, 16.
	MaxConns int32
	// MaxRetries bounds the retries of an Update whose transaction failed
	// with a serialization failure or a deadlock; 0 means 10. Exhausted
	// retries return an error matching store.ErrConflict.
	MaxRetries int
	// SignInBuffer bounds the sign-in events appended but not yet written;
	// 0 means 4096. AppendSignIn waits while the buffer is full.
	SignInBuffer int
	// CloseTimeout bounds how long Close waits to write the buffered
	// sign-in events; 0 means 10 seconds.
	CloseTimeout time.Duration
	// CacheEntries bounds the store's cache of records read by Views
	// (see the package documentation, "The snapshot cache"): records
	// and lookups, found or not; 0 means 65,536, a negative value turns
	// the cache off. A full cache is emptied and fills again.
	CacheEntries int
	// Tracer, when set, traces every query of the pool (pgx.QueryTracer,
	// and pgx.BatchTracer and pgx.CopyFromTracer if it implements them).
	Tracer pgx.QueryTracer
	// Logger receives failures of the background sign-in writer (Error),
	// naming counts and errors, never an event's content. Nil discards
	// them.
	Logger *slog.Logger
}

// Store is the PostgreSQL store. Open one with Open; the zero Store is not
// usable. It is safe for concurrent use.
type Store struct {
	pool       *pgxpool.Pool
	maxRetries int
	log        *slog.Logger
	// wmu serialises this process's Updates, so that at most one of its
	// connections waits for the writers' lock in the database.
	wmu chan struct{}

	mu     sync.Mutex // guards closed and active
	idle   sync.Cond  // signalled when active drops to 0
	closed bool
	active int // calls under way (between enter and leave)
	// views counts the read transactions whose COMMIT is still under way
	// (see View); Close waits for them.
	views sync.WaitGroup

	signIns *signInWriter
	cache   *snapCache // nil when Config.CacheEntries is negative
	checks  checker    // the counter checks of Views answered by cache
}

var _ store.Store = (*Store)(nil)

var schemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// ErrSchema is returned by Open when the database holds a schema version
// newer than this package knows, or a Config.Schema that is not a plain
// identifier.
var ErrSchema = errors.New("postgres: schema")

// Open connects to the server, creates or upgrades the schema (see the
// package documentation, "Schema and migrations") and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Schema != "" && !schemaName.MatchString(cfg.Schema) {
		return nil, fmt.Errorf("%w: %q is not a plain identifier", ErrSchema, cfg.Schema)
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	} else if !hasPoolMax(cfg.URL) {
		pc.MaxConns = 16
	}
	if cfg.Schema != "" {
		pc.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	}
	if cfg.Tracer != nil {
		pc.ConnConfig.Tracer = cfg.Tracer
	}
	if cfg.Schema != "" {
		if err := createSchema(ctx, pc.ConnConfig.Copy(), cfg.Schema); err != nil {
			return nil, err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, maxRetries: cfg.MaxRetries, log: cfg.Logger, wmu: make(chan struct{}, 1),
		cache: newSnapCache(cfg.CacheEntries)}
	s.idle.L = &s.mu
	if s.maxRetries <= 0 {
		s.maxRetries = 10
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.signIns = newSignInWriter(s, cfg.SignInBuffer, cfg.CloseTimeout)
	return s, nil
}

func hasPoolMax(url string) bool {
	return regexp.MustCompile(`pool_max_conns`).MatchString(url)
}

// createSchema creates the schema on a connection of its own (the pool's
// connections already name it in their search_path).
func createSchema(ctx context.Context, cc *pgx.ConnConfig, schema string) error {
	delete(cc.RuntimeParams, "search_path")
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// Two processes creating the schema at once may collide on the
	// catalogue's unique index: the loser finds it made.
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
		if err == nil || attempt == 3 || !isCode(err, codeUniqueViolation, codeDuplicateSchema) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: create schema: %w", err)
	}
	return nil
}

// Pool returns the store's connection pool, for the operator's own
// queries and tests. Writing the store's tables through it bypasses the
// store's guarantees.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// enter reports ErrClosed after Close; otherwise it counts the call as
// active until leave, and Close waits for it.
func (s *Store) enter(what string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("postgres: %s: %w", what, store.ErrClosed)
	}
	s.active++
	return nil
}

func (s *Store) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active--; s.active == 0 && s.closed {
		s.idle.Broadcast()
	}
}

// Close writes the buffered sign-in events (waiting up to
// Config.CloseTimeout), waits for running transactions and closes the
// pool. Later calls of View, Update, AppendSignIn, SignIns and Close
// return store.ErrClosed. An error reports sign-in events that could not
// be written.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("postgres: close: %w", store.ErrClosed)
	}
	s.closed = true
	for s.active > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	err := s.signIns.close()
	s.views.Wait()
	s.pool.Close()
	return err
}

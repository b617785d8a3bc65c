package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/storeurl"
)

// openStore opens the store a URL names (package store/storeurl):
// "memory:" for a new in-memory store, lost when the process ends, or
// "postgres://…" for a PostgreSQL database that keeps the directory across
// restarts and can be shared by several processes.
func openStore(ctx context.Context, rawURL string) (store.Store, error) {
	st, err := storeurl.Open(ctx, rawURL)
	if err != nil {
		// pgx's errors name the host and user, never the password.
		return nil, fmt.Errorf("tenantry-idp: -store: %w", err)
	}
	return st, nil
}

// keyEncryptionKeySize is the size of TokenConfig.KeyEncryptionKey.
const keyEncryptionKeySize = 32

// loadKeyEncryptionKey reads the key-encryption key from path, or makes
// one and writes it there (mode 0600) when the file does not exist. The
// signing keys are sealed under it in the store: a durable store's keys
// open again after a restart only with the same key, and processes sharing
// a store must share it.
func loadKeyEncryptionKey(path string) ([]byte, bool, error) {
	key, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(key) != keyEncryptionKeySize {
			return nil, false, fmt.Errorf("tenantry-idp: -key-file %s: %d bytes, want %d", path, len(key), keyEncryptionKeySize)
		}
		return key, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("tenantry-idp: -key-file: %w", err)
	}
	key = make([]byte, keyEncryptionKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("tenantry-idp: -key-file: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("tenantry-idp: -key-file: %w", err)
	}
	return key, true, f.Close()
}

package main

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
)

// errStoreNotBuilt is returned for a store this binary cannot open yet.
var errStoreNotBuilt = errors.New("tenantry-idp: this store is not built into this binary yet")

// openStore opens the store a URL names: "memory:" (or "memory") for a
// new in-memory store, lost when the process ends.
func openStore(rawURL string) (store.Store, error) {
	// Errors name the scheme only: a store URL may carry a password.
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("tenantry-idp: -store is not a URL")
	}
	scheme := u.Scheme
	if scheme == "" {
		scheme = u.Path // "memory"
	}
	switch scheme {
	case "memory":
		if u.Opaque != "" || u.Host != "" || (u.Scheme != "" && u.Path != "") {
			return nil, errors.New("tenantry-idp: -store: the memory store takes no address (use memory:)")
		}
		return memory.New(), nil
	case "postgres", "postgresql":
		// PostgreSQL store (store/postgres): open it here with the URL once
		// the package exists; this command is the only importer of it.
		return nil, fmt.Errorf("%w: %s (use memory:)", errStoreNotBuilt, scheme)
	}
	return nil, fmt.Errorf("tenantry-idp: -store: unknown store %q (use memory:)", scheme)
}

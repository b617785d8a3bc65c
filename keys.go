package tenantry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/token"
)

type ringState struct {
	ring   *token.Keyring
	opened map[string]*token.Key // by kid, to avoid re-opening sealed keys
	loaded time.Time
}

// RotateKeys runs the signing key lifecycle now: it publishes the active
// key's successor as next once less than the lead (TokenConfig.Rotation.Lead,
// 7 days by default) remains of the active key's signing period, promotes
// it when the period has passed and it has been published for the lead, and
// drops retired keys past their overlap. The new key set is
// stored (sealed) with one audit event when it changed. It reports whether
// anything changed.
func (d *Issuer) RotateKeys(ctx context.Context) (bool, error) {
	return d.tokens.rotate(ctx, false)
}

// ForceRotateKeys is [Issuer.RotateKeys] with the active key retired at
// once, whatever its age, e.g. after a policy change. The retired key stays
// published and accepted for the overlap; to distrust a key at once, use
// [Issuer.WithdrawKey].
func (d *Issuer) ForceRotateKeys(ctx context.Context) error {
	_, err := d.tokens.rotate(ctx, true)
	return err
}

// WithdrawKey removes the signing key with id kid at once, as after a
// suspected compromise: unlike a key retired by [Issuer.RotateKeys], it
// leaves the JWKS and this Directory's validation immediately, so tokens it
// signed stop validating; other processes sharing the store drop it at their
// next key reload (TokenConfig.KeyRefreshInterval). When kid was the active
// key, the next key takes over signing (a new key, when none was published
// yet), and its successor is published when the lead calls for it. The
// change is stored with one audit event. An unknown kid is an error wrapping
// token.ErrUnknownKey.
func (d *Issuer) WithdrawKey(ctx context.Context, kid string) error {
	_, err := d.tokens.replaceKeys(ctx, "signingKeys.withdraw", kid, func(cur []*token.Key, now time.Time) ([]*token.Key, bool, error) {
		next, err := token.Withdraw(cur, kid, now, d.tokens.cfg.Rotation, d.tokens.cfg.Random)
		return next, true, err
	})
	return err
}

func (s *tokenService) rotate(ctx context.Context, force bool) (bool, error) {
	return s.replaceKeys(ctx, "signingKeys.rotate", "", func(cur []*token.Key, now time.Time) ([]*token.Key, bool, error) {
		if force {
			next, err := token.ForceRotate(cur, now, s.cfg.Rotation, s.cfg.Random)
			return next, true, err
		}
		return token.Rotate(cur, now, s.cfg.Rotation, s.cfg.Random)
	})
}

// replaceKeys stores the key set plan computes from the stored one, with
// one audit event (action, target kid) when it changed, and installs it.
func (s *tokenService) replaceKeys(ctx context.Context, action, kid string, plan func(cur []*token.Key, now time.Time) ([]*token.Key, bool, error)) (bool, error) {
	var changed bool
	var keys []*token.Key
	err := s.d.mutate(ctx, System(), func(o *op) error {
		stored, err := store.SigningKeys.All(o.tx, "", "")
		if err != nil {
			return err
		}
		cur := make([]*token.Key, 0, len(stored))
		for _, sk := range stored {
			k, err := token.OpenKey(sk.Sealed, s.keySeal)
			if err != nil {
				return fmt.Errorf("tenantry: signing key %s: %w", sk.ID, err)
			}
			cur = append(cur, k)
		}
		next, ch, err := plan(cur, o.now)
		if err != nil {
			return err
		}
		keys, changed = next, ch
		if !changed {
			return errNoChange
		}
		keep := map[string]bool{}
		var summary []string
		for _, k := range next {
			sealed, err := token.SealKey(k, s.keySeal)
			if err != nil {
				return err
			}
			keep[k.ID] = true
			summary = append(summary, k.ID+" "+string(k.Algorithm)+" "+string(k.State))
			if err := store.SigningKeys.Put(o.tx, store.SigningKey{ID: k.ID, Algorithm: string(k.Algorithm), State: string(k.State), Sealed: sealed, CreatedAt: k.CreatedAt}); err != nil {
				return err
			}
		}
		for _, sk := range stored {
			if !keep[sk.ID] {
				if err := store.SigningKeys.Delete(o.tx, sk.ID); err != nil {
					return err
				}
			}
		}
		return o.audit("", action, store.SigningKeys, kid, nil, summary)
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	if err != nil {
		return false, err
	}
	if changed {
		level := slog.LevelInfo
		if kid != "" {
			level = slog.LevelWarn // a withdrawal: tokens the key signed stop validating
		}
		s.d.log.LogAttrs(ctx, level, "tenantry: signing keys changed", slog.String("action", action), slog.String("kid", kid), keySetAttr(keys))
	}
	return changed, s.install(keys)
}

// keySetAttr describes a key set for the log: each key's id, algorithm and
// state, never key material.
func keySetAttr(keys []*token.Key) slog.Attr {
	desc := make([]string, len(keys))
	for i, k := range keys {
		desc[i] = k.ID + " " + string(k.Algorithm) + " " + string(k.State)
	}
	return slog.Any("keys", desc)
}

func (s *tokenService) install(keys []*token.Key) error {
	now := s.d.now()
	ring, err := token.NewKeyring(keys, now)
	if err != nil {
		return err
	}
	opened := make(map[string]*token.Key, len(keys))
	for _, k := range keys {
		opened[k.ID] = k
	}
	s.ring.Store(&ringState{ring: ring, opened: opened, loaded: now})
	return nil
}

// keyring returns the current key ring, re-reading the store when the
// refresh interval has passed.
func (s *tokenService) keyring(ctx context.Context) (*token.Keyring, error) {
	st := s.ring.Load()
	now := s.d.now()
	if now.Sub(st.loaded) < s.cfg.KeyRefreshInterval && !now.Before(st.loaded) {
		return st.ring, nil
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if st2 := s.ring.Load(); st2 != st {
		return st2.ring, nil
	}
	var stored []store.SigningKey
	if err := s.d.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		stored, err = store.SigningKeys.All(tx, "", "")
		return err
	}); err != nil {
		return nil, err
	}
	keys := make([]*token.Key, 0, len(stored))
	changed := len(stored) != len(st.opened)
	for _, sk := range stored {
		if k, ok := st.opened[sk.ID]; ok && string(k.State) == sk.State {
			keys = append(keys, k)
			continue
		}
		changed = true
		k, err := token.OpenKey(sk.Sealed, s.keySeal)
		if err != nil {
			s.d.log.LogAttrs(ctx, slog.LevelError, "tenantry: signing key reload failed", slog.String("kid", sk.ID), slog.Any("error", err))
			return nil, fmt.Errorf("tenantry: signing key %s: %w", sk.ID, err)
		}
		keys = append(keys, k)
	}
	if err := s.install(keys); err != nil {
		return nil, err
	}
	if changed {
		s.d.log.LogAttrs(ctx, slog.LevelInfo, "tenantry: signing keys reloaded", keySetAttr(keys))
	}
	return s.ring.Load().ring, nil
}

// JWKS returns the JSON Web Key Set Entra publishes at
// /{tenant}/discovery/v2.0/keys (version 2) or /{tenant}/discovery/keys
// (version 1) for the authority's tenant segment. The keys are shared by
// every tenant, as Entra's are; on version 2 each key's issuer names what
// the segment stands for: the "{tenantid}" template for "common" and
// "organizations", the consumers tenant's issuer for "consumers", and the
// tenant's own (GUID) issuer for a tenant id or one of its verified domains.
// Version 1 keys carry no issuer, as Entra's. An unknown tenant is a
// *TokenError (AADSTS90002, or 900023 for a malformed segment), as Entra's
// discovery answers; a version other than 1 or 2 wraps ErrInvalidRequest.
func (d *Issuer) JWKS(ctx context.Context, tenantSegment string, version token.Version) ([]byte, error) {
	if version != 1 && version != 2 {
		return nil, fmt.Errorf("%w: token version %d (want 1 or 2)", ErrInvalidRequest, int(version))
	}
	tid, err := d.segmentTenantID(ctx, tenantSegment)
	if err != nil {
		return nil, err
	}
	ring, err := d.tokens.keyring(ctx)
	if err != nil {
		return nil, err
	}
	issuer := ""
	if version == 2 {
		issuer = d.tokens.cfg.Authority.Issuer(2, tid)
	}
	return ring.JWKS(issuer)
}

// KeySource returns the public keys of the token service for validators in
// this process; it follows key rotation.
func (d *Issuer) KeySource() token.KeySource { return keySource{d.tokens} }

type keySource struct{ s *tokenService }

func (k keySource) PublicKey(ctx context.Context, kid string) (token.PublicKey, error) {
	ring, err := k.s.keyring(ctx)
	if err != nil {
		return token.PublicKey{}, err
	}
	return ring.PublicKey(ctx, kid)
}

package tenantry

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/token"
)

// Strict refresh token rotation (RFC 9700 §2.2.2) for public clients.
//
// Every refresh token of a chain carries the chain's id and its generation.
// The chain's record in the store (a code of kind refresh_chain, keyed by a
// hash of the id) holds the current generation and when it was reached. A
// refresh with the current generation rotates the chain; the generation
// just superseded is accepted for RefreshReuseGrace after the rotation
// (concurrent refreshes); any other generation is a reuse, which revokes
// the chain. The record is created on the chain's first rotation and kept
// until the last refresh token of the chain has expired.

const codeKindChain = "refresh_chain"

// chainState is the Data of a chain record.
type chainState struct {
	Gen       int       `json:"gen"`
	RotatedAt time.Time `json:"rotatedAt"`
	Revoked   bool      `json:"revoked,omitempty"`
}

func (s *tokenService) strictRotation() bool {
	return s.cfg.RefreshTokenRotation == RefreshRotationStrict
}

// startChain puts a new refresh token of a public client in a new chain
// when rotation is strict.
func (s *tokenService) startChain(pt *pendingTokens, auth token.ClientAuth) error {
	if pt.refresh == nil || auth != token.ClientAuthPublic || !s.strictRotation() || pt.refresh.Chain != "" {
		return nil
	}
	id, err := newOpaque(16)
	if err != nil {
		return err
	}
	pt.refresh.Chain, pt.refresh.Gen = id, 0
	return nil
}

// errChainUnchanged ends a strict refresh that writes nothing.
var errChainUnchanged = errors.New("refresh chain unchanged")

// refreshStrict redeems a refresh token of a strictly rotated chain.
func (d *core) refreshStrict(ctx context.Context, req TokenRequest, fed *federatedResult, rs *refreshState) (*TokenResponse, error) {
	reused := errRefreshReused.new()
	var pt *pendingTokens
	revoked := false
	err := d.mutate(ctx, System(), func(o *op) error {
		pt, revoked = nil, false
		if req.ClientID != rs.Grant.ClientAppID || !o.now.Before(rs.Expiry) {
			// Another client's or an expired token proves nothing about
			// the chain: refuse it as any refresh would, revoking nothing.
			_, _, err := d.refreshIn(ctx, o.tx, req, fed, rs, o.now)
			return err
		}
		id := hashCode(codeKindChain, rs.Chain)
		rec, err := store.Codes.Get(o.tx, id)
		var st chainState
		exists := err == nil
		switch {
		case exists:
			if err := json.Unmarshal(rec.Data, &st); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		case rs.Gen != 0:
			return reused // a later generation exists only with a record
		}
		if st.Revoked {
			return reused
		}
		current := rs.Gen == st.Gen
		concurrent := exists && rs.Gen == st.Gen-1 && o.now.Sub(st.RotatedAt) < d.tokens.cfg.RefreshReuseGrace
		if !current && !concurrent {
			// A superseded token: revoke the chain (RFC 9700 §2.2.2).
			before := rec
			rec = rec.Clone()
			st.Revoked = true
			if rec.Data, err = json.Marshal(st); err != nil {
				return err
			}
			if err := store.Codes.Put(o.tx, rec); err != nil {
				return err
			}
			revoked = true
			return o.audit(rs.Grant.TenantID, "token.refreshReuse", store.Users, rs.Grant.UserID, codeSummary(before), grantSummary(rs.Grant, rec))
		}
		if pt, _, err = d.refreshIn(ctx, o.tx, req, fed, rs, o.now); err != nil {
			return err
		}
		if pt.refresh == nil {
			return errChainUnchanged // no new refresh token: the presented one stays current
		}
		pt.refresh.Chain = rs.Chain
		if concurrent {
			pt.refresh.Gen = st.Gen // the other refresh already rotated
			return errChainUnchanged
		}
		pt.refresh.Gen = st.Gen + 1
		next := chainState{Gen: st.Gen + 1, RotatedAt: o.now}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		c := store.Code{ID: id, Kind: codeKindChain, TenantID: rs.Grant.TenantID, ExpiresAt: pt.refresh.Expiry, Data: data}
		if exists && rec.ExpiresAt.After(c.ExpiresAt) {
			c.ExpiresAt = rec.ExpiresAt
		}
		if err := store.Codes.Put(o.tx, c); err != nil {
			return err
		}
		var before any
		if exists {
			before = codeSummary(rec)
		}
		return o.audit(rs.Grant.TenantID, "token.rotateRefresh", store.Users, rs.Grant.UserID, before, grantSummary(rs.Grant, c))
	})
	switch {
	case errors.Is(err, errChainUnchanged):
	case err != nil:
		return nil, err
	case revoked:
		return nil, reused
	}
	return d.finish(ctx, pt, req.ClientInfo)
}

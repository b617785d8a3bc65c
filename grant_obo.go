package tenantry

import (
	"context"
	"errors"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/token"
)

// onBehalfOf exchanges a user's access token for the middle tier (the
// client) for a token to a downstream API, limited to what the middle tier
// was granted for that user.
func (d *core) onBehalfOf(ctx context.Context, req TokenRequest, fed *federatedResult) (*TokenResponse, error) {
	if req.RequestedTokenUse != "on_behalf_of" {
		return nil, errMissingTokenUse.new()
	}
	if req.Assertion == "" {
		return nil, errMissingParameter.new("assertion")
	}
	now := d.clock()
	var mid application.Application
	if err := d.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		mid, err = store.Applications.One(tx, store.AppByAppID, req.ClientID)
		return err
	}); err != nil {
		return nil, errAppNotFound.new(safe(req.ClientID))
	}
	v, err := d.validator(append([]string{mid.AppID}, mid.IdentifierURIs...))
	if err != nil {
		return nil, err
	}
	p, err := v.Validate(ctx, req.Assertion)
	switch {
	case errors.Is(err, token.ErrExpired), errors.Is(err, token.ErrNotYetValid):
		return nil, errOBOTimeRange.new().with(err)
	case err != nil:
		return nil, errOBOInvalid.new().with(err)
	}
	if p.IsApp {
		return nil, errOBONotAllowed.new(mid.AppID)
	}
	signInOf(ctx).grant(userGrant{TenantID: p.TenantID, UserID: p.ObjectID})
	var pt *pendingTokens
	err = d.st.View(ctx, func(tx store.ReadTx) error {
		if err := checkSegment(tx, req.Tenant, p.TenantID); err != nil {
			return err
		}
		t, err := store.Tenants.Get(tx, p.TenantID)
		if err != nil {
			return err
		}
		if _, err := clientApp(tx, mid.AppID, t, req.Tenant); err != nil {
			return err
		}
		auth, err := d.tokens.authenticate(ctx, mid, t, req, fed, now, false)
		if err != nil {
			return err
		}
		g := userGrant{TenantID: p.TenantID, UserID: p.ObjectID, ClientAppID: mid.AppID, Scope: req.Scope, Confidential: true, OnBehalfOf: true, AuthTime: time.Unix(p.Claims.IssuedAt, 0).UTC()}
		u, err := store.Users.Get(tx, p.ObjectID)
		if err == nil && !u.SessionValid(g.AuthTime) {
			return errAssertionRevoked.new()
		}
		pt, err = d.userTokens(tx, g, now, auth)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d.finish(ctx, pt, req.ClientInfo)
}

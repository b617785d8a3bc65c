package tenantry

import (
	"context"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/token"
)

// passwordGrant is the resource owner password credentials grant: the
// user's password is checked as SignIn checks it (the same answer for a
// wrong password and an unknown account, smart lockout), then the tokens
// are those of a sign-in by that user, with the consent already given —
// the grant has no page to ask for more (AADSTS65001). The client is a
// public client when its app allows public client flows and it presents no
// credential; otherwise it must authenticate.
func (d *core) passwordGrant(ctx context.Context, req TokenRequest, fed *federatedResult) (*TokenResponse, error) {
	switch {
	case req.ClientID == "":
		return nil, errMissingParameter.new("client_id")
	case req.Username == "":
		return nil, errMissingParameter.new("username")
	case req.Password == "":
		return nil, errMissingParameter.new("password")
	}
	sr, err := parseScope(req.Scope)
	if err != nil {
		return nil, err
	}
	u, err := d.signIn(ctx, SignInRequest{Tenant: req.Tenant, UserPrincipalName: req.Username, Password: req.Password})
	if err != nil {
		return nil, err
	}
	signInOf(ctx).user(u)
	now := d.clock()
	var pt *pendingTokens
	err = d.viewNoting(ctx, func(tx store.ReadTx) error {
		t, err := signInTenant(tx, req.Tenant, u)
		if err != nil {
			return err
		}
		client, err := clientApp(tx, req.ClientID, t, req.Tenant)
		if err != nil {
			return err
		}
		g := userGrant{TenantID: t.ID, UserID: u.ID, ClientAppID: client.AppID, Scope: sr.String(), AuthTime: now, Endpoint: req.EndpointVersion}
		signInOf(ctx).grant(g)
		auth, err := d.clientAuthFor(ctx, tx, g, req, fed, now)
		if err != nil {
			return err
		}
		g.Confidential = auth != token.ClientAuthPublic
		if pt, err = d.userTokens(tx, g, now, auth); err != nil {
			return err
		}
		return d.tokens.startChain(pt, auth)
	})
	if err != nil {
		return nil, err
	}
	return d.finish(ctx, pt, req.ClientInfo)
}

package tenantry

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// refreshState is the sealed content of a refresh token. Refresh tokens
// are not stored: every redemption re-checks the user, the client, the
// grants and the revocation time against the directory, so revocation is
// central without a token table.
type refreshState struct {
	Grant    userGrant `json:"g"`
	IssuedAt time.Time `json:"iat"`
	Expiry   time.Time `json:"exp"`
	// Chain and Gen place the token in a strictly rotated chain (public
	// clients under RefreshRotationStrict): the chain's id and the token's
	// generation in it.
	Chain string `json:"ch,omitempty"`
	Gen   int    `json:"gen,omitempty"`
}

const refreshPrefix = "1.tnr."

func (s *tokenService) sealRefresh(rs *refreshState) (string, error) {
	plain, err := json.Marshal(rs)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.rtAEAD.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := s.rtAEAD.Seal(nonce, nonce, plain, []byte(refreshPrefix))
	return refreshPrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (s *tokenService) openRefresh(raw string) (*refreshState, error) {
	if !strings.HasPrefix(raw, refreshPrefix) {
		return nil, errRefreshMalformed.new()
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw[len(refreshPrefix):])
	n := s.rtAEAD.NonceSize()
	if err != nil || len(b) < n {
		return nil, errRefreshMalformed.new()
	}
	plain, err := s.rtAEAD.Open(nil, b[:n], b[n:], []byte(refreshPrefix))
	if err != nil {
		return nil, errRefreshMalformed.new()
	}
	var rs refreshState
	if err := json.Unmarshal(plain, &rs); err != nil {
		return nil, errRefreshMalformed.new()
	}
	return &rs, nil
}

// refresh redeems a refresh token (rotation: a new refresh token is
// returned; the old one stays valid until it expires, as in Entra, unless
// TokenConfig.RefreshTokenRotation is strict and the client is public).
func (d *core) refresh(ctx context.Context, req TokenRequest, fed *federatedResult) (*TokenResponse, error) {
	rs, err := d.tokens.openRefresh(req.RefreshToken)
	if err != nil {
		return nil, err
	}
	signInOf(ctx).grant(rs.Grant)
	if rs.Chain != "" && d.tokens.strictRotation() {
		return d.refreshStrict(ctx, req, fed, rs)
	}
	now := d.clock()
	var pt *pendingTokens
	err = d.st.View(ctx, func(tx store.ReadTx) error {
		var auth token.ClientAuth
		var err error
		if pt, auth, err = d.refreshIn(ctx, tx, req, fed, rs, now); err != nil {
			return err
		}
		return d.tokens.startChain(pt, auth)
	})
	if err != nil {
		return nil, err
	}
	return d.finish(ctx, pt, req.ClientInfo)
}

// refreshIn checks refresh state rs against the directory and decides the
// tokens of the response.
func (d *core) refreshIn(ctx context.Context, tx store.ReadTx, req TokenRequest, fed *federatedResult, rs *refreshState, now time.Time) (*pendingTokens, token.ClientAuth, error) {
	if req.ClientID != rs.Grant.ClientAppID {
		return nil, 0, errRefreshOtherClient.new()
	}
	if req.Origin != "" && rs.Grant.Platform != application.PlatformSPA {
		return nil, 0, errCrossOrigin.new()
	}
	if !now.Before(rs.Expiry) {
		if rs.Grant.Platform == application.PlatformSPA && !now.Before(rs.Grant.RefreshExpiry) {
			return nil, 0, errRefreshSPAExpired.new()
		}
		return nil, 0, errRefreshInactive.new()
	}
	if err := checkSegment(tx, req.Tenant, rs.Grant.TenantID); err != nil {
		return nil, 0, err
	}
	if err := checkCodeNotReplayed(tx, rs.Grant.CodeID); err != nil {
		return nil, 0, err
	}
	u, err := store.Users.Get(tx, rs.Grant.UserID)
	if err == nil && !u.SessionValid(rs.Grant.AuthTime) {
		return nil, 0, errGrantRevoked.new(
			rs.Grant.AuthTime.Format(time.RFC3339), u.SignInSessionsValidFromDateTime.Format(time.RFC3339))
	}
	auth, err := d.clientAuthFor(ctx, tx, rs.Grant, req, fed, now)
	if err != nil {
		return nil, 0, err
	}
	g := rs.Grant
	if req.Scope != "" {
		g.Scope = req.Scope
	}
	pt, err := d.userTokens(tx, g, now, auth)
	if err != nil {
		return nil, 0, err
	}
	if pt.refresh != nil {
		pt.refresh.Grant.Scope = rs.Grant.Scope
	}
	return pt, auth, nil
}

// checkCodeNotReplayed refuses a refresh token whose chain began with an
// authorization code that was later redeemed again (RFC 6749 §4.1.2).
func checkCodeNotReplayed(tx store.ReadTx, codeID string) error {
	if codeID == "" {
		return nil
	}
	c, err := store.Codes.Get(tx, codeID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // purged: not replayed while a chain could be alive
	} else if err != nil {
		return err
	}
	if c.Kind == codeKindReplayed {
		return errRefreshCodeReplay.new()
	}
	return nil
}

// checkSegment checks that the authority segment of a request admits the
// tenant a grant belongs to.
func checkSegment(tx store.ReadTx, segment, tenantID string) error {
	switch strings.ToLower(segment) {
	case "", "common":
		return nil
	case "organizations":
		if tenantID == tenant.ConsumersID {
			return errPersonalAtOrgs.new()
		}
		return nil
	}
	t, err := lookupTenant(tx, segment)
	if err != nil {
		return err
	}
	if t.ID != tenantID {
		return errGrantOtherTenant.new()
	}
	return nil
}

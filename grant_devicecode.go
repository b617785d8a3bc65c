package tenantry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// DeviceAuthorization is the response of the device authorization
// endpoint.
type DeviceAuthorization struct {
	// DeviceCode is the code the client polls the token endpoint with
	// (device_code); only its hash is stored.
	DeviceCode string `json:"device_code"`
	// UserCode is the code the user enters at VerificationURI (user_code).
	UserCode string `json:"user_code"`
	// VerificationURI is the page where the user enters UserCode
	// (verification_uri): TokenConfig.VerificationURI.
	VerificationURI string `json:"verification_uri"`
	// ExpiresIn is the lifetime of the codes in seconds (expires_in):
	// TokenConfig.DeviceCodeLifetime.
	ExpiresIn int `json:"expires_in"`
	// Interval is how many seconds the client waits between polls
	// (interval): 5.
	Interval int `json:"interval"`
	// Message tells the user, in English, where to go and which code to
	// enter (message).
	Message string `json:"message"`
	// CorrelationID is the request's correlation id, as recorded in the
	// sign-in log; Entra answers it in a header, not in the body.
	CorrelationID string `json:"-"`
}

// DeviceCodeRequest is a device authorization request (RFC 8628 §3.1).
type DeviceCodeRequest struct {
	// Tenant is the authority's tenant segment: a tenant id, a verified
	// domain, "common", "organizations" or "consumers".
	Tenant string
	// ClientID is the public client's appId.
	ClientID string
	// Scope is the space-separated scope parameter.
	Scope string
	// CorrelationID ties the request to the caller's logs; it is recorded
	// in the sign-in log. Empty means a new GUID, returned in
	// DeviceAuthorization.CorrelationID and TokenError.CorrelationID.
	CorrelationID string
}

// DeviceCode starts the device code flow for a public client
// (isFallbackPublicClient must be true, as "Allow public client flows" in
// Entra): it returns the device code the client polls with and the user
// code the user enters. The request, issued or refused, is recorded in the
// sign-in log.
func (d *Issuer) DeviceCode(ctx context.Context, req DeviceCodeRequest) (*DeviceAuthorization, error) {
	ctx, rec := d.startSignIn(ctx, FlowDeviceAuthorization, req.Tenant, req.ClientID, req.CorrelationID)
	rec.ev.ClientCredentialType = CredentialNone
	out, err := d.deviceCode(ctx, req)
	err = d.endSignIn(ctx, rec, err)
	if out != nil {
		out.CorrelationID = rec.ev.CorrelationID
	}
	return out, err
}

func (d *core) deviceCode(ctx context.Context, req DeviceCodeRequest) (*DeviceAuthorization, error) {
	tenantSegment, clientID, scope := req.Tenant, req.ClientID, req.Scope
	deviceCode, err := newOpaque(32)
	if err != nil {
		return nil, err
	}
	userCode, err := newUserCode()
	if err != nil {
		return nil, err
	}
	sr, err := parseScope(scope)
	if err != nil {
		return nil, err
	}
	scope = sr.String() // only the parsed, bounded form is stored
	var out *DeviceAuthorization
	// The request is unauthenticated and changes no directory object: it
	// stores its codes and is recorded in the sign-in log, not the audit
	// log, so that anyone's requests cannot grow the append-only audit log.
	err = d.st.Update(ctx, func(tx store.Tx) error {
		o := &op{d: d, tx: tx, now: d.clock(), actor: System()}
		client, err := store.Applications.One(o.tx, store.AppByAppID, clientID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && client.IsDeleted()) {
			return errAppNotFound.new(safe(clientID))
		} else if err != nil {
			return err
		}
		if !client.IsFallbackPublicClient {
			return errNoPublicClientFlows.new(client.AppID)
		}
		tid := ""
		switch strings.ToLower(tenantSegment) {
		case "common", "organizations", "consumers":
			if strings.EqualFold(tenantSegment, "consumers") {
				tid = tenant.ConsumersID
			}
		default:
			t, err := lookupTenant(o.tx, tenantSegment)
			if err != nil {
				return err
			}
			if err := audienceGate(client, t, tenantSegment); err != nil {
				return err
			}
			tid = t.ID
		}
		if err := purgeExpiredCodes(o); err != nil {
			return err
		}
		exp := o.now.Add(d.tokens.cfg.DeviceCodeLifetime)
		dh := hashCode(codeKindDevice, deviceCode)
		data, _ := json.Marshal(codeData{Grant: userGrant{TenantID: tid, ClientAppID: client.AppID, Scope: scope}, UserCode: userCode, Status: "pending", RedirectURI: tenantSegment})
		if err := store.Codes.Create(o.tx, store.Code{ID: dh, Kind: codeKindDevice, TenantID: tid, ExpiresAt: exp, Data: data}); err != nil {
			return err
		}
		link, _ := json.Marshal(codeData{DeviceHash: dh})
		if err := store.Codes.Create(o.tx, store.Code{ID: hashCode(codeKindUser, userCode), Kind: codeKindUser, TenantID: tid, ExpiresAt: exp, Data: link}); err != nil {
			return err
		}
		secs := int(d.tokens.cfg.DeviceCodeLifetime / time.Second)
		out = &DeviceAuthorization{
			DeviceCode: deviceCode, UserCode: userCode, VerificationURI: d.tokens.cfg.VerificationURI, ExpiresIn: secs, Interval: 5,
			Message: fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", d.tokens.cfg.VerificationURI, userCode),
		}
		signInOf(ctx).tenant(tid)
		return nil
	})
	return out, err
}

const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"

func newUserCode() (string, error) {
	b, err := newOpaqueBytes(9)
	if err != nil {
		return "", err
	}
	out := make([]byte, 9)
	for i, c := range b {
		out[i] = userCodeAlphabet[int(c)%len(userCodeAlphabet)]
	}
	return string(out), nil
}

// ApproveDeviceCode is the user's side of the device code flow: actor, the
// signed-in user, enters the user code and approves the sign-in; the
// polling client then gets its tokens. Consent is handled as in Authorize.
// The approval, done or refused, is recorded in the sign-in log under a
// new correlation id.
func (d *Issuer) ApproveDeviceCode(ctx context.Context, actor Actor, userCode string) error {
	ctx, rec := d.startSignIn(ctx, FlowDeviceApproval, "", "", "")
	rec.ev.UserID, rec.ev.ClientCredentialType = actor.UserID(), CredentialNone
	return d.endSignIn(ctx, rec, d.decideDeviceCode(ctx, actor, userCode, true))
}

// DenyDeviceCode declines the sign-in of a user code: the polling client
// gets authorization_declined (AADSTS70020). The denial, done or refused,
// is recorded in the sign-in log under a new correlation id.
func (d *Issuer) DenyDeviceCode(ctx context.Context, actor Actor, userCode string) error {
	ctx, rec := d.startSignIn(ctx, FlowDeviceDenial, "", "", "")
	rec.ev.UserID, rec.ev.ClientCredentialType = actor.UserID(), CredentialNone
	return d.endSignIn(ctx, rec, d.decideDeviceCode(ctx, actor, userCode, false))
}

func (d *core) decideDeviceCode(ctx context.Context, actor Actor, userCode string, approve bool) error {
	userID := actor.UserID()
	if userID == "" && !actor.IsZero() {
		return &tenant.ForbiddenError{Reason: "a device code is approved or declined by the signed-in user"}
	}
	return d.mutate(ctx, actor, func(o *op) error {
		c, cd, err := pendingDeviceCode(o.tx, userCode, o.now)
		if err != nil {
			return err
		}
		signInOf(ctx).grant(cd.Grant)
		u, err := store.Users.Get(o.tx, userID)
		if err != nil {
			return errUserNotFound.new().with(err)
		}
		t, err := signInTenant(o.tx, cd.RedirectURI, u)
		if err != nil {
			return err
		}
		if cd.Grant.TenantID != "" && cd.Grant.TenantID != t.ID {
			return errUserNotInCodeTenant.new()
		}
		cd.Grant.TenantID, cd.Grant.UserID, cd.Grant.AuthTime = t.ID, u.ID, o.now
		signInOf(ctx).grant(cd.Grant)
		if approve {
			client, err := store.Applications.One(o.tx, store.AppByAppID, cd.Grant.ClientAppID)
			if err != nil || client.IsDeleted() {
				return errAppNotFound.new(cd.Grant.ClientAppID).with(err)
			}
			if err := audienceGate(client, t, cd.RedirectURI); err != nil {
				return err
			}
			if _, err := d.consentAtSignIn(o, cd.Grant, "", ConsentForUser); err != nil {
				return err
			}
			if _, err := d.userTokens(o.tx, cd.Grant, o.now, token.ClientAuthPublic); err != nil {
				return err
			}
			cd.Status = "approved"
		} else {
			cd.Status = "declined"
		}
		c = c.Clone()
		if c.Data, err = json.Marshal(cd); err != nil {
			return err
		}
		c.TenantID = t.ID
		if err := store.Codes.Put(o.tx, c); err != nil {
			return err
		}
		return o.audit(t.ID, "deviceCode."+cd.Status, store.Users, u.ID, nil, map[string]any{"clientAppId": cd.Grant.ClientAppID, "userId": u.ID})
	})
}

// pollDeviceCode answers a device code poll: pending, declined, expired,
// or tokens (once).
func (d *core) pollDeviceCode(ctx context.Context, req TokenRequest, fed *federatedResult) (*TokenResponse, error) {
	var pt *pendingTokens
	err := d.mutate(ctx, System(), func(o *op) error {
		c, cd, err := loadCode(o.tx, codeKindDevice, req.DeviceCode, errDeviceCodeInvalid.new())
		if err != nil {
			return err
		}
		signInOf(ctx).grant(cd.Grant)
		if req.ClientID != cd.Grant.ClientAppID {
			return errDeviceCodeOtherClient.new()
		}
		if cd.Grant.TenantID != "" {
			if err := checkSegment(o.tx, req.Tenant, cd.Grant.TenantID); err != nil {
				return err
			}
		}
		if c.RedeemedAt != nil {
			return errDeviceCodeRedeemed.new()
		}
		if !o.now.Before(c.ExpiresAt) {
			return errDeviceCodeExpired.new()
		}
		switch cd.Status {
		case "pending":
			return errAuthorizationPending.new()
		case "declined":
			return errAuthorizationDeclined.new()
		}
		auth, err := d.clientAuthFor(ctx, o.tx, cd.Grant, req, fed, o.now)
		if err != nil {
			return err
		}
		cd.Grant.Confidential = auth != token.ClientAuthPublic
		if pt, err = d.userTokens(o.tx, cd.Grant, o.now, auth); err != nil {
			return err
		}
		if err := d.tokens.startChain(pt, auth); err != nil {
			return err
		}
		c = c.Clone()
		now := o.now
		c.RedeemedAt = &now
		if err := store.Codes.Put(o.tx, c); err != nil {
			return err
		}
		return o.audit(cd.Grant.TenantID, "token.redeemDeviceCode", store.Users, cd.Grant.UserID, nil, grantSummary(cd.Grant, c))
	})
	if err != nil {
		return nil, err
	}
	return d.finish(ctx, pt, req.ClientInfo)
}

// DeviceCodePrompt is what the device code verification page shows once
// the user has entered a valid user code (see [Issuer.DeviceCodePrompt]).
type DeviceCodePrompt struct {
	// UserCode is the user code, normalized (upper case, no spaces).
	UserCode string
	// Tenant is the authority segment the device code was requested at;
	// the user signs in there.
	Tenant string
	// TenantID is the tenant the segment names; empty for common and
	// organizations.
	TenantID string
	// ClientAppID, ClientDisplayName and PublisherDomain describe the app
	// that asks to sign in.
	ClientAppID, ClientDisplayName, PublisherDomain string
	// VerifiedPublisher is the app's verified publisher, nil when it has
	// none.
	VerifiedPublisher *application.VerifiedPublisher
	// Scope is the scope the device code asks for (as stored, canonical).
	Scope string
}

// maxUserCodeLength bounds the user code a page passes to
// DeviceCodePrompt; the codes tenantry issues have 9 characters.
const maxUserCodeLength = 64

// DeviceCodePrompt looks up a user code entered on the verification page,
// changing nothing: an unknown code is AADSTS70018, an expired one 70019,
// one already approved or declined 54005.
func (d *Issuer) DeviceCodePrompt(ctx context.Context, userCode string) (*DeviceCodePrompt, error) {
	uc, ok := normalizeUserCode(userCode)
	if !ok {
		return nil, errUserCodeInvalid.new()
	}
	var out *DeviceCodePrompt
	err := d.st.View(ctx, func(tx store.ReadTx) error {
		out = nil
		_, cd, err := pendingDeviceCode(tx, uc, d.clock())
		if err != nil {
			return err
		}
		client, err := store.Applications.One(tx, store.AppByAppID, cd.Grant.ClientAppID)
		if err != nil || client.IsDeleted() {
			return errAppNotFound.new(cd.Grant.ClientAppID).with(err)
		}
		out = &DeviceCodePrompt{UserCode: uc, Tenant: cd.RedirectURI, TenantID: cd.Grant.TenantID, ClientAppID: client.AppID,
			ClientDisplayName: client.DisplayName, PublisherDomain: client.PublisherDomain, Scope: cd.Grant.Scope}
		if vp := client.VerifiedPublisher; vp != nil && vp.VerifiedPublisherID != "" {
			c := *vp
			out.VerifiedPublisher = &c
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// normalizeUserCode is a user code as entered, in the form the device
// code flow stores it: upper case, spaces removed, bounded.
func normalizeUserCode(userCode string) (string, bool) {
	uc := strings.ToUpper(strings.Join(strings.Fields(userCode), ""))
	return uc, uc != "" && len(uc) <= maxUserCodeLength
}

// pendingDeviceCode loads the device code a user code stands for, if it
// is still pending at now: an unknown code is AADSTS70018, an expired one
// 70019, one already approved or declined 54005.
func pendingDeviceCode(tx store.ReadTx, userCode string, now time.Time) (store.Code, codeData, error) {
	var cd codeData
	uc, ok := normalizeUserCode(userCode)
	if !ok {
		return store.Code{}, cd, errUserCodeInvalid.new()
	}
	link, err := store.Codes.Get(tx, hashCode(codeKindUser, uc))
	if errors.Is(err, store.ErrNotFound) {
		return store.Code{}, cd, errUserCodeInvalid.new()
	} else if err != nil {
		return store.Code{}, cd, err
	}
	var ld codeData
	if err := json.Unmarshal(link.Data, &ld); err != nil {
		return store.Code{}, cd, err
	}
	c, err := store.Codes.Get(tx, ld.DeviceHash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Code{}, cd, errUserCodeInvalid.new()
	} else if err != nil {
		return store.Code{}, cd, err
	}
	if err := json.Unmarshal(c.Data, &cd); err != nil {
		return store.Code{}, cd, err
	}
	if !now.Before(c.ExpiresAt) {
		return store.Code{}, cd, errUserCodeExpired.new()
	}
	if cd.Status != "pending" {
		return store.Code{}, cd, errDeviceCodeUsed.new()
	}
	return c, cd, nil
}

package tenantry

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// AuthorizeRequest is an authorization request (/{tenant}/oauth2/v2.0/authorize)
// made by a user who has already signed in; how the user authenticated
// (a sign-in page, SignIn, a test) is the caller's business.
type AuthorizeRequest struct {
	// Tenant is the authority's tenant segment (the {tenant} in
	// /{tenant}/oauth2/v2.0/authorize): a tenant id, a verified domain,
	// "common", "organizations" or "consumers".
	Tenant string
	// EndpointVersion is 1 for /oauth2/authorize and 2 (or 0) for
	// /oauth2/v2.0/authorize; it is kept with the code and decides the
	// version of the ID tokens issued from it.
	EndpointVersion token.Version
	// ClientID is the client's appId (client_id parameter).
	ClientID string
	// RedirectURI is the redirect_uri parameter: it must match a registered
	// redirect URI of the client exactly (loopback URIs on any port), and
	// the code can be redeemed only with the same value.
	RedirectURI  string
	ResponseType string // "code"
	// Scope is the space-separated scope parameter: the scopes asked for,
	// sign-in scopes such as openid included.
	Scope string
	// State is echoed back unchanged in AuthorizeResponse.State (state
	// parameter); it is not stored.
	State string
	// Nonce is the nonce parameter, at most MaxNonceLength bytes: it is kept
	// with the code and returned in the nonce claim of the ID token.
	Nonce string
	// CodeChallenge is the PKCE code_challenge parameter (RFC 7636),
	// required for SPA and public clients; the code is redeemed only with
	// the matching code_verifier.
	CodeChallenge       string
	CodeChallengeMethod string // S256 or plain
	// Prompt: "consent" forces the consent step; "none" forbids it.
	Prompt string
	// UserID is the signed-in user's object id.
	UserID string
	// CorrelationID ties the request to the caller's logs; it is recorded
	// in the sign-in log. Empty means a new GUID, returned in
	// AuthorizeResponse.CorrelationID and TokenError.CorrelationID.
	CorrelationID string
}

// AuthorizeResponse is where the user agent goes next.
type AuthorizeResponse struct {
	// RedirectURI is the registered URI the response goes to.
	RedirectURI string
	// Platform is where the redirect URI is registered.
	Platform application.RedirectURIPlatform
	// Code is the authorization code (code parameter): single use, valid for
	// TokenConfig.CodeLifetime; only its hash is stored.
	Code string
	// State is the request's state parameter, unchanged.
	State string
	// CorrelationID is the request's correlation id, as recorded in the
	// sign-in log.
	CorrelationID string
}

// Location returns the redirect URI with code and state in the query.
func (r *AuthorizeResponse) Location() string {
	u, err := url.Parse(r.RedirectURI)
	if err != nil {
		return r.RedirectURI
	}
	q := u.Query()
	q.Set("code", r.Code)
	if r.State != "" {
		q.Set("state", r.State)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Authorize issues an authorization code for a signed-in user. The
// redirect URI must match a registered one exactly (loopback URIs on any
// port); SPA and public clients must use PKCE with S256. When consent is
// missing it is recorded as the user's consent where the tenant policy
// allows it (with prompt=none only for scopes the resource pre-authorizes
// for the client: pre-authorization waives the prompt, not the policy);
// otherwise the error is consent_required naming the missing scopes. The
// sign-in scopes (openid, profile, email, offline_access) need consent too.
// A multi-tenant app gets its service principal in the user's tenant on
// first consent. One audit event records the sign-in, and the request,
// issued or refused, is recorded in the sign-in log.
func (d *Issuer) Authorize(ctx context.Context, req AuthorizeRequest) (*AuthorizeResponse, error) {
	ctx, rec := d.startSignIn(ctx, FlowAuthorize, req.Tenant, req.ClientID, req.CorrelationID)
	rec.ev.UserID, rec.ev.ClientCredentialType = req.UserID, CredentialNone
	resp, err := d.authorize(ctx, req)
	err = d.endSignIn(ctx, rec, err)
	if resp != nil {
		resp.CorrelationID = rec.ev.CorrelationID
	}
	return resp, err
}

// MaxNonceLength bounds the nonce of an authorization request, which the
// code record keeps until the ID token carries it back.
const MaxNonceLength = 1024

func (d *core) authorize(ctx context.Context, req AuthorizeRequest) (*AuthorizeResponse, error) {
	if len(req.Nonce) > MaxNonceLength {
		return nil, errParameterTooLong.new("nonce", MaxNonceLength)
	}
	code, err := newOpaque(32)
	if err != nil {
		return nil, err
	}
	var resp *AuthorizeResponse
	err = d.mutate(ctx, UserActor(req.UserID), func(o *op) error {
		client, err := store.Applications.One(o.tx, store.AppByAppID, req.ClientID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && client.IsDeleted()) {
			return errAppNotFound.new(safe(req.ClientID))
		} else if err != nil {
			return err
		}
		platform, ok := client.MatchRedirectURI(req.RedirectURI)
		if !ok {
			return errRedirectMismatch.new(safe(req.RedirectURI), client.AppID)
		}
		if req.ResponseType != "code" {
			return errResponseType.new(safe(req.ResponseType))
		}
		if req.CodeChallenge == "" && (platform == application.PlatformSPA || platform == application.PlatformPublic) {
			return errPKCERequired.new()
		}
		if req.CodeChallenge != "" {
			method := req.CodeChallengeMethod
			if method == "" {
				method = "plain"
			}
			if platform != application.PlatformWeb && method != "S256" {
				return errPKCES256.new()
			}
			if err := token.CheckPKCEChallenge(method, req.CodeChallenge); err != nil {
				return errChallengeMalformed.new().with(err)
			}
			req.CodeChallengeMethod = method
		}
		u, err := store.Users.Get(o.tx, req.UserID)
		if err != nil {
			return errUserNotFoundAtAuthorize.new().with(err)
		}
		t, err := signInTenant(o.tx, req.Tenant, u)
		if err != nil {
			return err
		}
		signInOf(ctx).tenant(t.ID)
		if err := audienceGate(client, t, req.Tenant); err != nil {
			return err
		}
		sr, err := parseScope(req.Scope)
		if err != nil {
			return err
		}
		g := userGrant{TenantID: t.ID, UserID: u.ID, ClientAppID: client.AppID, Scope: sr.String(), Platform: platform, AuthTime: o.now, Nonce: req.Nonce, Endpoint: req.EndpointVersion}
		consented, err := d.consentAtSignIn(o, g, req.Prompt)
		if err != nil {
			return err
		}
		// Dry run: everything the token endpoint will check must hold now.
		pt, err := d.userTokens(o.tx, g, o.now, token.ClientAuthPublic)
		if err != nil {
			return err
		}
		signInOf(ctx).tokens(pt)
		data, err := json.Marshal(codeData{Grant: g, RedirectURI: req.RedirectURI, Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod})
		if err != nil {
			return err
		}
		if err := purgeExpiredCodes(o); err != nil {
			return err
		}
		c := store.Code{ID: hashCode(codeKindAuth, code), Kind: codeKindAuth, TenantID: t.ID, ExpiresAt: o.now.Add(d.tokens.cfg.CodeLifetime), Data: data}
		if err := store.Codes.Create(o.tx, c); err != nil {
			return err
		}
		resp = &AuthorizeResponse{RedirectURI: req.RedirectURI, Platform: platform, Code: code, State: req.State}
		return o.audit(t.ID, "signIn.authorize", store.Users, u.ID, nil, map[string]any{"clientAppId": client.AppID, "scope": g.Scope, "consented": consented})
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

const (
	codeKindAuth   = "authorization_code"
	codeKindDevice = "device_code"
	codeKindUser   = "user_code"
	// codeKindReplayed marks an authorization code redeemed more than
	// once; its record (same id) outlives the refresh tokens issued from it.
	codeKindReplayed = "authorization_code_replayed"
)

// redeemedCodeRetention is how long a redeemed authorization code is kept
// to recognise a replay.
const redeemedCodeRetention = 24 * time.Hour

type codeData struct {
	Grant       userGrant `json:"g"`
	RedirectURI string    `json:"redirect_uri,omitempty"`
	Challenge   string    `json:"challenge,omitempty"`
	Method      string    `json:"method,omitempty"`
	// Device flow.
	UserCode   string `json:"user_code,omitempty"`
	DeviceHash string `json:"device,omitempty"`
	Status     string `json:"status,omitempty"` // pending, approved, declined
}

// purgeExpiredCodes deletes a bounded number of expired codes, so that
// codes (device codes in particular, which anyone may request) do not
// accumulate: each issuing operation removes up to codePurgeBatch codes
// that expired on an earlier day, then looks at up to codePurgeScan codes
// expiring today and removes those already expired.
func purgeExpiredCodes(o *op) error {
	left := codePurgeBatch
	for back := 14; back >= 1 && left > 0; back-- {
		day := o.now.AddDate(0, 0, -back).UTC().Format("2006-01-02")
		old, _, err := store.Codes.List(o.tx, store.CodeByExpiry, day, store.Page{Limit: left})
		if err != nil {
			return err
		}
		for _, c := range old {
			if err := store.Codes.Delete(o.tx, c.ID); err != nil {
				return err
			}
			left--
		}
	}
	today := o.now.UTC().Format("2006-01-02")
	page := store.Page{Limit: codePurgeBatch}
	for scanned := 0; scanned < codePurgeScan && left > 0; {
		codes, next, err := store.Codes.List(o.tx, store.CodeByExpiry, today, page)
		if err != nil {
			return err
		}
		for _, c := range codes {
			if left > 0 && !o.now.Before(c.ExpiresAt) {
				if err := store.Codes.Delete(o.tx, c.ID); err != nil {
					return err
				}
				left--
			}
		}
		scanned += len(codes)
		if next == "" || len(codes) == 0 {
			break
		}
		page.After = next
	}
	return nil
}

const (
	codePurgeBatch = 64
	codePurgeScan  = 256
)

// signInTenant resolves the authority segment for user u: a named tenant
// must be u's tenant (guests sign in at the resource tenant); common and
// organizations mean u's own tenant.
func signInTenant(tx store.ReadTx, segment string, u tenant.User) (tenant.Tenant, error) {
	if !u.AccountEnabled {
		return tenant.Tenant{}, errUserDisabled.new()
	}
	switch strings.ToLower(segment) {
	case "common":
	case "organizations":
		if u.TenantID == tenant.ConsumersID {
			return tenant.Tenant{}, errPersonalAtOrgsSignIn.new()
		}
	default:
		t, err := lookupTenant(tx, segment)
		if err != nil {
			return t, err
		}
		if t.ID != u.TenantID {
			return t, errUserNotInTenant.new(u.UserPrincipalName, t.DisplayName)
		}
		return t, nil
	}
	return store.Tenants.Get(tx, u.TenantID)
}

// consentAtSignIn records missing consent for g's user where the tenant's
// policy lets the user consent (consent.Decide decides, as for Consent).
// With prompt=none nothing may be asked, so only consent the resource
// pre-authorizes for the client (api.preAuthorizedApplications) is
// recorded: pre-authorization waives the prompt, never the policy.
func (d *core) consentAtSignIn(o *op, g userGrant, prompt string) (bool, error) {
	uc, err := loadUser(o.tx, g, o.now)
	if err != nil {
		return false, err
	}
	if !uc.needsConsent() && prompt != "consent" {
		return false, nil
	}
	spec := ConsentSpec{ClientAppID: uc.client.AppID}
	// Without a prompt, only what the resource pre-authorizes may be
	// consented; the sign-in scopes belong to Microsoft Graph and are never
	// pre-authorized by the resource.
	preAuthorized := len(uc.missingSignIn) == 0
	switch {
	case len(uc.missing) == 0 && (prompt != "consent" || len(uc.missingSignIn) > 0):
		// Only sign-in scopes are missing (prompt=consent asks again for
		// everything only when nothing is missing).
	case uc.req.isDefault || uc.res.AppID == uc.client.AppID || len(uc.req.values) == 0:
		spec.Default = true
		preAuthorized = false
	default:
		spec.Scopes = []consent.ScopeRequest{{ResourceAppID: uc.res.AppID, Scopes: uc.missingOrAll()}}
		preAuthorized = preAuthorized && consent.PreAuthorized(uc.res, uc.client.AppID, uc.missingOrAll())
	}
	// Sign-in scopes are consented when missing, or again with everything
	// else on prompt=consent when nothing is missing.
	if len(uc.missingSignIn) > 0 || (len(uc.signIn) > 0 && !uc.needsConsent()) {
		spec.Scopes = append(spec.Scopes, consent.ScopeRequest{Scopes: uc.signIn})
	}
	if prompt == "none" && !preAuthorized {
		return false, errConsentInteraction.new(uc.client.AppID, listForError(uc.allMissing()))
	}
	if _, err := d.consentIn(o, uc.t.ID, spec); err != nil {
		var ce *consent.Error
		refusal := errConsentNotRecorded
		if errors.As(err, &ce) && (errors.Is(err, consent.ErrAdminConsentRequired) || errors.Is(err, consent.ErrUserConsentDisabled)) {
			refusal = errConsentNotPermitted
		}
		if errors.Is(err, ErrAudience) {
			if err := audienceGate(uc.client, uc.t, uc.t.ID); err != nil {
				return false, err
			}
			return false, resourceNotFound(uc.res.AppID, uc.t).with(err)
		}
		var te *TokenError
		if errors.As(err, &te) {
			return false, te
		}
		return false, refusal.new(uc.client.AppID, uc.client.DisplayName, err).with(err)
	}
	return true, nil
}

func (uc *userContext) missingOrAll() []string {
	var out []string
	for _, m := range uc.missing {
		if m != consent.DefaultScope {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = uc.req.values
	}
	return out
}

// redeemCode redeems an authorization code (single use).
func (d *core) redeemCode(ctx context.Context, req TokenRequest, fed *federatedResult) (*TokenResponse, error) {
	if req.Code == "" {
		return nil, errMissingParameter.new("code")
	}
	var pt *pendingTokens
	replay := errCodeRedeemed.new()
	replayed := false
	err := d.mutate(ctx, System(), func(o *op) error {
		replayed = false
		c, cd, err := loadCode(o.tx, codeKindAuth, req.Code, errCodeInvalid.new())
		if err != nil {
			return err
		}
		signInOf(ctx).grant(cd.Grant)
		if c.RedeemedAt != nil {
			if c.Kind == codeKindReplayed {
				return replay
			}
			// A replayed code revokes what was issued from it (RFC 6749
			// §4.1.2): the code is marked, and refresh tokens carrying its
			// id are refused. The mark is kept until every refresh token
			// issued before it has expired.
			before := c
			c = c.Clone()
			c.Kind = codeKindReplayed
			c.ExpiresAt = o.now.Add(d.tokens.cfg.RefreshTokenLifetime)
			if err := store.Codes.Put(o.tx, c); err != nil {
				return err
			}
			replayed = true
			return o.audit(cd.Grant.TenantID, "token.codeReplayed", store.Users, cd.Grant.UserID, codeSummary(before), grantSummary(cd.Grant, c))
		}
		if !o.now.Before(c.ExpiresAt) {
			return errCodeExpired.new()
		}
		if req.ClientID != cd.Grant.ClientAppID {
			return errCodeOtherClient.new()
		}
		if err := checkSegment(o.tx, req.Tenant, cd.Grant.TenantID); err != nil {
			return err
		}
		if req.RedirectURI != cd.RedirectURI {
			return errCodeRedirectMismatch.new()
		}
		if req.Origin != "" && cd.Grant.Platform != application.PlatformSPA {
			return errCrossOrigin.new()
		}
		switch {
		case cd.Challenge != "":
			if err := token.VerifyPKCE(cd.Method, cd.Challenge, req.CodeVerifier); err != nil {
				return errPKCEMismatch.new().with(err)
			}
		case req.CodeVerifier != "":
			// A verifier for a code issued without a challenge is a PKCE
			// downgrade (RFC 9700 §2.1.1).
			return errVerifierWithoutChallenge.new()
		}
		auth, err := d.clientAuthFor(ctx, o.tx, cd.Grant, req, fed, o.now)
		if err != nil {
			return err
		}
		cd.Grant.Confidential = auth != token.ClientAuthPublic
		cd.Grant.CodeID = c.ID
		if pt, err = d.userTokens(o.tx, cd.Grant, o.now, auth); err != nil {
			return err
		}
		if err := d.tokens.startChain(pt, auth); err != nil {
			return err
		}
		before := c
		c = c.Clone()
		now := o.now
		c.RedeemedAt = &now
		// A redeemed code is kept a day, so that a replay is recognised
		// (and revokes the refresh tokens issued from it).
		c.ExpiresAt = now.Add(redeemedCodeRetention)
		if err := store.Codes.Put(o.tx, c); err != nil {
			return err
		}
		return o.audit(cd.Grant.TenantID, "token.redeemCode", store.Users, cd.Grant.UserID, codeSummary(before), grantSummary(cd.Grant, c))
	})
	if err != nil {
		return nil, err
	}
	if replayed {
		return nil, replay
	}
	return d.finish(ctx, pt, req.ClientInfo)
}

// loadCode reads the stored code of kind for the code value, or answers
// notFound.
func loadCode(tx store.ReadTx, kind, code string, notFound *TokenError) (store.Code, codeData, error) {
	var cd codeData
	c, err := store.Codes.Get(tx, hashCode(kind, code))
	if errors.Is(err, store.ErrNotFound) {
		return c, cd, notFound
	} else if err != nil {
		return c, cd, err
	}
	return c, cd, json.Unmarshal(c.Data, &cd)
}

func codeSummary(c store.Code) map[string]any {
	return map[string]any{"kind": c.Kind, "expiresAt": c.ExpiresAt, "redeemedAt": c.RedeemedAt}
}

// grantSummary describes, for the audit event of a redemption that targets
// the grant's user, the code record and the client it was issued to; the
// code (and its hash, the record's id) stays out of the audit log.
func grantSummary(g userGrant, c store.Code) map[string]any {
	m := codeSummary(c)
	m["clientAppId"] = g.ClientAppID
	return m
}

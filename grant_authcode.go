package tenantry

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

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
	// ConsentFor is whose consent missing permissions are recorded as: the
	// zero value, ConsentForUser, the signed-in user's own;
	// ConsentForOrganization an administrator's on behalf of every user of
	// the tenant (a sign-in page's "Consent on behalf of your
	// organization"), refused (AADSTS65001) when the user is not an
	// administrator who may consent tenant-wide.
	ConsentFor ConsentScope
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

// authorizeTarget is what the checks of an authorization request resolved.
type authorizeTarget struct {
	client   application.Application
	platform application.RedirectURIPlatform
	method   string        // the PKCE method, "plain" when omitted
	segment  tenant.Tenant // the tenant a named segment designates (zero for common, organizations, consumers)
	user     tenant.User   // zero without req.UserID
	tenant   tenant.Tenant // the user's sign-in tenant (zero without req.UserID)
	scope    scopeRequest
}

// checkAuthorize runs, reading only, every check of an authorization
// request that comes before consent, in Authorize's order: the client
// (AADSTS700016), its redirect URI (AADSTS500113 when it has none, 50011
// on a mismatch), the tenant segment (90002, 900023), then the nonce's
// bound, the response type, PKCE and, for req.UserID, the user, her
// sign-in tenant and the client's audience there, and the scope. Without
// req.UserID (a request not yet signed in) it stops after PKCE, checking
// only the audience at a named tenant and the scope. validated reports
// whether the client and redirect URI were found valid, so that a refusal
// may be sent to the redirect URI; a refusal before that must not be.
func checkAuthorize(tx store.ReadTx, req AuthorizeRequest) (at authorizeTarget, validated bool, err error) {
	if at.client, at.platform, at.segment, err = checkClientRedirect(tx, req.ClientID, req.RedirectURI, req.Tenant); err != nil {
		return at, false, err
	}
	if len(req.Nonce) > MaxNonceLength {
		return at, true, errParameterTooLong.new("nonce", MaxNonceLength)
	}
	if req.ResponseType != "code" {
		return at, true, errResponseType.new(safe(req.ResponseType))
	}
	if req.CodeChallenge == "" && (at.platform == application.PlatformSPA || at.platform == application.PlatformPublic) {
		return at, true, errPKCERequired.new()
	}
	if req.CodeChallenge != "" {
		at.method = req.CodeChallengeMethod
		if at.method == "" {
			at.method = "plain"
		}
		if at.platform != application.PlatformWeb && at.method != "S256" {
			return at, true, errPKCES256.new()
		}
		if err := token.CheckPKCEChallenge(at.method, req.CodeChallenge); err != nil {
			return at, true, errChallengeMalformed.new().with(err)
		}
	}
	if req.UserID == "" {
		if at.segment.ID != "" {
			if err := audienceGate(at.client, at.segment, req.Tenant); err != nil {
				return at, true, err
			}
		}
		at.scope, err = parseScope(req.Scope)
		return at, true, err
	}
	if at.user, err = store.Users.Get(tx, req.UserID); err != nil {
		return at, true, errUserNotFoundAtAuthorize.new().with(err)
	}
	if at.tenant, err = signInTenant(tx, req.Tenant, at.user); err != nil {
		return at, true, err
	}
	if err := audienceGate(at.client, at.tenant, req.Tenant); err != nil {
		return at, true, err
	}
	at.scope, err = parseScope(req.Scope)
	return at, true, err
}

// checkClientRedirect checks the client and redirect URI of an
// interactive request and resolves its tenant segment: the client must
// exist (AADSTS700016), register a redirect URI (500113) matching
// redirectURI (50011), and a named segment must be a tenant (90002,
// 900023). Until these hold, nothing may be sent to redirectURI.
func checkClientRedirect(tx store.ReadTx, clientID, redirectURI, segment string) (application.Application, application.RedirectURIPlatform, tenant.Tenant, error) {
	client, err := store.Applications.One(tx, store.AppByAppID, clientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && client.IsDeleted()) {
		return client, "", tenant.Tenant{}, errAppNotFound.new(safe(clientID))
	} else if err != nil {
		return client, "", tenant.Tenant{}, err
	}
	if redirectURI == "" && !hasRedirectURIs(client) {
		return client, "", tenant.Tenant{}, errNoReplyAddress.new(client.AppID)
	}
	platform, ok := client.MatchRedirectURI(redirectURI)
	if !ok {
		return client, "", tenant.Tenant{}, errRedirectMismatch.new(safe(redirectURI), client.AppID)
	}
	switch strings.ToLower(segment) {
	case "common", "organizations", "consumers":
		return client, platform, tenant.Tenant{}, nil
	}
	t, err := lookupTenant(tx, segment)
	return client, platform, t, err
}

// hasRedirectURIs reports whether app registers any redirect URI.
func hasRedirectURIs(app application.Application) bool {
	for _, p := range []application.RedirectURIPlatform{application.PlatformWeb, application.PlatformSPA, application.PlatformPublic} {
		if len(app.RedirectURIsOf(p)) > 0 {
			return true
		}
	}
	return false
}

func (d *core) authorize(ctx context.Context, req AuthorizeRequest) (*AuthorizeResponse, error) {
	code, err := newOpaque(32)
	if err != nil {
		return nil, err
	}
	var resp *AuthorizeResponse
	err = d.mutate(ctx, UserActor(req.UserID), func(o *op) error {
		at, _, err := checkAuthorize(o.tx, req)
		if err != nil {
			return err
		}
		client, u, t := at.client, at.user, at.tenant
		signInOf(ctx).tenant(t.ID)
		g := userGrant{TenantID: t.ID, UserID: u.ID, ClientAppID: client.AppID, Scope: at.scope.String(), Platform: at.platform, AuthTime: o.now, Nonce: req.Nonce, Endpoint: req.EndpointVersion}
		consented, err := d.consentAtSignIn(o, g, req.Prompt, req.ConsentFor)
		if err != nil {
			return err
		}
		// Dry run: everything the token endpoint will check must hold now.
		pt, err := d.userTokens(o.tx, g, o.now, token.ClientAuthPublic)
		if err != nil {
			return err
		}
		signInOf(ctx).tokens(pt)
		data, err := json.Marshal(codeData{Grant: g, RedirectURI: req.RedirectURI, Challenge: req.CodeChallenge, Method: at.method})
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
		resp = &AuthorizeResponse{RedirectURI: req.RedirectURI, Platform: at.platform, Code: code, State: req.State}
		return o.audit(t.ID, "signIn.authorize", store.Users, u.ID, nil, authorizeSummary(client.AppID, g.Scope, consented, req.ConsentFor))
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

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

// authorizeSummary is what the audit event of an authorization records.
func authorizeSummary(clientAppID, scope string, consented bool, consentFor ConsentScope) map[string]any {
	m := map[string]any{"clientAppId": clientAppID, "scope": scope, "consented": consented}
	if consentFor == ConsentForOrganization {
		m["consentFor"] = "organization"
	}
	return m
}

// consentAtSignIn records missing consent for g's user where the tenant's
// policy lets the user consent (consent.Decide decides, as for Consent),
// for the user herself or, with ConsentForOrganization, for every user of
// the tenant (which needs an administrator). With prompt=none nothing may
// be asked, so only consent the resource pre-authorizes for the client
// (api.preAuthorizedApplications) is recorded: pre-authorization waives
// the prompt, never the policy.
func (d *core) consentAtSignIn(o *op, g userGrant, prompt string, consentFor ConsentScope) (bool, error) {
	uc, err := loadUser(o.tx, g, o.now)
	if err != nil {
		return false, err
	}
	spec, preAuthorized, needed := signInConsentSpec(uc, prompt)
	if !needed {
		return false, nil
	}
	if consentFor == ConsentDeclined {
		return false, errConsentDeclined.new()
	}
	spec.TenantWide = consentFor == ConsentForOrganization
	if prompt == "none" && !preAuthorized {
		return false, errConsentInteraction.new(uc.client.AppID, listForError(uc.allMissing()))
	}
	if _, err := d.consentIn(o, uc.t.ID, spec); err != nil {
		return false, consentRefusal(uc, err)
	}
	return true, nil
}

// signInConsentSpec is the consent an authorization request for uc asks
// for under prompt, whether the resource pre-authorizes all of it for the
// client, and whether any is needed at all.
func signInConsentSpec(uc *userContext, prompt string) (spec ConsentSpec, preAuthorized, needed bool) {
	if !uc.needsConsent() && prompt != "consent" {
		return spec, false, false
	}
	spec.ClientAppID = uc.client.AppID
	// Without a prompt, only what the resource pre-authorizes may be
	// consented; the sign-in scopes belong to Microsoft Graph and are never
	// pre-authorized by the resource.
	preAuthorized = len(uc.missingSignIn) == 0
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
	return spec, preAuthorized, true
}

// consentRefusal is Authorize's answer when the consent of uc's request
// cannot be recorded.
func consentRefusal(uc *userContext, err error) error {
	return consentRefusalFor(uc.client, uc.t, uc.res.AppID, err, false)
}

// consentRefusalFor turns an error of consent by client in t (resource
// resAppID) into a refusal: the audience's and resource's refusals, a
// *TokenError as it is, AADSTS90094 when the user may not consent (with
// forbidden, also when she may not consent for the tenant), else AADSTS65001
// (consent_required).
func consentRefusalFor(client application.Application, t tenant.Tenant, resAppID string, err error, forbidden bool) error {
	var ce *consent.Error
	refusal := errConsentNotRecorded
	if errors.As(err, &ce) && (errors.Is(err, consent.ErrAdminConsentRequired) || errors.Is(err, consent.ErrUserConsentDisabled) ||
		(forbidden && errors.Is(err, tenant.ErrForbidden))) {
		refusal = errConsentNotPermitted
	}
	if errors.Is(err, ErrAudience) {
		if err := audienceGate(client, t, t.ID); err != nil {
			return err
		}
		return resourceNotFound(resAppID, t).with(err)
	}
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	return refusal.new(client.AppID, client.DisplayName, err).with(err)
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

// grantSummary describes, for the audit event of a redemption that targets
// the grant's user, the code record and the client it was issued to; the
// code (and its hash, the record's id) stays out of the audit log.
func grantSummary(g userGrant, c store.Code) map[string]any {
	m := codeSummary(c)
	m["clientAppId"] = g.ClientAppID
	return m
}

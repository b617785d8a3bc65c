package tenantry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// checkMappedClaims refuses a token for resource res whose service principal
// resSP in the token's tenant carries a claims mapping, unless res sets
// api.acceptMappedClaims. Entra applies a claims-mapping policy only to an
// application that accepts mapped claims (or has an application-specific
// signing key, which tenantry does not model) and otherwise refuses to
// issue (AADSTS50146): the mapping may be set by the administrator of any
// tenant the resource is provisioned in, so its claims are the resource's
// to trust, not the tenant's to impose.
func checkMappedClaims(res application.Application, resSP serviceprincipal.ServicePrincipal) error {
	if len(resSP.ClaimsMapping) > 0 && !acceptsMappedClaims(res) {
		return errMappedClaimsNotAccepted.new(res.AppID)
	}
	return nil
}

// acceptsMappedClaims reports api.acceptMappedClaims of res.
func acceptsMappedClaims(res application.Application) bool {
	return res.API != nil && res.API.AcceptMappedClaims
}

// optionalAccessClaims returns the optional claims of the resource app and
// the claims-mapping data of its service principal that apply to user u
// (nil for app-only tokens). The mapping applies only when the resource
// accepts mapped claims (see checkMappedClaims, which refuses the token
// otherwise).
func optionalAccessClaims(res application.Application, resSP serviceprincipal.ServicePrincipal, u *tenant.User, email string) map[string]any {
	var extra map[string]any
	set := func(k string, v any) {
		if token.IsStandardAccessClaim(k) {
			return // standard claims come from the directory, never from mappings
		}
		if extra == nil {
			extra = map[string]any{}
		}
		extra[k] = v
	}
	if u != nil && res.OptionalClaims != nil {
		for _, oc := range res.OptionalClaims.AccessToken {
			switch oc.Name {
			case "email":
				// Only an address in a domain the user's home tenant
				// verified (see verifiedEmail).
				if email != "" {
					set("email", email)
				}
			case "xms_edov":
				// The email domain owner is verified: always so when
				// email is present, since unverified addresses are
				// removed.
				if email != "" {
					set("xms_edov", true)
				}
			case "given_name":
				if u.GivenName != "" {
					set("given_name", u.GivenName)
				}
			case "family_name":
				if u.Surname != "" {
					set("family_name", u.Surname)
				}
			case "acct":
				if u.IsGuest() {
					set("acct", 1)
				} else {
					set("acct", 0)
				}
			}
		}
	}
	if u != nil && acceptsMappedClaims(res) {
		for claim, source := range resSP.ClaimsMapping {
			if isEmailClaim(claim) {
				continue // email and xms_edov come from verified domains only
			}
			if v := userAttribute(*u, source); v != "" {
				set(claim, v)
			}
		}
	}
	return extra
}

// userAttribute reads "user.{attribute}" sources of claims mapping.
func userAttribute(u tenant.User, source string) string {
	switch source {
	case "user.displayname":
		return u.DisplayName
	case "user.mail":
		return u.Mail
	case "user.userprincipalname":
		return u.UserPrincipalName
	case "user.givenname":
		return u.GivenName
	case "user.surname":
		return u.Surname
	case "user.objectid":
		return u.ID
	}
	return ""
}

// userGrant is what a delegated token is issued from: a code, a refresh
// token, an approved device code or an on-behalf-of assertion.
type userGrant struct {
	TenantID    string                          `json:"tid"`
	UserID      string                          `json:"uid"`
	ClientAppID string                          `json:"cid"`
	Scope       string                          `json:"scp"`
	Platform    application.RedirectURIPlatform `json:"plt,omitempty"`
	// Confidential: the grant was obtained by an authenticated client, so
	// every redemption must authenticate it again.
	Confidential bool          `json:"conf,omitempty"`
	AuthTime     time.Time     `json:"auth"`
	Nonce        string        `json:"nonce,omitempty"`
	Endpoint     token.Version `json:"ep,omitempty"`
	// RefreshExpiry is the fixed end of SPA refresh tokens.
	RefreshExpiry time.Time `json:"rexp,omitzero"`
	// OnBehalfOf: the grant came from an on-behalf-of exchange, not from a
	// sign-in to the client; its OIDC scopes need some consent of the user
	// for the client, not a sign-in grant.
	OnBehalfOf bool `json:"obo,omitempty"`
	// CodeID is the stored id (a hash) of the authorization code the grant
	// was redeemed from; refresh tokens carry it so that a replay of the
	// code revokes their chain.
	CodeID string `json:"code,omitempty"`
}

// pendingTokens are the claims of one token response, signed after the
// store transaction.
type pendingTokens struct {
	access  token.AccessClaims
	v1      bool
	id      *token.IDClaims
	refresh *refreshState
	scope   string
	tid     string
	oid     string
	// resource is the appId of the access token's resource.
	resource string
}

// userContext is everything a delegated token depends on, loaded in one
// transaction.
type userContext struct {
	t        tenant.Tenant
	u        tenant.User
	client   application.Application
	clientSP serviceprincipal.ServicePrincipal
	res      application.Application
	resSP    serviceprincipal.ServicePrincipal
	req      scopeRequest
	groups   []string // direct groups of the user
	granted  []string // scopes granted on the resource (enabled, published)
	missing  []string // requested but not granted
	// signIn are the sign-in scopes the request needs consent for (see
	// signInScopes).
	signIn []string
	// missingSignIn are the sign-in scopes the user has not consented to
	// (nor an administrator for every user).
	missingSignIn []string
	onBehalfOf    bool
}

// needsConsent reports whether anything requested is not consented.
func (uc *userContext) needsConsent() bool { return len(uc.missing)+len(uc.missingSignIn) > 0 }

// allMissing lists what is not consented, for error descriptions.
func (uc *userContext) allMissing() []string {
	return append(slices.Clone(uc.missing), uc.missingSignIn...)
}

// loadUser loads and checks the user, client and resource of g. Missing
// consent is reported in uc.missing, not as an error.
func loadUser(tx store.ReadTx, g userGrant, now time.Time) (*userContext, error) {
	uc := &userContext{onBehalfOf: g.OnBehalfOf}
	var err error
	if uc.t, err = store.Tenants.Get(tx, g.TenantID); err != nil {
		return nil, errTenantNotFound.new(g.TenantID).with(err)
	}
	uc.u, err = store.Users.Get(tx, g.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUserNotInDirectory.new(uc.t.DisplayName)
	} else if err != nil {
		return nil, err
	}
	if uc.u.TenantID != uc.t.ID {
		return nil, errUserNotInTenantNamed.new(uc.t.DisplayName)
	}
	if !uc.u.AccountEnabled {
		return nil, errUserDisabled.new()
	}
	if err := checkGuestHome(tx, uc.u, g.AuthTime); err != nil {
		return nil, err
	}
	if uc.client, err = clientApp(tx, g.ClientAppID, uc.t, uc.t.ID); err != nil {
		return nil, err
	}
	if uc.req, err = parseScope(g.Scope); err != nil {
		return nil, err
	}
	if uc.groups, err = groupsOf(tx, uc.u.ID, true); err != nil {
		return nil, err
	}
	if uc.req.resource == "" {
		// Only OIDC scopes: the token is for the client itself.
		uc.res = uc.client
		uc.req.resource = uc.client.AppID
	} else if uc.res, err = resourceApp(tx, uc.req.resource, uc.t); err != nil {
		return nil, err
	} else if !uc.res.AdmitsTenant(uc.t.ID) {
		return nil, resourceNotFound(uc.req.resource, uc.t)
	}
	uc.clientSP, err = store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(uc.client.AppID, uc.t.ID))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil && !uc.clientSP.Usable() {
		return nil, errAppDisabled.new(uc.client.AppID, uc.clientSP.DisplayName)
	}
	uc.signIn = signInScopes(uc)
	if uc.res.AppID == uc.client.AppID {
		uc.resSP = uc.clientSP
	} else if uc.resSP, err = store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(uc.res.AppID, uc.t.ID)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if uc.resSP.ID != "" && !uc.resSP.Usable() {
		return nil, errAppDisabled.new(uc.res.AppID, uc.resSP.DisplayName)
	}
	if uc.clientSP.ID == "" || uc.resSP.ID == "" {
		// Not consented in this tenant yet: everything is missing.
		uc.missing = append(uc.missing, uc.req.values...)
		if len(uc.missing) == 0 {
			uc.missing = []string{consent.DefaultScope}
		}
		uc.missingSignIn = uc.signIn
		return uc, nil
	}
	grants, err := store.Grants.Lookup(tx, store.GrantByClient, uc.clientSP.ID)
	if err != nil {
		return nil, err
	}
	if uc.missingSignIn, err = missingSignIn(tx, uc, grants); err != nil {
		return nil, err
	}
	var valid []string
	for _, v := range consent.GrantedScopes(grants, uc.clientSP.ID, uc.resSP.ID, uc.u.ID) {
		if s, ok := uc.resSP.ScopeByValue(v); ok && s.IsEnabled {
			valid = append(valid, v)
		}
	}
	if uc.req.isDefault {
		uc.granted = valid
		switch {
		case uc.res.AppID != uc.client.AppID:
			if len(grantsOn(grants, uc.resSP.ID, uc.u.ID)) == 0 {
				uc.missing = []string{consent.DefaultScope}
			}
		case uc.onBehalfOf && !slices.ContainsFunc(grants, func(g consent.Grant) bool { return g.Covers(uc.u.ID) }):
			// A middle tier's token for itself on behalf of the user
			// needs some consent of the user (or an administrator's for
			// every user) to the middle tier.
			uc.missing = []string{consent.DefaultScope}
		}
	} else {
		for _, v := range uc.req.values {
			if slices.Contains(valid, v) {
				uc.granted = append(uc.granted, v)
			} else {
				uc.missing = append(uc.missing, v)
			}
		}
	}
	return uc, nil
}

// signInScopes returns the sign-in scopes uc's request needs consent for:
// the OIDC scopes it asks for, or, for a token to the client itself without
// any (such as "{client}/.default"), openid, the permission to sign the
// user in: a token for the client itself means the user signed in to it.
// An on-behalf-of exchange is no sign-in (see missingSignIn and loadUser).
func signInScopes(uc *userContext) []string {
	if len(uc.req.oidc) > 0 || uc.onBehalfOf || uc.res.AppID != uc.client.AppID {
		return uc.req.oidc
	}
	return []string{"openid"}
}

// missingSignIn returns the sign-in scopes of uc (uc.signIn) that neither
// the user's grant on the sign-in resource (see signInResourceSP) records
// nor an administrator's consent for every user of the tenant covers:
// sign-in needs consent like any other permission.
func missingSignIn(tx store.ReadTx, uc *userContext, grants []consent.Grant) ([]string, error) {
	if len(uc.signIn) == 0 {
		return nil, nil
	}
	if uc.onBehalfOf {
		for _, g := range grants {
			if g.Covers(uc.u.ID) {
				return nil, nil // the user's (or an admin's) consent to the middle tier
			}
		}
		return uc.signIn, nil
	}
	// The sign-in scopes are delegated permissions of their own resource:
	// a grant there for the user, or tenant-wide, covers them; consent to
	// the client's other resources does not.
	res, err := signInResourceSP(tx, uc.t.ID, uc.clientSP)
	if err != nil {
		return nil, err
	}
	have := consent.GrantedScopes(grants, uc.clientSP.ID, res.ID, uc.u.ID)
	var missing []string
	for _, s := range uc.signIn {
		if _, ok := slices.BinarySearch(have, s); !ok {
			missing = append(missing, s)
		}
	}
	return missing, nil
}

func grantsOn(grants []consent.Grant, resourceID, userID string) []consent.Grant {
	var out []consent.Grant
	for _, g := range grants {
		if g.ResourceID == resourceID && g.Covers(userID) {
			out = append(out, g)
		}
	}
	return out
}

// checkAssigned enforces appRoleAssignmentRequired on the client and the
// resource for the user (directly or through a direct group).
func checkAssigned(tx store.ReadTx, uc *userContext, now time.Time) ([]serviceprincipal.AppRoleAssignment, error) {
	held, err := store.Assignments.Lookup(tx, store.AssignmentByPrincipal, uc.u.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range uc.groups {
		ga, err := store.Assignments.Lookup(tx, store.AssignmentByPrincipal, g)
		if err != nil {
			return nil, err
		}
		held = append(held, ga...)
	}
	h := serviceprincipal.Holder{ID: uc.u.ID, Type: serviceprincipal.PrincipalUser, GroupIDs: uc.groups}
	for _, sp := range []serviceprincipal.ServicePrincipal{uc.clientSP, uc.resSP} {
		if sp.ID != "" && sp.AppRoleAssignmentRequired && !serviceprincipal.IsAssigned(sp, h, held, now) {
			return nil, errUserNotAssigned.new(uc.u.UserPrincipalName, sp.AppID, sp.DisplayName)
		}
	}
	return held, nil
}

// userTokens decides the claims of a delegated token response for g.
func (d *core) userTokens(tx store.ReadTx, g userGrant, now time.Time, auth token.ClientAuth) (*pendingTokens, error) {
	uc, err := loadUser(tx, g, now)
	if err != nil {
		return nil, err
	}
	if uc.needsConsent() {
		return nil, errConsentMissing.new(uc.client.AppID, uc.client.DisplayName, listForError(uc.allMissing()))
	}
	held, err := checkAssigned(tx, uc, now)
	if err != nil {
		return nil, err
	}
	if err := checkMappedClaims(uc.res, uc.resSP); err != nil {
		return nil, err
	}
	h := serviceprincipal.Holder{ID: uc.u.ID, Type: serviceprincipal.PrincipalUser, GroupIDs: uc.groups}
	cfg := d.tokens.cfg
	version := token.Version(uc.res.AccessTokenVersion())
	aud := uc.res.AppID
	if version == 1 && uc.req.resource != "" {
		aud = uc.req.resource
	}
	groups, wids, err := groupClaims(tx, uc.res, uc.u)
	if err != nil {
		return nil, err
	}
	var email string
	if uc.req.has("openid") || hasOptionalClaim(uc.res, "email") || hasOptionalClaim(uc.res, "xms_edov") {
		if email, err = verifiedEmail(tx, uc.t, uc.u); err != nil {
			return nil, err
		}
	}
	pt := &pendingTokens{v1: version == 1, tid: uc.t.ID, oid: uc.u.ID, resource: uc.res.AppID}
	username := uc.u.UserPrincipalName
	idp := ""
	if uc.u.IsGuest() {
		idp = cfg.Authority.Issuer(1, uc.u.HomeTenantID) // Entra names a guest's home tenant by its v1 issuer
		if uc.u.HomeTenantID == tenant.ConsumersID {
			idp = "live.com"
		}
	}
	aio, rh := token.NewOpaqueClaims(cfg.Random)
	pt.access = token.BuildAccess(token.Access{
		Version: version, Authority: cfg.Authority, TenantID: uc.t.ID, Audience: aud,
		ClientAppID: uc.client.AppID, ClientAuth: auth,
		UserObjectID: uc.u.ID, Subject: token.PairwiseSubject(d.tokens.pairwise, uc.t.ID, uc.res.AppID, uc.u.ID),
		Name: uc.u.DisplayName, Username: username, Scopes: uc.granted,
		Roles: serviceprincipal.RolesFor(uc.resSP, h, held, now), Groups: groups, WIDs: wids,
		IncludeUserIDType: includeUserIDType(uc.res), IdentityProvider: idp,
		AuthMethods: []string{"pwd"}, TokenID: token.NewTokenID(cfg.Random), AIO: aio, RH: rh, IssuedAt: now,
		Lifetime: cfg.AccessTokenLifetime, Extra: optionalAccessClaims(uc.res, uc.resSP, &uc.u, email),
	})
	if hasOptionalClaim(uc.res, "upn") {
		pt.access.UPN = uc.u.UserPrincipalName
	}
	var scopes []string
	for _, v := range uc.granted {
		scopes = append(scopes, uc.req.resource+"/"+v)
	}
	scopes = append(scopes, uc.req.oidc...)
	pt.scope = strings.Join(scopes, " ")
	if uc.req.has("openid") {
		idGroups, _, err := groupClaims(tx, uc.client, uc.u)
		if err != nil {
			return nil, err
		}
		ep := g.Endpoint
		if ep == 0 {
			ep = 2
		}
		// The ID token carries email for guests, and for members when the
		// email scope or the email optional claim asks for it (REFERENCE
		// §4.4); always only a verified address.
		idEmail := email
		if !uc.u.IsGuest() && !uc.req.has("email") && !hasIDTokenClaim(uc.client, "email") {
			idEmail = ""
		}
		var idExtra map[string]any
		if idEmail != "" && hasIDTokenClaim(uc.client, "xms_edov") {
			idExtra = map[string]any{"xms_edov": true}
		}
		aio, rh := token.NewOpaqueClaims(cfg.Random)
		id := token.BuildIDToken(token.IDToken{
			Version: ep, Authority: cfg.Authority, TenantID: uc.t.ID, ClientAppID: uc.client.AppID,
			Nonce: g.Nonce, Subject: token.PairwiseSubject(d.tokens.pairwise, uc.t.ID, uc.client.AppID, uc.u.ID),
			UserObjectID: uc.u.ID, Name: uc.u.DisplayName, Username: username, Email: idEmail, Extra: idExtra,
			Roles: serviceprincipal.RolesFor(uc.clientSP, h, held, now), Groups: idGroups, IdentityProvider: idp,
			TokenID: token.NewTokenID(cfg.Random), AIO: aio, RH: rh, IssuedAt: now, Lifetime: cfg.IDTokenLifetime,
		})
		pt.id = &id
	}
	if uc.req.has("offline_access") {
		rs := &refreshState{Grant: g, IssuedAt: now}
		rs.Grant.Nonce = ""
		rs.Expiry = now.Add(cfg.RefreshTokenLifetime)
		if g.Platform == application.PlatformSPA {
			if g.RefreshExpiry.IsZero() {
				rs.Grant.RefreshExpiry = now.Add(cfg.SPARefreshTokenLifetime)
			}
			if rs.Grant.RefreshExpiry.Before(rs.Expiry) {
				rs.Expiry = rs.Grant.RefreshExpiry
			}
		}
		pt.refresh = rs
	}
	return pt, nil
}

func hasOptionalClaim(res application.Application, name string) bool {
	if res.OptionalClaims == nil {
		return false
	}
	for _, oc := range res.OptionalClaims.AccessToken {
		if oc.Name == name {
			return true
		}
	}
	return false
}

func includeUserIDType(res application.Application) bool {
	if res.OptionalClaims == nil {
		return false
	}
	for _, oc := range res.OptionalClaims.AccessToken {
		if oc.Name == "idtyp" && slices.Contains(oc.AdditionalProperties, "include_user_token") {
			return true
		}
	}
	return false
}

// groupClaims returns the groups and wids claims app asks for with
// groupMembershipClaims.
func groupClaims(tx store.ReadTx, app application.Application, u tenant.User) ([]string, []string, error) {
	var groups, wids []string
	switch app.GroupMembershipClaims {
	case "SecurityGroup", "All":
		ids, err := groupsOf(tx, u.ID, false)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range ids {
			g, err := store.Groups.Get(tx, id)
			if err != nil {
				return nil, nil, err
			}
			if app.GroupMembershipClaims == "All" || g.SecurityEnabled {
				groups = append(groups, id)
			}
		}
		slices.Sort(groups)
	}
	switch app.GroupMembershipClaims {
	case "All", "DirectoryRole":
		ras, err := store.DirectoryRoles.Lookup(tx, store.RoleByPrincipal, u.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, ra := range ras {
			wids = append(wids, ra.RoleDefinitionID)
		}
		slices.Sort(wids)
	}
	return groups, wids, nil
}

// finish signs pending tokens into a response.
func (d *core) finish(ctx context.Context, pt *pendingTokens, clientInfo bool) (*TokenResponse, error) {
	signInOf(ctx).tokens(pt)
	s := d.tokens
	at, err := s.sign(ctx, &pt.access, pt.v1)
	if err != nil {
		return nil, err
	}
	secs := int(s.cfg.AccessTokenLifetime / time.Second)
	resp := &TokenResponse{TokenType: "Bearer", Scope: pt.scope, ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: at}
	if pt.id != nil {
		if resp.IDToken, err = s.sign(ctx, pt.id, pt.id.Version == token.Version1.String()); err != nil { // v1 tokens carry x5t
			return nil, err
		}
	}
	if pt.refresh != nil {
		if resp.RefreshToken, err = s.sealRefresh(pt.refresh); err != nil {
			return nil, err
		}
	}
	if clientInfo {
		ci, _ := json.Marshal(map[string]string{"uid": pt.oid, "utid": pt.tid})
		resp.ClientInfo = base64.RawURLEncoding.EncodeToString(ci)
	}
	return resp, nil
}

// clientAuthFor authenticates the client of a user flow: public platforms
// (spa, publicClient, or an app marked isFallbackPublicClient without a
// redirect URI) present no credential; web clients must.
func (d *core) clientAuthFor(ctx context.Context, tx store.ReadTx, g userGrant, req TokenRequest, fed *federatedResult, now time.Time) (token.ClientAuth, error) {
	app, err := store.Applications.One(tx, store.AppByAppID, g.ClientAppID)
	if err != nil {
		return 0, errAppNotFound.new(g.ClientAppID)
	}
	t, err := store.Tenants.Get(tx, g.TenantID)
	if err != nil {
		return 0, err
	}
	public := !g.Confidential && (g.Platform == application.PlatformSPA || g.Platform == application.PlatformPublic ||
		(g.Platform == "" && app.IsFallbackPublicClient && req.ClientSecret == "" && req.ClientAssertion == ""))
	return d.tokens.authenticate(ctx, app, t, req, fed, now, public)
}

func hashCode(kind, code string) string {
	h := sha256.Sum256([]byte(kind + ":" + code))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func newOpaque(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

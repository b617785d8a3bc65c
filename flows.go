package tenantry

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// Grant types accepted by Directory.Token.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// TokenRequest is a request to the token endpoint, field for field as the
// form parameters of Entra's /{tenant}/oauth2/v2.0/token.
type TokenRequest struct {
	// Tenant is the authority's tenant segment: a tenant id, a verified
	// domain, "common", "organizations" or "consumers".
	Tenant string
	// EndpointVersion is 1 for /oauth2/token and 2 (or 0) for
	// /oauth2/v2.0/token; it decides the ID token's version.
	EndpointVersion token.Version
	// GrantType is one of the Grant* constants.
	GrantType string
	// ClientID is the client's appId.
	ClientID string
	// ClientSecret, or ClientAssertionType and ClientAssertion,
	// authenticate a confidential client.
	ClientSecret        string
	ClientAssertionType string
	ClientAssertion     string
	// Scope is the space-separated scope list.
	Scope string
	// Code, RedirectURI and CodeVerifier redeem an authorization code.
	Code, RedirectURI, CodeVerifier string
	// RefreshToken redeems a refresh token.
	RefreshToken string
	// Assertion and RequestedTokenUse ("on_behalf_of") are the on-behalf-of
	// parameters.
	Assertion, RequestedTokenUse string
	// DeviceCode polls the device code flow.
	DeviceCode string
	// ClientInfo asks for the client_info field (client_info=1).
	ClientInfo bool

	federated *federatedResult // set by prepareFederated
	prepared  bool             // prepareFederated has run
}

// TokenResponse is a successful token response.
type TokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// Token runs the grant named by req.GrantType.
func (d *Directory) Token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	d.prepareFederated(ctx, &req)
	switch req.GrantType {
	case GrantClientCredentials:
		return d.ClientCredentials(ctx, req)
	case GrantAuthorizationCode:
		return d.redeemCode(ctx, req)
	case GrantRefreshToken:
		return d.refresh(ctx, req)
	case GrantJWTBearer:
		return d.onBehalfOf(ctx, req)
	case GrantDeviceCode:
		return d.pollDeviceCode(ctx, req)
	case "":
		return nil, tokenErr(OAuthInvalidRequest, 900144, "The request body must contain the following parameter: 'grant_type'.")
	}
	return nil, tokenErr(OAuthUnsupportedGrantType, 70003, "The app requested an unsupported grant type '%s'.", safe(req.GrantType))
}

// safe trims caller-supplied text for error descriptions.
func safe(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// ClientCredentials issues an app-only access token (client credentials
// grant): the client authenticates with a secret, a certificate assertion
// or a federated credential and asks for "{resource}/.default"; the token
// carries the application permissions (roles) assigned to its service
// principal on the resource's. The path does one store read transaction
// and one signature.
func (d *Directory) ClientCredentials(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	resourceID, err := defaultScopeResource(req.Scope)
	if err != nil {
		return nil, err
	}
	d.prepareFederated(ctx, &req)
	var claims token.AccessClaims
	var v1 bool
	now := d.clock()
	err = d.st.View(ctx, func(tx store.ReadTx) error {
		t, err := tenantForApp(tx, req.Tenant)
		if err != nil {
			return err
		}
		client, err := clientApp(tx, req.ClientID, t, req.Tenant)
		if err != nil {
			return err
		}
		auth, err := d.tokens.authenticate(ctx, client, t, req, now, false)
		if err != nil {
			return err
		}
		clientSP, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(client.AppID, t.ID))
		if errors.Is(err, store.ErrNotFound) {
			return tokenErr(OAuthInvalidClient, 7000229, "The client application %s is missing service principal in the tenant %s.", client.AppID, t.ID)
		} else if err != nil {
			return err
		}
		if !clientSP.Usable() {
			return tokenErr(OAuthUnauthorizedClient, 7000112, "Application '%s'(%s) is disabled.", client.AppID, clientSP.DisplayName)
		}
		res, resSP, err := resolveResource(tx, resourceID, t)
		if err != nil {
			return err
		}
		held, err := store.Assignments.Lookup(tx, store.AssignmentByPrincipal, clientSP.ID)
		if err != nil {
			return err
		}
		holder := serviceprincipal.Holder{ID: clientSP.ID, Type: serviceprincipal.PrincipalServicePrincipal}
		if resSP.AppRoleAssignmentRequired && !serviceprincipal.IsAssigned(resSP, holder, held, now) {
			return tokenErr(OAuthInvalidClient, 501051, "Application '%s'(%s) is not assigned to a role for the application '%s'(%s).", client.AppID, client.DisplayName, res.AppID, res.DisplayName)
		}
		roles := serviceprincipal.RolesFor(resSP, holder, held, now)
		version := token.Version(res.AccessTokenVersion())
		v1 = version == 1
		aud := res.AppID
		if v1 {
			aud = resourceID // v1: the resource as requested
		}
		aio, rh := token.NewOpaqueClaims(d.tokens.cfg.Random)
		claims = token.BuildAccess(token.Access{
			Version: version, Authority: d.tokens.cfg.Authority, TenantID: t.ID, Audience: aud,
			ClientAppID: client.AppID, ClientAuth: auth, AppOnly: true, ClientObjectID: clientSP.ID, IncludeAppIDType: hasOptionalClaim(res, "idtyp"),
			Roles: roles, TokenID: token.NewTokenID(d.tokens.cfg.Random), IssuedAt: now,
			Lifetime: d.tokens.cfg.AccessTokenLifetime, AIO: aio, RH: rh,
			Extra: optionalAccessClaims(res, resSP, nil, ""),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	at, err := d.tokens.sign(ctx, &claims, v1)
	if err != nil {
		return nil, err
	}
	secs := int(d.tokens.cfg.AccessTokenLifetime / time.Second)
	return &TokenResponse{TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: at}, nil
}

// sign signs claims with the active key (v1 tokens carry x5t).
func (s *tokenService) sign(ctx context.Context, claims any, x5t bool) (string, error) {
	ring, err := s.keyring(ctx)
	if err != nil {
		return "", err
	}
	return ring.Sign(s.cfg.Algorithm, claims, token.SignOptions{X5T: x5t})
}

// defaultScopeResource checks a client-credentials scope: exactly one
// "{resource}/.default" (OIDC scopes, which MSAL always adds, are ignored).
func defaultScopeResource(scope string) (string, error) {
	if err := checkScopeBounds(scope); err != nil {
		return "", err
	}
	var resource string
	for _, s := range strings.Fields(scope) {
		if consent.IsOIDCScope(s) {
			continue
		}
		r, v := consent.SplitScope(s)
		if v != consent.DefaultScope || resource != "" {
			return "", tokenErr(OAuthInvalidScope, 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", safe(s))
		}
		resource = r
	}
	if resource == "" {
		return "", tokenErr(OAuthInvalidRequest, 900144, "The request body must contain the following parameter: 'scope'.")
	}
	return resource, nil
}

// tenantForApp resolves the tenant segment of an app-only request, which
// needs a concrete tenant.
func tenantForApp(tx store.ReadTx, segment string) (tenant.Tenant, error) {
	switch strings.ToLower(segment) {
	case "common", "organizations":
		return tenant.Tenant{}, tokenErr(OAuthInvalidRequest, 50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
	}
	return lookupTenant(tx, segment)
}

func lookupTenant(tx store.ReadTx, segment string) (tenant.Tenant, error) {
	if segment == "" {
		return tenant.Tenant{}, tokenErr(OAuthInvalidRequest, 900023, "Specified tenant identifier '' is neither a valid DNS name, nor a valid external domain.")
	}
	t, err := resolveTenant(tx, segment)
	if errors.Is(err, store.ErrNotFound) {
		if _, perr := uuid.Parse(segment); perr != nil && !strings.Contains(segment, ".") && !strings.EqualFold(segment, "consumers") {
			return t, tokenErr(OAuthInvalidRequest, 900023, "Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", safe(segment))
		}
		return t, tokenErr(OAuthInvalidTenant, 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", safe(segment))
	}
	return t, err
}

// clientApp loads the client application and applies the audience gate for
// tenant t (reached through the authority segment).
func clientApp(tx store.ReadTx, clientID string, t tenant.Tenant, segment string) (application.Application, error) {
	if clientID == "" {
		return application.Application{}, tokenErr(OAuthInvalidRequest, 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	app, err := store.Applications.One(tx, store.AppByAppID, clientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && app.IsDeleted()) {
		return app, tokenErr(OAuthUnauthorizedClient, 700016, "Application with identifier '%s' was not found in the directory '%s'.", safe(clientID), t.DisplayName)
	} else if err != nil {
		return app, err
	}
	return app, audienceGate(app, t, segment)
}

// audienceGate refuses a tenant the app's sign-in audience does not admit,
// with Entra's codes.
func audienceGate(app application.Application, t tenant.Tenant, segment string) error {
	seg := strings.ToLower(segment)
	if app.SignInAudience == application.AzureADMyOrg && (seg == "common" || seg == "organizations") {
		return tokenErr(OAuthInvalidRequest, 50194, "Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications.", app.AppID, app.DisplayName)
	}
	if app.AdmitsTenant(t.ID) {
		return nil
	}
	switch {
	case t.IsConsumers() && seg == "common":
		return tokenErr(OAuthInvalidRequest, 500200, "User account is a personal Microsoft account. Personal Microsoft accounts are not supported for application '%s'(%s).", app.AppID, app.DisplayName)
	case app.SignInAudience == application.PersonalMicrosoftAccount:
		return tokenErr(OAuthInvalidRequest, 9002346, "Application '%s'(%s) is configured for use by Microsoft Account users only. Please use the /consumers endpoint to serve this request.", app.AppID, app.DisplayName)
	case t.IsConsumers():
		return tokenErr(OAuthInvalidRequest, 9002332, "Application '%s'(%s) is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.", app.AppID, app.DisplayName)
	}
	return tokenErr(OAuthUnauthorizedClient, 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", app.AppID, t.DisplayName)
}

// resourceApp finds the live resource application named in a scope (appId
// or identifier URI).
func resourceApp(tx store.ReadTx, resource string, t tenant.Tenant) (application.Application, error) {
	var app application.Application
	var err error
	if id, ok := canonicalGUID(resource); ok {
		app, err = store.Applications.One(tx, store.AppByAppID, id)
	} else if strings.EqualFold(resource, consent.GraphResource) {
		app, err = store.Applications.One(tx, store.AppByAppID, application.MicrosoftGraphAppID)
	} else {
		app, err = store.Applications.One(tx, store.AppByIdentifierURI, resource)
		if errors.Is(err, store.ErrNotFound) && strings.HasSuffix(resource, "/") {
			app, err = store.Applications.One(tx, store.AppByIdentifierURI, strings.TrimSuffix(resource, "/"))
		}
	}
	if errors.Is(err, store.ErrNotFound) || (err == nil && app.IsDeleted()) {
		return app, resourceNotFound(resource, t)
	}
	return app, err
}

// resourceNotFound is Entra's answer for a resource without a service
// principal in t, and for one whose sign-in audience no longer admits t:
// the resource's audience is checked at every issuance, so narrowing it
// leaves its service principals in other tenants unusable.
func resourceNotFound(resource string, t tenant.Tenant) *TokenError {
	return tokenErr(OAuthInvalidResource, 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", safe(resource), t.DisplayName)
}

// resolveResource finds the resource application named in a scope and its
// usable service principal in t.
func resolveResource(tx store.ReadTx, resource string, t tenant.Tenant) (application.Application, serviceprincipal.ServicePrincipal, error) {
	app, err := resourceApp(tx, resource, t)
	if err != nil {
		return app, serviceprincipal.ServicePrincipal{}, err
	}
	if !app.AdmitsTenant(t.ID) {
		return app, serviceprincipal.ServicePrincipal{}, resourceNotFound(resource, t)
	}
	sp, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(app.AppID, t.ID))
	if errors.Is(err, store.ErrNotFound) {
		return app, sp, resourceNotFound(resource, t)
	} else if err != nil {
		return app, sp, err
	}
	if !sp.Usable() {
		return app, sp, tokenErr(OAuthUnauthorizedClient, 7000112, "Application '%s'(%s) is disabled.", app.AppID, sp.DisplayName)
	}
	return app, sp, nil
}

// optionalAccessClaims returns the optional claims of the resource app and
// the claims-mapping data of its service principal that apply to user u
// (nil for app-only tokens).
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
	if u != nil {
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

// authenticate checks the client's credentials. public says whether the
// flow admits a public client (no credential).
func (s *tokenService) authenticate(ctx context.Context, app application.Application, t tenant.Tenant, req TokenRequest, now time.Time, public bool) (token.ClientAuth, error) {
	hasSecret, hasAssertion := req.ClientSecret != "", req.ClientAssertion != "" || req.ClientAssertionType != ""
	if public {
		if hasSecret || hasAssertion {
			return 0, tokenErr(OAuthInvalidClient, 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		}
		return token.ClientAuthPublic, nil
	}
	switch {
	case hasAssertion:
		if req.ClientAssertionType != token.ClientAssertionType {
			return 0, tokenErr(OAuthInvalidRequest, 90014, "The required field 'client_assertion_type' is missing or not %s.", token.ClientAssertionType)
		}
		return s.authenticateAssertion(ctx, app, t, req, now)
	case hasSecret:
		for _, p := range app.PasswordCredentials {
			if p.Matches(req.ClientSecret) {
				if !p.ActiveAt(now) {
					return 0, tokenErr(OAuthInvalidClient, 7000222, "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app.", app.AppID)
				}
				return token.ClientAuthSecret, nil
			}
		}
		return 0, tokenErr(OAuthInvalidClient, 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", app.AppID)
	}
	return 0, tokenErr(OAuthInvalidClient, 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

func (s *tokenService) tokenEndpoints(t tenant.Tenant) []string {
	base := s.cfg.Authority.V2Base
	if base == "" {
		base = "https://login.microsoftonline.com"
	}
	names := []string{t.ID}
	for _, d := range t.VerifiedDomains {
		names = append(names, d.Name)
	}
	var out []string
	for _, n := range names {
		out = append(out, base+"/"+n+"/oauth2/v2.0/token", base+"/"+n+"/oauth2/token")
	}
	return out
}

func (s *tokenService) authenticateAssertion(ctx context.Context, app application.Application, t tenant.Tenant, req TokenRequest, now time.Time) (token.ClientAuth, error) {
	ua, err := token.ParseClientAssertion(req.ClientAssertion)
	if err != nil {
		return 0, tokenErr(OAuthInvalidClient, 700027, "Client assertion failed signature validation or is malformed.").with(err)
	}
	// A self-signed assertion (iss = sub = client id) is verified with a
	// registered certificate.
	if ua.Issuer == app.AppID {
		type registered struct {
			cert *x509.Certificate
			cred application.KeyCredential
		}
		var regs []registered
		var list []*x509.Certificate
		for _, k := range app.KeyCredentials {
			if k.Type != application.KeyTypeX509 || k.Usage != application.KeyUsageVerify {
				continue
			}
			c, err := k.Certificate()
			if err != nil {
				continue
			}
			regs = append(regs, registered{c, k})
			list = append(list, c)
		}
		cert, ok := token.MatchCertificate(ua.Header, list)
		if !ok {
			return 0, tokenErr(OAuthInvalidClient, 700027, "Client assertion contains an invalid signature. The key was not found on app '%s'.", app.AppID)
		}
		for _, r := range regs {
			if r.cert == cert && !r.cred.ActiveAt(now) {
				return 0, tokenErr(OAuthInvalidClient, 700027, "Client assertion contains an invalid signature. The key used is expired.")
			}
		}
		_, err := ua.Verify(cert.PublicKey, token.AssertionRules{ClientID: app.AppID, Audiences: s.tokenEndpoints(t), Now: now, MaxLifetime: s.cfg.AssertionMaxLifetime})
		switch {
		case errors.Is(err, token.ErrAssertionTime):
			return 0, tokenErr(OAuthInvalidClient, 700024, "Client assertion is not within its valid time range.").with(err)
		case err != nil:
			return 0, tokenErr(OAuthInvalidClient, 700027, "Client assertion failed signature validation.").with(err)
		}
		return token.ClientAuthCertificate, nil
	}
	return s.authenticateFederated(app, ua, req.federated)
}

package tenantry

import "fmt"

// errEntry is one row of the token service's error catalogue: a situation
// the service refuses, with the AADSTS code Entra uses for it, the OAuth
// error value (RFC 6749 §5.2, RFC 8628 §3.5, or Entra's own), the HTTP
// status of the token endpoint's answer and the description template
// (fmt verbs, filled at the call site with [errEntry.new]).
//
// One code may appear in several rows, one per wording. The rows of one
// code agree on the OAuth error unless a row is marked as a variant with
// the reason Entra answers differently there (for example AADSTS65001,
// which is invalid_grant at the token endpoint and interaction_required
// for prompt=none).
type errEntry struct {
	code    int
	oauth   string
	status  int
	text    string
	sub     string // suberror, if any
	variant string // why this row's OAuth error differs from the code's usual one
}

// catalogue lists every entry, in declaration order; it is filled as the
// entries below are initialised.
var catalogue []*errEntry

// aadsts declares a catalogue entry.
func aadsts(code int, oauth string, status int, text string) *errEntry {
	e := &errEntry{code: code, oauth: oauth, status: status, text: text}
	catalogue = append(catalogue, e)
	return e
}

// suberror sets the entry's suberror (Entra's "suberror" field).
func (e *errEntry) suberror(s string) *errEntry { e.sub = s; return e }

// as marks the entry as a variant of its code: Entra answers this
// situation with a different OAuth error than the code's usual one.
func (e *errEntry) as(reason string) *errEntry { e.variant = reason; return e }

// new returns the refusal, its description filled from args and bounded.
// Without arguments the template is used as it is (no formatting cost).
func (e *errEntry) new(args ...any) *TokenError {
	d := e.text
	if len(args) > 0 {
		d = capDescription(fmt.Sprintf(e.text, args...))
	}
	return &TokenError{ErrorCode: e.oauth, Code: e.code, ErrorDescription: d, SubError: e.sub, Status: e.status}
}

// The catalogue. Statuses follow Entra's token endpoint: invalid_client
// 401, server_error 500, every other refusal 400. Templates never take a
// secret, a code or a token; caller-supplied strings pass through safe.
var (
	// Tenants and the authority segment.
	errNoTenantInfo     = aadsts(50059, OAuthInvalidRequest, 400, "No tenant-identifying information found in either the request or implied by any provided credentials.")
	errTenantIdentifier = aadsts(900023, OAuthInvalidRequest, 400, "Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.")
	errTenantNotFound   = aadsts(90002, OAuthInvalidTenant, 400, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")

	// Request parameters.
	errMissingParameter     = aadsts(900144, OAuthInvalidRequest, 400, "The request body must contain the following parameter: '%s'.")
	errMissingTokenUse      = aadsts(900144, OAuthInvalidRequest, 400, "The request body must contain the parameter 'requested_token_use' with the value 'on_behalf_of'.")
	errUnsupportedGrantType = aadsts(70003, OAuthUnsupportedGrantType, 400, "The app requested an unsupported grant type '%s'.")
	errAssertionTypeMissing = aadsts(90014, OAuthInvalidRequest, 400, "The required field 'client_assertion_type' is missing or not %s.")

	// Client applications and their sign-in audience.
	errAppNotFound          = aadsts(700016, OAuthUnauthorizedClient, 400, "Application with identifier '%s' was not found.")
	errAppNotInDirectory    = aadsts(700016, OAuthUnauthorizedClient, 400, "Application with identifier '%s' was not found in the directory '%s'.")
	errAppNotInstalled      = aadsts(700016, OAuthUnauthorizedClient, 400, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.")
	errSingleTenantAtCommon = aadsts(50194, OAuthInvalidRequest, 400, "Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications.")
	errPersonalNotSupported = aadsts(500200, OAuthInvalidRequest, 400, "User account is a personal Microsoft account. Personal Microsoft accounts are not supported for application '%s'(%s).")
	errPersonalOnlyApp      = aadsts(9002346, OAuthInvalidRequest, 400, "Application '%s'(%s) is configured for use by Microsoft Account users only. Please use the /consumers endpoint to serve this request.")
	errOrganizationsOnlyApp = aadsts(9002332, OAuthInvalidRequest, 400, "Application '%s'(%s) is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.")
	errAppDisabled          = aadsts(7000112, OAuthUnauthorizedClient, 400, "Application '%s'(%s) is disabled.")
	errNoServicePrincipal   = aadsts(7000229, OAuthInvalidClient, 401, "The client application %s is missing service principal in the tenant %s.")
	errClientNotAssigned    = aadsts(501051, OAuthInvalidClient, 401, "Application '%s'(%s) is not assigned to a role for the application '%s'(%s).")
	errOBONotAllowed        = aadsts(7000114, OAuthUnauthorizedClient, 400, "Application '%s' is not allowed to make application on-behalf-of calls.")

	// Resources and scopes.
	errResourceNotFound       = aadsts(500011, OAuthInvalidResource, 400, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.")
	errScopeTooLong           = aadsts(70011, OAuthInvalidScope, 400, "The provided value for the input parameter 'scope' is not valid: it is longer than %d characters.")
	errScopeTooMany           = aadsts(70011, OAuthInvalidScope, 400, "The provided value for the input parameter 'scope' is not valid: it lists more than %d scopes.")
	errScopeInvalid           = aadsts(70011, OAuthInvalidScope, 400, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.")
	errScopeDefaultMixed      = aadsts(70011, OAuthInvalidScope, 400, "The provided value for the input parameter 'scope' is not valid: .default cannot be combined with other scopes of the resource.")
	errScopeMultipleResources = aadsts(700022, OAuthInvalidScope, 400, "The provided value for the input parameter scope is not valid because it contains more than one resource.")
	errScopeNotDefault        = aadsts(1002012, OAuthInvalidScope, 400, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")

	// Claims mapping on the resource's service principal.
	errMappedClaimsNotAccepted = aadsts(50146, OAuthInvalidRequest, 400, "This application is required to be configured with an application-specific signing key. It is either not configured with one, or the key has expired or is not yet valid. Please contact the owner of the application. (Application '%s' has a claims mapping on its service principal in this tenant and does not set api.acceptMappedClaims.)")

	// Client authentication: secrets.
	errPublicClientCredential = aadsts(700025, OAuthInvalidClient, 401, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
	errSecretExpired          = aadsts(7000222, OAuthInvalidClient, 401, "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app.")
	errInvalidSecret          = aadsts(7000215, OAuthInvalidClient, 401, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.")
	errNoCredential           = aadsts(7000218, OAuthInvalidClient, 401, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	errNoPublicClientFlows    = aadsts(7000218, OAuthInvalidClient, 401, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. (Public client flows are not allowed for application '%s'.)")

	// Client authentication: assertions and federated credentials.
	errAssertionMalformed   = aadsts(700027, OAuthInvalidClient, 401, "Client assertion failed signature validation or is malformed.")
	errAssertionKeyNotFound = aadsts(700027, OAuthInvalidClient, 401, "Client assertion contains an invalid signature. The key was not found on app '%s'.")
	errAssertionKeyExpired  = aadsts(700027, OAuthInvalidClient, 401, "Client assertion contains an invalid signature. The key used is expired.")
	errAssertionSignature   = aadsts(700027, OAuthInvalidClient, 401, "Client assertion failed signature validation.")
	errAssertionNoMatch     = aadsts(700027, OAuthInvalidClient, 401, "Client assertion failed signature validation: no registered key or federated credential matches it.")
	errAssertionTimeRange   = aadsts(700024, OAuthInvalidClient, 401, "Client assertion is not within its valid time range.")
	errFederatedKeys        = aadsts(70021, OAuthInvalidClient, 401, "The keys of the federated issuer could not be obtained.")
	errFederatedUnverified  = aadsts(70021, OAuthInvalidClient, 401, "The federated assertion could not be verified.")
	errFederatedIssuer      = aadsts(700211, OAuthInvalidClient, 401, "No matching federated identity record found for presented assertion issuer '%s'.")
	errFederatedAudience    = aadsts(700212, OAuthInvalidClient, 401, "No matching federated identity record found for presented assertion audience.")
	errFederatedSubject     = aadsts(700213, OAuthInvalidClient, 401, "No matching federated identity record found for presented assertion subject '%s'.")
	errFederatedOwnToken    = aadsts(700229, OAuthInvalidClient, 401, "Tokens issued by this service cannot be used as federated credential assertions.")

	// Users and sign-in.
	errBadPassword             = aadsts(50126, OAuthInvalidGrant, 400, "Error validating credentials due to invalid username or password.")
	errAccountLocked           = aadsts(50053, OAuthInvalidGrant, 400, "Your account is locked because you've tried to sign in too many times with an incorrect user ID or password.")
	errUserNotFound            = aadsts(50034, OAuthInvalidGrant, 400, "The user account does not exist.")
	errUserNotFoundAtAuthorize = aadsts(50034, OAuthInvalidRequest, 400, "The user account does not exist.").
					as("at /authorize the refusal is about the request, not a grant")
	errUserNotInDirectory   = aadsts(50034, OAuthInvalidGrant, 400, "The user account does not exist in the '%s' directory.")
	errHomeUserNotFound     = aadsts(50034, OAuthInvalidGrant, 400, "The user account does not exist in its home directory.")
	errUserDisabled         = aadsts(50057, OAuthInvalidGrant, 400, "The user account is disabled.")
	errHomeUserDisabled     = aadsts(50057, OAuthInvalidGrant, 400, "The user account is disabled in its home directory.")
	errPersonalAtOrgs       = aadsts(50020, OAuthInvalidGrant, 400, "Personal accounts cannot use the /organizations endpoint.")
	errPersonalAtOrgsSignIn = aadsts(50020, OAuthInvalidRequest, 400, "Personal Microsoft accounts cannot sign in at /organizations.").
				as("at /authorize the refusal is about the request, not a grant")
	errUserNotInTenant      = aadsts(50020, OAuthInvalidGrant, 400, "User account '%s' from identity provider does not exist in tenant '%s' and cannot access the application.")
	errUserNotInTenantNamed = aadsts(50020, OAuthInvalidGrant, 400, "User account from identity provider does not exist in tenant '%s' and cannot access the application.")
	errUserNotInCodeTenant  = aadsts(50020, OAuthInvalidGrant, 400, "The user is not a member of the tenant the device code was issued for.")
	errUserNotAssigned      = aadsts(50105, OAuthInvalidGrant, 400, "The signed in user '%s' is not assigned to a role for the application '%s'(%s).")

	// Consent.
	errConsentMissing = aadsts(65001, OAuthInvalidGrant, 400, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource. Missing: %s.").
				suberror(OAuthConsentRequired)
	errConsentInteraction = aadsts(65001, OAuthInteractionRequired, 400, "The user or administrator has not consented to use the application with ID '%s'. Missing: %s.").
				suberror(OAuthConsentRequired).as("with prompt=none the client must show the user a consent prompt (OpenID Connect Core §3.1.2.6)")
	errConsentNotRecorded = aadsts(65001, OAuthConsentRequired, 400, "Consent could not be recorded for application '%s' (%s): %v").
				as("at /authorize a consent the user cannot give is consent_required, as Entra redirects it")
	errConsentNotPermitted = aadsts(90094, OAuthConsentRequired, 400, "Consent could not be recorded for application '%s' (%s): %v")

	// Authorization codes and PKCE.
	errNoReplyAddress           = aadsts(500113, OAuthInvalidRequest, 400, "No reply address is registered for the application '%s'.")
	errRedirectMismatch         = aadsts(50011, OAuthInvalidRequest, 400, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.")
	errResponseType             = aadsts(700054, OAuthUnsupportedResponseType, 400, "response_type '%s' is not enabled for the application; use 'code'.")
	errPKCERequired             = aadsts(9002325, OAuthInvalidRequest, 400, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.")
	errPKCES256                 = aadsts(9002325, OAuthInvalidRequest, 400, "Public and single-page clients must use code_challenge_method S256.")
	errChallengeMalformed       = aadsts(9002313, OAuthInvalidRequest, 400, "Invalid request: code_challenge is malformed.")
	errParameterTooLong         = aadsts(9002313, OAuthInvalidRequest, 400, "Invalid request: the parameter '%s' is longer than %d characters.")
	errCodeInvalid              = aadsts(70000, OAuthInvalidGrant, 400, "The provided authorization code is invalid.")
	errCodeOtherClient          = aadsts(70000, OAuthInvalidGrant, 400, "The authorization code was issued to a different client.")
	errCodeRedirectMismatch     = aadsts(70000, OAuthInvalidGrant, 400, "The redirect_uri does not match the one of the authorization request.")
	errCodeExpired              = aadsts(70008, OAuthInvalidGrant, 400, "The provided authorization code or refresh token has expired due to inactivity.")
	errCodeRedeemed             = aadsts(54005, OAuthInvalidGrant, 400, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	errPKCEMismatch             = aadsts(50148, OAuthInvalidGrant, 400, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")
	errVerifierWithoutChallenge = aadsts(50148, OAuthInvalidGrant, 400, "The code_verifier was supplied but the authorization request had no code_challenge for PKCE.")

	// Refresh tokens.
	errRefreshMalformed = aadsts(9002313, OAuthInvalidGrant, 400, "Invalid request. Request is malformed or invalid: the refresh token is malformed.").
				as("Entra answers a refresh token it cannot read as an invalid grant")
	errRefreshOtherClient = aadsts(70000, OAuthInvalidGrant, 400, "The refresh token was issued to a different client.")
	errRefreshSPAExpired  = aadsts(700084, OAuthInvalidGrant, 400, "The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime, which has expired.")
	errRefreshInactive    = aadsts(700082, OAuthInvalidGrant, 400, "The refresh token has expired due to inactivity.")
	errRefreshCodeReplay  = aadsts(70008, OAuthInvalidGrant, 400, "The refresh token has been revoked: the authorization code it was issued from was redeemed more than once.")
	errRefreshReused      = aadsts(70008, OAuthInvalidGrant, 400, "The refresh token has been revoked: it was already used, and a refresh token may be used only once.")
	errGrantOtherTenant   = aadsts(700005, OAuthInvalidGrant, 400, "Provided grant is invalid: it was issued for another tenant.")
	errGrantRevoked       = aadsts(50173, OAuthInvalidGrant, 400, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%s'.").
				suberror("bad_token")
	errHomeGrantRevoked = aadsts(50173, OAuthInvalidGrant, 400, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user's sessions were revoked in the home directory on '%s'.").
				suberror("bad_token")
	errAssertionRevoked = aadsts(50173, OAuthInvalidGrant, 400, "The provided grant has expired due to it being revoked.").
				suberror("bad_token")

	// On-behalf-of assertions.
	errOBOTimeRange = aadsts(500133, OAuthInvalidGrant, 400, "Assertion is not within its valid time range.")
	errOBOInvalid   = aadsts(50013, OAuthInvalidGrant, 400, "Assertion failed signature validation or is invalid.")

	// Device code flow (RFC 8628 §3.5).
	errUserCodeInvalid       = aadsts(70018, OAuthBadVerificationCode, 400, "The user code is invalid.")
	errDeviceCodeInvalid     = aadsts(70018, OAuthBadVerificationCode, 400, "The device code is invalid.")
	errDeviceCodeOtherClient = aadsts(70018, OAuthBadVerificationCode, 400, "The device code was issued to a different client.")
	errUserCodeExpired       = aadsts(70019, OAuthExpiredToken, 400, "The device code has expired.")
	errDeviceCodeExpired     = aadsts(70019, OAuthExpiredToken, 400, "Verification code expired.")
	errDeviceCodeUsed        = aadsts(54005, OAuthInvalidGrant, 400, "The device code was already used.")
	errDeviceCodeRedeemed    = aadsts(54005, OAuthInvalidGrant, 400, "The device code was already redeemed.")
	errAuthorizationPending  = aadsts(70016, OAuthAuthorizationPending, 400, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	errAuthorizationDeclined = aadsts(70020, OAuthAuthorizationDeclined, 400, "The user declined the authorization request.")

	// The service itself.
	errInternal = aadsts(90000, OAuthServerError, 500, "internal error")
)

// Refusals of an HTTP front end (see Refuse).
var (
	errPostOnly          = aadsts(900561, OAuthInvalidRequest, 400, "The endpoint only accepts POST requests. Received a %s request.")
	errRequestMalformed  = aadsts(9002313, OAuthInvalidRequest, 400, "Invalid request. Request is malformed or invalid: %s.")
	errDuplicateParam    = aadsts(9002313, OAuthInvalidRequest, 400, "Invalid request. Request is malformed or invalid: the parameter '%s' is included more than once.")
	errResourceParameter = aadsts(901002, OAuthInvalidRequest, 400, "The 'resource' request parameter is not supported.")
	errCrossOrigin       = aadsts(9002326, OAuthInvalidRequest, 400, "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type.")
	errUnknownInstance   = aadsts(50049, OAuthInvalidInstance, 400, "Unknown or invalid instance: '%s'.")
	errLoginRequired     = aadsts(50058, OAuthLoginRequired, 400, "A silent sign-in request was sent but no user is signed in.")
	errConsentDeclined   = aadsts(65004, OAuthAccessDenied, 400, "User declined to consent to access the app.")
	errResponseMode      = aadsts(9002313, OAuthInvalidRequest, 400, "Invalid request. Request is malformed or invalid: response_mode '%s' is not supported; use query, fragment or form_post.")
	errBadUserCode       = aadsts(70018, OAuthBadVerificationCode, 400, "Invalid verification code: the code was not found or is no longer valid.")
)

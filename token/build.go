package token

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Access describes one access token for [BuildAccess]. The caller has
// resolved the application model (audience, version, consented scopes, role
// assignments); BuildAccess only shapes the claims.
type Access struct {
	// Version is the token version: [Version1] or [Version2]; any other
	// value, 0 included, builds v2. Resolve the resource's
	// requestedAccessTokenVersion (null ≡ 1) before calling.
	Version Version
	// Authority derives iss.
	Authority Authority
	// TenantID is tid and the issuer's tenant.
	TenantID string
	// Audience is aud: the resource appId (v2), or the App ID URI as
	// requested or the appId (v1).
	Audience string
	// ClientAppID is the client's appId: appid (v1) or azp (v2).
	ClientAppID string
	// ClientAuth is the client authentication method: appidacr / azpacr.
	ClientAuth ClientAuth
	// AppOnly marks a client-credentials token: oid = sub = ClientObjectID,
	// roles of the client, no scp and no user claims.
	AppOnly bool
	// ClientObjectID is the client's service principal object id in the
	// tenant (app-only tokens).
	ClientObjectID string
	// UserObjectID is the user's object id: oid (delegated tokens).
	UserObjectID string
	// Subject is sub for delegated tokens (see [PairwiseSubject]).
	Subject string
	// Name is the user's display name (delegated).
	Name string
	// Username is the user's sign-in name: upn and unique_name (v1) or
	// preferred_username (v2) (delegated).
	Username string
	// Scopes are the granted delegated scope values: scp (delegated only).
	Scopes []string
	// Roles are the app-role values: of the user (delegated) or of the
	// client service principal (app-only).
	Roles []string
	// Groups are the subject's group ids; more than [GroupOverageLimit] yield
	// the overage indication instead.
	Groups []string
	// WIDs are the directory role template ids (wids).
	WIDs []string
	// IncludeAppIDType adds idtyp "app" to app-only tokens. As in Entra,
	// idtyp is an optional claim: set it when the resource lists "idtyp" in
	// its access-token optional claims; without it an app-only token has no
	// idtyp (a resource server tells it apart by oid = sub and no scp, see
	// [Principal.IsApp]).
	IncludeAppIDType bool
	// IncludeUserIDType adds idtyp "user" to delegated tokens (optional claim
	// idtyp with the include_user_token additional property).
	IncludeUserIDType bool
	// IdentityProvider is idp, set when the subject comes from another
	// issuer (guests). v1 app-only tokens default to the issuer (observed in
	// Entra's tokens).
	IdentityProvider string
	// IPAddress is ipaddr (delegated).
	IPAddress string
	// AuthMethods is amr (v1 delegated only), e.g. ["pwd"], ["pwd","mfa"].
	AuthMethods []string
	// ACR is acr (v1 delegated only); "" means "1".
	ACR string
	// ClientCapabilities is xms_cc, e.g. ["cp1"] for CAE-capable clients.
	ClientCapabilities []string
	// AIO and RH are the opaque aio and rh values, see [NewOpaqueClaims].
	AIO, RH string
	// TokenID is uti: unique per token, see [NewTokenID].
	TokenID string
	// IssuedAt is iat and nbf.
	IssuedAt time.Time
	// Lifetime sets exp = IssuedAt + Lifetime; 0 means
	// [DefaultAccessTokenLifetime].
	Lifetime time.Duration
	// Extra is copied into AccessClaims.Extra (shared, not cloned).
	Extra map[string]any
}

// BuildAccess applies Entra's access-token rules to a and returns the claim
// set. Slices and maps of a are shared with the result, not copied.
func BuildAccess(a Access) AccessClaims {
	v1 := a.Version == Version1
	lifetime := a.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultAccessTokenLifetime
	}
	iat := a.IssuedAt.Unix()
	c := AccessClaims{
		Audience:           audienceOf(a.Audience),
		Issuer:             a.Authority.Issuer(a.Version, a.TenantID),
		IssuedAt:           iat,
		NotBefore:          iat,
		ExpiresAt:          a.IssuedAt.Add(lifetime).Unix(),
		AIO:                a.AIO,
		RH:                 a.RH,
		IdentityProvider:   a.IdentityProvider,
		Roles:              a.Roles,
		TenantID:           a.TenantID,
		TokenID:            a.TokenID,
		WIDs:               a.WIDs,
		ClientCapabilities: a.ClientCapabilities,
		Extra:              a.Extra,
	}
	if v1 {
		c.Version = "1.0"
		c.AppID = a.ClientAppID
		c.AppIDACR = a.ClientAuth.String()
	} else {
		c.Version = "2.0"
		c.AuthorizedParty = a.ClientAppID
		c.AuthorizedPartyACR = a.ClientAuth.String()
	}
	subjectPath := "users/"
	if a.AppOnly {
		subjectPath = "servicePrincipals/"
		c.ObjectID = a.ClientObjectID
		c.Subject = a.ClientObjectID
		if a.IncludeAppIDType {
			c.IDType = "app"
		}
		if v1 && c.IdentityProvider == "" {
			c.IdentityProvider = c.Issuer
		}
	} else {
		c.ObjectID = a.UserObjectID
		c.Subject = a.Subject
		c.Scope = strings.Join(a.Scopes, " ")
		c.Name = a.Name
		c.IPAddress = a.IPAddress
		if a.IncludeUserIDType {
			c.IDType = "user"
		}
		if v1 {
			c.UniqueName = a.Username
			c.UPN = a.Username
			c.AMR = a.AuthMethods
			c.ACR = cmp.Or(a.ACR, "1")
		} else {
			c.PreferredUsername = a.Username
		}
	}
	c.Groups, c.ClaimNames, c.ClaimSources = groupClaims(a.Groups, subjectPath+c.ObjectID)
	return c
}

// groupClaims applies the group overage rule.
func groupClaims(groups []string, subject string) ([]string, map[string]string, map[string]ClaimSource) {
	if len(groups) <= GroupOverageLimit {
		return groups, nil, nil
	}
	return nil, map[string]string{"groups": "src1"},
		map[string]ClaimSource{"src1": {Endpoint: GraphBase + "/" + subject + "/getMemberObjects"}}
}

// IDToken describes one ID token for [BuildIDToken].
type IDToken struct {
	// Version is the endpoint version: [Version1] (ver "1.0", v1 issuer,
	// unique_name) or [Version2] (ver "2.0", v2 issuer, preferred_username);
	// other values build v2.
	Version Version
	// Authority derives iss.
	Authority Authority
	// TenantID is tid and the issuer's tenant.
	TenantID string
	// ClientAppID is aud: the client's appId.
	ClientAppID string
	// Nonce echoes the authorize request's nonce.
	Nonce string
	// Subject is sub (see [PairwiseSubject]).
	Subject string
	// UserObjectID is oid.
	UserObjectID string
	// Name is the display name.
	Name string
	// Username is preferred_username (v2) or unique_name (v1).
	Username string
	// Email is email.
	Email string
	// Roles are the user's app roles on the client.
	Roles []string
	// Groups are the user's group ids (overage above [GroupOverageLimit]).
	Groups []string
	// IdentityProvider is idp (guests).
	IdentityProvider string
	// SessionID is sid.
	SessionID string
	// LoginHint is login_hint (optional claim).
	LoginHint string
	// AIO and RH are the opaque aio and rh values, see [NewOpaqueClaims].
	AIO, RH string
	// TokenID is uti, see [NewTokenID].
	TokenID string
	// AccessTokenHash and CodeHash are at_hash and c_hash, set only when the
	// ID token comes from /authorize with a token or code (see [ClaimHash]).
	AccessTokenHash, CodeHash string
	// IssuedAt is iat and nbf.
	IssuedAt time.Time
	// Lifetime sets exp = IssuedAt + Lifetime; 0 means
	// [DefaultIDTokenLifetime].
	Lifetime time.Duration
	// Extra is copied into IDClaims.Extra (shared, not cloned).
	Extra map[string]any
}

// BuildIDToken applies Entra's ID-token rules to i and returns the claim
// set. Slices and maps of i are shared with the result, not copied.
func BuildIDToken(i IDToken) IDClaims {
	lifetime := i.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultIDTokenLifetime
	}
	iat := i.IssuedAt.Unix()
	c := IDClaims{
		Audience:         audienceOf(i.ClientAppID),
		Issuer:           i.Authority.Issuer(i.Version, i.TenantID),
		IssuedAt:         iat,
		NotBefore:        iat,
		ExpiresAt:        i.IssuedAt.Add(lifetime).Unix(),
		AIO:              i.AIO,
		AccessTokenHash:  i.AccessTokenHash,
		CodeHash:         i.CodeHash,
		Email:            i.Email,
		IdentityProvider: i.IdentityProvider,
		LoginHint:        i.LoginHint,
		Name:             i.Name,
		Nonce:            i.Nonce,
		ObjectID:         i.UserObjectID,
		RH:               i.RH,
		Roles:            i.Roles,
		SessionID:        i.SessionID,
		Subject:          i.Subject,
		TenantID:         i.TenantID,
		TokenID:          i.TokenID,
		Version:          "2.0",
		Extra:            i.Extra,
	}
	if i.Version == Version1 {
		c.Version = "1.0"
		c.UniqueName = i.Username
	} else {
		c.PreferredUsername = i.Username
	}
	c.Groups, c.ClaimNames, c.ClaimSources = groupClaims(i.Groups, "users/"+c.ObjectID)
	return c
}

// PairwiseSubject returns Entra-style pairwise sub for a user (or service
// principal) objectID as seen by application appID in tenant tenantID:
// base64url, unpadded, of HMAC-SHA256(key, tenantID|appID|objectID) with the
// three ids lower-cased (GUIDs compare case-insensitively). Like Entra's, the
// value is stable for a user × application, differs between applications, so
// applications cannot correlate users through sub, and is 43 characters long.
// key is a deployment secret of at least 32 random bytes; changing it changes
// every sub.
func PairwiseSubject(key []byte, tenantID, appID, objectID string) string {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, strings.ToLower(tenantID))
	io.WriteString(m, "|")
	io.WriteString(m, strings.ToLower(appID))
	io.WriteString(m, "|")
	io.WriteString(m, strings.ToLower(objectID))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0]))
}

// NewTokenID returns a fresh uti: 16 random bytes as 22 base64url characters.
// random nil means crypto/rand.Reader; if random fails, crypto/rand is used
// instead, so the id is never predictable or repeated.
func NewTokenID(random io.Reader) string {
	var b [16]byte
	if random != nil {
		if _, err := io.ReadFull(random, b[:]); err == nil {
			return base64.RawURLEncoding.EncodeToString(b[:])
		}
	}
	rand.Read(b[:]) // never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewOpaqueClaims returns fresh values for the aio and rh claims, which
// Entra puts in every access and ID token for its own use and which
// resource servers must ignore. They are shaped like Entra's: aio is 48
// base64url characters, rh is "0." followed by 36 base64url characters and
// a final ".". Their content is random and means nothing. random nil means
// crypto/rand.Reader; if random fails, crypto/rand is used instead.
func NewOpaqueClaims(random io.Reader) (aio, rh string) {
	var b [63]byte // 36 bytes of aio, 27 of rh
	if random == nil {
		random = rand.Reader
	}
	if _, err := io.ReadFull(random, b[:]); err != nil {
		rand.Read(b[:]) // never fails (it crashes the program instead)
	}
	var out [48 + 2 + 36 + 1]byte
	base64.RawURLEncoding.Encode(out[:48], b[:36])
	out[48], out[49] = '0', '.'
	base64.RawURLEncoding.Encode(out[50:86], b[36:])
	out[86] = '.'
	s := string(out[:])
	return s[:48], s[48:]
}

// ClaimHash returns the OpenID Connect at_hash / c_hash of value (an access
// token or a code) for an ID token signed with alg: the base64url left half
// of the value's hash, with SHA-256 for RS256 and ES256 and SHA-512 for
// EdDSA (Ed25519).
func ClaimHash(alg jose.SignatureAlgorithm, value string) (string, error) {
	var h hash.Hash
	switch alg {
	case jose.RS256, jose.ES256, jose.PS256:
		h = sha256.New()
	case jose.EdDSA:
		h = sha512.New()
	default:
		return "", fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
	}
	io.WriteString(h, value)
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}

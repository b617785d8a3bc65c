package token

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// Token defaults, as Entra's.
const (
	// DefaultAccessTokenLifetime is the access-token lifetime used when
	// [Access.Lifetime] is zero. Entra randomises 60–90 minutes; documentation
	// examples show expires_in 3599.
	DefaultAccessTokenLifetime = time.Hour
	// DefaultIDTokenLifetime is the ID-token lifetime used when [ID.Lifetime]
	// is zero (1 hour, as Entra's).
	DefaultIDTokenLifetime = time.Hour
	// GroupOverageLimit is the largest number of groups a JWT carries; with
	// more, Entra emits the _claim_names/_claim_sources overage indication
	// instead of "groups".
	GroupOverageLimit = 200
	// DefaultV2Base is the host of v2 issuers.
	DefaultV2Base = "https://login.microsoftonline.com"
	// DefaultV1Base is the host of v1 issuers.
	DefaultV1Base = "https://sts.windows.net"
	// GraphBase is the Microsoft Graph root used in group-overage endpoints.
	GraphBase = "https://graph.microsoft.com/v1.0"
)

// ClaimSource is one entry of the _claim_sources claim: where to fetch a
// claim left out of the token (group overage).
type ClaimSource struct {
	// Endpoint is the Graph URL listing the subject's groups
	// (…/getMemberObjects).
	Endpoint string `json:"endpoint"`
}

// Audience is the aud claim. Entra issues exactly one audience and encodes it
// as a JSON string; Audience encodes one value as a string and several as an
// array, and decodes either form (as go-oidc does).
type Audience []string

// Contains reports whether aud is one of the values.
func (a Audience) Contains(aud string) bool {
	return slices.Contains(a, aud)
}

// MarshalJSON encodes a single audience as a string, otherwise an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	return appendAudience(nil, a), nil
}

// UnmarshalJSON accepts a string, an array of strings or null.
func (a *Audience) UnmarshalJSON(data []byte) error {
	d := claimDecoder{data: data, key: []byte("aud")}
	v := d.audience()
	if err := d.finish(); err != nil {
		return err
	}
	*a = v
	return nil
}

func audienceOf(s string) Audience {
	if s == "" {
		return nil
	}
	return Audience{s}
}

func appendAudience(dst []byte, a Audience) []byte {
	if len(a) == 1 {
		return appendJSONString(dst, a[0])
	}
	dst = append(dst, '[')
	for i, s := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// AccessClaims is the claim set of an Entra access token, v1 or v2 (see
// https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference).
// Every member is omitted from JSON when zero, so the version-specific claims
// appear only when set; [BuildAccess] sets the right ones per version.
//
// Its JSON encoding merges Extra (optional and custom claims) into the object
// after the standard claims, in key order; an Extra key naming a standard
// claim is an error ([ErrInvalidClaims]) rather than a silent override.
// Decoding accepts "aud" as a string or an array (see [Audience]), matches
// claim names case-sensitively, puts unknown claims into Extra (numbers as
// float64, as encoding/json does) and rejects duplicate claims, so that no
// two parsers can read one token differently. It is about four times faster
// than encoding/json's reflection; call UnmarshalJSON directly to also skip
// encoding/json's preliminary validation pass (the decoder is strict on its
// own).
type AccessClaims struct {
	Audience           Audience               `json:"aud,omitempty"`                // resource: appId (v2) or App ID URI / appId (v1)
	Issuer             string                 `json:"iss,omitempty"`                // see [Authority.Issuer]
	IssuedAt           int64                  `json:"iat,omitempty"`                // Unix seconds
	NotBefore          int64                  `json:"nbf,omitempty"`                // Unix seconds
	ExpiresAt          int64                  `json:"exp,omitempty"`                // Unix seconds
	ACR                string                 `json:"acr,omitempty"`                // v1: "0" or "1"
	AIO                string                 `json:"aio,omitempty"`                // opaque, internal
	AMR                []string               `json:"amr,omitempty"`                // v1: authentication methods
	AppID              string                 `json:"appid,omitempty"`              // v1: client appId
	AppIDACR           string                 `json:"appidacr,omitempty"`           // v1: client authentication, see [ClientAuth]
	AuthorizedParty    string                 `json:"azp,omitempty"`                // v2: client appId
	AuthorizedPartyACR string                 `json:"azpacr,omitempty"`             // v2: client authentication, see [ClientAuth]
	Groups             []string               `json:"groups,omitempty"`             // group object ids
	HasGroups          bool                   `json:"hasgroups,omitempty"`          // implicit-flow overage
	ClaimNames         map[string]string      `json:"_claim_names,omitempty"`       // overage: {"groups":"src1"}
	ClaimSources       map[string]ClaimSource `json:"_claim_sources,omitempty"`     // overage: {"src1":{"endpoint":…}}
	IdentityProvider   string                 `json:"idp,omitempty"`                // issuer of the subject when not the tenant
	IDType             string                 `json:"idtyp,omitempty"`              // "app" or "user" (optional claim, see [Access.IncludeAppIDType])
	IPAddress          string                 `json:"ipaddr,omitempty"`             // v1 default, v2 optional
	Name               string                 `json:"name,omitempty"`               // display name
	ObjectID           string                 `json:"oid,omitempty"`                // user or service principal object id
	PreferredUsername  string                 `json:"preferred_username,omitempty"` // v2
	RH                 string                 `json:"rh,omitempty"`                 // opaque, internal
	Roles              []string               `json:"roles,omitempty"`              // app roles
	Scope              string                 `json:"scp,omitempty"`                // space-separated delegated scopes
	Subject            string                 `json:"sub,omitempty"`                // pairwise per user × application
	TenantID           string                 `json:"tid,omitempty"`                // tenant id
	UniqueName         string                 `json:"unique_name,omitempty"`        // v1
	UPN                string                 `json:"upn,omitempty"`                // v1 default, v2 optional
	TokenID            string                 `json:"uti,omitempty"`                // unique token id
	Version            string                 `json:"ver,omitempty"`                // "1.0" or "2.0"
	WIDs               []string               `json:"wids,omitempty"`               // directory role template ids
	ClientCapabilities []string               `json:"xms_cc,omitempty"`             // e.g. ["cp1"] (CAE)
	// Extra holds optional and custom claims, merged into the JSON object.
	Extra map[string]any `json:"-"`
}

// IDClaims is the claim set of an Entra ID token (see
// https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference).
// JSON encoding and decoding follow the rules of [AccessClaims].
type IDClaims struct {
	Audience          Audience               `json:"aud,omitempty"`     // the client's appId
	Issuer            string                 `json:"iss,omitempty"`     // see [Authority.Issuer]
	IssuedAt          int64                  `json:"iat,omitempty"`     // Unix seconds
	NotBefore         int64                  `json:"nbf,omitempty"`     // Unix seconds
	ExpiresAt         int64                  `json:"exp,omitempty"`     // Unix seconds
	AIO               string                 `json:"aio,omitempty"`     // opaque, internal
	AccessTokenHash   string                 `json:"at_hash,omitempty"` // see [TokenHash]; only from /authorize
	CodeHash          string                 `json:"c_hash,omitempty"`  // see [TokenHash]; only from /authorize
	Email             string                 `json:"email,omitempty"`
	Groups            []string               `json:"groups,omitempty"`             // group object ids
	HasGroups         bool                   `json:"hasgroups,omitempty"`          // implicit-flow overage
	ClaimNames        map[string]string      `json:"_claim_names,omitempty"`       // overage
	ClaimSources      map[string]ClaimSource `json:"_claim_sources,omitempty"`     // overage
	IdentityProvider  string                 `json:"idp,omitempty"`                // issuer of the subject when not the tenant
	LoginHint         string                 `json:"login_hint,omitempty"`         // opaque (optional claim)
	Name              string                 `json:"name,omitempty"`               // display name
	Nonce             string                 `json:"nonce,omitempty"`              // echo of the authorize request's nonce
	ObjectID          string                 `json:"oid,omitempty"`                // user object id
	PreferredUsername string                 `json:"preferred_username,omitempty"` // v2
	RH                string                 `json:"rh,omitempty"`                 // opaque, internal
	Roles             []string               `json:"roles,omitempty"`              // app roles of the user on the client
	SessionID         string                 `json:"sid,omitempty"`                // session id
	Subject           string                 `json:"sub,omitempty"`                // pairwise per user × application
	TenantID          string                 `json:"tid,omitempty"`                // tenant id
	UniqueName        string                 `json:"unique_name,omitempty"`        // v1
	TokenID           string                 `json:"uti,omitempty"`                // unique token id
	Version           string                 `json:"ver,omitempty"`                // "1.0" or "2.0"
	// Extra holds optional and custom claims, merged into the JSON object.
	Extra map[string]any `json:"-"`
}

// Authority derives issuers. The zero value uses Entra's public cloud hosts;
// a test server sets its own base URLs.
type Authority struct {
	// V2Base is the v2 issuer root; "" means [DefaultV2Base].
	V2Base string
	// V1Base is the v1 issuer root; "" means [DefaultV1Base].
	V1Base string
}

// Issuer returns the issuer of tokens of the given version for a tenant:
// "{V1Base}/{tid}/" for version 1, "{V2Base}/{tid}/v2.0" otherwise. A trailing
// slash on the base is ignored.
func (a Authority) Issuer(version int, tenantID string) string {
	if version == 1 {
		return strings.TrimSuffix(cmp.Or(a.V1Base, DefaultV1Base), "/") + "/" + tenantID + "/"
	}
	return strings.TrimSuffix(cmp.Or(a.V2Base, DefaultV2Base), "/") + "/" + tenantID + "/v2.0"
}

// ClientAuth is how the client authenticated at the token endpoint; it is
// reported in appidacr (v1) and azpacr (v2).
type ClientAuth int

const (
	// ClientAuthPublic is a public client (no credential): "0".
	ClientAuthPublic ClientAuth = 0
	// ClientAuthSecret is a client secret: "1".
	ClientAuthSecret ClientAuth = 1
	// ClientAuthCertificate is a certificate or client assertion (including
	// federated credentials): "2".
	ClientAuthCertificate ClientAuth = 2
)

// String returns the claim value: "0", "1" or "2".
func (c ClientAuth) String() string {
	switch c {
	case ClientAuthSecret:
		return "1"
	case ClientAuthCertificate:
		return "2"
	default:
		return "0"
	}
}

// Access describes one access token for [BuildAccess]. The caller has
// resolved the application model (audience, version, consented scopes, role
// assignments); BuildAccess only shapes the claims.
type Access struct {
	// Version is the token version: 1 (ver "1.0") or 2 (ver "2.0"); any other
	// value, 0 included, builds v2. Resolve the resource's
	// requestedAccessTokenVersion (null ≡ 1) before calling.
	Version int
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
	v1 := a.Version == 1
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

// ID describes one ID token for [BuildID].
type ID struct {
	// Version is the endpoint version: 1 (ver "1.0", v1 issuer, unique_name)
	// or 2 (ver "2.0", v2 issuer, preferred_username); other values build v2.
	Version int
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
	// ID token comes from /authorize with a token or code (see [TokenHash]).
	AccessTokenHash, CodeHash string
	// IssuedAt is iat and nbf.
	IssuedAt time.Time
	// Lifetime sets exp = IssuedAt + Lifetime; 0 means
	// [DefaultIDTokenLifetime].
	Lifetime time.Duration
	// Extra is copied into IDClaims.Extra (shared, not cloned).
	Extra map[string]any
}

// BuildID applies Entra's ID-token rules to i and returns the claim set.
// Slices and maps of i are shared with the result, not copied.
func BuildID(i ID) IDClaims {
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
	if i.Version == 1 {
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

// TokenHash returns the OpenID Connect at_hash / c_hash of value for an ID
// token signed with alg: the base64url left half of the value's hash, with
// SHA-256 for RS256 and ES256 and SHA-512 for EdDSA (Ed25519).
func TokenHash(alg jose.SignatureAlgorithm, value string) (string, error) {
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

// ---------------------------------------------------------------------------
// JSON encoding.

var accessStandard = standardClaims(AccessClaims{})

// IsStandardAccessClaim reports whether name is a claim AccessClaims carries
// in a field of its own (aud, iss, scp, roles, upn, ...). Such names cannot
// be used in AccessClaims.Extra.
func IsStandardAccessClaim(name string) bool { return foldsTo(name, accessStandard) }

// foldsTo reports whether name equals a standard claim under Unicode simple
// case folding, as encoding/json matches struct fields.
func foldsTo(name string, standard map[string]bool) bool {
	for std := range standard {
		if strings.EqualFold(name, std) {
			return true
		}
	}
	return false
}

var idStandard = standardClaims(IDClaims{})

// standardClaims lists the JSON names of a claims struct's members.
func standardClaims(v any) map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	return m
}

// MarshalJSON encodes the claims as a JSON object, see [AccessClaims].
func (c AccessClaims) MarshalJSON() ([]byte, error) {
	return c.appendJSON(make([]byte, 0, 1024))
}

func (c *AccessClaims) appendJSON(dst []byte) ([]byte, error) {
	if c == nil {
		return dst, fmt.Errorf("%w: nil claims", ErrInvalidClaims)
	}
	w := objWriter{b: append(dst, '{'), first: true}
	w.audience(c.Audience)
	w.str("iss", c.Issuer)
	w.num("iat", c.IssuedAt)
	w.num("nbf", c.NotBefore)
	w.num("exp", c.ExpiresAt)
	w.str("acr", c.ACR)
	w.str("aio", c.AIO)
	w.strs("amr", c.AMR)
	w.str("appid", c.AppID)
	w.str("appidacr", c.AppIDACR)
	w.str("azp", c.AuthorizedParty)
	w.str("azpacr", c.AuthorizedPartyACR)
	w.strs("groups", c.Groups)
	w.boolean("hasgroups", c.HasGroups)
	w.claimNames(c.ClaimNames)
	w.claimSources(c.ClaimSources)
	w.str("idp", c.IdentityProvider)
	w.str("idtyp", c.IDType)
	w.str("ipaddr", c.IPAddress)
	w.str("name", c.Name)
	w.str("oid", c.ObjectID)
	w.str("preferred_username", c.PreferredUsername)
	w.str("rh", c.RH)
	w.strs("roles", c.Roles)
	w.str("scp", c.Scope)
	w.str("sub", c.Subject)
	w.str("tid", c.TenantID)
	w.str("unique_name", c.UniqueName)
	w.str("upn", c.UPN)
	w.str("uti", c.TokenID)
	w.str("ver", c.Version)
	w.strs("wids", c.WIDs)
	w.strs("xms_cc", c.ClientCapabilities)
	if err := w.extra(c.Extra, accessStandard); err != nil {
		return dst, err
	}
	return append(w.b, '}'), nil
}

// MarshalJSON encodes the claims as a JSON object, see [IDClaims].
func (c IDClaims) MarshalJSON() ([]byte, error) {
	return c.appendJSON(make([]byte, 0, 1024))
}

func (c *IDClaims) appendJSON(dst []byte) ([]byte, error) {
	if c == nil {
		return dst, fmt.Errorf("%w: nil claims", ErrInvalidClaims)
	}
	w := objWriter{b: append(dst, '{'), first: true}
	w.audience(c.Audience)
	w.str("iss", c.Issuer)
	w.num("iat", c.IssuedAt)
	w.num("nbf", c.NotBefore)
	w.num("exp", c.ExpiresAt)
	w.str("aio", c.AIO)
	w.str("at_hash", c.AccessTokenHash)
	w.str("c_hash", c.CodeHash)
	w.str("email", c.Email)
	w.strs("groups", c.Groups)
	w.boolean("hasgroups", c.HasGroups)
	w.claimNames(c.ClaimNames)
	w.claimSources(c.ClaimSources)
	w.str("idp", c.IdentityProvider)
	w.str("login_hint", c.LoginHint)
	w.str("name", c.Name)
	w.str("nonce", c.Nonce)
	w.str("oid", c.ObjectID)
	w.str("preferred_username", c.PreferredUsername)
	w.str("rh", c.RH)
	w.strs("roles", c.Roles)
	w.str("sid", c.SessionID)
	w.str("sub", c.Subject)
	w.str("tid", c.TenantID)
	w.str("unique_name", c.UniqueName)
	w.str("uti", c.TokenID)
	w.str("ver", c.Version)
	if err := w.extra(c.Extra, idStandard); err != nil {
		return dst, err
	}
	return append(w.b, '}'), nil
}

// objWriter appends the members of a JSON object, skipping zero values.
type objWriter struct {
	b     []byte
	first bool
}

// key writes a member name; names passed by this package need no escaping.
func (w *objWriter) key(k string) {
	if w.first {
		w.first = false
	} else {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *objWriter) audience(a Audience) {
	if len(a) > 0 {
		w.key("aud")
		w.b = appendAudience(w.b, a)
	}
}

func (w *objWriter) str(k, v string) {
	if v != "" {
		w.key(k)
		w.b = appendJSONString(w.b, v)
	}
}

func (w *objWriter) num(k string, v int64) {
	if v != 0 {
		w.key(k)
		w.b = strconv.AppendInt(w.b, v, 10)
	}
}

func (w *objWriter) boolean(k string, v bool) {
	if v {
		w.key(k)
		w.b = append(w.b, "true"...)
	}
}

func (w *objWriter) strs(k string, v []string) {
	if len(v) == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, s := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, s)
	}
	w.b = append(w.b, ']')
}

func (w *objWriter) claimNames(m map[string]string) {
	if len(m) == 0 {
		return
	}
	w.key("_claim_names")
	w.b = append(w.b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, k)
		w.b = append(w.b, ':')
		w.b = appendJSONString(w.b, m[k])
	}
	w.b = append(w.b, '}')
}

func (w *objWriter) claimSources(m map[string]ClaimSource) {
	if len(m) == 0 {
		return
	}
	w.key("_claim_sources")
	w.b = append(w.b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, k)
		w.b = append(w.b, `:{"endpoint":`...)
		w.b = appendJSONString(w.b, m[k].Endpoint)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
}

// extra merges m, in key order, refusing standard claim names.
func (w *objWriter) extra(m map[string]any, standard map[string]bool) error {
	if len(m) == 0 {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if foldsTo(k, standard) {
			return fmt.Errorf("%w: extra claim %q collides with a standard claim", ErrInvalidClaims, k)
		}
		v, err := json.Marshal(m[k])
		if err != nil {
			return fmt.Errorf("%w: extra claim %q: %w", ErrInvalidClaims, k, err)
		}
		if w.first {
			w.first = false
		} else {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, k)
		w.b = append(w.b, ':')
		w.b = append(w.b, v...)
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. It escapes '"', '\\', control
// characters, U+2028 and U+2029, and replaces invalid UTF-8 with U+FFFD, as
// encoding/json does (but leaves <, > and & alone).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// ---------------------------------------------------------------------------
// JSON decoding.

// UnmarshalJSON decodes a claim set, see [AccessClaims]. JSON null leaves c
// unchanged.
func (c *AccessClaims) UnmarshalJSON(data []byte) error {
	d := claimDecoder{data: data}
	if d.null() {
		return nil
	}
	var out AccessClaims
	for d.next() {
		switch string(d.key) {
		case "aud":
			d.once(0)
			out.Audience = d.audience()
		case "iss":
			d.once(1)
			out.Issuer = d.str()
		case "iat":
			d.once(2)
			out.IssuedAt = d.int()
		case "nbf":
			d.once(3)
			out.NotBefore = d.int()
		case "exp":
			d.once(4)
			out.ExpiresAt = d.int()
		case "acr":
			d.once(5)
			out.ACR = d.str()
		case "aio":
			d.once(6)
			out.AIO = d.str()
		case "amr":
			d.once(7)
			out.AMR = d.strs()
		case "appid":
			d.once(8)
			out.AppID = d.str()
		case "appidacr":
			d.once(9)
			out.AppIDACR = d.str()
		case "azp":
			d.once(10)
			out.AuthorizedParty = d.str()
		case "azpacr":
			d.once(11)
			out.AuthorizedPartyACR = d.str()
		case "groups":
			d.once(12)
			out.Groups = d.strs()
		case "hasgroups":
			d.once(13)
			out.HasGroups = d.boolean()
		case "_claim_names":
			d.once(14)
			d.generic(&out.ClaimNames)
		case "_claim_sources":
			d.once(15)
			d.generic(&out.ClaimSources)
		case "idp":
			d.once(16)
			out.IdentityProvider = d.str()
		case "idtyp":
			d.once(17)
			out.IDType = d.str()
		case "ipaddr":
			d.once(18)
			out.IPAddress = d.str()
		case "name":
			d.once(19)
			out.Name = d.str()
		case "oid":
			d.once(20)
			out.ObjectID = d.str()
		case "preferred_username":
			d.once(21)
			out.PreferredUsername = d.str()
		case "rh":
			d.once(22)
			out.RH = d.str()
		case "roles":
			d.once(23)
			out.Roles = d.strs()
		case "scp":
			d.once(24)
			out.Scope = d.str()
		case "sub":
			d.once(25)
			out.Subject = d.str()
		case "tid":
			d.once(26)
			out.TenantID = d.str()
		case "unique_name":
			d.once(27)
			out.UniqueName = d.str()
		case "upn":
			d.once(28)
			out.UPN = d.str()
		case "uti":
			d.once(29)
			out.TokenID = d.str()
		case "ver":
			d.once(30)
			out.Version = d.str()
		case "wids":
			d.once(31)
			out.WIDs = d.strs()
		case "xms_cc":
			d.once(32)
			out.ClientCapabilities = d.strs()
		default:
			if foldsTo(string(d.key), accessStandard) {
				d.fail("claim %.64q differs from a standard claim only by case", d.key)
			}
			d.extra(&out.Extra)
		}
	}
	if err := d.finish(); err != nil {
		return err
	}
	*c = out
	return nil
}

// UnmarshalJSON decodes a claim set, see [IDClaims]. JSON null leaves c
// unchanged.
func (c *IDClaims) UnmarshalJSON(data []byte) error {
	d := claimDecoder{data: data}
	if d.null() {
		return nil
	}
	var out IDClaims
	for d.next() {
		switch string(d.key) {
		case "aud":
			d.once(0)
			out.Audience = d.audience()
		case "iss":
			d.once(1)
			out.Issuer = d.str()
		case "iat":
			d.once(2)
			out.IssuedAt = d.int()
		case "nbf":
			d.once(3)
			out.NotBefore = d.int()
		case "exp":
			d.once(4)
			out.ExpiresAt = d.int()
		case "aio":
			d.once(5)
			out.AIO = d.str()
		case "at_hash":
			d.once(6)
			out.AccessTokenHash = d.str()
		case "c_hash":
			d.once(7)
			out.CodeHash = d.str()
		case "email":
			d.once(8)
			out.Email = d.str()
		case "groups":
			d.once(9)
			out.Groups = d.strs()
		case "hasgroups":
			d.once(10)
			out.HasGroups = d.boolean()
		case "_claim_names":
			d.once(11)
			d.generic(&out.ClaimNames)
		case "_claim_sources":
			d.once(12)
			d.generic(&out.ClaimSources)
		case "idp":
			d.once(13)
			out.IdentityProvider = d.str()
		case "login_hint":
			d.once(14)
			out.LoginHint = d.str()
		case "name":
			d.once(15)
			out.Name = d.str()
		case "nonce":
			d.once(16)
			out.Nonce = d.str()
		case "oid":
			d.once(17)
			out.ObjectID = d.str()
		case "preferred_username":
			d.once(18)
			out.PreferredUsername = d.str()
		case "rh":
			d.once(19)
			out.RH = d.str()
		case "roles":
			d.once(20)
			out.Roles = d.strs()
		case "sid":
			d.once(21)
			out.SessionID = d.str()
		case "sub":
			d.once(22)
			out.Subject = d.str()
		case "tid":
			d.once(23)
			out.TenantID = d.str()
		case "unique_name":
			d.once(24)
			out.UniqueName = d.str()
		case "uti":
			d.once(25)
			out.TokenID = d.str()
		case "ver":
			d.once(26)
			out.Version = d.str()
		default:
			if foldsTo(string(d.key), idStandard) {
				d.fail("claim %.64q differs from a standard claim only by case", d.key)
			}
			d.extra(&out.Extra)
		}
	}
	if err := d.finish(); err != nil {
		return err
	}
	*c = out
	return nil
}

// claimDecoder is a strict single-pass reader of a flat JSON object. Methods
// do nothing once an error is recorded; finish reports it.
type claimDecoder struct {
	data    []byte
	pos     int
	err     error
	key     []byte // current member name, unescaped
	seen    uint64
	started bool
}

func (d *claimDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidClaims}, args...)...)
	}
}

func (d *claimDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *claimDecoder) peek() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

// null reports whether the whole input is the literal null.
func (d *claimDecoder) null() bool {
	if d.peek() == 'n' && d.literal("null") {
		if d.atEnd() {
			return true
		}
		d.pos = 0
	}
	return false
}

// atEnd reports whether only whitespace remains.
func (d *claimDecoder) atEnd() bool {
	d.ws()
	return d.pos == len(d.data)
}

func (d *claimDecoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// next advances to the next member and stores its name in d.key.
func (d *claimDecoder) next() bool {
	if d.err != nil {
		return false
	}
	if !d.started {
		d.started = true
		if d.peek() != '{' {
			d.fail("payload is not a JSON object")
			return false
		}
		d.pos++
		if d.peek() == '}' {
			d.pos++
			return false
		}
	} else {
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return false
		default:
			d.fail("malformed object at offset %d", d.pos)
			return false
		}
	}
	if d.peek() != '"' {
		d.fail("malformed object at offset %d", d.pos)
		return false
	}
	d.key = d.rawString(d.key[:0])
	if d.err != nil {
		return false
	}
	if d.peek() != ':' {
		d.fail("malformed object at offset %d", d.pos)
		return false
	}
	d.pos++
	return true
}

func (d *claimDecoder) finish() error {
	if d.err == nil && !d.atEnd() {
		d.fail("trailing data at offset %d", d.pos)
	}
	return d.err
}

// once records member bit and fails on a duplicate.
func (d *claimDecoder) once(bit uint) {
	if d.seen&(1<<bit) != 0 {
		d.fail("duplicate claim %.64q", d.key)
	}
	d.seen |= 1 << bit
}

// rawString reads the JSON string at d.pos (which holds '"') and appends
// its unescaped content to dst. The common case, plain ASCII, is a copy.
func (d *claimDecoder) rawString(dst []byte) []byte {
	start := d.pos
	for i := start + 1; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return append(dst, d.data[start+1:i]...)
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	// Slow path: escapes, non-ASCII or malformed; let encoding/json decide,
	// so that decoding matches it exactly (invalid UTF-8 becomes U+FFFD).
	end, ok := jsonSkipString(d.data, start)
	var s string
	if !ok || json.Unmarshal(d.data[start:end], &s) != nil {
		d.fail("malformed string at offset %d", start)
		return dst
	}
	d.pos = end
	return append(dst, s...)
}

// string reads a JSON string at d.pos (which holds '"').
func (d *claimDecoder) string() string {
	start := d.pos
	for i := start + 1; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return string(d.data[start+1 : i])
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	return string(d.rawString(nil))
}

func (d *claimDecoder) str() string {
	if d.err != nil {
		return ""
	}
	switch d.peek() {
	case '"':
		return d.string()
	case 'n':
		if d.literal("null") {
			return ""
		}
	}
	d.fail("claim %q: want a string", d.key)
	return ""
}

func (d *claimDecoder) strs() []string {
	if d.err != nil {
		return nil
	}
	switch d.peek() {
	case 'n':
		if d.literal("null") {
			return nil
		}
	case '[':
		d.pos++
		out := []string{}
		if d.peek() == ']' {
			d.pos++
			return out
		}
		for d.err == nil {
			if d.peek() != '"' {
				break
			}
			out = append(out, d.string())
			switch d.peek() {
			case ',':
				d.pos++
				continue
			case ']':
				d.pos++
				return out
			}
			break
		}
	}
	d.fail("claim %q: want an array of strings", d.key)
	return nil
}

// audience reads aud: a string or an array of strings.
func (d *claimDecoder) audience() Audience {
	if d.err != nil {
		return nil
	}
	switch d.peek() {
	case '[':
		return d.strs()
	case '"':
		return Audience{d.string()}
	}
	if d.peek() == 'n' && d.literal("null") {
		return nil
	}
	d.fail("claim \"aud\": want a string or an array of strings")
	return nil
}

func (d *claimDecoder) boolean() bool {
	if d.err != nil {
		return false
	}
	switch {
	case d.peek() == 't' && d.literal("true"):
		return true
	case d.peek() == 'f' && d.literal("false"), d.peek() == 'n' && d.literal("null"):
		return false
	}
	d.fail("claim %q: want a boolean", d.key)
	return false
}

// int reads a NumericDate: an integer, or an integral JSON number within
// int64 range (some issuers write 1.7e9 or 1700000000.0).
func (d *claimDecoder) int() int64 {
	if d.err != nil {
		return 0
	}
	if d.peek() == 'n' && d.literal("null") {
		return 0
	}
	start := d.pos
	end, ok := jsonSkipNumber(d.data, start)
	if !ok {
		d.fail("claim %q: want a number", d.key)
		return 0
	}
	d.pos = end
	s := string(d.data[start:end])
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		d.fail("claim %q: want an integer", d.key)
		return 0
	}
	return int64(f)
}

// generic decodes the next value into v with encoding/json.
func (d *claimDecoder) generic(v any) {
	if d.err != nil {
		return
	}
	d.ws()
	start := d.pos
	end, ok := jsonSkipValue(d.data, start)
	if !ok {
		d.fail("claim %q: malformed value", d.key)
		return
	}
	if err := json.Unmarshal(d.data[start:end], v); err != nil {
		d.fail("claim %.64q: %v", d.key, err)
		return
	}
	d.pos = end
}

// extra decodes an unknown claim into *m.
func (d *claimDecoder) extra(m *map[string]any) {
	if d.err != nil {
		return
	}
	if _, dup := (*m)[string(d.key)]; dup {
		d.fail("duplicate claim %.64q", d.key)
		return
	}
	name := string(d.key)
	var v any
	d.generic(&v)
	if d.err != nil {
		return
	}
	if *m == nil {
		*m = make(map[string]any)
	}
	(*m)[name] = v
}

// jsonSkipString returns the end of the JSON string starting at data[i] == '"'.
// Content validity (escapes, control characters) is left to the caller.
func jsonSkipString(data []byte, i int) (int, bool) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// jsonSkipNumber returns the end of the JSON number starting at data[i],
// checking the grammar of RFC 8259 §6.
func jsonSkipNumber(data []byte, i int) (int, bool) {
	digits := func() bool {
		s := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}

// jsonSkipValue returns the end of the JSON value starting at data[i]. It only
// delimits the value; callers validate it with encoding/json.
func jsonSkipValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return jsonSkipString(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				end, ok := jsonSkipString(data, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	default:
		s := i
		for i < len(data) && (data[i] == '-' || data[i] == '+' || data[i] == '.' ||
			data[i] >= '0' && data[i] <= '9' || data[i] >= 'a' && data[i] <= 'z' || data[i] >= 'A' && data[i] <= 'Z') {
			i++
		}
		return i, i > s
	}
}

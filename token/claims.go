package token

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Token defaults, as Entra's.
const (
	// DefaultAccessTokenLifetime is the access-token lifetime used when
	// [Access.Lifetime] is zero. Entra randomises 60–90 minutes; documentation
	// examples show expires_in 3599.
	DefaultAccessTokenLifetime = time.Hour
	// DefaultIDTokenLifetime is the ID-token lifetime used when [IDToken.Lifetime]
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
	Audience          Audience               `json:"aud,omitempty"`                // the client's appId
	Issuer            string                 `json:"iss,omitempty"`                // see [Authority.Issuer]
	IssuedAt          int64                  `json:"iat,omitempty"`                // Unix seconds
	NotBefore         int64                  `json:"nbf,omitempty"`                // Unix seconds
	ExpiresAt         int64                  `json:"exp,omitempty"`                // Unix seconds
	AIO               string                 `json:"aio,omitempty"`                // opaque, internal
	AccessTokenHash   string                 `json:"at_hash,omitempty"`            // see [ClaimHash]; only from /authorize
	CodeHash          string                 `json:"c_hash,omitempty"`             // see [ClaimHash]; only from /authorize
	Email             string                 `json:"email,omitempty"`              // the user's e-mail address; optional
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

// Version is a token version: 1 (ver claim "1.0", issuer
// https://sts.windows.net/{tid}/) or 2 (ver "2.0", issuer
// https://login.microsoftonline.com/{tid}/v2.0). For access tokens the
// resource chooses it (requestedAccessTokenVersion), for ID tokens the
// endpoint the client called.
type Version int

// The token versions.
const (
	Version1 Version = 1
	Version2 Version = 2
)

// String returns the version's ver claim, "1.0" or "2.0", or "" for any
// other value.
func (v Version) String() string {
	switch v {
	case Version1:
		return "1.0"
	case Version2:
		return "2.0"
	}
	return ""
}

// versionOf returns the Version of a ver claim.
func versionOf(ver string) (Version, bool) {
	switch ver {
	case "1.0":
		return Version1, true
	case "2.0":
		return Version2, true
	}
	return 0, false
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
// "{V1Base}/{tid}/" for [Version1], "{V2Base}/{tid}/v2.0" otherwise. A
// trailing slash on the base is ignored.
func (a Authority) Issuer(version Version, tenantID string) string {
	if version == Version1 {
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

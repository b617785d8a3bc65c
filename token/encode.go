package token

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"
)

// JSON encoding of claim sets: a marshaller without the reflection and
// re-validation costs of encoding/json.

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

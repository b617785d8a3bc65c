package tenantry

import (
	"slices"
	"strings"

	"github.com/tenantry/tenantry/consent"
)

// scopeRequest is a parsed scope parameter: the OIDC scopes and at most one
// resource with its values.
type scopeRequest struct {
	oidc      []string
	resource  string // as written; "" when only OIDC scopes were asked
	values    []string
	isDefault bool
}

// Bounds of a scope parameter. The token service refuses longer or
// longer-listed scope parameters before it stores or audits anything; a
// grant's scope string is bounded separately (consent.MaxGrantScopeLength,
// Entra's 3,850 characters).
const (
	// MaxScopeParameterLength is the longest scope parameter accepted, in
	// bytes.
	MaxScopeParameterLength = 8192
	// MaxScopeValues is the most space-separated values a scope parameter
	// may list.
	MaxScopeValues = 100
)

// checkScopeBounds refuses a scope parameter longer than
// MaxScopeParameterLength or listing more than MaxScopeValues values.
func checkScopeBounds(scope string) error {
	if len(scope) > MaxScopeParameterLength {
		return errScopeTooLong.new(MaxScopeParameterLength)
	}
	n := 0
	for range strings.FieldsSeq(scope) {
		if n++; n > MaxScopeValues {
			return errScopeTooMany.new(MaxScopeValues)
		}
	}
	return nil
}

// parseScope parses a scope parameter after checking its bounds.
func parseScope(scope string) (scopeRequest, error) {
	var r scopeRequest
	if err := checkScopeBounds(scope); err != nil {
		return r, err
	}
	for _, s := range strings.Fields(scope) {
		if consent.IsOIDCScope(s) {
			if !slices.Contains(r.oidc, s) {
				r.oidc = append(r.oidc, s) // in request order, once
			}
			continue
		}
		res, v := consent.SplitScope(s)
		if v == "" {
			return r, errScopeInvalid.new(safe(s))
		}
		if r.resource != "" && !strings.EqualFold(r.resource, res) {
			return r, errScopeMultipleResources.new()
		}
		r.resource = res
		if v == consent.DefaultScope {
			r.isDefault = true
		} else {
			r.values = append(r.values, v)
		}
	}
	if r.isDefault && len(r.values) > 0 {
		return r, errScopeDefaultMixed.new()
	}
	slices.Sort(r.values)
	r.values = slices.Compact(r.values)
	return r, nil
}

// String returns the canonical scope parameter of r: the resource's values
// (or ".default"), then the OIDC scopes, each once. It is what the token
// service stores and audits, never the caller's raw parameter.
func (r scopeRequest) String() string {
	var out []string
	if r.isDefault {
		out = append(out, r.resource+"/"+consent.DefaultScope)
	}
	for _, v := range r.values {
		out = append(out, r.resource+"/"+v)
	}
	return strings.Join(append(out, r.oidc...), " ")
}

func (r scopeRequest) has(s string) bool { return slices.Contains(r.oidc, s) }

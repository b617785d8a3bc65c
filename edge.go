package tenantry

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// Authority returns the issuer bases of the tokens this Issuer mints
// (TokenConfig.Authority with its defaults filled in). An HTTP server
// exposing the Issuer must serve at Authority().V2Base, so that the issuers
// it announces are the ones its tokens carry.
func (d *Issuer) Authority() token.Authority {
	a := d.tokens.cfg.Authority
	if a.V2Base == "" {
		a.V2Base = token.DefaultV2Base
	}
	if a.V1Base == "" {
		a.V1Base = token.DefaultV1Base
	}
	a.V2Base = strings.TrimSuffix(a.V2Base, "/")
	a.V1Base = strings.TrimSuffix(a.V1Base, "/")
	return a
}

// IssuerFor returns the issuer the authority's tenant segment stands for,
// as Entra's discovery documents announce it: the "{tenantid}" template for
// "common" and "organizations", the consumers tenant's issuer for
// "consumers", and the tenant's own (GUID) issuer for a tenant id or one of
// its verified domains, matched in any letter case. An unknown tenant is a
// *TokenError (AADSTS90002, or 900023 for a malformed segment); a version
// other than 1 or 2 wraps ErrInvalidRequest.
func (d *Issuer) IssuerFor(ctx context.Context, tenantSegment string, version token.Version) (string, error) {
	if version != 1 && version != 2 {
		return "", fmt.Errorf("%w: token version %d (want 1 or 2)", ErrInvalidRequest, int(version))
	}
	tid, err := d.segmentTenantID(ctx, tenantSegment)
	if err != nil {
		return "", err
	}
	return d.Authority().Issuer(version, tid), nil
}

// segmentTenantID resolves an authority segment to the tenant id its
// issuer names: the placeholder for the multi-tenant segments.
func (d *core) segmentTenantID(ctx context.Context, segment string) (string, error) {
	switch strings.ToLower(segment) {
	case "common", "organizations":
		return token.TenantIDPlaceholder, nil
	case "consumers":
		return tenant.ConsumersID, nil
	}
	var tid string
	err := d.st.View(ctx, func(tx store.ReadTx) error {
		t, err := lookupTenant(tx, segment)
		tid = t.ID
		return err
	})
	return tid, err
}

// Refusal names a refusal an HTTP front end of the Issuer makes before a
// request reaches it (a wrong method, a malformed form, a declined
// consent). [Refuse] turns it into a *TokenError from the same catalogue as
// the Issuer's own refusals, so that every answer carries Entra's OAuth
// error and AADSTS code.
type Refusal int

// The refusals of an HTTP front end.
const (
	// RefusePostOnly: the endpoint accepts POST only (AADSTS900561).
	// Detail: the endpoint's name.
	RefusePostOnly Refusal = iota + 1
	// RefuseMalformed: the request cannot be read (a body that is not a
	// form, too large, or badly encoded) (AADSTS9002313).
	// Detail: what is wrong.
	RefuseMalformed
	// RefuseDuplicateParameter: a parameter appears more than once
	// (AADSTS9002313). Detail: the parameter's name.
	RefuseDuplicateParameter
	// RefuseMissingParameter: a required parameter is absent
	// (AADSTS900144). Detail: the parameter's name.
	RefuseMissingParameter
	// RefuseResourceParameter: the v2 endpoints do not take the v1
	// resource parameter (AADSTS901002).
	RefuseResourceParameter
	// RefuseCrossOrigin: a browser's cross-origin token request for a
	// client that is not a single-page application (AADSTS9002326).
	RefuseCrossOrigin
	// RefuseUnknownInstance: instance discovery for an authority that is
	// not this server (AADSTS50049). Detail: the authority asked about.
	RefuseUnknownInstance
	// RefuseLoginRequired: prompt=none without a signed-in user
	// (AADSTS50058).
	RefuseLoginRequired
	// RefuseConsentDeclined: the user declined the consent prompt
	// (AADSTS65004).
	RefuseConsentDeclined
	// RefuseUnsupportedResponseMode: a response_mode other than query,
	// fragment and form_post (AADSTS9002313). Detail: the mode.
	RefuseUnsupportedResponseMode
	// RefuseBadUserCode: the device code page was given a user code that
	// is unknown or no longer valid (AADSTS70018).
	RefuseBadUserCode
)

// Refuse returns the catalogue's refusal r, its description filled with
// detail where r takes one (a parameter's or method's name; never a secret).
// An unknown Refusal is an invalid request.
func Refuse(r Refusal, detail string) *TokenError {
	detail = safe(detail)
	switch r {
	case RefusePostOnly:
		return errPostOnly.new(detail)
	case RefuseMalformed:
		return errRequestMalformed.new(detail)
	case RefuseDuplicateParameter:
		return errDuplicateParam.new(detail)
	case RefuseMissingParameter:
		return errMissingParameter.new(detail)
	case RefuseResourceParameter:
		return errResourceParameter.new()
	case RefuseCrossOrigin:
		return errCrossOrigin.new()
	case RefuseUnknownInstance:
		return errUnknownInstance.new(detail)
	case RefuseLoginRequired:
		return errLoginRequired.new()
	case RefuseConsentDeclined:
		return errConsentDeclined.new()
	case RefuseUnsupportedResponseMode:
		return errResponseMode.new(detail)
	case RefuseBadUserCode:
		return errBadUserCode.new()
	}
	return errRequestMalformed.new(fmt.Sprintf("refusal %d", int(r)))
}

// Algorithm returns the algorithm the Issuer signs tokens with
// (TokenConfig.Algorithm with its default), as discovery documents list it
// in id_token_signing_alg_values_supported.
func (d *Issuer) Algorithm() token.Algorithm { return d.tokens.cfg.Algorithm }

// CodeDescription describes an AADSTS code of the catalogue, for a page
// about it (Entra's /error?code=N).
type CodeDescription struct {
	// Code is the AADSTS number.
	Code int
	// Error is the OAuth error value the code usually comes with.
	Error string
	// Descriptions are the catalogue's wordings of the code, with "…"
	// where a refusal names its particulars.
	Descriptions []string
}

// DescribeCode returns the catalogue's description of AADSTS code, and
// whether the catalogue has it.
func DescribeCode(code int) (CodeDescription, bool) {
	out := CodeDescription{Code: code}
	fromVariant := false // out.Error comes from a variant row, which a usual row replaces
	for _, e := range catalogue {
		if e.code != code {
			continue
		}
		if out.Error == "" || (e.variant == "" && fromVariant) {
			out.Error, fromVariant = e.oauth, e.variant != ""
		}
		text := verbPattern.ReplaceAllString(e.text, "…")
		if !slices.Contains(out.Descriptions, text) {
			out.Descriptions = append(out.Descriptions, text)
		}
	}
	return out, len(out.Descriptions) > 0
}

// verbPattern matches the fmt verbs of catalogue templates.
var verbPattern = regexp.MustCompile(`%[-+# 0]*[0-9]*[a-zA-Z]`)

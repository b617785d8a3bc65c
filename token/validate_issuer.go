package token

import (
	"fmt"
	"strings"

	"github.com/tenantry/tenantry/internal/guid"
)

// Configuration checks and refusal messages for the issuer rule. Tokens name
// their tenant by its GUID, in tid and in the issuer's path, never by a
// domain or by common/organizations/consumers; a validator configured with
// such a tenant would refuse every token, so NewValidator refuses it.

// entraHosts are the issuer hosts of Entra's clouds, where every first path
// segment of an issuer is a tenant.
var entraHosts = map[string]bool{
	"login.microsoftonline.com": true, "sts.windows.net": true, "login.windows.net": true,
	"login.microsoft.com": true, "login.microsoftonline.us": true, "login.partner.microsoftonline.cn": true,
	"sts.chinacloudapi.cn": true,
}

// issuerShape splits an Entra-shaped issuer, "{scheme}://{host}/{tenant}/"
// (v1) or "{scheme}://{host}/{tenant}/v2.0" (v2), into host and tenant
// segment; ok is false for other shapes.
func issuerShape(iss string) (host, seg string, v2, ok bool) {
	rest, found := strings.CutPrefix(iss, "https://")
	if !found {
		if rest, found = strings.CutPrefix(iss, "http://"); !found {
			return "", "", false, false
		}
	}
	host, path, found := strings.Cut(rest, "/")
	if !found || host == "" {
		return "", "", false, false
	}
	seg, tail, found := strings.Cut(path, "/")
	if !found || seg == "" {
		return "", "", false, false
	}
	switch tail {
	case "":
		return host, seg, false, true
	case "v2.0", "v2.0/":
		return host, seg, true, true
	}
	return "", "", false, false
}

// checkIssuerTenant refuses an exact issuer that names its tenant other than
// by GUID: a domain, common, organizations or consumers (Entra issuers
// always carry the tenant id). Issuers of other shapes are left alone.
func checkIssuerTenant(iss string) error {
	host, seg, v2, ok := issuerShape(iss)
	if !ok || seg == TenantIDPlaceholder || guid.Valid(seg) {
		return nil
	}
	template := strings.Replace(iss, "/"+seg+"/", "/"+TenantIDPlaceholder+"/", 1)
	switch lower := strings.ToLower(seg); {
	case lower == "common" || lower == "organizations" || lower == "consumers":
		return fmt.Errorf("%w: issuer %.128q names %q, which no token carries (Entra issues tokens with the tenant's GUID); "+
			"for a multi-tenant API use the template %.128q and list the tenants in AllowedTenants", ErrConfig, iss, seg, template)
	case strings.Contains(seg, ".") || entraHosts[strings.ToLower(host)]:
		version := "v1"
		if v2 {
			version = "v2"
		}
		return fmt.Errorf("%w: issuer %.128q names tenant %.64q by name or domain, but %s tokens carry the tenant's id (a GUID) in iss; "+
			"use the tenant id (the tenant_id of its discovery document)", ErrConfig, iss, seg, version)
	}
	return nil
}

// checkAllowedTenant refuses an AllowedTenants entry that is not a GUID.
func checkAllowedTenant(t string) error {
	if guid.Valid(t) {
		return nil
	}
	return fmt.Errorf("%w: AllowedTenants entry %.64q is not a tenant id: the tid claim is always the tenant's GUID, never a domain or common/organizations; "+
		"use the tenant id (the tenant_id of its discovery document)", ErrConfig, t)
}

// issuerRefusal explains why iss matched no accepted issuer: it lists the
// accepted ones and, when the token's tenant is accepted in the other token
// version only, names the likely cause.
func (v *Validator) issuerRefusal(iss string) error {
	hint := ""
	_, seg, v2, ok := issuerShape(iss)
	if ok && guid.Valid(seg) {
		switch {
		case !v2 && v.acceptsPath("/"+seg+"/v2.0"):
			hint = fmt.Sprintf("; this is a v1 token (iss of the form https://sts.windows.net/{tid}/) and only the v2 issuer of its tenant is accepted: "+
				"Entra issues v1 access tokens for an API whose application does not set api.requestedAccessTokenVersion to 2. "+
				"Set it to 2, or accept %.128q too", iss)
		case v2 && v.acceptsPath("/"+seg+"/"):
			hint = fmt.Sprintf("; this is a v2 token (iss of the form https://login.microsoftonline.com/{tid}/v2.0) and only the v1 issuer of its tenant is accepted: "+
				"the API's application sets api.requestedAccessTokenVersion to 2. Accept %.128q too, or set it to 1", iss)
		case len(v.templates) == 0:
			hint = "; no accepted issuer names the token's tenant (a multi-tenant API uses an issuer template with AllowedTenants)"
		}
	}
	return fmt.Errorf("%w: iss %.128q; accepted: %s%s", ErrIssuer, iss, v.acceptedIssuers(), hint)
}

// acceptsPath reports whether an accepted issuer, exact or templated, has
// the given path.
func (v *Validator) acceptsPath(path string) bool {
	for iss := range v.exact {
		if issuerPathIs(iss, path) {
			return true
		}
	}
	tid := strings.Trim(strings.TrimSuffix(path, "v2.0"), "/")
	for _, t := range v.templates {
		if issuerPathIs(t.prefix+tid+t.suffix, path) {
			return true
		}
	}
	return false
}

// acceptedIssuers lists the configured issuers for a message, at most a few.
func (v *Validator) acceptedIssuers() string {
	const show = 4
	var b strings.Builder
	for i, iss := range v.issuers {
		if i == show {
			fmt.Fprintf(&b, " (and %d more)", len(v.issuers)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.128q", iss)
	}
	return b.String()
}

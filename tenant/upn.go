package tenant

import (
	"strings"
)

// GuestMarker is the marker of a guest's userPrincipalName:
// "alias_home.com#EXT#@{initial domain}".
const GuestMarker = "#EXT#"

// SplitUserPrincipalName returns the alias and the lower-case domain of
// an "alias@domain" userPrincipalName; ok is false when it has no '@'
// with text on both sides.
func SplitUserPrincipalName(upn string) (alias, domain string, ok bool) {
	at := strings.LastIndexByte(upn, '@')
	if at <= 0 || at == len(upn)-1 {
		return "", "", false
	}
	return upn[:at], strings.ToLower(upn[at+1:]), true
}

// CheckUserPrincipalNameForm checks the shape a userPrincipalName must have
// for the user type: a guest's alias ends with "#EXT#" after a non-empty
// prefix ("alias_home.com#EXT#"), a member's alias carries no "#EXT#".
func CheckUserPrincipalNameForm(upn, userType string) error {
	alias, domain, ok := SplitUserPrincipalName(upn)
	if !ok {
		return &FieldError{Field: "userPrincipalName", Reason: "must be alias@domain"}
	}
	if !dnsName(domain) {
		// "fabrikam.com." names the same DNS domain as "fabrikam.com": only
		// the one spelling a tenant verifies is a domain.
		return &FieldError{Field: "userPrincipalName", Reason: "the domain must be a DNS name: labels of letters, digits and hyphens separated by single dots, no trailing dot"}
	}
	marker := strings.Index(strings.ToUpper(alias), GuestMarker)
	if userType == Guest {
		if marker <= 0 || marker != len(alias)-len(GuestMarker) {
			return &FieldError{Field: "userPrincipalName", Reason: "a guest's must have the form alias_home.com#EXT#@{initial domain}"}
		}
		return nil
	}
	if marker >= 0 {
		return &FieldError{Field: "userPrincipalName", Reason: "only guests carry #EXT#"}
	}
	return nil
}

// CheckUserPrincipalName checks that upn lies in t's namespace, as Entra
// requires: a member's domain is one of t's verified domains (the initial
// "{name}.onmicrosoft.com" domain included), a guest's is t's initial
// domain, in the "alias_home.com#EXT#@{initial domain}" form. A
// userPrincipalName in another organisation's domain would put that
// organisation's name in preferred_username and upn, and keep its owner
// from creating the user.
func (t Tenant) CheckUserPrincipalName(upn, userType string) error {
	if err := CheckUserPrincipalNameForm(upn, userType); err != nil {
		return err
	}
	_, domain, _ := SplitUserPrincipalName(upn)
	if userType == Guest {
		for _, d := range t.VerifiedDomains {
			if d.IsInitial && strings.EqualFold(d.Name, domain) {
				return nil
			}
		}
		return &FieldError{Field: "userPrincipalName", Reason: "a guest's domain must be the tenant's initial domain"}
	}
	if !t.HasDomain(domain) {
		return &FieldError{Field: "userPrincipalName", Reason: "the domain " + domain + " is not a verified domain of the tenant"}
	}
	return nil
}

// dnsName reports whether s is a DNS name as domains are verified:
// non-empty labels of ASCII letters, digits and hyphens (not at a label's
// ends), separated by single dots, at least two labels, no trailing dot.
func dnsName(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

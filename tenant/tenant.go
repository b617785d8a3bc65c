package tenant

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/guid"
	"github.com/tenantry/tenantry/internal/invalid"

	"github.com/tenantry/tenantry/internal/deep"
)

// ConsumersID is the tenant id of personal Microsoft accounts (MSA). Its
// alias in authority URLs is "consumers"; it appears in the tid and iss of
// tokens issued to personal accounts.
const ConsumersID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Tenant types as reported by the organization resource.
const (
	TypeAAD       = "AAD"
	TypeConsumers = "Consumers"
)

// Tenant is a directory: the security boundary that owns users, groups,
// service principals and settings. Its JSON follows Microsoft Graph's
// organization resource; the authorization policy, which Graph serves at
// /policies/authorizationPolicy, is embedded.
type Tenant struct {
	// ID is the tenant id: a GUID, never changed.
	ID string `json:"id"`
	// DisplayName is the organization's name.
	DisplayName string `json:"displayName"`
	// TenantType is AAD for an organization, Consumers for the tenant of
	// personal Microsoft accounts.
	TenantType string `json:"tenantType,omitempty"`
	// VerifiedDomains are the domains the tenant owns, among them the
	// initial {name}.onmicrosoft.com domain; userPrincipalNames and App ID
	// URIs use them.
	VerifiedDomains []VerifiedDomain `json:"verifiedDomains,omitempty"`
	// Policy is the tenant's authorization policy (Graph
	// /policies/authorizationPolicy).
	Policy AuthorizationPolicy `json:"authorizationPolicy"`
	// CreatedDateTime is when the tenant was created.
	CreatedDateTime time.Time `json:"createdDateTime"`
}

// VerifiedDomain is a domain name the tenant has proven it owns.
type VerifiedDomain struct {
	// Name is the domain name, such as contoso.com.
	Name string `json:"name"`
	// IsDefault marks the default domain, used for new names such as an
	// application's publisherDomain.
	IsDefault bool `json:"isDefault"`
	// IsInitial marks the {name}.onmicrosoft.com domain the tenant was
	// created with.
	IsInitial bool `json:"isInitial"`
	// Type is the domain's type, such as Managed, kept as data.
	Type string `json:"type,omitempty"`
}

// IsConsumers reports whether t is the tenant of personal Microsoft accounts.
func (t Tenant) IsConsumers() bool { return t.ID == ConsumersID }

// DefaultDomain returns the domain marked as default, else the initial one,
// else "".
func (t Tenant) DefaultDomain() string {
	initial := ""
	for _, d := range t.VerifiedDomains {
		if d.IsDefault {
			return d.Name
		}
		if d.IsInitial {
			initial = d.Name
		}
	}
	return initial
}

// HasDomain reports whether name is one of t's verified domains
// (case-insensitive).
func (t Tenant) HasDomain(name string) bool {
	for _, d := range t.VerifiedDomains {
		if strings.EqualFold(d.Name, name) {
			return true
		}
	}
	return false
}

// Equal reports whether t and o have the same properties: times are
// compared as instants (time.Time.Equal) and an empty collection equals a
// missing (nil) one, as Graph has no null collections; everything else as
// reflect.DeepEqual compares it.
func (t Tenant) Equal(o Tenant) bool { return deep.Equal(t, o) }

// Clone returns a deep copy of t.
func (t Tenant) Clone() Tenant {
	t.VerifiedDomains = append([]VerifiedDomain(nil), t.VerifiedDomains...)
	t.Policy = t.Policy.Clone()
	return t
}

// Consumers returns the well-known tenant of personal Microsoft accounts.
func Consumers(created time.Time) Tenant {
	return Tenant{
		ID:          ConsumersID,
		DisplayName: "Microsoft Accounts",
		TenantType:  TypeConsumers,
		VerifiedDomains: []VerifiedDomain{
			{Name: "live.com", IsDefault: true, IsInitial: true, Type: "Managed"},
		},
		Policy:          DefaultPolicy(),
		CreatedDateTime: created.UTC(),
	}
}

// InitialDomain returns the "{name}.onmicrosoft.com" domain Entra gives a new
// tenant, derived from its display name.
func InitialDomain(displayName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(displayName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		b.WriteString("tenant")
	}
	return b.String() + ".onmicrosoft.com"
}

// Validate checks t's own fields.
func (t Tenant) Validate() error {
	var errs []error
	if !guid.Valid(t.ID) {
		errs = append(errs, &FieldError{Field: "id", Reason: "must be a GUID"})
	}
	if strings.TrimSpace(t.DisplayName) == "" {
		errs = append(errs, &FieldError{Field: "displayName", Reason: "is required"})
	} else if len(t.DisplayName) > 256 {
		errs = append(errs, &FieldError{Field: "displayName", Reason: "exceeds 256 characters"})
	}
	defaults, seen := 0, map[string]bool{}
	for i, d := range t.VerifiedDomains {
		name := strings.ToLower(d.Name)
		if !validDomain(name) {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("verifiedDomains[%d].name", i), Reason: "is not a domain name"})
		}
		if seen[name] {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("verifiedDomains[%d].name", i), Reason: "is duplicated"})
		}
		seen[name] = true
		if d.IsDefault {
			defaults++
		}
	}
	if len(t.VerifiedDomains) > 0 && defaults != 1 {
		errs = append(errs, &FieldError{Field: "verifiedDomains", Reason: "exactly one domain must be the default"})
	}
	errs = append(errs, t.Policy.validate()...)
	return errors.Join(errs...)
}

func validDomain(s string) bool {
	if len(s) == 0 || len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// FieldError names the field of a directory object that failed validation:
// Field is the Graph property path (e.g. "web.redirectUris[2]"), Reason
// what is wrong with it; its message is "invalid {field}: {reason}". Every
// package of the domain model reports validation failures with it —
// application.FieldError is the same type —, so callers can match them with
// errors.As, and every FieldError matches ErrInvalid.
type FieldError = invalid.FieldError

// ErrInvalid is matched (errors.Is) by every validation error of the domain
// model; application.ErrInvalid is the same value.
var ErrInvalid = invalid.ErrInvalid

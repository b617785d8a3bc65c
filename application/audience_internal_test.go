package application

import (
	"errors"
	"testing"

	"github.com/tenantry/tenantry/tenant"
)

func TestConsumersTenantIsTenants(t *testing.T) {
	if consumersTenantID != tenant.ConsumersID {
		t.Fatalf("consumersTenantID = %s, tenant.ConsumersID = %s", consumersTenantID, tenant.ConsumersID)
	}
}

// The package's validation errors are tenant's: callers of either package
// match them with either name.
func TestFieldErrorIsTenants(t *testing.T) {
	err := Application{}.Validate(ValidationContext{})
	var fe *tenant.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, tenant.ErrInvalid) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v: not a tenant.FieldError matching tenant.ErrInvalid", err)
	}
}

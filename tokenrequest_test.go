package tenantry

import (
	"reflect"
	"testing"
)

// A TokenRequest is plain data, the form parameters and nothing else: what
// the token service works out on the way (a verified federated assertion)
// is a local value passed to the grant, never state hidden in the request.
func TestTokenRequestHoldsOnlyParameters(t *testing.T) {
	typ := reflect.TypeFor[TokenRequest]()
	for i := range typ.NumField() {
		if f := typ.Field(i); !f.IsExported() {
			t.Errorf("TokenRequest has the hidden field %s %s", f.Name, f.Type)
		}
	}
}

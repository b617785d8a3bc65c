package tenantry

import (
	"reflect"
	"testing"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/tenant"
)

// perturb changes v (settable) so that it differs from before; it reports
// false for a kind it cannot change.
func perturb(v reflect.Value) bool {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Second)))
		return true
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		} else {
			v.SetZero()
		}
	case reflect.Slice:
		v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		if k.Kind() == reflect.String {
			k.SetString("perturbed")
		}
		m.SetMapIndex(k, reflect.Zero(v.Type().Elem()))
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && perturb(v.Field(i)) {
				return true
			}
		}
		return false
	default:
		return false
	}
	return true
}

// checkEqualMethod checks that equal sees every exported property of
// sample and ignores the time zone.
func checkEqualMethod[T any](t *testing.T, sample T, clone func(T) T, equal func(T, T) bool) {
	t.Helper()
	if !equal(sample, clone(sample)) {
		t.Fatalf("%T: a clone is not Equal", sample)
	}
	typ := reflect.TypeFor[T]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		c := clone(sample)
		if !perturb(reflect.ValueOf(&c).Elem().Field(i)) {
			t.Errorf("%T.%s: cannot perturb a %s", sample, f.Name, f.Type)
			continue
		}
		if equal(sample, c) || equal(c, sample) {
			t.Errorf("%T: a change of %s is Equal", sample, f.Name)
		}
	}
	// The same instants in another zone are the same object.
	c := clone(sample)
	zone := time.FixedZone("UTC+2", 2*3600)
	for i := range typ.NumField() {
		fv := reflect.ValueOf(&c).Elem().Field(i)
		if fv.Type() == reflect.TypeFor[time.Time]() {
			fv.Set(reflect.ValueOf(fv.Interface().(time.Time).In(zone)))
		}
	}
	if !equal(sample, c) {
		t.Errorf("%T: the same times in another zone are not Equal", sample)
	}
}

func TestEqualMethodsSeeEveryProperty(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	app := application.Application{ID: "a", AppID: "b", TenantID: "t", DisplayName: "App", CreatedDateTime: now, Owners: []string{"o"}}
	checkEqualMethod(t, app, application.Application.Clone, application.Application.Equal)
	checkEqualMethod(t, tenant.User{ID: "u", TenantID: "t", DisplayName: "U", CreatedDateTime: now}, tenant.User.Clone, tenant.User.Equal)
	checkEqualMethod(t, tenant.Tenant{ID: "t", DisplayName: "T", CreatedDateTime: now, VerifiedDomains: []tenant.VerifiedDomain{{Name: "contoso.com"}}}, tenant.Tenant.Clone, tenant.Tenant.Equal)
	checkEqualMethod(t, serviceprincipal.New("s", app, "t", now), serviceprincipal.ServicePrincipal.Clone, serviceprincipal.ServicePrincipal.Equal)
}

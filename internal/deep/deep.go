// Package deep compares values of the domain model: the equality behind
// the Equal methods of tenant, application and serviceprincipal objects
// and the modified properties of the audit log.
//
// Equal is reflect.DeepEqual with two rules of the model: a time.Time is
// compared as an instant (time.Time.Equal: location and monotonic reading
// do not count, as JSON and SQL round trips keep only the instant), and an
// empty slice or map equals a nil one (Graph has no null collections, and
// JSON decoding makes either). It never panics: it reads unexported fields
// without calling their methods.
package deep

import (
	"reflect"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// Equal reports whether x and y are deeply equal under the rules of the
// package.
func Equal(x, y any) bool {
	if x == nil || y == nil {
		return x == nil && y == nil
	}
	return Values(reflect.ValueOf(x), reflect.ValueOf(y))
}

// Values is Equal for reflect values, which may come from unexported
// fields.
func Values(x, y reflect.Value) bool {
	if !x.IsValid() || !y.IsValid() {
		return x.IsValid() == y.IsValid()
	}
	if x.Type() != y.Type() {
		return false
	}
	return values(addressable(x), addressable(y), 0)
}

// addressable returns v, or an addressable copy of it, so that times in
// unexported fields below it can be read.
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() || !v.CanInterface() {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// maxDepth bounds the recursion: the model's values are trees a few
// levels deep, so anything deeper is a cycle, which compares unequal.
const maxDepth = 100

func values(x, y reflect.Value, depth int) bool {
	if depth > maxDepth {
		return false
	}
	if x.Type() == timeType {
		if tx, ok := timeOf(x); ok {
			if ty, ok := timeOf(y); ok {
				return tx.Equal(ty)
			}
		}
		// An unreadable time (an unexported field in a map value) is
		// compared by representation below.
	}
	switch x.Kind() {
	case reflect.Bool:
		return x.Bool() == y.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return x.Int() == y.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return x.Uint() == y.Uint()
	case reflect.Float32, reflect.Float64:
		return x.Float() == y.Float()
	case reflect.Complex64, reflect.Complex128:
		return x.Complex() == y.Complex()
	case reflect.String:
		return x.String() == y.String()
	case reflect.Slice:
		if x.Len() != y.Len() {
			return false
		}
		if x.Len() == 0 || x.Pointer() == y.Pointer() {
			return true
		}
		fallthrough
	case reflect.Array:
		for i := range x.Len() {
			if !values(x.Index(i), y.Index(i), depth+1) {
				return false
			}
		}
		return true
	case reflect.Map:
		if x.Len() != y.Len() {
			return false
		}
		if x.Len() == 0 || x.UnsafePointer() == y.UnsafePointer() {
			return true
		}
		it := x.MapRange()
		for it.Next() {
			v := y.MapIndex(it.Key())
			if !v.IsValid() || !values(it.Value(), v, depth+1) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if x.IsNil() || y.IsNil() {
			return x.IsNil() && y.IsNil()
		}
		if x.UnsafePointer() == y.UnsafePointer() {
			return true
		}
		return values(x.Elem(), y.Elem(), depth+1)
	case reflect.Interface:
		if x.IsNil() || y.IsNil() {
			return x.IsNil() && y.IsNil()
		}
		ex, ey := x.Elem(), y.Elem()
		return ex.Type() == ey.Type() && values(ex, ey, depth+1)
	case reflect.Struct:
		for i := range x.NumField() {
			if !values(x.Field(i), y.Field(i), depth+1) {
				return false
			}
		}
		return true
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		// Functions compare equal only when both are nil, as in
		// reflect.DeepEqual; channels and unsafe pointers by identity.
		if x.Kind() == reflect.Func {
			return x.IsNil() && y.IsNil()
		}
		return x.UnsafePointer() == y.UnsafePointer()
	}
	return false
}

// timeOf returns the time.Time in v, read directly or, in an unexported
// field, through its address; ok is false when it cannot be read.
func timeOf(v reflect.Value) (t time.Time, ok bool) {
	switch {
	case v.CanInterface():
		return v.Interface().(time.Time), true
	case v.CanAddr():
		return *(*time.Time)(v.Addr().UnsafePointer()), true
	}
	return time.Time{}, false
}

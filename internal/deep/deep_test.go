package deep

import (
	"math"
	"testing"
	"time"
)

type inner struct {
	At   time.Time
	When *time.Time
	Tags []string
}

type outer struct {
	Name   string
	In     inner
	Ins    []inner
	ByName map[string]inner
	Any    any
	Fn     func()
	hidden time.Time
	secret []byte
}

func TestEqual(t *testing.T) {
	utc := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	paris := utc.In(time.FixedZone("CET", 3600))
	mono := time.Now()
	later := utc.Add(time.Nanosecond)
	base := func() outer {
		return outer{Name: "a", In: inner{At: utc, When: &utc, Tags: []string{"x"}}, Ins: []inner{{At: utc}},
			ByName: map[string]inner{"k": {At: utc}}, Any: inner{At: utc}, hidden: utc, secret: []byte{1}}
	}
	tests := []struct {
		name string
		x, y any
		want bool
	}{
		{"same", base(), base(), true},
		{"nil and nil", nil, nil, true},
		{"nil and value", nil, base(), false},
		{"different types", base(), inner{}, false},
		{"time in another zone", base(), func() outer { o := base(); o.In.At = paris; return o }(), true},
		{"time pointer in another zone", base(), func() outer { o := base(); o.In.When = &paris; return o }(), true},
		{"unexported time in another zone", base(), func() outer { o := base(); o.hidden = paris; return o }(), true},
		{"time in a map value", base(), func() outer { o := base(); o.ByName = map[string]inner{"k": {At: paris}}; return o }(), true},
		{"time in an interface", base(), func() outer { o := base(); o.Any = inner{At: paris}; return o }(), true},
		{"monotonic reading ignored", mono, mono.Round(0), true},
		{"later time", base(), func() outer { o := base(); o.In.At = later; return o }(), false},
		{"later unexported time", base(), func() outer { o := base(); o.hidden = later; return o }(), false},
		{"nil and set pointer", base(), func() outer { o := base(); o.In.When = nil; return o }(), false},
		{"nil and empty slice", inner{Tags: nil}, inner{Tags: []string{}}, true},
		{"nil and empty map", outer{}, outer{ByName: map[string]inner{}}, true},
		{"nil and empty bytes", outer{}, outer{secret: []byte{}}, true},
		{"empty slices", inner{Tags: []string{}}, inner{Tags: make([]string, 0, 4)}, true},
		{"slice element differs", base(), func() outer { o := base(); o.In.Tags = []string{"y"}; return o }(), false},
		{"slice longer", base(), func() outer { o := base(); o.Ins = append(o.Ins, inner{}); return o }(), false},
		{"map key differs", base(), func() outer { o := base(); o.ByName = map[string]inner{"j": {At: utc}}; return o }(), false},
		{"unexported bytes differ", base(), func() outer { o := base(); o.secret = []byte{2}; return o }(), false},
		{"interface dynamic types differ", outer{Any: 1}, outer{Any: int64(1)}, false},
		{"interface nil and set", outer{}, outer{Any: 1}, false},
		{"non-nil func", outer{Fn: func() {}}, outer{Fn: func() {}}, false},
		{"NaN", math.NaN(), math.NaN(), false},
		{"pointer to equal values", &inner{At: utc}, &inner{At: paris}, true},
	}
	for _, tc := range tests {
		if got := Equal(tc.x, tc.y); got != tc.want {
			t.Errorf("%s: Equal = %v, want %v", tc.name, got, tc.want)
		}
		if got := Equal(tc.y, tc.x); got != tc.want {
			t.Errorf("%s (swapped): Equal = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEqualCycleIsUnequal(t *testing.T) {
	type node struct{ Next *node }
	a, b := &node{}, &node{}
	a.Next, b.Next = b, a
	if Equal(a, b) {
		t.Error("cyclic values compared equal")
	}
}

package sweep

import (
	"reflect"
	"testing"
)

func TestTypeName(t *testing.T) {
	type mapping struct {
		A    int    `json:"a"`
		B    string `json:"b,omitempty"`
		Skip bool   `json:"-"`
	}
	for _, tc := range []struct {
		typ       reflect.Type
		one, many string
	}{
		{reflect.TypeFor[int](), "an integer", "integers"},
		{reflect.TypeFor[int64](), "an integer", "integers"},
		{reflect.TypeFor[uint8](), "a non-negative integer", "non-negative integers"},
		{reflect.TypeFor[float64](), "a number", "numbers"},
		{reflect.TypeFor[string](), "a string", "strings"},
		{reflect.TypeFor[bool](), "true or false", "booleans"},
		{reflect.TypeFor[[]float64](), "a list of numbers", "lists"},
		{reflect.TypeFor[[][]int](), "a list of lists", "lists"},
		{reflect.TypeFor[mapping](), "a mapping with keys a, b", "mappings"},
		{reflect.TypeFor[[]mapping](), "a list of mappings", "lists"},
		{reflect.TypeFor[map[string]int](), "map[string]int", "map[string]int values"},
		{reflect.TypeFor[[]*int](), "a list of *int values", "lists"},
	} {
		if got := typeName(tc.typ); got != tc.one {
			t.Errorf("typeName(%v) = %q, want %q", tc.typ, got, tc.one)
		}
		if got := pluralTypeName(tc.typ); got != tc.many {
			t.Errorf("pluralTypeName(%v) = %q, want %q", tc.typ, got, tc.many)
		}
	}
}

package results_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/sgsweep/sgsweep/results"
)

// TestFlattenerReusesLeaves flattens a stream of parameter sets that share
// most leaves, and differ in values, in paths, in length and in unknown
// paths, with one flattener (which reuses the previous record's leaves)
// and with a new one per record: the values must be the same.
func TestFlattenerReusesLeaves(t *testing.T) {
	stream := []string{
		`{"seed":1,"surrogate":{"shape":"superspike","scale":10},"network":{"hidden":[4,4]}}`,
		`{"seed":2,"surrogate":{"shape":"superspike","scale":10},"network":{"hidden":[4,4]}}`,
		`{"seed":2,"surrogate":{"shape":"sigmoid","scale":1e1},"network":{"hidden":[8]}}`,
		`{"seed":3,"surrogate":{"scale":10,"shape":"sigmoid"},"network":{"hidden":[8]}}`,
		`{"seed":3,"future":{"knob":1},"surrogate":{"scale":10,"shape":"sigmoid"}}`,
		`{"seed":3}`,
		`{"seed":"3","surrogate":{"shape":"superspike","scale":10},"network":{"hidden":[4,4]}}`,
		`{"seed":1,"surrogate":{"shape":"superspike","scale":10},"network":{"hidden":[4,4]}}`,
	}
	reused := results.NewFlattener()
	n := len(reused.Paths())
	for _, raw := range stream {
		got, want := make([]results.Value, n), make([]results.Value, n)
		gotErr := reused.Flatten([]byte(raw), got)
		wantErr := results.NewFlattener().Flatten([]byte(raw), want)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%s: error %v, a new flattener's %v", raw, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %v\nwant %v", raw, got, want)
		}
	}
}

// TestFlattenOmittedDefault: numerics, which a float64 task's parameters
// leave out, reads as float64 there and as written elsewhere, so that
// results group and filter by it like by any parameter.
func TestFlattenOmittedDefault(t *testing.T) {
	f := results.NewFlattener()
	i := slices.Index(f.Paths(), "numerics")
	if i < 0 {
		t.Fatalf("numerics is not a parameter path: %v", f.Paths())
	}
	for raw, want := range map[string]string{
		`{"seed":1}`:                      "float64",
		`{"seed":1,"numerics":"float32"}`: "float32",
	} {
		dst := make([]results.Value, len(f.Paths()))
		if err := f.Flatten([]byte(raw), dst); err != nil {
			t.Fatal(err)
		}
		if dst[i] != results.String(want) {
			t.Errorf("%s: numerics %v, want %s", raw, dst[i], want)
		}
	}
}

package results_test

import (
	"reflect"
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

package results_test

import (
	"testing"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
)

// FuzzParseFilter: any where text either parses or fails with an error;
// a parsed filter evaluates on a task without panicking.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"surrogate.shape=superspike", "a in {x,y}", "0.1<=surrogate.scale<=10",
		"test_acc>0.5 and status=ok", "network.hidden in {[100],[100,100]}", "x not in {'a,b'}", "val_acc@3<=1e-3",
		"{", "=", "<<", "a in {", "'", "[[]", "seed=1 and", " AND "} {
		f.Add(s)
	}
	rec := resultstest.Task{Shape: "sigmoid", Scale: 1, Seed: 1, State: results.StateDone, Status: "ok", Curve: []float64{0.5, 0.6}}.Record(f, "s", 0)
	f.Fuzz(func(t *testing.T, where string) {
		flt, err := results.ParseFilter([]string{where}, 0)
		if err != nil {
			return
		}
		view := results.NewTaskView(results.NewFlattener())
		view.Reset(&rec)
		if _, err := flt.Match(view, false); err != nil {
			t.Fatalf("match(%q): %v", where, err)
		}
		if _, err := flt.Match(view, true); err != nil {
			t.Fatalf("match(%q): %v", where, err)
		}
	})
}

// FuzzFlatten: any bytes either flatten or fail with an error.
func FuzzFlatten(f *testing.F) {
	rec := resultstest.Task{Shape: "esser", Scale: 2, Seed: 3, State: results.StatePending}.Record(f, "s", 0)
	for _, s := range []string{string(rec.Params), `{}`, `{"a":{"b":[1,{"c":"]"}]}}`, `{"a":"\"}"}`, `{"a":1`, `[`, `{"a":}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fl := results.NewFlattener()
		vals := make([]results.Value, len(fl.Paths()))
		_ = fl.Flatten(data, vals)
	})
}

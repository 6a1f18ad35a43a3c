package results

import (
	"testing"
)

// FuzzParseFilter: any where text either parses or fails with an error;
// a parsed filter evaluates on a task without panicking.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"surrogate.shape=superspike", "a in {x,y}", "0.1<=surrogate.scale<=10",
		"test_acc>0.5 and status=ok", "network.hidden in {[100],[100,100]}", "x not in {'a,b'}", "val_acc@3<=1e-3",
		"{", "=", "<<", "a in {", "'", "[[]", "seed=1 and", " AND "} {
		f.Add(s)
	}
	rec := synthTask{shape: "sigmoid", scale: 1, seed: 1, state: StateDone, status: "ok", curve: []float64{0.5, 0.6}}.record(f, "s", 0)
	f.Fuzz(func(t *testing.T, where string) {
		flt, err := ParseFilter([]string{where}, 0)
		if err != nil {
			return
		}
		view := newTaskView(newFlattener())
		view.reset(&rec)
		if _, err := flt.match(view, false); err != nil {
			t.Fatalf("match(%q): %v", where, err)
		}
		if _, err := flt.match(view, true); err != nil {
			t.Fatalf("match(%q): %v", where, err)
		}
	})
}

// FuzzFlatten: any bytes either flatten or fail with an error.
func FuzzFlatten(f *testing.F) {
	rec := synthTask{shape: "esser", scale: 2, seed: 3, state: StatePending}.record(f, "s", 0)
	for _, s := range []string{string(rec.Params), `{}`, `{"a":{"b":[1,{"c":"]"}]}}`, `{"a":"\"}"}`, `{"a":1`, `[`, `{"a":}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fl := newFlattener()
		vals := make([]Value, len(fl.schema.paths))
		_ = fl.flatten(data, vals)
	})
}

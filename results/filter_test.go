package results_test

import (
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
)

func TestFilterMatches(t *testing.T) {
	done := resultstest.Task{Shape: "sigmoid", Scale: 0.1, LR: 0.01, Seed: 2, State: results.StateDone, Status: protocol.StatusOK,
		Curve: []float64{0.5, 0.7, 0.9}}
	pending := resultstest.Task{Shape: "esser", Scale: 1000, Seed: 1, State: results.StatePending}
	tests := []struct {
		where       string
		done, pend  bool
		metricOnDon bool // for metric clauses: whether the done task passes
	}{
		{"surrogate.shape=sigmoid", true, false, true},
		{"surrogate.shape==sigmoid", true, false, true},
		{"surrogate.shape = 'sigmoid'", true, false, true},
		{"surrogate.shape!=sigmoid", false, true, true},
		{"surrogate.shape in {sigmoid, esser}", true, true, true},
		{"surrogate.shape IN {superspike,esser}", false, true, true},
		{"surrogate.shape not in {superspike,esser}", true, false, true},
		{"surrogate.scale=1e-1", true, false, true},
		{"surrogate.scale=0.1", true, false, true},
		{"surrogate.scale<1", true, false, true},
		{"surrogate.scale>=1000", false, true, true},
		{"0.1<=surrogate.scale<=10", true, false, true},
		{"0.1<surrogate.scale<=1000", false, true, true},
		{"1000>=surrogate.scale>0.1", false, true, true},
		{"train.lr in {0.01, 0.05}", true, true, true},
		{"network.hidden=[100]", true, true, true},
		{"network.hidden in {[100],[100,100]}", true, true, true},
		{"network.hidden=[100, 100]", false, false, true},
		{"network.depth=1", true, true, true},
		{"network.recurrent=false", true, true, true},
		{"seed=2 and surrogate.shape=sigmoid", true, false, true},
		{"seed=2 AND surrogate.shape=esser", false, false, true},
		{"state=done", true, false, true},
		{"status in {ok,diverged}", true, false, true},
		{"status=pending", false, true, true},
		// Metric clauses: pending tasks never pass; the done task passes
		// the planned-task phase and is tested on its metrics.
		{"test_acc>0.85", true, true, true},
		{"test_acc>0.95", true, true, false},
		{"val_acc@2<0.75", true, true, true},
		{"0.6<=val_acc@1<=0.8", true, true, false},
		{"test_acc=0.91", true, true, true},
		{"test_acc!=0.91", true, true, false},
	}
	flat := results.NewFlattener()
	view := results.NewTaskView(flat)
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			f, err := results.ParseFilter([]string{tt.where}, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name string
				task resultstest.Task
				want bool
			}{{"done", done, tt.done}, {"pending", pending, tt.pend}} {
				rec := c.task.Record(t, "s", 0)
				view.Reset(&rec)
				got, err := f.Match(view, false)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%s task: planned-task clauses = %v, want %v", c.name, got, c.want)
				}
			}
			if f.HasMetricClauses() {
				rec := done.Record(t, "s", 0)
				view.Reset(&rec)
				if got, _ := f.Match(view, true); got != tt.metricOnDon {
					t.Errorf("done task: metric clauses = %v, want %v", got, tt.metricOnDon)
				}
				rec = pending.Record(t, "s", 1)
				view.Reset(&rec)
				if got, _ := f.Match(view, true); got {
					t.Errorf("pending task passes a metric clause")
				}
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct{ where, want string }{
		{"surrogate.scale", "want field=value"},
		{"surrogate.scale<=abc", `want a number, got "abc"`},
		{"surrogate.shape<3", "surrogate.shape is not a number"},
		{"surrogate.shape=nope", `"nope" is not one of`},
		{"state=running", `"running" is not one of pending, done, stopped, failed`},
		{"train.lr=fast", `train.lr is a number`},
		{"network.recurrent=yes", "true or false"},
		{"network.hidden=100", "a list like [100,100]"},
		{"1<surrogate.scale>10", "two < or two >"},
		{"surrogate.scal=1", `unknown parameter or metric "surrogate.scal" (did you mean surrogate.scale?)`},
		{"val_acc@*>0.5", "(@*) is only for query metrics"},
		{"surrogate.shape in {}", "empty set"},
		{"train.lr=", "missing value"},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			_, err := results.ParseFilter([]string{tt.where}, 0)
			if err == nil {
				t.Fatalf("results.ParseFilter(%q) succeeded", tt.where)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.where) {
				t.Errorf("results.ParseFilter(%q) = %q, want it to quote the clause and say %q", tt.where, err, tt.want)
			}
		})
	}
}

func TestSplitAnd(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a=1 and b=2", []string{"a=1", "b=2"}},
		{"a=1 AND b in {x and y}", []string{"a=1", "b in {x and y}"}},
		{"a='x and y'", []string{"a='x and y'"}},
		{"brand=1", []string{"brand=1"}},
		{"  ", nil},
	}
	for _, tt := range tests {
		if got := results.SplitAnd(tt.in); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("results.SplitAnd(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFlattenParams(t *testing.T) {
	rec := resultstest.Task{Shape: "esser", Scale: 2.5, Seed: 7, State: results.StatePending}.Record(t, "s", 0)
	flat := results.NewFlattener()
	vals := make([]results.Value, len(flat.Paths()))
	if err := flat.Flatten(rec.Params, vals); err != nil {
		t.Fatal(err)
	}
	want := map[string]results.Value{
		"surrogate.shape":             results.String("esser"),
		"surrogate.scale":             results.Number(2.5),
		"seed":                        results.Number(7),
		"network.hidden":              {Kind: results.KindList, Text: "[100]"},
		"network.depth":               results.Number(1),
		"network.recurrent":           results.Bool(false),
		"regularizer.lower.threshold": results.Number(1e-3),
		"dataset.name":                results.String("randman"),
	}
	for path, w := range want {
		i, ok := flat.Index(path)
		if !ok {
			t.Fatalf("schema lacks %s", path)
		}
		if !vals[i].Equal(w) {
			t.Errorf("%s = %#v, want %#v", path, vals[i], w)
		}
	}
	for i, v := range vals {
		if v.IsNone() {
			t.Errorf("%s is missing after flattening a full config", flat.Paths()[i])
		}
	}
	// Key order and whitespace do not matter; unknown paths are counted.
	other := []byte(`{ "surrogate": {"scale": 3, "shape": "sigmoid"}, "future": {"knob": [1, 2]}, "network": {"hidden": [64,64,64]} }`)
	if err := flat.Flatten(other, vals); err != nil {
		t.Fatal(err)
	}
	if i, _ := flat.Index("network.depth"); vals[i].Num != 3 {
		t.Errorf("network.depth = %v, want 3", vals[i])
	}
	if i, _ := flat.Index("surrogate.shape"); vals[i].Text != "sigmoid" {
		t.Errorf("surrogate.shape = %v, want sigmoid", vals[i])
	}
	if flat.Unknown()["future.knob"] != 1 {
		t.Errorf("unknown paths = %v, want future.knob counted", flat.Unknown())
	}
	for _, bad := range []string{`{"a": }`, `{"a": 1`, `[1]`, `{"a": "x}`, `{"a": 1} x`} {
		if err := flat.Flatten([]byte(bad), vals); err == nil {
			t.Errorf("flatten(%s) succeeded", bad)
		}
	}
}

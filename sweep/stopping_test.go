package sweep

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/sim"
)

// stopSpec is a small sweep (epochs 30, or 10 and 40 under train.epochs)
// with the given stopping block appended.
const stopSpec = `name: s
base: {train.epochs: 30}
grid:
  surrogate.shape: [superspike, esser]
  network.reset: [detached, differentiable]
`

func TestStoppingParse(t *testing.T) {
	s := mustParse(t, stopSpec+`stopping:
  metric: val_acc
  mode: max
  rules:
    - {rule: chance, after: 5, margin: 0.02}
    - {rule: median, warmup: 10, min_tasks: 3}
    - {rule: asha, grace: 5, reduction: 3}
  group: [surrogate.shape, network.reset]
`)
	want := &Stopping{
		Metric: "val_acc", Mode: ModeMax,
		Rules: []StopRule{
			{Rule: RuleChance, After: 5, Margin: 0.02},
			{Rule: RuleMedian, Warmup: 10, MinTasks: 3},
			{Rule: RuleASHA, Grace: 5, Reduction: 3},
		},
		Group: []string{"network.reset", "surrogate.shape"}, // sorted
	}
	if got := s.Stopping(); !reflect.DeepEqual(got, want) {
		t.Errorf("Stopping() = %+v, want %+v", got, want)
	}
	if got, want := s.Stopping().String(), "val_acc (max): chance after 5 margin 0.02, median warmup 10 min_tasks 3, asha grace 5 reduction 3; group by network.reset, surrogate.shape"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// The returned block is a copy.
	s.Stopping().Rules[0].After = 99
	if s.Stopping().Rules[0].After != 5 {
		t.Error("modifying Stopping() changed the spec")
	}
}

func TestStoppingDefaults(t *testing.T) {
	s := mustParse(t, stopSpec+`stopping:
  metric: train_loss
  rules: [{rule: chance, after: 1}, {rule: median, warmup: 2}, {rule: asha, grace: 3}]
`)
	want := &Stopping{
		Metric: "train_loss", Mode: ModeMin,
		Rules: []StopRule{
			{Rule: RuleChance, After: 1, Margin: DefaultMargin},
			{Rule: RuleMedian, Warmup: 2, MinTasks: DefaultMinTasks},
			{Rule: RuleASHA, Grace: 3, Reduction: DefaultReduction},
		},
	}
	if got := s.Stopping(); !reflect.DeepEqual(got, want) {
		t.Errorf("Stopping() = %+v, want %+v", got, want)
	}
	if none := mustParse(t, stopSpec); none.Stopping() != nil {
		t.Errorf("a spec without a stopping block has Stopping() = %v", none.Stopping())
	}
	if none := mustParse(t, stopSpec+"stopping:\n"); none.Stopping() != nil {
		t.Errorf("an empty stopping block gave Stopping() = %v", none.Stopping())
	}
}

// TestStoppingFingerprint checks that the stopping block is part of the
// fingerprint, that its spelling and defaults are not, and that a spec
// without one keeps the fingerprint it had before stopping existed.
func TestStoppingFingerprint(t *testing.T) {
	plain := mustParse(t, stopSpec)
	if strings.Contains(string(plain.Canonical()), "stopping") {
		t.Errorf("canonical spec without a stopping block mentions it: %s", plain.Canonical())
	}
	ref := mustParse(t, stopSpec+"stopping:\n  metric: val_acc\n  rules: [{rule: asha, grace: 2}, {rule: chance, after: 3}]\n  group: [surrogate.shape, network.reset]\n")
	same := mustParse(t, stopSpec+`stopping:   # other spelling, defaults written out
  group:
    - network.reset
    - surrogate.shape
  rules:
    - rule: asha
      reduction: 4
      grace: 2
    - {margin: 0.0, after: 3, rule: chance}
  mode: max
  metric: val_acc
`)
	if ref.Fingerprint() != same.Fingerprint() {
		t.Errorf("fingerprint changed: %q", Diff(ref.Canonical(), same.Canonical()))
	}
	for _, tt := range []struct {
		name, block, diff string
	}{
		{"none", "", "stopping: removed val_acc (max): asha grace 2 reduction 4, chance after 3 margin 0; group by network.reset, surrogate.shape"},
		{"rule order", "stopping:\n  metric: val_acc\n  rules: [{rule: chance, after: 3}, {rule: asha, grace: 2}]\n  group: [surrogate.shape, network.reset]\n",
			"stopping: val_acc (max): asha grace 2 reduction 4, chance after 3 margin 0; group by network.reset, surrogate.shape → val_acc (max): chance after 3 margin 0, asha grace 2 reduction 4; group by network.reset, surrogate.shape"},
		{"margin", "stopping:\n  metric: val_acc\n  rules: [{rule: asha, grace: 2}, {rule: chance, after: 3, margin: 0.01}]\n  group: [surrogate.shape, network.reset]\n",
			"stopping: val_acc (max): asha grace 2 reduction 4, chance after 3 margin 0; group by network.reset, surrogate.shape → val_acc (max): asha grace 2 reduction 4, chance after 3 margin 0.01; group by network.reset, surrogate.shape"},
		{"group", "stopping:\n  metric: val_acc\n  rules: [{rule: asha, grace: 2}, {rule: chance, after: 3}]\n",
			"stopping: val_acc (max): asha grace 2 reduction 4, chance after 3 margin 0; group by network.reset, surrogate.shape → val_acc (max): asha grace 2 reduction 4, chance after 3 margin 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, stopSpec+tt.block)
			if s.Fingerprint() == ref.Fingerprint() {
				t.Fatal("fingerprint did not change")
			}
			if got := Diff(ref.Canonical(), s.Canonical()); !slices.Equal(got, []string{tt.diff}) {
				t.Errorf("Diff = %q, want %q", got, tt.diff)
			}
		})
	}
	if got, want := Diff(plain.Canonical(), ref.Canonical()), "stopping: added "+ref.Stopping().String(); !slices.Equal(got, []string{want}) {
		t.Errorf("Diff(added) = %q, want %q", got, want)
	}
}

// TestStoppingErrors checks that each bad stopping block is refused with
// an error naming its line and field.
func TestStoppingErrors(t *testing.T) {
	const epochsAxis = "name: s\ngrid:\n  train.epochs: [10, 40]\n  surrogate.shape: [superspike, esser]\nexclude: [{train.epochs: 40, surrogate.shape: esser}]\n"
	tests := []struct {
		name  string
		spec  string
		line  int
		field string
		msg   string
	}{
		{"not a mapping", stopSpec + "stopping: [val_acc]\n", 6, "stopping", "want a mapping with keys metric, mode, rules, group"},
		{"unknown key", stopSpec + "stopping:\n  metric: val_acc\n  rule: [{rule: chance, after: 1}]\n", 8, "stopping.rule", "unknown key (allowed: metric, mode, rules, group) (did you mean rules?)"},
		{"key twice", stopSpec + "stopping:\n  metric: val_acc\n  metric: train_acc\n  rules: [{rule: chance, after: 1}]\n", 8, "stopping.metric", "set twice (also on line 7)"},
		{"missing metric", stopSpec + "stopping:\n  rules: [{rule: chance, after: 1}]\n", 7, "stopping.metric", "missing: the per-epoch curve the rules compare (one of train_loss, train_acc, val_acc)"},
		{"final metric", stopSpec + "stopping:\n  metric: test_acc\n  rules: [{rule: chance, after: 1}]\n", 7, "stopping.metric",
			`"test_acc" is not a per-epoch curve: the rules compare one of train_loss, train_acc, val_acc, known after every epoch`},
		{"metric not a string", stopSpec + "stopping:\n  metric: [val_acc]\n  rules: [{rule: chance, after: 1}]\n", 7, "stopping.metric", "want a string, got a list"},
		{"bad mode", stopSpec + "stopping:\n  metric: val_acc\n  mode: maximum\n  rules: [{rule: chance, after: 1}]\n", 8, "stopping.mode", `"maximum" is not a mode: max (higher is better) or min (lower is better)`},
		{"mode against the metric", stopSpec + "stopping:\n  metric: train_loss\n  mode: max\n  rules: [{rule: chance, after: 1}]\n", 8, "stopping.mode", "train_loss is better when lower, so its mode is min, not max"},
		{"missing rules", stopSpec + "stopping:\n  metric: val_acc\n", 7, "stopping.rules", "missing: a list of rules like [{rule: chance, after: 5}] (rules: chance, median, asha)"},
		{"empty rules", stopSpec + "stopping:\n  metric: val_acc\n  rules: []\n", 8, "stopping.rules", "want a list of rules"},
		{"rules a mapping", stopSpec + "stopping:\n  metric: val_acc\n  rules: {rule: chance, after: 1}\n", 8, "stopping.rules", "want a list of rules like [{rule: chance, after: 5}] (rules: chance, median, asha), got a mapping"},
		{"rule not a mapping", stopSpec + "stopping:\n  metric: val_acc\n  rules: [chance]\n", 8, "stopping.rules[0]", `a rule is a mapping like {rule: chance, after: 5}; got string "chance"`},
		{"rule missing", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {after: 1}\n", 9, "stopping.rules[0].rule", "missing: which rule (chance, median, asha)"},
		{"unknown rule", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, after: 1}\n    - {rule: medain, warmup: 3}\n", 10, "stopping.rules[1].rule", `unknown rule "medain" (rules: chance, median, asha) (did you mean median?)`},
		{"unknown key of a rule", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, after: 1, margn: 0.1}\n", 9, "stopping.rules[0].margn", "unknown key of rule chance (allowed: rule, after, margin) (did you mean margin?)"},
		{"key of another rule", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, warmup: 1}\n", 9, "stopping.rules[0].warmup", "warmup is a key of rule median, not of chance (chance takes after, margin)"},
		{"rule key twice", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - rule: chance\n      after: 1\n      after: 2\n", 11, "stopping.rules[0].after", "set twice (also on line 10)"},
		{"missing after", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, margin: 0.1}\n", 9, "stopping.rules[0].after", "missing: the first epoch at which rule chance applies (an integer ≥ 1)"},
		{"missing grace", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: asha}\n", 9, "stopping.rules[0].grace", "missing: the first epoch at which rule asha applies"},
		{"after zero", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, after: 0}\n", 9, "stopping.rules[0].after", "must be ≥ 1 (epochs count from 1), got 0"},
		{"warmup fractional", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: median, warmup: 2.5}\n", 9, "stopping.rules[0].warmup", "want an integer, got number 2.5"},
		{"grace negative", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: asha, grace: -1}\n", 9, "stopping.rules[0].grace", "must be ≥ 1 (epochs count from 1), got -1"},
		{"after at the last epoch", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, after: 30}\n", 9, "stopping.rules[0].after",
			"30 is not below the largest train.epochs of the sweep's tasks (30): the rule could never stop a task"},
		{"warmup beyond the epochs", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, after: 3}\n    - {rule: median, warmup: 31}\n", 10, "stopping.rules[1].warmup",
			"31 is not below the largest train.epochs of the sweep's tasks (30)"},
		{"grace beyond the epochs of an axis", epochsAxis + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: asha, grace: 40}\n", 9, "stopping.rules[0].grace",
			"40 is not below the largest train.epochs of the sweep's tasks (40)"},
		{"margin negative", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, after: 1, margin: -0.1}\n", 9, "stopping.rules[0].margin", "must be ≥ 0 and < 1, got -0.1"},
		{"margin one", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, after: 1, margin: 1}\n", 9, "stopping.rules[0].margin", "must be ≥ 0 and < 1, got 1"},
		{"margin not finite", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: chance, after: 1, margin: .nan}\n", 9, "stopping.rules[0].margin", "want a finite number"},
		{"min_tasks zero", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: median, warmup: 1, min_tasks: 0}\n", 9, "stopping.rules[0].min_tasks", "must be ≥ 1, got 0"},
		{"reduction one", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: asha, grace: 1, reduction: 1}\n", 9, "stopping.rules[0].reduction", "must be ≥ 2 (a rung keeps its top 1/reduction), got 1"},
		{"repeated rule", stopSpec + "stopping:\n  metric: val_acc\n  rules:\n    - {rule: asha, grace: 1}\n    - {rule: asha, grace: 1, reduction: 4}\n", 10, "stopping.rules[1]", "repeats rules[0]"},
		{"group not a list", stopSpec + "stopping:\n  metric: val_acc\n  rules: [{rule: chance, after: 1}]\n  group: surrogate.shape\n", 9, "stopping.group", `want a list of config paths like [surrogate.shape], got string "surrogate.shape"`},
		{"group not a config path", stopSpec + "stopping:\n  metric: val_acc\n  rules: [{rule: chance, after: 1}]\n  group: [surrogate.shap]\n", 9, "stopping.group[0]",
			`unknown field of surrogate "shap" (allowed: shape, scale) (did you mean shape?)`},
		{"group repeated", stopSpec + "stopping:\n  metric: val_acc\n  rules: [{rule: chance, after: 1}]\n  group: [surrogate.shape, surrogate.shape]\n", 9, "stopping.group[1]", "surrogate.shape repeats group[0]"},
		{"group not varied", stopSpec + "stopping:\n  metric: val_acc\n  rules: [{rule: chance, after: 1}]\n  group: [train.lr]\n", 9, "stopping.group[0]",
			"train.lr is not varied by any axis: every task has the same value, so it would not split the sweep into groups"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("spec.yaml", []byte(tt.spec))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tt.spec)
			}
			for _, se := range specErrorsOf(err) {
				if se.File == "spec.yaml" && se.Line == tt.line && se.Field == tt.field && strings.Contains(se.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("Parse error:\n%v\nwant one at line %d, field %q, containing %q", err, tt.line, tt.field, tt.msg)
		})
	}
}

// TestStoppingEpochsAfterExclusion checks that the largest epochs are
// those of the tasks left after exclusion, and that a group path may be a
// parent of an axis' path.
func TestStoppingEpochsAfterExclusion(t *testing.T) {
	const spec = "name: s\ngrid:\n  train.epochs: [10, 40]\n  surrogate.shape: [superspike, esser]\nexclude: [{train.epochs: 40}]\n" +
		"stopping:\n  metric: val_acc\n  rules: [{rule: chance, after: 20}]\n  group: [surrogate]\n"
	_, err := Parse("spec.yaml", []byte(spec))
	if err == nil || !strings.Contains(err.Error(), "spec.yaml:8: stopping.rules[0].after: 20 is not below the largest train.epochs of the sweep's tasks (10)") {
		t.Errorf("Parse error %v, want the after of 20 refused against 10 epochs", err)
	}
	s := mustParse(t, strings.Replace(spec, "after: 20", "after: 9", 1))
	if got := s.Stopping().Group; !slices.Equal(got, []string{"surrogate"}) {
		t.Errorf("Group = %q", got)
	}
}

func TestStopMetricValue(t *testing.T) {
	ep := sim.Epoch{Epoch: 3, TrainLoss: 1.5, TrainAcc: 0.25, ValAcc: 0.5}
	want := map[string][2]any{"train_loss": {1.5, ModeMin}, "train_acc": {0.25, ModeMax}, "val_acc": {0.5, ModeMax}}
	if names := StopMetrics(); len(names) != len(want) {
		t.Errorf("StopMetrics() = %q, want %d names", names, len(want))
	}
	for _, name := range StopMetrics() {
		v, mode, ok := StopMetricValue(name, ep)
		if !ok || v != want[name][0] || mode != want[name][1] {
			t.Errorf("StopMetricValue(%s) = %v, %s, %v; want %v", name, v, mode, ok, want[name])
		}
	}
	if _, _, ok := StopMetricValue("test_acc", ep); ok {
		t.Error("StopMetricValue(test_acc) is ok")
	}
	// Every sim.Epoch field named in StopMetrics is a float of the curve.
	typ := reflect.TypeFor[sim.Epoch]()
	for _, name := range StopMetrics() {
		f, ok := fieldByName(typ, name)
		if !ok || f.Type.Kind() != reflect.Float64 {
			t.Errorf("stop metric %s is not a float field of sim.Epoch", name)
		}
	}
}

// TestStoppingDocExamples parses the stopping blocks shown in the README
// and docs/stopping.md, so that they stay valid.
func TestStoppingDocExamples(t *testing.T) {
	for _, file := range []string{"../README.md", "../docs/stopping.md"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, found := strings.Cut(string(data), "\n    stopping:\n")
		if !found {
			t.Fatalf("%s: no indented stopping block", file)
		}
		block := "stopping:\n"
		for _, line := range strings.Split(rest, "\n") {
			if !strings.HasPrefix(line, "    ") {
				break
			}
			block += line[4:] + "\n"
		}
		spec := "name: doc\nbase: {train.epochs: 50}\ngrid:\n  surrogate.shape: [superspike, esser]\n  network.reset: [detached, differentiable]\n" + block
		if _, err := Parse(file, []byte(spec)); err != nil {
			t.Errorf("%s: the example does not parse:\n%s\n%v", file, block, err)
		}
	}
}

// FuzzParseStopping checks that Parse never panics on stopping blocks, and
// that an accepted block is complete: a known metric and its mode, rules
// with their defaults, first epochs below the tasks' largest, a summary
// that tells blocks apart.
func FuzzParseStopping(f *testing.F) {
	f.Add([]byte("metric: val_acc\nrules: [{rule: chance, after: 5, margin: 0.02}, {rule: median, warmup: 10}, {rule: asha, grace: 5, reduction: 3}]\ngroup: [surrogate.shape]\n"))
	f.Add([]byte("metric: train_loss\nmode: min\nrules:\n  - &r {rule: asha, grace: 1}\n  - *r\n"))
	f.Add([]byte("metric: val_acc\nrules: [{rule: median, warmup: 2, min_tasks: 1, *k: 3}]\n"))
	f.Fuzz(func(t *testing.T, block []byte) {
		indented := "  " + strings.ReplaceAll(string(block), "\n", "\n  ")
		s, err := Parse("fuzz.yaml", []byte(stopSpec+"stopping:\n"+indented+"\n"))
		if err != nil {
			if len(specErrorsOf(err)) == 0 {
				t.Fatalf("Parse error %v (%T) holds no *SpecError", err, err)
			}
			return
		}
		st := s.Stopping()
		if st == nil {
			return
		}
		_, mode, ok := StopMetricValue(st.Metric, sim.Epoch{})
		if !ok || mode != st.Mode || len(st.Rules) == 0 || !slices.IsSorted(st.Group) {
			t.Fatalf("incomplete block %+v", st)
		}
		for _, r := range st.Rules {
			first := max(r.After, r.Warmup, r.Grace)
			if first < 1 || first >= 30 || r.Margin < 0 || r.Margin >= 1 ||
				(r.Rule == RuleMedian) != (r.MinTasks >= 1) || (r.Rule == RuleASHA) != (r.Reduction >= 2) {
				t.Fatalf("bad rule %+v", r)
			}
		}
		if d := Diff(s.Canonical(), mustParse(t, stopSpec).Canonical()); len(d) != 1 || !strings.HasPrefix(d[0], "stopping: removed") {
			t.Fatalf("Diff to no block = %q", d)
		}
	})
}

// CanonicalHasStopping finds the stopping block in the canonical spec, and
// only there.
func TestCanonicalHasStopping(t *testing.T) {
	for _, c := range []struct {
		spec string
		want bool
	}{
		{"name: a\ngrid: {surrogate.scale: [1, 10]}\n", false},
		{"name: a\nbase: {train: {epochs: 10}}\ngrid: {surrogate.scale: [1, 10]}\n" +
			"stopping: {metric: val_acc, rules: [{rule: chance, after: 3}]}\n", true},
	} {
		s, err := Parse("spec.yaml", []byte(c.spec))
		if err != nil {
			t.Fatal(err)
		}
		if got := CanonicalHasStopping(s.Canonical()); got != c.want {
			t.Errorf("CanonicalHasStopping(%s) = %v, want %v", s.Canonical(), got, c.want)
		}
	}
	if CanonicalHasStopping([]byte("not json")) {
		t.Error("CanonicalHasStopping of garbage = true")
	}
}

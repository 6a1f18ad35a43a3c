package sweep

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/internal/golden"
	"github.com/sgsweep/sgsweep/sim"
)

// renderExpansion describes a spec's expansion for the golden files.
func renderExpansion(s *Spec, tasks []Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nfingerprint: %s\npoints: %d\ntasks: %d\naxes:\n", s.Name, s.Fingerprint(), s.Points(), s.Count())
	for _, ax := range s.Axes() {
		fmt.Fprintf(&b, "  %s %s: %s\n", ax.Kind, ax.Name(), formatPoints(ax.Values))
	}
	b.WriteString("tasks:\n")
	for _, t := range tasks {
		parts := make([]string, len(t.Point))
		for i, a := range t.Point {
			parts[i] = a.String()
		}
		fmt.Fprintf(&b, "  %d %s %s\n", t.Ordinal, t.ID, strings.Join(parts, " "))
	}
	fmt.Fprintf(&b, "first params: %s\n", tasks[0].Params)
	return b.String()
}

func TestExpandGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/expand/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no specs in testdata/expand: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, tasks := mustExpandFile(t, file)
			checkTasks(t, s, tasks)
			got := renderExpansion(s, tasks)
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte(got))
		})
	}
}

// checkTasks checks the invariants every expansion has.
func checkTasks(t *testing.T, s *Spec, tasks []Task) {
	t.Helper()
	if len(tasks) != s.Count() {
		t.Errorf("Expand gave %d tasks, Count() = %d", len(tasks), s.Count())
	}
	ids := map[string]int{}
	for i, task := range tasks {
		if task.Ordinal != i {
			t.Errorf("task %d has Ordinal %d", i, task.Ordinal)
		}
		if prev, dup := ids[task.ID]; dup {
			t.Errorf("tasks %d and %d have the same ID %s", prev, i, task.ID)
		}
		ids[task.ID] = i
		if id := TaskID(task.Params); id != task.ID || len(id) != 32 {
			t.Errorf("task %d: ID %s, TaskID(Params) = %s", i, task.ID, id)
		}
		canon, err := Canonical(task.Config)
		if err != nil || string(canon) != string(task.Params) {
			t.Errorf("task %d: Params %s are not Canonical(Config) = %s (%v)", i, task.Params, canon, err)
		}
		if err := task.Config.Validate(); err != nil {
			t.Errorf("task %d: invalid config: %v", i, err)
		}
		cfg, err := DecodeParams(task.Params)
		if err != nil || !reflect.DeepEqual(cfg, task.Config) {
			t.Errorf("task %d: params decode to %+v, %v; want %+v", i, cfg, err, task.Config)
		}
		// Point values are the config's values at those paths, or
		// defaults its JSON leaves out (numerics: float64).
		for _, a := range task.Point {
			got := lookupJSON(task.Params, a.Path)
			if len(got) == 0 && isOmittedDefault(a) {
				continue
			}
			if string(got) != string(a.Value) {
				t.Errorf("task %d: point %s, params have %s", i, a, got)
			}
		}
	}
}

// isOmittedDefault reports whether a top-level point value is one a
// configuration's JSON leaves out: the default configuration with it set
// has the default's canonical JSON.
func isOmittedDefault(a Assignment) bool {
	if strings.Contains(a.Path, ".") {
		return false
	}
	def, err := Canonical(sim.DefaultConfig())
	if err != nil {
		return false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(def, &obj) != nil {
		return false
	}
	obj[a.Path] = a.Value
	set, err := json.Marshal(obj)
	if err != nil {
		return false
	}
	var cfg sim.Config
	if json.Unmarshal(set, &cfg) != nil {
		return false
	}
	canon, err := Canonical(cfg)
	return err == nil && string(canon) == string(def)
}

// lookupJSON returns the value at a dotted path of a JSON object.
func lookupJSON(raw json.RawMessage, path string) json.RawMessage {
	for _, seg := range strings.Split(path, ".") {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		raw = obj[seg]
	}
	canon, _ := Canonical(raw)
	return canon
}

func mustParse(t testing.TB, src string) *Spec {
	t.Helper()
	s, err := Parse("spec.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror: %v", src, err)
	}
	return s
}

// mustExpandFile parses the spec file and expands its tasks.
func mustExpandFile(t testing.TB, file string) (*Spec, []Task) {
	t.Helper()
	s, err := ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return s, mustExpand(t, s)
}

func mustExpand(t testing.TB, s *Spec) []Task {
	t.Helper()
	tasks, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

func TestGenerators(t *testing.T) {
	tests := []struct {
		path, axis string
		want       []string
	}{
		{"train.epochs", `{range: [1, 10, 3]}`, []string{"1", "4", "7"}},
		{"train.epochs", `{range: [5, 0, -2]}`, []string{"5", "3", "1"}},
		{"train.epochs", `{range: [1, 2, 5]}`, []string{"1"}},
		{"train.lr", `{range: [0.1, 1, 0.1]}`, []string{"0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"}},
		{"train.lr", `{range: [0.01, 0.03, 0.01]}`, []string{"0.01", "0.02"}},
		{"surrogate.scale", `{range: [0, 0.3, 0.1]}`, []string{"0", "0.1", "0.2"}},
		{"surrogate.scale", `{range: [1, 0, -0.25]}`, []string{"1", "0.75", "0.5", "0.25"}},
		{"surrogate.scale", `{linspace: [0, 1, 5]}`, []string{"0", "0.25", "0.5", "0.75", "1"}},
		{"surrogate.scale", `{linspace: [0.1, 0.3, 3]}`, []string{"0.1", "0.2", "0.3"}},
		{"surrogate.scale", `{linspace: [2, 7, 1]}`, []string{"2"}},
		{"surrogate.scale", `{logspace: [-1, 3, 5]}`, []string{"0.1", "1", "10", "100", "1000"}},
		{"surrogate.scale", `{logspace: [-3, -1, 3]}`, []string{"0.001", "0.01", "0.1"}},
		{"surrogate.scale", `{logspace: [-1, 3, 13]}`, []string{"0.1", "0.215443469003188", "0.464158883361278", "1", "2.15443469003188", "4.64158883361278", "10", "21.5443469003188", "46.4158883361278", "100", "215.443469003188", "464.158883361278", "1000"}},
		{"surrogate.scale", `[0, {logspace: [0, 1, 2]}, {range: [20, 40, 10]}, 1e3]`, []string{"0", "1", "10", "20", "30", "1000"}},
		{"train.epochs", `{linspace: [10, 30, 3]}`, []string{"10", "20", "30"}},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.axis, func(t *testing.T) {
			s := mustParse(t, fmt.Sprintf("name: g\ngrid:\n  %s: %s\n", tt.path, tt.axis))
			var got []string
			for _, v := range s.Axes()[0].Values {
				got = append(got, string(v[0]))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s: %s = %v, want %v", tt.path, tt.axis, got, tt.want)
			}
		})
	}
}

// TestCosmeticInvariance checks that edits that do not change what a spec
// computes keep every task ID, ordinal and the fingerprint, and that moving
// an axis keeps the IDs but changes ordinals and the fingerprint.
func TestCosmeticInvariance(t *testing.T) {
	const original = `name: cosmetic
description: the original
base:
  train: {epochs: 20, lr: 0.01}
  dataset: {samples_per_class: 200}
grid:
  surrogate.shape: [superspike, esser]
  surrogate.scale: [0.1, 1, 10]
  network.hidden: [[100], [100, 100]]
exclude:
  - {surrogate.shape: esser, surrogate.scale: 0.1}
replicates: {seed: 2}
`
	variants := map[string]string{
		"key order, comments, other name and description": `# a comment
replicates: {seed: 2}   # two seeds
exclude:
  - {surrogate.scale: 0.1, surrogate.shape: esser}
grid:
  surrogate.shape: [superspike, esser]
  surrogate.scale: [0.1, 1, 10]
  network.hidden: [[100], [100, 100]]
base:
  dataset: {samples_per_class: 200}
  train: {lr: 0.01, epochs: 20}
description: edited
name: renamed
max_tasks: 500
`,
		"number spelling": `name: cosmetic
base:
  train: {epochs: 2e1, lr: 1e-2}
  dataset: {samples_per_class: 200.0}
grid:
  surrogate.shape: [superspike, esser]
  surrogate.scale: [1e-1, 1.0, 10.]
  network.hidden: [[1e2], [100, 100]]
exclude:
  - {surrogate.shape: esser, surrogate.scale: 0.10}
replicates: {seed: [1, 2]}
`,
		"block style, dotted base keys, generators": `name: cosmetic
base:
  train.epochs: 20
  train.lr: 0.01
  dataset.samples_per_class: 200
grid:
  surrogate.shape:
    - superspike
    - esser
  surrogate.scale: {logspace: [-1, 1, 3]}
  network.hidden:
    - [100]
    - [100, 100]
exclude:
  - surrogate.shape: [esser]
    surrogate.scale: {in: [0.1]}
replicates:
  seed: {range: [1, 3, 1]}
`,
		"defaults spelled out": `name: cosmetic
base:
  train: {epochs: 20, lr: 0.01, batch: 250}
  dataset: {samples_per_class: 200, name: randman}
  surrogate: {scale: 99}   # overridden by the axis: not part of any task
grid:
  surrogate.shape: [superspike, esser]
  surrogate.scale: [0.1, 1, 10]
  network.hidden: [[100], [100, 100]]
exclude:
  - {surrogate.shape: esser, surrogate.scale: 0.1}
replicates: {seed: 2}
`,
	}
	ref := mustParse(t, original)
	refTasks := mustExpand(t, ref)
	for name, src := range variants {
		t.Run(name, func(t *testing.T) {
			s := mustParse(t, src)
			tasks := mustExpand(t, s)
			if len(tasks) != len(refTasks) {
				t.Fatalf("%d tasks, want %d", len(tasks), len(refTasks))
			}
			for i := range tasks {
				if tasks[i].ID != refTasks[i].ID {
					t.Errorf("task %d: ID %s, want %s (%v vs %v)", i, tasks[i].ID, refTasks[i].ID, tasks[i].Point, refTasks[i].Point)
				}
			}
			if s.Fingerprint() != ref.Fingerprint() {
				t.Errorf("fingerprint changed: %v", Diff(ref.Canonical(), s.Canonical()))
			}
		})
	}

	t.Run("axis order", func(t *testing.T) {
		s := mustParse(t, strings.Replace(original,
			"  surrogate.shape: [superspike, esser]\n  surrogate.scale: [0.1, 1, 10]\n",
			"  surrogate.scale: [0.1, 1, 10]\n  surrogate.shape: [superspike, esser]\n", 1))
		tasks := mustExpand(t, s)
		var got, want []string
		for i := range tasks {
			got = append(got, tasks[i].ID)
			want = append(want, refTasks[i].ID)
		}
		if slices.Equal(got, want) {
			t.Error("reordering axes kept the ordinals; want the new order")
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Error("reordering axes changed the set of task IDs")
		}
		if s.Fingerprint() == ref.Fingerprint() {
			t.Error("reordering axes kept the fingerprint; ordinals changed, so it must change")
		}
		if d := Diff(ref.Canonical(), s.Canonical()); len(d) != 1 || !strings.HasPrefix(d[0], "axis order:") {
			t.Errorf("Diff = %q, want one axis order line", d)
		}
	})
}

func TestReplicatesVarySlowest(t *testing.T) {
	small := mustParse(t, "name: r\ngrid: {surrogate.shape: [superspike, esser, sigmoid]}\nreplicates: {seed: 2, data_seed: [5]}\n")
	big := mustParse(t, "name: r\ngrid: {surrogate.shape: [superspike, esser, sigmoid]}\nreplicates: {seed: 4, data_seed: [5]}\n")
	a, b := mustExpand(t, small), mustExpand(t, big)
	if len(a) != 6 || len(b) != 12 {
		t.Fatalf("got %d and %d tasks, want 6 and 12", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("raising the seed count moved task %d", i)
		}
	}
	want := []uint64{1, 1, 1, 2, 2, 2}
	for i, task := range a {
		if task.Config.Seed != want[i] || task.Config.DataSeed != 5 {
			t.Errorf("task %d: seed %d data_seed %d, want %d and 5", i, task.Config.Seed, task.Config.DataSeed, want[i])
		}
	}
	if axes := small.Axes(); axes[0].Name() != "seed" || axes[1].Name() != "data_seed" || axes[0].Kind != AxisReplicate {
		t.Errorf("axes = %+v; want seed, data_seed (replicates) first", axes)
	}
}

func TestExcludeRules(t *testing.T) {
	tests := []struct {
		name    string
		exclude string
		want    int // tasks left of 3 shapes × 3 scales × 2 widths = 18
	}{
		{"value", `{surrogate.shape: esser}`, 12},
		{"list is in", `{surrogate.shape: [esser, sigmoid]}`, 6},
		{"in", `{surrogate.shape: {in: [esser]}, surrogate.scale: {in: [1, 10]}}`, 14},
		{"not value", `{surrogate.shape: esser, surrogate.scale: {not: 1}}`, 14},
		{"not list", `{surrogate.shape: {not: [esser, sigmoid]}}`, 12},
		{"eq on a list field", `{network.hidden: {eq: [100, 100]}}`, 9},
		{"in on a list field", `{network.hidden: [[100, 100]], surrogate.scale: 1e1}`, 15},
		{"number spelling", `{surrogate.scale: 1.0e0}`, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, "name: x\ngrid:\n  surrogate.shape: [superspike, esser, sigmoid]\n  surrogate.scale: [0.1, 1, 10]\n  network.hidden: [[100], [100, 100]]\nexclude:\n  - "+tt.exclude+"\n")
			if s.Count() != tt.want || s.Points() != 18 {
				t.Errorf("exclude %s: %d of %d tasks left, want %d of 18", tt.exclude, s.Count(), s.Points(), tt.want)
			}
			checkTasks(t, s, mustExpand(t, s))
		})
	}

	t.Run("sub-field of a mapping axis", func(t *testing.T) {
		s := mustParse(t, "name: x\ngrid:\n  surrogate: [{shape: esser, scale: 1}, {shape: esser, scale: 2}, {shape: sigmoid}]\nexclude:\n  - surrogate.shape: esser\n    surrogate.scale: {not: 2}\n")
		tasks := mustExpand(t, s)
		if len(tasks) != 2 || tasks[0].Config.Surrogate != (sim.SurrogateConfig{Shape: "esser", Scale: 2}) ||
			tasks[1].Config.Surrogate != (sim.SurrogateConfig{Shape: "sigmoid", Scale: 10}) {
			t.Errorf("tasks = %+v, want esser/2 and sigmoid/10 (the default scale merged in)", tasks)
		}
	})
}

func TestTasksShareNoMemory(t *testing.T) {
	s := mustParse(t, "name: x\ngrid:\n  surrogate.shape: [superspike, esser]\nbase: {network: {hidden: [7, 8]}}\n")
	tasks := mustExpand(t, s)
	tasks[0].Config.Network.Hidden[0] = 99
	if tasks[1].Config.Network.Hidden[0] != 7 || s.Base().Network.Hidden[0] != 7 {
		t.Error("tasks share the network.hidden slice")
	}
	again := mustExpand(t, s)
	if again[0].Config.Network.Hidden[0] != 7 {
		t.Error("modifying a task changed the spec")
	}
}

func TestDiff(t *testing.T) {
	old := mustParse(t, "name: d\nbase: {train: {epochs: 50}}\ngrid:\n  surrogate.shape: [superspike, esser]\n  surrogate.scale: [1, 10]\nreplicates: {seed: 2}\n")
	tests := []struct {
		name, spec string
		want       []string
	}{
		{"same", "name: other\ngrid:\n  surrogate.shape: [superspike, esser]\n  surrogate.scale: [1.0, 1e1]\nbase: {train.epochs: 50}\nreplicates: {seed: [1, 2]}\n", nil},
		{"base and values", "name: d\nbase: {train: {epochs: 100}}\ngrid:\n  surrogate.shape: [superspike, esser]\n  surrogate.scale: [10, 100, 1000]\nreplicates: {seed: 2}\n",
			[]string{"base.train.epochs: 50 → 100", "axis surrogate.scale: added 100, 1000; removed 1"}},
		{"axes added and removed", "name: d\nbase: {train: {epochs: 50}}\ngrid:\n  surrogate.shape: [superspike, esser]\n  train.lr: [0.01]\nreplicates: {seed: 2}\n",
			[]string{"axis surrogate.scale: removed (had 2 values)", "axis train.lr: added with 1 values (0.01)"}},
		{"exclude", "name: d\nbase: {train: {epochs: 50}}\ngrid:\n  surrogate.shape: [superspike, esser]\n  surrogate.scale: [1, 10]\nreplicates: {seed: 2}\nexclude: [{surrogate.shape: esser, surrogate.scale: 1}]\n",
			[]string{`exclude: added rule {"surrogate.scale":{"in":[1]},"surrogate.shape":{"in":["esser"]}}`}},
		{"reordered values", "name: d\nbase: {train: {epochs: 50}}\ngrid:\n  surrogate.shape: [esser, superspike]\n  surrogate.scale: [1, 10]\nreplicates: {seed: 2}\n",
			[]string{"axis surrogate.shape: values reordered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustParse(t, tt.spec)
			if got := Diff(old.Canonical(), s.Canonical()); !slices.Equal(got, tt.want) {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
	if got := Diff([]byte("{"), old.Canonical()); len(got) != 1 {
		t.Errorf("Diff(unreadable) = %q, want one line", got)
	}
}

func TestExpandUnparsed(t *testing.T) {
	if _, err := new(Spec).Expand(); err == nil {
		t.Error("Expand of a zero Spec succeeded")
	}
}

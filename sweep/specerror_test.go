package sweep

import (
	"errors"
	"strings"
	"testing"
)

// TestSpecErrors checks that each broken spec is refused with an error that
// names the right line and field.
func TestSpecErrors(t *testing.T) {
	tests := []struct {
		name  string
		spec  string
		line  int
		field string
		msg   string // a substring of the message
	}{
		{"unknown top-level key", "name: x\ngird:\n  train.lr: [1]\n", 2, "gird", "unknown key (allowed: name, description, max_tasks, base, grid, zip, replicates, exclude, sample, stopping, verify) (did you mean grid?)"},
		{"unknown base field", "name: x\nbase:\n  train:\n    epoch: 5\n", 4, "base.train.epoch", `unknown field "epoch" (allowed: epochs, batch, lr, beta1, beta2, eps) (did you mean epochs?)`},
		{"unknown grid path", "name: x\ngrid:\n  surogate.scale: [1]\n", 3, "grid.surogate.scale", `unknown field "surogate"`},
		{"wrong type in base", "name: x\nbase:\n  train: {epochs: fifty}\n", 3, "base.train.epochs", `want an integer, got string "fifty"`},
		{"fractional integer", "name: x\nbase:\n  train: {batch: 2.5}\n", 3, "base.train.batch", "want an integer, got number 2.5"},
		{"quoted number", "name: x\ngrid:\n  train.lr: ['0.1']\n", 3, "grid.train.lr", `want a number, got string "0.1"`},
		{"mapping for a scalar", "name: x\nbase:\n  surrogate: {shape: {a: 1}}\n", 3, "base.surrogate.shape", "want a string, got a mapping"},
		{"negative seed", "name: x\nbase: {seed: -1}\n", 2, "base.seed", "want a non-negative integer, got integer -1"},
		{"unknown shape lists the allowed ones", "name: x\ngrid:\n  surrogate.shape:\n    - superspike\n    - superspik\n", 5, "grid.surrogate.shape",
			`"superspik" is not one of atan, esser, exponential, gaussian, heaviside, sigmoid, superspike, superspike_asymptotic`},
		{"negative scale", "name: fig3\nbase:\n  train.epochs: 5\ngrid:\n  surrogate.shape: [superspike]\n  train.lr: [0.1]\n  surrogate.scale: [1, -1]\n", 7, "grid.surrogate.scale", "must be ≥ 0, got -1"},
		{"invalid value in base", "name: x\nbase:\n  network:\n    reset: sometimes\n", 4, "base.network.reset", `"sometimes" is not one of detached, differentiable`},
		{"invalid list element", "name: x\ngrid:\n  network.hidden: [[100], [100, 0]]\n", 3, "grid.network.hidden[1]", "must be ≥ 1, got 0"},
		{"invalid field of a mapping axis", "name: x\ngrid:\n  dataset:\n    - {name: randman}\n    - {name: mnist, tau_eff: -2}\n", 5, "grid.dataset.tau_eff", "must be a positive number"},
		{"cross-field check", "name: x\nbase:\n  dataset:\n    val_fraction: 0.95\n", 4, "base.dataset.test_fraction", "val_fraction + test_fraction must be < 1"},
		{"zip length mismatch", "name: x\nzip:\n  - surrogate.shape: [superspike, esser]\n    surrogate.scale: [10, 1, 2]\n", 4, "zip[0].surrogate.scale", "has 3 values but surrogate.shape has 2"},
		{"zip repeated tuple", "name: x\nzip:\n  surrogate.shape: [esser, esser]\n  surrogate.scale: [1, 1.0]\n", 3, "zip", "point 2 repeats point 1"},
		{"too many tasks", "name: x\ngrid:\n  train.lr: {linspace: [0.001, 0.1, 1000]}\n  surrogate.scale: {linspace: [0, 10, 101]}\n", 2, "grid", "expands to 101000 tasks (train.lr 1000 × surrogate.scale 101), more than max_tasks = 100000"},
		{"too many tasks for max_tasks", "name: x\nmax_tasks: 5\ngrid:\n  train.lr: [0.1, 0.2, 0.3]\nreplicates: {seed: 2}\n", 2, "max_tasks", "expands to 6 tasks (seed 2 × train.lr 3), more than max_tasks = 5"},
		{"grid far too large", "name: x\nmax_tasks: 10\ngrid:\n  train.lr: {linspace: [0.01, 0.1, 10]}\n  train.epochs: {range: [1, 11, 1]}\n  seed: [1, 2]\n", 2, "max_tasks", "more than 100 points before exclusion"},
		{"max_tasks out of range", "name: x\nmax_tasks: 0\n", 2, "max_tasks", "must be between 1 and 10000000"},
		{"bad name", "name: fig 3\n", 1, "name", `"fig 3" is not a valid sweep name`},
		{"name with a dot", "name: a.b\n", 1, "name", "is not a valid sweep name"},
		{"missing name", "grid:\n  train.lr: [0.1]\n", 1, "name", "missing"},
		{"field set twice in base", "name: x\nbase:\n  surrogate: {scale: 1}\n  surrogate.scale: 2\n", 4, "base.surrogate.scale", "set twice (also on line 3)"},
		{"axis overlaps another", "name: x\ngrid:\n  surrogate: [{shape: esser}]\n  surrogate.scale: [1]\n", 4, "grid.surrogate.scale", "overlaps grid.surrogate (line 3)"},
		{"replicate overlaps grid", "name: x\ngrid:\n  seed: [1, 2]\nreplicates: {seed: 3}\n", 3, "grid.seed", "overlaps replicates.seed"},
		{"duplicate axis value", "name: x\ngrid:\n  train.lr: [0.1, 1e-1]\n", 3, "grid.train.lr", "value 0.1 appears twice"},
		{"empty axis", "name: x\ngrid:\n  train.lr: []\n", 3, "grid.train.lr", "has no values"},
		{"scalar axis", "name: x\ngrid:\n  train.lr: 0.1\n", 3, "grid.train.lr", "write [0.1] for a single value"},
		{"nested mapping axis", "name: x\ngrid:\n  surrogate: {shape: [esser]}\n", 3, "grid.surrogate", "use a dotted path like surrogate.shape"},
		{"list field axis needs lists", "name: x\ngrid:\n  network.hidden: [100, 200]\n", 3, "grid.network.hidden", "an axis over a list field is a list of lists"},
		{"range step zero", "name: x\ngrid:\n  train.epochs: {range: [1, 5, 0]}\n", 3, "grid.train.epochs", "step must not be 0"},
		{"empty range", "name: x\ngrid:\n  train.epochs: {range: [5, 1, 1]}\n", 3, "grid.train.epochs", "range [5, 1, 1] is empty"},
		{"linspace count", "name: x\ngrid:\n  train.lr: {linspace: [0.1, 1, 0]}\n", 3, "grid.train.lr", "the count must be an integer ≥ 1"},
		{"generator arity", "name: x\ngrid:\n  train.lr: {logspace: [-3, -1]}\n", 3, "grid.train.lr", "logspace wants a list of 3 numbers"},
		{"huge range", "name: x\ngrid:\n  seed: {range: [0, 1000000000000, 1]}\n", 3, "grid.seed", "more than the limit of 100000"},
		{"generated value of the wrong type", "name: x\ngrid:\n  train.epochs: {linspace: [1, 2, 3]}\n", 3, "grid.train.epochs", "want an integer, got number 1.5"},
		{"non-finite number", "name: x\ngrid:\n  train.lr: [.inf]\n", 3, "grid.train.lr", "want a finite number"},
		{"octal-looking number", "name: x\nbase: {seed: 0755}\n", 2, "base.seed", "ambiguous number 0755"},
		{"replicate count", "name: x\nreplicates: {seed: 0}\n", 2, "replicates.seed", "between 1 and max_tasks"},
		{"unknown numerics", "name: x\nbase: {numerics: float16}\n", 2, "base.numerics", `"float16" is not one of float64, float32`},
		{"unknown replicate", "name: x\nreplicates: {seeds: 3}\n", 2, "replicates.seeds", "unknown replicate (allowed: seed, data_seed) (did you mean seed?)"},
		{"exclude value not on the axis", "name: x\ngrid:\n  surrogate.shape: [superspike, heaviside]\nexclude:\n  - surrogate.shape: heavyside\n", 5, "exclude[0].surrogate.shape", "heavyside is not a value of the axis surrogate.shape (values: heaviside, superspike)"},
		{"exclude on a fixed field", "name: x\ngrid:\n  train.lr: [0.1]\nexclude:\n  - {train.epochs: 5}\n", 5, "exclude[0].train.epochs", "not varied by any axis"},
		{"exclude matching nothing", "name: x\nzip:\n  surrogate.shape: [heaviside, esser]\n  surrogate.scale: [0, 1]\nexclude:\n  - {surrogate.shape: heaviside, surrogate.scale: 1}\n", 6, "exclude[0]", "matches no task"},
		{"exclude everything", "name: x\ngrid:\n  train.lr: [0.1]\nexclude:\n  - {train.lr: 0.1}\n", 4, "exclude", "every one of the 1 grid points is excluded"},
		{"exclude a mapping field", "name: x\ngrid:\n  surrogate: [{shape: esser}]\nexclude:\n  - {surrogate: {shape: esser}}\n", 5, "exclude[0].surrogate", "a condition addresses one field"},
		{"invalid YAML", "name: x\ngrid: [1, 2\n", 0, "", "invalid YAML"},
		{"two documents", "name: x\n---\nname: y\n", 0, "", "more than one YAML document"},
		{"empty", "", 0, "", "empty spec"},
		{"not a mapping", "- a\n- b\n", 1, "", "a spec is a mapping"},
		{"merge keys", "name: x\nbase:\n  <<: {seed: 1}\n", 3, "base", "merge keys"},
		{"alias bomb", aliasBomb(), 0, "grid", "spec too large"},
	}
	defer func(n int) { maxNodes = n }(maxNodes)
	maxNodes = 100_000 // for the alias bomb
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("spec.yaml", []byte(tt.spec))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tt.spec)
			}
			found := specErrorsOf(err)
			if len(found) == 0 {
				t.Fatalf("Parse error %v (%T) holds no *SpecError", err, err)
			}
			for _, se := range found {
				if se.File == "spec.yaml" && (tt.line == 0 || se.Line == tt.line) && se.Field == tt.field && strings.Contains(se.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("Parse error:\n%v\nwant one at line %d, field %q, containing %q", err, tt.line, tt.field, tt.msg)
		})
	}
}

// specErrorsOf returns the *SpecErrors err holds.
func specErrorsOf(err error) []*SpecError {
	var many *SpecErrors
	if errors.As(err, &many) {
		return *many
	}
	var one *SpecError
	if errors.As(err, &one) {
		return []*SpecError{one}
	}
	return nil
}

// aliasBomb returns a small spec whose aliases expand to a million nodes:
// 1001 aliases of a 1000-element list.
func aliasBomb() string {
	return "name: x\nbase:\n  network:\n    hidden: &h [" + strings.Repeat("1, ", 999) + "1]\n" +
		"grid:\n  network.hidden: [" + strings.Repeat("*h, ", 1000) + "*h]\n"
}

func TestSpecErrorFormat(t *testing.T) {
	e := &SpecError{File: "fig3.yaml", Line: 7, Field: "grid.surrogate.scale", Msg: "must be ≥ 0, got -1"}
	if got, want := e.Error(), "fig3.yaml:7: grid.surrogate.scale: must be ≥ 0, got -1"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &SpecError{File: "a.yaml", Msg: "empty spec"}
	if got, want := e.Error(), "a.yaml: empty spec"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	_, err := Parse("x.yaml", []byte("name: x\nbase: {seed: -1, data_seed: -2}\n"))
	var many *SpecErrors
	if !errors.As(err, &many) || len(*many) != 2 {
		t.Fatalf("Parse error %v: want *SpecErrors with 2 errors", err)
	}
	var first *SpecError
	if !errors.As(err, &first) || first.Field != "base.seed" {
		t.Errorf("errors.As(*SpecError) = %v, want the first error", first)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "x.yaml:2: base.data_seed:") {
		t.Errorf("Error() = %q, want one line per error", err.Error())
	}
}

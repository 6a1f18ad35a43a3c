package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// sampledPlanSpec samples 8 Latin points over three axes, crossed with a
// grid axis of 2 and 2 seeds: 32 tasks.
const sampledPlanSpec = `name: plan-sampled
base:
  dataset: {samples_per_class: 100}
  train: {epochs: 5}
grid:
  surrogate.scale: {loguniform: [1, 100]}
  network.reset: [detached, differentiable]
  surrogate.shape: {choice: [superspike, esser]}
  train.batch: {int: [50, 80]}
sample: {method: latin, n: 8, seed: 5}
replicates: {seed: 2}
`

func TestPlanSampled(t *testing.T) {
	path := writeFile(t, "spec.yaml", sampledPlanSpec)
	out, _, err := runCLI(t, "plan", path)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	squeezed := strings.Join(strings.FieldsFunc(out, func(r rune) bool { return r == ' ' }), " ")
	for _, want := range []string{
		"\nsurrogate.scale+surrogate.shape+train.batch sample 8 (",
		"\nsampled 8 points (latin, seed 5) over 3 axes, crossed with the other axes\n",
		"\n sampled axis distribution drawn strata hit\n",
		"\n surrogate.shape choice [superspike, esser] 2 of 2 values 8 of 8\n",
		"\ngrid points 32\n",
		"\ntasks 32\n",
	} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	// The scale's row: bounds, the drawn range inside them, all strata.
	var scale []string
	for _, line := range strings.Split(squeezed, "\n") {
		if strings.HasPrefix(line, " surrogate.scale loguniform [1, 100] ") {
			scale = strings.Fields(line)
		}
	}
	if len(scale) != 10 || scale[5] != "…" || scale[7] != "8" || scale[9] != "8" {
		t.Fatalf("scale row %q, want: path, loguniform [1, 100], min … max, 8 of 8", scale)
	}
	lo, err1 := strconv.ParseFloat(scale[4], 64)
	hi, err2 := strconv.ParseFloat(scale[6], 64)
	if err1 != nil || err2 != nil || lo < 1 || hi > 100 || lo >= hi {
		t.Errorf("scale drawn %s … %s, want a range inside [1, 100]", scale[4], scale[6])
	}

	js, _, err := runCLI(t, "plan", "--json", path)
	if err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	var p planJSON
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, js)
	}
	s := p.Sampling
	if s == nil || s.Method != "latin" || s.N != 8 || s.Seed == nil || *s.Seed != 5 || len(s.Axes) != 3 {
		t.Fatalf("sampling = %+v", s)
	}
	for _, a := range s.Axes {
		if a.Strata != 8 {
			t.Errorf("%s: %d of 8 strata hit; a Latin hypercube hits all", a.Path, a.Strata)
		}
	}
	batch := s.Axes[2]
	var bmin, bmax int
	if json.Unmarshal(batch.Min, &bmin) != nil || json.Unmarshal(batch.Max, &bmax) != nil || bmin < 50 || bmax > 80 || bmin >= bmax || batch.Distinct < 2 {
		t.Errorf("train.batch drawn %s … %s (%d distinct), want within [50, 80]", batch.Min, batch.Max, batch.Distinct)
	}
	if shape := s.Axes[1]; shape.Min != nil || shape.Distinct != 2 || len(shape.Args) != 2 {
		t.Errorf("surrogate.shape = %+v, want 2 items, both drawn, no min", shape)
	}

	// A grid-only plan has no sampling section.
	plain, _, err := runCLI(t, "plan", writeFile(t, "plain.yaml", planSpec))
	if err != nil || strings.Contains(plain, "sampled") {
		t.Errorf("plan of a grid-only spec: %v\n%s", err, plain)
	}
}

func TestPlanSampledInvalid(t *testing.T) {
	path := writeFile(t, "bad.yaml", "name: x\ngrid:\n  surrogate.scale: {loguniform: [0, 10]}\nsample: {method: sobol, n: 8}\n")
	_, _, err := runCLI(t, "plan", path)
	var ec exitCoder
	if err == nil || !errors.As(err, &ec) || ec.ExitCode() != 2 {
		t.Fatalf("plan of an invalid sampled spec: %v, want exit status 2", err)
	}
	if want := "bad.yaml:3: grid.surrogate.scale: loguniform bounds must be positive, got [0, 10]"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestPlanStopping: plan prints the stopping block in text and JSON.
func TestPlanStopping(t *testing.T) {
	path := writeFile(t, "spec.yaml", `name: plan-stopping
base:
  dataset: {samples_per_class: 100}
  train: {epochs: 10}
grid:
  surrogate.shape: [superspike, esser]
stopping:
  metric: val_acc
  rules:
    - {rule: chance, after: 3, margin: 0.02}
  group: [surrogate.shape]
`)
	out, _, err := runCLI(t, "plan", path)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	want := "\nstopping     val_acc (max): chance after 3 margin 0.02; group by surrogate.shape\n"
	if !strings.Contains(out, want) {
		t.Errorf("plan output lacks %q:\n%s", want, out)
	}
	out, _, err = runCLI(t, "plan", "--json", path)
	if err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	var p struct {
		Stopping struct {
			Metric string
			Rules  []struct{ Rule string }
		} `json:"stopping"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, out)
	}
	if p.Stopping.Metric != "val_acc" || len(p.Stopping.Rules) != 1 || p.Stopping.Rules[0].Rule != "chance" {
		t.Errorf("plan --json stopping = %+v", p.Stopping)
	}
}

package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// planSpec has 3 × 2 grid points, one excluded, × 2 seeds = 10 tasks; each
// task has 800 training, 100 validation and 100 test samples of 100 steps
// and 5 epochs: 5 × 900 × 100 + 2 × 100 × 100 = 470 000 sample-steps.
const planSpec = `name: plan-test
description: a small sweep
base:
  dataset: {samples_per_class: 100}
  train: {epochs: 5}
grid:
  surrogate.shape: [superspike, sigmoid, heaviside]
  surrogate.scale: [1, 10]
exclude:
  - {surrogate.shape: heaviside, surrogate.scale: 10}
replicates: {seed: 2}
`

// plan shows the verify block: how many tasks the draw picks, and their
// work; --json has the block.
func TestPlanVerify(t *testing.T) {
	path := writeFile(t, "spec.yaml", planSpec+"verify: {fraction: 1, seed: 7}\n")
	out, _, err := runCLI(t, "plan", path)
	if err != nil || !strings.Contains(out, "verify       10 tasks computed twice, by two workers (fraction 1, seed 7): 4.7e+06 more") {
		t.Errorf("plan: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "plan", "--json", path)
	if err != nil || !strings.Contains(strings.Join(strings.Fields(out), ""), `"verify":{"fraction":1,"seed":7}`) {
		t.Errorf("plan --json: %v\n%s", err, out)
	}
}

func TestPlanText(t *testing.T) {
	path := writeFile(t, "spec.yaml", planSpec)
	out, _, err := runCLI(t, "plan", path)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	// Compare with runs of spaces collapsed.
	squeezed := strings.Join(strings.FieldsFunc(out, func(r rune) bool { return r == ' ' }), " ")
	for _, want := range []string{
		"sweep plan-test",
		"\nseed replicate 2 1, 2\n",
		"\nsurrogate.shape grid 3 superspike, sigmoid, heaviside\n",
		"\nsurrogate.scale grid 2 1, 10\n",
		"\ngrid points 12\n",
		"\nexcluded 2\n",
		"\ntasks 10\n",
		"\nwork 4700000 sample-steps",
		"nothing was published",
	} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ordinal") {
		t.Errorf("plan without --list lists tasks:\n%s", out)
	}
}

func TestPlanList(t *testing.T) {
	path := writeFile(t, "spec.yaml", planSpec)
	out, _, err := runCLI(t, "plan", "--list", path)
	if err != nil {
		t.Fatalf("plan --list: %v", err)
	}
	_, list, ok := strings.Cut(out, "ordinal")
	if !ok {
		t.Fatalf("no task list in:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 11 {
		t.Fatalf("task list has %d lines, want a header and 10 tasks:\n%s", len(lines), list)
	}
	if f := strings.Fields(lines[5]); len(f) != 5 || f[0] != "4" || len(f[1]) != 12 || f[2] != "1" || f[3] != "heaviside" || f[4] != "1" {
		t.Errorf("task 4 line %q, want ordinal, short ID, seed 1, heaviside, 1", lines[5])
	}
}

func TestPlanJSON(t *testing.T) {
	path := writeFile(t, "spec.yaml", planSpec)
	t.Setenv("SGSWEEP_PLAN_LIST", "true")
	out, _, err := runCLI(t, "plan", "--json", path)
	if err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	var p planJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --json output is not one JSON object: %v\n%s", err, out)
	}
	if p.Name != "plan-test" || p.Points != 12 || p.Excluded != 2 || p.Tasks != 10 || p.SampleSteps != 4_700_000 || len(p.Fingerprint) != 64 {
		t.Errorf("plan = %+v", p)
	}
	if len(p.Axes) != 3 || p.Axes[0].Name != "seed" || p.Axes[1].Size != 3 {
		t.Errorf("axes = %+v", p.Axes)
	}
	if len(p.TaskList) != 10 || string(p.TaskList[4].Point["surrogate.shape"]) != `"heaviside"` || len(p.TaskList[4].ID) != 32 {
		t.Errorf("task list (SGSWEEP_PLAN_LIST) = %+v", p.TaskList)
	}
}

func TestPlanInvalidSpec(t *testing.T) {
	path := writeFile(t, "fig3.yaml", "name: fig3\ngrid:\n  surrogate.shape: [superspike]\n  surrogate.scale: [1, -1]\n")
	_, _, err := runCLI(t, "plan", path)
	var ec exitCoder
	if err == nil || !errors.As(err, &ec) || ec.ExitCode() != 2 {
		t.Fatalf("plan of an invalid spec: %v, want exit status 2", err)
	}
	if want := "fig3.yaml:4: grid.surrogate.scale: must be ≥ 0, got -1"; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q, want it to end with %q", err, want)
	}
	if _, _, err := runCLI(t, "plan"); err == nil || !errors.As(err, &ec) || ec.ExitCode() != 2 {
		t.Errorf("plan without a spec: %v, want a usage error", err)
	}
	if _, _, err := runCLI(t, "plan", path+".missing"); err == nil {
		t.Error("plan of a missing file succeeded")
	}
}

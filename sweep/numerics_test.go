package sweep

import (
	"slices"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/sim"
)

// TestNumericsTaskIDs: numerics is part of a task's identity, but its
// default is left out of it, so that the task IDs of float64 specs are
// those from before the field existed: a spec that says numerics: float64
// names the tasks of one that says nothing, and float32 names others.
func TestNumericsTaskIDs(t *testing.T) {
	ids := func(base string) []string {
		spec, err := Parse("n.yaml", []byte("name: n\nbase: {"+base+"}\nreplicates: {seed: 3}\n"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for task, err := range spec.Tasks() {
			if err != nil {
				t.Fatal(err)
			}
			if want := sim.NumericsFloat32; base == "numerics: float32" && task.Config.Numerics != want {
				t.Fatalf("task config numerics %q, want %q", task.Config.Numerics, want)
			}
			out = append(out, task.ID)
		}
		return out
	}
	unset, f64, f32 := ids("train: {epochs: 2}"), ids("train: {epochs: 2}, numerics: float64"), ids("train: {epochs: 2}, numerics: float32")
	if !slices.Equal(unset, f64) {
		t.Errorf("numerics: float64 changes the task IDs: %v, unset %v", f64, unset)
	}
	for i := range f32 {
		if f32[i] == unset[i] {
			t.Errorf("task %d: float32 has the float64 task's ID %s", i, f32[i])
		}
	}
	// A float64 configuration's canonical JSON, its ID's preimage, is
	// that from before the field existed.
	cfg := sim.DefaultConfig()
	cfg.Numerics = sim.NumericsFloat64
	params, err := Canonical(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(params), "numerics") {
		t.Errorf("the canonical float64 config mentions numerics: %s", params)
	}
}

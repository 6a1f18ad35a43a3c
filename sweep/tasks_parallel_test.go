package sweep_test

import (
	"reflect"
	"testing"

	"github.com/sgsweep/sgsweep/sweep"
)

// TestTasksParallelIsTasks checks that TasksParallel yields what Tasks
// yields, in order, over several batches with excluded points, and that
// breaking out of the loop early ends it.
func TestTasksParallelIsTasks(t *testing.T) {
	spec, err := sweep.Parse("par.yaml", []byte(`name: par
base:
  train: {epochs: 2}
grid:
  surrogate.shape: [superspike, esser, sigmoid]
  surrogate.scale: {logspace: [-1, 2, 7]}
  train.lr: {logspace: [-3, -1, 5]}
exclude:
  - {surrogate.shape: esser, surrogate.scale: 0.1}
replicates: {seed: 9}
`))
	if err != nil {
		t.Fatal(err)
	}
	want, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 3*256 {
		t.Fatalf("%d tasks: too few for several batches", len(want))
	}
	for _, workers := range []int{1, 2, 3} {
		var got []sweep.Task
		for task, err := range spec.TasksParallel(workers) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, task)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("workers=%d: %d tasks differ from Tasks' %d", workers, len(got), len(want))
		}
		n := 0
		for range spec.TasksParallel(workers) {
			if n++; n == 300 {
				break
			}
		}
		if n != 300 {
			t.Errorf("workers=%d: the early break left %d tasks read", workers, n)
		}
	}
	var unparsed sweep.Spec
	for _, err := range unparsed.TasksParallel(2) {
		if err == nil {
			t.Error("an unparsed spec yields no error")
		}
	}
}

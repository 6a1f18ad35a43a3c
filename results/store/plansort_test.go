package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPlanSorterMerges sorts tasks with random IDs (some listed twice) in
// memory and through spilled runs of several sizes: merge must yield every
// task once, by ID then ordinal, with its params.
func TestPlanSorterMerges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var tasks []sortedTask
	for i := range 5000 {
		id := fmt.Sprintf("%032x", rng.Uint64())
		if i%97 == 5 {
			id = tasks[rng.IntN(len(tasks))].ID
		}
		params := json.RawMessage(fmt.Sprintf(`{"seed":%d,"pad":%q}`, i, make([]byte, rng.IntN(300))))
		tasks = append(tasks, sortedTask{PlanTask{ID: id, Params: params}, uint64(i)})
	}
	want := slices.Clone(tasks)
	slices.SortFunc(want, compareSorted)
	for _, runBytes := range []int{1 << 30, 100_000, 20_000} {
		s := newPlanSorter(t.TempDir())
		s.runBytes = runBytes
		for _, task := range tasks {
			if err := s.add(task.PlanTask, task.ordinal); err != nil {
				t.Fatal(err)
			}
		}
		var got []sortedTask
		err := s.merge(func(task *sortedTask) error {
			got = append(got, sortedTask{PlanTask{ID: task.ID, Params: slices.Clone(task.Params)}, task.ordinal})
			return nil
		})
		s.close()
		if err != nil {
			t.Fatal(err)
		}
		if runBytes < 1<<30 && len(s.runs) < 2 {
			t.Errorf("runBytes %d: %d runs, want several", runBytes, len(s.runs))
		}
		if len(got) != len(want) {
			t.Fatalf("runBytes %d: merged %d tasks, want %d", runBytes, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].ordinal != want[i].ordinal || string(got[i].Params) != string(want[i].Params) {
				t.Fatalf("runBytes %d: task %d = %s@%d, want %s@%d", runBytes, i, got[i].ID, got[i].ordinal, want[i].ID, want[i].ordinal)
			}
		}
	}
}

// smallRuns makes planning sort in runs of a few hundred tasks for the
// test, so that plans of a few thousand tasks go through spilled runs.
func smallRuns(t *testing.T) {
	old := planRunBytes
	planRunBytes = 100_000
	t.Cleanup(func() { planRunBytes = old })
}

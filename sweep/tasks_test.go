package sweep

import (
	"reflect"
	"testing"
)

// Tasks yields what Expand returns, in order, the same on every range, and
// stops when the loop does.
func TestTasksStream(t *testing.T) {
	s, tasks := mustExpandFile(t, "../examples/fig3-shape-scale.yaml")
	for round := range 2 {
		n := 0
		for tk, err := range s.Tasks() {
			if err != nil {
				t.Fatal(err)
			}
			if tk.Ordinal != n || !reflect.DeepEqual(tk, tasks[n]) {
				t.Fatalf("round %d: task %d = %+v, want %+v", round, n, tk, tasks[n])
			}
			n++
		}
		if n != len(tasks) || n != s.Count() {
			t.Fatalf("round %d: %d tasks, want %d", round, n, len(tasks))
		}
	}
	n := 0
	for range s.Tasks() {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("a loop that breaks after 3 tasks ran %d times", n)
	}
	for tk, err := range new(Spec).Tasks() {
		if err == nil || tk.ID != "" {
			t.Errorf("Tasks of a zero Spec yielded %+v, %v; want an error", tk, err)
		}
	}
}

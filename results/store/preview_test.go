package store

import (
	"context"
	"reflect"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
)

func TestPreviewPlan(t *testing.T) {
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 1, 2, 3))
	mustCommit(t, s, []Incoming{testResult("a", 1, protocol.StatusOK, 0.5)}, []Failure{{TaskID: testTask(2).ID, Error: "x"}}, nil)
	changed := testPlan("a", 2, 3, 4, 5)
	for _, tc := range []struct {
		name string
		plan *Plan
		want Preview
	}{
		{"same plan", testPlan("a", 1, 2, 3),
			Preview{Sweep: "a", Outcome: PreviewResume, Tasks: 3, Done: 1, Failed: 1, Pending: 1}},
		{"changed plan", changed,
			Preview{Sweep: "a", Outcome: PreviewChanged, Tasks: 4, Failed: 1, Pending: 3, Added: 2, Dropped: 1}},
		{"new sweep over known tasks", testPlan("b", 1, 9),
			Preview{Sweep: "b", Outcome: PreviewNew, Tasks: 2, Done: 1, Pending: 1, Added: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.PreviewPlan(context.Background(), tc.plan)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want.Outcome == PreviewChanged && string(got.OldCanonical) != `{"name":"a"}` {
				t.Errorf("PreviewPlan(%s).OldCanonical = %s, want the planned spec", tc.name, got.OldCanonical)
			}
			got.OldCanonical = nil
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("PreviewPlan(%s) = %+v, want %+v", tc.name, *got, tc.want)
			}
		})
	}
	// Planning what was previewed reports the same counts.
	changed.Extend = true
	rep := mustPlan(t, s, changed)
	if rep.Done != 0 || rep.Failed != 1 || rep.Pending != 3 || rep.Added != 2 || rep.Dropped != 1 {
		t.Errorf("PlanSweep after preview = %+v, want done 0, failed 1, pending 3, added 2, dropped 1", rep)
	}
}

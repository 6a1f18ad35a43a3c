package coordinator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// has-result says done for a task with a stored result, not for a failed or
// unknown one, and refuses an empty task ID.
func TestHasResult(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	e.StartWorker("w", 2, &coordtest.Fake{Invalid: []uint64{2}})
	path := coordtest.Spec(t, e.Dir, "look", 2, nil, "")
	if _, err := e.Submit(path, false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("look", store.SweepDone, 20*time.Second)
	_, tasks := coordtest.Expand(t, path)
	c := coordinator.NewClient(e.NC)
	ctx := context.Background()
	for _, tt := range []struct {
		id    string
		done  bool
		state string
	}{
		{tasks[0].ID, true, results.StateDone},
		{tasks[1].ID, false, results.StateFailed},
		{"0123456789abcdef0123456789abcdef", false, ""},
	} {
		r, err := c.HasResult(ctx, tt.id)
		if err != nil || r.Done != tt.done || r.State != tt.state {
			t.Errorf("HasResult(%s) = %+v, %v; want done %v, state %q", tt.id, r, err, tt.done, tt.state)
		}
	}
	var re *coordinator.RemoteError
	if _, err := c.HasResult(ctx, ""); !errors.As(err, &re) || re.Code != "400" {
		t.Errorf("HasResult(\"\") = %v, want a 400 error", err)
	}
}

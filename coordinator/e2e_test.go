package coordinator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/sweep"
)

func TestHappyPath(t *testing.T) {
	const n = 200
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	fake := &coordtest.Fake{Sleep: 5 * time.Millisecond}
	for _, name := range []string{"w1", "w2", "w3", "w4"} {
		e.StartWorker(name, 2, fake)
	}
	spec := coordtest.Spec(t, e.Dir, "happy", n/2, []float64{0.01, 0.02}, "")
	rep, err := e.Submit(spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != results.PlanCreated || rep.Tasks != n || rep.Pending != n {
		t.Fatalf("plan = %+v", rep)
	}
	info := e.WaitSweep("happy", results.SweepDone, 30*time.Second)
	if info.Done != n || info.Failed != 0 || info.Duplicates != 0 || info.Conflicts != 0 {
		t.Errorf("sweep = %+v, want %d done and nothing else", info, n)
	}
	recs := e.WantAllDone("happy", n)
	workers := map[string]int{}
	for _, r := range recs {
		workers[r.Result.Provenance.Worker]++
		if r.Result.Provenance.Attempt != 1 {
			t.Errorf("task %d took %d deliveries", r.Ordinal, r.Result.Provenance.Attempt)
		}
	}
	if len(workers) < 2 {
		t.Errorf("work spread over %v, want several workers", workers)
	}
	if got := fake.Runs(); got != n {
		t.Errorf("%d runs for %d tasks", got, n)
	}
	e.WantDrained()

	// Status through the coordinator's control API.
	client := coordinator.NewClient(e.NC)
	st, err := client.Status(context.Background(), coordinator.StatusRequest{Sweep: "happy"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Source != coordinator.SourceCoordinator || len(st.Sweeps) != 1 || st.Sweeps[0].Done != n ||
		st.Rate <= 0 || st.Queue == nil {
		t.Errorf("status = %+v", st)
	}
	if _, err := client.Status(context.Background(), coordinator.StatusRequest{Sweep: "nope"}); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("status of an unknown sweep: err = %v, want not found", err)
	}

	// Resubmitting the same spec resumes a finished sweep: nothing to do.
	rep, err = e.Submit(spec, false)
	if err != nil || rep.Outcome != results.PlanResumed || rep.Done != n || rep.State != results.SweepDone {
		t.Errorf("resubmit = %+v, %v", rep, err)
	}
	time.Sleep(300 * time.Millisecond)
	if got := fake.Runs(); got != n {
		t.Errorf("resubmitting a finished sweep ran %d more tasks", got-n)
	}
	if got := e.StreamMsgs(sweep.StreamTasks); got != 0 {
		t.Errorf("resubmitting a finished sweep queued %d tasks", got)
	}
}

package coordinator_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
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
	if rep.Outcome != store.PlanCreated || rep.Tasks != n || rep.Pending != n {
		t.Fatalf("plan = %+v", rep)
	}
	info := e.WaitSweep("happy", store.SweepDone, 30*time.Second)
	if info.Done != n || info.Failed != 0 || info.Conflicts != 0 {
		t.Errorf("sweep = %+v, want %d done and nothing else", info, n)
	}
	recs := e.WantAllDone("happy", n)
	workers := map[string]int{}
	for _, r := range recs {
		workers[r.Result.Provenance.Worker]++
	}
	if len(workers) < 2 {
		t.Errorf("work spread over %v, want several workers", workers)
	}
	e.WantDrained()
	wantRunsAbsorbed(t, e, "happy", fake, n, 0)

	// Status through the coordinator's control API.
	client := coordinator.NewClient(e.NC)
	if err := client.Ping(context.Background()); err != nil {
		t.Errorf("ping: %v", err)
	}
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

	// A results query through the coordinator is the query on its store.
	req := results.QueryRequest{Sweep: "happy", Aggs: []string{"n", "mean", "sd"}}
	remote, err := client.Results(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	local, err := results.RunQuery(context.Background(), e.Store, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(remote.Rows) != 2 || !reflect.DeepEqual(remote, local) {
		t.Errorf("remote results %+v ≠ local %+v (want 2 rows, one per lr)", remote, local)
	}
	if _, err := client.Results(context.Background(), results.QueryRequest{Sweep: "happy", Metrics: []string{"nope"}}); err == nil ||
		!strings.Contains(err.Error(), "nope") {
		t.Errorf("query with an unknown metric: err = %v", err)
	}
	if _, err := client.Results(context.Background(), results.QueryRequest{Sweep: "nope"}); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("query of an unknown sweep: err = %v, want not found", err)
	}

	// Resubmitting the same spec resumes a finished sweep: nothing to do.
	rep, err = e.Submit(spec, false)
	if err != nil || rep.Outcome != store.PlanResumed || rep.Done != n || rep.State != store.SweepDone {
		t.Errorf("resubmit = %+v, %v", rep, err)
	}
	runs := fake.Runs()
	time.Sleep(300 * time.Millisecond)
	if got := fake.Runs(); got != runs {
		t.Errorf("resubmitting a finished sweep ran %d more tasks", got-runs)
	}
	if got := e.StreamMsgs(protocol.StreamTasks); got != 0 {
		t.Errorf("resubmitting a finished sweep queued %d tasks", got)
	}
}

// wantRunsAbsorbed checks, once the queues are drained, that every run beyond
// one per task (a redelivery: on a loaded machine a worker can miss its ack
// deadline, and a server restart redelivers what was in flight) produced a
// duplicate result that was absorbed: by the result stream's deduplication
// (the worker saw a duplicate acknowledgement) or by the store. published
// is the number of duplicate results the test published itself, which the
// store absorbed without a run.
func wantRunsAbsorbed(t *testing.T, e *coordtest.Env, sweepName string, fake *coordtest.Fake, n, published int) {
	t.Helper()
	info, err := e.Store.Sweep(context.Background(), sweepName)
	if err != nil {
		t.Fatal(err)
	}
	ws := e.WorkerStats()
	absorbed := info.Duplicates - published + int(ws.Duplicates)
	if runs := fake.Runs(); runs != n+absorbed+int(ws.Requeued) {
		t.Errorf("%d runs for %d tasks: %d duplicates absorbed (%d by the stream), %d handed back at shutdown: runs unaccounted for",
			runs, n, absorbed, ws.Duplicates, ws.Requeued)
	} else if runs > n {
		t.Logf("%d tasks ran again (redelivered), their duplicates absorbed", runs-n)
	}
}

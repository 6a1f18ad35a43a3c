package coordinator_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// verifyConfig leaves room for workers refusing their own tasks'
// recomputations before another takes them.
func verifyConfig() coordinator.Config {
	cfg := coordtest.CoordinatorConfig()
	cfg.MaxDeliver = 20
	return cfg
}

// waitVerified waits until every task of the sweep is verified or
// disputed.
func waitVerified(e *coordtest.Env, name string, n int) *store.SweepInfo {
	e.T.Helper()
	var info *store.SweepInfo
	coordtest.WaitFor(e.T, 30*time.Second, "verifications of "+name, func() bool {
		var err error
		info, err = e.Store.Sweep(context.Background(), name)
		return err == nil && info.Verified+info.Disputed == n
	})
	return info
}

// With verify: {fraction: 1}, every task is computed by two different
// workers (each refuses to recompute its own); honest workers agree.
func TestVerificationAgrees(t *testing.T) {
	e := coordtest.NewEnv(t, verifyConfig())
	e.StartWorker("w1", 1, &coordtest.Fake{})
	e.StartWorker("w2", 1, &coordtest.Fake{})
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "agree", 6, nil, "verify: {fraction: 1, seed: 1}\n"), false); err != nil {
		t.Fatal(err)
	}
	info := waitVerified(e, "agree", 6)
	if info.Verified != 6 || info.Disputed != 0 || info.Done != 6 || info.Duplicates != 6 || info.Conflicts != 0 {
		t.Errorf("sweep = %+v, want 6 verified", info)
	}
	e.WantDrained()
	if st := e.WorkerStats(); st.Completed != 12 {
		t.Errorf("workers completed %d runs, want 12 (each task twice)", st.Completed)
	}
}

// A worker whose numbers differ from an honest one's: every task both
// computed is disputed, naming both; status and results report it. retry
// --disputed has a third worker compute them: it agrees with the honest
// result, which is then the stored one (the liar's, outvoted, is kept
// aside), and every task is verified.
func TestVerificationDisputes(t *testing.T) {
	e := coordtest.NewEnv(t, verifyConfig())
	honest := e.StartWorker("honest", 1, &coordtest.Fake{})
	liar := e.StartWorker("liar", 1, &coordtest.Fake{Nondeterministic: true})
	bg := context.Background()
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "dispute", 4, nil, "verify: {fraction: 1, seed: 1}\n"), false); err != nil {
		t.Fatal(err)
	}
	info := waitVerified(e, "dispute", 4)
	if info.Disputed != 4 || info.Conflicts != 4 || info.Done != 4 {
		t.Fatalf("sweep = %+v, want 4 disputed", info)
	}
	st, err := e.Coord.Status(bg, coordinator.StatusRequest{Sweep: "dispute"})
	if err != nil || len(st.Sweeps) != 1 || len(st.Sweeps[0].DisputeList) != 4 {
		t.Fatalf("status: %+v, %v", st, err)
	}
	tab, err := e.Coord.Results(bg, results.QueryRequest{Sweep: "dispute"})
	if err != nil || !slices.ContainsFunc(tab.Notes, func(n string) bool { return strings.HasPrefix(n, "4 tasks disputed") }) {
		t.Errorf("results notes: %v, %v", tab, err)
	}
	stored := map[string]string{}
	for _, r := range e.Records("dispute") {
		stored[r.TaskID] = r.Result.Provenance.Worker
	}
	for _, d := range st.Sweeps[0].DisputeList {
		if len(d.Workers) != 2 || d.Workers[0] != stored[d.TaskID] || !slices.Contains(d.Workers, "honest") ||
			!slices.Contains(d.Workers, "liar") {
			t.Errorf("dispute %+v; stored result by %s", d, stored[d.TaskID])
		}
	}

	honest.Shutdown(t)
	liar.Shutdown(t)
	rep, err := e.Coord.Retry(bg, coordinator.RetryRequest{Sweep: "dispute", Disputed: true})
	if err != nil || rep.Disputed != 4 || rep.Retried != 0 {
		t.Fatalf("retry --disputed: %+v, %v", rep, err)
	}
	e.StartWorker("third", 1, &coordtest.Fake{})
	info = waitVerified(e, "dispute", 4)
	if info.Verified != 4 || info.Disputed != 0 || info.Conflicts != 4 || info.Duplicates != 4 {
		t.Errorf("after the third worker: %+v, want 4 verified", info)
	}
	for _, r := range e.Records("dispute") {
		if w := r.Result.Provenance.Worker; w == "liar" {
			t.Errorf("task %s: the liar's result is still the stored one", r.TaskID)
		}
	}
	conflicts, err := e.Store.Conflicts(bg, "dispute", 0)
	if err != nil || len(conflicts) != 4 {
		t.Fatalf("conflicts %+v, %v", conflicts, err)
	}
	for _, c := range conflicts {
		if c.Worker != "liar" {
			t.Errorf("conflict %+v: want the liar's result kept aside", c)
		}
	}
	if info.Pending != 0 || info.State != store.SweepDone {
		t.Errorf("sweep = %+v", info)
	}
	e.WantDrained()
}

// Verifications whose messages were lost (the task stream purged while the
// coordinator was down) are published again when it starts.
func TestVerificationsRepublishedAtStart(t *testing.T) {
	cfg := verifyConfig()
	e := coordtest.NewEnv(t, cfg)
	w1 := e.StartWorker("w1", 1, &coordtest.Fake{})
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "lost", 3, nil, "verify: {fraction: 1, seed: 1}\n"), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("lost", store.SweepDone, 20*time.Second)
	coordtest.WaitFor(t, 10*time.Second, "3 verifications queued", func() bool { return e.StreamMsgs(protocol.StreamTasks) == 3 })
	w1.Shutdown(t)
	e.StopCoordinator()
	tasks, err := e.JS.Stream(context.Background(), protocol.StreamTasks)
	if err != nil {
		t.Fatal(err)
	}
	if err := tasks.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.StartCoordinator(cfg)
	coordtest.WaitFor(t, 10*time.Second, "3 verifications published again", func() bool {
		return e.StreamMsgs(protocol.StreamTasks) == 3
	})
	e.StartWorker("w2", 1, &coordtest.Fake{})
	if info := waitVerified(e, "lost", 3); info.Verified != 3 {
		t.Errorf("sweep = %+v, want 3 verified", info)
	}
}

package coordinator_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

func TestExtendAndChangedSpec(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 2, fake)
	spec := coordtest.Spec(t, e.Dir, "grow", 3, []float64{0.01, 0.02}, "")
	if _, err := e.Submit(spec, false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("grow", store.SweepDone, 20*time.Second)
	before := e.Records("grow")

	// A changed spec under the same name is refused, with a diff.
	changed := coordtest.Spec(t, e.Dir, "grow", 4, []float64{0.02, 0.05}, "")
	_, err := e.Submit(changed, false)
	var sce *store.SpecChangedError
	if !errors.As(err, &sce) || !errors.Is(err, coordinator.ErrSpecChanged) || len(sce.Diff) == 0 {
		t.Fatalf("changed spec: err = %v, want *SpecChangedError with a diff", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "--extend") || !strings.Contains(msg, "train.lr") {
		t.Errorf("refusal %q should show the diff and suggest --extend", msg)
	}
	// The refusal crosses the control API with its diff.
	data, _ := os.ReadFile(changed)
	_, err = coordinator.NewClient(e.NC).Submit(context.Background(),
		coordinator.SubmitRequest{SpecName: changed, Spec: data})
	if !errors.Is(err, coordinator.ErrSpecChanged) || !strings.Contains(err.Error(), "train.lr") {
		t.Errorf("remote refusal = %v", err)
	}

	// Extending plans only the new cells: seeds 1–4 × lr {0.02, 0.05};
	// seeds 1–3 × 0.02 exist.
	rep, err := e.Submit(changed, true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != store.PlanExtended || rep.Tasks != 8 || rep.Added != 5 || rep.Dropped != 3 ||
		rep.Done != 3 || rep.Pending != 5 {
		t.Errorf("extend = %+v, want 8 tasks: 5 added, 3 dropped, 3 done, 5 pending", rep)
	}
	e.WaitSweep("grow", store.SweepDone, 20*time.Second)
	e.WantAllDone("grow", 8)
	e.WantDrained()
	// The cells the extended spec kept were not recomputed.
	old := map[string]string{}
	for _, r := range before {
		old[r.TaskID] = r.Result.Provenance.StartedAt.String()
	}
	kept := 0
	for _, r := range e.Records("grow") {
		if started, ok := old[r.TaskID]; ok {
			kept++
			if r.Result.Provenance.StartedAt.String() != started {
				t.Errorf("kept task %s was recomputed", r.TaskID)
			}
		}
	}
	if kept != 3 {
		t.Errorf("%d kept tasks, want 3", kept)
	}
	// Results of the cells that left the spec stay in the store.
	dropped := 0
	for _, r := range before {
		var cfg struct{ Train struct{ LR float64 } }
		json.Unmarshal(r.Params, &cfg)
		if cfg.Train.LR == 0.01 {
			st, _, found, err := e.Store.TaskState(context.Background(), r.TaskID)
			if err != nil || !found || st != results.StateDone {
				t.Errorf("dropped task %s: %s %v %v", r.TaskID, st, found, err)
			}
			dropped++
		}
	}
	if dropped != 3 {
		t.Errorf("%d dropped tasks checked, want 3", dropped)
	}
}

func TestCancelAndResubmit(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	spec := coordtest.Spec(t, e.Dir, "stopme", 20, nil, "")
	if _, err := e.Submit(spec, false); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "tasks queued", func() bool { return e.StreamMsgs(protocol.StreamTasks) == 20 })
	client := coordinator.NewClient(e.NC)
	rep, err := client.Cancel(context.Background(), coordinator.CancelRequest{Sweep: "stopme"})
	if err != nil || rep.Withdrawn != 20 || rep.State != store.SweepCancelled {
		t.Fatalf("cancel = %+v, %v", rep, err)
	}
	if n := e.StreamMsgs(protocol.StreamTasks); n != 0 {
		t.Errorf("%d task messages left after cancel", n)
	}
	if _, err := client.Cancel(context.Background(), coordinator.CancelRequest{Sweep: "nope"}); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("cancel of an unknown sweep: %v", err)
	}
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 2, fake)
	time.Sleep(500 * time.Millisecond)
	if fake.Runs() != 0 {
		t.Errorf("%d tasks of a cancelled sweep ran", fake.Runs())
	}
	// Submitting it again resumes it (the dedup window does not swallow
	// the republished tasks: cancel gave them a new generation).
	rep2, err := e.Submit(spec, false)
	if err != nil || rep2.Outcome != store.PlanResumed || rep2.State != store.SweepRunning {
		t.Fatalf("resubmit = %+v, %v", rep2, err)
	}
	e.WaitSweep("stopme", store.SweepDone, 20*time.Second)
	e.WantAllDone("stopme", 20)
}

func TestRestartResumesWithoutRecomputing(t *testing.T) {
	const n = 40
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	fake := &coordtest.Fake{Sleep: 20 * time.Millisecond}
	e.StartWorker("w1", 2, fake)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "again", n, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 20*time.Second, "some results", func() bool {
		info, _ := e.Store.Sweep(context.Background(), "again")
		return info.Done >= 10
	})
	e.StopCoordinator()
	mid := e.Records("again")
	time.Sleep(300 * time.Millisecond) // results pile up in the stream
	e.StartCoordinator(coordtest.CoordinatorConfig())
	e.WaitSweep("again", store.SweepDone, 20*time.Second)
	after := e.WantAllDone("again", n)
	for i, r := range mid {
		if r.State == results.StateDone && after[i].Result.Digest != r.Result.Digest {
			t.Errorf("task %d changed across the restart", i)
		}
	}
	if st := e.Coord.Stats(); st.Published != 0 {
		t.Errorf("the restarted coordinator published %d tasks; all were queued", st.Published)
	}
	e.WantDrained()
	wantRunsAbsorbed(t, e, "again", fake, n, 0)
}

// A coordinator that died between publishing tasks and recording them
// leaves messages the store does not know are queued: the next one finds
// them in the stream and publishes only the rest.
func TestResumeAfterPartialEnqueue(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	e.StopCoordinator()
	if err := coordinator.NewClient(e.NC).Ping(context.Background()); !errors.Is(err, coordinator.ErrNoCoordinator) {
		t.Errorf("ping without a coordinator: %v", err)
	}
	path := coordtest.Spec(t, e.Dir, "partial", 30, nil, "")
	spec, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}
	plan := &store.Plan{Name: spec.Name, Fingerprint: spec.Fingerprint(), Canonical: spec.Canonical(),
		Tasks: store.PlanTasks(tasks)}
	if _, err := e.Store.PlanSweep(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks[:12] { // published, never recorded
		msg := protocol.NewTaskMsg(spec.Name, tk, 0, time.Now())
		msg.Ticket = coordtest.Ticket(spec.Name, tk.ID, 0)
		data, _ := json.Marshal(msg)
		if _, err := e.JS.Publish(context.Background(), protocol.TaskSubject(spec.Name, tk.ID), data); err != nil {
			t.Fatal(err)
		}
	}
	e.StartCoordinator(coordtest.CoordinatorConfig())
	coordtest.WaitFor(t, 10*time.Second, "the rest queued", func() bool { return e.StreamMsgs(protocol.StreamTasks) == 30 })
	if st := e.Coord.Stats(); st.Published != 18 || st.AlreadyQueued != 0 {
		t.Errorf("stats = %+v, want 18 published and no refused publication", st)
	}
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 2, fake)
	e.WaitSweep("partial", store.SweepDone, 20*time.Second)
	e.WantAllDone("partial", 30)
	e.WantDrained()
	wantRunsAbsorbed(t, e, "partial", fake, 30, 0)
}

package genv1

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// TestWriteFixture writes results/store/testdata/state.db with the store
// of commit 775a926: sweep v1 planned from testdata/v1.yaml (4 tasks);
// task 0 ok (plus a duplicate and a conflicting copy), task 1 diverged,
// task 2 failed (delivery limit), task 3 pending and queued; one rejected
// message.
func TestWriteFixture(t *testing.T) {
	out := os.Getenv("FIXTURE_OUT")
	src, err := os.ReadFile(os.Getenv("FIXTURE_SPEC"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := sweep.Parse("v1.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(out)
	st, err := store.Open(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plan := &store.Plan{Name: spec.Name, Fingerprint: spec.Fingerprint(), Canonical: spec.Canonical(),
		SourceName: "v1.yaml", Source: src}
	for _, tk := range tasks {
		plan.Tasks = append(plan.Tasks, store.PlanTask{ID: tk.ID, Params: tk.Params})
	}
	if _, err := st.PlanSweep(ctx, plan); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	result := func(i int, status string, acc float64, worker string) store.Incoming {
		tk := tasks[i]
		r := &protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: spec.Name, TaskID: tk.ID, Status: status,
			Params: tk.Params, Digest: "digest-" + status + "-" + string(rune('0'+i)),
			Provenance: protocol.Provenance{ModelVersion: sim.ModelVersion,
				Build: protocol.Build{Module: "github.com/sgsweep/sgsweep", Version: "(devel)", GoVersion: "go1.26", Platform: "linux/amd64"},
				Host:  "hosta", Worker: worker, Attempt: 1, StartedAt: start, FinishedAt: start.Add(2 * time.Second),
				Timing: sim.Timing{DataSeconds: 0.5, EpochSeconds: []float64{0.7, 0.8}}}}
		r.Result = &sim.Result{Status: status, TestAcc: acc, TestAccLast: acc, BestValAcc: acc - 0.01, BestEpoch: 2,
			Epochs: []sim.Epoch{
				{Epoch: 1, TrainLoss: 2, TrainAcc: acc - 0.1, ValAcc: acc - 0.11, Spikes: []float64{1.5}, Silent: []float64{0.2}},
				{Epoch: 2, TrainLoss: 1, TrainAcc: acc, ValAcc: acc - 0.01, Spikes: []float64{1.4}, Silent: []float64{0.1}},
			}}
		raw, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return store.Incoming{Result: r, Raw: raw}
	}
	ok := result(0, protocol.StatusOK, 0.8, "hosta/1")
	conflict := result(0, protocol.StatusOK, 0.81, "hostb/1")
	conflict.Result.Digest = "digest-conflict"
	conflict.Raw, _ = json.Marshal(conflict.Result)
	_, err = st.Commit(ctx, []store.Incoming{ok, result(1, protocol.StatusDiverged, 0.1, "hosta/1")},
		[]store.Failure{{TaskID: tasks[2].ID, Error: "delivery limit reached", Attempts: 3}},
		[]store.Rejection{{Stream: protocol.StreamResults, Subject: "sgsweep.result.v1.x", Seq: 7, Reason: "undecodable", Data: []byte("{")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx, []store.Incoming{ok, conflict}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkQueued(ctx, []store.QueuedTask{{Sweep: spec.Name, TaskID: tasks[3].ID, Seq: 4}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

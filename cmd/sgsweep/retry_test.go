package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results/store"
)

// A sweep with a task stopped early: status counts it apart, as text and
// JSON, read from the store and from the coordinator; retry --stopped
// queues it again to be trained to the end.
func TestStatusAndRetryStopped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := coordtest.Spec(t, dir, "early", 3, nil, "")
	source, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, tasks := coordtest.Expand(t, path)

	// The store as a coordinator leaves it: task 0 stopped by its
	// committed decision, task 1 done, task 2 pending.
	st, err := store.Open(dataDir(dir).statePath(), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	plan := &store.Plan{Name: spec.Name, Fingerprint: spec.Fingerprint(), Canonical: spec.Canonical(),
		SourceName: path, Source: source, Tasks: store.PlanTasks(tasks)}
	if _, err := st.PlanSweep(ctx, plan); err != nil {
		t.Fatal(err)
	}
	d := &protocol.StopDecision{Epoch: 1, Rule: "chance", Metric: "val_acc", Mode: "max", Value: 0.5, Threshold: 0.52,
		DecidedAt: time.Now().UTC()}
	if d, err = st.CommitStop(ctx, "early", tasks[0].ID, d); err != nil {
		t.Fatal(err)
	}
	in := []store.Incoming{
		incoming(t, coordtest.ResultData(t, "early", tasks[0], protocol.StatusStopped, coordtest.Curve(1, 0.5), d)),
		incoming(t, coordtest.ResultData(t, "early", tasks[1], protocol.StatusOK, coordtest.Curve(2, 0.9), nil)),
	}
	if rep, err := st.Commit(ctx, in, nil, nil); err != nil || rep.Stored != 2 {
		t.Fatalf("commit: %+v, %v", rep, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	const counts = "3: 1 done (0 diverged), 0 failed, 1 stopped, 1 pending"
	out, _, err := runCLI(t, "status", "--data-dir", dir, "early")
	if err != nil || !strings.Contains(out, counts) || !strings.Contains(out, "from the store") {
		t.Errorf("status from the store: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "status", "--data-dir", dir, "--json", "early")
	var js coordinator.Status
	if err != nil || json.Unmarshal([]byte(out), &js) != nil || len(js.Sweeps) != 1 || js.Sweeps[0].Stopped != 1 ||
		js.Sweeps[0].Done != 1 || js.Sweeps[0].Pending != 1 {
		t.Errorf("status --json: %v\n%s", err, out)
	}

	coord := startSgsweep(t, nil, append([]string{"coordinator", "--data-dir", dir}, fastFlags...)...)
	coord.waitLine(20*time.Second, "coordinator ready", func(l string) bool { return strings.Contains(l, "coordinator ready") })
	out, _, err = runCLI(t, "status", "--data-dir", dir, "early")
	if err != nil || !strings.Contains(out, counts) || !strings.Contains(out, "from the coordinator") {
		t.Errorf("status from the coordinator: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "retry", "--data-dir", dir, "early"); err == nil || !strings.Contains(err.Error(), "--stopped") {
		t.Errorf("retry without saying what: %v", err)
	}
	out, _, err = runCLI(t, "retry", "--data-dir", dir, "--stopped", "early")
	if err != nil || !strings.Contains(out, "sweep early: 1 stopped tasks queued again") || strings.Contains(out, "failed") {
		t.Fatalf("retry --stopped: %v\n%s", err, out)
	}
	waitStatus(t, dir, "early", func(s *coordinator.SweepStatus) bool {
		return s.Stopped == 0 && s.Done == 1 && s.Pending == 2
	})
}

// incoming is a result message body as the coordinator commits it.
func incoming(t *testing.T, data []byte) store.Incoming {
	t.Helper()
	var r protocol.ResultMsg
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return store.Incoming{Result: &r, Raw: data}
}

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/coordinator/stopping"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// stopSpecText is a stopping block under which tasks at chance level
// (randman's 10 classes: 0.1) stop after epoch 2.
const stopSpecText = `grid:
  train.epochs: [6]
stopping:
  metric: val_acc
  rules:
    - {rule: chance, after: 2, margin: 0.02}
`

// kill -9 of `sgsweep run` between a stop decision's commit and its
// delivery (SGSWEEP_TEST_STOP_DELAY holds it there), then the same command
// again: the task ends stopped at the committed decision's epoch, with the
// decision unchanged, the sweep completes, and no task settled before the
// kill is trained again. It needs the whole of early stopping (the spec
// grammar and the engine, the worker's stop).
func TestRunStopSurvivesKill9(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := coordtest.Spec(t, dir, "stopkill", 4, nil, stopSpecText)
	spec, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}
	hopeless := coordtest.Curve(2, 0.1)[1]
	if stopping.New(spec.Stopping()).Observe(stopping.Task{ID: tasks[0].ID, Params: tasks[0].Params}, hopeless, time.Now()) == nil {
		t.Fatal("the stopping engine lets a task at chance level go on")
	}
	// Two tasks at chance level, two well above it.
	seeds := make([]uint64, len(tasks))
	fake := &coordtest.Fake{Sleep: 1200 * time.Millisecond, LogFile: filepath.Join(dir, "runs.log"),
		ValAcc: map[uint64]float64{}}
	for i, tk := range tasks {
		cfg, err := sweep.DecodeParams(tk.Params)
		if err != nil {
			t.Fatal(err)
		}
		seeds[i] = cfg.Seed
		if i%2 == 0 {
			fake.ValAcc[cfg.Seed] = 0.1
		}
	}
	args := append([]string{"--log-level", "debug", "run", "--data-dir", dir, "--workers", "2",
		"--progress", "none", "--heartbeat", "300ms"}, fastFlags...)
	args = append(args, path)

	t.Setenv(coordinator.StopDelayEnv, "60s") // the first process's only
	first := startSgsweep(t, fake, args...)
	os.Unsetenv(coordinator.StopDelayEnv)
	first.waitLine(60*time.Second, "a stop decision committed", func(line string) bool {
		return strings.Contains(line, "stop decision committed") && strings.Contains(line, "stopkill")
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(10 * time.Second)

	st := openRO(t, dir)
	if err := st.Check(ctx); err != nil {
		t.Fatalf("store after kill -9: %v", err)
	}
	committed := map[string]protocol.StopDecision{}
	err = st.StopDecisions(ctx, "stopkill", func(r store.StopRecord) error {
		committed[r.TaskID] = r.Decision
		return nil
	})
	if err != nil || len(committed) == 0 {
		t.Fatalf("decisions after the kill: %v (err %v), want at least one", committed, err)
	}
	before := recordsOf(t, st, "stopkill")
	st.Close()
	for _, r := range before {
		if r.State == results.StateStopped {
			t.Fatalf("task %d stopped before the kill: its decision was delivered", r.Ordinal)
		}
	}

	second := startSgsweep(t, fake, args...)
	if code := second.wait(90 * time.Second); code != 0 {
		t.Fatalf("rerun exited %d", code)
	}
	st = openRO(t, dir)
	after := recordsOf(t, st, "stopkill")
	info, err := st.Sweep(ctx, "stopkill")
	if err != nil || info.State != store.SweepDone || info.Stopped != 2 || info.Done != 2 {
		t.Errorf("sweep after the rerun: %+v (err %v), want done: 2 stopped, 2 done", info, err)
	}
	starts, _, err := coordtest.FakeLog(fake.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range after {
		want := results.StateDone
		if i%2 == 0 {
			want = results.StateStopped
		}
		if r.State != want {
			t.Errorf("task %d: %s, want %s", i, r.State, want)
			continue
		}
		if d, ok := committed[r.TaskID]; ok {
			got, _ := json.Marshal(r.Stop)
			was, _ := json.Marshal(&d)
			if r.Stop == nil || string(got) != string(was) || len(r.Result.Result.Epochs) < d.Epoch {
				t.Errorf("task %d ended by %s after %d epochs; committed before the kill: %s", i, got,
					len(r.Result.Result.Epochs), was)
			}
		}
		if before[i].State == results.StateDone && starts[seeds[i]] != 1 {
			t.Errorf("task %d, done before the kill, trained %d times", i, starts[seeds[i]])
		}
	}
}

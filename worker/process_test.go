package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/worker"
)

// childEnv makes the test binary act as a task process (worker.ServeTask)
// whose runner is childRun (1), sim.Train (sim) or noopRun (noop), or
// that writes garbage and hangs (garbage): tests start it through a
// ProcessRunner.
const childEnv = "SGSWEEP_WORKER_TEST_CHILD"

// Seeds that make the test child die in different ways.
const (
	seedExit   = 3 // os.Exit(2) after a line on stderr
	seedKilled = 4 // SIGKILL to itself (as the OOM killer does)
	seedOOM    = 5 // a real training far above the child's ulimit -v
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		run := childRun
		switch mode {
		case "sim":
			run = sim.Train
		case "noop":
			run = noopRun
		case "garbage":
			os.Stdout.WriteString("not json\n")
			time.Sleep(time.Minute)
		}
		if err := worker.ServeTask(context.Background(), os.Stdin, os.Stdout, os.Stderr, run); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childRun is the test child's runner: coordtest.Fake, except for the
// seeds above.
func childRun(ctx context.Context, cfg sim.Config, opts sim.Options) (*sim.Result, *sim.Timing, error) {
	switch cfg.Seed {
	case seedExit:
		fmt.Fprintln(os.Stderr, "test child: exiting with status 2")
		os.Exit(2)
	case seedKilled:
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case seedOOM:
		cfg.Network.Hidden = []int{2_000_000} // ≈ 6 GB of tapes
		cfg.Dataset.Steps = 100
		return sim.Train(ctx, cfg, opts)
	}
	fake := &coordtest.Fake{Sleep: 20 * time.Millisecond, Block: []uint64{99}}
	return fake.Train(ctx, cfg, opts)
}

// noopRun returns a one-epoch result at once: the child's fixed cost.
func noopRun(context.Context, sim.Config, sim.Options) (*sim.Result, *sim.Timing, error) {
	return &sim.Result{Status: sim.StatusOK, Epochs: []sim.Epoch{{Epoch: 1}}, BestEpoch: 1}, &sim.Timing{}, nil
}

// childRunner returns a ProcessRunner that starts the test binary as a task
// process under a 2 GB address-space limit (ulimit -v).
func childRunner(t *testing.T) *worker.ProcessRunner {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh for ulimit")
	}
	return &worker.ProcessRunner{
		Path: "sh",
		Args: []string{"-c", `ulimit -v 2000000 && exec "$0"`, os.Args[0]},
		Env:  append(os.Environ(), childEnv+"=1"),
	}
}

// A child that exits, is killed or runs out of memory fails only its task:
// each is retried within the delivery budget, then recorded failed with
// the exit status or signal and the child's last stderr lines, while the
// worker goes on and the other tasks complete.
func TestChildCrashesFailOnlyTheirTask(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	e := coordtest.NewEnv(t, cfg)
	w := startWorker(t, e, coordtest.WorkerConfig("isolated", 2), childRunner(t).Run)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "crash", 7, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	info := e.WaitSweep("crash", store.SweepDone, 60*time.Second)
	if info.Done != 4 || info.Failed != 3 {
		t.Errorf("sweep = %+v, want 4 done, 3 failed", info)
	}
	recs := e.Records("crash")
	for seed, want := range map[uint64][]string{
		seedExit:   {"after 3 deliveries", "exited with status 2", "test child: exiting with status 2"},
		seedKilled: {"after 3 deliveries", "killed by signal killed"},
		seedOOM:    {"after 3 deliveries", "out of memory"},
	} {
		r := recs[seed-1] // replicates are the outermost axis: ordinal = seed-1
		for _, s := range want {
			if r.State != results.StateFailed || !strings.Contains(r.Error, s) {
				t.Errorf("seed %d: state %s, error %q; want failed with %q", seed, r.State, r.Error, s)
			}
		}
	}
	for _, seed := range []uint64{1, 2, 6, 7} {
		if r := recs[seed-1]; r.State != results.StateDone {
			t.Errorf("seed %d: state %s, error %q; want done", seed, r.State, r.Error)
		}
	}
	if st := w.W.Stats(); st.Completed != 4 || st.Failed != 3 || st.Retried != 6 {
		t.Errorf("worker stats = %+v, want 4 completed, 3 failed after 6 retries", st)
	}
	e.WantDrained()
}

// A task whose memory estimate exceeds the worker's limit fails at once,
// naming the estimate, without starting a run.
func TestMemoryLimitRefusesTask(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	wcfg := coordtest.WorkerConfig("small", 1)
	wcfg.MaxTaskMemory = 1 << 30
	fake := &coordtest.Fake{}
	startWorker(t, e, wcfg, fake.Train)
	spec := coordtest.Spec(t, e.Dir, "huge", 2, nil, "grid:\n  network.hidden: [[4], [1000000]]\n")
	if _, err := e.Submit(spec, false); err != nil {
		t.Fatal(err)
	}
	info := e.WaitSweep("huge", store.SweepDone, 20*time.Second)
	if info.Done != 2 || info.Failed != 2 {
		t.Errorf("sweep = %+v, want 2 done, 2 failed", info)
	}
	for _, r := range e.Records("huge") {
		var p struct {
			Network struct{ Hidden []int } `json:"network"`
		}
		if err := json.Unmarshal(r.Params, &p); err != nil {
			t.Fatal(err)
		}
		big := p.Network.Hidden[0] == 1000000
		if big && (r.State != results.StateFailed || !strings.Contains(r.Error, "estimated") ||
			!strings.Contains(r.Error, "max-task-memory 1.0 GiB")) {
			t.Errorf("hidden %v: state %s, error %q; want refused naming the estimate", p.Network.Hidden, r.State, r.Error)
		}
		if !big && r.State != results.StateDone {
			t.Errorf("hidden %v: state %s", p.Network.Hidden, r.State)
		}
	}
	if fake.Runs() != 2 {
		t.Errorf("%d runs, want 2 (the refused tasks never run)", fake.Runs())
	}
}

// Epochs reach OnEpoch through the child; cancelling the run kills the
// child at once.
func TestProcessRunnerProgressAndCancel(t *testing.T) {
	r := childRunner(t)
	cfg := sim.DefaultConfig()
	cfg.Train.Epochs = 3
	var epochs []int
	res, _, err := r.Run(context.Background(), cfg, sim.Options{OnEpoch: func(e sim.Epoch, _ float64) {
		epochs = append(epochs, e.Epoch)
	}})
	if err != nil || res == nil || len(res.Epochs) != 3 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if fmt.Sprint(epochs) != "[1 2 3]" {
		t.Errorf("OnEpoch saw epochs %v, want [1 2 3]", epochs)
	}

	cfg.Seed = 99 // blocks until cancelled
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = r.Run(ctx, cfg, sim.Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled Run = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancelled Run took %v", d)
	}
}

// An invalid config reported by the child is a deterministic failure, not a
// crash.
func TestProcessRunnerFieldError(t *testing.T) {
	r := childRunner(t)
	cfg := sim.DefaultConfig()
	cfg.Seed = seedOOM
	cfg.Train.LR = -1 // sim.Train refuses it before allocating anything
	_, _, err := r.Run(context.Background(), cfg, sim.Options{})
	var ce *worker.ChildError
	if !errors.As(err, &ce) || !ce.Final || !strings.Contains(err.Error(), "train.lr") {
		t.Errorf("Run = %v, want a deterministic ChildError naming train.lr", err)
	}
}

// A task redelivered after its result was committed is acked without
// training; with no coordinator answering, the worker does not wait long
// and trains.
func TestRedeliveredDoneTaskIsNotTrained(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	fake := &coordtest.Fake{}
	w := startWorker(t, e, coordtest.WorkerConfig("w", 1), fake.Train)
	path := coordtest.Spec(t, e.Dir, "again", 1, nil, "")
	if _, err := e.Submit(path, false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("again", store.SweepDone, 20*time.Second)
	_, tasks := coordtest.Expand(t, path)
	msg, err := json.Marshal(&protocol.TaskMsg{Schema: protocol.SchemaTask, Sweep: "again", TaskID: tasks[0].ID,
		ModelVersion: sim.ModelVersion, Params: tasks[0].Params})
	if err != nil {
		t.Fatal(err)
	}
	republish := func() {
		if _, err := e.JS.Publish(context.Background(), protocol.TaskSubject("again", tasks[0].ID), msg); err != nil {
			t.Fatal(err)
		}
	}
	republish() // as the stream redelivers a task whose ack was lost
	coordtest.WaitFor(t, 10*time.Second, "the task acked without training", func() bool { return w.W.Stats().Skipped == 1 })
	if fake.Runs() != 1 {
		t.Errorf("%d runs, want 1", fake.Runs())
	}

	e.StopCoordinator()
	republish()
	coordtest.WaitFor(t, 10*time.Second, "the task trained without an answer", func() bool { return fake.Runs() == 2 })
}

// startWorker starts a worker with run on its own connection until the
// test ends.
func startWorker(t *testing.T, e *coordtest.Env, cfg worker.Config, run worker.Runner) *coordtest.RunningWorker {
	t.Helper()
	cfg.Logger = coordtest.Logger(t)
	w, err := worker.New(coordtest.Connect(t, e.Srv.URL, ""), run, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("worker did not stop")
		}
	})
	return &coordtest.RunningWorker{W: w}
}

// A child whose output is not the protocol is killed and reported as a
// crash, not waited for.
func TestProcessRunnerGarbage(t *testing.T) {
	r := &worker.ProcessRunner{Path: os.Args[0], Env: append(os.Environ(), childEnv+"=garbage")}
	start := time.Now()
	_, _, err := r.Run(context.Background(), sim.DefaultConfig(), sim.Options{})
	var ce *worker.CrashError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "not json") {
		t.Errorf("Run = %v, want a CrashError quoting the line", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v", d)
	}
}

package main

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results/store"
)

// waitStarted waits until the fake's log shows seed started n times.
func waitStarted(t *testing.T, logFile string, seed uint64, n int, timeout time.Duration) {
	t.Helper()
	coordtest.WaitFor(t, timeout, "a run to start", func() bool {
		starts, _, err := coordtest.FakeLog(logFile)
		return err == nil && starts[seed] >= n
	})
}

// waitSeed returns when the fake starts the seed (its Started channel).
func waitSeed(t *testing.T, started chan uint64, seed uint64, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case s := <-started:
			if s == seed {
				return time.Now()
			}
		case <-deadline:
			t.Fatalf("seed %d not started within %v", seed, timeout)
		}
	}
}

// kill -9 a worker process while it trains: the task comes back after the
// ack wait (not before: the dead worker's heartbeats held it) and is trained
// once more, by another worker.
func TestWorkerKill9MidTask(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	e := coordtest.NewEnv(t, cfg)
	logFile := filepath.Join(e.Dir, "runs.log")
	doomed := &coordtest.Fake{Sleep: 20 * time.Millisecond, Slow: map[uint64]time.Duration{1: time.Minute}, LogFile: logFile}
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "kill9", 6, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	w := startSgsweep(t, doomed, "worker", "--nats", e.Srv.URL, "--concurrency", "1", "--heartbeat", "300ms")
	waitStarted(t, logFile, 1, 1, 20*time.Second)
	time.Sleep(cfg.AckWait) // heartbeats keep the task past its first ack wait
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	w.wait(10 * time.Second)

	rescue := &coordtest.Fake{Started: make(chan uint64, 100)}
	e.StartWorker("rescue", 2, rescue)
	again := waitSeed(t, rescue.Started, 1, cfg.AckWait+10*time.Second)
	if d := again.Sub(killed); d < cfg.AckWait-time.Second || d > cfg.AckWait+3*time.Second {
		t.Errorf("task redelivered %v after the kill, want about the ack wait %v", d, cfg.AckWait)
	}
	e.WaitSweep("kill9", store.SweepDone, 20*time.Second)
	recs := e.WantAllDone("kill9", 6)
	if p := recs[0].Result.Provenance; p.Attempt != 2 || p.Worker != "rescue" {
		t.Errorf("the killed task's result: attempt %d by %s, want attempt 2 by rescue", p.Attempt, p.Worker)
	}
	if info, _ := e.Store.Sweep(context.Background(), "kill9"); info.Duplicates != 0 || info.Conflicts != 0 {
		t.Errorf("sweep = %+v, want no duplicates", info)
	}
	e.WantDrained()
}

// SIGTERM a worker while it trains a long task: it stops taking tasks, waits
// --drain-timeout, hands the task back and exits 0; another worker gets the
// task at once, not after the 30 s ack wait; the tasks it completed stay
// completed.
func TestWorkerSIGTERMHandsTaskBack(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	cfg.AckWait = 30 * time.Second
	cfg.BackOff = []time.Duration{cfg.AckWait}
	e := coordtest.NewEnv(t, cfg)
	logFile := filepath.Join(e.Dir, "runs.log")
	fake := &coordtest.Fake{Sleep: 20 * time.Millisecond, Slow: map[uint64]time.Duration{1: time.Minute}, LogFile: logFile}
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "term", 6, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	w := startSgsweep(t, fake, "worker", "--nats", e.Srv.URL, "--concurrency", "2", "--drain-timeout", "500ms")
	coordtest.WaitFor(t, 20*time.Second, "the short tasks done and the long one running", func() bool {
		starts, ends, err := coordtest.FakeLog(logFile)
		done := 0
		for seed := uint64(2); seed <= 6; seed++ {
			done += ends[seed]
		}
		return err == nil && starts[1] == 1 && done == 5
	})
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	termed := time.Now()
	rescue := &coordtest.Fake{Started: make(chan uint64, 100)}
	e.StartWorker("rescue", 2, rescue)
	if code := w.wait(10 * time.Second); code != 0 {
		t.Errorf("worker exited %d after SIGTERM, want 0", code)
	}
	if d := time.Since(termed); d > 5*time.Second {
		t.Errorf("worker took %v to exit with a 500ms drain timeout", d)
	}
	again := waitSeed(t, rescue.Started, 1, 10*time.Second)
	if d := again.Sub(termed); d > 3*time.Second {
		t.Errorf("task redelivered %v after SIGTERM, want < 3s (ack wait %v)", d, cfg.AckWait)
	}
	if !strings.Contains(w.stderrText(), "handing back task at shutdown") {
		t.Errorf("worker log lacks the hand-back:\n%s", w.stderrText())
	}
	e.WaitSweep("term", store.SweepDone, 20*time.Second)
	recs := e.WantAllDone("term", 6)
	if p := recs[0].Result.Provenance; p.Attempt != 2 || p.Worker != "rescue" {
		t.Errorf("the handed-back task: attempt %d by %s, want 2 by rescue", p.Attempt, p.Worker)
	}
	if rescue.Runs() != 1 {
		t.Errorf("the rescue worker ran %d tasks; the others' acks were lost?", rescue.Runs())
	}
}

func TestWorkerWrongCredentials(t *testing.T) {
	srv := coordtest.StartServer(t, "", 0, "right-token")
	start := time.Now()
	_, _, err := runCLI(t, "worker", "--nats", srv.URL, "--nats-token", "wrong")
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(strings.ToLower(err.Error()), "authorization") ||
		!strings.Contains(err.Error(), "--nats-token") {
		t.Fatalf("worker with a wrong token: err = %v, want a refusal naming the flags", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refusal took %v", d)
	}
	p := startSgsweep(t, nil, "worker", "--nats", srv.URL, "--nats-user", "who", "--nats-password", "nope")
	if code := p.wait(10 * time.Second); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.Contains(p.stderrText(), "refused") {
		t.Errorf("stderr: %s", p.stderrText())
	}
}

package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// A coordinator service, the control commands against it, a second
// coordinator on its data dir, and status with and without it.
func TestCoordinatorCommands(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "runs.log")
	coord := startSgsweep(t, nil, append([]string{"coordinator", "--data-dir", dir}, fastFlags...)...)
	coord.waitLine(20*time.Second, "coordinator ready", func(l string) bool { return strings.Contains(l, "coordinator ready") })

	// A second coordinator on the same data dir fails within a second.
	start := time.Now()
	_, _, err := runCLI(t, "coordinator", "--data-dir", dir)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "another sgsweep coordinator is using") {
		t.Errorf("second coordinator: err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("second coordinator took %v to give up", d)
	}

	// Submit: seeds 1–4, seed 3 has an invalid config for the first worker.
	spec := coordtest.Spec(t, dir, "svc", 4, nil, "")
	out, _, err := runCLI(t, "submit", "--data-dir", dir, spec)
	if err != nil || !strings.Contains(out, "4 tasks planned") {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	// Submit returns once the tasks are planned; the coordinator publishes
	// them right after.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, _, err = runCLI(t, "status", "--data-dir", dir, "svc")
		if err == nil && strings.Contains(out, "from the coordinator") && strings.Contains(out, "4 pending") &&
			strings.Contains(out, "4 waiting") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status while queued, after 10 s: %v\n%s", err, out)
		}
	}
	flaky := &coordtest.Fake{Invalid: []uint64{3}, LogFile: logFile}
	w := startSgsweep(t, flaky, "worker", "--data-dir", dir, "--concurrency", "2")
	waitStatus(t, dir, "svc", func(s *coordinator.SweepStatus) bool { return s.State == store.SweepDone })
	out, _, _ = runCLI(t, "status", "--data-dir", dir, "svc")
	if !strings.Contains(out, "3 done (0 diverged), 1 failed") || !strings.Contains(out, "fake invalid config") {
		t.Errorf("status with a failure:\n%s", out)
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	w.wait(10 * time.Second)

	// Retry the failed task with a worker that can do it.
	out, _, err = runCLI(t, "retry", "--data-dir", dir, "--failed", "svc")
	if err != nil || !strings.Contains(out, "1 failed tasks queued again") {
		t.Fatalf("retry: %v\n%s", err, out)
	}
	w = startSgsweep(t, &coordtest.Fake{LogFile: logFile}, "worker", "--data-dir", dir, "--concurrency", "1")
	waitStatus(t, dir, "svc", func(s *coordinator.SweepStatus) bool { return s.State == store.SweepDone && s.Failed == 0 })
	w.cmd.Process.Signal(syscall.SIGTERM)
	w.wait(10 * time.Second)

	// status --watch refreshes until interrupted.
	watcher := startSgsweep(t, nil, "status", "--data-dir", dir, "--watch", "--interval", "100ms", "svc")
	coordtest.WaitFor(t, 10*time.Second, "two refreshes", func() bool {
		return strings.Count(watcher.stdout.String(), "svc  done  (from the coordinator)") >= 2
	})
	watcher.cmd.Process.Signal(syscall.SIGINT)
	if code := watcher.wait(5 * time.Second); code != 0 {
		t.Errorf("status --watch exited %d on SIGINT", code)
	}

	// A changed spec is refused through the coordinator too.
	changed := coordtest.Spec(t, dir, "svc", 5, nil, "")
	_, _, err = runCLI(t, "submit", "--data-dir", dir, changed)
	if err == nil || !strings.Contains(err.Error(), "--extend") {
		t.Errorf("changed spec: err = %v", err)
	}
	// Cancel a sweep nobody works on.
	if _, _, err := runCLI(t, "submit", "--data-dir", dir, coordtest.Spec(t, dir, "idle", 3, []float64{0.3}, "")); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "the idle sweep queued", func() bool {
		out, _, _ := runCLI(t, "status", "--data-dir", dir, "idle")
		return strings.Contains(out, "3 waiting")
	})
	out, _, err = runCLI(t, "cancel", "--data-dir", dir, "idle")
	if err != nil || !strings.Contains(out, "sweep idle cancelled: 3 queued tasks withdrawn") {
		t.Errorf("cancel: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "cancel", "--data-dir", dir, "nope"); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("cancel of an unknown sweep: %v", err)
	}

	// The store is held by the coordinator: without its address, status
	// says so at once instead of waiting.
	conn := filepath.Join(dir, "nats.json")
	os.Rename(conn, conn+".hidden")
	start = time.Now()
	_, _, err = runCLI(t, "status", "--data-dir", dir)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "held by a running coordinator") {
		t.Errorf("status without the coordinator's address: err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("status took %v to report the lock", d)
	}
	os.Rename(conn+".hidden", conn)

	// Stopped, the coordinator leaves the store to status.
	coord.cmd.Process.Signal(syscall.SIGTERM)
	if code := coord.wait(15 * time.Second); code != 0 {
		t.Errorf("coordinator exited %d after SIGTERM", code)
	}
	if _, err := os.Stat(conn); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("nats.json left behind: %v", err)
	}
	out, _, err = runCLI(t, "status", "--data-dir", dir, "svc")
	if err != nil || !strings.Contains(out, "from the store; no coordinator is running") || !strings.Contains(out, "4 done") {
		t.Errorf("status without a coordinator: %v\n%s", err, out)
	}
	_, _, err = runCLI(t, "submit", "--data-dir", dir, spec)
	if !errors.Is(err, coordinator.ErrNoCoordinator) || !strings.Contains(err.Error(), "sgsweep coordinator") {
		t.Errorf("submit without a coordinator: %v", err)
	}
}

// waitStatus polls `sgsweep status --json` until cond holds for the sweep.
func waitStatus(t *testing.T, dir, name string, cond func(*coordinator.SweepStatus) bool) {
	t.Helper()
	waitStatusWithin(t, 30*time.Second, dir, name, cond)
}

// waitStatusWithin is waitStatus with another timeout.
func waitStatusWithin(t *testing.T, timeout time.Duration, dir, name string, cond func(*coordinator.SweepStatus) bool) {
	t.Helper()
	var last string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		out, _, err := runCLI(t, "status", "--data-dir", dir, "--json", name)
		last = out
		var st coordinator.Status
		if err == nil && json.Unmarshal([]byte(out), &st) == nil && len(st.Sweeps) == 1 && cond(&st.Sweeps[0]) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("sweep %s: condition not met; last status:\n%s", name, last)
}

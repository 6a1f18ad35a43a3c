// Package slurm tests the job scripts of examples/slurm without Slurm: it
// runs them with bash as sbatch would, and ends a job as Slurm does at its
// time limit, with SIGTERM to every process of the job.
package slurm

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results/store"
)

// spec is a sweep of 24 short real trainings (about a second each: long
// enough that the sweep is still running when the test ends the
// coordinator's allocation, which it does within about two tasks' time after
// the 4th result).
const spec = `name: slurm-test
base:
  dataset: {samples_per_class: 300}
  network: {hidden: [32]}
  train: {epochs: 6}
grid:
  surrogate.shape: [superspike, esser]
  surrogate.scale: [1, 10]
replicates: {seed: 6}
`

const (
	sweepName  = "slurm-test"
	sweepTasks = 24
)

// TestSlurmScriptsResume runs a coordinator job and three worker array
// tasks, ends one worker's "allocation" and then the coordinator's
// mid-sweep, submits the coordinator
// again (it comes back on another port, as on another node), and checks
// that the workers follow it, the sweep completes with one result per task,
// and the workers exit by themselves when it is over.
func TestSlurmScriptsResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sgsweep and runs a sweep of real trainings")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sgsweep")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sgsweep")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	state := t.TempDir()
	specPath := filepath.Join(t.TempDir(), "slurm-test.yaml")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"SGSWEEP_STATE="+state,
		"SGSWEEP="+bin,
		"SGSWEEP_POLL=1",
		"SGSWEEP_LISTEN_HOST=127.0.0.1",
		"SLURM_CPUS_PER_TASK=1",
		"SGSWEEP_THREADS=1",
		"SGSWEEP_BACKOFF=3s",
	)
	scripts := filepath.Join(root, "examples", "slurm")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	status := func() *coordinator.SweepStatus { return sweepStatus(ctx, t, bin, state) }

	coord := startJob(t, env, filepath.Join(scripts, "coordinator.sbatch"), specPath)
	workers := []*job{
		startJob(t, env, filepath.Join(scripts, "workers.sbatch"), sweepName),
		startJob(t, env, filepath.Join(scripts, "workers.sbatch"), sweepName),
	}
	shortWorker := startJob(t, env, filepath.Join(scripts, "workers.sbatch"), sweepName)
	waitFor(ctx, t, "4 tasks done", func() bool {
		for _, j := range append(workers, coord, shortWorker) {
			if j.exited() {
				t.Fatalf("%s exited early with %d:\n%s", j.name, j.code, j.output())
			}
		}
		s := status()
		return s != nil && s.Done >= 4
	})

	// A worker's allocation ends: it stops with its tasks finished or
	// handed back.
	shortWorker.endAllocation(t)
	if out := shortWorker.output(); !strings.Contains(out, "worker stopped") {
		t.Errorf("the worker whose allocation ended did not stop cleanly:\n%s", out)
	}

	coord.endAllocation(t)
	mid := status()
	if mid == nil || mid.State != store.SweepRunning || mid.Done == sweepTasks {
		t.Fatalf("after the first allocation: %+v; want a sweep still running (make the tasks longer)", mid)
	}
	t.Logf("first allocation ended with %d of %d tasks done", mid.Done, sweepTasks)

	coord = startJob(t, env, filepath.Join(scripts, "coordinator.sbatch"), specPath)
	for i, w := range workers {
		if code := w.wait(ctx, t); code != 0 {
			t.Errorf("worker job %d exited with %d, want 0\n%s", i, code, w.output())
		}
		out := w.output()
		for _, want := range []string{"the coordinator moved to nats://127.0.0.1:", "sweep " + sweepName + " is over"} {
			if !strings.Contains(out, want) {
				t.Errorf("worker job %d never said %q:\n%s", i, want, out)
			}
		}
	}
	coord.endAllocation(t)

	final := status()
	if final == nil || final.State != store.SweepDone || final.Done != sweepTasks || final.Failed != 0 || final.Conflicts != 0 {
		t.Fatalf("final status %+v; want done with %d tasks done, none failed or conflicting", final, sweepTasks)
	}
	checkExport(ctx, t, bin, state)
}

// checkExport reads the store (no coordinator runs): one done row per task.
func checkExport(ctx context.Context, t *testing.T, bin, state string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, bin, "export", "--data-dir", state, sweepName).Output()
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	seen := map[string]bool{}
	for _, r := range recs[1:] {
		if id := r[col["task_id"]]; seen[id] || r[col["state"]] != "done" {
			t.Errorf("task %s: state %s, seen before %v", id, r[col["state"]], seen[id])
		}
		seen[r[col["task_id"]]] = true
	}
	if len(seen) != sweepTasks {
		t.Errorf("export has %d tasks, want %d", len(seen), sweepTasks)
	}
}

// sweepStatus asks `sgsweep status` (the coordinator, or the store when none
// runs); nil while it cannot answer.
func sweepStatus(ctx context.Context, t *testing.T, bin, state string) *coordinator.SweepStatus {
	out, err := exec.CommandContext(ctx, bin, "status", "--json", "--data-dir", state, sweepName).Output()
	if err != nil {
		return nil
	}
	var st coordinator.Status
	if err := json.Unmarshal(out, &st); err != nil || len(st.Sweeps) != 1 {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return &st.Sweeps[0]
}

// job is a job script running in its own process group, like a job's
// processes under Slurm.
type job struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	code int
}

func startJob(t *testing.T, env []string, script string, args ...string) *job {
	t.Helper()
	j := &job{name: filepath.Base(script), out: &syncBuffer{}, done: make(chan struct{})}
	j.cmd = exec.Command("bash", append([]string{script}, args...)...)
	j.cmd.Env = env
	j.cmd.Stdout, j.cmd.Stderr = j.out, j.out
	j.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := j.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		j.cmd.Wait()
		j.code = j.cmd.ProcessState.ExitCode()
		close(j.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-j.cmd.Process.Pid, syscall.SIGKILL)
		<-j.done
		if t.Failed() {
			t.Logf("output of %s:\n%s", j.name, j.output())
		}
	})
	return j
}

// endAllocation does what Slurm does at a job's time limit: SIGTERM to all
// its processes. The job must exit 0 within 30 s.
func (j *job) endAllocation(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(-j.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := j.wait(ctx, t); code != 0 {
		t.Fatalf("%s exited with %d after SIGTERM, want 0:\n%s", j.name, code, j.output())
	}
}

func (j *job) wait(ctx context.Context, t *testing.T) int {
	t.Helper()
	select {
	case <-j.done:
		return j.code
	case <-ctx.Done():
		t.Fatalf("%s still running: %v\n%s", j.name, ctx.Err(), j.output())
		return -1
	}
}

func (j *job) output() string { return j.out.String() }

func (j *job) exited() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the writers of a process's output
// and a reading test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

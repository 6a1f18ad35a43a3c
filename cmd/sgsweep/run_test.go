package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
)

// asMainEnv makes the test binary act as the sgsweep binary: tests start it
// as a subprocess to kill it for real. coordtest.FakeEnv, if set, replaces
// the simulator in that process.
const asMainEnv = "SGSWEEP_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		fake, ok, err := coordtest.FakeFromEnv()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		if ok {
			trainer = fake.Train
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proc is an sgsweep subprocess (the test binary acting as sgsweep).
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout lockedBuffer
	mu     sync.Mutex
	lines  []string // stderr
	cond   *sync.Cond
	done   chan struct{}
	err    error
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startSgsweep starts `sgsweep args...` with the fake simulator.
func startSgsweep(t *testing.T, fake *coordtest.Fake, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	p.cmd.Env = append(os.Environ(), asMainEnv+"=1")
	if fake != nil {
		p.cmd.Env = append(p.cmd.Env, fake.Env())
	}
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.cond.Broadcast()
			p.mu.Unlock()
		}
		p.err = p.cmd.Wait()
		p.mu.Lock()
		close(p.done)
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("stderr of %v:\n%s", args, p.stderrText())
		}
	})
	return p
}

func (p *proc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitLine waits for a stderr line for which match is true and returns it.
func (p *proc) waitLine(timeout time.Duration, what string, match func(string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { p.mu.Lock(); p.cond.Broadcast(); p.mu.Unlock() })
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for seen := 0; ; {
		for ; seen < len(p.lines); seen++ {
			if match(p.lines[seen]) {
				return p.lines[seen]
			}
		}
		select {
		case <-p.done:
			p.t.Fatalf("process exited (%v) before %s; stderr:\n%s", p.err, what, strings.Join(p.lines, "\n"))
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %s after %v; stderr:\n%s", what, timeout, strings.Join(p.lines, "\n"))
		}
		p.cond.Wait()
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("process still running after %v; stderr:\n%s", timeout, p.stderrText())
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		p.t.Fatal(p.err)
	}
	return 0
}

// openRO opens a data dir's store read-only.
func openRO(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dataDir(dir).statePath(), &store.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func recordsOf(t *testing.T, s *store.Store, name string) []results.Record {
	t.Helper()
	var out []results.Record
	if err := s.Records(context.Background(), name, func(r *results.Record) error {
		out = append(out, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

var seedRE = regexp.MustCompile(`"seed":(\d+)`)

// seedOf is a task's seed (its replicate: the specs of these tests vary
// only the seed).
func seedOf(t *testing.T, r results.Record) uint64 {
	t.Helper()
	m := seedRE.FindSubmatch(r.Params)
	if m == nil {
		t.Fatalf("no seed in %s", r.Params)
	}
	seed, _ := strconv.ParseUint(string(m[1]), 10, 64)
	return seed
}

// fastFlags are run/coordinator flags with test timings.
var fastFlags = []string{"--backoff", "2s", "--max-deliver", "3", "--sync-always=false"}

func TestRunCommandAndResume(t *testing.T) {
	dir := t.TempDir()
	spec := coordtest.Spec(t, dir, "cli", 6, []float64{0.01, 0.02}, "")
	fake := &coordtest.Fake{Sleep: 10 * time.Millisecond}
	old := trainer
	trainer = fake.Train
	defer func() { trainer = old }()

	args := append([]string{"run", "--data-dir", dir, "--workers", "3", "--progress", "none"}, fastFlags...)
	out, errOut, err := runCLI(t, append(args, spec)...)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	for _, want := range []string{"sweep cli done", "12 tasks, 12 done (0 diverged), 0 failed", "train.lr", "test_acc.mean"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "12 tasks planned; 0 done already") {
		t.Errorf("run stderr lacks the plan:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "nats.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("nats.json left behind after the run: %v", err)
	}
	runs := fake.Runs()

	// Running it again resumes: all done, nothing trained.
	out, errOut, err = runCLI(t, append(args, spec)...)
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "resuming, 12 tasks; 12 done already") || !strings.Contains(out, "12 done") {
		t.Errorf("rerun output:\n%s\n%s", errOut, out)
	}
	if fake.Runs() != runs {
		t.Errorf("the rerun trained %d tasks", fake.Runs()-runs)
	}

	// plan reads the store: everything is done.
	out, _, err = runCLI(t, "plan", "--data-dir", dir, spec)
	if err != nil || !strings.Contains(out, "sweep cli exists with this spec") ||
		!strings.Contains(out, "12 with a result, 0 failed, 0 to run") {
		t.Errorf("plan on the store: %v\n%s", err, out)
	}

	// A changed spec is refused with a diff; --extend plans the new cells.
	changed := coordtest.Spec(t, dir, "cli", 8, []float64{0.01, 0.02}, "")
	out, _, err = runCLI(t, "plan", "--data-dir", dir, changed)
	if err != nil || !strings.Contains(out, "--extend to plan 4 new tasks, 0 leave it") ||
		!strings.Contains(out, "12 with a result, 0 failed, 4 to run") || !strings.Contains(out, "seed") {
		t.Errorf("plan of a changed spec: %v\n%s", err, out)
	}
	_, _, err = runCLI(t, append(args, changed)...)
	if err == nil || !strings.Contains(err.Error(), "--extend") || !strings.Contains(err.Error(), "seed") {
		t.Fatalf("changed spec: err = %v, want a refusal with a diff", err)
	}
	out, errOut, err = runCLI(t, append(append(args, "--extend"), changed)...)
	if err != nil {
		t.Fatalf("extend: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, "extended to 16 tasks (4 new to the sweep, 0 cells left the spec") ||
		!strings.Contains(out, "16 tasks, 16 done") {
		t.Errorf("extend output:\n%s\n%s", errOut, out)
	}
	if got := fake.Runs() - runs; got < 4 {
		t.Errorf("extend trained %d tasks, want the 4 new ones", got)
	}

	// With --nats, run uses that server: no embedded one, no nats.json.
	srv := coordtest.StartServer(t, "", 0, "tok")
	ext := t.TempDir()
	out, errOut, err = runCLI(t, "run", "--data-dir", ext, "--nats", srv.URL, "--nats-token", "tok", "--workers", "2",
		"--progress", "none", "--backoff", "2s", changed)
	if err != nil || !strings.Contains(out, "16 tasks, 16 done") {
		t.Fatalf("run --nats: %v\n%s\n%s", err, out, errOut)
	}
	for _, name := range []string{"nats", "nats.json"} {
		if _, err := os.Stat(filepath.Join(ext, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("run --nats made %s in the data dir: %v", name, err)
		}
	}

	// A bad spec is a usage error naming the problem.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\ngrid:\n  surrogate.shape: [nope]\n"), 0o644)
	_, _, err = runCLI(t, "run", "--data-dir", dir, bad)
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "bad.yaml:3") {
		t.Errorf("bad spec: err = %v, want a usage error naming bad.yaml:3", err)
	}
}

// kill -9 the process running `sgsweep run` (coordinator, embedded server and
// workers) after some results are committed, then run the same command
// again: what was committed is unchanged, the sweep completes, and no
// committed task is trained again.
func TestRunSurvivesKill9(t *testing.T) {
	const n = 40
	dir := t.TempDir()
	spec := coordtest.Spec(t, dir, "kill", n, nil, "")
	logFile := filepath.Join(dir, "runs.log")
	fake := &coordtest.Fake{Sleep: 150 * time.Millisecond, LogFile: logFile}
	args := append([]string{"--log-level", "debug", "run", "--data-dir", dir, "--workers", "2",
		"--progress", "none", "--heartbeat", "300ms"}, fastFlags...)
	args = append(args, spec)

	first := startSgsweep(t, fake, args...)
	stored := 0
	first.waitLine(30*time.Second, "5 committed results", func(line string) bool {
		if m := regexp.MustCompile(`committed results.*stored=(\d+)`).FindStringSubmatch(line); m != nil {
			k, _ := strconv.Atoi(m[1])
			stored += k
		}
		return stored >= 5
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.wait(10 * time.Second)

	st := openRO(t, dir)
	if err := st.Check(context.Background()); err != nil {
		t.Fatalf("st after kill -9: %v", err)
	}
	before := recordsOf(t, st, "kill")
	st.Close()
	var committed []results.Record
	for _, r := range before {
		if r.State == results.StateDone {
			committed = append(committed, r)
		}
	}
	if len(committed) < 5 || len(committed) == n {
		t.Fatalf("%d tasks committed before the kill, want some but not all", len(committed))
	}

	second := startSgsweep(t, fake, args...)
	if code := second.wait(60 * time.Second); code != 0 {
		t.Fatalf("rerun exited %d", code)
	}
	if out := second.stdout.String(); !strings.Contains(out, fmt.Sprintf("%d tasks, %d done", n, n)) {
		t.Errorf("rerun summary:\n%s", out)
	}
	st = openRO(t, dir)
	after := recordsOf(t, st, "kill")
	for _, r := range after {
		if r.State != results.StateDone {
			t.Fatalf("task %d: %s after the rerun", r.Ordinal, r.State)
		}
	}
	starts, _, err := coordtest.FakeLog(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range committed {
		a := after[r.Ordinal]
		if a.Result.Digest != r.Result.Digest || !a.Result.Provenance.StartedAt.Equal(r.Result.Provenance.StartedAt) {
			t.Errorf("task %d committed before the kill changed: %+v → %+v", r.Ordinal, r.Result.Provenance, a.Result.Provenance)
		}
		if got := starts[seedOf(t, r)]; got != 1 {
			t.Errorf("task %d (committed before the kill) trained %d times", r.Ordinal, got)
		}
	}
	info, _ := st.Sweep(context.Background(), "kill")
	if info.State != store.SweepDone || info.Done != n {
		t.Errorf("sweep after the rerun: %+v", info)
	}
}

// kill -9 the coordinator while it publishes a large sweep: the rerun
// publishes only what is missing, and nothing twice.
func TestRunResumesAfterPartialEnqueue(t *testing.T) {
	const n, window = 4000, 500
	dir := t.TempDir()
	spec := coordtest.Spec(t, dir, "enqueue", n, nil, "")
	args := append([]string{"--log-level", "debug", "run", "--data-dir", dir, "--workers", "0",
		"--progress", "none", "--publish-window", strconv.Itoa(window)}, fastFlags...)
	args = append(args, spec)
	first := startSgsweep(t, nil, args...)
	// Kill it while it publishes the second window, after it recorded the
	// first: watch the task stream through the embedded server.
	js := dataDirJetStream(t, dir)
	var atKill uint64
	coordtest.WaitFor(t, 30*time.Second, "the second window being published", func() bool {
		info, err := js.Stream(context.Background(), "SGSWEEP_TASKS")
		if err != nil {
			return false
		}
		si, err := info.Info(context.Background())
		if err != nil {
			return false
		}
		atKill = si.State.Msgs
		return atKill > window
	})
	first.cmd.Process.Signal(syscall.SIGKILL)
	first.wait(10 * time.Second)
	t.Logf("killed with %d task messages in the stream", atKill)

	second := startSgsweep(t, nil, args...)
	line := second.waitLine(30*time.Second, "all tasks queued", func(line string) bool {
		return strings.Contains(line, "tasks queued")
	})
	t.Logf("rerun: %s", line)
	if m := regexp.MustCompile(`already_queued=(\d+)`).FindStringSubmatch(line); m == nil || m[1] != "0" {
		t.Errorf("the rerun published tasks that were queued already: %s", line)
	}
	if reconciled := regexp.MustCompile(`reconciled .*in_stream=(\d+) recorded=(\d+)`).FindStringSubmatch(second.stderrText()); reconciled != nil {
		t.Logf("rerun found %s tasks in the stream, %s of them recorded", reconciled[1], reconciled[2])
	} else if atKill%window != 0 {
		t.Errorf("killed mid-window (%d messages) but the rerun did not reconcile", atKill)
	}
	second.cmd.Process.Signal(syscall.SIGTERM)
	if code := second.wait(20 * time.Second); code != 130 {
		t.Errorf("interrupted run exited %d, want 130", code)
	}
	if !strings.Contains(second.stderrText(), "run the same command again to resume") {
		t.Errorf("interrupted run did not say how to resume:\n%s", second.stderrText())
	}
	// The stream holds each task once.
	srv := coordtest.StartServer(t, filepath.Join(dir, "nats"), 0, "")
	js, _ = jetstream.New(coordtest.Connect(t, srv.URL, ""))
	s, err := js.Stream(context.Background(), "SGSWEEP_TASKS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != n || info.State.NumSubjects != n {
		t.Errorf("task stream: %d messages on %d subjects, want %d once each", info.State.Msgs, info.State.NumSubjects, n)
	}
}

// dataDirJetStream connects to the embedded server of a running `sgsweep
// run` or `coordinator` (nats.json in dir).
func dataDirJetStream(t *testing.T, dir string) jetstream.JetStream {
	t.Helper()
	var info *connInfo
	coordtest.WaitFor(t, 20*time.Second, "nats.json", func() bool {
		var err error
		info, err = dataDir(dir).readConn()
		return err == nil
	})
	js, err := jetstream.New(connectRole(t, dir, info.URL, coordinator.RoleCoordinator))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

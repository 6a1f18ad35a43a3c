package coordinator_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// coordinatorEnv makes the test binary run only a coordinator over the
// store in its value's state.db, connected to the NATS server at
// natsURLEnv, deciding stops by stopRule and logging to stderr: a process
// to kill -9.
const (
	coordinatorEnv = "SGSWEEP_TEST_COORDINATOR"
	natsURLEnv     = "SGSWEEP_TEST_NATS_URL"
)

func runCoordinatorProcess(dir string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st, err := store.Open(filepath.Join(dir, "state.db"), nil) // synced, as in production
	if err != nil {
		fail(err)
	}
	nc, err := nats.Connect(os.Getenv(natsURLEnv))
	if err != nil {
		fail(err)
	}
	cfg := coordtest.CoordinatorConfig()
	cfg.NewDecider = stopRule().NewDecider
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	c, err := coordinator.New(st, nc, cfg)
	if err != nil {
		fail(err)
	}
	if err := c.Run(context.Background()); err != nil {
		fail(err)
	}
}

// coordProc is a coordinator process (runCoordinatorProcess).
type coordProc struct {
	cmd   *exec.Cmd
	lines chan string // stderr
	done  chan struct{}
}

func startCoordProc(t *testing.T, dir, url string, env ...string) *coordProc {
	t.Helper()
	p := &coordProc{cmd: exec.Command(os.Args[0], "-test.run=^$"), lines: make(chan string, 1024), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), append(env, coordinatorEnv+"="+dir, natsURLEnv+"="+url)...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			mu.Lock()
			t.Logf("coordinator process stderr:\n%s", log.String())
			mu.Unlock()
		}
	})
	p.waitLine(t, "coordinator running")
	return p
}

// waitLine waits for a stderr line containing s.
func (p *coordProc) waitLine(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, s) {
				return
			}
		case <-p.done:
			t.Fatalf("coordinator process exited before logging %q", s)
		case <-timeout:
			t.Fatalf("coordinator process did not log %q within 30s", s)
		}
	}
}

func (p *coordProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("killed coordinator process still running")
	}
}

// kill -9 of the coordinator between committing a stop decision and
// replying with it (StopDelayEnv holds it there), then a restart: the
// decision, synced before the reply was due, is the answer to the task's
// next request, unchanged (though the task's values no longer call for
// it); the stopped result carrying it settles the task; nothing settled
// or queued is published again.
func TestStopDecisionSurvivesKill9(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := coordtest.StartServer(t, "", 0, "")
	nc := coordtest.Connect(t, srv.URL, "")
	path, tasks := stopSpec(t, dir, "kill", 3)

	first := startCoordProc(t, dir, srv.URL, coordinator.StopDelayEnv+"=60s")
	client := coordinator.NewClient(nc)
	source, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Submit(ctx, coordinator.SubmitRequest{SpecName: path, Spec: source}); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "the tasks published", func() bool {
		return !slices.Contains(taskSeqs(t, nc, "kill", tasks), 0)
	})
	seqs := taskSeqs(t, nc, "kill", tasks)

	asked := make(chan error, 1)
	go func() {
		_, err := coordtest.AskProgress(nc, "kill", tasks[0].ID, stopEpochs, coordtest.Curve(2, 0.1), 2*time.Second)
		asked <- err
	}()
	first.waitLine(t, "stop decision committed")
	first.kill9(t)
	if err := <-asked; err == nil {
		t.Fatal("the decision was replied before the kill")
	}

	st, err := store.Open(filepath.Join(dir, "state.db"), &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(ctx); err != nil {
		t.Fatalf("store after kill -9: %v", err)
	}
	stored := decisions(t, st, "kill")
	st.Close()
	committed := stored[tasks[0].ID].Decision
	if len(stored) != 1 || committed.Epoch != 2 || committed.Value != 0.1 {
		t.Fatalf("decisions after kill -9: %+v, want task 0's after epoch 2", stored)
	}

	second := startCoordProc(t, dir, srv.URL)
	rep, err := client.Submit(ctx, coordinator.SubmitRequest{SpecName: path, Spec: source})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != store.PlanResumed || rep.Pending != 3 {
		t.Errorf("resubmitted: %+v, want resumed, 3 pending", rep)
	}
	// The redelivered task asks again after epochs 1, 2 and 3, now with
	// values the rule would let go on: the committed decision stands.
	for epoch := 1; epoch <= 3; epoch++ {
		if got := ask(t, nc, "kill", tasks[0], epoch, 0.9); !sameStop(got, &committed) {
			t.Fatalf("after the restart, epoch %d: %+v, want the committed %+v", epoch, got, committed)
		}
	}
	js := jetStream(t, nc)
	coordtest.PublishResult(t, js, "kill", tasks[0].ID,
		coordtest.ResultData(t, "kill", tasks[0], protocol.StatusStopped, coordtest.Curve(2, 0.1), &committed))
	coordtest.PublishResult(t, js, "kill", tasks[1].ID,
		coordtest.ResultData(t, "kill", tasks[1], protocol.StatusOK, coordtest.Curve(stopEpochs, 0.9), nil))
	coordtest.WaitFor(t, 10*time.Second, "two results", func() bool {
		s, err := client.Status(ctx, coordinator.StatusRequest{Sweep: "kill"})
		return err == nil && s.Sweeps[0].Stopped == 1 && s.Sweeps[0].Done == 1
	})
	second.kill9(t)
	// Once more: the same command resumes with nothing to publish (the
	// tasks' messages, which no worker took here, are those of the first
	// publication).
	third := startCoordProc(t, dir, srv.URL)
	if rep, err := client.Submit(ctx, coordinator.SubmitRequest{SpecName: path, Spec: source}); err != nil ||
		rep.Stopped != 1 || rep.Done != 1 || rep.Pending != 1 {
		t.Errorf("resubmitted: %+v (err %v), want 1 stopped, 1 done, 1 pending", rep, err)
	}
	time.Sleep(300 * time.Millisecond) // a publish pass would have run
	if got := taskSeqs(t, nc, "kill", tasks); fmt.Sprint(got) != fmt.Sprint(seqs) {
		t.Errorf("task messages at stream sequences %v, first published at %v", got, seqs)
	}
	third.kill9(t)
	st, err = store.Open(filepath.Join(dir, "state.db"), &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var recs []results.Record
	err = st.Records(ctx, "kill", func(r *results.Record) error { recs = append(recs, *r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].State != results.StateStopped || !sameStop(recs[0].Stop, &committed) || recs[0].Result == nil ||
		!sameStop(recs[0].Result.Stop, &committed) || recs[1].State != results.StateDone ||
		recs[2].State != results.StatePending {
		t.Errorf("records %+v, want task 0 stopped by the committed decision, 1 done, 2 pending", recs)
	}
}

// jetStream is a JetStream context on nc.
func jetStream(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// taskSeqs returns the stream sequence of each task's message in the task
// stream (0 when there is none).
func taskSeqs(t *testing.T, nc *nats.Conn, sweepName string, tasks []sweep.Task) []uint64 {
	t.Helper()
	ctx := context.Background()
	s, err := jetStream(t, nc).Stream(ctx, protocol.StreamTasks)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint64, len(tasks))
	for i, tk := range tasks {
		if m, err := s.GetLastMsgForSubject(ctx, protocol.TaskSubject(sweepName, tk.ID)); err == nil {
			out[i] = m.Sequence
		}
	}
	return out
}

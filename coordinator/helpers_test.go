package coordinator_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/sweep"
	"github.com/sgsweep/sgsweep/worker"
)

// testLogger logs to the test output when -v and SGSWEEP_TEST_LOG are set.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SGSWEEP_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// env is a test deployment: a NATS server, a store and a coordinator.
type env struct {
	t     *testing.T
	dir   string
	srv   *coordinator.Server
	store *results.Store
	coord *coordinator.Coordinator
	nc    *nats.Conn
	js    jetstream.JetStream
	stop  context.CancelFunc
	done  chan error
}

// newEnv starts a server and a coordinator with cfg.
func newEnv(t *testing.T, cfg coordinator.Config) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir()}
	e.srv = coordtest.StartServer(t, filepath.Join(e.dir, "nats"), 0, "")
	var err error
	e.store, err = results.Open(filepath.Join(e.dir, "state.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.nc = coordtest.Connect(t, e.srv.URL, "")
	e.js, _ = jetstream.New(e.nc)
	e.startCoordinator(cfg)
	return e
}

func (e *env) startCoordinator(cfg coordinator.Config) {
	e.t.Helper()
	cfg.Logger = testLogger(e.t)
	nc := coordtest.Connect(e.t, e.srv.URL, "")
	c, err := coordinator.New(e.store, nc, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.coord, e.stop, e.done = c, cancel, make(chan error, 1)
	go func() { e.done <- c.Run(ctx) }()
	e.t.Cleanup(e.stopCoordinator)
	select {
	case <-c.Ready():
	case err := <-e.done:
		e.t.Fatalf("coordinator stopped: %v", err)
	case <-time.After(10 * time.Second):
		e.t.Fatal("coordinator not ready after 10s")
	}
}

func (e *env) stopCoordinator() {
	if e.stop == nil {
		return
	}
	e.stop()
	if err := <-e.done; err != nil {
		e.t.Errorf("coordinator: %v", err)
	}
	e.stop = nil
}

// submit plans a spec file on the coordinator.
func (e *env) submit(path string, extend bool) (*results.PlanReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.coord.Submit(context.Background(), coordinator.SubmitRequest{SpecName: path, Spec: data, Extend: extend})
}

// runningWorker is a worker in this process.
type runningWorker struct {
	w    *worker.Worker
	stop context.CancelFunc
	done chan error
}

// startWorker starts a worker with its own connection.
func (e *env) startWorker(name string, slots int, fake *coordtest.Fake) *runningWorker {
	e.t.Helper()
	cfg := coordtest.WorkerConfig(name, slots)
	cfg.Logger = testLogger(e.t)
	w, err := worker.New(coordtest.Connect(e.t, e.srv.URL, ""), fake.Train, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rw := &runningWorker{w: w, stop: cancel, done: make(chan error, 1)}
	go func() { rw.done <- w.Run(ctx) }()
	e.t.Cleanup(func() { rw.shutdown(e.t) })
	return rw
}

func (rw *runningWorker) shutdown(t testing.TB) {
	if rw.stop == nil {
		return
	}
	rw.stop()
	select {
	case err := <-rw.done:
		if err != nil {
			t.Errorf("worker: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("worker did not stop within 15s")
	}
	rw.stop = nil
}

// waitSweep waits until the sweep's state is want.
func (e *env) waitSweep(name, want string, timeout time.Duration) *results.SweepInfo {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		info, err := e.store.Sweep(context.Background(), name)
		if err == nil && info.State == want {
			return info
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("sweep %s not %s after %v: %+v (err %v)", name, want, timeout, info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// records returns the sweep's records.
func (e *env) records(name string) []results.Record {
	e.t.Helper()
	var out []results.Record
	err := e.store.Records(context.Background(), name, func(r *results.Record) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// streamMsgs is the number of messages in a stream.
func (e *env) streamMsgs(name string) uint64 {
	e.t.Helper()
	s, err := e.js.Stream(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return info.State.Msgs
}

// consumerInfo returns a consumer's info.
func (e *env) consumerInfo(stream, name string) *jetstream.ConsumerInfo {
	e.t.Helper()
	c, err := e.js.Consumer(context.Background(), stream, name)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

// wantDrained checks that the queues are empty: no task or result message
// left, nothing delivered and unacked.
func (e *env) wantDrained() {
	e.t.Helper()
	waitFor(e.t, 10*time.Second, "streams to drain", func() bool {
		return e.streamMsgs(sweep.StreamTasks) == 0 && e.streamMsgs(sweep.StreamResults) == 0 &&
			e.consumerInfo(sweep.StreamTasks, sweep.ConsumerWorkers).NumAckPending == 0
	})
}

// wantAllDone checks that every task of the sweep has one stored ok result.
func (e *env) wantAllDone(name string, n int) []results.Record {
	e.t.Helper()
	recs := e.records(name)
	if len(recs) != n {
		e.t.Fatalf("%d records, want %d", len(recs), n)
	}
	for _, r := range recs {
		if r.State != results.StateDone || r.Result == nil || r.Result.Status != sweep.StatusOK {
			e.t.Fatalf("record %d: state %s result %+v, want done ok", r.Ordinal, r.State, r.Result)
		}
	}
	return recs
}

func errorsIsNotFound(err error) bool { return errors.Is(err, results.ErrNotFound) }

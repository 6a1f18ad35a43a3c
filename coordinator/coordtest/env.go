package coordtest

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/worker"
)

// Logger logs to the test output when -v and SGSWEEP_TEST_LOG are set.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("SGSWEEP_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// Env is a test deployment: a NATS server, a store and a coordinator.
type Env struct {
	T   *testing.T
	Dir string
	// Srv is the NATS server (replaced by RestartServer), on Port.
	Srv  *coordinator.Server
	Port int
	// Store is the results store at Dir/state.db, checked at cleanup
	// (resultstest.OpenStore); Coord the running coordinator.
	Store *store.Store
	Coord *coordinator.Coordinator
	// NC and JS are a connection for the test's own use.
	NC      *nats.Conn
	JS      jetstream.JetStream
	workers []*RunningWorker
	stop    context.CancelFunc
	done    chan error
}

// NewEnv starts a server and a coordinator with cfg.
func NewEnv(t *testing.T, cfg coordinator.Config) *Env {
	t.Helper()
	e := &Env{T: t, Dir: t.TempDir()}
	e.startServer(0)
	t.Cleanup(func() { e.Srv.Stop() }) // first registered: runs last
	e.Port = e.Srv.Addr().(*net.TCPAddr).Port
	// Checked (Store.Check) and closed after the coordinator and workers
	// stop: their cleanups are registered later, so they run first.
	e.Store = resultstest.OpenStore(t, filepath.Join(e.Dir, "state.db"), nil)
	e.NC = Connect(t, e.Srv.URL, "")
	e.JS, _ = jetstream.New(e.NC)
	e.StartCoordinator(cfg)
	return e
}

func (e *Env) StartCoordinator(cfg coordinator.Config) {
	e.T.Helper()
	cfg.Logger = Logger(e.T)
	nc := Connect(e.T, e.Srv.URL, "")
	c, err := coordinator.New(e.Store, nc, cfg)
	if err != nil {
		e.T.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.Coord, e.stop, e.done = c, cancel, make(chan error, 1)
	go func() { e.done <- c.Run(ctx) }()
	e.T.Cleanup(e.StopCoordinator)
	select {
	case <-c.Ready():
	case err := <-e.done:
		e.T.Fatalf("coordinator stopped: %v", err)
	case <-time.After(10 * time.Second):
		e.T.Fatal("coordinator not ready after 10s")
	}
}

func (e *Env) StopCoordinator() {
	if e.stop == nil {
		return
	}
	e.stop()
	if err := <-e.done; err != nil {
		e.T.Errorf("coordinator: %v", err)
	}
	e.stop = nil
}

// RestartServer stops the NATS server and starts it again on the same port
// and store after down.
func (e *Env) RestartServer(down time.Duration) {
	e.T.Helper()
	e.Srv.Stop()
	time.Sleep(down)
	e.startServer(e.Port)
}

func (e *Env) startServer(port int) {
	e.T.Helper()
	var err error
	e.Srv, err = coordinator.StartServer(coordinator.ServerOptions{StoreDir: filepath.Join(e.Dir, "nats"), Port: port})
	if err != nil {
		e.T.Fatal(err)
	}
}

// Submit plans a spec file on the coordinator.
func (e *Env) Submit(path string, extend bool) (*store.PlanReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		e.T.Fatal(err)
	}
	return e.Coord.Submit(context.Background(), coordinator.SubmitRequest{SpecName: path, Spec: data, Extend: extend})
}

// RunningWorker is a worker in this process.
type RunningWorker struct {
	W    *worker.Worker
	stop context.CancelFunc
	done chan error
}

// StartWorker starts a worker with its own connection and test timings.
func (e *Env) StartWorker(name string, slots int, fake *Fake) *RunningWorker {
	e.T.Helper()
	return e.StartWorkerWith(WorkerConfig(name, slots), fake)
}

// StartWorkerWith starts a worker with its own connection.
func (e *Env) StartWorkerWith(cfg worker.Config, fake *Fake) *RunningWorker {
	e.T.Helper()
	cfg.Logger = Logger(e.T)
	w, err := worker.New(Connect(e.T, e.Srv.URL, ""), fake.Train, cfg)
	if err != nil {
		e.T.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rw := &RunningWorker{W: w, stop: cancel, done: make(chan error, 1)}
	go func() { rw.done <- w.Run(ctx) }()
	e.workers = append(e.workers, rw)
	e.T.Cleanup(func() { rw.Shutdown(e.T) })
	return rw
}

func (rw *RunningWorker) Shutdown(t testing.TB) {
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

// WaitSweep waits until the sweep's state is want.
func (e *Env) WaitSweep(name, want string, timeout time.Duration) *store.SweepInfo {
	e.T.Helper()
	deadline := time.Now().Add(timeout)
	for {
		info, err := e.Store.Sweep(context.Background(), name)
		if err == nil && info.State == want {
			return info
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("sweep %s not %s after %v: %+v (err %v)", name, want, timeout, info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitFor polls cond until it holds.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Records returns the sweep's Records.
func (e *Env) Records(name string) []results.Record {
	e.T.Helper()
	var out []results.Record
	err := e.Store.Records(context.Background(), name, func(r *results.Record) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

// StreamMsgs is the number of messages in a stream.
func (e *Env) StreamMsgs(name string) uint64 {
	e.T.Helper()
	s, err := e.JS.Stream(context.Background(), name)
	if err != nil {
		e.T.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		e.T.Fatal(err)
	}
	return info.State.Msgs
}

// ConsumerInfo returns a consumer's info.
func (e *Env) ConsumerInfo(stream, name string) *jetstream.ConsumerInfo {
	e.T.Helper()
	c, err := e.JS.Consumer(context.Background(), stream, name)
	if err != nil {
		e.T.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		e.T.Fatal(err)
	}
	return info
}

// WantDrained checks that the queues are empty: no task or result message
// left, nothing delivered and unacked.
func (e *Env) WantDrained() {
	e.T.Helper()
	WaitFor(e.T, 10*time.Second, "streams to drain", func() bool {
		return e.StreamMsgs(protocol.StreamTasks) == 0 && e.StreamMsgs(protocol.StreamResults) == 0 &&
			e.ConsumerInfo(protocol.StreamTasks, protocol.ConsumerWorkers).NumAckPending == 0
	})
}

// WantAllDone checks that every task of the sweep has one stored ok result.
func (e *Env) WantAllDone(name string, n int) []results.Record {
	e.T.Helper()
	recs := e.Records(name)
	if len(recs) != n {
		e.T.Fatalf("%d Records, want %d", len(recs), n)
	}
	for _, r := range recs {
		if r.State != results.StateDone || r.Result == nil || r.Result.Status != protocol.StatusOK {
			e.T.Fatalf("record %d: state %s result %+v, want done ok", r.Ordinal, r.State, r.Result)
		}
	}
	return recs
}

// WorkerStats sums the stats of the workers started with StartWorker.
func (e *Env) WorkerStats() worker.Stats {
	var sum worker.Stats
	for _, rw := range e.workers {
		s := rw.W.Stats()
		sum.Completed += s.Completed
		sum.Failed += s.Failed
		sum.Duplicates += s.Duplicates
		sum.Retried += s.Retried
		sum.Requeued += s.Requeued
		sum.Terminated += s.Terminated
	}
	return sum
}

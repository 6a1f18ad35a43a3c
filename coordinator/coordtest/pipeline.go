package coordtest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
	"github.com/sgsweep/sgsweep/worker"
)

// Pipeline is the whole path of a task in one process, for end-to-end
// benchmarks: an embedded NATS server, a store, a running coordinator and
// a worker with 8 slots, in a temporary directory of tb. Close stops it:
// a benchmark function runs several times, and each run's pipeline must
// be gone before the next one is measured. (Env is the test environment;
// it takes a *testing.T.)
type Pipeline struct {
	Dir         string
	Store       *store.Store
	Coordinator *coordinator.Coordinator
	Worker      *worker.Worker

	stop []func() // run in reverse order by Close
}

// Close stops the worker and the coordinator, closes the store and stops
// the server.
func (p *Pipeline) Close() {
	for i := len(p.stop) - 1; i >= 0; i-- {
		p.stop[i]()
	}
	p.stop = nil
}

// PipelineOptions are what the benchmarks vary.
type PipelineOptions struct {
	// SyncAlways makes the NATS server fsync every message.
	SyncAlways bool
	// NoSync skips bbolt's fsync on commit.
	NoSync bool
	// Run trains the tasks (e.g. (&Fake{}).Train, or a no-op).
	Run worker.Runner
}

// NewPipeline starts a Pipeline and waits until its coordinator is ready.
// On a failure it stops what it started and fails tb.
func NewPipeline(tb testing.TB, opts PipelineOptions) *Pipeline {
	tb.Helper()
	p := &Pipeline{Dir: tb.TempDir()}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	srv, err := coordinator.StartServer(coordinator.ServerOptions{StoreDir: filepath.Join(p.Dir, "nats"), SyncAlways: opts.SyncAlways})
	if err != nil {
		tb.Fatal(err)
	}
	p.stop = append(p.stop, srv.Stop)
	connect := func() *nats.Conn {
		nc, err := nats.Connect("", nats.InProcessServer(srv.Server))
		if err != nil {
			tb.Fatal(err)
		}
		return nc
	}
	p.Store, err = store.Open(filepath.Join(p.Dir, "state.db"), &store.Options{NoSync: opts.NoSync})
	if err != nil {
		tb.Fatal(err)
	}
	p.stop = append(p.stop, func() { p.Store.Close() })
	p.Coordinator, err = coordinator.New(p.Store, connect(), coordinator.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Coordinator.Run(ctx) }()
	p.stop = append(p.stop, func() { cancel(); <-done }) // before the store closes
	<-p.Coordinator.Ready()
	p.Worker, err = worker.New(connect(), opts.Run, WorkerConfig("bench", 8))
	if err != nil {
		tb.Fatal(err)
	}
	go p.Worker.Run(ctx)
	ok = true
	return p
}

// RunSweep submits spec to the coordinator and returns when its sweep is
// done.
func (p *Pipeline) RunSweep(tb testing.TB, spec *sweep.Spec) {
	tb.Helper()
	ctx := context.Background()
	if _, err := p.Coordinator.SubmitSpec(ctx, spec, spec.Name+".yaml", nil, false); err != nil {
		tb.Fatal(err)
	}
	for {
		info, err := p.Store.Sweep(ctx, spec.Name)
		if err != nil {
			tb.Fatal(err)
		}
		if info.State == store.SweepDone {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

package coordinator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// bigSpec is a sweep of 1000 tasks per seed (max_tasks and the seed count
// are its parameters), on tiny configurations: the spec itself holds a
// thousand axis values, the plan up to a million tasks.
const bigSpec = `name: big
max_tasks: %d
base:
  dataset: {samples_per_class: 4, steps: 10}
  network: {hidden: [4]}
  train: {epochs: 2, batch: 8}
grid:
  surrogate.shape: [superspike, sigmoid, esser, atan]
  surrogate.scale: {logspace: [-1, 3, 25]}
  train.lr: {logspace: [-3, -1, 10]}
replicates: {seed: %d}
`

// BenchmarkPlan measures planning alone, as `sgsweep run` and `submit` do
// it: parse the spec file and stream its expansion into a new bbolt store
// (nothing is published: the coordinator does not run). It reports the
// time, the peak heap in use (sampled every 5 ms) and the process's peak
// RSS (VmHWM, so run one size per process):
//
//	go test -run '^$' -bench 'Plan/tasks=100000$' -benchtime 1x -count 3 ./coordinator
//	go test -run '^$' -bench 'Plan/tasks=1000000$' -benchtime 1x -count 1 ./coordinator
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				dir := b.TempDir()
				srv := coordtest.StartServer(b, filepath.Join(dir, "nats"), 0, "")
				c, nc, st := benchCoordinator(b, dir, srv.URL)
				path := filepath.Join(dir, "big.yaml")
				if err := os.WriteFile(path, fmt.Appendf(nil, bigSpec, n, n/1000), 0o644); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				var peakHeap atomic.Uint64
				stopSampling := sampleHeap(&peakHeap)
				b.StartTimer()

				start := time.Now()
				source, err := os.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				spec, err := sweep.Parse(path, source)
				if err != nil {
					b.Fatal(err)
				}
				rep, err := c.SubmitSpec(context.Background(), spec, path, source, false)
				if err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				stopSampling()
				if rep.Tasks != n || rep.Pending != n {
					b.Fatalf("planned %+v, want %d pending tasks", rep, n)
				}
				b.ReportMetric(elapsed.Seconds(), "plan-s")
				b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
				b.ReportMetric(peakRSS(b)/(1<<20), "peak-RSS-MiB")
				nc.Close()
				st.Close()
			}
		})
	}
}

// benchCoordinator opens a store in dir and a coordinator on the NATS
// server at url (not running yet), with the production settings.
func benchCoordinator(b *testing.B, dir, url string) (*coordinator.Coordinator, *nats.Conn, *store.Store) {
	b.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "state.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	c, err := coordinator.New(st, nc, coordinator.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	return c, nc, st
}

package worker_test

import (
	"context"
	"os"
	"testing"

	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/worker"
)

// BenchmarkTaskOverhead measures the per-task cost of a child process: the
// same 1-epoch tiny Randman training (100 samples per class, 20 hidden
// neurons: tens of milliseconds) trained in process and in a child process
// (the test binary re-executed, as `sgsweep worker-task` is). The
// difference is the overhead. The noop pair isolates the fixed cost of a
// child (start, JSON over pipes, exit) with a runner that returns at once.
// Compare medians:
//
//	go test ./worker/ -run '^$' -bench TaskOverhead -count 7
func BenchmarkTaskOverhead(b *testing.B) {
	cfg := sim.DefaultConfig()
	cfg.Dataset.SamplesPerClass, cfg.Dataset.Steps = 100, 50
	cfg.Network.Hidden = []int{20}
	cfg.Train.Epochs, cfg.Train.Batch = 1, 64
	opts := sim.Options{Threads: 1}
	child := &worker.ProcessRunner{Path: os.Args[0], Env: append(os.Environ(), childEnv+"=sim")}
	for _, r := range []struct {
		name string
		run  worker.Runner
	}{{"in-process", sim.Train}, {"child", child.Run}} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				cfg.DataSeed++ // a new dataset each time, in both: no cache
				if _, _, err := r.run(context.Background(), cfg, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	noop := &worker.ProcessRunner{Path: os.Args[0], Env: append(os.Environ(), childEnv+"=noop")}
	for _, r := range []struct {
		name string
		run  worker.Runner
	}{{"noop-in-process", noopRun}, {"noop-child", noop.Run}} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				cfg.DataSeed++ // a new dataset each time, in both: no cache
				if _, _, err := r.run(context.Background(), cfg, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

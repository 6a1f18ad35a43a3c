package sim

import (
	"flag"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// Benchmarks of the hot path. Compare with benchstat, e.g.
//
//	go test ./sim -run '^$' -bench 'Epoch$|MinibatchSHD' -cpu 1 -count 6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt
//
// Each runs with Threads = GOMAXPROCS, so -cpu sets the thread count: one
// thread count per go test run, not a list such as -cpu 1,2. A b.Loop
// benchmark runs whole in its first call, which the testing package makes
// with the GOMAXPROCS the list's last entry left (golang/go#49980), so the
// first figure of "-cpu 1,2" would be measured with 2 threads. Each reports
// wall-clock seconds and, where the platform measures it, the process's CPU
// seconds per iteration (cpu-s/…): on a shared machine the latter is the
// steadier measure of the work (with -cpu 2 it sums both threads).
//
// The networks are simulated in float64 unless -numerics says otherwise:
//
//	go test ./sim -run '^$' -bench Busy -cpu 1 -count 6 -args -numerics=float32

// benchNumerics is the numerics of every benchmark's network (Config.Numerics).
var benchNumerics = flag.String("numerics", "float64", "`numerics` of the benchmarks' networks: float64 or float32")

// benchConfig returns cfg in the benchmarks' numerics.
func benchConfig(cfg Config) Config {
	cfg.Numerics = Numerics(*benchNumerics)
	return cfg
}

// BenchmarkEpoch is one training epoch of the paper's Randman setup
// (DefaultConfig: 8000 training samples, 20 inputs, 100 hidden, T = 100,
// batch 250, SuperSpike β = 10) plus the validation pass, starting from a
// network trained for one epoch (so that the hidden layer is active, as for
// most of a run).
func BenchmarkEpoch(b *testing.B) { benchEpoch(b, DefaultConfig()) }

// BenchmarkEpochVariants is BenchmarkEpoch for the network variants the
// paper's scale experiments sweep (Fig. 5): two hidden layers, recurrent
// weights with gradients through them, a differentiable reset.
func BenchmarkEpochVariants(b *testing.B) {
	for _, v := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"hidden=100,100", func(c *Config) { c.Network.Hidden = []int{100, 100} }},
		{"recurrent", func(c *Config) { c.Network.Recurrent = true }},
		{"reset=differentiable", func(c *Config) { c.Network.Reset = ResetDifferentiable }},
	} {
		b.Run(v.name, func(b *testing.B) {
			cfg := DefaultConfig()
			v.mutate(&cfg)
			benchEpoch(b, cfg)
		})
	}
}

// benchEpoch times epochs of cfg (in the benchmarks' numerics).
func benchEpoch(b *testing.B, cfg Config) {
	cfg = benchConfig(cfg)
	if cfg.Numerics == NumericsFloat32 {
		benchEpochIn[float32](b, cfg)
	} else {
		benchEpochIn[float64](b, cfg)
	}
}

func benchEpochIn[F float](b *testing.B, cfg Config) {
	ds := benchRandman(b, cfg)
	t := newTrainer[F](&cfg, ds, benchThreads())
	epoch := func() {
		t.shuffleOrder()
		for i := 0; i < ds.Train.Len(); i += cfg.Train.Batch {
			t.step(t.order[i:min(i+cfg.Train.Batch, ds.Train.Len())])
		}
		t.accuracy(t.params, &ds.Val)
	}
	epoch()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPUTime()
	for b.Loop() {
		epoch()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/epoch")
	reportCPU(b, cpu, "cpu-s/epoch")
	reportSpikes(b, t, ds.Train.Len()*(b.N+1))
}

// reportCPU reports the process CPU time used since cpu0 (processCPUTime)
// per iteration, in s, when the platform measures it (else it reads 0).
func reportCPU(b *testing.B, cpu0 time.Duration, unit string) {
	if d := processCPUTime() - cpu0; d > 0 {
		b.ReportMetric(d.Seconds()/float64(b.N), unit)
	}
}

// BenchmarkMinibatchSHD is one minibatch of an SHD-sized network: 700
// inputs of which about 2% spike per step, 256 recurrent hidden neurons, 20
// outputs, T = 100, batch 256. The inputs are random, so the hidden
// activity is set by the initial weights (gain 2 puts it at a few percent).
func BenchmarkMinibatchSHD(b *testing.B) {
	cfg := benchConfig(DefaultConfig())
	cfg.Dataset.Steps = 100
	cfg.Network.Hidden = []int{256}
	cfg.Network.Recurrent = true
	cfg.Train.Batch = 256
	cfg.Init.Gain = 12
	rng := rand.New(rand.NewPCG(1, 2))
	ds := &Dataset{Inputs: 700, Steps: 100, Classes: 20,
		Train: randomSplit(rng, 256, 700, 20, 100, 0.02)}
	if cfg.Numerics == NumericsFloat32 {
		benchSHDIn(b, newTrainer[float32](&cfg, ds, benchThreads()))
	} else {
		benchSHDIn(b, newTrainer[float64](&cfg, ds, benchThreads()))
	}
}

func benchSHDIn[F float](b *testing.B, t *trainer[F]) {
	// Every iteration starts from the initial weights, so that the hidden
	// activity stays that of the initialisation.
	timeMinibatch(b, t, t.order)
	var spikes float64
	for _, c := range t.epochCounts[0] {
		spikes += c
	}
	b.ReportMetric(spikes/float64(256*(b.N+1)*100*256), "hidden-rate")
}

func benchThreads() int { return runtime.GOMAXPROCS(0) }

// benchRandman generates the Randman dataset of cfg.
func benchRandman(b *testing.B, cfg Config) *Dataset {
	b.Helper()
	ds, err := GenerateRandman(cfg.Dataset, cfg.DataSeed)
	if err != nil {
		b.Fatal(err)
	}
	return ds
}

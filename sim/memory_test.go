package sim

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// heapObjects is the runtime metric of the bytes held by heap objects, live
// or not yet collected: runtime.MemStats.HeapAlloc without stopping the
// world.
const heapObjects = "/memory/classes/heap/objects:bytes"

// peakHeap runs fn and returns the largest heap it reached above the heap
// before it, in bytes, sampled every 100 µs.
func peakHeap(fn func()) int64 {
	sample := []metrics.Sample{{Name: heapObjects}}
	read := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	runtime.GC()
	base := read()
	var peak int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	return max(peak, read()) - base
}

// TestMemoryEstimate trains small runs of several shapes (dataset-bound,
// tape-bound, weight-bound, dense backward groups, two threads) and checks
// that MemoryEstimate is at least the measured peak heap and at most
// twice it.
func TestMemoryEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("trains several networks")
	}
	shapes := []struct {
		name    string
		threads int
		edit    func(c *Config)
	}{
		{"data-bound", 1, func(c *Config) {
			c.Dataset.Units, c.Dataset.SamplesPerClass, c.Dataset.Cutoff = 400, 1000, 50
			c.Network.Hidden = []int{20}
		}},
		{"tape-bound", 1, func(c *Config) {
			c.Dataset.Steps, c.Dataset.SamplesPerClass = 400, 20
			c.Network.Hidden = []int{8000}
		}},
		{"weight-bound", 2, func(c *Config) {
			c.Dataset.Units, c.Dataset.SamplesPerClass = 2000, 10
			c.Dataset.Steps = 10
			c.Network.Hidden = []int{1000}
		}},
		{"dense-groups", 2, func(c *Config) {
			c.Dataset.SamplesPerClass, c.Dataset.Steps = 10, 50
			c.Network.Hidden = []int{500, 500}
			c.Network.Recurrent = true
			c.Network.Reset = ResetDifferentiable
		}},
	}
	for i, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.DataSeed = 9000 + uint64(i) // not in the dataset cache
			cfg.Dataset.Cutoff = 100
			cfg.Train.Epochs, cfg.Train.Batch = 1, 64
			s.edit(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			var err error
			peak := peakHeap(func() {
				_, _, err = Train(context.Background(), cfg, Options{Threads: s.threads})
			})
			if err != nil {
				t.Fatal(err)
			}
			est := cfg.MemoryEstimate(s.threads)
			ratio := float64(est) / float64(peak)
			t.Logf("estimate %.1f MB, measured peak %.1f MB, ratio %.2f", float64(est)/1e6, float64(peak)/1e6, ratio)
			if ratio < 1 || ratio > 2 {
				t.Errorf("estimate %d B is %.2f × the measured peak heap %d B, want within [1, 2]", est, ratio, peak)
			}
		})
	}
}

// A network of a hundred million neurons, or a dataset of many wide samples,
// is estimated far above any machine, without overflowing.
func TestMemoryEstimateLarge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Network.Hidden = []int{100_000_000}
	if got := cfg.MemoryEstimate(1); got < 500e9 {
		t.Errorf("estimate for 10^8 hidden neurons = %d B, want ≥ 500 GB", got)
	}
	cfg.Network.Hidden = []int{1 << 40, 1 << 40, 1 << 40}
	if got := cfg.MemoryEstimate(64); got <= 0 {
		t.Errorf("estimate for 3 layers of 2^40 = %d, want a saturated positive value", got)
	}
}

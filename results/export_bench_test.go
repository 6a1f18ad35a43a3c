package results_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// cyclingSource is a large synthetic sweep that costs no memory: it hands
// out copies of a small pool of realistic records (50-epoch curves) with
// increasing ordinals. Every 1024 records and after the last it calls
// sample.
type cyclingSource struct {
	pool   []results.Record
	n      int
	sample func()
}

func (c *cyclingSource) Records(ctx context.Context, _ string, fn func(*results.Record) error) error {
	for i := range c.n {
		r := c.pool[i%len(c.pool)]
		r.Ordinal = i
		if err := fn(&r); err != nil {
			return err
		}
		if c.sample != nil && (i%1024 == 0 || i == c.n-1) {
			c.sample()
		}
	}
	return ctx.Err()
}

// benchPool returns n distinct done records with 50-epoch curves, like a
// paper-sized sweep's (the default Randman configuration).
func benchPool(tb testing.TB, n int) results.RecordSlice {
	var tasks []resultstest.Task
	shapes := []string{"superspike", "sigmoid", "esser"}
	for i := range n {
		curve := make([]float64, 50)
		for e := range curve {
			curve[e] = 0.1 + 0.8*float64(e+1)/50 + 0.001*float64(i%7)
		}
		tasks = append(tasks, resultstest.Task{Shape: shapes[i%3], Scale: float64(1 + i), LR: 0.001 * float64(1+i%6),
			Seed: uint64(i), State: results.StateDone, Status: protocol.StatusOK, Curve: curve})
	}
	return resultstest.Sweep(tb, "bench", tasks)
}

// heapPeak tracks the largest live heap seen by its samples.
type heapPeak struct{ max uint64 }

func (h *heapPeak) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.max = max(h.max, m.HeapAlloc)
}

// BenchmarkExport measures the export's cost per row and shows that its
// memory stays bounded: allocated bytes per row and the peak live heap are
// the same for 10³ and 10⁵ tasks (10² and 10⁴ tasks of 50 epochs with
// --curves). Run:
//
//	go test ./results -run '^$' -bench results.Export -benchtime 3x
func BenchmarkExport(b *testing.B) {
	pool := benchPool(b, 64)
	for _, curves := range []bool{false, true} {
		for _, format := range []string{results.ExportCSV, results.ExportJSONL} {
			sizes := []int{1_000, 100_000}
			if curves {
				sizes = []int{100, 10_000} // 50 rows per task
			}
			for _, n := range sizes {
				name := fmt.Sprintf("source=memory/format=%s/curves=%v/tasks=%d", format, curves, n)
				b.Run(name, func(b *testing.B) {
					benchExport(b, &cyclingSource{pool: pool, n: n}, results.ExportOptions{Format: format, Curves: curves})
				})
			}
		}
	}
	// A real bbolt store: the read transaction and JSON decoding of every
	// stored result are part of the cost.
	for _, n := range []int{1_000, 20_000} {
		b.Run(fmt.Sprintf("source=bbolt/format=csv/curves=false/tasks=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "state.db")
			recs := benchPool(b, n)
			resultstest.WriteStore(b, path, recs)
			s, err := store.Open(path, &store.Options{ReadOnly: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchExport(b, &storeSampler{Store: s}, results.ExportOptions{})
		})
	}
}

// storeSampler samples the heap while a Store streams records.
type storeSampler struct {
	*store.Store
	sample func()
}

func (s *storeSampler) Records(ctx context.Context, sweep string, fn func(*results.Record) error) error {
	i := 0
	err := s.Store.Records(ctx, sweep, func(r *results.Record) error {
		if i++; i%1024 == 0 && s.sample != nil {
			s.sample()
		}
		return fn(r)
	})
	if s.sample != nil {
		s.sample()
	}
	return err
}

func benchExport(b *testing.B, src results.RecordSource, opts results.ExportOptions) {
	var peak heapPeak
	switch s := src.(type) {
	case *cyclingSource:
		s.sample = peak.sample
	case *storeSampler:
		s.sample = peak.sample
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rows := 0
	b.ResetTimer()
	for b.Loop() {
		stats, err := results.Export(context.Background(), src, "bench", io.Discard, opts)
		if err != nil {
			b.Fatal(err)
		}
		rows += stats.Rows
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(rows), "B/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
	b.ReportMetric(float64(peak.max)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

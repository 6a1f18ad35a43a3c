package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// benchTasks is the size of the benchmarks' sweep: 4 shapes × 25 scales ×
// 10 learning rates × 100 seeds, 3 epochs each, a few failed and pending.
const benchTasks = 100_000

var bench struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the benchmarks' store.
func TestMain(m *testing.M) {
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchServer serves a 100 000-task store read-only (built once per
// process).
func benchServer(b *testing.B) http.Handler {
	b.Helper()
	bench.once.Do(func() {
		bench.dir, bench.err = os.MkdirTemp("", "sgsweep-dashboard-bench-")
		if bench.err != nil {
			return
		}
		bench.path = filepath.Join(bench.dir, "state.db")
		var tasks []resultstest.Task
		shapes := []string{"superspike", "sigmoid", "fast_sigmoid", "exponential"}
		for _, shape := range shapes {
			for i := range 25 {
				scale := float64(1 + 4*i)
				for j := range 10 {
					lr := 0.001 * float64(j+1)
					for seed := uint64(1); seed <= 100; seed++ {
						t := resultstest.Task{Shape: shape, Scale: scale, LR: lr, Seed: seed, State: results.StateDone,
							Status: protocol.StatusOK, Curve: resultstest.Curve("superspike", 10, seed)}
						switch len(tasks) % 997 {
						case 1:
							t.State, t.Status = results.StateFailed, ""
						case 2:
							t.State, t.Status = results.StatePending, ""
						}
						tasks = append(tasks, t)
					}
				}
			}
		}
		resultstest.WriteStore(b, bench.path, resultstest.Sweep(b, "big", tasks))
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	st := resultstest.OpenStore(b, bench.path, &store.Options{ReadOnly: true})
	srv, err := dashboard.New(dashboard.StoreSource(st), nil, dashboard.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler()
}

// benchGet serves path b.N times and reports the response size and the
// peak heap above the heap before (sampled every 5 ms): streaming keeps it
// far below the store's size.
func benchGet(b *testing.B, path string) {
	h := benchServer(b)
	b.ReportAllocs()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
			}
		}
	}()
	defer func() {
		close(stop)
		<-sampled
		if p := peak.Load(); p > base {
			b.ReportMetric(float64(p-base)/(1<<20), "peak-heap-MB")
		}
	}()
	b.ResetTimer()
	size := 0
	for range b.N {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/response")
}

// Run with:
//
//	go test ./dashboard/ -run '^$' -bench . -benchtime 10x -count 5
func BenchmarkSweepsPage(b *testing.B) { benchGet(b, "/") }

// BenchmarkSweepPage: the sweep page with its default table (every grid
// cell: 1 000 rows over 100 000 tasks) and figure link.
func BenchmarkSweepPage(b *testing.B) { benchGet(b, "/sweeps/big") }

// BenchmarkSweepPageGrouped: the sweep page with a table grouped by one
// parameter.
func BenchmarkSweepPageGrouped(b *testing.B) { benchGet(b, "/sweeps/big?group-by=surrogate.shape") }

// BenchmarkResultsTable: a grouped results table as JSON.
func BenchmarkResultsTable(b *testing.B) {
	benchGet(b, "/sweeps/big/table.json?group-by=surrogate.shape,train.lr&agg=n,mean,sd,ci95,median")
}

// BenchmarkFigure: a line figure over the 100 000 tasks.
func BenchmarkFigure(b *testing.B) {
	benchGet(b, "/sweeps/big/figure.svg?kind=line&x=surrogate.scale&series=surrogate.shape")
}

// BenchmarkTaskPage: the last task's page (a walk over the sweep).
func BenchmarkTaskPage(b *testing.B) {
	h := benchServer(b)
	_ = h
	var last string
	st := resultstest.OpenStore(b, bench.path, &store.Options{ReadOnly: true})
	st.Records(b.Context(), "big", func(r *results.Record) error { last = r.TaskID; return nil })
	benchGet(b, fmt.Sprintf("/sweeps/big/tasks/%s", last))
}

// BenchmarkBaselineRunQuery is results.RunQuery of BenchmarkResultsTable's
// query on the store directly: the floor under the table's time.
func BenchmarkBaselineRunQuery(b *testing.B) {
	benchServer(b)
	st := resultstest.OpenStore(b, bench.path, &store.Options{ReadOnly: true})
	req := results.QueryRequest{Sweep: "big", GroupBy: []string{"surrogate.shape", "train.lr"},
		Aggs: []string{"n", "mean", "sd", "ci95", "median"}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := results.RunQuery(b.Context(), st, req); err != nil {
			b.Fatal(err)
		}
	}
}

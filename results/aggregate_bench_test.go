package results_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/sgsweep/sgsweep/results"
)

// BenchmarkRunQuery aggregates a large synthetic sweep (records with
// 50-epoch curves, 64 grid cells) and reports the cost per task. Run:
//
//	go test ./results -run '^$' -bench results.RunQuery -benchtime 3x
func BenchmarkRunQuery(b *testing.B) {
	pool := benchPool(b, 64)
	for _, n := range []int{10_000, 100_000} {
		for _, req := range []results.QueryRequest{
			{Sweep: "bench"},
			{Sweep: "bench", GroupBy: []string{"surrogate.shape"}, Metrics: []string{"test_acc", "val_acc@10"},
				Aggs: []string{"all"}, Compare: results.CompareBest, Where: []string{"surrogate.scale<=1000"}},
		} {
			name := fmt.Sprintf("tasks=%d/group-by=%v/compare=%v", n, req.GroupBy, req.Compare != "")
			b.Run(name, func(b *testing.B) {
				src := &cyclingSource{pool: pool, n: n}
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.ResetTimer()
				for b.Loop() {
					if _, err := results.RunQuery(context.Background(), src, req); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				tasks := float64(n) * float64(b.N)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/tasks, "ns/task")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/tasks, "B/task")
			})
		}
	}
}

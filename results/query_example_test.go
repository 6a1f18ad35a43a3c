package results_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/sim"
)

// demoRecords is a finished sweep of two surrogate shapes × three seeds, as
// a store holds it.
func demoRecords() results.RecordSlice {
	var recs results.RecordSlice
	for i, acc := range []float64{0.91, 0.93, 0.92, 0.85, 0.88, 0.86} {
		cfg := sim.DefaultConfig()
		cfg.Surrogate.Shape = []string{"superspike", "esser"}[i/3]
		cfg.Seed = uint64(i%3 + 1)
		params, _ := json.Marshal(cfg)
		res := &sim.Result{Status: sim.StatusOK, TestAcc: acc}
		recs = append(recs, results.Record{Sweep: "demo", Ordinal: i, TaskID: fmt.Sprint(i), State: results.StateDone,
			Params: params, Result: &protocol.ResultMsg{Status: protocol.StatusOK, Result: res}})
	}
	return recs
}

// Aggregate over seeds, grouped by grid cell (the default), and compare
// every cell with the best one, seed by seed: esser is 0.06, 0.05 and 0.06
// below superspike on seeds 1–3, a paired t of −17 (p ≈ 0.003), although
// the two cells' own 95% intervals overlap.
func ExampleRunQuery() {
	tab, err := results.RunQuery(context.Background(), demoRecords(), results.QueryRequest{
		Sweep:   "demo",
		Aggs:    []string{"n", "mean", "sd"},
		Compare: results.CompareBest,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	tab.WriteText(os.Stdout)
	// Output:
	// surrogate.shape  test_acc.n  test_acc.mean  test_acc.sd  test_acc.pairs  test_acc.diff  test_acc.diff_ci95_lo  test_acc.diff_ci95_hi  test_acc.p
	// superspike                3           0.92         0.01               -              -                      -                      -           -
	// esser                     3         0.8633      0.01528               3       -0.05667               -0.07101               -0.04232    0.003442
	//
	// 6 tasks: 6 done, 0 failed (excluded from metrics), 0 pending
	// best test_acc (mean): surrogate.shape=superspike: 0.92
	// paired differences (group − reference) against surrogate.shape=superspike; pairs share every parameter but the grouping keys
}

// The statistics of one cell's replicates.
func ExampleSummarize() {
	s := results.Summarize([]float64{0.91, 0.93, 0.92})
	fmt.Printf("n=%d mean=%.3f sd=%.3f 95%% CI [%.3f, %.3f]\n", s.N, s.Mean, s.SD, s.CILo, s.CIHi)
	// Output: n=3 mean=0.920 sd=0.010 95% CI [0.895, 0.945]
}

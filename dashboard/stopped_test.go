package dashboard_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/dashboard"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// sliceSource serves records held in memory, with the status counted
// from them as the store counts it: the stopped outcome is the store's
// side of issue 12, so a sweep with stopped tasks is served from memory.
type sliceSource struct{ results.RecordSlice }

func (s sliceSource) Status(ctx context.Context, sweep string) (*coordinator.Status, error) {
	info := store.SweepInfo{Name: "fig", State: store.SweepRunning}
	for _, r := range s.RecordSlice {
		info.Expected++
		switch r.State {
		case results.StateDone:
			info.Done++
			if r.Result.Status == protocol.StatusDiverged {
				info.Diverged++
			}
		case results.StateStopped:
			info.Stopped++
		case results.StateFailed:
			info.Failed++
		default:
			info.Pending++
		}
	}
	if sweep != "" && sweep != info.Name {
		return nil, fmt.Errorf("sweep %s: %w", sweep, results.ErrNotFound)
	}
	return &coordinator.Status{Source: coordinator.SourceStore, Sweeps: []coordinator.SweepStatus{{SweepInfo: info}}}, nil
}

// stoppedServer serves resultstest.ShapeScaleStopped: 18 tasks, 14 done
// (one diverged), 2 stopped, 1 failed, 1 pending.
func stoppedServer(t *testing.T) (*httptest.Server, results.RecordSlice) {
	t.Helper()
	recs := resultstest.ShapeScaleStopped(t)
	srv, err := dashboard.New(sliceSource{recs}, nil, dashboard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, recs
}

func TestPagesCountStopped(t *testing.T) {
	ts, _ := stoppedServer(t)
	for _, path := range []string{"/", "/sweeps/fig"} {
		page := mustGet(t, ts, path)
		// Settled: 14 done + 2 stopped + 1 failed of 18.
		for _, want := range []string{"<th>stopped</th>", `data-f="stopped">2<`, `data-f="done">14<`, `value="17" data-f="progress"`,
			`data-f="percent">94.4<`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
	if m := mustGet(t, ts, "/metrics"); !strings.Contains(m, `sgsweep_tasks{state="stopped",sweep="fig"} 2`) {
		t.Errorf("/metrics lacks the stopped gauge:\n%s", m)
	}
}

func TestResultsTableStopped(t *testing.T) {
	ts, recs := stoppedServer(t)
	for _, include := range []string{"", "stopped"} {
		q := "agg=n,stopped,mean"
		if include != "" {
			q += "&include=" + include
		}
		cols, rows := htmlTable(t, mustGet(t, ts, "/sweeps/fig/table.html?"+q))
		want, err := results.RunQuery(context.Background(), recs, results.QueryRequest{Sweep: "fig",
			Aggs: []string{"n", "stopped", "mean"}, Include: strings.Fields(include)})
		if err != nil {
			t.Fatal(err)
		}
		if len(cols) != len(want.Columns) || len(rows) != len(want.Rows) {
			t.Fatalf("include %q: %d columns, %d rows; want %d, %d", include, len(cols), len(rows), len(want.Columns), len(want.Rows))
		}
		for i, row := range want.Rows {
			for j, v := range row {
				if rows[i][j] != v.String() {
					t.Errorf("include %q: row %d %s = %q, want %q", include, i, cols[j], rows[i][j], v.String())
				}
			}
		}
	}
	frag := mustGet(t, ts, "/sweeps/fig/table.html?include=stopped")
	if !strings.Contains(frag, "2 stopped (included at their last value)") {
		t.Errorf("table notes do not count the stopped tasks:\n%s", frag)
	}
	if code, _ := get(t, ts, "/sweeps/fig/table.csv?include=failed"); code != 400 {
		t.Errorf("table.csv?include=failed: %d, want 400", code)
	}
	svg := mustGet(t, ts, "/sweeps/fig/figure.svg?kind=line&x=surrogate.scale&series=surrogate.shape")
	if !strings.Contains(svg, "2 stopped tasks left out of the means (hollow points)") {
		t.Error("figure does not mark the stopped tasks")
	}
}

func TestTaskPageShowsStopDecision(t *testing.T) {
	ts, recs := stoppedServer(t)
	page := mustGet(t, ts, "/sweeps/fig/tasks/"+recs[2].TaskID) // superspike β=1 seed 3, median after epoch 2
	for _, want := range []string{"<h2>Stopped early</h2>", "<td>median</td>", "<th>after epoch</th><td>2</td>",
		"val_acc 0.73 is not above 0.78 (val_acc, max is better)", "3 peers: 0.76, 0.78, 0.8", "2026-01-02 03:04:06Z",
		"shortened run"} {
		if !strings.Contains(page, want) {
			t.Errorf("task page lacks %q", want)
		}
	}
	page = mustGet(t, ts, "/sweeps/fig/tasks/"+recs[12].TaskID) // sigmoid β=10 seed 1, chance
	if !strings.Contains(page, "<td>chance</td>") || !strings.Contains(page, "no peers") {
		t.Error("task page of the chance decision lacks its rule or its peers")
	}
	page = mustGet(t, ts, "/sweeps/fig/tasks/"+recs[0].TaskID)
	if strings.Contains(page, "Stopped early") {
		t.Error("a task without a decision shows one")
	}
	// A decision committed before its result: shown, and said to be so.
	pend := recs[1]
	pend.State, pend.Result, pend.Stop = results.StatePending, nil, recs[2].Stop
	srv, err := dashboard.New(sliceSource{results.RecordSlice{pend}}, nil, dashboard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(srv.Handler())
	defer ts2.Close()
	if page := mustGet(t, ts2, "/sweeps/fig/tasks/"+pend.TaskID); !strings.Contains(page, "the stopped result is still to come") {
		t.Error("a pending decision is not said to await its result")
	}
}

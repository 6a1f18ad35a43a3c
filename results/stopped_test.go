package results_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/internal/golden"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
)

// The stopped sweep (resultstest.ShapeScaleStopped) stops superspike, β=1,
// seed 3 after epoch 2 (val_acc 0.63, 0.73; test_acc 0.74) and sigmoid,
// β=10, seed 1 after epoch 1 (val_acc 0.66; test_acc 0.67).
const (
	ss1  = "surrogate.shape=superspike, surrogate.scale=1"
	sig1 = "surrogate.shape=sigmoid, surrogate.scale=10"
)

// checkCells compares cells of tab with hand-computed values.
func checkCells(t *testing.T, tab *results.Table, want map[[2]string]float64) {
	t.Helper()
	for kc, w := range want {
		got := cell(t, tab, kc[0], kc[1])
		if got.Kind != results.KindNumber || math.Abs(got.Num-w) > 1e-12 {
			t.Errorf("%s %s = %v, want %v", kc[0], kc[1], got, w)
		}
	}
}

func TestQueryStoppedExcludedByDefault(t *testing.T) {
	tab := runQuery(t, resultstest.ShapeScaleStopped(t), results.QueryRequest{Sweep: "fig",
		Aggs: []string{"n", "expected", "done", "stopped", "mean"}})
	checkCells(t, tab, map[[2]string]float64{
		{ss1, "expected"}: 3, {ss1, "done"}: 2, {ss1, "stopped"}: 1, {ss1, "test_acc.n"}: 2,
		{ss1, "test_acc.mean"}: (0.82 + 0.83) / 2,
		{sig1, "stopped"}:      1, {sig1, "test_acc.n"}: 2, {sig1, "test_acc.mean"}: (0.88 + 0.89) / 2,
	})
	want := "18 tasks: 14 done (1 diverged, kept: a diverged run is an outcome), 2 stopped " +
		"(excluded from metrics; --include stopped puts in their last value), 1 failed (excluded from metrics), 1 pending"
	if tab.Notes[0] != want {
		t.Errorf("first note:\n%s\nwant:\n%s", tab.Notes[0], want)
	}
	if !strings.Contains(tab.Notes[1], "incomplete groups (test_acc n < expected): 3 of 6") {
		t.Errorf("second note %q does not count the groups with stopped tasks as incomplete", tab.Notes[1])
	}
}

func TestQueryIncludeStoppedPutsInLastValue(t *testing.T) {
	src := resultstest.ShapeScaleStopped(t)
	tab := runQuery(t, src, results.QueryRequest{Sweep: "fig", Metrics: []string{"test_acc", "val_acc@3", "epochs"},
		Aggs: []string{"n", "stopped", "mean"}, Include: []string{results.IncludeStopped}})
	checkCells(t, tab, map[[2]string]float64{
		// Final metrics: those of the shortened run.
		{ss1, "test_acc.n"}: 3, {ss1, "test_acc.mean"}: (0.82 + 0.83 + 0.74) / 3,
		{sig1, "test_acc.n"}: 3, {sig1, "test_acc.mean"}: (0.67 + 0.88 + 0.89) / 3,
		{ss1, "epochs.mean"}: (3 + 3 + 2) / 3.0,
		// A curve after the epoch it stopped at: its value at the last
		// epoch trained (0.73 after epoch 2, 0.66 after epoch 1).
		{ss1, "val_acc@3.n"}: 3, {ss1, "val_acc@3.mean"}: (0.81 + 0.82 + 0.73) / 3,
		{sig1, "val_acc@3.mean"}: (0.66 + 0.87 + 0.88) / 3,
	})
	if !strings.Contains(tab.Notes[0], "2 stopped (included at their last value)") {
		t.Errorf("first note %q does not say that stopped tasks are included", tab.Notes[0])
	}
	// Whole curves carry the last value up to the planned 3 epochs; without
	// --include the stopped tasks are in no epoch.
	for _, tt := range []struct {
		include []string
		n       [3]float64
	}{{nil, [3]float64{2, 2, 2}}, {[]string{"stopped"}, [3]float64{3, 3, 3}}} {
		tab := runQuery(t, src, results.QueryRequest{Sweep: "fig", Metrics: []string{"val_acc@*"}, Aggs: []string{"n", "mean"},
			Include: tt.include})
		for e, col := range []string{"val_acc@1.n", "val_acc@2.n", "val_acc@3.n"} {
			if got := cell(t, tab, ss1, col); got.Num != tt.n[e] {
				t.Errorf("include %v: %s = %v, want %v", tt.include, col, got, tt.n[e])
			}
		}
		if tt.include != nil {
			checkCells(t, tab, map[[2]string]float64{{ss1, "val_acc@3.mean"}: (0.81 + 0.82 + 0.73) / 3})
		}
	}
	// A curve at an epoch beyond the planned ones has no value for anyone.
	tab = runQuery(t, src, results.QueryRequest{Sweep: "fig", Metrics: []string{"val_acc@4"}, Aggs: []string{"n"},
		Include: []string{"stopped"}})
	if got := cell(t, tab, ss1, "val_acc@4.n"); got.Num != 0 {
		t.Errorf("val_acc@4.n = %v, want 0 (3 epochs planned)", got)
	}
}

func TestQueryStoppedInFiltersAndErrors(t *testing.T) {
	src := resultstest.ShapeScaleStopped(t)
	for _, where := range []string{"state=stopped", "status=stopped", "status in {stopped}"} {
		tab := runQuery(t, src, results.QueryRequest{Sweep: "fig", GroupBy: []string{"none"}, Where: []string{where},
			Aggs: []string{"expected", "stopped", "n"}, Include: []string{"stopped"}})
		checkCells(t, tab, map[[2]string]float64{{"all tasks", "expected"}: 2, {"all tasks", "stopped"}: 2, {"all tasks", "test_acc.n"}: 2})
	}
	tab := runQuery(t, src, results.QueryRequest{Sweep: "fig", GroupBy: []string{"state"}, Aggs: []string{"expected"}})
	checkCells(t, tab, map[[2]string]float64{{"state=stopped", "expected"}: 2, {"state=done", "expected"}: 14})
	for _, req := range []results.QueryRequest{
		{Sweep: "fig", Include: []string{"diverged"}},
		{Sweep: "fig", Where: []string{"state=stoped"}},
	} {
		if _, err := results.RunQuery(context.Background(), src, req); err == nil {
			t.Errorf("results.RunQuery(%+v) succeeded", req)
		}
	}
}

func TestQueryCompareStopped(t *testing.T) {
	// Pairs are (scale, seed) units. Without --include the units with a
	// stopped task (β=1 seed 3, β=10 seed 1) drop out of the 7 pairs;
	// with it they pair at their last values.
	src := resultstest.ShapeScaleStopped(t)
	req := results.QueryRequest{Sweep: "fig", GroupBy: []string{"surrogate.shape"}, Compare: "surrogate.shape=superspike"}
	key := "surrogate.shape=sigmoid"
	tab := runQuery(t, src, req)
	d := []float64{-0.05, -0.05, -0.05, -0.05, 0.57 - 0.11}
	want := results.ComparePaired(d, make([]float64, len(d)))
	checkCells(t, tab, map[[2]string]float64{{key, "test_acc.pairs"}: 5, {key, "test_acc.diff"}: want.Mean})
	if !strings.Contains(strings.Join(tab.Notes, "\n"), "pairs with a stopped task are left out") {
		t.Errorf("notes do not say that pairs were left out:\n%s", strings.Join(tab.Notes, "\n"))
	}
	req.Include = []string{"stopped"}
	tab = runQuery(t, src, req)
	d = []float64{-0.05, -0.05, 0.79 - 0.74, 0.67 - 0.92, -0.05, -0.05, 0.57 - 0.11}
	want = results.ComparePaired(d, make([]float64, len(d)))
	checkCells(t, tab, map[[2]string]float64{{key, "test_acc.pairs"}: 7, {key, "test_acc.diff"}: want.Mean, {key, "test_acc.p"}: want.P})
}

func TestExportStopped(t *testing.T) {
	src := resultstest.ShapeScaleStopped(t)
	text, _ := exportString(t, src, results.ExportOptions{Where: []string{"state=stopped"}})
	_, rows := resultstest.ReadCSV(t, text)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want the 2 stopped tasks", len(rows))
	}
	r := rows[0]
	for col, want := range map[string]string{
		"state": "stopped", "status": "stopped", "epochs": "2",
		"stop_epoch": "2", "stop_rule": "median", "stop_metric": "val_acc", "stop_mode": "max",
		"stop_peers": "3", "stop_decided_at": "2026-01-02T03:04:06Z",
	} {
		if r[col] != want {
			t.Errorf("%s = %q, want %q", col, r[col], want)
		}
	}
	for col, want := range map[string]float64{"test_acc": 0.74, "stop_value": 0.73, "stop_threshold": 0.78} {
		if x, err := strconv.ParseFloat(r[col], 64); err != nil || math.Abs(x-want) > 1e-12 {
			t.Errorf("%s = %q, want %v", col, r[col], want)
		}
	}
	var against []float64
	if err := json.Unmarshal([]byte(r["stop_against"]), &against); err != nil || len(against) != 3 ||
		math.Abs(against[0]-0.76) > 1e-12 || math.Abs(against[2]-0.80) > 1e-12 {
		t.Errorf("stop_against = %q, want [0.76,0.78,0.8]", r["stop_against"])
	}
	if rows[1]["stop_rule"] != "chance" || rows[1]["stop_peers"] != "0" || rows[1]["stop_against"] != "[]" {
		t.Errorf("chance decision: rule %q peers %q against %q", rows[1]["stop_rule"], rows[1]["stop_peers"], rows[1]["stop_against"])
	}
	// Curves: a stopped task's rows end at the epoch it stopped at.
	text, stats := exportString(t, src, results.ExportOptions{Curves: true, Where: []string{"state=stopped"}})
	_, rows = resultstest.ReadCSV(t, text)
	if stats.Tasks != 2 || stats.Stopped != 2 {
		t.Errorf("stats %+v, want 2 tasks, 2 stopped", stats)
	}
	if stats.Rows != 3 || rows[1]["epoch"] != "2" || rows[1]["stop_epoch"] != "2" || rows[2]["epoch"] != "1" {
		t.Errorf("curve rows of stopped tasks: %d rows; want epochs 1, 2 then 1", stats.Rows)
	}
}

func TestStoppedGolden(t *testing.T) {
	src := resultstest.ShapeScaleStopped(t)
	for _, tt := range []struct {
		name string
		req  results.QueryRequest
	}{
		{"query_stopped.txt", results.QueryRequest{Aggs: []string{"n", "expected", "stopped", "mean", "sd"}}},
		{"query_stopped_included.txt", results.QueryRequest{Aggs: []string{"n", "expected", "stopped", "mean", "sd"},
			Include: []string{results.IncludeStopped}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Sweep = "fig"
			var b bytes.Buffer
			if err := runQuery(t, src, tt.req).Write(&b, results.FormatText); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.name), b.Bytes())
		})
	}
	text, _ := exportString(t, src[:3], results.ExportOptions{Format: results.ExportJSONL})
	golden.Check(t, filepath.Join("testdata", "export_stopped.jsonl"), []byte(text))
}

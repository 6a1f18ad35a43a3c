package results_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/internal/golden"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
)

// runQuery runs req on src and fails the test on error.
func runQuery(t *testing.T, src results.RecordSource, req results.QueryRequest) *results.Table {
	t.Helper()
	tab, err := results.RunQuery(context.Background(), src, req)
	if err != nil {
		t.Fatalf("results.RunQuery(%+v): %v", req, err)
	}
	return tab
}

// cell returns the value of the named column in the row whose key columns
// render as key (results.Table.KeyText).
func cell(t *testing.T, tab *results.Table, key, column string) results.Value {
	t.Helper()
	col, err := tab.Column(column)
	if err != nil {
		t.Fatal(err)
	}
	for r := range tab.Rows {
		if tab.KeyText(r) == key {
			return tab.Rows[r][col]
		}
	}
	var keys []string
	for r := range tab.Rows {
		keys = append(keys, tab.KeyText(r))
	}
	t.Fatalf("no row %q; rows: %s", key, strings.Join(keys, "; "))
	return results.Value{}
}

func TestQueryAggregatesByHand(t *testing.T) {
	tab := runQuery(t, resultstest.ShapeScale(t), results.QueryRequest{Sweep: "fig", Aggs: []string{"all", "values"}})
	h := results.TQuantile(2) * 0.01 / math.Sqrt(3)
	tests := []struct {
		key, column string
		want        float64 // NaN: empty cell
	}{
		// superspike, β = 10: test_acc = val plateau 0.9 + 0.01·seed, + 0.01.
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.n", 3},
		{"surrogate.shape=superspike, surrogate.scale=10", "expected", 3},
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.mean", 0.93},
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.sd", 0.01},
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.sem", 0.01 / math.Sqrt(3)},
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.ci95_lo", 0.93 - h},
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.ci95_hi", 0.93 + h},
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.median", 0.93},
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.min", 0.92},
		{"surrogate.shape=superspike, surrogate.scale=10", "test_acc.max", 0.94},
		// superspike, β = 100: seed 1 diverged after one epoch (test_acc
		// 0.11); a diverged run is an outcome and counts.
		{"surrogate.shape=superspike, surrogate.scale=100", "test_acc.n", 3},
		{"surrogate.shape=superspike, surrogate.scale=100", "diverged", 1},
		{"surrogate.shape=superspike, surrogate.scale=100", "test_acc.mean", (0.11 + 0.63 + 0.64) / 3},
		{"surrogate.shape=superspike, surrogate.scale=100", "test_acc.median", 0.63},
		// sigmoid, β = 100: seed 3 failed (excluded, counted), seed 2
		// pending: n = 1 of 3 expected, no spread.
		{"surrogate.shape=sigmoid, surrogate.scale=100", "expected", 3},
		{"surrogate.shape=sigmoid, surrogate.scale=100", "done", 1},
		{"surrogate.shape=sigmoid, surrogate.scale=100", "failed", 1},
		{"surrogate.shape=sigmoid, surrogate.scale=100", "pending", 1},
		{"surrogate.shape=sigmoid, surrogate.scale=100", "test_acc.n", 1},
		{"surrogate.shape=sigmoid, surrogate.scale=100", "test_acc.mean", 0.57},
		{"surrogate.shape=sigmoid, surrogate.scale=100", "test_acc.median", 0.57},
		{"surrogate.shape=sigmoid, surrogate.scale=100", "test_acc.sd", math.NaN()},
		{"surrogate.shape=sigmoid, surrogate.scale=100", "test_acc.ci95_lo", math.NaN()},
	}
	for _, tt := range tests {
		got := cell(t, tab, tt.key, tt.column)
		switch {
		case math.IsNaN(tt.want):
			if !got.IsNone() {
				t.Errorf("%s %s = %v, want empty", tt.key, tt.column, got)
			}
		case got.Kind != results.KindNumber || math.Abs(got.Num-tt.want) > 1e-12:
			t.Errorf("%s %s = %v, want %v", tt.key, tt.column, got, tt.want)
		}
	}
	if got := cell(t, tab, "surrogate.shape=superspike, surrogate.scale=100", "test_acc.values"); got.Text != "[0.11,0.63,0.64]" {
		t.Errorf("values = %s, want [0.11,0.63,0.64]", got.Text)
	}
	if len(tab.Rows) != 6 {
		t.Errorf("%d rows, want 6 grid cells", len(tab.Rows))
	}
	wantNotes := []string{
		"18 tasks: 16 done (1 diverged, kept: a diverged run is an outcome), 1 failed (excluded from metrics), 1 pending",
		"incomplete groups (test_acc n < expected): 1 of 6",
		"best test_acc (mean): surrogate.shape=superspike, surrogate.scale=10: 0.93",
	}
	if strings.Join(tab.Notes, "\n") != strings.Join(wantNotes, "\n") {
		t.Errorf("notes:\n%s\nwant:\n%s", strings.Join(tab.Notes, "\n"), strings.Join(wantNotes, "\n"))
	}
}

func TestQueryCurveAtEpoch(t *testing.T) {
	src := resultstest.ShapeScale(t)
	// val_acc@2 and val_acc with --epoch 2 are the same column; the
	// diverged run has no epoch 2 and drops out of n.
	for _, req := range []results.QueryRequest{
		{Sweep: "fig", Metrics: []string{"val_acc@2"}},
		{Sweep: "fig", Metrics: []string{"val_acc"}, Epoch: 2},
	} {
		tab := runQuery(t, src, req)
		key := "surrogate.shape=superspike, surrogate.scale=100"
		if n := cell(t, tab, key, "val_acc@2.n"); n.Num != 2 {
			t.Errorf("%+v: n = %v, want 2", req, n)
		}
		if m := cell(t, tab, key, "val_acc@2.mean"); math.Abs(m.Num-0.525) > 1e-12 {
			t.Errorf("%+v: mean = %v, want 0.525", req, m)
		}
	}
}

func TestQueryPairedComparison(t *testing.T) {
	// Group by shape only: the pairs are (scale, seed) cells present in
	// both shapes. sigmoid is superspike − 0.05 everywhere except where
	// superspike diverged (seed 1, β = 100: 0.11 vs 0.56 + 0.01).
	tab := runQuery(t, resultstest.ShapeScale(t), results.QueryRequest{
		Sweep: "fig", GroupBy: []string{"surrogate.shape"}, Compare: "surrogate.shape=superspike",
	})
	key := "surrogate.shape=sigmoid"
	if n := cell(t, tab, key, "test_acc.pairs"); n.Num != 7 {
		t.Fatalf("pairs = %v, want 7 (two sigmoid tasks have no result)", n)
	}
	d := []float64{-0.05, -0.05, -0.05, -0.05, -0.05, -0.05, 0.57 - 0.11}
	want := results.ComparePaired(d, make([]float64, len(d)))
	if got := cell(t, tab, key, "test_acc.diff"); math.Abs(got.Num-want.Mean) > 1e-12 {
		t.Errorf("diff = %v, want %v", got, want.Mean)
	}
	if got := cell(t, tab, key, "test_acc.p"); math.Abs(got.Num-want.P) > 1e-12 {
		t.Errorf("p = %v, want %v", got, want.P)
	}
	if got := cell(t, tab, "surrogate.shape=superspike", "test_acc.diff"); !got.IsNone() {
		t.Errorf("reference row diff = %v, want empty", got)
	}
	if !strings.Contains(strings.Join(tab.Notes, "\n"), "pooled over surrogate.scale (3 values)") {
		t.Errorf("notes do not say what was pooled:\n%s", strings.Join(tab.Notes, "\n"))
	}
}

func TestQueryCompareBestSharesSeeds(t *testing.T) {
	// Default grouping (grid cells): pairs are the seeds. superspike β=10 is
	// best; superspike β=1 is 0.1 below it on every seed.
	tab := runQuery(t, resultstest.ShapeScale(t), results.QueryRequest{Sweep: "fig", Compare: results.CompareBest})
	key := "surrogate.shape=superspike, surrogate.scale=1"
	if n := cell(t, tab, key, "test_acc.pairs"); n.Num != 3 {
		t.Errorf("pairs = %v, want 3 seeds", n)
	}
	if d := cell(t, tab, key, "test_acc.diff"); math.Abs(d.Num+0.1) > 1e-12 {
		t.Errorf("diff = %v, want -0.1", d)
	}
	if p := cell(t, tab, key, "test_acc.p"); p.Num > 1e-6 {
		t.Errorf("p = %v, want ≈ 0 for a constant difference", p)
	}
}

func TestQuerySortTopWhere(t *testing.T) {
	src := resultstest.ShapeScale(t)
	tests := []struct {
		name string
		req  results.QueryRequest
		keys []string
	}{
		{"grid order", results.QueryRequest{GroupBy: []string{"surrogate.scale"}},
			[]string{"surrogate.scale=1", "surrogate.scale=10", "surrogate.scale=100"}},
		{"descending mean, top 2", results.QueryRequest{Sort: "-test_acc", Top: 2},
			[]string{"surrogate.shape=superspike, surrogate.scale=10", "surrogate.shape=sigmoid, surrogate.scale=10"}},
		{"ascending sd, empty last", results.QueryRequest{GroupBy: []string{"surrogate.shape", "surrogate.scale"}, Sort: "test_acc.sd",
			Where: []string{"surrogate.scale=100"}},
			[]string{"surrogate.shape=superspike, surrogate.scale=100", "surrogate.shape=sigmoid, surrogate.scale=100"}},
		{"set and range", results.QueryRequest{Where: []string{"surrogate.shape in {sigmoid}", "5<=surrogate.scale<=1000"}},
			[]string{"surrogate.scale=10", "surrogate.scale=100"}},
		{"metric clause", results.QueryRequest{GroupBy: []string{"surrogate.scale"}, Where: []string{"test_acc>0.9"}},
			[]string{"surrogate.scale=1", "surrogate.scale=10", "surrogate.scale=100"}},
		{"status", results.QueryRequest{GroupBy: []string{"status"}, Where: []string{"state!=pending"}},
			[]string{"status=ok", "status=diverged", "status=failed"}},
		{"pending status", results.QueryRequest{GroupBy: []string{"status"}, Where: []string{"status=pending"}},
			[]string{"status=pending"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Sweep = "fig"
			tab := runQuery(t, src, tt.req)
			var keys []string
			for r := range tab.Rows {
				keys = append(keys, tab.KeyText(r))
			}
			if strings.Join(keys, "; ") != strings.Join(tt.keys, "; ") {
				t.Errorf("rows %q, want %q", keys, tt.keys)
			}
		})
	}
	// A metric clause keeps the expected count (the planned tasks) and
	// drops values: only superspike β=10 seeds 2 and 3 exceed 0.9 … plus
	// none elsewhere.
	tab := runQuery(t, src, results.QueryRequest{Sweep: "fig", GroupBy: []string{"surrogate.scale"}, Where: []string{"test_acc>0.9"}})
	if got := cell(t, tab, "surrogate.scale=10", "test_acc.n"); got.Num != 3 {
		t.Errorf("n at β=10 with test_acc>0.9 = %v, want 3 (0.92, 0.93, 0.94)", got)
	}
	if got := cell(t, tab, "surrogate.scale=10", "expected"); got.Num != 6 {
		t.Errorf("expected at β=10 = %v, want 6", got)
	}
}

func TestQueryErrors(t *testing.T) {
	src := resultstest.ShapeScale(t)
	tests := []struct {
		name string
		req  results.QueryRequest
		want []string // substrings of the error
	}{
		{"unknown group path", results.QueryRequest{GroupBy: []string{"surrogate.scal"}},
			[]string{`unknown parameter "surrogate.scal"`, "did you mean surrogate.scale?", "parameters: seed, data_seed,", "train.lr"}},
		{"unknown metric", results.QueryRequest{Metrics: []string{"test_accuracy"}},
			[]string{`unknown metric "test_accuracy"`, "metrics: test_acc, test_acc_last", "val_acc@10"}},
		{"parameter as metric", results.QueryRequest{Metrics: []string{"train.lr"}}, []string{"train.lr is a parameter"}},
		{"metric as key", results.QueryRequest{GroupBy: []string{"test_acc"}}, []string{"test_acc is a metric"}},
		{"bad curve", results.QueryRequest{Metrics: []string{"test_acc@3"}}, []string{"test_acc is not a curve"}},
		{"bad epoch", results.QueryRequest{Metrics: []string{"val_acc@0"}}, []string{"positive integer"}},
		{"unknown agg", results.QueryRequest{Aggs: []string{"avg"}}, []string{`unknown aggregate "avg"`, "mean"}},
		{"unknown sort", results.QueryRequest{Sort: "-nope"}, []string{`no column "nope"`, "test_acc.mean"}},
		{"where syntax", results.QueryRequest{Where: []string{"surrogate.scale"}}, []string{"want field=value"}},
		{"where kind", results.QueryRequest{Where: []string{"train.lr=fast"}}, []string{`train.lr is a number, got "fast"`}},
		{"where shape", results.QueryRequest{Where: []string{"surrogate.shape=superspkie"}}, []string{"not one of", "superspike"}},
		{"compare ambiguous", results.QueryRequest{Compare: "surrogate.shape=sigmoid"}, []string{"selects 3 groups"}},
		{"compare non-key", results.QueryRequest{GroupBy: []string{"surrogate.shape"}, Compare: "train.lr=0.05"},
			[]string{"train.lr is not a grouping key"}},
		{"none combined", results.QueryRequest{GroupBy: []string{"none", "seed"}}, []string{"cannot be combined"}},
		{"unknown sweep", results.QueryRequest{Sweep: "nope"}, []string{"sweep nope: no tasks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.Sweep == "" {
				tt.req.Sweep = "fig"
			}
			_, err := results.RunQuery(context.Background(), src, tt.req)
			if err == nil {
				t.Fatalf("results.RunQuery(%+v) succeeded", tt.req)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	var unknown *results.UnknownFieldError
	_, err := results.RunQuery(context.Background(), src, results.QueryRequest{Sweep: "fig", GroupBy: []string{"x.y"}})
	if !errors.As(err, &unknown) || unknown.Name != "x.y" {
		t.Errorf("error %v is not an *results.UnknownFieldError for x.y", err)
	}
}

func TestQueryGolden(t *testing.T) {
	src := resultstest.ShapeScale(t)
	tests := []struct {
		name   string
		req    results.QueryRequest
		format string
	}{
		{"query_default.txt", results.QueryRequest{}, results.FormatText},
		{"query_default.csv", results.QueryRequest{}, results.FormatCSV},
		{"query_default.json", results.QueryRequest{}, results.FormatJSON},
		{"query_compare.txt", results.QueryRequest{GroupBy: []string{"surrogate.shape"}, Compare: "surrogate.shape=superspike",
			Aggs: []string{"n", "expected", "mean", "sd"}}, results.FormatText},
		{"query_curves.txt", results.QueryRequest{GroupBy: []string{"surrogate.shape", "*"}, Metrics: []string{"val_acc@*"},
			Aggs: []string{"n", "mean"}, Where: []string{"surrogate.scale=10"}}, results.FormatText},
		{"query_status.txt", results.QueryRequest{GroupBy: []string{"status"}, Metrics: []string{"test_acc", "run_seconds", "diverged"},
			Aggs: []string{"expected", "n", "mean", "min", "max"}}, results.FormatText},
		{"query_none.txt", results.QueryRequest{GroupBy: []string{"none"}, Metrics: []string{"best_val_acc", "spikes@1"},
			Aggs: []string{"all"}}, results.FormatText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Sweep = "fig"
			tab := runQuery(t, src, tt.req)
			var b bytes.Buffer
			if err := tab.Write(&b, tt.format); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.name), b.Bytes())
		})
	}
}

func TestQueryDeterministic(t *testing.T) {
	src := resultstest.ShapeScale(t)
	req := results.QueryRequest{Sweep: "fig", Aggs: []string{"all"}, Compare: results.CompareBest}
	var first []byte
	for range 3 {
		var b bytes.Buffer
		if err := runQuery(t, src, req).WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b.Bytes()
		} else if !bytes.Equal(first, b.Bytes()) {
			t.Fatalf("same query, different output:\n%s\n%s", first, b.Bytes())
		}
	}
}

func TestQueryRequestValidate(t *testing.T) {
	ok := results.QueryRequest{Sweep: "s", GroupBy: []string{"surrogate.shape", "*"}, Metrics: []string{"val_acc@*", "test_acc"},
		Where: []string{"0.1<=surrogate.scale<=10"}, Compare: "best"}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", ok, err)
	}
	for _, bad := range []results.QueryRequest{{}, {Sweep: "s", Epoch: -1}, {Sweep: "s", Top: -1}, {Sweep: "s", Compare: "test_acc>1"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}

func TestQueryPooledNoteOnlyForVariationWithinGroups(t *testing.T) {
	// A zip group: each shape has its own scale. Grouping by shape pools
	// over nothing but the seeds; grouping by nothing pools over both.
	var tasks []resultstest.Task
	for _, z := range []struct {
		shape string
		scale float64
	}{{"superspike", 10}, {"esser", 1}} {
		for seed := uint64(1); seed <= 2; seed++ {
			tasks = append(tasks, resultstest.Task{Shape: z.shape, Scale: z.scale, Seed: seed, State: results.StateDone, Status: "ok",
				Curve: []float64{0.5 + 0.1*float64(seed)}})
		}
	}
	src := resultstest.Sweep(t, "zip", tasks)
	tab := runQuery(t, src, results.QueryRequest{Sweep: "zip", GroupBy: []string{"surrogate.shape"}})
	if notes := strings.Join(tab.Notes, "\n"); strings.Contains(notes, "pooled") {
		t.Errorf("grouping by the zipped shape reports pooling:\n%s", notes)
	}
	tab = runQuery(t, src, results.QueryRequest{Sweep: "zip", GroupBy: []string{"none"}})
	if notes := strings.Join(tab.Notes, "\n"); !strings.Contains(notes, "pooled over surrogate.shape (2 values), surrogate.scale (2 values)") {
		t.Errorf("one group over everything does not report the pooling:\n%s", notes)
	}
}

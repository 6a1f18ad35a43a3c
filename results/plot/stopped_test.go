package plot

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
)

// stoppedSweep is plotSweep(paperLike) with three runs stopped early:
// superspike, β = 1000, η = 0.01, seeds 1 and 2 after epoch 3 (median),
// and esser, β = 0.1, η = 0.01, seed 3 after epoch 2 (chance).
func stoppedSweep(t *testing.T) results.RecordSlice {
	tasks := plotTasks(paperLike)
	for i, s := range tasks {
		switch {
		case s.Shape == "superspike" && s.Scale == 1000 && s.LR == 0.01 && s.Seed <= 2:
			tasks[i] = s.Stopped(3, "median")
		case s.Shape == "esser" && s.Scale == 0.1 && s.LR == 0.01 && s.Seed == 3:
			tasks[i] = s.Stopped(2, "chance")
		}
	}
	return resultstest.Sweep(t, "fig3", tasks)
}

// stoppedCurve is plotTasks' val_acc of superspike at epoch e (1-based).
func stoppedCurve(scale, lr float64, seed uint64, e int) float64 {
	return 0.1 + (paperLike(0, scale, lr, seed)-0.1)*(1-math.Exp(-float64(e)/2))
}

func TestPlotPointsCountStopped(t *testing.T) {
	src := stoppedSweep(t)
	keys := []string{"surrogate.shape", "surrogate.scale"}
	// A stopped run's test_acc is its best (last) epoch's val_acc + 0.01.
	stoppedAcc := func(seed uint64) float64 { return stoppedCurve(1000, 0.01, seed, 3) + 0.01 }
	full := stoppedCurve(1000, 0.01, 3, 10) + 0.01
	for _, tt := range []struct {
		include  []string
		n        int
		wantMean float64
	}{
		{nil, 1, full},
		{[]string{"stopped"}, 3, (stoppedAcc(1) + stoppedAcc(2) + full) / 3},
	} {
		req := Request{Sweep: "fig3", Kind: KindLine, X: "surrogate.scale", Where: []string{"train.lr=0.01"}, Include: tt.include}
		if err := req.normalize(); err != nil {
			t.Fatal(err)
		}
		pts, _, _, err := queryPoints(context.Background(), SourceQuerier(src), &req, keys, "test_acc", 0, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pts {
			if p.key[0].Text == "superspike" && p.key[1].Num == 1000 {
				if p.stopped != 2 || p.n != tt.n || math.Abs(p.mean-tt.wantMean) > 1e-12 {
					t.Errorf("include %v: stopped %d n %d mean %v, want 2, %d, %v", tt.include, p.stopped, p.n, p.mean, tt.n, tt.wantMean)
				}
			} else if p.stopped != 0 && !(p.key[0].Text == "esser" && p.key[1].Num == 0.1) {
				t.Errorf("point %v counts %d stopped tasks", p.key, p.stopped)
			}
		}
	}
}

func TestPlotMarksStopped(t *testing.T) {
	src := stoppedSweep(t)
	for _, tt := range []struct {
		name string
		req  Request
		want []string // texts in the SVG
	}{
		{"line", Request{Kind: KindLine, X: "surrogate.scale", Series: []string{"surrogate.shape"}, Where: []string{"train.lr=0.01"}},
			[]string{"3 stopped tasks left out of the means (hollow points)", "with stopped tasks"}},
		{"line included", Request{Kind: KindLine, X: "surrogate.scale", Where: []string{"train.lr=0.01"}, Include: []string{"stopped"}},
			[]string{"3 stopped tasks in the means at their last value (hollow points)", "with stopped tasks"}},
		{"heatmap", Request{Kind: KindHeatmap, X: "surrogate.scale", Y: "train.lr"},
			[]string{"3 stopped tasks left out of the means (ringed cells; grey if only stopped)"}},
		{"curves", Request{Kind: KindCurves, Series: []string{"surrogate.shape"}},
			[]string{"3 stopped tasks left out of the means (dashed, × where stopped)", "stopped run"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Sweep = "fig3"
			_, _, svg := renderPlot(t, src, tt.req, t.TempDir())
			for _, w := range tt.want {
				if !bytes.Contains(svg, []byte(w)) {
					t.Errorf("SVG lacks %q", w)
				}
			}
		})
	}
	// Without stopped tasks, no word of them.
	_, _, svg := renderPlot(t, plotSweep(t, paperLike), Request{Sweep: "fig3", Kind: KindCurves}, t.TempDir())
	if bytes.Contains(svg, []byte("stopped")) {
		t.Error("a figure of a sweep without stopped tasks mentions them")
	}
}

func TestPlotCellsWithOnlyStoppedTasks(t *testing.T) {
	// Every seed of sigmoid, β = 1000, η = 0.01 stopped after epoch 1: the
	// cell has no value by default. The line plot says it could not draw
	// it; the heat map shows it grey and ringed.
	src := stoppedSweep(t)
	for i := range src {
		r := &src[i]
		if !strings.Contains(string(r.Params), `"shape":"sigmoid"`) || !strings.Contains(string(r.Params), `"scale":1000`) ||
			!strings.Contains(string(r.Params), `"lr":0.01`) {
			continue
		}
		r.State, r.Result.Status = results.StateStopped, "stopped"
		r.Result.Result.Epochs = r.Result.Result.Epochs[:1]
	}
	_, _, svg := renderPlot(t, src, Request{Sweep: "fig3", Kind: KindLine, X: "surrogate.scale",
		Series: []string{"surrogate.shape"}, Where: []string{"train.lr=0.01"}}, t.TempDir())
	if !bytes.Contains(svg, []byte("6 stopped tasks left out of the means (hollow points); 1 point with only stopped tasks not drawn")) {
		t.Error("line plot does not say that it left out a point with only stopped tasks")
	}
	_, _, svg = renderPlot(t, src, Request{Sweep: "fig3", Kind: KindHeatmap, X: "surrogate.scale", Y: "surrogate.shape",
		Where: []string{"train.lr=0.01"}}, t.TempDir())
	fills, _ := svgPaths(t, svg)
	if fills[svgColor(nanColor)] != 1 {
		t.Errorf("heat map has %d grey cells, want the one with only stopped tasks", fills[svgColor(nanColor)])
	}
	// With --include stopped the cell has a value again.
	_, _, svg = renderPlot(t, src, Request{Sweep: "fig3", Kind: KindHeatmap, X: "surrogate.scale", Y: "surrogate.shape",
		Where: []string{"train.lr=0.01"}, Include: []string{"stopped"}}, t.TempDir())
	if fills, _ := svgPaths(t, svg); fills[svgColor(nanColor)] != 0 {
		t.Error("heat map with stopped tasks included still has a grey cell")
	}
}

func TestPlotCurvesDrawStoppedRuns(t *testing.T) {
	// Each stopped run is a dashed line in its series' colour: superspike
	// (series 0) has two, esser (series 2) one; sigmoid none.
	_, _, svg := renderPlot(t, stoppedSweep(t), Request{Sweep: "fig3", Kind: KindCurves, Series: []string{"surrogate.shape"}}, t.TempDir())
	dashed := map[string]int{}
	for _, el := range strings.Split(string(svg), "<path")[1:] {
		if strings.Contains(el, "stroke-dasharray") {
			for i := range 3 {
				if strings.Contains(el, "stroke:"+svgColor(seriesColors[i])) {
					dashed[svgColor(seriesColors[i])]++
				}
			}
		}
	}
	for i, want := range []int{2, 0, 1} {
		if got := dashed[svgColor(seriesColors[i])]; got != want {
			t.Errorf("series %d: %d dashed paths, want %d stopped runs (all: %v)", i, got, want, dashed)
		}
	}
}

func TestPlotBarsHollowWithStopped(t *testing.T) {
	// superspike and esser have stopped tasks: their bars are hollow (no
	// fill in their colour); sigmoid's is filled.
	_, _, svg := renderPlot(t, stoppedSweep(t), Request{Sweep: "fig3", Kind: KindBars, Conditions: []string{"surrogate.shape"}}, t.TempDir())
	fills, _ := svgPaths(t, svg)
	for i, want := range []int{0, 1, 0} {
		if got := svgCount(fills, seriesColors[i]); got != want {
			t.Errorf("bar %d: %d fills in its colour, want %d", i, got, want)
		}
	}
	if !bytes.Contains(svg, []byte("3 stopped tasks left out of the means (hollow bars)")) {
		t.Error("SVG does not say how many stopped tasks were left out")
	}
	if _, err := Make(context.Background(), SourceQuerier(stoppedSweep(t)),
		Request{Sweep: "fig3", Kind: KindBars, Conditions: []string{"surrogate.shape"}, Include: []string{"all"}}); err == nil ||
		!strings.Contains(err.Error(), "include") {
		t.Errorf("Include all: error %v, want one naming include", err)
	}
}

package plot

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/sim"
	"gonum.org/v1/plot/vg"
)

// accFunc gives the plateau accuracy of a synthetic task.
type accFunc func(shape int, scale, lr float64, seed uint64) float64

// plotSweep is a study shaped like the paper's Fig. 3: three shapes × seven
// scales (0.1 … 1000) × two learning rates × three seeds, with 10-epoch
// curves rising to acc's plateau.
func plotSweep(t testing.TB, acc accFunc) results.RecordSlice {
	return resultstest.Sweep(t, "fig3", plotTasks(acc))
}

// plotTasks are the tasks of plotSweep.
func plotTasks(acc accFunc) []resultstest.Task {
	var tasks []resultstest.Task
	for si, shape := range []string{"superspike", "sigmoid", "esser"} {
		for _, scale := range []float64{0.1, 1, 3, 10, 30, 100, 1000} {
			for _, lr := range []float64{0.001, 0.01} {
				for seed := uint64(1); seed <= 3; seed++ {
					plateau := acc(si, scale, lr, seed)
					curve := make([]float64, 10)
					for e := range curve {
						curve[e] = 0.1 + (plateau-0.1)*(1-math.Exp(-float64(e+1)/(2+float64(si))))
					}
					tasks = append(tasks, resultstest.Task{Shape: shape, Scale: scale, LR: lr, Seed: seed,
						State: results.StateDone, Status: protocol.StatusOK, Curve: curve})
				}
			}
		}
	}
	return tasks
}

// paperLike peaks at β = 10, lower for later shapes and the small rate.
func paperLike(si int, scale, lr float64, seed uint64) float64 {
	a := 0.95 - 0.04*math.Pow(math.Log10(scale)-1, 2) - 0.03*float64(si) + 0.01*float64(seed)
	if lr == 0.001 {
		a -= 0.1
	}
	return a
}

// distinctCells gives every (scale, lr) pair its own accuracy.
func distinctCells(si int, scale, lr float64, seed uint64) float64 {
	return 0.3 + 0.08*math.Log10(scale) + 5*lr + 0.001*float64(seed) + 0.01*float64(si)
}

// editParams applies edit to a task's parameters.
func editParams(t *testing.T, params []byte, edit func(*sim.Config)) []byte {
	t.Helper()
	var c sim.Config
	if err := json.Unmarshal(params, &c); err != nil {
		t.Fatal(err)
	}
	edit(&c)
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// renderPlot builds a figure and writes it as PNG and SVG into dir.
func renderPlot(t *testing.T, src results.RecordSource, req Request, dir string) (*Figure, image.Image, []byte) {
	t.Helper()
	fig, err := Make(context.Background(), SourceQuerier(src), req)
	if err != nil {
		t.Fatalf("Make(%+v): %v", req, err)
	}
	pngPath, svgPath := filepath.Join(dir, "fig.png"), filepath.Join(dir, "fig.svg")
	if err := fig.Save(pngPath); err != nil {
		t.Fatal(err)
	}
	if err := fig.Save(svgPath); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("written PNG does not decode: %v", err)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	return fig, img, svg
}

// colorCounts counts the pixels of each exact colour.
func colorCounts(img image.Image) map[color.RGBA]int {
	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, a := img.At(x, y).RGBA()
			counts[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8), uint8(a >> 8)}]++
		}
	}
	return counts
}

// checkImage checks the PNG's size and that it is not blank.
func checkImage(t *testing.T, fig *Figure, img image.Image) map[color.RGBA]int {
	t.Helper()
	wantW := int(math.Round(float64(fig.Width/vg.Inch) * float64(fig.DPI)))
	wantH := int(math.Round(float64(fig.Height/vg.Inch) * float64(fig.DPI)))
	if b := img.Bounds(); abs(b.Dx()-wantW) > 1 || abs(b.Dy()-wantH) > 1 {
		t.Errorf("PNG is %d×%d px, want %d×%d", b.Dx(), b.Dy(), wantW, wantH)
	}
	counts := colorCounts(img)
	total := img.Bounds().Dx() * img.Bounds().Dy()
	if white := counts[color.RGBA{255, 255, 255, 255}]; total-white < total/20 {
		t.Errorf("PNG is nearly blank: %d of %d pixels are not white", total-white, total)
	}
	return counts
}

func abs(x int) int { return max(x, -x) }

// paletteSeries counts how many palette colours (in order) the image
// shows in at least min pixels, and checks that the next one is absent.
func paletteSeries(t *testing.T, counts map[color.RGBA]int, want, minPixels int) {
	t.Helper()
	for i := range want {
		if n := counts[seriesColors[i]]; n < minPixels {
			t.Errorf("series %d colour %v: %d pixels, want ≥ %d", i, seriesColors[i], n, minPixels)
		}
	}
	if want < len(seriesColors) && seriesColors[want] != (color.RGBA{0, 0, 0, 255}) { // black also draws the axes
		if n := counts[seriesColors[want]]; n > 0 {
			t.Errorf("palette colour %d (series %d) appears in %d pixels: more series than expected", want, want+1, n)
		}
	}
}

// svgFills and svgStrokes collect the fill and stroke colours of every
// <path> in an SVG, with their counts.
func svgPaths(t *testing.T, svg []byte) (fills, strokes map[string]int) {
	t.Helper()
	fills, strokes = map[string]int{}, map[string]int{}
	d := xml.NewDecoder(bytes.NewReader(svg))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok || el.Name.Local != "path" {
			continue
		}
		for _, a := range el.Attr {
			if a.Name.Local != "style" {
				continue
			}
			for _, decl := range strings.Split(a.Value, ";") {
				k, v, _ := strings.Cut(decl, ":")
				switch k {
				case "fill":
					if v != "none" {
						fills[v]++
					}
				case "stroke":
					strokes[v]++
				}
			}
			if !strings.Contains(a.Value, "fill:") { // SVG's default fill is black
				fills["#000000"]++
			}
		}
	}
	return fills, strokes
}

// svgColor renders a colour as vgsvg does.
func svgColor(c color.RGBA) string {
	const digits = "0123456789ABCDEF"
	return "#" + string([]byte{digits[c.R>>4], digits[c.R&15], digits[c.G>>4], digits[c.G&15], digits[c.B>>4], digits[c.B&15]})
}

// svgCount counts the paths whose colour (in m) is within 2 per channel
// of c: vgsvg writes premultiplied colours divided back, which may round.
func svgCount(m map[string]int, c color.RGBA) int {
	n := 0
	for h, k := range m {
		var r, g, b int
		if _, err := fmt.Sscanf(h, "#%02X%02X%02X", &r, &g, &b); err != nil {
			continue
		}
		if abs(r-int(c.R)) <= 2 && abs(g-int(c.G)) <= 2 && abs(b-int(c.B)) <= 2 {
			n += k
		}
	}
	return n
}

// svgSeries checks that the first want palette colours stroke paths and
// the next one does not.
func svgSeries(t *testing.T, strokes map[string]int, want int) {
	t.Helper()
	for i := range want {
		if strokes[svgColor(seriesColors[i])] == 0 {
			t.Errorf("SVG has no path stroked with series %d's colour %s", i, svgColor(seriesColors[i]))
		}
	}
	if want < len(seriesColors) && seriesColors[want] != (color.RGBA{0, 0, 0, 255}) && strokes[svgColor(seriesColors[want])] > 0 {
		t.Errorf("SVG strokes with series %d's colour %s: more series than expected", want+1, svgColor(seriesColors[want]))
	}
}

func TestPlotLine(t *testing.T) {
	src := plotSweep(t, paperLike)
	tests := []struct {
		name   string
		req    Request
		series int
	}{
		{"band, three shapes", Request{X: "surrogate.scale", Series: []string{"surrogate.shape"}, Where: []string{"train.lr=0.01"}}, 3},
		{"error bars, best cell", Request{X: "surrogate.scale", Series: []string{"surrogate.shape"}, Cell: CellBest, ErrorBars: true}, 3},
		{"one series, sd band", Request{X: "train.lr", Band: BandSD, Where: []string{"surrogate.shape=esser"}}, 1},
		{"two series by rate", Request{X: "surrogate.scale", Series: []string{"train.lr"}, LogX: "off"}, 2},
		{"best 3 cells per point", Request{X: "surrogate.scale", Series: []string{"surrogate.shape"}, Best: 3, ErrorBars: true}, 3},
		{"metric on x: a point per cell", Request{X: "spikes", Series: []string{"surrogate.shape"}, Where: []string{"train.lr=0.01"}}, 3},
		{"six series by shape and rate", Request{X: "surrogate.scale", Series: []string{"surrogate.shape", "train.lr"},
			Labels: []string{"superspike/0.01=sCtl"}}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Sweep, tt.req.Kind = "fig3", KindLine
			fig, img, svg := renderPlot(t, src, tt.req, t.TempDir())
			counts := checkImage(t, fig, img)
			paletteSeries(t, counts, tt.series, 30)
			_, strokes := svgPaths(t, svg)
			svgSeries(t, strokes, tt.series)
		})
	}
}

func TestPlotLineLogAxis(t *testing.T) {
	if !useLogX("auto", []float64{0.1, 1, 10}) || useLogX("auto", []float64{1, 2, 50}) || !useLogX("auto", []float64{0, 1, 1000}) ||
		useLogX("auto", []float64{0, 0}) || useLogX("auto", []float64{-5, 5}) || !useLogX("on", []float64{1, 2}) || useLogX("off", []float64{1, 1e6}) {
		t.Error("useLogX does not follow: auto = log when the positive values span ≥ 2 decades")
	}
	// β = 0 on a log axis is left out, and the figure says so.
	src := plotSweep(t, paperLike)
	for i := range src {
		src[i].Params = editParams(t, src[i].Params, func(c *sim.Config) {
			if c.Surrogate.Scale == 0.1 {
				c.Surrogate.Scale = 0
			}
		})
	}
	fig, err := Make(context.Background(), SourceQuerier(src),
		Request{Sweep: "fig3", Kind: KindLine, X: "surrogate.scale", Series: []string{"surrogate.shape"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(fig.Notes, "\n"), "3 points with surrogate.scale ≤ 0 left out of the log axis") {
		t.Errorf("notes do not mention the dropped β = 0 points: %q", fig.Notes)
	}
}

func TestPlotHeatmap(t *testing.T) {
	src := plotSweep(t, distinctCells)
	// Drop one cell's tasks (β = 30, η = 0.001) so that it has no value.
	var kept results.RecordSlice
	for _, r := range src {
		var c sim.Config
		if err := json.Unmarshal(r.Params, &c); err != nil {
			t.Fatal(err)
		}
		if c.Surrogate.Scale != 30 || c.Train.LR != 0.001 {
			kept = append(kept, r)
		}
	}
	for _, cell := range []string{CellMean, CellBest} {
		t.Run(cell, func(t *testing.T) {
			fig, img, svg := renderPlot(t, kept, Request{Sweep: "fig3", Kind: KindHeatmap, X: "surrogate.scale",
				Y: "train.lr", Cell: cell}, t.TempDir())
			counts := checkImage(t, fig, img)
			// 7 scales × 2 rates, one empty: 13 distinct colours over a
			// cell's area (the colour bar's colours are thin stripes), and
			// the empty cell in the no-data grey.
			big := 0
			for c, n := range counts {
				if n >= 1000 && !(c.R == c.G && c.G == c.B) {
					big++
				}
			}
			if big != 13 {
				t.Errorf("%d colours cover a cell's area, want 13 cells", big)
			}
			if counts[nanColor] < 1000 {
				t.Errorf("the empty cell's grey covers %d pixels", counts[nanColor])
			}
			fills, _ := svgPaths(t, svg)
			cells := 0
			for c, n := range fills {
				if c != "#FFFFFF" && c != "#000000" && c != svgColor(nanColor) {
					cells += n
				}
			}
			if cells != 13 || fills[svgColor(nanColor)] != 1 {
				t.Errorf("SVG has %d filled cells and %d empty ones, want 13 and 1 (fills %v)", cells, fills[svgColor(nanColor)], fills)
			}
			if !bytes.Contains(svg, []byte("<image")) {
				t.Error("SVG has no colour bar image")
			}
		})
	}
}

func TestPlotCurves(t *testing.T) {
	src := plotSweep(t, paperLike)
	for _, tt := range []struct {
		req    Request
		series int
	}{
		{Request{Series: []string{"surrogate.shape"}}, 3},
		{Request{Series: []string{"train.lr"}, Metric: "train_loss", Band: BandSD}, 2},
		{Request{Where: []string{"surrogate.scale=10"}}, 1},
	} {
		t.Run(strings.Join(tt.req.Series, ",")+tt.req.Metric, func(t *testing.T) {
			tt.req.Sweep, tt.req.Kind = "fig3", KindCurves
			fig, img, svg := renderPlot(t, src, tt.req, t.TempDir())
			paletteSeries(t, checkImage(t, fig, img), tt.series, 30)
			_, strokes := svgPaths(t, svg)
			svgSeries(t, strokes, tt.series)
		})
	}
}

func TestPlotBars(t *testing.T) {
	src := plotSweep(t, paperLike)
	for _, tt := range []struct {
		name string
		req  Request
		bars int
	}{
		{"tasks", Request{Conditions: []string{"surrogate.shape"}}, 3},
		{"best cells, renamed", Request{Conditions: []string{"surrogate.shape", "train.lr"}, Best: 5,
			Labels: []string{"superspike/0.01=sCtl"}}, 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Sweep, tt.req.Kind = "fig3", KindBars
			fig, img, svg := renderPlot(t, src, tt.req, t.TempDir())
			checkImage(t, fig, img)
			fills, strokes := svgPaths(t, svg)
			for i := range tt.bars {
				if svgCount(fills, seriesColors[i]) != 1 || strokes[svgColor(seriesColors[i])] == 0 {
					t.Errorf("bar %d: %d fills in its colour, want 1", i, svgCount(fills, seriesColors[i]))
				}
			}
			if tt.bars < len(seriesColors) && svgCount(fills, seriesColors[tt.bars]) > 0 {
				t.Errorf("more than %d bars", tt.bars)
			}
			// The points: one dark glyph per task (or per best cell).
			dots := svgCount(fills, pointColor)
			want := 126
			if tt.req.Best > 0 {
				want = 6 * tt.req.Best
			}
			if dots != want {
				t.Errorf("%d points, want %d", dots, want)
			}
			if tt.req.Best > 0 && !bytes.Contains(svg, []byte("sCtl")) {
				t.Error("renamed condition label sCtl missing")
			}
		})
	}
}

func TestPlotRequestErrors(t *testing.T) {
	src := plotSweep(t, paperLike)
	for _, tt := range []struct {
		req  Request
		want string
	}{
		{Request{Kind: "pie"}, `kind: "pie" is not one of`},
		{Request{Kind: KindLine}, "x: a line plot needs it"},
		{Request{Kind: KindHeatmap, X: "train.lr"}, "y: a heatmap plot needs it"},
		{Request{Kind: KindBars}, "conditions"},
		{Request{Kind: KindCurves, Metric: "test_acc"}, "needs a curve"},
		{Request{Kind: KindLine, X: "surrogate.shape"}, "non-numeric value"},
		{Request{Kind: KindLine, X: "surrogate.scal"}, `unknown parameter or metric "surrogate.scal"`},
		{Request{Kind: KindLine, X: "spikes", Cell: CellBest}, "every grid cell is a point"},
		{Request{Kind: KindLine, X: "train.lr", Metric: "accuracy"}, `unknown parameter or metric "accuracy"`},
		{Request{Kind: KindLine, X: "train.lr", Band: "iqr"}, "band"},
		{Request{Kind: KindLine, X: "train.lr", Where: []string{"seed>9"}}, "no test_acc values"},
		{Request{Kind: KindBars, Conditions: []string{"surrogate.shape"}, Labels: []string{"x"}}, "want from=to"},
	} {
		tt.req.Sweep = "fig3"
		_, err := Make(context.Background(), SourceQuerier(src), tt.req)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Make(%+v) = %v, want an error containing %q", tt.req, err, tt.want)
		}
	}
	fig, err := Make(context.Background(), SourceQuerier(src), Request{Sweep: "fig3", Kind: KindBars, Conditions: []string{"surrogate.shape"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := fig.Save(filepath.Join(t.TempDir(), "fig.pdf")); err == nil || !strings.Contains(err.Error(), ".png or .svg") {
		t.Errorf("Save(.pdf) = %v, want a clear error", err)
	}
}

func TestLabel(t *testing.T) {
	for in, want := range map[string]string{
		"surrogate.scale":             "surrogate scale β",
		"test_acc":                    "test accuracy",
		"val_acc@10":                  "validation accuracy after epoch 10",
		"val_acc@*":                   "validation accuracy",
		"dataset.val_fraction":        "dataset val fraction",
		"network.depth":               "hidden layers",
		"regularizer.upper.threshold": "upper-bound threshold ν_up (spikes/neuron/sample)",
	} {
		if got := Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlotBestCellsByHand(t *testing.T) {
	// paperLike: per shape and scale, the two learning rates are two cells;
	// the best is η = 0.01. A task's test_acc is its curve's last value
	// (superspike: 0.1 + (plateau − 0.1)·(1 − e^−5)) + 0.01; the mean over
	// seeds 1–3 is that of seed 2. With --best 2 a point is the mean of
	// both cells.
	src := plotSweep(t, paperLike)
	cell := func(lr float64) float64 { return 0.1 + (paperLike(0, 10, lr, 2)-0.1)*(1-math.Exp(-5)) + 0.01 }
	req := Request{Sweep: "fig3", Kind: KindLine, X: "surrogate.scale", Series: []string{"surrogate.shape"}}
	for _, tt := range []struct {
		best     int
		wantMean float64
		wantN    int
	}{
		{1, cell(0.01), 3},
		{2, (cell(0.01) + cell(0.001)) / 2, 2},
	} {
		req.Best = tt.best
		if err := req.normalize(); err != nil {
			t.Fatal(err)
		}
		pts, _, _, err := queryPoints(context.Background(), SourceQuerier(src), &req, []string{"surrogate.shape", "surrogate.scale"}, "test_acc", tt.best, false)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, p := range pts {
			if p.key[0].Text == "superspike" && p.key[1].Num == 10 {
				found = true
				if math.Abs(p.mean-tt.wantMean) > 1e-12 || p.n != tt.wantN {
					t.Errorf("best %d: superspike β=10 mean %v n %d, want %v and %d", tt.best, p.mean, p.n, tt.wantMean, tt.wantN)
				}
			}
		}
		if !found || len(pts) != 21 {
			t.Errorf("best %d: %d points, want 21 (3 shapes × 7 scales)", tt.best, len(pts))
		}
	}
}

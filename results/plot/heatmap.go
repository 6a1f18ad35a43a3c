package plot

import (
	"context"
	"image/color"
	"math"
	"slices"

	"github.com/sgsweep/sgsweep/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxAnnotatedCells is the largest grid whose cells are labelled with
// their values.
const maxAnnotatedCells = 150

// grid is a heat map's data: z[c][r] at column c (x) and row r (y), NaN
// where there is no value. Columns and rows sit at integer positions.
type grid struct {
	z [][]float64
}

func (g grid) Dims() (c, r int)   { return len(g.z), len(g.z[0]) }
func (g grid) Z(c, r int) float64 { return g.z[c][r] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }
func (g grid) Min() (lo float64)  { lo, _ = g.zRange(); return lo }
func (g grid) Max() (hi float64)  { _, hi = g.zRange(); return hi }
func (g grid) zRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, col := range g.z {
		for _, v := range col {
			if !math.IsNaN(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	switch {
	case math.IsInf(lo, 1):
		return 0, 1
	case lo == hi: // one value: give the colour map a range
		d := math.Max(math.Abs(lo)*0.05, 1e-9)
		return lo - d, hi + d
	}
	return lo, hi
}

// heatmapPlot draws the metric over two parameters, one cell per pair of
// values, with a colour bar and the values written in the cells.
func heatmapPlot(ctx context.Context, q Querier, r *Request) (*Figure, error) {
	pts, st, notes, err := queryPoints(ctx, q, r, []string{r.X, r.Y}, r.Metric, r.bestCells(), false)
	if err != nil {
		return nil, err
	}
	// Cells with only stopped tasks have no value but a place: grey, ringed.
	all := append(slices.Clone(pts), st.bare...)
	xs, ys := distinctKeys(all, 0), distinctKeys(all, 1)
	if !slices.ContainsFunc(ys, func(v results.Value) bool { return v.Kind == results.KindNumber }) {
		// Categories read top down in grid order; numbers rise upwards.
		slices.Reverse(ys)
	}
	g := grid{z: make([][]float64, len(xs))}
	for c := range g.z {
		g.z[c] = make([]float64, len(ys))
		for k := range g.z[c] {
			g.z[c][k] = math.NaN()
		}
	}
	for i := range pts {
		c := slices.IndexFunc(xs, pts[i].key[0].Equal)
		k := slices.IndexFunc(ys, pts[i].key[1].Equal)
		g.z[c][k] = pts[i].mean
	}
	f, _ := results.LookupField(r.Metric, r.Epoch)
	what := "mean over seeds"
	if r.Cell == CellBest {
		what = "best cell (mean over seeds) per pair"
	}
	p := newPlot(defaultTitle(r, Label(f.Name)+": "+Label(r.Y)+" × "+Label(r.X), what),
		orDefault(r.XLabel, Label(r.X)), orDefault(r.YLabel, Label(r.Y)))
	captionStopped(p, r, stopTally{total: st.total}, "ringed cells; grey if only stopped", "cell")
	p.Add(heatMapOf(g))
	if labels := cellLabels(g); labels != nil {
		p.Add(labels)
	}
	var rings plotter.XYs
	for i := range all {
		if all[i].stopped > 0 {
			c := slices.IndexFunc(xs, all[i].key[0].Equal)
			k := slices.IndexFunc(ys, all[i].key[1].Equal)
			rings = append(rings, plotter.XY{X: float64(c) + 0.35, Y: float64(k) + 0.3})
		}
	}
	if len(rings) > 0 {
		// A white disc under a dark ring: visible on dark and bright cells.
		for _, style := range []draw.GlyphStyle{{Color: color.White, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}},
			hollowGlyph(stoppedMark)} {
			sc, err := plotter.NewScatter(rings)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = style
			p.Add(sc)
		}
	}
	p.X.Tick.Marker = categoryTicks(tickTexts(xs))
	p.Y.Tick.Marker = categoryTicks(tickTexts(ys))
	p.X.Padding, p.Y.Padding = 0, 0

	lo, hi := g.zRange()
	cm := heatColors()
	cm.SetMin(lo)
	cm.SetMax(hi)
	bar := plot.New()
	styleText(bar)
	bar.HideX()
	bar.Y.Padding = 0
	bar.Y.Label.Text = Label(f.Name)
	bar.Y.Label.TextStyle.Font.Size = vg.Points(9)
	bar.Y.Tick.Label.Font.Size = vg.Points(8)
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true, Colors: heatPaletteSize})

	fig := newFigure(p)
	fig.colorBar = bar
	fig.sideWidth = 2.4 * vg.Centimeter
	fig.Notes = notes
	return fig, nil
}

// heatMapOf returns the heat map plotter of a grid.
func heatMapOf(g grid) *plotter.HeatMap {
	lo, hi := g.zRange()
	cm := heatColors()
	cm.SetMin(lo)
	cm.SetMax(hi)
	h := plotter.NewHeatMap(g, cm.Palette(heatPaletteSize))
	h.Min, h.Max = lo, hi
	h.NaN = nanColor
	return h
}

// cellLabels writes each cell's value in it, white on dark cells and black
// on bright ones; nil for grids too large to label.
func cellLabels(g grid) *plotter.Labels {
	nc, nr := g.Dims()
	if nc*nr > maxAnnotatedCells {
		return nil
	}
	lo, hi := g.zRange()
	var xys plotter.XYs
	var texts []string
	var styles []text.Style
	for c := range nc {
		for k := range nr {
			v := g.Z(c, k)
			if math.IsNaN(v) {
				continue
			}
			xys = append(xys, plotter.XY{X: float64(c), Y: float64(k)})
			texts = append(texts, results.FormatStat(v))
			col := color.Color(color.White)
			if (v-lo)/(hi-lo) > 0.6 {
				col = color.Black
			}
			sty := text.Style{Font: plot.DefaultFont, Handler: plot.DefaultTextHandler, Color: col,
				XAlign: text.XCenter, YAlign: text.YCenter}
			sty.Font.Size = vg.Points(7)
			sty.Font.Variant = fontVariant
			styles = append(styles, sty)
		}
	}
	if len(xys) == 0 {
		return nil
	}
	return &plotter.Labels{XYs: xys, Labels: texts, TextStyle: styles}
}

// tickTexts renders key values for ticks.
func tickTexts(vals []results.Value) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = tickText(v)
	}
	return out
}

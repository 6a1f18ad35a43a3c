package plot

import (
	"context"
	"fmt"
	"image/color"
	"strings"

	"github.com/sgsweep/sgsweep/results"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// barHalfWidth is half a bar's width, in units of the spacing of bars.
const barHalfWidth = 0.32

// pointColor is the colour of the individual values drawn over bars.
var pointColor = color.RGBA{0x22, 0x22, 0x22, 0xFF}

// barsPlot draws conditions side by side: a bar at the mean, error bars of
// ± one sd, and the individual values (tasks, or with Best the best cells)
// as points.
func barsPlot(ctx context.Context, q Querier, r *Request) (*Figure, error) {
	if r.Cell == CellBest {
		return nil, fmt.Errorf("cell: for bars, use --best K (the K best cells per condition)")
	}
	f, err := results.LookupField(r.Metric, r.Epoch)
	if err != nil {
		return nil, fmt.Errorf("metric: %w", err)
	}
	names, err := newRenamer(r.Labels)
	if err != nil {
		return nil, err
	}
	pts, st, notes, err := queryPoints(ctx, q, r, r.Conditions, r.Metric, r.Best, true)
	if err != nil {
		return nil, err
	}
	what := "mean ± sd over tasks (points)"
	switch {
	case r.Best == 1:
		what = "best cell: mean ± sd over its seeds (points)"
	case r.Best > 1:
		what = fmt.Sprintf("mean ± sd of the %d best cells (points)", r.Best)
	}
	xLabel := make([]string, len(r.Conditions))
	for i, c := range r.Conditions {
		xLabel[i] = Label(c)
	}
	p := newPlot(defaultTitle(r, Label(f.Name)+" by "+strings.Join(xLabel, " / "), what),
		orDefault(r.XLabel, strings.Join(xLabel, " / ")), orDefault(r.YLabel, Label(f.Name)))
	captionStopped(p, r, st, "hollow bars", "bar")
	var ticks []string
	dotColor := faded(pointColor, 0.75)
	for i := range pts {
		pt := &pts[i]
		x := float64(i)
		col, _ := seriesStyle(i)
		bar, err := plotter.NewPolygon(plotter.XYs{{X: x - barHalfWidth, Y: 0}, {X: x + barHalfWidth, Y: 0},
			{X: x + barHalfWidth, Y: pt.mean}, {X: x - barHalfWidth, Y: pt.mean}})
		if err != nil {
			return nil, err
		}
		bar.Color = faded(col, 0.75)
		bar.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1)}
		if pt.stopped > 0 {
			bar.Color = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF} // hollow: the condition has stopped tasks
			bar.LineStyle.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
		}
		p.Add(bar)
		if pt.sd == pt.sd && len(pt.values) > 1 { // sd is not NaN
			eb, err := plotter.NewYErrorBars(errorBars{plotter.XYs{{X: x, Y: pt.mean}}, []float64{pt.mean - pt.sd}, []float64{pt.mean + pt.sd}})
			if err != nil {
				return nil, err
			}
			eb.Color, eb.Width, eb.CapWidth = color.Black, vg.Points(1.2), vg.Points(8)
			p.Add(eb)
		}
		if len(pt.values) > 0 {
			dots := make(plotter.XYs, len(pt.values))
			for j, v := range pt.values {
				// Spread the points evenly across the bar (deterministic
				// jitter) so that equal values stay visible.
				off := 0.0
				if m := len(pt.values); m > 1 {
					off = -0.6*barHalfWidth + 1.2*barHalfWidth*float64(j)/float64(m-1)
				}
				dots[j] = plotter.XY{X: x + off, Y: v}
			}
			sc, err := plotter.NewScatter(dots)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: dotColor, Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}
			p.Add(sc)
		}
		ticks = append(ticks, names.apply(joinValues(pt.key)))
	}
	p.X.Tick.Marker = categoryTicks(ticks)
	p.X.Min, p.X.Max = -0.6, float64(len(pts))-0.4
	if boundY(p, f.Name) {
		notes = append(notes, clipNote(f.Name))
	}
	fig := newFigure(p)
	fig.Notes = notes
	return fig, nil
}

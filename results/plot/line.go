package plot

import (
	"cmp"
	"context"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/sgsweep/sgsweep/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// series is one line of a figure: its label and its points in x order.
type series struct {
	label string
	xs    []float64
	pts   []*point
}

// linePlot draws the metric against one parameter, one series per value of
// others, with a band or error bars; or, when X is a metric, one point per
// grid cell at its means of both metrics.
func linePlot(ctx context.Context, q Querier, r *Request) (*Figure, error) {
	xf, err := results.LookupField(r.X, r.Epoch)
	if err != nil {
		return nil, fmt.Errorf("x: %w", err)
	}
	names, err := newRenamer(r.Labels)
	if err != nil {
		return nil, err
	}
	var pts []point
	var xs []float64
	var notes []string
	var st stopTally
	if xf.Metric {
		pts, xs, st, notes, err = metricXPoints(ctx, q, r, &xf)
	} else {
		pts, xs, st, notes, err = paramXPoints(ctx, q, r)
	}
	if err != nil {
		return nil, err
	}
	logX := useLogX(r.LogX, xs)
	var lines []*series
	dropped := 0
	for i := range pts {
		p := &pts[i]
		x := xs[i]
		if logX && x <= 0 {
			dropped++
			continue
		}
		label := ""
		if len(r.Series) > 0 {
			label = names.apply(joinValues(p.key[:len(r.Series)]))
		}
		j := slices.IndexFunc(lines, func(s *series) bool { return s.label == label })
		if j < 0 {
			j = len(lines)
			lines = append(lines, &series{label: label})
		}
		lines[j].xs = append(lines[j].xs, x)
		lines[j].pts = append(lines[j].pts, p)
	}
	if dropped > 0 {
		notes = append(notes, fmt.Sprintf("%s with %s ≤ 0 left out of the log axis (use --log-x off)", plural(dropped, "point"), r.X))
	}

	f, _ := results.LookupField(r.Metric, r.Epoch)
	best := r.bestCells()
	what := bandText(r.Band) + " over seeds"
	if best > 1 {
		what = fmt.Sprintf("%s of the %d best cells per point", bandText(r.Band), best)
	}
	if r.ErrorBars && r.Band != BandNone {
		what += " (error bars)"
	}
	switch {
	case xf.Metric:
		what = "one point per grid cell at its means over seeds; "
		switch r.Band {
		case BandCI:
			what += "95% CI of " + Label(r.Metric)
		case BandSD:
			what += "± sd of " + Label(r.Metric)
		default:
			what = strings.TrimSuffix(what, "; ")
		}
	case best == 1:
		what = "best cell per point: " + what
	}
	p := newPlot(defaultTitle(r, Label(f.Name)+" vs "+Label(r.X), what),
		orDefault(r.XLabel, Label(r.X)), orDefault(r.YLabel, Label(f.Name)))
	captionStopped(p, r, st, "hollow points", "point")
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		// Pad the range by a fifth of a decade so that the end points (and
		// their decade ticks) sit inside the axis.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range lines {
			for _, x := range s.xs {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
		p.X.Min, p.X.Max = lo/math.Pow(10, 0.2), hi*math.Pow(10, 0.2)
	}
	var legend []legendItem
	for i, s := range lines {
		order := make([]int, len(s.xs))
		for k := range order {
			order[k] = k
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(s.xs[a], s.xs[b]) })
		mean := make(plotter.XYs, len(order))
		lo := make([]float64, len(order))
		hi := make([]float64, len(order))
		for k, o := range order {
			mean[k] = plotter.XY{X: s.xs[o], Y: s.pts[o].mean}
			lo[k], hi[k] = bandOf(s.pts[o], r.Band)
		}
		if r.ErrorBars {
			dodge(mean, i, len(lines), logX)
		}
		col, dash := seriesStyle(i)
		if r.Band != BandNone {
			if r.ErrorBars {
				eb, err := plotter.NewYErrorBars(errorBars{mean, lo, hi})
				if err != nil {
					return nil, err
				}
				eb.Color, eb.Width = col, vg.Points(1)
				p.Add(eb)
			} else if len(mean) > 1 {
				p.Add(bandPolygon(mean, lo, hi, col))
			}
		}
		line, err := plotter.NewLine(mean)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width, line.Dashes = col, vg.Points(1.5), dash
		dots, err := plotter.NewScatter(mean)
		if err != nil {
			return nil, err
		}
		filled := draw.GlyphStyle{Color: col, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		dots.GlyphStyleFunc = func(k int) draw.GlyphStyle {
			if s.pts[order[k]].stopped > 0 {
				return hollowGlyph(col)
			}
			return filled
		}
		p.Add(line, dots)
		if s.label != "" {
			legend = append(legend, legendItem{text: s.label, thumbs: []plot.Thumbnailer{lineThumb{col, dash, true}}})
		}
	}
	if boundY(p, f.Name) {
		notes = append(notes, clipNote(f.Name))
	}
	if st.total > 0 {
		legend = append(legend, stoppedLegend("with stopped tasks", glyphThumb{hollowGlyph(stoppedMark)}))
	}
	fig := newFigure(p)
	fig.Notes = notes
	if len(r.Series) > 0 || st.total > 0 {
		fig.setLegend(seriesTitle(r.Series), legend)
	}
	return fig, nil
}

// paramXPoints returns the points of a line plot over a parameter and
// their x values.
func paramXPoints(ctx context.Context, q Querier, r *Request) ([]point, []float64, stopTally, []string, error) {
	keys := append(slices.Clone(r.Series), r.X)
	pts, st, notes, err := queryPoints(ctx, q, r, keys, r.Metric, r.bestCells(), false)
	if err != nil {
		return nil, nil, st, nil, err
	}
	xs := make([]float64, len(pts))
	for i, p := range pts {
		x := p.key[len(keys)-1]
		if x.Kind != results.KindNumber {
			return nil, nil, st, nil, fmt.Errorf("x: %s has the non-numeric value %q; plot it with --kind bars", r.X, x.String())
		}
		xs[i] = x.Num
	}
	return pts, xs, st, notes, nil
}

// metricXPoints returns the points of a line plot over a metric: one per
// grid cell (every varying parameter but the seeds), at the cell's mean of
// the x metric, with the cell's statistics of the y metric.
func metricXPoints(ctx context.Context, q Querier, r *Request, xf *results.Field) ([]point, []float64, stopTally, []string, error) {
	var st stopTally
	if r.bestCells() > 0 {
		return nil, nil, st, nil, fmt.Errorf("x: %s is a metric: every grid cell is a point, --cell best and --best do not apply", xf.Name)
	}
	yf, err := results.LookupField(r.Metric, r.Epoch)
	if err != nil {
		return nil, nil, st, nil, fmt.Errorf("metric: %w", err)
	}
	if yf.Name == xf.Name {
		return nil, nil, st, nil, fmt.Errorf("x: %s is also the metric", xf.Name)
	}
	tab, err := q(ctx, r.query(append(slices.Clone(r.Series), results.GroupVarying), yf.Name, xf.Name))
	if err != nil {
		return nil, nil, st, nil, err
	}
	all, rows, err := tablePoints(tab, r.Series, yf.Name)
	if err != nil {
		return nil, nil, st, nil, err
	}
	var cells []string // every key column: a row is a cell
	for _, c := range tab.KeyColumns() {
		cells = append(cells, tab.Columns[c].Name)
	}
	st = tallyStopped(tab, cells, yf.Name, nil)
	xcol := tab.ColumnIndex(xf.Name + ".mean")
	var pts []point
	var xs []float64
	for i, p := range all {
		if x := tab.Rows[rows[i]][xcol]; x.Kind == results.KindNumber {
			pts = append(pts, p)
			xs = append(xs, x.Num)
		}
	}
	if len(pts) == 0 {
		return nil, nil, st, tab.Notes, fmt.Errorf("no cells with both %s and %s (%s)", xf.Name, yf.Name, strings.Join(tab.Notes, "; "))
	}
	return pts, xs, st, tab.Notes, nil
}

// plural renders "1 point", "3 points".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// dodge shifts series i of n sideways so that error bars at the same x do
// not hide each other: by 0.02 decade steps on a log axis, else by 1% of
// the x range per step.
func dodge(pts plotter.XYs, i, n int, logX bool) {
	if n < 2 || len(pts) == 0 {
		return
	}
	step := float64(i) - float64(n-1)/2
	if logX {
		f := math.Pow(10, 0.02*step)
		for k := range pts {
			pts[k].X *= f
		}
		return
	}
	span := pts[len(pts)-1].X - pts[0].X
	for k := range pts {
		pts[k].X += 0.01 * span * step
	}
}

// bandPolygon is the shaded region between lo and hi along the points.
func bandPolygon(pts plotter.XYs, lo, hi []float64, col color.RGBA) *plotter.Polygon {
	ring := make(plotter.XYs, 0, 2*len(pts))
	for k := range pts {
		ring = append(ring, plotter.XY{X: pts[k].X, Y: hi[k]})
	}
	for k := len(pts) - 1; k >= 0; k-- {
		ring = append(ring, plotter.XY{X: pts[k].X, Y: lo[k]})
	}
	poly, _ := plotter.NewPolygon(ring) // finite by construction
	poly.Color = faded(col, 0.2)
	poly.LineStyle.Width = 0
	return poly
}

// errorBars adapts points and bounds to plotter's XYer and YErrorer.
type errorBars struct {
	plotter.XYs
	lo, hi []float64
}

func (e errorBars) YError(i int) (float64, float64) {
	return e.XYs[i].Y - e.lo[i], e.hi[i] - e.XYs[i].Y
}

// seriesTitle is the legend's title: the series parameters' labels.
func seriesTitle(series []string) string {
	parts := make([]string, len(series))
	for i, s := range series {
		parts[i] = Label(s)
	}
	return strings.Join(parts, " / ")
}

// joinValues renders key values as "a/b".
func joinValues(vals []results.Value) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = tickText(v)
	}
	return strings.Join(parts, "/")
}

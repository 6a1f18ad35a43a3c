package plot

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sgsweep/sgsweep/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// curvesPlot draws learning curves: the mean of a curve over the tasks of
// each series at every epoch, with a band.
func curvesPlot(ctx context.Context, q Querier, r *Request) (*Figure, error) {
	if r.Cell == CellBest {
		return nil, fmt.Errorf("cell: %s is not available for curves; pick the cells with --where", CellBest)
	}
	req := r.query([]string{results.GroupNone}, r.Metric+"@*")
	req.Epoch = 0
	if len(r.Series) > 0 {
		req.GroupBy = r.Series
	}
	tab, err := q(ctx, req)
	if err != nil {
		return nil, err
	}
	names, err := newRenamer(r.Labels)
	if err != nil {
		return nil, err
	}
	// Columns metric@e.agg, e = 1, 2, …: index them by epoch.
	type epochCols struct{ mean, sd, lo, hi int }
	var epochs []epochCols
	prefix := r.Metric + "@"
	for e := 1; ; e++ {
		base := prefix + strconv.Itoa(e) + "."
		m := tab.ColumnIndex(base + "mean")
		if m < 0 {
			break
		}
		epochs = append(epochs, epochCols{m, tab.ColumnIndex(base + "sd"), tab.ColumnIndex(base + "ci95_lo"), tab.ColumnIndex(base + "ci95_hi")})
	}
	if len(epochs) == 0 {
		return nil, fmt.Errorf("no %s curves to plot (%s)", r.Metric, strings.Join(tab.Notes, "; "))
	}
	num := func(v results.Value) float64 {
		if v.Kind == results.KindNumber {
			return v.Num
		}
		return math.NaN()
	}
	stopped := 0
	if c := tab.ColumnIndex("stopped"); c >= 0 {
		for _, row := range tab.Rows {
			stopped += int(num(row[c]))
		}
	}
	p := newPlot(defaultTitle(r, Label(r.Metric)+" during training", bandText(r.Band)+" over tasks"),
		orDefault(r.XLabel, "epoch"), orDefault(r.YLabel, Label(r.Metric)))
	captionStopped(p, r, stopTally{total: stopped}, "dashed, × where stopped", "")
	var legend []legendItem
	for i, row := range tab.Rows {
		var pts plotter.XYs
		var lo, hi []float64
		for e, c := range epochs {
			mean := num(row[c.mean])
			if math.IsNaN(mean) {
				continue
			}
			pt := point{mean: mean, sd: num(row[c.sd]), lo: num(row[c.lo]), hi: num(row[c.hi])}
			l, h := bandOf(&pt, r.Band)
			pts = append(pts, plotter.XY{X: float64(e + 1), Y: mean})
			lo, hi = append(lo, l), append(hi, h)
		}
		if len(pts) == 0 {
			continue
		}
		col, dash := seriesStyle(i)
		if r.Band != BandNone && len(pts) > 1 {
			p.Add(bandPolygon(pts, lo, hi, col))
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width, line.Dashes = col, vg.Points(1.5), dash
		p.Add(line)
		if len(r.Series) > 0 {
			label := names.apply(joinValues(row[:len(r.Series)]))
			legend = append(legend, legendItem{text: label, thumbs: []plot.Thumbnailer{lineThumb{col, dash, false}}})
		}
	}
	if stopped > 0 {
		if err := stoppedRuns(ctx, q, r, tab, p); err != nil {
			return nil, err
		}
		legend = append(legend, stoppedLegend("stopped run", runThumb{stoppedMark}))
	}
	fig := newFigure(p)
	fig.Notes = tab.Notes
	if boundY(p, r.Metric) {
		fig.Notes = append(fig.Notes, clipNote(r.Metric))
	}
	if len(r.Series) > 0 || stopped > 0 {
		fig.setLegend(seriesTitle(r.Series), legend)
	}
	return fig, nil
}

// stoppedRuns draws each stopped task's own curve, dashed in its series'
// colour up to the epoch it stopped at, with a cross there. It queries one
// row per stopped task (grouped by the series, then every parameter,
// seeds included) with the curve and the epochs trained; the curve is
// read as run, so it ends where the task stopped. series is the main
// table, whose rows give the series' colours.
func stoppedRuns(ctx context.Context, q Querier, r *Request, series *results.Table, p *plot.Plot) error {
	keys := slices.Clone(r.Series)
	for _, k := range []string{"seed", "data_seed"} {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	keys = append(keys, results.GroupVarying)
	req := r.query(keys, r.Metric+"@*", "epochs")
	req.Epoch = 0
	req.Where = append(slices.Clone(r.Where), "state="+results.StateStopped)
	req.Include = []string{results.IncludeStopped}
	req.Aggs = []string{"mean"}
	tab, err := q(ctx, req)
	if err != nil {
		return err
	}
	trained := tab.ColumnIndex("epochs.mean")
	for _, row := range tab.Rows {
		col := seriesColors[0]
		if len(r.Series) > 0 {
			i := slices.IndexFunc(series.Rows, func(s []results.Value) bool {
				return slices.EqualFunc(s[:len(r.Series)], row[:len(r.Series)], results.Value.Equal)
			})
			col, _ = seriesStyle(max(i, 0))
		}
		var pts plotter.XYs
		for e := 1; row[trained].Kind == results.KindNumber && e <= int(row[trained].Num); e++ {
			c := tab.ColumnIndex(r.Metric + "@" + strconv.Itoa(e) + ".mean")
			if c < 0 || row[c].Kind != results.KindNumber {
				continue
			}
			pts = append(pts, plotter.XY{X: float64(e), Y: row[c].Num})
		}
		if len(pts) == 0 {
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.LineStyle = stoppedRunLine(col)
		end, err := plotter.NewScatter(pts[len(pts)-1:])
		if err != nil {
			return err
		}
		end.GlyphStyle = stoppedEndGlyph(col)
		p.Add(line, end)
	}
	return nil
}

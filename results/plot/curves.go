package plot

import (
	"context"
	"fmt"
	"math"
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
	req := results.QueryRequest{Sweep: r.Sweep, GroupBy: []string{results.GroupNone}, Metrics: []string{r.Metric + "@*"},
		Aggs: []string{"n", "mean", "sd", "ci95"}, Where: r.Where}
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
	p := newPlot(defaultTitle(r, Label(r.Metric)+" during training", bandText(r.Band)+" over tasks"),
		orDefault(r.XLabel, "epoch"), orDefault(r.YLabel, Label(r.Metric)))
	var legend []legendItem
	num := func(v results.Value) float64 {
		if v.Kind == results.KindNumber {
			return v.Num
		}
		return math.NaN()
	}
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
	fig := newFigure(p)
	fig.Notes = tab.Notes
	if boundY(p, r.Metric) {
		fig.Notes = append(fig.Notes, clipNote(r.Metric))
	}
	if len(r.Series) > 0 {
		fig.setLegend(seriesTitle(r.Series), legend)
	}
	return fig, nil
}

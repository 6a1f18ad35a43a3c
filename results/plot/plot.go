package plot

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sgsweep/sgsweep/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Plot kinds.
const (
	KindLine    = "line"    // metric vs one parameter, one series per value of another
	KindHeatmap = "heatmap" // metric over two parameters
	KindCurves  = "curves"  // learning curves over epochs, one series per value of a parameter
	KindBars    = "bars"    // conditions side by side
)

// Bands: what the shaded band (or the error bars) around a mean shows.
const (
	BandCI   = "ci"   // the 95% confidence interval of the mean (Student t)
	BandSD   = "sd"   // ± one standard deviation
	BandNone = "none" // the mean only
)

// Cell reductions: how a point or cell summarises the tasks it covers.
const (
	// CellMean is the mean over every task of the point: over the seeds,
	// and pooled over any other parameter that varies (the figure's notes
	// name them).
	CellMean = "mean"
	// CellBest is the best grid cell among those the point covers: the
	// cells are the combinations of every other varying parameter
	// (learning rate, say), each averaged over its seeds; the point shows
	// the best cell's mean and interval.
	CellBest = "best"
)

// Request asks for a figure of one sweep. The zero value of each field
// but Sweep, Kind and the parameters a kind needs means its default.
type Request struct {
	Sweep string
	// Kind is KindLine, KindHeatmap, KindCurves or KindBars.
	Kind string
	// Metric is the metric shown: default test_acc (val_acc for curves,
	// where it names the curve).
	Metric string
	// X is the parameter on the x axis (line, heatmap); Y the one on the y
	// axis (heatmap). A line plot's X may also be a metric: every grid cell
	// is then a point at its means of both metrics (test accuracy vs
	// spikes, as in the paper's Figs. 6–7).
	X, Y string
	// Series, if set, draws one series per combination of values of these
	// parameters (line, curves), labelled with the values joined by "/".
	Series []string
	// Conditions are the parameters whose combinations make the bars
	// (bars).
	Conditions []string
	// Where holds filter clauses (see Filter).
	Where []string
	// Epoch, if positive, makes a bare curve metric mean its value after
	// that epoch.
	Epoch int
	// Band is BandCI (default), BandSD or BandNone (line, curves).
	Band string
	// ErrorBars draws error bars instead of a shaded band (line).
	ErrorBars bool
	// Cell is CellMean (default) or CellBest (line, heatmap).
	Cell string
	// Best, if positive, makes each point (line) or bar (bars) the mean of
	// the Best best grid cells it covers, with their sd or 95% CI (cells:
	// the combinations of every other varying parameter, each averaged over
	// its seeds; a bar's points are the cells), as in Zenke & Vogels (2021)
	// Fig. 5c–f; otherwise a bar is the mean ± sd of its tasks and the
	// points are the tasks. Best 1 is Cell best.
	Best int
	// Labels renames conditions (bars) or series values: "from=to", where
	// from is a condition's or series' values joined with "/"
	// (superspike/detached).
	Labels []string
	// LogX is "auto" (default: log when the positive x span two decades
	// or more; x ≤ 0 are then left out, with a note), "on" or "off" (line).
	LogX string
	// Include lists outcomes left out of the means by default that they
	// should count (results.QueryRequest.Include): stopped. Stopped tasks
	// are marked either way (see Figure).
	Include []string
	// Title, XLabel and YLabel replace the readable defaults.
	Title, XLabel, YLabel string
}

// bestCells is how many best cells a point shows: Best, or 1 for
// CellBest, 0 for the mean over tasks.
func (r *Request) bestCells() int {
	if r.Best > 0 {
		return r.Best
	}
	if r.Cell == CellBest {
		return 1
	}
	return 0
}

// Querier runs a query: RunQuery on a store, or the coordinator's results
// endpoint. Figures are built from query tables only, so that plotting
// works the same through the coordinator and on a read-only store.
type Querier func(ctx context.Context, req results.QueryRequest) (*results.Table, error)

// SourceQuerier returns the Querier that runs RunQuery on src.
func SourceQuerier(src results.RecordSource) Querier {
	return func(ctx context.Context, req results.QueryRequest) (*results.Table, error) {
		return results.RunQuery(ctx, src, req)
	}
}

// Figure is a rendered-on-demand plot: a main panel and, on its right, a
// legend or a colour bar.
type Figure struct {
	// Width and Height are the figure's size; DPI the PNG resolution.
	Width, Height vg.Length
	DPI           int
	// Notes say what was pooled, dropped or incomplete.
	Notes []string

	main *plot.Plot
	// legend, if it has entries, is drawn right of the main panel.
	legend    *plot.Legend
	hasLegend bool
	// colorBar, if set, is drawn right of the main panel, aligned with its
	// data area.
	colorBar *plot.Plot
	// sideWidth is the width of the right panel.
	sideWidth vg.Length
}

// Default figure size and resolution.
const (
	DefaultWidth  = 16 * vg.Centimeter
	DefaultHeight = 10 * vg.Centimeter
	DefaultDPI    = 150
)

// Make queries the data a figure needs and builds it.
func Make(ctx context.Context, q Querier, req Request) (*Figure, error) {
	if err := req.normalize(); err != nil {
		return nil, err
	}
	var fig *Figure
	var err error
	switch req.Kind {
	case KindLine:
		fig, err = linePlot(ctx, q, &req)
	case KindHeatmap:
		fig, err = heatmapPlot(ctx, q, &req)
	case KindCurves:
		fig, err = curvesPlot(ctx, q, &req)
	case KindBars:
		fig, err = barsPlot(ctx, q, &req)
	}
	if err != nil {
		return nil, fmt.Errorf("plot %s: %w", req.Kind, err)
	}
	return fig, nil
}

// Validate checks the request without reading any data: the kind and the
// fields it needs, the names of parameters and metrics, the filter.
func (r *Request) Validate() error {
	c := *r
	c.Conditions = slices.Clone(r.Conditions)
	c.Series = slices.Clone(r.Series)
	if err := c.normalize(); err != nil {
		return err
	}
	if c.Kind != KindCurves {
		if _, err := results.LookupField(c.Metric, c.Epoch); err != nil {
			return fmt.Errorf("metric: %w", err)
		}
	}
	x := c.X
	if f, err := results.LookupField(x, c.Epoch); err == nil && f.Metric && c.Kind == KindLine {
		x = "" // a line over a metric: one point per grid cell
	}
	keys := append(append([]string{x, c.Y}, c.Series...), c.Conditions...)
	if err := results.CheckGroupBy(slices.DeleteFunc(keys, func(k string) bool { return k == "" })); err != nil {
		return err
	}
	_, err := results.ParseFilter(c.Where, c.Epoch)
	return err
}

// normalize fills defaults and checks the fields the kind needs.
func (r *Request) normalize() error {
	if strings.TrimSpace(r.Sweep) == "" {
		return errors.New("sweep: missing name")
	}
	kinds := []string{KindLine, KindHeatmap, KindCurves, KindBars}
	if !slices.Contains(kinds, r.Kind) {
		return fmt.Errorf("kind: %q is not one of %s", r.Kind, strings.Join(kinds, ", "))
	}
	if r.Metric == "" {
		r.Metric = "test_acc"
		if r.Kind == KindCurves {
			r.Metric = "val_acc"
		}
	}
	if r.Band == "" {
		r.Band = BandCI
	}
	if !slices.Contains([]string{BandCI, BandSD, BandNone}, r.Band) {
		return fmt.Errorf("band: %q is not one of %s, %s, %s", r.Band, BandCI, BandSD, BandNone)
	}
	if r.Cell == "" {
		r.Cell = CellMean
	}
	if r.Cell != CellMean && r.Cell != CellBest {
		return fmt.Errorf("cell: %q is not one of %s, %s", r.Cell, CellMean, CellBest)
	}
	if r.LogX == "" {
		r.LogX = "auto"
	}
	if !slices.Contains([]string{"auto", "on", "off"}, r.LogX) {
		return fmt.Errorf("log-x: %q is not one of auto, on, off", r.LogX)
	}
	if err := results.CheckInclude(r.Include); err != nil {
		return err
	}
	if r.Best < 0 {
		return fmt.Errorf("best: must be ≥ 0, got %d", r.Best)
	}
	need := func(field, value string) error {
		if value == "" {
			return fmt.Errorf("%s: a %s plot needs it", field, r.Kind)
		}
		return nil
	}
	switch r.Kind {
	case KindLine:
		return need("x", r.X)
	case KindHeatmap:
		if err := need("x", r.X); err != nil {
			return err
		}
		return need("y", r.Y)
	case KindBars:
		if len(r.Conditions) == 0 {
			return errors.New("conditions: a bars plot needs at least one parameter")
		}
	case KindCurves:
		if strings.Contains(r.Metric, "@") || !slices.Contains(results.Curves, r.Metric) {
			return fmt.Errorf("metric: a curves plot needs a curve (%s), got %q", strings.Join(results.Curves, ", "), r.Metric)
		}
	}
	return nil
}

// Save writes the figure to path, as PNG or SVG by its extension.
func (f *Figure) Save(path string) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return fmt.Errorf("%s: the file name must end in .png or .svg", path)
	}
	file, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.Write(file, format); err != nil {
		file.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return file.Close()
}

// Write renders the figure as "png" or "svg".
func (f *Figure) Write(w io.Writer, format string) error {
	var c vg.CanvasWriterTo
	switch format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(f.DPI),
			vgimg.UseBackgroundColor(color.White))}
	case "svg":
		s := vgsvg.New(f.Width, f.Height)
		c = s
		// SVG canvases are transparent; paint the page white.
		var bg vg.Path
		bg.Move(vg.Point{})
		bg.Line(vg.Point{X: f.Width})
		bg.Line(vg.Point{X: f.Width, Y: f.Height})
		bg.Line(vg.Point{Y: f.Height})
		bg.Close()
		s.SetColor(color.White)
		s.Fill(bg)
	default:
		return fmt.Errorf("format: %q is not one of png, svg", format)
	}
	f.draw(draw.New(c))
	_, err := c.WriteTo(w)
	return err
}

// draw lays the panels out on the canvas.
func (f *Figure) draw(dc draw.Canvas) {
	if f.sideWidth == 0 {
		f.main.Draw(dc)
		return
	}
	w := dc.Max.X - dc.Min.X
	mainC := draw.Crop(dc, 0, -f.sideWidth, 0, 0)
	f.main.Draw(mainC)
	side := draw.Crop(dc, w-f.sideWidth, 0, 0, 0)
	data := f.main.DataCanvas(mainC)
	switch {
	case f.colorBar != nil:
		side.Min.Y, side.Max.Y = data.Min.Y, data.Max.Y
		f.colorBar.Draw(side)
	case f.hasLegend:
		side.Max.Y = data.Max.Y
		side = draw.Crop(side, vg.Points(6), 0, 0, 0)
		f.legend.Draw(side)
	}
}

// newFigure returns a figure with the default size around a main plot.
func newFigure(main *plot.Plot) *Figure {
	return &Figure{Width: DefaultWidth, Height: DefaultHeight, DPI: DefaultDPI, main: main}
}

// setLegend puts a legend with a title line in the right panel.
func (f *Figure) setLegend(title string, entries []legendItem) {
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.TextStyle.Font.Variant = fontVariant
	l.TextStyle.Font.Size = vg.Points(9)
	l.Padding = vg.Points(2)
	width := vg.Length(0)
	add := func(text string, thumbs ...plot.Thumbnailer) {
		l.Add(text, thumbs...)
		width = max(width, l.ThumbnailWidth+l.TextStyle.Rectangle(" "+text).Max.X)
	}
	if title != "" {
		add(title)
	}
	for _, e := range entries {
		add(e.text, e.thumbs...)
	}
	f.legend = &l
	f.hasLegend = len(entries) > 0
	if f.hasLegend {
		f.sideWidth = min(width+vg.Points(10), f.Width/3)
	}
}

// legendItem is one legend entry.
type legendItem struct {
	text   string
	thumbs []plot.Thumbnailer
}

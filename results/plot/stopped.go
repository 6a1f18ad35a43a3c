package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"github.com/sgsweep/sgsweep/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Stopped tasks (runs ended early by the sweep's stopping rules) are left
// out of every mean unless Request.Include names them; either way a figure
// marks what they touch: hollow markers (line), a ring in the cell
// (heatmap), hollow bars (bars), and for curves each stopped run drawn
// thin and dashed up to the epoch it stopped at, with a cross there. The
// title's second line says how many there are and how they count.

// stoppedMark is the colour of the marks of stopped tasks that carry no
// series colour (heat-map rings, legend entries).
var stoppedMark = color.RGBA{0x22, 0x22, 0x22, 0xFF}

// includesStopped reports whether the request puts stopped tasks in.
func (r *Request) includesStopped() bool {
	return slices.Contains(r.Include, results.IncludeStopped)
}

// captionStopped adds the title's line on stopped tasks, unless there
// are none or the title is the user's: how many, how they count, how the
// figure marks them, and how many points (of the noun's kind) it could
// not draw because they hold nothing but stopped tasks (st.bare). The
// query's notes say it too.
func captionStopped(p *plot.Plot, r *Request, st stopTally, mark, noun string) {
	n, bare := st.total, len(st.bare)
	if n == 0 || r.Title != "" {
		return
	}
	how := "left out of the means"
	if r.includesStopped() {
		how = "in the means at their last value"
	}
	p.Title.Text += fmt.Sprintf("\n%s %s (%s)", plural(n, "stopped task"), how, mark)
	if bare > 0 {
		p.Title.Text += fmt.Sprintf("; %s with only stopped tasks not drawn", plural(bare, noun))
	}
}

// stopTally counts what a figure's query says of stopped tasks.
type stopTally struct {
	// total counts the stopped tasks of every row of the query.
	total int
	// bare holds a point (keys and stopped count, no value) for each key
	// combination that has no value but stopped tasks and is not drawn: a
	// combination the figure cannot draw as a point because its stopped
	// tasks are left out of the means.
	bare []point
}

// tallyStopped counts the stopped tasks of tab, a query table with the
// given key columns and metric, and finds the combinations without a
// value but with stopped tasks that are not among the drawn points.
func tallyStopped(tab *results.Table, keys []string, metric string, drawn []point) stopTally {
	var st stopTally
	n, stopped := tab.ColumnIndex(metric+".n"), tab.ColumnIndex("stopped")
	if n < 0 || stopped < 0 {
		return st
	}
	keyCols := make([]int, len(keys))
	for i, k := range keys {
		keyCols[i] = tab.ColumnIndex(k)
	}
	for _, row := range tab.Rows {
		st.total += int(row[stopped].Num)
		if row[n].Num > 0 || row[stopped].Num == 0 {
			continue
		}
		p := point{mean: math.NaN(), stopped: int(row[stopped].Num)}
		for _, c := range keyCols {
			p.key = append(p.key, row[c])
		}
		same := func(o point) bool { return slices.EqualFunc(o.key, p.key, results.Value.Equal) }
		if i := slices.IndexFunc(st.bare, same); i >= 0 {
			st.bare[i].stopped += p.stopped
		} else if !slices.ContainsFunc(drawn, same) {
			st.bare = append(st.bare, p)
		}
	}
	return st
}

// hollowGlyph is the marker of a point with stopped tasks: a ring in the
// series colour, where other points are filled.
func hollowGlyph(col color.RGBA) draw.GlyphStyle {
	return draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: draw.RingGlyph{}}
}

// stoppedEndGlyph marks the epoch at which a stopped run ended.
func stoppedEndGlyph(col color.RGBA) draw.GlyphStyle {
	return draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: draw.CrossGlyph{}}
}

// stoppedRunLine is the line style of a stopped run's own curve.
func stoppedRunLine(col color.RGBA) draw.LineStyle {
	return draw.LineStyle{Color: col, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
}

// glyphThumb draws a legend thumbnail: one glyph.
type glyphThumb struct{ style draw.GlyphStyle }

func (t glyphThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyph(t.style, c.Center()) }

// runThumb draws a legend thumbnail: a stopped run, dashed, ending in a
// cross.
type runThumb struct{ color color.RGBA }

func (t runThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(stoppedRunLine(t.color), c.Min.X, y, c.Max.X, y)
	g := stoppedEndGlyph(t.color)
	c.DrawGlyph(g, vg.Point{X: c.Max.X - g.Radius, Y: y})
}

// stoppedLegend is the legend entry of the figure's stopped marks.
func stoppedLegend(text string, thumb plot.Thumbnailer) legendItem {
	return legendItem{text: text, thumbs: []plot.Thumbnailer{thumb}}
}

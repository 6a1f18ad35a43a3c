package plot

import (
	"image/color"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/sgsweep/sgsweep/results"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// seriesColors is the Okabe–Ito palette (distinguishable with the common
// colour-vision deficiencies), ordered for contrast on white; yellow last.
var seriesColors = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
}

// seriesStyle returns the colour of series i and, past the palette, a dash
// pattern that tells the repeated colours apart.
func seriesStyle(i int) (color.RGBA, []vg.Length) {
	c := seriesColors[i%len(seriesColors)]
	if i < len(seriesColors) {
		return c, nil
	}
	return c, []vg.Length{vg.Points(4), vg.Points(2 + float64(i/len(seriesColors)))}
}

// faded returns c with the given opacity, premultiplied as image/color
// expects.
func faded(c color.RGBA, alpha float64) color.RGBA {
	a := uint8(math.Round(255 * alpha))
	mul := func(v uint8) uint8 { return uint8(math.Round(float64(v) * alpha)) }
	return color.RGBA{mul(c.R), mul(c.G), mul(c.B), a}
}

// heatColors is a sequential map with luminance rising with the value
// (control points of matplotlib's viridis): dark is low, bright is high.
var heatColors = sync.OnceValue(func() palette.ColorMap {
	cm, err := moreland.NewLuminance([]color.Color{
		color.RGBA{0x44, 0x01, 0x54, 0xFF},
		color.RGBA{0x3B, 0x52, 0x8B, 0xFF},
		color.RGBA{0x21, 0x91, 0x8C, 0xFF},
		color.RGBA{0x5E, 0xC9, 0x62, 0xFF},
		color.RGBA{0xFD, 0xE7, 0x25, 0xFF},
	})
	if err != nil {
		panic("results: heat map colours: " + err.Error())
	}
	return cm
})

// heatPaletteSize is the number of colours a heat map uses.
const heatPaletteSize = 256

// nanColor fills heat-map cells without data.
var nanColor = color.RGBA{0xDD, 0xDD, 0xDD, 0xFF}

// useLogX decides the x scale: "on", "off", or "auto" = log when the
// positive x span two decades or more (x ≤ 0, such as a β = 0 control, are
// then left out of the plot, and its notes say so).
func useLogX(mode string, xs []float64) bool {
	switch mode {
	case "on":
		return true
	case "off":
		return false
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if x > 0 {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	return hi/lo >= 100
}

// fontVariant is the typeface variant of every text: Liberation Sans.
const fontVariant = "Sans"

// styleText sets the house style on a plot's texts: sans-serif, 11 pt
// title, 10 pt labels, 9 pt ticks and legend.
func styleText(p *plot.Plot) {
	p.Title.TextStyle.Font.Variant = fontVariant
	p.Title.TextStyle.Font.Size = vg.Points(11)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Variant = fontVariant
		a.Label.TextStyle.Font.Size = vg.Points(10)
		a.Tick.Label.Font.Variant = fontVariant
		a.Tick.Label.Font.Size = vg.Points(9)
	}
	p.Legend.TextStyle.Font.Variant = fontVariant
	p.Legend.TextStyle.Font.Size = vg.Points(9)
}

// newPlot returns a plot with the house style: light grid, readable
// labels, sans-serif text.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	styleText(p)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xE4}
	g.Horizontal.Color = color.Gray{0xE4}
	p.Add(g)
	return p
}

// categoryTicks labels integer positions 0, 1, … with names.
func categoryTicks(names []string) plot.ConstantTicks {
	ticks := make(plot.ConstantTicks, len(names))
	for i, n := range names {
		ticks[i] = plot.Tick{Value: float64(i), Label: n}
	}
	return ticks
}

// tickText renders a parameter value for a tick or legend: numbers with up
// to 4 significant digits.
func tickText(v results.Value) string {
	if v.Kind == results.KindNumber {
		return strconv.FormatFloat(v.Num, 'g', 4, 64)
	}
	if v.Kind == results.KindNone {
		return "–"
	}
	return v.Text
}

// lineThumb draws a legend thumbnail: a line in a colour, with a point in
// its middle if point is set (for series drawn with points).
type lineThumb struct {
	color color.RGBA
	dash  []vg.Length
	point bool
}

func (t lineThumb) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(draw.LineStyle{Color: t.color, Width: vg.Points(1.5), Dashes: t.dash}, c.Min.X, y, c.Max.X, y)
	if t.point {
		c.DrawGlyph(draw.GlyphStyle{Color: t.color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}},
			vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: y})
	}
}

// boxThumb draws a legend thumbnail: a filled square.
type boxThumb struct{ color color.RGBA }

func (t boxThumb) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(t.color, c.ClipPolygonXY([]vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y},
	}))
}

// unitInterval reports whether a metric lies in [0, 1]: accuracies and
// fractions.
func unitInterval(metric string) bool {
	base, _, _ := strings.Cut(metric, "@")
	switch base {
	case "test_acc", "test_acc_last", "best_val_acc", "val_acc", "train_acc", "silent", results.MetricDiverged:
		return true
	}
	return false
}

// boundY keeps the y axis of a [0, 1] metric inside [0, 1], so that wide
// intervals (few seeds) do not squash the means; the bands and bars are
// clipped at the axis. It reports whether anything was clipped.
func boundY(p *plot.Plot, metric string) bool {
	if !unitInterval(metric) {
		return false
	}
	clipped := p.Y.Min < 0 || p.Y.Max > 1
	p.Y.Min, p.Y.Max = max(p.Y.Min, 0), min(p.Y.Max, 1)
	return clipped
}

// clipNote is the note for a clipped axis.
func clipNote(metric string) string {
	return "intervals clipped at the axis: " + metric + " lies in [0, 1]"
}

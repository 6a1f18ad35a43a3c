package dashboard

import (
	"math"
	"strconv"
	"strings"

	"github.com/sgsweep/sgsweep/sim"
)

// curve is one learning curve of a task, drawn as an inline SVG polyline
// (the task page; figures of many tasks come from results/plot).
type curve struct {
	Name     string
	Points   string // SVG polyline points in a 300×100 box
	Min, Max float64
	Last     float64
	N        int
}

// curvesOf draws a finished task's curves.
func curvesOf(epochs []sim.Epoch) []curve {
	pick := func(f func(sim.Epoch) float64) []float64 {
		out := make([]float64, len(epochs))
		for i, e := range epochs {
			out[i] = f(e)
		}
		return out
	}
	return []curve{
		newCurve("val_acc", pick(func(e sim.Epoch) float64 { return e.ValAcc })),
		newCurve("train_acc", pick(func(e sim.Epoch) float64 { return e.TrainAcc })),
		newCurve("train_loss", pick(func(e sim.Epoch) float64 { return e.TrainLoss })),
	}
}

// newCurve scales ys into the box; non-finite values are left out.
func newCurve(name string, ys []float64) curve {
	c := curve{Name: name, N: len(ys), Min: math.Inf(1), Max: math.Inf(-1)}
	for _, y := range ys {
		if !math.IsNaN(y) && !math.IsInf(y, 0) {
			c.Min, c.Max = min(c.Min, y), max(c.Max, y)
		}
	}
	if len(ys) == 0 || c.Min > c.Max {
		c.Min, c.Max = 0, 0
		return c
	}
	c.Last = ys[len(ys)-1]
	span := c.Max - c.Min
	if span == 0 {
		span = 1
	}
	var b strings.Builder
	for i, y := range ys {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		x := 150.0
		if len(ys) > 1 {
			x = 5 + 290*float64(i)/float64(len(ys)-1)
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(95-90*(y-c.Min)/span, 'f', 1, 64))
		b.WriteByte(' ')
	}
	c.Points = strings.TrimSpace(b.String())
	return c
}

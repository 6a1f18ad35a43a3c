package results

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// point is one aggregated point of a figure: the values of its keys and
// the statistics of its metric.
type point struct {
	key    []Value
	n      int
	mean   float64
	sd     float64
	lo, hi float64 // the 95% confidence interval of the mean
	values []float64
	// cells are the sub-cells' means a best-of reduction chose from
	// (bars with Best); nil otherwise.
	cells []float64
}

// bandOf returns the band around p's mean that the request asks for; NaN
// bounds (n = 1) collapse onto the mean.
func bandOf(p *point, band string) (lo, hi float64) {
	switch band {
	case BandCI:
		lo, hi = p.lo, p.hi
	case BandSD:
		lo, hi = p.mean-p.sd, p.mean+p.sd
	default:
		return p.mean, p.mean
	}
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return p.mean, p.mean
	}
	return lo, hi
}

// bandText describes a band for titles.
func bandText(band string) string {
	switch band {
	case BandCI:
		return "mean ± 95% CI"
	case BandSD:
		return "mean ± sd"
	}
	return "mean"
}

// queryPoints runs the query a figure needs: grouped by keys (and by every
// other varying parameter when best, to pick the best cell per key), the
// metric's n, mean, sd, CI (and values). It returns one point per
// combination of the keys, in grid order, and the query's notes.
func queryPoints(ctx context.Context, q Querier, r *PlotRequest, keys []string, metric string, best, values bool) ([]point, []string, error) {
	f, err := resolveField(metric, r.Epoch, false)
	if err != nil {
		return nil, nil, fmt.Errorf("metric: %w", err)
	}
	req := QueryRequest{Sweep: r.Sweep, GroupBy: slices.Clone(keys), Metrics: []string{f.name},
		Aggs: []string{"n", "mean", "sd", "ci95"}, Where: r.Where, Epoch: r.Epoch}
	if best {
		req.GroupBy = append(req.GroupBy, GroupVarying)
	}
	if values {
		req.Aggs = append(req.Aggs, "values")
	}
	if len(req.GroupBy) == 0 {
		req.GroupBy = []string{GroupNone}
	}
	tab, err := q(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	cols := map[string]int{}
	for _, a := range []string{"n", "mean", "sd", "ci95_lo", "ci95_hi", "values"} {
		cols[a] = tab.ColumnIndex(f.name + "." + a)
	}
	keyCols := make([]int, len(keys))
	for i, k := range keys {
		if keyCols[i] = tab.ColumnIndex(k); keyCols[i] < 0 {
			return nil, nil, fmt.Errorf("query result lacks the key column %s", k)
		}
	}
	num := func(row []Value, col string) float64 {
		if c := cols[col]; c >= 0 && row[c].Kind == KindNumber {
			return row[c].Num
		}
		return math.NaN()
	}
	var pts []point
	index := map[string]int{}
	lowerBetter := f.lowerIsBetter()
	for _, row := range tab.Rows {
		p := point{n: int(num(row, "n")), mean: num(row, "mean"), sd: num(row, "sd"),
			lo: num(row, "ci95_lo"), hi: num(row, "ci95_hi")}
		if p.n == 0 {
			continue
		}
		var kb []byte
		for _, c := range keyCols {
			p.key = append(p.key, row[c])
			kb = appendKey(kb, row[c])
		}
		if c := cols["values"]; c >= 0 && row[c].Kind == KindList {
			if err := json.Unmarshal([]byte(row[c].Text), &p.values); err != nil {
				return nil, nil, fmt.Errorf("values of %s: %w", tab.KeyText(0), err)
			}
		}
		i, seen := index[string(kb)]
		switch {
		case !seen:
			index[string(kb)] = len(pts)
			pts = append(pts, p)
		case (lowerBetter && p.mean < pts[i].mean) || (!lowerBetter && p.mean > pts[i].mean):
			pts[i] = p
		}
	}
	if len(pts) == 0 {
		return nil, tab.Notes, fmt.Errorf("no %s values to plot (%s)", f.name, strings.Join(tab.Notes, "; "))
	}
	return pts, tab.Notes, nil
}

// distinctKeys returns the distinct values of key k across the points:
// numbers in ascending order, anything else in order of first appearance.
func distinctKeys(pts []point, k int) []Value {
	var vals []Value
	for _, p := range pts {
		if !slices.ContainsFunc(vals, func(v Value) bool { return v.Equal(p.key[k]) }) {
			vals = append(vals, p.key[k])
		}
	}
	numeric := !slices.ContainsFunc(vals, func(v Value) bool { return v.Kind != KindNumber })
	if numeric {
		slices.SortFunc(vals, Compare)
	}
	return vals
}

// renamer applies "from=to" labels.
type renamer map[string]string

func newRenamer(labels []string) (renamer, error) {
	r := renamer{}
	for _, l := range labels {
		from, to, ok := strings.Cut(l, "=")
		if !ok || from == "" {
			return nil, fmt.Errorf("label %q: want from=to", l)
		}
		r[strings.TrimSpace(from)] = strings.TrimSpace(to)
	}
	return r, nil
}

func (r renamer) apply(s string) string {
	if t, ok := r[s]; ok {
		return t
	}
	return s
}

// defaultTitle is "<y> vs <x>" plus what the points show.
func defaultTitle(r *PlotRequest, main, detail string) string {
	if r.Title != "" {
		return r.Title
	}
	return main + "\n" + detail + " · sweep " + r.Sweep
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

package plot

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sgsweep/sgsweep/results"
)

// point is one aggregated point of a figure: the values of its keys and
// the statistics of its metric.
type point struct {
	key    []results.Value
	n      int
	mean   float64
	sd     float64
	lo, hi float64 // the 95% confidence interval of the mean
	values []float64
	// stopped counts the point's stopped tasks (of its best cells, for a
	// point of best cells).
	stopped int
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

// queryPoints runs the query a figure needs and returns one point per
// combination of the keys, in grid order, with the query's notes. best
// chooses what a point is:
//
//	0      the metric over every task of the combination (n, mean, sd, CI);
//	1      the best grid cell of the combination (cells: every other
//	       varying parameter but the seeds) with that cell's statistics
//	       over its seeds;
//	K > 1  the K best cells: the statistics of their means, which are the
//	       point's values.
//
// values asks for the individual task values (best ≤ 1). st counts the
// stopped tasks of the query.
func queryPoints(ctx context.Context, q Querier, r *Request, keys []string, metric string, best int, values bool) (pts []point, st stopTally, notes []string, err error) {
	f, err := results.LookupField(metric, r.Epoch)
	if err != nil {
		return nil, st, nil, fmt.Errorf("metric: %w", err)
	}
	req := r.query(slices.Clone(keys), f.Name)
	if best > 0 {
		req.GroupBy = append(req.GroupBy, results.GroupVarying)
	}
	if values && best <= 1 {
		req.Aggs = append(req.Aggs, "values")
	}
	if len(req.GroupBy) == 0 {
		req.GroupBy = []string{results.GroupNone}
	}
	tab, err := q(ctx, req)
	if err != nil {
		return nil, st, nil, err
	}
	cells, _, err := tablePoints(tab, keys, f.Name)
	if err != nil {
		return nil, st, nil, err
	}
	if len(cells) == 0 {
		return nil, st, tab.Notes, fmt.Errorf("no %s values to plot (%s)", f.Name, strings.Join(tab.Notes, "; "))
	}
	st = tallyStopped(tab, keys, f.Name, cells)
	if best == 0 {
		return cells, st, tab.Notes, nil
	}
	// Collect the cells of each key combination, best first.
	var members [][]point
	for _, c := range cells {
		i := slices.IndexFunc(pts, func(p point) bool { return slices.EqualFunc(p.key, c.key, results.Value.Equal) })
		if i < 0 {
			i = len(pts)
			pts = append(pts, point{key: c.key})
			members = append(members, nil)
		}
		members[i] = append(members[i], c)
	}
	notes = tab.Notes
	for i := range pts {
		m := members[i]
		slices.SortStableFunc(m, func(a, b point) int {
			if f.LowerIsBetter {
				return cmp.Compare(a.mean, b.mean)
			}
			return cmp.Compare(b.mean, a.mean)
		})
		if best == 1 {
			pts[i] = m[0]
			continue
		}
		stopped := 0
		for _, c := range m[:min(best, len(m))] {
			stopped += c.stopped
		}
		if len(m) < best {
			notes = append(notes, fmt.Sprintf("%s has only %d cells, fewer than --best %d", joinValues(pts[i].key), len(m), best))
		}
		m = m[:min(best, len(m))]
		means := make([]float64, len(m))
		for j := range m {
			means[j] = m[j].mean
		}
		s := results.Summarize(means)
		pts[i] = point{key: pts[i].key, n: s.N, mean: s.Mean, sd: s.SD, lo: s.CILo, hi: s.CIHi, values: means, stopped: stopped}
	}
	return pts, st, notes, nil
}

// query is the query of a figure's points: n, mean, sd, CI and the
// stopped count of the metric per group of keys, under the request's
// filter, epoch and inclusions.
func (r *Request) query(keys []string, metrics ...string) results.QueryRequest {
	return results.QueryRequest{Sweep: r.Sweep, GroupBy: keys, Metrics: metrics,
		Aggs: []string{"n", "mean", "sd", "ci95", "stopped"}, Where: r.Where, Epoch: r.Epoch, Include: r.Include}
}

// tablePoints reads one point per row of a query table with the given key
// columns and metric: rows without a value are skipped. rows holds the
// table row of each point.
func tablePoints(tab *results.Table, keys []string, metric string) (pts []point, rows []int, err error) {
	cols := map[string]int{}
	for _, a := range []string{"n", "mean", "sd", "ci95_lo", "ci95_hi", "values"} {
		cols[a] = tab.ColumnIndex(metric + "." + a)
	}
	keyCols := make([]int, len(keys))
	for i, k := range keys {
		if keyCols[i] = tab.ColumnIndex(k); keyCols[i] < 0 {
			return nil, nil, fmt.Errorf("query result lacks the key column %s", k)
		}
	}
	stoppedCol := tab.ColumnIndex("stopped")
	num := func(row []results.Value, col string) float64 {
		if c := cols[col]; c >= 0 && row[c].Kind == results.KindNumber {
			return row[c].Num
		}
		return math.NaN()
	}
	for r, row := range tab.Rows {
		p := point{n: int(num(row, "n")), mean: num(row, "mean"), sd: num(row, "sd"),
			lo: num(row, "ci95_lo"), hi: num(row, "ci95_hi")}
		if p.n == 0 || math.IsNaN(p.mean) {
			continue
		}
		if stoppedCol >= 0 && row[stoppedCol].Kind == results.KindNumber {
			p.stopped = int(row[stoppedCol].Num)
		}
		for _, c := range keyCols {
			p.key = append(p.key, row[c])
		}
		if c := cols["values"]; c >= 0 && row[c].Kind == results.KindList {
			if err := json.Unmarshal([]byte(row[c].Text), &p.values); err != nil {
				return nil, nil, fmt.Errorf("values of %s: %w", tab.KeyText(r), err)
			}
		}
		pts = append(pts, p)
		rows = append(rows, r)
	}
	return pts, rows, nil
}

// distinctKeys returns the distinct values of key k across the points:
// numbers in ascending order, anything else in order of first appearance.
func distinctKeys(pts []point, k int) []results.Value {
	var vals []results.Value
	for _, p := range pts {
		if !slices.ContainsFunc(vals, func(v results.Value) bool { return v.Equal(p.key[k]) }) {
			vals = append(vals, p.key[k])
		}
	}
	numeric := !slices.ContainsFunc(vals, func(v results.Value) bool { return v.Kind != results.KindNumber })
	if numeric {
		slices.SortFunc(vals, results.Compare)
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
func defaultTitle(r *Request, main, detail string) string {
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

package results

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// RecordSource streams the records of a sweep: every planned task, in
// ordinal order, with its state and stored result. *Store implements it on
// bbolt; RecordSlice in memory. fn must not keep the *Record after it
// returns; an error from fn stops the stream and is returned.
type RecordSource interface {
	Records(ctx context.Context, sweep string, fn func(*Record) error) error
}

// RecordSlice is an in-memory RecordSource: the records of every sweep, in
// ordinal order within each sweep.
type RecordSlice []Record

// Records calls fn for each record of the sweep, in slice order.
func (rs RecordSlice) Records(ctx context.Context, sweep string, fn func(*Record) error) error {
	for i := range rs {
		if rs[i].Sweep != sweep {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r := rs[i]
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

// Grouping keywords for QueryRequest.GroupBy.
const (
	// GroupVarying stands for every parameter except the replicate axes
	// (seed, data_seed): with it, each group is one grid cell and the
	// aggregation runs over the replicates. Parameters that are constant
	// across the sweep do not become columns.
	GroupVarying = "*"
	// GroupNone puts every task in one group.
	GroupNone = "none"
)

// Aggregates a query can ask for. The group counts are per group; the
// others per metric.
var (
	groupAggs  = []string{"expected", "done", "failed", "pending", "diverged", "stopped"}
	metricAggs = []string{"n", "mean", "sd", "sem", "ci95", "median", "min", "max", "values"}
	// DefaultAggs are the aggregates of a query that names none.
	DefaultAggs = []string{"n", "expected", "mean", "sd", "ci95"}
	// DefaultMetrics are the metrics of a query that names none.
	DefaultMetrics = []string{"test_acc"}
)

// IncludeStopped as a QueryRequest.Include item puts stopped tasks into
// the metrics at their last value (see QueryRequest.Include).
const IncludeStopped = "stopped"

// CompareBest as QueryRequest.Compare takes the best group by the first
// metric's mean as the reference.
const CompareBest = "best"

// QueryRequest asks for an aggregation of one sweep's results. The zero
// value of every field but Sweep means its default. It is JSON-serialisable:
// it travels to the coordinator's results endpoint over NATS.
type QueryRequest struct {
	Sweep string `json:"sweep"`
	// GroupBy lists the grouping keys: parameter paths (surrogate.shape,
	// network.depth), task fields (state, status, host), GroupVarying, or
	// GroupNone alone. Empty means GroupVarying. GroupVarying after explicit
	// keys adds every other non-seed parameter after them.
	GroupBy []string `json:"group_by,omitempty"`
	// Metrics lists the metrics to aggregate: final metrics (test_acc),
	// curve values at an epoch (val_acc@10), or whole curves (val_acc@*,
	// one set of columns per epoch). Empty means DefaultMetrics.
	Metrics []string `json:"metrics,omitempty"`
	// Aggs lists the aggregates: n, mean, sd, sem, ci95 (two columns,
	// ci95_lo and ci95_hi), median, min, max, values (the individual values,
	// as a list), and the group counts expected, done, failed, pending,
	// diverged, stopped; "all" is all but values. Empty means DefaultAggs.
	Aggs []string `json:"aggs,omitempty"`
	// Where holds filter clauses (see Filter), all of which must hold.
	Where []string `json:"where,omitempty"`
	// Sort names the column to sort by (a metric alone means its mean); a
	// leading "-" sorts in descending order. Empty keeps grid order. Empty
	// cells sort last either way.
	Sort string `json:"sort,omitempty"`
	// Top keeps the first Top rows after sorting; 0 keeps all.
	Top int `json:"top,omitempty"`
	// Epoch, if positive, makes bare curve names (val_acc, train_loss,
	// spikes, …) mean their value after that epoch rather than the final
	// one.
	Epoch int `json:"epoch,omitempty"`
	// Compare, if set, adds paired comparisons of every group with a
	// reference group: CompareBest, or equality clauses on the grouping
	// keys that select one group (surrogate.shape=superspike). Two tasks
	// form a pair when every parameter but the grouping keys is equal (the
	// seeds included); columns pairs, diff (group − reference), diff_ci95_lo,
	// diff_ci95_hi and p (two-sided paired t-test) per metric, empty on the
	// reference group's row. Whole curves (name@*) are not compared. A
	// stopped task enters pairs only when included (Include).
	Compare string `json:"compare,omitempty"`
	// Include lists outcomes that the metrics leave out by default and
	// should count: IncludeStopped puts each stopped task in at its last
	// value, the final metrics of its shortened run (test_acc,
	// best_val_acc, …) and, for a curve at an epoch after the one it
	// stopped at (val_acc@30, val_acc@*), its value at the last epoch
	// trained, up to its planned train.epochs. Without it stopped tasks
	// are counted (expected, stopped) but have no values.
	Include []string `json:"include,omitempty"`
}

// query is a validated QueryRequest.
type query struct {
	req      QueryRequest
	grouping grouping
	metrics  []field
	gAggs    []string // group counts, in request order
	mAggs    []string // metric aggregates, in request order
	filter   *Filter
	compare  *Filter // nil: no comparison, empty: best
	pairing  bool
	// withStopped puts stopped tasks into the metrics (IncludeStopped).
	withStopped bool
}

// Validate checks the request without reading any data.
func (r *QueryRequest) Validate() error {
	_, err := r.compile()
	return err
}

func (r *QueryRequest) compile() (*query, error) {
	if strings.TrimSpace(r.Sweep) == "" {
		return nil, errors.New("sweep: missing name")
	}
	if r.Epoch < 0 {
		return nil, fmt.Errorf("epoch: must be ≥ 0, got %d", r.Epoch)
	}
	if r.Top < 0 {
		return nil, fmt.Errorf("top: must be ≥ 0, got %d", r.Top)
	}
	q := &query{req: *r}
	var err error
	if q.grouping, err = compileGroupBy(r.GroupBy); err != nil {
		return nil, err
	}
	metrics := r.Metrics
	if len(metrics) == 0 {
		metrics = DefaultMetrics
	}
	for _, name := range metrics {
		f, err := resolveField(name, r.Epoch, true)
		var unknown *UnknownFieldError
		if errors.As(err, &unknown) {
			unknown.Want = "metric"
		}
		if err != nil {
			return nil, fmt.Errorf("metric: %w", err)
		}
		if !f.isMetric() {
			return nil, fmt.Errorf("metric: %s is a parameter, not a metric: group by it or filter on it", name)
		}
		if slices.ContainsFunc(q.metrics, func(g field) bool { return g.name == f.name }) {
			return nil, fmt.Errorf("metric: %s named twice", f.name)
		}
		q.metrics = append(q.metrics, f)
	}
	aggs := r.Aggs
	if len(aggs) == 0 {
		aggs = DefaultAggs
	}
	for _, a := range aggs {
		a = strings.TrimSpace(a)
		switch {
		case a == "all":
			q.gAggs = appendNew(q.gAggs, groupAggs...)
			q.mAggs = appendNew(q.mAggs, metricAggs[:len(metricAggs)-1]...)
		case slices.Contains(groupAggs, a):
			q.gAggs = appendNew(q.gAggs, a)
		case slices.Contains(metricAggs, a):
			q.mAggs = appendNew(q.mAggs, a)
		default:
			return nil, fmt.Errorf("agg: unknown aggregate %q; aggregates: %s, %s, all",
				a, strings.Join(metricAggs, ", "), strings.Join(groupAggs, ", "))
		}
	}
	if q.withStopped, err = compileInclude(r.Include); err != nil {
		return nil, err
	}
	if q.filter, err = ParseFilter(r.Where, r.Epoch); err != nil {
		return nil, err
	}
	if c := strings.TrimSpace(r.Compare); c != "" {
		q.pairing = true
		q.compare = &Filter{}
		if c != CompareBest {
			if q.compare, err = ParseFilter([]string{c}, r.Epoch); err != nil {
				return nil, fmt.Errorf("compare: %w", err)
			}
			for _, cl := range q.compare.clauses {
				if cl.op != "=" || cl.field.isMetric() {
					return nil, fmt.Errorf("compare %q: name the reference group with key=value clauses", c)
				}
			}
		}
	}
	return q, nil
}

// CheckInclude reports whether include is a valid QueryRequest.Include,
// with the error RunQuery would return.
func CheckInclude(include []string) error {
	_, err := compileInclude(include)
	return err
}

// compileInclude checks QueryRequest.Include and reports whether it
// includes stopped tasks.
func compileInclude(include []string) (stopped bool, err error) {
	for _, in := range include {
		switch strings.TrimSpace(in) {
		case IncludeStopped:
			stopped = true
		case "":
		default:
			return false, fmt.Errorf("include: unknown outcome %q; outcomes: %s", in, IncludeStopped)
		}
	}
	return stopped, nil
}

// appendNew appends the values not yet in s.
func appendNew(s []string, vals ...string) []string {
	for _, v := range vals {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}

// CheckGroupBy reports whether names are valid grouping keys of a query
// (QueryRequest.GroupBy), with the error RunQuery would return.
func CheckGroupBy(names []string) error {
	_, err := compileGroupBy(names)
	return err
}

// compileGroupBy resolves the grouping keys.
func compileGroupBy(names []string) (grouping, error) {
	if len(names) == 0 {
		return newGrouping(nil, true), nil
	}
	var fields []field
	implicit := false
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch n {
		case GroupVarying:
			implicit = true
			continue
		case GroupNone:
			if len(names) > 1 {
				return grouping{}, fmt.Errorf("group-by: %s cannot be combined with other keys", GroupNone)
			}
			return newGrouping(nil, false), nil
		}
		f, err := resolveField(n, 0, false)
		var unknown *UnknownFieldError
		if errors.As(err, &unknown) {
			unknown.Want = "parameter"
		}
		if err != nil {
			return grouping{}, fmt.Errorf("group-by: %w", err)
		}
		if f.isMetric() {
			return grouping{}, fmt.Errorf("group-by: %s is a metric; group by parameters or task fields", n)
		}
		if slices.ContainsFunc(fields, func(g field) bool { return g.name == f.name }) {
			return grouping{}, fmt.Errorf("group-by: %s named twice", n)
		}
		fields = append(fields, f)
	}
	return newGrouping(fields, implicit), nil
}

// RunQuery aggregates the sweep's records as the request asks. It streams
// the records once; memory grows with the number of groups and of metric
// values, not with the size of the records.
func RunQuery(ctx context.Context, src RecordSource, req QueryRequest) (*Table, error) {
	q, err := req.compile()
	if err != nil {
		return nil, err
	}
	agg := newAggregator(q.grouping, q.filter, q.metrics, q.pairing)
	if q.withStopped {
		agg.view.stopped = stoppedLast
	}
	seen := 0
	err = src.Records(ctx, req.Sweep, func(r *Record) error {
		seen++
		return agg.add(r)
	})
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", req.Sweep, err)
	}
	if seen == 0 {
		return nil, fmt.Errorf("sweep %s: no tasks", req.Sweep)
	}
	return q.table(agg, seen)
}

// table turns the aggregated groups into the result table.
func (q *query) table(agg *aggregator, seen int) (*Table, error) {
	b := tableBuilder{q: q, agg: agg}
	b.keyColumns()
	ref, err := b.reference()
	if err != nil {
		return nil, err
	}
	b.aggregateColumns(ref != nil)
	for _, g := range agg.groups {
		b.row(g, ref)
	}
	b.notes(seen, ref)
	if err := b.sortAndCut(); err != nil {
		return nil, err
	}
	return &b.t, nil
}

// tableBuilder assembles a Table from an aggregator.
type tableBuilder struct {
	q   *query
	agg *aggregator
	t   Table
	// keys are the indices into group.key shown as columns.
	keys []int
	// summaries caches each group's Summary per metric (index into
	// q.metrics), for rows and notes.
	summaries map[*group][]Summary
	// epochs is the number of epochs of each @* metric's columns.
	epochs []int
}

func (b *tableBuilder) keyColumns() {
	for i, f := range b.agg.fields {
		b.keys = append(b.keys, i)
		b.t.Columns = append(b.t.Columns, Column{Name: f.name, Key: f.name})
	}
	s := params()
	for j, p := range b.agg.implicitParams {
		k := len(b.agg.fields) + j
		if b.agg.keyVaries(k) {
			b.keys = append(b.keys, k)
			b.t.Columns = append(b.t.Columns, Column{Name: s.paths[p], Key: s.paths[p]})
		}
	}
}

// summary returns group g's Summary of metric m.
func (b *tableBuilder) summary(g *group, m int) Summary {
	if b.summaries == nil {
		b.summaries = map[*group][]Summary{}
	}
	ss, ok := b.summaries[g]
	if !ok {
		ss = make([]Summary, len(b.q.metrics))
		for i := range ss {
			ss[i] = Summarize(g.samples[i].values)
		}
		b.summaries[g] = ss
	}
	return ss[m]
}

// best returns the group with the best mean of metric m (the first on
// ties), nil when no group has a value.
func (b *tableBuilder) best(m int) *group {
	f := &b.q.metrics[m]
	var best *group
	var bestMean float64
	for _, g := range b.agg.groups {
		s := b.summary(g, m)
		if s.N == 0 {
			continue
		}
		if best == nil || (f.lowerIsBetter() && s.Mean < bestMean) || (!f.lowerIsBetter() && s.Mean > bestMean) {
			best, bestMean = g, s.Mean
		}
	}
	return best
}

// firstScalarMetric returns the index of the first metric that is not a
// whole curve, -1 if none.
func (b *tableBuilder) firstScalarMetric() int {
	return slices.IndexFunc(b.q.metrics, func(f field) bool { return f.kind != fieldCurveAll })
}

// reference resolves the comparison's reference group, nil without one.
func (b *tableBuilder) reference() (*group, error) {
	if b.q.compare == nil {
		return nil, nil
	}
	m := b.firstScalarMetric()
	if m < 0 {
		return nil, errors.New("compare: needs a metric that is not a whole curve")
	}
	if b.q.compare.Empty() {
		if g := b.best(m); g != nil {
			return g, nil
		}
		return nil, errors.New("compare best: no group has a value")
	}
	var found []*group
	for _, g := range b.agg.groups {
		ok := true
		for _, c := range b.q.compare.clauses {
			k := b.keyIndex(c.field.name)
			if k < 0 {
				return nil, fmt.Errorf("compare %q: %s is not a grouping key of this query", b.q.req.Compare, c.field.name)
			}
			if !c.holds(g.key[k]) {
				ok = false
				break
			}
		}
		if ok {
			found = append(found, g)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("compare %q: selects %d groups, want exactly one", b.q.req.Compare, len(found))
	}
	return found[0], nil
}

// keyIndex returns the index into group.key of the named key, -1 if the
// query does not group by it.
func (b *tableBuilder) keyIndex(name string) int {
	for i, f := range b.agg.fields {
		if f.name == name {
			return i
		}
	}
	s := params()
	for j, p := range b.agg.implicitParams {
		if s.paths[p] == name {
			return len(b.agg.fields) + j
		}
	}
	return -1
}

func (b *tableBuilder) aggregateColumns(compare bool) {
	for _, a := range b.q.gAggs {
		b.t.Columns = append(b.t.Columns, Column{Name: a, Agg: a})
	}
	b.epochs = make([]int, len(b.q.metrics))
	for m, f := range b.q.metrics {
		if f.kind == fieldCurveAll {
			for _, g := range b.agg.groups {
				b.epochs[m] = max(b.epochs[m], len(g.samples[m].curves))
			}
			for e := 1; e <= b.epochs[m]; e++ {
				name := f.metric + "@" + strconv.Itoa(e)
				b.metricColumns(name, e, false)
			}
			continue
		}
		b.metricColumns(f.name, f.epoch, compare)
	}
}

func (b *tableBuilder) metricColumns(metric string, epoch int, compare bool) {
	add := func(agg string) {
		b.t.Columns = append(b.t.Columns, Column{Name: metric + "." + agg, Metric: metric, Agg: agg, Epoch: epoch})
	}
	for _, a := range b.q.mAggs {
		if a == "ci95" {
			add("ci95_lo")
			add("ci95_hi")
			continue
		}
		add(a)
	}
	if compare {
		for _, a := range []string{"pairs", "diff", "diff_ci95_lo", "diff_ci95_hi", "p"} {
			add(a)
		}
	}
}

func (b *tableBuilder) row(g *group, ref *group) {
	row := make([]Value, 0, len(b.t.Columns))
	for _, k := range b.keys {
		row = append(row, g.key[k])
	}
	for _, a := range b.q.gAggs {
		c := map[string]int{"expected": g.Expected, "done": g.Done, "failed": g.Failed,
			"pending": g.Pending, "diverged": g.Diverged, "stopped": g.Stopped}[a]
		row = append(row, Number(float64(c)))
	}
	for m, f := range b.q.metrics {
		if f.kind == fieldCurveAll {
			curves := g.samples[m].curves
			for e := 0; e < b.epochs[m]; e++ {
				var vals []float64
				if e < len(curves) {
					vals = curves[e]
				}
				row = b.appendAggs(row, Summarize(vals), vals)
			}
			continue
		}
		row = b.appendAggs(row, b.summary(g, m), g.samples[m].values)
		switch {
		case ref == g:
			row = append(row, Value{}, Value{}, Value{}, Value{}, Value{})
		case ref != nil:
			p := pairedDiff(g, ref, m)
			row = append(row, Number(float64(p.N)), Number(p.Mean), Number(p.CILo), Number(p.CIHi), Number(p.P))
		}
	}
	b.t.Rows = append(b.t.Rows, row)
}

func (b *tableBuilder) appendAggs(row []Value, s Summary, vals []float64) []Value {
	for _, a := range b.q.mAggs {
		switch a {
		case "n":
			row = append(row, Number(float64(s.N)))
		case "mean":
			row = append(row, Number(s.Mean))
		case "sd":
			row = append(row, Number(s.SD))
		case "sem":
			row = append(row, Number(s.SEM))
		case "ci95":
			row = append(row, Number(s.CILo), Number(s.CIHi))
		case "median":
			row = append(row, Number(s.Median))
		case "min":
			row = append(row, Number(s.Min))
		case "max":
			row = append(row, Number(s.Max))
		case "values":
			row = append(row, listValue(vals))
		}
	}
	return row
}

// listValue renders numbers as a list Value.
func listValue(x []float64) Value {
	buf := []byte{'['}
	for i, v := range x {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONNumber(buf, v)
	}
	return Value{Kind: KindList, Text: string(append(buf, ']'))}
}

// notes says what was counted, excluded and pooled, and which group is
// best.
func (b *tableBuilder) notes(seen int, ref *group) {
	tot := b.agg.total
	add := func(format string, args ...any) { b.t.Notes = append(b.t.Notes, fmt.Sprintf(format, args...)) }
	what := "tasks:"
	if !b.q.filter.Empty() {
		what = fmt.Sprintf("of %d tasks match --where %s:", seen, b.q.filter)
	}
	if tot.Expected == 0 {
		add("no task matches --where %s", b.q.filter)
		return
	}
	done := fmt.Sprintf("%d done", tot.Done)
	if tot.Diverged > 0 {
		done += fmt.Sprintf(" (%d diverged, kept: a diverged run is an outcome)", tot.Diverged)
	}
	if tot.Stopped > 0 {
		done += fmt.Sprintf(", %d stopped", tot.Stopped)
		if b.q.withStopped {
			done += " (included at their last value)"
		} else {
			done += " (excluded from metrics; --include stopped puts in their last value)"
		}
	}
	add("%d %s %s, %d failed (excluded from metrics), %d pending", tot.Expected, what, done, tot.Failed, tot.Pending)
	m := b.firstScalarMetric()
	if m >= 0 {
		incomplete := 0
		for _, g := range b.agg.groups {
			if b.summary(g, m).N < g.Expected {
				incomplete++
			}
		}
		if incomplete > 0 {
			add("incomplete groups (%s n < expected): %d of %d", b.q.metrics[m].name, incomplete, len(b.agg.groups))
		}
	}
	for i, f := range b.q.metrics {
		nonFinite := 0
		for _, g := range b.agg.groups {
			nonFinite += g.samples[i].nonFinite
		}
		if nonFinite > 0 {
			add("%d non-finite %s values left out", nonFinite, f.name)
		}
	}
	if !b.agg.implicit {
		var pooled []string
		s := params()
		for i, p := range s.paths {
			if i == s.depth || s.isSeed(i) || b.agg.groupsParam(i) || !b.agg.pooledWithin(i) {
				continue
			}
			if n := b.agg.distinctValues(i); n > 1 {
				pooled = append(pooled, fmt.Sprintf("%s (%d values)", p, n))
			}
		}
		if len(pooled) > 0 {
			add("pooled over %s: group by them or fix them with --where", strings.Join(pooled, ", "))
		}
	}
	if m >= 0 && len(b.agg.groups) > 1 {
		if g := b.best(m); g != nil {
			s := b.summary(g, m)
			add("best %s (mean): %s: %s", b.q.metrics[m].name, b.groupText(g), FormatStat(s.Mean))
		}
	}
	if ref != nil {
		add("paired differences (group − reference) against %s; pairs share every parameter but the grouping keys", b.groupText(ref))
		if tot.Stopped > 0 && !b.q.withStopped {
			add("pairs with a stopped task are left out (--include stopped pairs them at their last value)")
		}
	}
}

// groupText renders a group's shown keys as "path=value, …".
func (b *tableBuilder) groupText(g *group) string {
	var parts []string
	for i, k := range b.keys {
		parts = append(parts, b.t.Columns[i].Name+"="+g.key[k].String())
	}
	if len(parts) == 0 {
		return "all tasks"
	}
	return strings.Join(parts, ", ")
}

// sortAndCut applies Sort and Top.
func (b *tableBuilder) sortAndCut() error {
	if s := strings.TrimSpace(b.q.req.Sort); s != "" {
		desc := strings.HasPrefix(s, "-")
		name := strings.TrimPrefix(s, "-")
		col := b.t.ColumnIndex(name)
		if col < 0 {
			col = b.t.ColumnIndex(name + ".mean")
		}
		if col < 0 {
			_, err := b.t.column(name)
			return fmt.Errorf("sort: %w", err)
		}
		slices.SortStableFunc(b.t.Rows, func(x, y []Value) int {
			a, c := x[col], y[col]
			if a.IsNone() || c.IsNone() {
				return Compare(a, c) // nothing last, in both directions
			}
			if desc {
				return Compare(c, a)
			}
			return Compare(a, c)
		})
	}
	if b.q.req.Top > 0 && len(b.t.Rows) > b.q.req.Top {
		b.t.Rows = b.t.Rows[:b.q.req.Top]
	}
	return nil
}

// FormatStat renders a statistic for people: 4 significant digits; NaN and
// ±Inf as "-".
func FormatStat(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

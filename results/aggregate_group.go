package results

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"slices"

	"github.com/sgsweep/sgsweep/protocol"
)

// counts tallies the tasks of a group by state.
type counts struct {
	// Expected is every planned task of the group that passes the filter's
	// clauses on parameters and task fields, whatever its state.
	Expected int
	// Done tasks have a result (ok or diverged), Diverged counts the
	// diverged ones among them; Failed tasks are excluded from the metrics.
	// Stopped tasks have the result of a run ended early by a stop
	// decision: they are not done, and in the metrics only when included.
	Done, Diverged, Stopped, Failed, Pending int
}

func (c *counts) add(t *taskView) {
	c.Expected++
	switch t.rec.State {
	case StateDone:
		c.Done++
		if t.status() == protocol.StatusDiverged {
			c.Diverged++
		}
	case StateStopped:
		c.Stopped++
	case StateFailed:
		c.Failed++
	default:
		c.Pending++
	}
}

// pairKey identifies the unit of a paired comparison: the hash of every
// parameter that is not a grouping key (the seeds included).
type pairKey [16]byte

// sample collects one metric's values in one group, in record order.
type sample struct {
	values []float64
	pairs  []pairKey // parallel to values, when pairing
	// curves holds, for name@* metrics, the values at each epoch (index
	// epoch−1).
	curves [][]float64
	// nonFinite counts NaN and ±Inf values, which are left out.
	nonFinite int
}

// group is one cell of the aggregation.
type group struct {
	key []Value // the explicit keys, then the implicit parameters
	counts
	samples []sample // one per metric
	// first holds the parameters of the group's first task; pooled marks
	// the parameters that take another value in a later task of the group
	// (the seeds too): what the group's statistics pool over.
	first  []Value
	pooled []bool
}

// track marks the parameters in which ps differs from the group's first
// task.
func (g *group) track(ps []Value) {
	if g.first == nil {
		g.first = slices.Clone(ps)
		g.pooled = make([]bool, len(ps))
		return
	}
	for i, v := range ps {
		if !g.pooled[i] && !v.Equal(g.first[i]) {
			g.pooled[i] = true
		}
	}
}

// grouping says how records are grouped: by explicit fields, then (implicit)
// by every other parameter except the replicate axes, so that the
// aggregation runs over seeds only.
type grouping struct {
	fields   []field
	implicit bool
	// implicitParams are the schema indices grouped implicitly.
	implicitParams []int
}

func newGrouping(fields []field, implicit bool) grouping {
	g := grouping{fields: fields, implicit: implicit}
	if implicit {
		s := params()
		for i := range s.paths {
			if s.isSeed(i) || i == s.depth || slices.ContainsFunc(fields, func(f field) bool {
				return f.kind == fieldParam && f.param == i
			}) {
				continue
			}
			g.implicitParams = append(g.implicitParams, i)
		}
	}
	return g
}

// groupsParam reports whether parameter i is a grouping key.
func (g *grouping) groupsParam(i int) bool {
	if slices.Contains(g.implicitParams, i) {
		return true
	}
	return slices.ContainsFunc(g.fields, func(f field) bool { return f.kind == fieldParam && f.param == i })
}

// variation tracks whether a parameter takes more than one value among the
// aggregated tasks, and how many (up to a cap).
type variation struct {
	first    Value
	set      bool
	distinct map[string]struct{}
}

// maxDistinct caps the distinct values variation remembers per parameter.
const maxDistinct = 1000

// aggregator streams records into groups.
type aggregator struct {
	grouping
	filter  *Filter
	metrics []field
	pairing bool

	groups []*group
	index  map[string]*group
	total  counts
	// varies tracks every parameter (for the "pooled over" note).
	varies []variation

	view   *taskView
	keyBuf []byte
	keyVal []Value
}

func newAggregator(g grouping, filter *Filter, metrics []field, pairing bool) *aggregator {
	flat := newFlattener()
	return &aggregator{
		grouping: g,
		filter:   filter,
		metrics:  metrics,
		pairing:  pairing,
		index:    map[string]*group{},
		varies:   make([]variation, len(flat.schema.paths)),
		view:     newTaskView(flat),
	}
}

// add aggregates one record.
func (a *aggregator) add(rec *Record) error {
	t := a.view
	t.reset(rec)
	ok, err := a.filter.match(t, false)
	if err != nil || !ok {
		return err
	}
	ps, err := t.paramValues()
	if err != nil {
		return err
	}
	a.trackVariation(ps)
	g, err := a.groupOf(t, ps)
	if err != nil {
		return err
	}
	g.counts.add(t)
	g.track(ps)
	a.total.add(t)
	if t.simResult() == nil {
		return nil
	}
	if ok, err := a.filter.match(t, true); err != nil || !ok {
		return err
	}
	var pk pairKey
	if a.pairing {
		pk = a.pairKeyOf(ps)
	}
	for i := range a.metrics {
		m := &a.metrics[i]
		s := &g.samples[i]
		if m.kind == fieldCurveAll {
			r := t.simResult()
			for e := 1; e <= t.lastEpoch(); e++ {
				x, ok := curveValue(r, m.metric, min(e, len(r.Epochs)))
				if !ok {
					continue
				}
				for len(s.curves) < e {
					s.curves = append(s.curves, nil)
				}
				if !isFinite(x) {
					s.nonFinite++
					continue
				}
				s.curves[e-1] = append(s.curves[e-1], x)
			}
			continue
		}
		x, ok := t.metric(m)
		if !ok {
			continue
		}
		if !isFinite(x) {
			s.nonFinite++
			continue
		}
		s.values = append(s.values, x)
		if a.pairing {
			s.pairs = append(s.pairs, pk)
		}
	}
	return nil
}

// groupOf finds or creates the task's group.
func (a *aggregator) groupOf(t *taskView, ps []Value) (*group, error) {
	a.keyVal = a.keyVal[:0]
	for i := range a.fields {
		v, err := t.value(&a.fields[i])
		if err != nil {
			return nil, err
		}
		a.keyVal = append(a.keyVal, v)
	}
	for _, i := range a.implicitParams {
		a.keyVal = append(a.keyVal, ps[i])
	}
	a.keyBuf = a.keyBuf[:0]
	for _, v := range a.keyVal {
		a.keyBuf = appendKey(a.keyBuf, v)
	}
	if g, ok := a.index[string(a.keyBuf)]; ok {
		return g, nil
	}
	g := &group{key: slices.Clone(a.keyVal), samples: make([]sample, len(a.metrics))}
	a.index[string(a.keyBuf)] = g
	a.groups = append(a.groups, g)
	return g, nil
}

// appendKey appends an unambiguous encoding of v.
func appendKey(dst []byte, v Value) []byte {
	dst = append(dst, byte(v.Kind))
	if v.Kind == KindNumber {
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Num))
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v.Text)))
	return append(dst, v.Text...)
}

// pairKeyOf hashes every parameter that is not a grouping key.
func (a *aggregator) pairKeyOf(ps []Value) pairKey {
	h := fnv.New128a()
	var buf []byte
	s := params()
	for i, v := range ps {
		if i == s.depth || a.groupsParam(i) {
			continue
		}
		buf = appendKey(buf[:0], v)
		h.Write(buf)
	}
	var k pairKey
	h.Sum(k[:0])
	return k
}

func (a *aggregator) trackVariation(ps []Value) {
	for i, v := range ps {
		vr := &a.varies[i]
		if !vr.set {
			vr.first, vr.set = v, true
			continue
		}
		if vr.distinct == nil {
			if v.Equal(vr.first) {
				continue
			}
			vr.distinct = map[string]struct{}{string(appendKey(nil, vr.first)): {}}
		}
		if len(vr.distinct) < maxDistinct {
			vr.distinct[string(appendKey(nil, v))] = struct{}{}
		}
	}
}

// distinctValues returns how many values parameter i took (1 if constant,
// 0 if no task was aggregated), capped at maxDistinct.
func (a *aggregator) distinctValues(i int) int {
	vr := &a.varies[i]
	switch {
	case !vr.set:
		return 0
	case vr.distinct == nil:
		return 1
	}
	return len(vr.distinct)
}

// pooledWithin reports whether parameter i varies inside some group.
func (a *aggregator) pooledWithin(i int) bool {
	return slices.ContainsFunc(a.groups, func(g *group) bool { return g.pooled != nil && g.pooled[i] })
}

// keyVaries reports whether the k-th key takes more than one value across
// the groups.
func (a *aggregator) keyVaries(k int) bool {
	for _, g := range a.groups[min(1, len(a.groups)):] {
		if !g.key[k].Equal(a.groups[0].key[k]) {
			return true
		}
	}
	return false
}

// pairedDiff compares group g with the reference group ref on metric m:
// the differences g − ref over the units present in both (the first value
// of a unit that appears twice in a group is used).
func pairedDiff(g, ref *group, m int) Paired {
	refByUnit := make(map[pairKey]float64, len(ref.samples[m].pairs))
	rs := &ref.samples[m]
	for i, k := range rs.pairs {
		if _, dup := refByUnit[k]; !dup {
			refByUnit[k] = rs.values[i]
		}
	}
	gs := &g.samples[m]
	var a, b []float64
	used := make(map[pairKey]bool, len(gs.pairs))
	for i, k := range gs.pairs {
		if y, ok := refByUnit[k]; ok && !used[k] {
			used[k] = true
			a = append(a, gs.values[i])
			b = append(b, y)
		}
	}
	return ComparePaired(a, b)
}

package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Sampled axes. Under grid, an axis may be drawn instead of listed:
//
//	grid:
//	  surrogate.scale: {loguniform: [1, 100]}
//	  train.lr: {uniform: [0.001, 0.01]}
//	  train.epochs: {int: [10, 30]}
//	  surrogate.shape: {choice: [superspike, esser]}
//	sample: {method: sobol, n: 64, seed: 1}
//
// All sampled axes together form one axis of n sample points (like a zip
// group), placed where the first of them is written; its dimensions are
// the sampled axes in the order written. See doc.go.

// Distributions of a sampled axis.
const (
	distUniform    = "uniform"
	distLogUniform = "loguniform"
	distInt        = "int"
	distChoice     = "choice"
)

var sampleDists = []string{distUniform, distLogUniform, distInt, distChoice}

// sampledForms lists the sampled axis forms, for messages.
const sampledForms = "{uniform: [a, b]}, {loguniform: [a, b]}, {int: [a, b]} or {choice: [v1, v2, …]}"

// sampleKeys are the keys of the sample block.
var sampleKeys = []string{"method", "n", "seed"}

// maxIntBound bounds the integers of {int: [a, b]}: every integer of the
// range is exact in a float64.
const maxIntBound = 1 << 53

// Sampling is a spec's sample block and the axes it samples.
type Sampling struct {
	// Method is random, sobol or latin.
	Method string
	// N is the number of sample points.
	N int
	// Seed seeds random and latin; sobol is unscrambled and ignores it
	// (Seed is then 0).
	Seed uint64
	// Axes are the sampled axes, in the order written: the dimensions of
	// the sample points.
	Axes []SampledAxis
}

// SampledAxis is one sampled config path.
type SampledAxis struct {
	Path string
	// Dist is uniform, loguniform, int or choice.
	Dist string
	// Args are the bounds [a, b] of uniform, loguniform and int, or the
	// items of choice, as canonical JSON.
	Args []json.RawMessage
	// Strata is how many of the N equal-probability strata of the
	// distribution the N draws fall in (N for a Latin hypercube; for int
	// and choice, strata of the underlying uniform draw).
	Strata int
}

// Sampling returns the spec's sampling, nil when no axis is sampled.
func (s *Spec) Sampling() *Sampling {
	if s.sampling == nil {
		return nil
	}
	c := *s.sampling
	c.Axes = slices.Clone(c.Axes)
	return &c
}

// sampledAxis is a sampled grid entry while parsing.
type sampledAxis struct {
	path  string
	key   *yaml.Node // the grid key
	node  *yaml.Node // the {dist: args} mapping
	dist  string
	index []int
	typ   reflect.Type
	a, b  float64      // bounds of uniform and loguniform
	lo    int64        // lower bound of int
	hi    int64        // upper bound of int
	items []*yaml.Node // items of choice
	args  []json.RawMessage
}

// sampledKey returns the distribution a mapping node samples, if it is a
// sampled axis: a mapping with the single key uniform, loguniform, int or
// choice.
func sampledKey(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 || !slices.Contains(sampleDists, n.Content[0].Value) {
		return "", false
	}
	return n.Content[0].Value, true
}

// sampledOnlyInGrid says where a sampled axis may be written.
func sampledOnlyInGrid(dist string) string {
	return fmt.Sprintf("{%s: …} samples an axis and is allowed only as a whole entry of grid, like grid: {train.lr: {loguniform: [0.001, 0.1]}}; not under zip or replicates, nor inside a list", dist)
}

// parseSampledEntry reads grid entry path: v (written at key k) if v is a
// sampled axis, and reports whether it was one (errors are recorded).
func (p *specParser) parseSampledEntry(path string, k, v *yaml.Node) bool {
	v = unalias(v)
	dist, ok := sampledKey(v)
	if !ok {
		return false
	}
	field := "grid." + path
	index, typ, err := lookupPath(configType, path)
	if err != nil {
		p.errs.add(posOf(k), field, "%v", err)
		p.sampledErrors = true
		return true
	}
	sa := &sampledAxis{path: path, key: k, node: v, dist: dist, index: index, typ: typ}
	if p.parseSampledArgs(sa, field, unalias(v.Content[1])) {
		p.sampled = append(p.sampled, sa)
	} else {
		p.sampledErrors = true
	}
	return true
}

// parseSampledArgs checks the arguments of a sampled axis against its
// distribution and its field's type.
func (p *specParser) parseSampledArgs(sa *sampledAxis, field string, args *yaml.Node) bool {
	fail := func(n *yaml.Node, format string, a ...any) bool {
		p.errs.add(posOf(n), field, format, a...)
		return false
	}
	hint := map[string]string{
		distUniform:    "{uniform: [a, b]} with a < b",
		distLogUniform: "{loguniform: [a, b]} with 0 < a < b",
		distInt:        "{int: [a, b]}, integers a < b, both included",
		distChoice:     "{choice: [v1, v2, …]}",
	}[sa.dist]
	if args.Kind != yaml.SequenceNode {
		return fail(args, "%s wants a list: %s; got %s", sa.dist, hint, describeNode(args))
	}
	if sa.dist == distChoice {
		if len(args.Content) == 0 {
			return fail(args, "choice has no items: write %s", hint)
		}
		// Decode the items once as a grid axis would: each must suit the
		// field, and none may repeat (it would be drawn twice as often).
		items := &axis{kind: AxisGrid, prefix: "grid"}
		if !items.addNodes(p, sa.path, sa.index, sa.typ, sa.key, args.Content) {
			return false
		}
		for _, v := range items.cols[0] {
			sa.args = append(sa.args, v.raw)
		}
		sa.items = args.Content
		return true
	}
	if len(args.Content) != 2 {
		return fail(args, "%s wants a list of 2 numbers: %s; got %d", sa.dist, hint, len(args.Content))
	}
	kind := sa.typ.Kind()
	isInt := kind >= reflect.Int && kind <= reflect.Uint64
	isFloat := kind == reflect.Float32 || kind == reflect.Float64
	switch {
	case sa.dist == distInt && !isInt && !isFloat:
		return fail(sa.node, "{int: …} samples numbers, but %s is %s", sa.path, typeName(sa.typ))
	case sa.dist != distInt && !isFloat:
		if isInt {
			return fail(sa.node, "%s is an integer field: sample it with {int: [a, b]}", sa.path)
		}
		return fail(sa.node, "{%s: …} samples numbers, but %s is %s: sample it with {choice: […]}", sa.dist, sa.path, typeName(sa.typ))
	}
	var bounds [2]float64
	for i, n := range args.Content {
		n = unalias(n)
		if n.Kind != yaml.ScalarNode {
			return fail(n, "%s wants numbers: %s; got %s", sa.dist, hint, describeNode(n))
		}
		x, err := scalarValue(n)
		if err != nil {
			return fail(n, "%s: %v", sa.dist, err)
		}
		f, ok := toFloat64(x)
		if !ok {
			return fail(n, "%s wants numbers: %s; got %s", sa.dist, hint, describeNode(n))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fail(n, "%s wants finite numbers, got %s", sa.dist, n.Value)
		}
		if sa.dist == distInt {
			v, ok := toInt64(x)
			if !ok || v < -maxIntBound || v > maxIntBound {
				return fail(n, "int wants integer bounds (at most 2^53 in size): %s; got %s", hint, describeNode(n))
			}
			f = float64(v)
		}
		bounds[i] = f
	}
	a, b := bounds[0], bounds[1]
	switch {
	case a >= b:
		return fail(args, "%s bounds [%s, %s] are reversed or equal: want %s", sa.dist, args.Content[0].Value, args.Content[1].Value, hint)
	case sa.dist == distLogUniform && a <= 0:
		return fail(args, "loguniform bounds must be positive, got [%s, %s]: want %s", args.Content[0].Value, args.Content[1].Value, hint)
	}
	if sa.dist == distInt {
		sa.lo, sa.hi = int64(a), int64(b)
		sa.args = []json.RawMessage{json.RawMessage(strconv.FormatInt(sa.lo, 10)), json.RawMessage(strconv.FormatInt(sa.hi, 10))}
	} else {
		sa.a, sa.b = a, b
		for _, x := range bounds {
			raw, err := Canonical(x)
			if err != nil {
				return fail(args, "%v", err)
			}
			sa.args = append(sa.args, raw)
		}
	}
	return true
}

// parseSample reads the spec's sample block (n is nil when the spec has
// none) and turns the sampled axes into one axis of n sample points.
func (p *specParser) parseSample(n *yaml.Node) {
	hasBlock := n != nil && !isNull(n)
	switch {
	case !hasBlock && len(p.sampled) == 0:
		return
	case !hasBlock:
		sa := p.sampled[0]
		p.errs.add(posOf(sa.node), "grid."+sa.path, "a sampled axis needs a sample block at the top level, like sample: {method: sobol, n: 64, seed: 1}")
		return
	}
	smp, ok := p.parseSampleBlock(n)
	if !ok {
		return
	}
	if len(p.sampled) == 0 {
		if !p.sampledErrors {
			p.errs.add(posOf(n), "sample", "no axis is sampled: write one under grid as %s, or remove the sample block", sampledForms)
		}
		return
	}
	if smp.Method == methodSobol && len(p.sampled) > sobolMaxDims {
		p.errs.add(smp.methodPos, "sample.method", "sobol has direction numbers for %d sampled axes, not %d: use random or latin", sobolMaxDims, len(p.sampled))
		return
	}
	if p.sampledErrors {
		return
	}
	p.buildSampleAxis(smp)
}

// sampleBlock is a parsed sample block.
type sampleBlock struct {
	Sampling
	methodPos, nPos position
}

// parseSampleBlock reads {method: …, n: …, seed: …}.
func (p *specParser) parseSampleBlock(n *yaml.Node) (*sampleBlock, bool) {
	if n.Kind != yaml.MappingNode {
		p.errs.add(posOf(n), "sample", "want a mapping like {method: sobol, n: 64, seed: 1}; got %s", describeNode(n))
		return nil, false
	}
	smp := &sampleBlock{}
	ok := true
	fail := func(pos position, field, format string, a ...any) {
		p.errs.add(pos, field, format, a...)
		ok = false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], unalias(n.Content[i+1])
		key, good := p.decoder("sample").mappingKey(k, "")
		if !good {
			ok = false
			continue
		}
		field := "sample." + key
		if !slices.Contains(sampleKeys, key) {
			fail(posOf(k), field, "unknown key (allowed: %s)%s", strings.Join(sampleKeys, ", "), didYouMean(key, sampleKeys))
			continue
		}
		seen[key] = true
		var x any
		var err error
		if v.Kind != yaml.ScalarNode {
			err = fmt.Errorf("got %s", describeNode(v))
		} else {
			x, err = scalarValue(v)
		}
		switch key {
		case "method":
			s, isStr := x.(string)
			smp.methodPos = posOf(v)
			if err != nil || !isStr || !slices.Contains(sampleMethods, s) {
				fail(posOf(v), field, "unknown method %s (allowed: %s)%s", describeValue(v, err), strings.Join(sampleMethods, ", "), didYouMean(v.Value, sampleMethods))
				continue
			}
			smp.Method = s
		case "n":
			count, isInt := toInt64(x)
			smp.nPos = posOf(v)
			if err != nil || !isInt || count < 1 || v.ShortTag() != "!!int" {
				fail(posOf(v), field, "want the number of sample points, an integer ≥ 1; got %s", describeValue(v, err))
				continue
			}
			// Refused before anything is drawn or allocated.
			if count > int64(p.spec.MaxTasks) {
				fail(posOf(v), field, "%d sample points are more than max_tasks (%d); raise max_tasks if you mean it", count, p.spec.MaxTasks)
				continue
			}
			smp.N = int(count)
		case "seed":
			seed, isUint := toUint64(x)
			if err != nil || !isUint || v.ShortTag() != "!!int" {
				fail(posOf(v), field, "want a non-negative integer; got %s", describeValue(v, err))
				continue
			}
			smp.Seed = seed
		}
	}
	for _, key := range []string{"method", "n"} {
		if !seen[key] {
			fail(posOf(n), "sample", "missing %s: a sample block is {method: random | sobol | latin, n: N, seed: S}", key)
		}
	}
	if smp.Method == methodSobol {
		smp.Seed = 0
	}
	return smp, ok
}

// describeValue describes a scalar for a message, or why it could not be
// read.
func describeValue(v *yaml.Node, err error) string {
	if err != nil && v.Kind == yaml.ScalarNode {
		return err.Error()
	}
	if err != nil {
		return strings.TrimPrefix(err.Error(), "got ")
	}
	return describeNode(v)
}

// buildSampleAxis draws the sample points and adds them as one axis.
func (p *specParser) buildSampleAxis(smp *sampleBlock) {
	d := len(p.sampled)
	// Generated values are nodes too.
	p.budget.total += d * smp.N
	p.budget.left += d * smp.N
	unit := unitPoints(smp.Method, smp.N, d, smp.Seed)
	first := p.sampled[0]
	ax := &axis{kind: AxisSample, prefix: "grid", pos: posOf(first.key)}
	smp.Axes = make([]SampledAxis, d)
	for j, sa := range p.sampled {
		nodes := make([]*yaml.Node, smp.N)
		strata := make([]bool, smp.N)
		hit := 0
		for i, u := range unit {
			nodes[i] = sa.value(u[j])
			if k := stratum(u[j], smp.N); !strata[k] {
				strata[k] = true
				hit++
			}
		}
		if !ax.addNodes(p, sa.path, sa.index, sa.typ, sa.key, nodes) {
			return
		}
		smp.Axes[j] = SampledAxis{Path: sa.path, Dist: sa.dist, Args: sa.args, Strata: hit}
	}
	ax.finish()
	seen := make(map[string]int, smp.N)
	for i, r := range ax.raw {
		key := string(joinRaw(r))
		if k, dup := seen[key]; dup {
			p.errs.add(smp.nPos, "sample.n", "sample points %d and %d are the same, %s: the sampled axes have too few distinct values for %d points; lower n, or list them as grid axes",
				k+1, i+1, formatPoints([][]json.RawMessage{r}), smp.N)
			return
		}
		seen[key] = i
	}
	p.spec.axes = append(p.spec.axes, ax)
	p.spec.sampling = &smp.Sampling
}

// value maps u in [0, 1) onto the axis' distribution, as a node placed at
// the sampled axis (so that a problem with the value points there).
// Floats are rounded to 12 significant digits.
func (sa *sampledAxis) value(u float64) *yaml.Node {
	pos := posOf(sa.node)
	switch sa.dist {
	case distUniform:
		x := sa.a + float64(u*(sa.b-sa.a))
		return floatNode(min(max(round12(x), sa.a), sa.b), pos)
	case distLogUniform:
		x := logUniform(sa.a, sa.b, u)
		return floatNode(min(max(round12(x), sa.a), sa.b), pos)
	case distInt:
		m := uint64(sa.hi-sa.lo) + 1
		k := min(uint64(u*float64(m)), m-1)
		return intNode(sa.lo+int64(k), pos)
	default: // choice
		k := min(int(u*float64(len(sa.items))), len(sa.items)-1)
		return sa.items[k]
	}
}

// round12 rounds x to 12 significant decimal digits.
func round12(x float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	if err != nil {
		return x
	}
	return r
}

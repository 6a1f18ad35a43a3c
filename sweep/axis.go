package sweep

import (
	"encoding/json"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// AxisKind says where in the spec an axis was written.
type AxisKind string

// Axis kinds.
const (
	AxisGrid      AxisKind = "grid"      // an entry of grid
	AxisZip       AxisKind = "zip"       // a group of zip: several paths varied together
	AxisReplicate AxisKind = "replicate" // an entry of replicates (seed, data_seed)
	AxisSample    AxisKind = "sample"    // the sampled grid entries: n sample points over several paths
)

// Axis is one varying dimension of a sweep.
type Axis struct {
	Kind AxisKind
	// Paths holds the config paths the axis sets: one, or several for a
	// zip group or the sampled axes.
	Paths []string
	// Values holds the axis' points in order: Values[i][j] is the value of
	// Paths[j] at point i, as canonical JSON of the resolved field.
	Values [][]json.RawMessage
}

// Name returns the axis' paths joined with "+", e.g. "surrogate.shape" or
// "surrogate.shape+surrogate.scale".
func (a Axis) Name() string { return strings.Join(a.Paths, "+") }

// Len returns the number of points of the axis.
func (a Axis) Len() int { return len(a.Values) }

// Axes returns the spec's varying axes in iteration order: Axes()[0] varies
// slowest, the last fastest, like nested loops. Replicate axes come first
// (in the order written under replicates), then the grid entries and zip
// groups in the order they appear in the file.
func (s *Spec) Axes() []Axis {
	out := make([]Axis, len(s.axes))
	for i, ax := range s.axes {
		vals := make([][]json.RawMessage, len(ax.raw))
		for k, r := range ax.raw {
			vals[k] = append([]json.RawMessage(nil), r...)
		}
		out[i] = Axis{Kind: ax.kind, Paths: append([]string(nil), ax.paths...), Values: vals}
	}
	return out
}

// axis is the parsed form of one axis.
type axis struct {
	kind    AxisKind
	prefix  string   // spec field of the section: "grid", "zip[0]", "replicates"
	pos     position // where it was written; defines its order
	paths   []string
	index   [][]int // struct field index of each path in sim.Config
	types   []reflect.Type
	pathPos []position // the key of each path

	// cols holds each path's values while parsing; finish turns them into
	// points.
	cols [][]axisValue

	// Per point i and path j:
	values [][]reflect.Value // the resolved field value
	raw    [][]json.RawMessage
	nodes  [][]*yaml.Node // where it was written
}

// axisValue is one resolved value of one path.
type axisValue struct {
	val  reflect.Value
	raw  json.RawMessage
	node *yaml.Node
}

func (ax *axis) name() string { return strings.Join(ax.paths, "+") }

// specField returns the spec field of path j, e.g. "grid.surrogate.scale".
func (ax *axis) specField(j int) string { return ax.prefix + "." + ax.paths[j] }

// addPath resolves config path path (written at key k) and decodes its
// values v on top of the base config; it reports success (errors are
// recorded).
func (ax *axis) addPath(p *specParser, path string, k, v *yaml.Node) bool {
	field := ax.prefix + "." + path
	index, typ, err := lookupPath(configType, path)
	if err != nil {
		p.errs.add(posOf(k), field, "%v", err)
		return false
	}
	nodes, ok := p.axisNodes(v, field, typ)
	if !ok {
		return false
	}
	return ax.addNodes(p, path, index, typ, k, nodes)
}

// multiPath reports whether the axis sets several paths together (a zip
// group or the sampled axes): its points are tuples, built by finish once
// every path is added, and a value may repeat within one path.
func (ax *axis) multiPath() bool { return ax.kind == AxisZip || ax.kind == AxisSample }

// addNodes decodes the values nodes of config path path (resolved to
// index and typ, written at key k) on top of the base config; it reports
// success (errors are recorded).
func (ax *axis) addNodes(p *specParser, path string, index []int, typ reflect.Type, k *yaml.Node, nodes []*yaml.Node) bool {
	field := ax.prefix + "." + path
	ok := true
	baseField := reflect.ValueOf(&p.spec.base).Elem().FieldByIndex(index)
	col := make([]axisValue, 0, len(nodes))
	seen := map[string]int{}
	for _, n := range nodes {
		if p.budget.left < 0 {
			return false
		}
		if typ.Kind() == reflect.Slice && n.Kind == yaml.ScalarNode {
			p.errs.add(posOf(n), field, "want %s, got %s: an axis over a list field is a list of lists, like [[100], [100, 100]]", typeName(typ), describeNode(n))
			return false
		}
		target := deepCopy(baseField)
		if !p.decoder(ax.prefix).decode(n, target, path) {
			ok = false
			continue
		}
		raw, err := Canonical(target.Interface())
		if err != nil {
			p.errs.add(posOf(n), field, "%v", err)
			ok = false
			continue
		}
		if !ax.multiPath() {
			if j, dup := seen[string(raw)]; dup {
				p.errs.add(posOf(n), field, "value %s appears twice (also value %d of the list): every task would run twice", shortValue(raw), j+1)
				ok = false
				continue
			}
			seen[string(raw)] = len(col)
		}
		col = append(col, axisValue{target, raw, n})
	}
	if !ok {
		return false
	}
	ax.paths = append(ax.paths, path)
	ax.index = append(ax.index, index)
	ax.types = append(ax.types, typ)
	ax.pathPos = append(ax.pathPos, posOf(k))
	ax.cols = append(ax.cols, col)
	if !ax.multiPath() {
		ax.finish()
	}
	return true
}

// checkZip checks that the paths of a zip group have equally many values
// and no repeated tuple, then builds its points.
func (ax *axis) checkZip(p *specParser) bool {
	for j := 1; j < len(ax.cols); j++ {
		if len(ax.cols[j]) != len(ax.cols[0]) {
			p.errs.add(ax.pathPos[j], ax.specField(j), "has %d values but %s has %d: zipped paths need the same number of values",
				len(ax.cols[j]), ax.paths[0], len(ax.cols[0]))
			return false
		}
	}
	ax.finish()
	seen := map[string]int{}
	for i, r := range ax.raw {
		key := string(joinRaw(r))
		if k, dup := seen[key]; dup {
			p.errs.add(posOf(ax.nodes[i][0]), ax.prefix, "point %d repeats point %d: every task would run twice", i+1, k+1)
			return false
		}
		seen[key] = i
	}
	return true
}

// finish turns the columns into points.
func (ax *axis) finish() {
	n := len(ax.cols[0])
	ax.values = make([][]reflect.Value, n)
	ax.raw = make([][]json.RawMessage, n)
	ax.nodes = make([][]*yaml.Node, n)
	for i := range n {
		for _, col := range ax.cols {
			ax.values[i] = append(ax.values[i], col[i].val)
			ax.raw[i] = append(ax.raw[i], col[i].raw)
			ax.nodes[i] = append(ax.nodes[i], col[i].node)
		}
	}
}

func joinRaw(r []json.RawMessage) []byte {
	b := []byte{'['}
	for i, x := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, x...)
	}
	return append(b, ']')
}

// axisNodes returns the value nodes an axis is written as: a list (whose
// generator elements are spliced in) or a single generator.
func (p *specParser) axisNodes(v *yaml.Node, field string, typ reflect.Type) ([]*yaml.Node, bool) {
	v = unalias(v)
	limit := p.spec.MaxTasks
	expand := func(n *yaml.Node) ([]*yaml.Node, bool) {
		vals, err := generate(n, limit)
		if err != nil {
			p.errs.add(posOf(n), field, "%v", err)
			return nil, false
		}
		return vals, true
	}
	switch v.Kind {
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, e := range v.Content {
			target := e
			target = unalias(target)
			if dist, isSampled := sampledKey(target); isSampled {
				p.errs.add(posOf(target), field, "%s", sampledOnlyInGrid(dist))
				return nil, false
			}
			if _, isGen := generatorKey(target); isGen {
				vals, ok := expand(target)
				if !ok {
					return nil, false
				}
				out = append(out, vals...)
			} else {
				out = append(out, e)
			}
			if len(out) > limit {
				p.errs.add(posOf(v), field, "more than max_tasks (%d) values", limit)
				return nil, false
			}
		}
		if len(out) == 0 {
			p.errs.add(posOf(v), field, "has no values")
			return nil, false
		}
		return out, true
	case yaml.MappingNode:
		if _, isGen := generatorKey(v); isGen {
			return expand(v)
		}
		if dist, isSampled := sampledKey(v); isSampled {
			p.errs.add(posOf(v), field, "%s", sampledOnlyInGrid(dist))
			return nil, false
		}
		hint := ""
		if typ.Kind() == reflect.Struct {
			hint = "; to vary one field of it, use a dotted path like " + field[strings.Index(field, ".")+1:] + "." + fieldNames(typ)[0]
		}
		p.errs.add(posOf(v), field, "an axis is a list of values, one of {range: [start, stop, step]}, {linspace: [a, b, n]}, {logspace: [a, b, n]}, or (under grid) a sampled axis: %s%s", sampledForms, hint)
		return nil, false
	default:
		p.errs.add(posOf(v), field, "an axis is a list of values; write [%s] for a single value, or set a fixed value under base", v.Value)
		return nil, false
	}
}

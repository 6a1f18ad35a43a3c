package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// A sampled axis is a grid entry written as {dist: args}; its values are
// drawn (sample.go) and mapped onto the distribution here.

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

// maxIntBound bounds the integers of {int: [a, b]}: every integer of the
// range is exact in a float64.
const maxIntBound = 1 << 53

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

package sweep

import (
	"fmt"
	"math"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Generators: an axis written as {range: …}, {linspace: …} or {logspace: …}
// instead of a list of values, or such a mapping as one element of a list
// (its values are spliced in: [0, {logspace: [-1, 3, 13]}]).
const (
	genRange    = "range"
	genLinspace = "linspace"
	genLogspace = "logspace"
)

// generatorKey returns the generator a mapping node names, if it is one: a
// mapping with the single key range, linspace or logspace.
func generatorKey(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return "", false
	}
	switch k := n.Content[0].Value; k {
	case genRange, genLinspace, genLogspace:
		return k, true
	}
	return "", false
}

// generate expands the generator mapping n into scalar nodes placed at n's
// position. limit bounds the number of values.
//
//   - range: [start, stop, step] counts from start in steps of step while
//     below stop (above it for a negative step): stop is exclusive, as in
//     Python. If all three are integers the values are integers.
//   - linspace: [a, b, n] is n evenly spaced numbers from a to b inclusive
//     (n = 1 gives a).
//   - logspace: [a, b, n] is 10^x for the n values x of linspace [a, b, n].
//
// Generated floats are rounded to 15 significant digits, the precision
// every float64 keeps through a decimal round trip, so that 10^-1 is 0.1
// and range [0, 1, 0.1] gives 0.3, not 0.30000000000000004.
func generate(n *yaml.Node, limit int) ([]*yaml.Node, error) {
	kind, _ := generatorKey(n)
	args := n.Content[1]
	args = unalias(args)
	if args.Kind != yaml.SequenceNode || len(args.Content) != 3 {
		return nil, fmt.Errorf("%s wants a list of 3 numbers, like %s: %s", kind, kind, generatorHint(kind))
	}
	var nums [3]any
	for i, a := range args.Content {
		a = unalias(a)
		if a.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s wants numbers, got %s", kind, describeNode(a))
		}
		x, err := scalarValue(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", kind, err)
		}
		f, ok := toFloat64(x)
		if !ok {
			return nil, fmt.Errorf("%s wants numbers, got %s", kind, describeNode(a))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s wants finite numbers, got %s", kind, a.Value)
		}
		nums[i] = x
	}
	pos := posOf(n)
	switch kind {
	case genRange:
		return rangeValues(nums, limit, pos)
	default:
		a, _ := toFloat64(nums[0])
		b, _ := toFloat64(nums[1])
		count, ok := toInt64(nums[2])
		if !ok || count < 1 {
			return nil, fmt.Errorf("%s: the count must be an integer ≥ 1, got %v", kind, nums[2])
		}
		if count > int64(limit) {
			return nil, fmt.Errorf("%s: %d values are more than the limit of %d", kind, count, limit)
		}
		out := make([]*yaml.Node, count)
		for i := range out {
			x := a
			if count > 1 {
				x = a + float64(i)*(b-a)/float64(count-1)
			}
			if count > 1 && i == len(out)-1 {
				x = b
			}
			if kind == genLogspace {
				x = math.Pow(10, x)
				if math.IsInf(x, 0) {
					return nil, fmt.Errorf("%s: 10^%v overflows", kind, b)
				}
			}
			out[i] = floatNode(round15(x), pos)
		}
		return out, nil
	}
}

func generatorHint(kind string) string {
	switch kind {
	case genRange:
		return "[start, stop, step]"
	case genLogspace:
		return "[lowest exponent, highest exponent, count]"
	default:
		return "[first, last, count]"
	}
}

// rangeValues expands range [start, stop, step].
func rangeValues(nums [3]any, limit int, pos position) ([]*yaml.Node, error) {
	var ints [3]int64
	allInts := true
	for i, x := range nums {
		v, ok := x.(int)
		if !ok {
			allInts = false
			break
		}
		ints[i] = int64(v)
	}
	if allInts {
		start, stop, step := ints[0], ints[1], ints[2]
		if step == 0 {
			return nil, fmt.Errorf("range: step must not be 0")
		}
		if est := (float64(stop) - float64(start)) / float64(step); est > float64(limit) {
			return nil, fmt.Errorf("range: %.0f values are more than the limit of %d", math.Ceil(est), limit)
		}
		var count int64
		if step > 0 && stop > start {
			count = (stop - start + step - 1) / step
		} else if step < 0 && stop < start {
			count = (start - stop - step - 1) / -step
		}
		if count == 0 {
			return nil, fmt.Errorf("range [%d, %d, %d] is empty", start, stop, step)
		}
		if count > int64(limit) {
			return nil, fmt.Errorf("range: %d values are more than the limit of %d", count, limit)
		}
		out := make([]*yaml.Node, count)
		for i := range out {
			out[i] = intNode(start+int64(i)*step, pos)
		}
		return out, nil
	}
	start, _ := toFloat64(nums[0])
	stop, _ := toFloat64(nums[1])
	step, _ := toFloat64(nums[2])
	if step == 0 {
		return nil, fmt.Errorf("range: step must not be 0")
	}
	est := math.Ceil((stop - start) / step)
	if !(est >= 1) {
		return nil, fmt.Errorf("range [%v, %v, %v] is empty", start, stop, step)
	}
	if est > float64(limit) {
		return nil, fmt.Errorf("range: %v values are more than the limit of %d", est, limit)
	}
	var out []*yaml.Node
	for i := 0; i <= int(est); i++ {
		x := round15(start + float64(i)*step)
		if (step > 0 && x >= stop) || (step < 0 && x <= stop) {
			break
		}
		out = append(out, floatNode(x, pos))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("range [%v, %v, %v] is empty", start, stop, step)
	}
	return out, nil
}

// round15 rounds x to 15 significant decimal digits.
func round15(x float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 15, 64), 64)
	if err != nil {
		return x
	}
	return r
}

func floatNode(x float64, pos position) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64), Line: pos.line, Column: pos.col}
}

func intNode(x int64, pos position) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(x, 10), Line: pos.line, Column: pos.col}
}

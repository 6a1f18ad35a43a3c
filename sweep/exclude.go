package sweep

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Exclusion rules. exclude is a list of rules; a rule is a mapping of config
// paths to conditions, and drops every grid point that meets all of its
// conditions. A condition is
//   - a value: the field equals it (surrogate.shape: heaviside);
//   - a list, or {in: [...]}: the field equals one of the values;
//   - {eq: v}: the field equals v (use it for list-valued fields:
//     network.hidden: {eq: [100, 100]});
//   - {not: v} or {not: [...]}: the field equals none of the values.
//
// Values are compared after decoding into the field's type, so 1, 1.0 and
// 1e0 are the same scale. Each path must be set by an axis (a rule on a
// fixed field would drop every task or none), every value given to eq and
// in must be one of the axis' values (a typo would silently keep tasks), and
// every rule must drop at least one point.

// Condition operators.
const (
	opEq  = "eq"
	opIn  = "in"
	opNot = "not"
)

// rule is one parsed exclusion rule.
type rule struct {
	pos   position
	conds []cond
	canon json.RawMessage // {"path":{"in"|"not":[values]}}, canonical
}

// cond is one condition of a rule, evaluated once per point of its axis.
type cond struct {
	axis  int    // index in Spec.axes
	match []bool // match[i]: the condition holds at point i of the axis
}

// matches reports whether the grid point idx meets every condition.
func (r *rule) matches(idx []int) bool {
	for _, c := range r.conds {
		if !c.match[idx[c.axis]] {
			return false
		}
	}
	return true
}

// parseExclude reads the exclude section; the axes must be final.
func (p *specParser) parseExclude(n *yaml.Node) {
	for r, rn := range oneOrList(n) {
		field := fmt.Sprintf("exclude[%d]", r)
		rn = unalias(rn)
		if rn.Kind != yaml.MappingNode || len(rn.Content) == 0 {
			p.errs.add(posOf(rn), field, "a rule is a mapping of config paths to conditions, like {surrogate.shape: heaviside, surrogate.scale: {not: 1}}; got %s", describeNode(rn))
			continue
		}
		rule := &rule{pos: posOf(rn)}
		canon := map[string]map[string][]json.RawMessage{}
		ok := true
		for i := 0; i+1 < len(rn.Content); i += 2 {
			k, v := rn.Content[i], rn.Content[i+1]
			path, good := p.decoder(field).mappingKey(k, "")
			if !good {
				ok = false
				continue
			}
			c, op, vals, good := p.parseCond(field+"."+path, path, k, v)
			if !good {
				ok = false
				continue
			}
			if _, dup := canon[path]; dup {
				p.errs.add(posOf(k), field+"."+path, "set twice in one rule")
				ok = false
				continue
			}
			canon[path] = map[string][]json.RawMessage{op: vals}
			rule.conds = append(rule.conds, c)
		}
		if !ok {
			continue
		}
		b, err := Canonical(canon)
		if err != nil {
			p.errs.add(rule.pos, field, "%v", err)
			continue
		}
		rule.canon = b
		p.spec.rules = append(p.spec.rules, rule)
	}
}

// parseCond parses the condition v on config path path and evaluates it on
// every point of the axis that sets path. It returns the condition, its
// normalised operator (in or not) and its sorted canonical values.
func (p *specParser) parseCond(field, path string, k, v *yaml.Node) (cond, string, []json.RawMessage, bool) {
	fail := func(pos position, format string, args ...any) (cond, string, []json.RawMessage, bool) {
		p.errs.add(pos, field, format, args...)
		return cond{}, "", nil, false
	}
	_, typ, err := lookupPath(configType, path)
	if err != nil {
		return fail(posOf(k), "%v", err)
	}
	if typ.Kind() == reflect.Struct {
		return fail(posOf(k), "a condition addresses one field, like %s.%s; %s is a mapping", path, fieldNames(typ)[0], path)
	}
	// Find the axis that sets the path.
	a, j := -1, -1
	for ai, ax := range p.spec.axes {
		for pj, ap := range ax.paths {
			if pathCovers(ap, path) {
				a, j = ai, pj
			}
		}
	}
	if a < 0 {
		var names []string
		for _, ax := range p.spec.axes {
			names = append(names, ax.paths...)
		}
		axes := "the spec has no axes"
		if len(names) > 0 {
			axes = "axes: " + strings.Join(names, ", ")
		}
		return fail(posOf(k), "not varied by any axis, so the rule would drop every task or none (%s)", axes)
	}
	ax := p.spec.axes[a]

	// The operator and its value nodes.
	v = unalias(v)
	op, valNodes := opEq, []*yaml.Node{v}
	if v.Kind == yaml.MappingNode && len(v.Content) == 2 && slices.Contains([]string{opEq, opIn, opNot}, v.Content[0].Value) {
		op = v.Content[0].Value
		valNodes = []*yaml.Node{v.Content[1]}
	}
	if op != opEq || v.Kind == yaml.SequenceNode {
		list := valNodes[0]
		list = unalias(list)
		if list.Kind == yaml.SequenceNode {
			nodes, ok := p.axisNodes(list, field, typ)
			if !ok {
				return cond{}, "", nil, false
			}
			valNodes = nodes
		} else if op == opIn {
			return fail(posOf(list), "in wants a list of values, got %s", describeNode(list))
		}
		if op == opEq {
			op = opIn
		}
	}

	// Decode the values into the field's type.
	set := map[string]bool{}
	var vals []json.RawMessage
	for _, vn := range valNodes {
		target := reflect.New(typ).Elem()
		if !p.decoder(strings.TrimSuffix(field, "."+path)).decode(vn, target, path) {
			return cond{}, "", nil, false
		}
		raw, err := Canonical(target.Interface())
		if err != nil {
			return fail(posOf(vn), "%v", err)
		}
		if !set[string(raw)] {
			set[string(raw)] = true
			vals = append(vals, raw)
		}
	}
	slices.SortFunc(vals, func(x, y json.RawMessage) int { return strings.Compare(string(x), string(y)) })

	// The field's value at each point of the axis.
	axisPath := ax.paths[j]
	var sub []int
	if path != axisPath {
		sub, _, err = lookupPath(ax.types[j], path[len(axisPath)+1:])
		if err != nil {
			return fail(posOf(k), "%v", err)
		}
	}
	c := cond{axis: a, match: make([]bool, len(ax.values))}
	present := map[string]bool{}
	for i := range ax.values {
		raw := ax.raw[i][j]
		if sub != nil {
			raw, err = Canonical(ax.values[i][j].FieldByIndex(sub).Interface())
			if err != nil {
				return fail(posOf(k), "%v", err)
			}
		}
		present[string(raw)] = true
		c.match[i] = set[string(raw)] == (op != opNot)
	}
	if op != opNot {
		for _, raw := range vals {
			if !present[string(raw)] {
				var axisVals []string
				for r := range present {
					axisVals = append(axisVals, r)
				}
				slices.Sort(axisVals)
				return fail(posOf(v), "%s is not a value of the axis %s (values: %s)", shortValue(raw), ax.name(), formatValueList(axisVals))
			}
		}
	}
	if op == opEq {
		op = opIn
	}
	return c, op, vals, true
}

// formatValueList renders canonical JSON values for a message, at most 20.
func formatValueList(raws []string) string {
	parts := make([]string, 0, len(raws))
	for i, r := range raws {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("… %d more", len(raws)-20))
			break
		}
		parts = append(parts, shortValue(json.RawMessage(r)))
	}
	return strings.Join(parts, ", ")
}

package sweep

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the YAML nodes one spec may visit, aliases expanded, so
// that alias bombs fail fast; 2 × max_tasks more are allowed for generated
// values. A variable for tests.
var maxNodes = 1_000_000

// origin records where in the spec a config path got its value.
type origin struct {
	field string // spec field, e.g. "base.train.lr"
	node  *yaml.Node
}

// nodeDecoder decodes YAML nodes into config values strictly: unknown keys,
// wrong types, repeated keys and non-finite numbers are errors that name the
// spec field and line. Mappings decode into the current value of a struct
// (a deep merge); lists replace.
type nodeDecoder struct {
	errs *errorList
	// budget counts down the nodes visited; shared by every decoder of
	// one spec.
	budget *nodeBudget
	// prefix is the spec field the decoded value sits at, e.g. "base",
	// "grid.surrogate.scale"; config paths are appended to it.
	prefix string
	// origins, if non-nil, receives the node that set each config path.
	origins map[string]origin
	// assigned holds the leaf paths set so far, to catch a key set twice
	// (e.g. surrogate: {scale: 1} and surrogate.scale: 2).
	assigned map[string]position
}

// specField returns the spec field of config path p below the decoder's
// prefix; p may start with "[".
func (d *nodeDecoder) specField(p string) string {
	switch {
	case p == "":
		return d.prefix
	case d.prefix == "":
		return p
	case p[0] == '[':
		return d.prefix + p
	default:
		return d.prefix + "." + p
	}
}

// joinPath appends a field name to a config path.
func joinPath(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

// oneOrList returns the items of a sequence node, or n as the only item:
// the entries of a section written as one entry or as a list of them.
func oneOrList(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return []*yaml.Node{n}
}

// unalias follows alias nodes to the node they stand for.
func unalias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func posOf(n *yaml.Node) position {
	if n == nil {
		return position{}
	}
	return position{n.Line, n.Column}
}

// nodeBudget bounds the YAML nodes one parse visits.
type nodeBudget struct {
	total, left int
	reported    bool
}

// visit follows aliases and charges the node budget. It returns nil when the
// budget is exhausted (the error is recorded once).
func (d *nodeDecoder) visit(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
		d.budget.left--
	}
	d.budget.left--
	if d.budget.left < 0 {
		if !d.budget.reported {
			// Recorded even when the error list is full: it ends the parse.
			d.budget.reported = true
			d.errs.errs = append(d.errs.errs, &SpecError{File: d.errs.file, Line: posOf(n).line, Column: posOf(n).col, Field: d.prefix,
				Msg: fmt.Sprintf("spec too large: more than %d YAML nodes with aliases expanded", d.budget.total)})
		}
		return nil
	}
	return n
}

// decode decodes n into v, which must be settable and holds the value to
// merge into; p is v's config path. It reports whether decoding succeeded
// (errors are recorded).
func (d *nodeDecoder) decode(n *yaml.Node, v reflect.Value, p string) bool {
	if n = d.visit(n); n == nil {
		return false
	}
	if d.origins != nil {
		d.origins[p] = origin{d.specField(p), n}
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.decodeStruct(n, v, p)
	case reflect.Slice:
		if !d.assign(n, p) {
			return false
		}
		return d.decodeSlice(n, v, p)
	default:
		if !d.assign(n, p) {
			return false
		}
		return d.decodeScalar(n, v, p)
	}
}

// assign records that leaf path p is set by n; a second assignment is an
// error.
func (d *nodeDecoder) assign(n *yaml.Node, p string) bool {
	if d.assigned == nil {
		d.assigned = map[string]position{}
	}
	if prev, ok := d.assigned[p]; ok {
		d.errs.add(posOf(n), d.specField(p), "set twice (also on line %d)", prev.line)
		return false
	}
	d.assigned[p] = posOf(n)
	return true
}

func (d *nodeDecoder) decodeStruct(n *yaml.Node, v reflect.Value, p string) bool {
	if n.Kind != yaml.MappingNode {
		d.errs.add(posOf(n), d.specField(p), "want %s, got %s", typeName(v.Type()), describeNode(n))
		return false
	}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, valNode := n.Content[i], n.Content[i+1]
		key, good := d.mappingKey(keyNode, p)
		if !good {
			ok = false
			continue
		}
		// A dotted key addresses a nested field: surrogate.scale: 1.
		index, _, err := lookupPath(v.Type(), key)
		if err != nil {
			d.errs.add(posOf(keyNode), d.specField(joinPath(p, key)), "%v", err)
			ok = false
			continue
		}
		sub := joinPath(p, key)
		if d.origins != nil && strings.Contains(key, ".") {
			// Record the intermediate structs a dotted key passes through.
			segs := strings.Split(key, ".")
			for j := 1; j < len(segs); j++ {
				mid := joinPath(p, strings.Join(segs[:j], "."))
				if _, seen := d.origins[mid]; !seen {
					d.origins[mid] = origin{d.specField(mid), keyNode}
				}
			}
		}
		if !d.decode(valNode, v.FieldByIndex(index), sub) {
			ok = false
		}
	}
	return ok
}

// mappingKey returns the string key of a mapping entry, refusing merge keys
// and non-string keys.
func (d *nodeDecoder) mappingKey(k *yaml.Node, p string) (string, bool) {
	if k = d.visit(k); k == nil {
		return "", false
	}
	if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
		d.errs.add(posOf(k), d.specField(p), "merge keys (<<) and complex keys are not supported")
		return "", false
	}
	if k.ShortTag() != "!!str" {
		d.errs.add(posOf(k), d.specField(p), "key %q is not a string", k.Value)
		return "", false
	}
	return k.Value, true
}

func (d *nodeDecoder) decodeSlice(n *yaml.Node, v reflect.Value, p string) bool {
	if n.Kind != yaml.SequenceNode {
		d.errs.add(posOf(n), d.specField(p), "want %s, got %s", typeName(v.Type()), describeNode(n))
		return false
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	ok := true
	for i, elem := range n.Content {
		sub := fmt.Sprintf("%s[%d]", p, i)
		if !d.decode(elem, out.Index(i), sub) {
			ok = false
		}
	}
	if ok {
		v.Set(out)
	}
	return ok
}

func (d *nodeDecoder) decodeScalar(n *yaml.Node, v reflect.Value, p string) bool {
	field := d.specField(p)
	want := typeName(v.Type())
	if n.Kind != yaml.ScalarNode {
		d.errs.add(posOf(n), field, "want %s, got %s", want, describeNode(n))
		return false
	}
	x, err := scalarValue(n)
	if err != nil {
		d.errs.add(posOf(n), field, "%v", err)
		return false
	}
	bad := func() bool {
		d.errs.add(posOf(n), field, "want %s, got %s", want, describeNode(n))
		return false
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := toInt64(x)
		if !ok || v.OverflowInt(i) {
			return bad()
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, ok := toUint64(x)
		if !ok || v.OverflowUint(u) {
			return bad()
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, ok := toFloat64(x)
		if !ok {
			return bad()
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || v.OverflowFloat(f) {
			d.errs.add(posOf(n), field, "want a finite number, got %s", n.Value)
			return false
		}
		v.SetFloat(f)
	case reflect.String:
		s, ok := x.(string)
		if !ok {
			return bad()
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := x.(bool)
		if !ok {
			return bad()
		}
		v.SetBool(b)
	default:
		d.errs.add(posOf(n), field, "unsupported field type %s", v.Type())
		return false
	}
	return true
}

// leadingZero matches integer literals that YAML 1.1 would read as octal.
var leadingZero = regexp.MustCompile(`^[-+]?0[0-9_]+$`)

// plainDecimal matches the integer literals strconv reads as YAML does.
var plainDecimal = regexp.MustCompile(`^-?[0-9]+$`)

// scalarValue resolves a scalar node as YAML does: nil, bool, int, int64,
// uint64, float64 or string. Integers with leading zeros (octal in YAML 1.1)
// and timestamps are refused as ambiguous.
func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!int":
		if n.Style == 0 && leadingZero.MatchString(n.Value) {
			return nil, fmt.Errorf("ambiguous number %s: leading zeros read as octal; write it without them", n.Value)
		}
		if plainDecimal.MatchString(n.Value) {
			if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				if i == int64(int(i)) {
					return int(i), nil
				}
				return i, nil
			}
		}
	case "!!str":
		return n.Value, nil
	}
	var x any
	if err := n.Decode(&x); err != nil {
		return nil, fmt.Errorf("bad value %q: %v", n.Value, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	switch x := x.(type) {
	case nil, bool, int, int64, uint64, float64, string:
		return x, nil
	case time.Time:
		// An unquoted date; quote it to make it a string.
		return n.Value, nil
	default:
		return nil, fmt.Errorf("unsupported value %q (%T)", n.Value, x)
	}
}

func toInt64(x any) (int64, bool) {
	switch x := x.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

func toUint64(x any) (uint64, bool) {
	switch x := x.(type) {
	case int:
		return uint64(x), x >= 0
	case int64:
		return uint64(x), x >= 0
	case uint64:
		return x, true
	case float64:
		if x != math.Trunc(x) || x < 0 || x >= 1<<64 {
			return 0, false
		}
		return uint64(x), true
	}
	return 0, false
}

func toFloat64(x any) (float64, bool) {
	switch x := x.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// describeNode says what a node is, for "want …, got …" messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return "string " + strconv.Quote(n.Value)
		case "!!int":
			return "integer " + n.Value
		case "!!float":
			return "number " + n.Value
		case "!!bool":
			return n.Value
		default:
			return n.Value
		}
	default:
		return "an unsupported YAML node"
	}
}

// descendNode returns the node below n that the config path suffix (e.g.
// ".shape", "[1]", ".hidden[0]") addresses, as far as n's structure goes.
func descendNode(n *yaml.Node, suffix string) *yaml.Node {
	for _, seg := range splitPathSegments(suffix) {
		n = unalias(n)
		next := (*yaml.Node)(nil)
		if i, ok := indexSegment(seg); ok {
			if n.Kind == yaml.SequenceNode && i < len(n.Content) {
				next = n.Content[i]
			}
		} else if n.Kind == yaml.MappingNode && seg[0] == '.' {
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == seg[1:] {
					next = n.Content[j+1]
					break
				}
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

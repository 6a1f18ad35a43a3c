package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sgsweep/sgsweep/sim"
)

// Spec is a parsed, validated sweep spec: a base configuration, the axes
// that vary it and the rules that drop combinations. Every task it expands
// to has a valid sim.Config. A Spec is immutable; use Parse or ParseFile.
type Spec struct {
	// Name identifies the sweep in a store and is a NATS subject token:
	// it matches NamePattern.
	Name string
	// Description is free text; it is not part of the spec's identity.
	Description string
	// MaxTasks is the most tasks the spec may expand to (default
	// DefaultMaxTasks); a guard against typos that explode a grid.
	MaxTasks int
	// File is the file name the spec was parsed from, for messages.
	File string

	base      sim.Config        // defaults ← base
	baseOrig  map[string]origin // config path → where base set it
	axes      []*axis           // iteration order: axes[0] varies slowest
	rules     []*rule
	stopping  *Stopping // nil: no early stopping
	verify    *Verify   // nil: no verification by recomputation
	sampling  *Sampling // nil: no sampled axes
	points    int       // grid points before exclusion
	count     int       // tasks after exclusion
	canonical []byte
}

// NamePattern is what a sweep name must match.
const NamePattern = `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`

var nameRE = regexp.MustCompile(NamePattern)

// ValidName reports whether s can name a sweep.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// Limits on the size of a sweep.
const (
	// DefaultMaxTasks is max_tasks when a spec does not set it.
	DefaultMaxTasks = 100_000
	// MaxMaxTasks is the largest max_tasks a spec may set.
	MaxMaxTasks = 10_000_000
	// pointsPerTask bounds the grid before exclusion: at most
	// pointsPerTask × max_tasks points, so that planning stays fast.
	pointsPerTask = 10
)

// Top-level keys of a spec.
var specKeys = []string{"name", "description", "max_tasks", "base", "grid", "zip", "replicates", "exclude", "sample", "stopping", "verify"}

// replicateKeys are the fields replicates may vary.
var replicateKeys = []string{"seed", "data_seed"}

// ParseFile reads and parses the spec in path; see Parse.
func ParseFile(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a YAML sweep spec; filename is used in
// messages. Every problem found is reported with its file, line and spec
// field: the error is a *SpecError, or a *SpecErrors when there are several.
// Validation includes every task the spec expands to: a Spec returned
// without error expands without error.
func Parse(filename string, data []byte) (*Spec, error) {
	p := &specParser{
		errs:   &errorList{file: filename},
		budget: nodeBudget{total: maxNodes, left: maxNodes},
		spec:   &Spec{File: filename, MaxTasks: DefaultMaxTasks, base: sim.DefaultConfig()},
	}
	p.parse(data)
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return p.spec, nil
}

// specParser holds the state of one Parse.
type specParser struct {
	errs   *errorList
	budget nodeBudget
	spec   *Spec
	// sampled holds the sampled grid entries (sample.go); sampledErrors
	// records that one of them was refused.
	sampled       []*sampledAxis
	sampledErrors bool
	// stopEpochs are the stopping rules' first epochs, checked against the
	// tasks' epochs once the tasks are validated (stopparse.go).
	stopEpochs []stopEpoch
}

func (p *specParser) decoder(prefix string) *nodeDecoder {
	return &nodeDecoder{errs: p.errs, budget: &p.budget, prefix: prefix}
}

// yamlLine extracts the line from a yaml error message ("yaml: line 3: …").
var yamlLine = regexp.MustCompile(`line (\d+):`)

// readYAML parses data into its single document's root node.
func (p *specParser) readYAML(data []byte) (root *yaml.Node) {
	defer func() {
		if r := recover(); r != nil {
			p.errs.add(position{}, "", "invalid YAML: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errs.add(position{}, "", "empty spec")
			return nil
		}
		var pos position
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			pos.line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = yamlLine.ReplaceAllString(msg, "")
		p.errs.add(pos, "", "invalid YAML: %s", strings.TrimSpace(msg))
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		p.errs.add(posOf(&extra), "", "more than one YAML document")
		return nil
	}
	if len(doc.Content) == 0 {
		p.errs.add(position{}, "", "empty spec")
		return nil
	}
	return doc.Content[0]
}

func (p *specParser) parse(data []byte) {
	root := p.readYAML(data)
	if root == nil {
		return
	}
	root = unalias(root)
	if root.Kind != yaml.MappingNode {
		p.errs.add(posOf(root), "", "a spec is a mapping with keys %s; got %s", strings.Join(specKeys, ", "), describeNode(root))
		return
	}
	sections := map[string]*yaml.Node{}
	keyPos := map[string]position{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if k.Kind != yaml.ScalarNode {
			p.errs.add(posOf(k), "", "keys must be strings")
			continue
		}
		if !slices.Contains(specKeys, k.Value) {
			p.errs.add(posOf(k), k.Value, "unknown key (allowed: %s)%s", strings.Join(specKeys, ", "), didYouMean(k.Value, specKeys))
			continue
		}
		if prev, ok := keyPos[k.Value]; ok {
			p.errs.add(posOf(k), k.Value, "set twice (also on line %d)", prev.line)
			continue
		}
		keyPos[k.Value] = posOf(k)
		v := root.Content[i+1]
		v = unalias(v)
		sections[k.Value] = v
	}
	s := p.spec

	// name, description, max_tasks
	if n := sections["name"]; n == nil || isNull(n) {
		p.errs.add(posOf(root), "name", "missing: every sweep needs a name matching %s", NamePattern)
	} else if n.Kind != yaml.ScalarNode {
		p.errs.add(posOf(n), "name", "want a string, got %s", describeNode(n))
	} else if s.Name = n.Value; !ValidName(s.Name) {
		p.errs.add(posOf(n), "name", "%q is not a valid sweep name: it must match %s (letters, digits, _ and -, at most 64, not starting with _ or -)", s.Name, NamePattern)
	}
	if n := sections["description"]; n != nil && !isNull(n) {
		if n.Kind != yaml.ScalarNode {
			p.errs.add(posOf(n), "description", "want a string, got %s", describeNode(n))
		} else {
			s.Description = strings.TrimSpace(n.Value)
		}
	}
	if n := sections["max_tasks"]; n != nil {
		var max int
		if p.decoder("max_tasks").decode(n, reflect.ValueOf(&max).Elem(), "") {
			if max < 1 || max > MaxMaxTasks {
				p.errs.add(posOf(n), "max_tasks", "must be between 1 and %d, got %d", MaxMaxTasks, max)
			} else {
				s.MaxTasks = max
			}
		}
	}
	// Generated axis values are nodes too.
	p.budget.total += 2 * s.MaxTasks
	p.budget.left += 2 * s.MaxTasks

	// base
	s.baseOrig = map[string]origin{}
	if n := sections["base"]; n != nil && !isNull(n) {
		d := p.decoder("base")
		d.origins = s.baseOrig
		d.decode(n, reflect.ValueOf(&s.base).Elem(), "")
	}

	// axes
	if n := sections["grid"]; n != nil && !isNull(n) {
		p.parseGrid(n)
	}
	if n := sections["zip"]; n != nil && !isNull(n) {
		p.parseZip(n)
	}
	p.parseSample(sections["sample"]) // sample.go
	// Written axes vary in the order they appear in the file, the first
	// slowest; replicates vary slowest of all.
	slices.SortStableFunc(s.axes, func(a, b *axis) int {
		if a.pos.line != b.pos.line {
			return a.pos.line - b.pos.line
		}
		return a.pos.col - b.pos.col
	})
	if n := sections["replicates"]; n != nil && !isNull(n) {
		p.parseReplicates(n)
	}
	p.checkOverlaps()
	if n := sections["exclude"]; n != nil && !isNull(n) {
		p.parseExclude(n)
	}
	p.parseStopping(sections["stopping"]) // stopparse.go
	p.parseVerify(sections["verify"])     // verify.go
	if len(p.errs.errs) > 0 {
		return
	}

	p.countTasks(keyPos)
	if len(p.errs.errs) > 0 {
		return
	}
	p.validateTasks()
	if len(p.errs.errs) > 0 {
		return
	}
	p.checkStoppingEpochs() // stopparse.go
	if len(p.errs.errs) > 0 {
		return
	}
	canon, err := s.buildCanonical()
	if err != nil {
		p.errs.add(position{}, "", "canonical spec: %v", err)
		return
	}
	s.canonical = canon
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// parseGrid reads the grid section: dotted config path → values.
func (p *specParser) parseGrid(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errs.add(posOf(n), "grid", "want a mapping of config paths to values, like surrogate.scale: [1, 10]; got %s", describeNode(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path, ok := p.decoder("grid").mappingKey(k, "")
		if !ok || p.parseSampledEntry(path, k, v) { // sample.go
			continue
		}
		ax := &axis{kind: AxisGrid, prefix: "grid", pos: posOf(k)}
		if ax.addPath(p, path, k, v) {
			p.spec.axes = append(p.spec.axes, ax)
		}
	}
}

// parseZip reads the zip section: a list of groups (or one group), each a
// mapping of config paths to equally long lists of values.
func (p *specParser) parseZip(n *yaml.Node) {
	for g, gn := range oneOrList(n) {
		prefix := fmt.Sprintf("zip[%d]", g)
		if n.Kind != yaml.SequenceNode {
			prefix = "zip"
		}
		gn = unalias(gn)
		if gn.Kind != yaml.MappingNode || len(gn.Content) == 0 {
			p.errs.add(posOf(gn), prefix, "a zip group is a mapping of config paths to lists of equal length, like {surrogate.shape: [superspike, esser], surrogate.scale: [10, 1]}; got %s", describeNode(gn))
			continue
		}
		ax := &axis{kind: AxisZip, prefix: prefix, pos: posOf(gn)}
		ok := true
		for i := 0; i+1 < len(gn.Content); i += 2 {
			k, v := gn.Content[i], gn.Content[i+1]
			path, good := p.decoder(prefix).mappingKey(k, "")
			if !good || !ax.addPath(p, path, k, v) {
				ok = false
			}
		}
		if ok && ax.checkZip(p) {
			p.spec.axes = append(p.spec.axes, ax)
		}
	}
}

// parseReplicates reads the replicates section: seed and/or data_seed, each
// a count n (meaning 1, 2, …, n) or values like any axis. Replicate axes
// vary slowest, in the order written.
func (p *specParser) parseReplicates(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.errs.add(posOf(n), "replicates", "want a mapping like {seed: 5}; got %s", describeNode(n))
		return
	}
	var reps []*axis
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key, ok := p.decoder("replicates").mappingKey(k, "")
		if !ok {
			continue
		}
		if !slices.Contains(replicateKeys, key) {
			p.errs.add(posOf(k), "replicates."+key, "unknown replicate (allowed: %s)%s", strings.Join(replicateKeys, ", "), didYouMean(key, replicateKeys))
			continue
		}
		v = unalias(v)
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!int" {
			// A count: seeds 1..n.
			x, err := scalarValue(v)
			count, isInt := toInt64(x)
			if err != nil || !isInt || count < 1 || count > int64(p.spec.MaxTasks) {
				p.errs.add(posOf(v), "replicates."+key, "a replicate count must be between 1 and max_tasks (%d), got %s", p.spec.MaxTasks, v.Value)
				continue
			}
			seq := &yaml.Node{Kind: yaml.SequenceNode, Line: v.Line, Column: v.Column}
			for s := int64(1); s <= count; s++ {
				seq.Content = append(seq.Content, intNode(s, posOf(v)))
			}
			v = seq
		}
		ax := &axis{kind: AxisReplicate, prefix: "replicates", pos: posOf(k)}
		if ax.addPath(p, key, k, v) {
			reps = append(reps, ax)
		}
	}
	p.spec.axes = append(reps, p.spec.axes...)
}

// checkOverlaps refuses two axes that set the same config field, or a field
// and one of its parents.
func (p *specParser) checkOverlaps() {
	type seen struct {
		path  string
		field string
		pos   position
	}
	var all []seen
	for _, ax := range p.spec.axes {
		for j, path := range ax.paths {
			field := ax.specField(j)
			for _, s := range all {
				if pathCovers(s.path, path) || pathCovers(path, s.path) {
					p.errs.add(ax.pathPos[j], field, "overlaps %s (line %d): a field can be varied by one axis only", s.field, s.pos.line)
				}
			}
			all = append(all, seen{path, field, ax.pathPos[j]})
		}
	}
}

// countTasks counts the grid points and the tasks left after exclusion, and
// enforces max_tasks.
func (p *specParser) countTasks(keyPos map[string]position) {
	s := p.spec
	maxPos, maxField := keyPos["max_tasks"], "max_tasks"
	if _, ok := keyPos["max_tasks"]; !ok {
		maxPos, maxField = keyPos["grid"], "grid"
	}
	points := 1
	limit := pointsPerTask * s.MaxTasks
	for _, ax := range s.axes {
		points *= len(ax.values)
		if points > limit {
			p.errs.add(maxPos, maxField, "the grid has more than %d points before exclusion (%s); that is more than %d × max_tasks = %d; raise max_tasks if you mean it",
				limit, s.axisSizes(), pointsPerTask, s.MaxTasks)
			return
		}
	}
	s.points = points
	hits := make([]int, len(s.rules))
	count := 0
	s.eachPoint(func(idx []int) bool {
		excluded := false
		for r, rule := range s.rules {
			if rule.matches(idx) {
				hits[r]++
				excluded = true
			}
		}
		if !excluded {
			count++
		}
		return true
	})
	for r, rule := range s.rules {
		if hits[r] == 0 {
			p.errs.add(rule.pos, fmt.Sprintf("exclude[%d]", r), "matches no task of the grid")
		}
	}
	s.count = count
	switch {
	case count == 0:
		p.errs.add(keyPos["exclude"], "exclude", "every one of the %d grid points is excluded", points)
	case count > s.MaxTasks:
		p.errs.add(maxPos, maxField, "the spec expands to %d tasks (%s), more than max_tasks = %d; raise max_tasks if you mean it",
			count, s.axisSizes(), s.MaxTasks)
	}
}

// axisSizes describes the axes' sizes, like "seed 5 × surrogate.shape 3".
func (s *Spec) axisSizes() string {
	parts := make([]string, len(s.axes))
	for i, ax := range s.axes {
		parts[i] = fmt.Sprintf("%s %d", ax.name(), len(ax.values))
	}
	if len(parts) == 0 {
		return "no axes"
	}
	return strings.Join(parts, " × ")
}

// validateTasks runs sim's Validate on every task's config and reports each
// problem at the spec line that set the offending field.
func (p *specParser) validateTasks() {
	s := p.spec
	s.eachTask(func(idx []int) bool {
		cfg := s.config(idx)
		if err := cfg.Validate(); err != nil {
			for _, fe := range fieldErrors(err) {
				pos, field := s.locate(fe.Field, idx)
				p.errs.add(pos, field, "%s", fe.Msg)
			}
		}
		return !p.errs.full()
	})
}

// fieldErrors returns the *sim.FieldErrors in err (joined or not); any other
// error becomes a FieldError without a field.
func fieldErrors(err error) []*sim.FieldError {
	var out []*sim.FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*sim.FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var fe *sim.FieldError
		if errors.As(err, &fe) {
			out = append(out, fe)
			return
		}
		out = append(out, &sim.FieldError{Msg: err.Error()})
	}
	walk(err)
	return out
}

// locate returns the spec position and field that set config path field in
// the task at idx: the axis value that set it, else the base entry, else
// nothing (a simulator default).
func (s *Spec) locate(field string, idx []int) (position, string) {
	for a, ax := range s.axes {
		for j, path := range ax.paths {
			if field != "" && pathCovers(path, field) {
				n := descendNode(ax.nodes[idx[a]][j], field[len(path):])
				return posOf(n), ax.prefix + "." + field
			}
		}
	}
	for q := field; ; q = parentPath(q) {
		if o, ok := s.baseOrig[q]; ok {
			return posOf(descendNode(o.node, field[len(q):])), joinSpecField("base", field)
		}
		if q == "" {
			break
		}
	}
	return position{}, field
}

func joinSpecField(prefix, field string) string {
	if field == "" {
		return prefix
	}
	return prefix + "." + field
}

// parentPath drops the last segment of a config path ("a.b[0]" → "a.b").
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Canonical returns the canonical JSON of the spec's content: the model
// version, the resolved base configuration (defaults filled in, fields set
// by axes left out), the axes in iteration order with their resolved values,
// the exclusion rules (normalised and sorted) and the stopping block (with
// its defaults, when there is one). Name, description,
// max_tasks, comments, key order and number spelling are not part of it;
// axis order is, because it defines the task ordinals.
func (s *Spec) Canonical() []byte { return slices.Clone(s.canonical) }

// Fingerprint returns the hex SHA-256 of Canonical().
func (s *Spec) Fingerprint() string {
	d, _ := Digest(json.RawMessage(s.canonical))
	return d
}

// Count returns the number of tasks the spec expands to.
func (s *Spec) Count() int { return s.count }

// Points returns the number of grid points before exclusion.
func (s *Spec) Points() int { return s.points }

// Base returns the resolved base configuration: sim.DefaultConfig() with
// the spec's base applied.
func (s *Spec) Base() sim.Config {
	return deepCopy(reflect.ValueOf(s.base)).Interface().(sim.Config)
}

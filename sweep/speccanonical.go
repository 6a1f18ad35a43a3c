package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sgsweep/sgsweep/sim"
)

// SchemaSpec names the layout of a canonical spec (Spec.Canonical).
const SchemaSpec = "sgsweep.spec/v1"

// canonicalSpec is the content of a spec that defines its tasks and their
// order; its canonical JSON is Spec.Canonical.
type canonicalSpec struct {
	Schema       string          `json:"schema"`
	ModelVersion string          `json:"model_version"`
	Base         json.RawMessage `json:"base"`
	Axes         []canonicalAxis `json:"axes"`
	// Exclude holds each rule's canonical JSON, sorted.
	Exclude []json.RawMessage `json:"exclude"`
	// Sample is the sample block with the sampled axes' distributions;
	// absent without sampled axes (so older fingerprints stand).
	Sample *canonicalSample `json:"sample,omitempty"`
	// Stopping is the stopping block with its defaults filled in; absent
	// when the spec has none, so that specs without one keep their
	// fingerprints.
	Stopping *Stopping `json:"stopping,omitempty"`
	// Verify is the verify block; absent when the spec has none.
	Verify *Verify `json:"verify,omitempty"`
}

// canonicalSample is how the sample points were drawn: with the drawn
// values (in the sample axis) it makes a change of method, n, seed or a
// distribution change the fingerprint.
type canonicalSample struct {
	Method string `json:"method"`
	N      int    `json:"n"`
	// Seed is absent for sobol, which ignores it.
	Seed *uint64            `json:"seed,omitempty"`
	Axes []canonicalSampled `json:"axes"`
}

type canonicalSampled struct {
	Path string            `json:"path"`
	Dist string            `json:"dist"`
	Args []json.RawMessage `json:"args"`
}

func newCanonicalSample(smp *Sampling) *canonicalSample {
	if smp == nil {
		return nil
	}
	c := &canonicalSample{Method: smp.Method, N: smp.N}
	if smp.Method != methodSobol {
		seed := smp.Seed
		c.Seed = &seed
	}
	for _, ax := range smp.Axes {
		c.Axes = append(c.Axes, canonicalSampled{Path: ax.Path, Dist: ax.Dist, Args: ax.Args})
	}
	return c
}

type canonicalAxis struct {
	Kind   AxisKind            `json:"kind"`
	Paths  []string            `json:"paths"`
	Values [][]json.RawMessage `json:"values"`
}

func (s *Spec) buildCanonical() ([]byte, error) {
	base, err := Canonical(s.base)
	if err != nil {
		return nil, err
	}
	// Fields set by axes are not part of the base: their base values never
	// reach a task.
	var tree map[string]any
	dec := json.NewDecoder(bytes.NewReader(base))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	for _, ax := range s.axes {
		for _, path := range ax.paths {
			deletePath(tree, path)
		}
	}
	if base, err = Canonical(tree); err != nil {
		return nil, err
	}
	c := canonicalSpec{
		Schema:       SchemaSpec,
		ModelVersion: sim.ModelVersion,
		Base:         base,
		Axes:         []canonicalAxis{},
		Exclude:      []json.RawMessage{},
		Sample:       newCanonicalSample(s.sampling),
		Stopping:     s.stopping,
		Verify:       s.verify,
	}
	for _, ax := range s.axes {
		c.Axes = append(c.Axes, canonicalAxis{Kind: ax.kind, Paths: ax.paths, Values: ax.raw})
	}
	for _, r := range s.rules {
		c.Exclude = append(c.Exclude, r.canon)
	}
	slices.SortFunc(c.Exclude, func(a, b json.RawMessage) int { return bytes.Compare(a, b) })
	return Canonical(c)
}

// deletePath removes the dotted path from a decoded JSON object tree.
func deletePath(tree map[string]any, path string) {
	segs := strings.Split(path, ".")
	for _, seg := range segs[:len(segs)-1] {
		next, ok := tree[seg].(map[string]any)
		if !ok {
			return
		}
		tree = next
	}
	delete(tree, segs[len(segs)-1])
}

// Diff returns a short description, one change per line, of how the
// canonical spec newCanonical differs from oldCanonical (both from
// Spec.Canonical): changed base fields, added and removed axes and axis
// values, reordered axes, changed exclusion rules, a changed stopping
// block. It returns nil when they are equal.
func Diff(oldCanonical, newCanonical []byte) []string {
	if bytes.Equal(oldCanonical, newCanonical) {
		return nil
	}
	var a, b canonicalSpec
	if json.Unmarshal(oldCanonical, &a) != nil || json.Unmarshal(newCanonical, &b) != nil {
		return []string{"spec changed (a canonical spec is unreadable)"}
	}
	var out []string
	if a.Schema != b.Schema {
		out = append(out, fmt.Sprintf("spec schema: %s → %s", a.Schema, b.Schema))
	}
	if a.ModelVersion != b.ModelVersion {
		out = append(out, fmt.Sprintf("model version: %s → %s (every task ID changes)", a.ModelVersion, b.ModelVersion))
	}
	out = append(out, diffBase(a, b)...)
	out = append(out, diffAxes(a.Axes, b.Axes)...)
	out = append(out, diffRules(a.Exclude, b.Exclude)...)
	out = append(out, diffSample(a.Sample, b.Sample)...)
	out = append(out, diffStopping(a.Stopping, b.Stopping)...)
	if a.Verify == nil != (b.Verify == nil) || a.Verify != nil && *a.Verify != *b.Verify {
		out = append(out, fmt.Sprintf("verify: %s → %s", verifyText(a.Verify), verifyText(b.Verify)))
	}
	if len(out) == 0 {
		out = append(out, "spec changed")
	}
	return out
}

func diffBase(a, b canonicalSpec) []string {
	fa, fb := map[string]string{}, map[string]string{}
	flattenJSON(a.Base, "base", fa)
	flattenJSON(b.Base, "base", fb)
	varied := func(key string) bool {
		for _, axes := range [][]canonicalAxis{a.Axes, b.Axes} {
			for _, ax := range axes {
				for _, p := range ax.Paths {
					if pathCovers("base."+p, key) {
						return true
					}
				}
			}
		}
		return false
	}
	keys := make([]string, 0, len(fa)+len(fb))
	for k := range fa {
		keys = append(keys, k)
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		va, inA := fa[k]
		vb, inB := fb[k]
		switch {
		case va == vb && inA == inB, varied(k):
		case !inA:
			out = append(out, fmt.Sprintf("%s: added %s", k, vb))
		case !inB:
			out = append(out, fmt.Sprintf("%s: removed (was %s)", k, va))
		default:
			out = append(out, fmt.Sprintf("%s: %s → %s", k, va, vb))
		}
	}
	return out
}

// flattenJSON maps each leaf of a JSON object tree (lists are leaves) to its
// rendered value, under dotted keys starting with prefix.
func flattenJSON(raw json.RawMessage, prefix string, out map[string]string) {
	var obj map[string]json.RawMessage
	if len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &obj) == nil {
		for k, v := range obj {
			flattenJSON(v, prefix+"."+k, out)
		}
		return
	}
	out[prefix] = FormatValue(raw)
}

func diffAxes(a, b []canonicalAxis) []string {
	name := func(ax canonicalAxis) string { return strings.Join(ax.Paths, "+") }
	byName := func(axes []canonicalAxis) map[string]canonicalAxis {
		m := map[string]canonicalAxis{}
		for _, ax := range axes {
			m[name(ax)] = ax
		}
		return m
	}
	ma, mb := byName(a), byName(b)
	var out []string
	for _, ax := range a {
		if _, ok := mb[name(ax)]; !ok {
			out = append(out, fmt.Sprintf("axis %s: removed (had %d values)", name(ax), len(ax.Values)))
		}
	}
	var commonA, commonB []string
	for _, ax := range a {
		if _, ok := mb[name(ax)]; ok {
			commonA = append(commonA, name(ax))
		}
	}
	for _, axB := range b {
		n := name(axB)
		axA, ok := ma[n]
		if !ok {
			out = append(out, fmt.Sprintf("axis %s: added with %d values (%s)", n, len(axB.Values), formatPoints(axB.Values)))
			continue
		}
		commonB = append(commonB, n)
		if axA.Kind != axB.Kind {
			out = append(out, fmt.Sprintf("axis %s: %s → %s", n, axA.Kind, axB.Kind))
		}
		va, vb := pointKeys(axA.Values), pointKeys(axB.Values)
		var added, removed [][]json.RawMessage
		for i, k := range vb {
			if !slices.Contains(va, k) {
				added = append(added, axB.Values[i])
			}
		}
		for i, k := range va {
			if !slices.Contains(vb, k) {
				removed = append(removed, axA.Values[i])
			}
		}
		switch {
		case len(added) > 0 && len(removed) > 0:
			out = append(out, fmt.Sprintf("axis %s: added %s; removed %s", n, formatPoints(added), formatPoints(removed)))
		case len(added) > 0:
			out = append(out, fmt.Sprintf("axis %s: added %s", n, formatPoints(added)))
		case len(removed) > 0:
			out = append(out, fmt.Sprintf("axis %s: removed %s", n, formatPoints(removed)))
		case !slices.Equal(va, vb):
			out = append(out, fmt.Sprintf("axis %s: values reordered", n))
		}
	}
	if !slices.Equal(commonA, commonB) {
		out = append(out, fmt.Sprintf("axis order: %s → %s", strings.Join(commonA, ", "), strings.Join(commonB, ", ")))
	}
	return out
}

func pointKeys(points [][]json.RawMessage) []string {
	keys := make([]string, len(points))
	for i, p := range points {
		keys[i] = string(joinRaw(p))
	}
	return keys
}

// formatPoints renders axis points for a message, at most 10.
func formatPoints(points [][]json.RawMessage) string {
	var parts []string
	for i, p := range points {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("… %d more", len(points)-10))
			break
		}
		vals := make([]string, len(p))
		for j, v := range p {
			vals[j] = shortValue(v)
		}
		if len(vals) == 1 {
			parts = append(parts, vals[0])
		} else {
			parts = append(parts, "("+strings.Join(vals, ", ")+")")
		}
	}
	return strings.Join(parts, ", ")
}

func diffRules(a, b []json.RawMessage) []string {
	contains := func(list []json.RawMessage, r json.RawMessage) bool {
		return slices.ContainsFunc(list, func(x json.RawMessage) bool { return bytes.Equal(x, r) })
	}
	var out []string
	for _, r := range a {
		if !contains(b, r) {
			out = append(out, "exclude: removed rule "+string(r))
		}
	}
	for _, r := range b {
		if !contains(a, r) {
			out = append(out, "exclude: added rule "+string(r))
		}
	}
	return out
}

// diffSample describes a change of the sample block.
func diffSample(a, b *canonicalSample) []string {
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	switch {
	case bytes.Equal(ra, rb):
		return nil
	case a == nil:
		return []string{"sample: added " + string(rb)}
	case b == nil:
		return []string{"sample: removed (was " + string(ra) + ")"}
	}
	return []string{"sample: " + string(ra) + " → " + string(rb)}
}

// verifyText renders a verify block for Diff.
func verifyText(v *Verify) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprintf("{fraction: %v, seed: %d}", v.Fraction, v.Seed)
}

// diffStopping describes a change of the stopping block.
func diffStopping(a, b *Stopping) []string {
	switch {
	case a == nil && b == nil:
		return nil
	case a == nil:
		return []string{"stopping: added " + b.String()}
	case b == nil:
		return []string{"stopping: removed " + a.String()}
	case a.String() != b.String():
		return []string{"stopping: " + a.String() + " → " + b.String()}
	}
	return nil
}

// CanonicalHasStopping reports whether a spec's canonical JSON (Canonical)
// has a stopping block, without parsing the spec again.
func CanonicalHasStopping(canonical []byte) bool {
	var c struct {
		Stopping json.RawMessage `json:"stopping"`
	}
	return json.Unmarshal(canonical, &c) == nil && len(c.Stopping) > 0 && string(c.Stopping) != "null"
}

package sweep

import (
	"encoding/json"
	"fmt"
	"slices"
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

// sampleKeys are the keys of the sample block.
var sampleKeys = []string{"method", "n", "seed"}

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

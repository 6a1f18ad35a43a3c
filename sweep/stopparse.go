package sweep

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sgsweep/sgsweep/sim"
)

// The grammar of the stopping block (see Stopping and docs/stopping.md).

// stopRuleKeys lists, per rule, the keys it takes besides rule: the first
// is required, the second optional.
var stopRuleKeys = map[string][2]string{
	RuleChance: {"after", "margin"},
	RuleMedian: {"warmup", "min_tasks"},
	RuleASHA:   {"grace", "reduction"},
}

// stopRules lists the rules in the order messages name them.
var stopRules = []string{RuleChance, RuleMedian, RuleASHA}

var stoppingKeys = []string{"metric", "mode", "rules", "group"}

// stopEpoch is a rule's first epoch (after, warmup or grace), to be
// checked against the tasks' epochs once they are known.
type stopEpoch struct {
	pos   position
	field string
	value int
}

// parseStopping reads the spec's stopping block (n is nil when the spec has
// none). The axes must be final: group paths must be varied by one.
func (p *specParser) parseStopping(n *yaml.Node) {
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errs.add(posOf(n), "stopping", "want a mapping with keys %s, like {metric: val_acc, rules: [{rule: chance, after: 5}]}; got %s", strings.Join(stoppingKeys, ", "), describeNode(n))
		return
	}
	st := &Stopping{}
	ok := true
	var metricNode, modeNode, rulesNode *yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], unalias(n.Content[i+1])
		key, good := p.decoder("stopping").mappingKey(k, "")
		if !good {
			ok = false
			continue
		}
		if line, dup := seen[key]; dup {
			p.errs.add(posOf(k), "stopping."+key, "set twice (also on line %d)", line)
			ok = false
			continue
		}
		seen[key] = k.Line
		switch key {
		case "metric":
			metricNode = v
		case "mode":
			modeNode = v
		case "rules":
			rulesNode = v
		case "group":
			ok = p.parseStopGroup(st, v) && ok
		default:
			p.errs.add(posOf(k), "stopping."+key, "unknown key (allowed: %s)%s", strings.Join(stoppingKeys, ", "), didYouMean(key, stoppingKeys))
			ok = false
		}
	}
	ok = p.parseStopMetric(st, n, metricNode, modeNode) && ok
	if rulesNode == nil || isNull(rulesNode) {
		p.errs.add(posOf(n), "stopping.rules", "missing: a list of rules like [{rule: chance, after: 5}] (rules: %s)", strings.Join(stopRules, ", "))
		ok = false
	} else {
		ok = p.parseStopRules(st, rulesNode) && ok
	}
	if ok {
		p.spec.stopping = st
	}
}

// parseStopMetric reads metric and mode (either node may be nil).
func (p *specParser) parseStopMetric(st *Stopping, block, metric, mode *yaml.Node) bool {
	names := StopMetrics()
	if metric == nil || isNull(metric) {
		p.errs.add(posOf(block), "stopping.metric", "missing: the per-epoch curve the rules compare (one of %s)", strings.Join(names, ", "))
		return false
	}
	if !p.decodeStopValue(metric, "stopping.metric", &st.Metric) {
		return false
	}
	_, natural, known := StopMetricValue(st.Metric, sim.Epoch{})
	if !known {
		p.errs.add(posOf(metric), "stopping.metric", "%q is not a per-epoch curve: the rules compare one of %s, known after every epoch%s",
			st.Metric, strings.Join(names, ", "), didYouMean(st.Metric, names))
		return false
	}
	st.Mode = natural
	if mode == nil || isNull(mode) {
		return true
	}
	var m string
	if !p.decodeStopValue(mode, "stopping.mode", &m) {
		return false
	}
	switch {
	case m != ModeMax && m != ModeMin:
		p.errs.add(posOf(mode), "stopping.mode", "%q is not a mode: max (higher is better) or min (lower is better)%s", m, didYouMean(m, []string{ModeMax, ModeMin}))
		return false
	case m != natural:
		p.errs.add(posOf(mode), "stopping.mode", "%s is better when %s, so its mode is %s, not %s", st.Metric, map[string]string{ModeMax: "higher", ModeMin: "lower"}[natural], natural, m)
		return false
	}
	return true
}

// parseStopRules reads the list of rules.
func (p *specParser) parseStopRules(st *Stopping, n *yaml.Node) bool {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errs.add(posOf(n), "stopping.rules", "want a list of rules like [{rule: chance, after: 5}] (rules: %s), got %s", strings.Join(stopRules, ", "), describeNode(n))
		return false
	}
	ok := true
	for i, rn := range n.Content {
		field := fmt.Sprintf("stopping.rules[%d]", i)
		r, good := p.parseStopRule(field, unalias(rn))
		if !good {
			ok = false
			continue
		}
		if j := slices.Index(st.Rules, r); j >= 0 {
			p.errs.add(posOf(rn), field, "repeats rules[%d]", j)
			ok = false
			continue
		}
		st.Rules = append(st.Rules, r)
	}
	return ok
}

// parseStopRule reads one rule, a mapping like {rule: chance, after: 5}.
func (p *specParser) parseStopRule(field string, n *yaml.Node) (StopRule, bool) {
	var r StopRule
	if n.Kind != yaml.MappingNode {
		p.errs.add(posOf(n), field, "a rule is a mapping like {rule: chance, after: 5}; got %s", describeNode(n))
		return r, false
	}
	entries := map[string][2]*yaml.Node{} // key → key node, value node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		key, good := p.decoder(field).mappingKey(k, "")
		if !good {
			return r, false
		}
		if prev, dup := entries[key]; dup {
			p.errs.add(posOf(k), field+"."+key, "set twice (also on line %d)", prev[0].Line)
			return r, false
		}
		entries[key] = [2]*yaml.Node{k, unalias(n.Content[i+1])}
	}
	rn, found := entries["rule"]
	if !found {
		p.errs.add(posOf(n), field+".rule", "missing: which rule (%s)", strings.Join(stopRules, ", "))
		return r, false
	}
	if !p.decodeStopValue(rn[1], field+".rule", &r.Rule) {
		return r, false
	}
	keys, known := stopRuleKeys[r.Rule]
	if !known {
		p.errs.add(posOf(rn[1]), field+".rule", "unknown rule %q (rules: %s)%s", r.Rule, strings.Join(stopRules, ", "), didYouMean(r.Rule, stopRules))
		return r, false
	}
	ok := true
	allowed := []string{"rule", keys[0], keys[1]}
	for key, e := range entries {
		if slices.Contains(allowed, key) {
			continue
		}
		if other := ruleOfKey(key); other != "" {
			p.errs.add(posOf(e[0]), field+"."+key, "%s is a key of rule %s, not of %s (%s takes %s, %s)", key, other, r.Rule, r.Rule, keys[0], keys[1])
		} else {
			p.errs.add(posOf(e[0]), field+"."+key, "unknown key of rule %s (allowed: %s)%s", r.Rule, strings.Join(allowed, ", "), didYouMean(key, allowed))
		}
		ok = false
	}
	if !ok {
		return r, false
	}
	first, hasFirst := entries[keys[0]]
	if !hasFirst {
		p.errs.add(posOf(n), field+"."+keys[0], "missing: the first epoch at which rule %s applies (an integer ≥ 1)", r.Rule)
		return r, false
	}
	var epoch int
	if !p.decodeStopValue(first[1], field+"."+keys[0], &epoch) {
		return r, false
	}
	if epoch < 1 {
		p.errs.add(posOf(first[1]), field+"."+keys[0], "must be ≥ 1 (epochs count from 1), got %d", epoch)
		return r, false
	}
	p.stopEpochs = append(p.stopEpochs, stopEpoch{posOf(first[1]), field + "." + keys[0], epoch})
	second, hasSecond := entries[keys[1]]
	secondField := field + "." + keys[1]
	switch r.Rule {
	case RuleChance:
		r.After, r.Margin = epoch, DefaultMargin
		if hasSecond {
			if !p.decodeStopValue(second[1], secondField, &r.Margin) {
				return r, false
			}
			if r.Margin < 0 || r.Margin >= 1 {
				p.errs.add(posOf(second[1]), secondField, "must be ≥ 0 and < 1, got %s", strconv.FormatFloat(r.Margin, 'g', -1, 64))
				return r, false
			}
		}
	case RuleMedian:
		r.Warmup, r.MinTasks = epoch, DefaultMinTasks
		if hasSecond {
			if !p.decodeStopValue(second[1], secondField, &r.MinTasks) {
				return r, false
			}
			if r.MinTasks < 1 {
				p.errs.add(posOf(second[1]), secondField, "must be ≥ 1, got %d", r.MinTasks)
				return r, false
			}
		}
	case RuleASHA:
		r.Grace, r.Reduction = epoch, DefaultReduction
		if hasSecond {
			if !p.decodeStopValue(second[1], secondField, &r.Reduction) {
				return r, false
			}
			if r.Reduction < 2 {
				p.errs.add(posOf(second[1]), secondField, "must be ≥ 2 (a rung keeps its top 1/reduction), got %d", r.Reduction)
				return r, false
			}
		}
	}
	return r, true
}

// ruleOfKey returns the rule that takes key, or "".
func ruleOfKey(key string) string {
	for _, rule := range stopRules {
		if k := stopRuleKeys[rule]; k[0] == key || k[1] == key {
			return rule
		}
	}
	return ""
}

// parseStopGroup reads group: a list of config paths varied by the axes.
func (p *specParser) parseStopGroup(st *Stopping, n *yaml.Node) bool {
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		p.errs.add(posOf(n), "stopping.group", "want a list of config paths like [surrogate.shape], got %s", describeNode(n))
		return false
	}
	ok := true
	seen := map[string]int{}
	for i, pn := range n.Content {
		field := fmt.Sprintf("stopping.group[%d]", i)
		var path string
		if !p.decodeStopValue(unalias(pn), field, &path) {
			ok = false
			continue
		}
		if j, dup := seen[path]; dup {
			p.errs.add(posOf(pn), field, "%s repeats group[%d]", path, j)
			ok = false
			continue
		}
		seen[path] = i
		if _, _, err := lookupPath(configType, path); err != nil {
			p.errs.add(posOf(pn), field, "%v", err)
			ok = false
			continue
		}
		if !p.spec.varied(path) {
			p.errs.add(posOf(pn), field, "%s is not varied by any axis: every task has the same value, so it would not split the sweep into groups", path)
			ok = false
			continue
		}
		st.Group = append(st.Group, path)
	}
	slices.Sort(st.Group)
	return ok
}

// decodeStopValue decodes the scalar n into *dst (a string, int or
// float64), recording an error for field on failure.
func (p *specParser) decodeStopValue(n *yaml.Node, field string, dst any) bool {
	return p.decoder(field).decode(n, reflect.ValueOf(dst).Elem(), "")
}

// checkStoppingEpochs refuses a rule whose first epoch is not below the
// largest train.epochs of the tasks: it could never stop a task. It runs
// after the tasks are validated.
func (p *specParser) checkStoppingEpochs() {
	if p.spec.stopping == nil || len(p.stopEpochs) == 0 {
		return
	}
	most := p.spec.maxEpochs()
	for _, e := range p.stopEpochs {
		if e.value >= most {
			p.errs.add(e.pos, e.field, "%d is not below the largest train.epochs of the sweep's tasks (%d): the rule could never stop a task", e.value, most)
		}
	}
}

// maxEpochs returns the largest train.epochs of the spec's tasks.
func (s *Spec) maxEpochs() int {
	if !s.varied("train.epochs") {
		return s.base.Train.Epochs
	}
	most := 0
	s.eachTask(func(idx []int) bool {
		most = max(most, s.config(idx).Train.Epochs)
		return true
	})
	return most
}

// varied reports whether an axis sets config path path, one of its parents
// or one of its fields.
func (s *Spec) varied(path string) bool {
	for _, ax := range s.axes {
		for _, ap := range ax.paths {
			if pathCovers(ap, path) || pathCovers(path, ap) {
				return true
			}
		}
	}
	return false
}

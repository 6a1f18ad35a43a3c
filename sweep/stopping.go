package sweep

import "go.yaml.in/yaml/v3"

// Stopping is a spec's stopping block: the rules under which the
// coordinator ends a hopeless task early (see docs/stopping.md).
type Stopping struct {
	// Metric is the per-epoch curve the rules compare (a sim.Epoch field
	// name such as val_acc), and Mode whether higher ("max") or lower
	// ("min") is better.
	Metric string
	Mode   string
	// Rules are applied in order after each epoch; the first that fires
	// stops the task.
	Rules []StopRule
	// Group lists config paths (e.g. surrogate.shape): tasks are compared
	// only with tasks that share their values. Empty means one group.
	Group []string
}

// StopRule is one stopping rule. Which fields apply depends on Rule.
type StopRule struct {
	// Rule is chance, median or asha.
	Rule string
	// After (chance): the first epoch at which the rule applies; Margin:
	// the task stops while its metric is within Margin of chance level.
	After  int
	Margin float64
	// Warmup (median): the first epoch at which the rule applies;
	// MinTasks: the fewest peers with a value at that epoch.
	Warmup   int
	MinTasks int
	// Grace (asha): the first rung's epoch; Reduction: the rung factor η
	// (rungs at Grace·η^k epochs; a task continues past a rung only in the
	// rung's top 1/η).
	Grace     int
	Reduction int
}

// Stopping returns the spec's stopping block, nil when it has none.
func (s *Spec) Stopping() *Stopping { return s.stopping }

// parseStopping reads the spec's stopping block (n is nil when the spec has
// none). TODO(stopping): to be written.
func (p *specParser) parseStopping(n *yaml.Node) {
	if n != nil && !isNull(n) {
		p.errs.add(posOf(n), "stopping", "stopping is not implemented yet")
	}
}

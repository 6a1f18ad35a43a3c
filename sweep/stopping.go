package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sgsweep/sgsweep/sim"
)

// Stopping is a spec's stopping block: the rules under which the
// coordinator ends a hopeless task early (see docs/stopping.md). A parsed
// Stopping is complete: Mode and every rule's defaults are filled in, and
// its canonical JSON is part of the spec's fingerprint.
type Stopping struct {
	// Metric is the per-epoch curve the rules compare (a sim.Epoch field
	// name such as val_acc, one of StopMetrics), and Mode whether higher
	// ("max") or lower ("min") is better; Mode follows from Metric.
	Metric string `json:"metric"`
	Mode   string `json:"mode"`
	// Rules are applied in order after each epoch; the first that fires
	// stops the task.
	Rules []StopRule `json:"rules"`
	// Group lists config paths (e.g. surrogate.shape), sorted: tasks are
	// compared only with tasks that share their values. Empty means one
	// group.
	Group []string `json:"group,omitempty"`
}

// StopRule is one stopping rule. Which fields apply depends on Rule; the
// others are zero.
type StopRule struct {
	// Rule is chance, median or asha.
	Rule string `json:"rule"`
	// After (chance): the first epoch at which the rule applies; Margin:
	// the task stops while its metric is within Margin of chance level
	// (default 0: at or below chance).
	After  int     `json:"after,omitempty"`
	Margin float64 `json:"margin,omitempty"`
	// Warmup (median): the first epoch at which the rule applies;
	// MinTasks: the fewest completed peers with a value at that epoch
	// (default 5, Optuna's n_startup_trials).
	Warmup   int `json:"warmup,omitempty"`
	MinTasks int `json:"min_tasks,omitempty"`
	// Grace (asha): the first rung's epoch; Reduction: the rung factor η
	// (rungs at Grace·η^k epochs; a task continues past a rung only in the
	// rung's top 1/η; default 4, Ray Tune's reduction_factor).
	Grace     int `json:"grace,omitempty"`
	Reduction int `json:"reduction,omitempty"`
}

// Stopping rules and modes.
const (
	RuleChance = "chance"
	RuleMedian = "median"
	RuleASHA   = "asha"

	ModeMax = "max"
	ModeMin = "min"
)

// Defaults of the optional rule keys.
const (
	DefaultMargin    = 0.0
	DefaultMinTasks  = 5
	DefaultReduction = 4
)

// stopMetric is a per-epoch curve the rules may compare.
type stopMetric struct {
	name  string
	mode  string // the better direction
	value func(sim.Epoch) float64
}

// stopMetrics are the curves a stopping block may name, in the order
// messages list them.
var stopMetrics = []stopMetric{
	{"train_loss", ModeMin, func(e sim.Epoch) float64 { return e.TrainLoss }},
	{"train_acc", ModeMax, func(e sim.Epoch) float64 { return e.TrainAcc }},
	{"val_acc", ModeMax, func(e sim.Epoch) float64 { return e.ValAcc }},
}

// StopMetrics returns the names of the per-epoch curves a stopping block
// may compare.
func StopMetrics() []string {
	names := make([]string, len(stopMetrics))
	for i, m := range stopMetrics {
		names[i] = m.name
	}
	return names
}

// StopMetricValue returns the value of stopping metric name in one epoch,
// and its mode (max or min); ok is false for a name not in StopMetrics.
func StopMetricValue(name string, ep sim.Epoch) (value float64, mode string, ok bool) {
	for _, m := range stopMetrics {
		if m.name == name {
			return m.value(ep), m.mode, true
		}
	}
	return 0, "", false
}

// Stopping returns the spec's stopping block, nil when it has none.
func (s *Spec) Stopping() *Stopping {
	if s.stopping == nil {
		return nil
	}
	c := *s.stopping
	c.Rules = slices.Clone(c.Rules)
	c.Group = slices.Clone(c.Group)
	return &c
}

// String summarises the block on one line, in the spec's words, e.g.
// "val_acc (max): chance after 5 margin 0.02, median warmup 10
// min_tasks 5; group by surrogate.shape".
func (st *Stopping) String() string {
	if st == nil {
		return "no early stopping"
	}
	rules := make([]string, len(st.Rules))
	for i, r := range st.Rules {
		rules[i] = r.String()
	}
	s := fmt.Sprintf("%s (%s): %s", st.Metric, st.Mode, strings.Join(rules, ", "))
	if len(st.Group) > 0 {
		s += "; group by " + strings.Join(st.Group, ", ")
	}
	return s
}

// String renders the rule in the spec's words, e.g. "asha grace 5
// reduction 3".
func (r StopRule) String() string {
	switch r.Rule {
	case RuleChance:
		return fmt.Sprintf("chance after %d margin %s", r.After, strconv.FormatFloat(r.Margin, 'g', -1, 64))
	case RuleMedian:
		return fmt.Sprintf("median warmup %d min_tasks %d", r.Warmup, r.MinTasks)
	case RuleASHA:
		return fmt.Sprintf("asha grace %d reduction %d", r.Grace, r.Reduction)
	}
	return r.Rule
}

package stopping

import (
	"math"
	"slices"

	"github.com/sgsweep/sgsweep/sweep"
)

// group holds what the tasks of one stopping group are compared against.
type group struct {
	key string
	// median[e-Engine.medianFrom] holds the values at epoch e of the
	// group's completed tasks (status ok or diverged): the median rule's
	// peers.
	median []values
	// rungs[i][k] holds the values recorded at rung k of rule i (an asha
	// rule): one per task of the group that reached the rung's epoch.
	rungs [][]values
}

// medianSet returns the set of completed values at epoch e (≥ from),
// creating it.
func (g *group) medianSet(e, from int) *values {
	for len(g.median) <= e-from {
		g.median = append(g.median, values{})
	}
	return &g.median[e-from]
}

// rungSet returns the set of values at rung k of rule i, creating it.
func (g *group) rungSet(i, k int) *values {
	for len(g.rungs[i]) <= k {
		g.rungs[i] = append(g.rungs[i], values{})
	}
	return &g.rungs[i][k]
}

// rungOf returns k when epoch is the rule's rung k, at Grace·Reduction^k
// epochs.
func rungOf(r sweep.StopRule, epoch int) (k int, ok bool) {
	for rung := r.Grace; rung <= epoch; rung *= r.Reduction {
		if rung == epoch {
			return k, true
		}
		if rung > epoch/r.Reduction {
			break // the next rung is past epoch (and would not overflow)
		}
		k++
	}
	return 0, false
}

// verdict is what a rule that fired compared: the task's value, the
// threshold it was not better than, and the peers' values the threshold
// came from (ascending, a copy; nil for chance).
type verdict struct {
	value, threshold float64
	against          []float64
}

// better reports whether metric value a is strictly better than b.
func (e *Engine) better(a, b float64) bool {
	if e.spec.Mode == sweep.ModeMin {
		return a < b
	}
	return a > b
}

// chance fires from epoch After on while the task's value v is not better
// than chance level plus (max) or minus (min) Margin.
func (e *Engine) chance(ts *task, r sweep.StopRule, epoch int, v float64) (verdict, bool) {
	if epoch < r.After || math.IsNaN(ts.chance) {
		return verdict{}, false
	}
	threshold := ts.chance + r.Margin
	if e.spec.Mode == sweep.ModeMin {
		threshold = ts.chance - r.Margin
	}
	return verdict{value: v, threshold: threshold}, !e.better(v, threshold)
}

// median fires from epoch Warmup on when the task's best value up to epoch
// is worse than the median of the values at epoch of the group's completed
// tasks, if there are at least MinTasks of them (Optuna's MedianPruner).
func (e *Engine) median(ts *task, r sweep.StopRule, epoch int) (verdict, bool) {
	if epoch < r.Warmup || epoch-e.medianFrom >= len(ts.group.median) {
		return verdict{}, false
	}
	peers := ts.group.median[epoch-e.medianFrom].ascending()
	if len(peers) < r.MinTasks {
		return verdict{}, false
	}
	best := math.NaN()
	for _, v := range ts.curve[:epoch] {
		if !math.IsNaN(v) && (math.IsNaN(best) || e.better(v, best)) {
			best = v
		}
	}
	med := quantile(peers, 1, 2)
	if math.IsNaN(best) || !e.better(med, best) {
		return verdict{}, false
	}
	return verdict{value: best, threshold: med, against: slices.Clone(peers)}, true
}

// asha (rule i) fires when epoch is one of the rule's rungs, the task has
// no value recorded there yet, and its value v is worse than the cut-off
// of the values recorded there: their 1−1/Reduction quantile (max mode)
// or 1/Reduction quantile (min mode), so that only the rung's top
// 1/Reduction continue (Ray Tune's AsyncHyperBandScheduler). With no value
// recorded at the rung it does not fire.
func (e *Engine) asha(ts *task, i int, r sweep.StopRule, epoch int, v float64) (verdict, bool) {
	k, ok := rungOf(r, epoch)
	if !ok || ts.rungs[i]&(1<<k) != 0 || k >= len(ts.group.rungs[i]) {
		return verdict{}, false
	}
	peers := ts.group.rungs[i][k].ascending()
	if len(peers) == 0 {
		return verdict{}, false
	}
	num := r.Reduction - 1
	if e.spec.Mode == sweep.ModeMin {
		num = 1
	}
	cutoff := quantile(peers, num, r.Reduction)
	if !e.better(cutoff, v) {
		return verdict{}, false
	}
	return verdict{value: v, threshold: cutoff, against: slices.Clone(peers)}, true
}

// recordRung records the task's value v at epoch at the rungs of the asha
// rules that have one there, unless it has a value there already. A
// non-finite v marks the rung as passed but is not recorded.
func (e *Engine) recordRung(ts *task, epoch int, v float64) {
	for i, r := range e.spec.Rules {
		if r.Rule != sweep.RuleASHA {
			continue
		}
		k, ok := rungOf(r, epoch)
		if !ok || ts.rungs[i]&(1<<k) != 0 {
			continue
		}
		ts.rungs[i] |= 1 << k
		if finite(v) {
			ts.group.rungSet(i, k).add(v)
		}
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

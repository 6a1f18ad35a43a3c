// Package stopping decides when a sweep's task should end early, under the
// rules of the spec's stopping block (sweep.Stopping): chance, median
// (Optuna's MedianPruner) and asha (asynchronous successive halving). The
// rules are specified precisely in docs/stopping.md.
//
// An Engine holds one sweep's history: each task's metric value per epoch,
// as the coordinator learns them from progress messages and stored
// results. It is pure: it reads no clock but the one it is given, does no
// I/O and takes no lock (the coordinator serialises calls). Decisions of
// the chance rule depend only on the task's own curve; those of median and
// asha depend on which peers reported first, so they are order-dependent,
// and each decision records what it was compared against
// (protocol.StopDecision.Against).
//
// Memory: per running task its curve so far; per finished task a few
// words; per group and epoch from the first median warmup on, the
// completed tasks' values; per group and rung, the values recorded there.
// An Observe costs O(epochs) plus, when values were added to the set it
// reads since its last read, a merge of O(n) for n peers, plus a copy of
// the n peers' values when it decides.
package stopping

import (
	"encoding/json"
	"math"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// Task identifies a task to the engine.
type Task struct {
	ID string
	// Params is the canonical JSON of the task's sim.Config: the engine
	// reads its stopping group, its chance level (from dataset.classes) and
	// its epochs (train.epochs) from it, once, when it first sees the task.
	Params json.RawMessage
}

// Engine takes the stopping decisions of one sweep.
type Engine struct {
	spec *sweep.Stopping // nil: no rules, no decisions
	// medianFrom is the smallest warmup of the median rules (0: none):
	// completed values are kept from that epoch on.
	medianFrom int
	tasks      map[string]*task
	groups     map[string]*group
}

// New returns an engine for a sweep's stopping block (as parsed by package
// sweep; nil for a sweep without one, whose engine never decides).
func New(spec *sweep.Stopping) *Engine {
	e := &Engine{spec: spec, tasks: map[string]*task{}, groups: map[string]*group{}}
	if spec == nil {
		return e
	}
	for _, r := range spec.Rules {
		if r.Rule == sweep.RuleMedian && (e.medianFrom == 0 || r.Warmup < e.medianFrom) {
			e.medianFrom = r.Warmup
		}
	}
	return e
}

// Observe records a running task's values after one epoch and returns the
// decision to stop it after that epoch, or nil to let it continue.
// Observing the same task and epoch again (a redelivered task trains again
// from the start) does not record its value twice: the first value counts.
//
// The rules are tried in order and the first that fires decides. No
// decision is taken for a task already decided (see Decided) or finished,
// at or after the task's last epoch (which ends it anyway), or when the
// metric's value is not finite. Whatever the decision, the value is
// recorded at the asha rungs the epoch is one of.
func (e *Engine) Observe(t Task, ep sim.Epoch, now time.Time) *protocol.StopDecision {
	if e.spec == nil || ep.Epoch < 1 {
		return nil
	}
	ts := e.task(t)
	if ts.finished || !ts.within(ep.Epoch) {
		return nil
	}
	v, _ := MetricValue(e.spec.Metric, ep)
	ts.observe(ep.Epoch, v)
	v = ts.value(ep.Epoch)
	var d *protocol.StopDecision
	if !ts.decided && (ts.epochs == 0 || ep.Epoch < ts.epochs) && finite(v) {
		d = e.decide(ts, ep.Epoch, v, now)
	}
	e.recordRung(ts, ep.Epoch, v)
	if d != nil {
		ts.decided = true
	}
	return d
}

// decide applies the rules in order to the task's value v at epoch and
// returns the first one's decision, or nil.
func (e *Engine) decide(ts *task, epoch int, v float64, now time.Time) *protocol.StopDecision {
	for i, r := range e.spec.Rules {
		var vd verdict
		var fired bool
		switch r.Rule {
		case sweep.RuleChance:
			vd, fired = e.chance(ts, r, epoch, v)
		case sweep.RuleMedian:
			vd, fired = e.median(ts, r, epoch)
		case sweep.RuleASHA:
			vd, fired = e.asha(ts, i, r, epoch, v)
		}
		if fired {
			return &protocol.StopDecision{
				Epoch:     epoch,
				Rule:      r.Rule,
				Metric:    e.spec.Metric,
				Mode:      e.spec.Mode,
				Value:     vd.value,
				Threshold: vd.threshold,
				Group:     ts.group.key,
				Against:   vd.against,
				DecidedAt: now,
			}
		}
	}
	return nil
}

// Decided tells the engine of a decision already committed for t (read
// back from the store on restart, or taken by Observe and committed): t
// gets no other decision. d may be nil; the engine keeps no decision, only
// the fact.
func (e *Engine) Decided(t Task, d *protocol.StopDecision) {
	if e.spec == nil {
		return
	}
	e.task(t).decided = true
}

// Finished records a finished task's curve and its result status (ok,
// diverged or stopped), so that later decisions compare against it. The
// coordinator calls it for each stored result on (re)start, in commit
// order, and for each result it commits.
//
// Completed curves (ok and diverged) become the median rule's peers; a
// stopped task's curve does not, as Optuna leaves pruned trials out of the
// median. Every finished curve records its values at the asha rungs it
// reached and had not recorded yet. A stopped task counts as decided.
// Non-finite values (a diverged run's NaN loss) are never recorded. Other
// statuses (failed) are ignored; a task finished twice (a stopped task
// trained to the end by retry) counts once in each set.
func (e *Engine) Finished(t Task, status string, epochs []sim.Epoch) {
	if e.spec == nil {
		return
	}
	switch status {
	case protocol.StatusOK, protocol.StatusDiverged, protocol.StatusStopped:
	default:
		return
	}
	ts := e.task(t)
	ts.finished, ts.curve = true, nil
	if status == protocol.StatusStopped {
		ts.decided = true
	}
	count := e.medianFrom > 0 && status != protocol.StatusStopped && !ts.counted
	for _, ep := range epochs {
		if ep.Epoch < 1 || !ts.within(ep.Epoch) {
			continue
		}
		v, _ := MetricValue(e.spec.Metric, ep)
		if count && ep.Epoch >= e.medianFrom && finite(v) {
			ts.group.medianSet(ep.Epoch, e.medianFrom).add(v)
		}
		e.recordRung(ts, ep.Epoch, v)
	}
	ts.counted = ts.counted || count
}

// MetricValue is the value of a per-epoch curve metric (a sim.Epoch field
// name, as sweep.Stopping.Metric: train_loss, train_acc or val_acc) in one
// epoch; ok is false for another name.
func MetricValue(metric string, ep sim.Epoch) (float64, bool) {
	v, _, ok := sweep.StopMetricValue(metric, ep)
	if !ok {
		return math.NaN(), false
	}
	return v, true
}

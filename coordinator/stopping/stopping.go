// Package stopping decides when a sweep's task should end early, under the
// rules of the spec's stopping block (sweep.Stopping): chance, median
// (Optuna's MedianPruner) and asha (asynchronous successive halving).
//
// An Engine holds one sweep's history: each task's metric value per epoch,
// as the coordinator learns them from progress messages and stored
// results. It is pure: it reads no clock but the one it is given, does no
// I/O and takes no lock (the coordinator serialises calls). Decisions of
// the chance rule depend only on the task's own curve; those of median and
// asha depend on which peers reported first, so they are order-dependent,
// and each decision records what it was compared against
// (protocol.StopDecision.Against).
package stopping

import (
	"encoding/json"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// Task identifies a task to the engine.
type Task struct {
	ID string
	// Params is the canonical JSON of the task's sim.Config: the engine
	// reads its stopping group and its chance level (1/classes) from it.
	Params json.RawMessage
}

// Engine takes the stopping decisions of one sweep.
type Engine struct {
	spec *sweep.Stopping
}

// New returns an engine for a sweep's stopping block.
func New(spec *sweep.Stopping) *Engine { return &Engine{spec: spec} }

// Observe records a running task's values after one epoch and returns the
// decision to stop it after that epoch, or nil to let it continue.
// Observing the same task and epoch again (a redelivered task trains again
// from the start) does not record its value twice.
func (e *Engine) Observe(t Task, ep sim.Epoch, now time.Time) *protocol.StopDecision {
	return nil // TODO(stopping)
}

// Finished records a finished task's curve and its result status (ok,
// diverged or stopped), so that later decisions compare against it. The
// coordinator calls it for each stored result on (re)start, in commit
// order, and for each result it commits.
func (e *Engine) Finished(t Task, status string, epochs []sim.Epoch) {
	// TODO(stopping)
}

// MetricValue is the value of a per-epoch curve metric (a sim.Epoch field
// name, as sweep.Stopping.Metric) in one epoch.
func MetricValue(metric string, ep sim.Epoch) (float64, bool) {
	return 0, false // TODO(stopping)
}

package results

import (
	"encoding/json"
	"errors"

	"github.com/sgsweep/sgsweep/protocol"
)

// ErrNotFound means the named sweep (or store) does not exist. A
// RecordSource returns an error wrapping it for a sweep it does not hold.
var ErrNotFound = errors.New("not found")

// Task states.
const (
	StatePending = "pending" // planned, no result yet
	StateDone    = "done"    // a result is stored (status ok or diverged)
	StateStopped = "stopped" // a result of a run ended early by a stop decision is stored
	StateFailed  = "failed"  // failed deterministically or exhausted its deliveries
)

// Record is one planned task of a sweep with what is known about it: the unit
// that aggregation, queries and export iterate over.
type Record struct {
	Sweep string `json:"sweep"`
	// Ordinal is the task's 0-based position in the sweep's grid order.
	Ordinal int    `json:"ordinal"`
	TaskID  string `json:"task_id"`
	// State is pending, done, stopped or failed.
	State string `json:"state"`
	// Params is the canonical JSON of the task's resolved sim.Config.
	Params json.RawMessage `json:"params"`
	// Attempts counts deliveries known to the coordinator.
	Attempts int `json:"attempts"`
	// Error is the last error of a failed task.
	Error string `json:"error,omitempty"`
	// Result is the stored result message; nil while pending, and for a task
	// that failed without one (delivery limit reached). Its Params is nil:
	// the task's params are Record.Params, held once. A stopped task's
	// result has status stopped and its decision in Result.Stop.
	Result *protocol.ResultMsg `json:"result,omitempty"`
	// Stop is the task's committed stop decision, also while its stopped
	// result is still to come (nil when none was taken).
	Stop *protocol.StopDecision `json:"stop,omitempty"`
}

package protocol

import (
	"encoding/json"
	"time"

	"github.com/sgsweep/sgsweep/sim"
)

// Schemas of the wire messages, "<kind>/v<major>". A decoder accepts any
// minor addition within its major version (unknown fields are ignored) and
// refuses another major version with an error.
const (
	SchemaTask     = "sgsweep.task/v1"
	SchemaResult   = "sgsweep.result/v1"
	SchemaProgress = "sgsweep.progress/v1"
)

// Result statuses: the sim statuses plus failed, a deterministic error of the
// task itself (invalid config, missing data file). A failed result is final:
// the worker reports it instead of asking for a retry.
const (
	StatusOK       = sim.StatusOK
	StatusDiverged = sim.StatusDiverged
	StatusFailed   = "failed"
)

// TaskMsg is one training run to do, published on
// sgsweep.task.<sweep>.<task>.
type TaskMsg struct {
	Schema string `json:"schema"`
	// Sweep is the name of the sweep that published the task.
	Sweep string `json:"sweep"`
	// TaskID is ID(ModelVersion, Params); a worker refuses a task whose ID
	// does not match.
	TaskID string `json:"task_id"`
	// ModelVersion is the sim.ModelVersion the task was planned for; a worker
	// with another model version refuses the task.
	ModelVersion string `json:"model_version"`
	// Params is the canonical JSON of the fully resolved sim.Config.
	Params json.RawMessage `json:"params"`
	// Gen counts deliberate re-publications (retry of a failed task), so
	// that each gets a fresh Nats-Msg-Id.
	Gen int `json:"gen"`
	// EnqueuedAt is when the coordinator published the task.
	EnqueuedAt time.Time `json:"enqueued_at"`
	// Stopping says that the sweep has stopping rules for this task: the
	// worker sends each epoch's progress message as a request, waits
	// (briefly) for the ProgressReply and ends the run at the epoch its
	// stop decision names. It is not part of the task's identity.
	Stopping bool `json:"stopping,omitempty"`
	// Ticket is the coordinator's proof that it handed this task out (an
	// HMAC of sweep, task and generation under a key only the coordinator
	// holds, in hex); the worker echoes it in the result. Added within v1:
	// a task message without one gets results without one, which a
	// coordinator that issues tickets sets aside as orphans.
	Ticket string `json:"ticket,omitempty"`
	// Verify, when set, makes the message a recomputation of a task that
	// has a result (verification by recomputation): the result is
	// compared with the stored one. Added within v1.
	Verify *Verification `json:"verify,omitempty"`

	// config is Params decoded and checked by DecodeTask.
	config *sim.Config
}

// Verification is what a worker needs to know of a recomputation.
type Verification struct {
	// Workers gave the results the recomputation is compared with
	// (Provenance.Worker); a worker among them refuses the task.
	Workers []string `json:"workers"`
}

// ResultMsg is the outcome of one task, published on
// sgsweep.result.<sweep>.<task> by the worker before it acks the task.
type ResultMsg struct {
	Schema string `json:"schema"`
	Sweep  string `json:"sweep"`
	TaskID string `json:"task_id"`
	// Status is ok, diverged, stopped or failed.
	Status string `json:"status"`
	// Error says why a failed task failed; empty otherwise.
	Error string `json:"error,omitempty"`
	// Result is what the simulator computed; nil when Status is failed.
	Result *sim.Result `json:"result,omitempty"`
	// Digest is the hex SHA-256 of the canonical JSON of Result (of Error
	// when failed). Two results of one task with different digests are a
	// reproducibility conflict.
	Digest string `json:"digest"`
	// Params echoes the task's canonical parameters (provenance).
	Params     json.RawMessage `json:"params"`
	Provenance Provenance      `json:"provenance"`
	// Ticket echoes the task message's Ticket: the coordinator accepts the
	// result only with a ticket it issued for the task. Added within v1.
	Ticket string `json:"ticket,omitempty"`
	// Stop is the coordinator's decision that ended a stopped run; nil
	// for any other status.
	Stop *StopDecision `json:"stop,omitempty"`
}

// Provenance records where, when and by what a result was computed.
type Provenance struct {
	// ModelVersion is the worker's sim.ModelVersion.
	ModelVersion string `json:"model_version"`
	// Build describes the worker binary: module version, VCS revision,
	// Go version, GOOS/GOARCH.
	Build Build `json:"build"`
	// Host and Worker identify the worker process (Worker is unique per
	// process, e.g. host/pid).
	Host   string `json:"host"`
	Worker string `json:"worker"`
	// Attempt is the 1-based delivery count of the task message.
	Attempt int `json:"attempt"`
	// StartedAt and FinishedAt bracket the run on the worker's clock.
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Timing is the simulator's wall-clock breakdown.
	Timing sim.Timing `json:"timing"`
}

// Build identifies a binary (from runtime/debug.ReadBuildInfo).
type Build struct {
	Module    string `json:"module"`
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// ProgressMsg reports one finished epoch of a running task, published on the
// plain (non-JetStream) subject sgsweep.progress.<sweep>.<task>. It is
// advisory: losing one loses nothing.
type ProgressMsg struct {
	Schema  string    `json:"schema"`
	Sweep   string    `json:"sweep"`
	TaskID  string    `json:"task_id"`
	Worker  string    `json:"worker"`
	Attempt int       `json:"attempt"`
	Epochs  int       `json:"epochs"` // the run's total
	Epoch   sim.Epoch `json:"epoch"`
}

package protocol

import "time"

// SchemaProgressReply is the schema of the coordinator's reply to a progress
// message sent as a request (see TaskMsg.Stopping).
const SchemaProgressReply = "sgsweep.progress-reply/v1"

// StatusStopped is the status of a result whose run the coordinator ended
// early under the sweep's stopping rules (ResultMsg.Stop says why). Its
// curves hold the epochs trained; its test accuracies are those of a run
// that ended after Stop.Epoch.
const StatusStopped = "stopped"

// StopDecision is the coordinator's binding decision to end one task after
// an epoch. It is committed to the store before any worker hears of it and
// never changes afterwards (a resumed or extended sweep reads it back), so
// that a decision can be audited: it says what the task's value was and
// what it was compared against.
type StopDecision struct {
	// Epoch is the 1-based epoch after which the task ends: the epoch whose
	// progress message led to the decision.
	Epoch int `json:"epoch"`
	// Rule is the rule that stopped the task: chance, median or asha.
	Rule string `json:"rule"`
	// Metric is the per-epoch curve the rule compared (e.g. val_acc), and
	// Mode whether higher (max) or lower (min) is better.
	Metric string `json:"metric"`
	Mode   string `json:"mode"`
	// Value is the task's value of Metric that the rule compared: its value
	// at Epoch (chance, asha) or its best value up to Epoch (median).
	Value float64 `json:"value"`
	// Threshold is what Value was compared against: chance level plus the
	// margin (chance), the median of the peers (median), or the cut-off of
	// the rung's top 1/reduction (asha). The task stopped because Value was
	// not better than Threshold.
	Threshold float64 `json:"threshold"`
	// Group is the stopping group's key (the values of the spec's
	// stopping.group paths, "" when the whole sweep is one group).
	Group string `json:"group,omitempty"`
	// Against holds the peers' values the threshold was computed from, in
	// ascending order (empty for chance, which compares with no peer).
	Against []float64 `json:"against,omitempty"`
	// DecidedAt is when the coordinator took the decision (its clock).
	DecidedAt time.Time `json:"decided_at"`
}

// ProgressReply answers a progress message sent as a request: Stop, when
// not nil, is the task's stop decision, and the worker ends the run at the
// first epoch boundary at or after Stop.Epoch.
type ProgressReply struct {
	Schema string        `json:"schema"`
	Stop   *StopDecision `json:"stop,omitempty"`
}

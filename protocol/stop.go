package protocol

import (
	"fmt"
	"time"

	"github.com/sgsweep/sgsweep/sim"
)

// SchemaProgressReply is the schema of the coordinator's reply to a progress
// message sent as a request (see TaskMsg.Stopping).
const SchemaProgressReply = "sgsweep.progress-reply/v1"

// StatusStopped is the status of a result whose run the coordinator ended
// early under the sweep's stopping rules (ResultMsg.Stop says why). Its
// curves hold the epochs trained; its test accuracies are those of a run
// that ended after Stop.Epoch.
const StatusStopped = sim.StatusStopped

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

// The rules a StopDecision may name (sweep.StopRule.Rule).
const (
	RuleChance = "chance"
	RuleMedian = "median"
	RuleASHA   = "asha"
)

// NewProgressReply returns the reply to a progress request: stop is the
// task's stop decision, nil to let it continue.
func NewProgressReply(stop *StopDecision) *ProgressReply {
	return &ProgressReply{Schema: SchemaProgressReply, Stop: stop}
}

// DecodeProgressReply decodes and checks the reply to a progress request:
// schema sgsweep.progress-reply/v1 (else a *SchemaError) and, when it
// carries a stop decision, a well-formed one (see DecodeResult).
func DecodeProgressReply(data []byte) (*ProgressReply, error) {
	if err := checkSchema(data, SchemaProgressReply); err != nil {
		return nil, err
	}
	var m ProgressReply
	if err := decodeStrict(data, &m); err != nil {
		return nil, err
	}
	if m.Stop != nil {
		if err := checkStop(m.Stop); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// checkStop checks a stop decision: epoch ≥ 1, a known rule, a metric and
// a mode (max or min), finite values and the peers' values in ascending
// order.
func checkStop(d *StopDecision) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: stop decision: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	switch {
	case d.Epoch < 1:
		return bad("epoch %d is not ≥ 1", d.Epoch)
	case d.Rule != RuleChance && d.Rule != RuleMedian && d.Rule != RuleASHA:
		return bad("rule %q is not one of %s, %s, %s", d.Rule, RuleChance, RuleMedian, RuleASHA)
	case d.Metric == "":
		return bad("metric missing")
	case d.Mode != "max" && d.Mode != "min":
		return bad("mode %q is not max or min", d.Mode)
	case !finite(d.Value) || !finite(d.Threshold):
		return bad("value %v, threshold %v not finite", d.Value, d.Threshold)
	}
	for i, v := range d.Against {
		if !finite(v) || i > 0 && v < d.Against[i-1] {
			return bad("against %v: not finite values in ascending order", d.Against)
		}
	}
	return nil
}

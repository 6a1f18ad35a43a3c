package dashboard

import (
	"strings"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
)

// stopView is a task's stop decision as the task page shows it, so that
// the decision can be checked by eye: the rule, the epoch after which the
// run ended, the task's value against the threshold, and the peers the
// threshold came from.
type stopView struct {
	*protocol.StopDecision
	// Verdict says why the rule stopped the task: "val_acc 0.31 is not
	// above 0.35".
	Verdict string
	// Peers is how many values the threshold was computed from, Against
	// them (4 significant digits, ascending).
	Peers   int
	Against string
	// Pending reports a decision whose stopped result is still to come.
	Pending bool
}

// stopViewOf returns the record's stop decision for the page: the
// committed one, else its result's; nil without one.
func stopViewOf(rec *results.Record) *stopView {
	d := rec.Stop
	if d == nil && rec.Result != nil {
		d = rec.Result.Stop
	}
	if d == nil {
		return nil
	}
	cmp := "above"
	if d.Mode == "min" {
		cmp = "below"
	}
	v := &stopView{StopDecision: d, Peers: len(d.Against), Pending: rec.State != results.StateStopped,
		Verdict: d.Metric + " " + results.FormatStat(d.Value) + " is not " + cmp + " " + results.FormatStat(d.Threshold)}
	vals := make([]string, len(d.Against))
	for i, x := range d.Against {
		vals[i] = results.FormatStat(x)
	}
	v.Against = strings.Join(vals, ", ")
	return v
}

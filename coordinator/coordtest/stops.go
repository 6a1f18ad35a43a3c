package coordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/stopping"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// StopRule is a trivial coordinator.Decider for tests, independent of the
// stopping engine's rules: it stops a task after epoch After or later if
// its val_acc is at most Threshold. It records what it is told.
type StopRule struct {
	After     int
	Threshold float64

	mu       sync.Mutex
	finished map[string]string // task ID → status
	decided  map[string]*protocol.StopDecision
	observed int
}

// NewDecider is a coordinator.Config.NewDecider giving every sweep this
// rule.
func (r *StopRule) NewDecider(*sweep.Spec) coordinator.Decider { return r }

// Observe implements coordinator.Decider.
func (r *StopRule) Observe(t stopping.Task, ep sim.Epoch, now time.Time) *protocol.StopDecision {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observed++
	if ep.Epoch < r.After || ep.ValAcc > r.Threshold {
		return nil
	}
	return &protocol.StopDecision{Epoch: ep.Epoch, Rule: protocol.RuleChance, Metric: "val_acc", Mode: "max",
		Value: ep.ValAcc, Threshold: r.Threshold, DecidedAt: now}
}

// Finished implements coordinator.Decider.
func (r *StopRule) Finished(t stopping.Task, status string, epochs []sim.Epoch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished == nil {
		r.finished = map[string]string{}
	}
	r.finished[t.ID] = status
}

// Decided is told of committed decisions.
func (r *StopRule) Decided(t stopping.Task, d *protocol.StopDecision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.decided == nil {
		r.decided = map[string]*protocol.StopDecision{}
	}
	r.decided[t.ID] = d
}

// Told returns copies of what the rule was told: finished tasks' statuses
// and committed decisions, by task ID, and the number of observations.
func (r *StopRule) Told() (finished map[string]string, decided map[string]*protocol.StopDecision, observed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	finished, decided = map[string]string{}, map[string]*protocol.StopDecision{}
	for k, v := range r.finished {
		finished[k] = v
	}
	for k, v := range r.decided {
		decided[k] = v
	}
	return finished, decided, r.observed
}

// Curve is a learning curve of n epochs at validation accuracy acc.
func Curve(n int, acc float64) []sim.Epoch {
	out := make([]sim.Epoch, n)
	for i := range out {
		out[i] = sim.Epoch{Epoch: i + 1, TrainLoss: 1, TrainAcc: acc, ValAcc: acc, Spikes: []float64{1}, Silent: []float64{0}}
	}
	return out
}

// AskProgress sends a progress message of the task after the last epoch of
// curve as a request, as a worker does for a task with Stopping set, and
// returns the decoded reply.
func AskProgress(nc *nats.Conn, sweepName, taskID string, epochs int, curve []sim.Epoch, timeout time.Duration) (*protocol.ProgressReply, error) {
	p := protocol.ProgressMsg{Schema: protocol.SchemaProgress, Sweep: sweepName, TaskID: taskID, Worker: "test/1",
		Attempt: 1, Epochs: epochs, Epoch: curve[len(curve)-1]}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	m, err := nc.Request(protocol.ProgressSubject(sweepName, taskID), data, timeout)
	if err != nil {
		return nil, err
	}
	var r protocol.ProgressReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return nil, fmt.Errorf("progress reply %q: %w", m.Data, err)
	}
	if r.Schema != protocol.SchemaProgressReply {
		return nil, fmt.Errorf("progress reply of schema %q", r.Schema)
	}
	return &r, nil
}

// ResultData is the body of a plausible result message of a task, as a
// worker publishes it: status ok (a full curve), diverged or stopped (with
// its decision), over the curve given, with the ticket of the task's
// generation 0 under TicketKey.
func ResultData(t testing.TB, sweepName string, task sweep.Task, status string, curve []sim.Epoch, stop *protocol.StopDecision) []byte {
	t.Helper()
	best := 1
	for i, e := range curve {
		if e.ValAcc > curve[best-1].ValAcc {
			best = i + 1
		}
	}
	res := &sim.Result{Status: status, Epochs: curve, BestEpoch: best, BestValAcc: curve[best-1].ValAcc,
		TestAcc: curve[best-1].ValAcc, TestAccLast: curve[len(curve)-1].ValAcc}
	digest, err := sweep.Digest(res)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	r := protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: sweepName, TaskID: task.ID, Status: status,
		Result: res, Digest: digest, Params: task.Params, Stop: stop, Ticket: Ticket(sweepName, task.ID, 0),
		Provenance: protocol.Provenance{ModelVersion: sim.ModelVersion, Build: protocol.CurrentBuild(), Host: "test",
			Worker: "test/1", Attempt: 1, StartedAt: now.Add(-time.Second), FinishedAt: now}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// PublishResult publishes a result message body on the task's result
// subject, as a worker does.
func PublishResult(t testing.TB, js jetstream.JetStream, sweepName, taskID string, data []byte) {
	t.Helper()
	if _, err := js.Publish(context.Background(), protocol.ResultSubject(sweepName, taskID), data); err != nil {
		t.Fatal(err)
	}
}

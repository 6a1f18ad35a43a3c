package stopping

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// now is the clock the tests give the engine.
var now = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// cell describes a test task's config.
type cell struct {
	shape   string // surrogate.shape
	classes int
	epochs  int
}

// defaultCell is a task of 4 classes and 10 epochs, in group superspike.
var defaultCell = cell{"superspike", 4, 10}

// newTask returns a task of the given cell; seed makes its ID unique.
func newTask(t testing.TB, c cell, seed int) Task {
	t.Helper()
	cfg := sim.DefaultConfig()
	cfg.Seed = uint64(seed)
	cfg.Surrogate.Shape = c.shape
	cfg.Dataset.Classes = c.classes
	cfg.Train.Epochs = c.epochs
	params, err := sweep.Canonical(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Task{ID: sweep.TaskID(params), Params: params}
}

// accCurve returns epochs 1, 2, … with the given val_acc values.
func accCurve(vals ...float64) []sim.Epoch {
	out := make([]sim.Epoch, len(vals))
	for i, v := range vals {
		out[i] = sim.Epoch{Epoch: i + 1, ValAcc: v}
	}
	return out
}

// lossCurve returns epochs 1, 2, … with the given train_loss values.
func lossCurve(vals ...float64) []sim.Epoch {
	out := make([]sim.Epoch, len(vals))
	for i, v := range vals {
		out[i] = sim.Epoch{Epoch: i + 1, TrainLoss: v}
	}
	return out
}

// stopping returns a stopping block on metric (its mode from the metric),
// grouped by surrogate.shape.
func stopping(metric string, rules ...sweep.StopRule) *sweep.Stopping {
	_, mode, ok := sweep.StopMetricValue(metric, sim.Epoch{})
	if !ok {
		panic("unknown metric " + metric)
	}
	return &sweep.Stopping{Metric: metric, Mode: mode, Rules: rules, Group: []string{"surrogate.shape"}}
}

// observeAll observes the task's epochs in order and returns the first
// decision (and the index of its epoch), or nil.
func observeAll(e *Engine, task Task, curve []sim.Epoch) *protocol.StopDecision {
	for _, ep := range curve {
		if d := e.Observe(task, ep, now); d != nil {
			return d
		}
	}
	return nil
}

// describeDecision renders a decision for messages.
func describeDecision(d *protocol.StopDecision) string {
	if d == nil {
		return "continue"
	}
	b, _ := json.Marshal(d)
	return fmt.Sprintf("%s", b)
}

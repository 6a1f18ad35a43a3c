// Package resultstest builds synthetic sweeps for the tests of package
// results and its neighbours (results/store, results/plot, the CLI): the
// records a store would hold for made-up tasks with chosen curves, in
// memory or written into a real bbolt store.
package resultstest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sim"
)

// Task describes one task of a synthetic sweep.
type Task struct {
	Shape string
	Scale float64
	LR    float64 // 0: the default learning rate
	Seed  uint64
	// State is done, stopped, failed or pending; Status ok or diverged for
	// done, stopped for stopped.
	State, Status string
	// Curve is the validation accuracy after each epoch trained; test_acc
	// is the value at the best epoch plus 0.01, test_acc_last the last
	// value plus 0.01, best_val_acc the maximum.
	Curve []float64
	// Stop is a stopped task's decision (see Stopped).
	Stop *protocol.StopDecision
}

// Stopped returns the task as a run that a stop decision of the rule ended
// after epoch (1-based): its curve cut after that epoch, state and status
// stopped, and a decision on val_acc whose value is the curve's value at
// epoch and whose threshold is 0.05 above it. A median decision is
// compared against three peers (value + 0.03, + 0.05, + 0.07); chance
// against none.
func (s Task) Stopped(epoch int, rule string) Task {
	s.State, s.Status = results.StateStopped, protocol.StatusStopped
	s.Curve = s.Curve[:epoch:epoch]
	v := s.Curve[epoch-1]
	s.Stop = &protocol.StopDecision{Epoch: epoch, Rule: rule, Metric: "val_acc", Mode: "max",
		Value: v, Threshold: v + 0.05, DecidedAt: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)}
	if rule != "chance" {
		s.Stop.Against = []float64{v + 0.03, v + 0.05, v + 0.07}
	}
	return s
}

// Config returns the task's resolved configuration.
func (s Task) Config() sim.Config {
	c := sim.DefaultConfig()
	c.Surrogate.Shape = s.Shape
	c.Surrogate.Scale = s.Scale
	if s.LR != 0 {
		c.Train.LR = s.LR
	}
	c.Seed = s.Seed
	c.Train.Epochs = 3
	return c
}

// results.Record builds the results.Record the store would hold for the task.
func (s Task) Record(t testing.TB, sweepName string, ordinal int) results.Record {
	t.Helper()
	params, err := json.Marshal(s.Config())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(params)
	id := hex.EncodeToString(sum[:16])
	r := results.Record{Sweep: sweepName, Ordinal: ordinal, TaskID: id, State: s.State, Params: params}
	// As in the store's records, the result message does not repeat the
	// params (Record.Params holds them).
	switch s.State {
	case results.StateFailed:
		r.Error = "synthetic failure"
		r.Attempts = 1
		r.Result = &protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: sweepName, TaskID: id,
			Status: protocol.StatusFailed, Error: r.Error,
			Provenance: protocol.Provenance{Host: "hosta", Worker: "hosta/1", Attempt: 1}}
	case results.StateDone, results.StateStopped:
		r.Attempts = 1
		r.Result = &protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: sweepName, TaskID: id,
			Status: s.Status, Result: s.result(), Provenance: s.provenance(), Stop: s.Stop}
		r.Stop = s.Stop
	}
	return r
}

// result builds the simulator's result from the curve.
func (s Task) result() *sim.Result {
	r := &sim.Result{Status: s.Status}
	if s.Status == protocol.StatusStopped {
		r.Status = sim.StatusOK // the simulator's run was fine; the coordinator ended it
	}
	for i, v := range s.Curve {
		r.Epochs = append(r.Epochs, sim.Epoch{Epoch: i + 1, TrainLoss: 2 - v, TrainAcc: v + 0.02, ValAcc: v,
			Spikes: []float64{1 + v}, Silent: []float64{1 - v}})
		if v > r.BestValAcc || r.BestEpoch == 0 {
			r.BestEpoch, r.BestValAcc = i+1, v
		}
	}
	if n := len(s.Curve); n > 0 {
		r.TestAcc = s.Curve[r.BestEpoch-1] + 0.01
		r.TestAccLast = s.Curve[n-1] + 0.01
	}
	return r
}

func (s Task) provenance() protocol.Provenance {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return protocol.Provenance{
		ModelVersion: sim.ModelVersion,
		Build:        protocol.Build{Module: "github.com/sgsweep/sgsweep", Version: "(devel)", GoVersion: "go1.26", Platform: "linux/amd64"},
		Host:         "host" + string(rune('a'+s.Seed%2)),
		Worker:       "hosta/1",
		Attempt:      1,
		StartedAt:    start,
		FinishedAt:   start.Add(time.Duration(len(s.Curve))*time.Second + time.Duration(s.Seed)*time.Second/4),
		Timing:       sim.Timing{DataSeconds: 0.5, EpochSeconds: make([]float64, len(s.Curve))},
	}
}

// Sweep builds a sweep from tasks, in order.
func Sweep(t testing.TB, sweepName string, tasks []Task) results.RecordSlice {
	t.Helper()
	var rs results.RecordSlice
	for i, s := range tasks {
		rs = append(rs, s.Record(t, sweepName, i))
	}
	return rs
}

// ShapeScale is a small study named "fig": two shapes × three scales ×
// three seeds, 3 epochs each, with one failed, one pending and one
// diverged task. Accuracies follow Curve, so that aggregates can be
// checked by hand.
func ShapeScale(t testing.TB) results.RecordSlice {
	var tasks []Task
	for _, shape := range []string{"superspike", "sigmoid"} {
		for _, scale := range []float64{1, 10, 100} {
			for seed := uint64(1); seed <= 3; seed++ {
				s := Task{Shape: shape, Scale: scale, Seed: seed, State: results.StateDone, Status: protocol.StatusOK,
					Curve: Curve(shape, scale, seed)}
				switch {
				case shape == "sigmoid" && scale == 100 && seed == 3:
					s.State, s.Status = results.StateFailed, ""
				case shape == "sigmoid" && scale == 100 && seed == 2:
					s.State, s.Status = results.StatePending, ""
				case shape == "superspike" && scale == 100 && seed == 1:
					s.Status = protocol.StatusDiverged
					s.Curve = []float64{0.1}
				}
				tasks = append(tasks, s)
			}
		}
	}
	return Sweep(t, "fig", tasks)
}

// ShapeScaleStopped is ShapeScale (sweep "fig") with two tasks stopped
// early: superspike, scale 1, seed 3 by the median rule after epoch 2
// (val_acc 0.63, 0.73; test_acc 0.74), and sigmoid, scale 10, seed 1 by the
// chance rule after epoch 1 (val_acc 0.66; test_acc 0.67). Stores accept
// stopped results only from the store's stopped outcome on, so it is
// for in-memory sources.
func ShapeScaleStopped(t testing.TB) results.RecordSlice {
	rs := ShapeScale(t)
	for i := range rs {
		var s Task
		switch i {
		case 2: // superspike, 1, seed 3
			s = Task{Shape: "superspike", Scale: 1, Seed: 3, Curve: Curve("superspike", 1, 3)}.Stopped(2, "median")
		case 12: // sigmoid, 10, seed 1
			s = Task{Shape: "sigmoid", Scale: 10, Seed: 1, Curve: Curve("sigmoid", 10, 1)}.Stopped(1, "chance")
		default:
			continue
		}
		rs[i] = s.Record(t, "fig", i)
	}
	return rs
}

// Curve is val_acc over 3 epochs: it rises to a plateau that depends
// on shape and scale, shifted by 0.01 per seed.
func Curve(shape string, scale float64, seed uint64) []float64 {
	plateau := map[float64]float64{1: 0.8, 10: 0.9, 100: 0.6}[scale]
	if shape == "sigmoid" {
		plateau -= 0.05
	}
	p := plateau + 0.01*float64(seed)
	return []float64{p - 0.2, p - 0.1, p}
}

// OpenStore opens the store at path (see store.Open) for the test and
// registers its cleanup: the store's invariant check ((*store.Store).Check),
// an error if it fails, then Close. Every test store is opened this way,
// so that every test that writes one also checks it; bbolt's own test
// helpers do the same with tx.Check. A test may close the store earlier
// with CloseStore.
func OpenStore(t testing.TB, path string, opts *store.Options) *store.Store {
	t.Helper()
	st, err := store.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { CloseStore(t, st) })
	return st
}

// TempStore opens a new store in t.TempDir() (NoSync) with OpenStore.
func TempStore(t testing.TB) *store.Store {
	t.Helper()
	return OpenStore(t, filepath.Join(t.TempDir(), "state.db"), &store.Options{NoSync: true})
}

// CloseStore runs the store's invariant check, reporting a failure as a
// test error, and closes it. Closing a closed store does nothing.
func CloseStore(t testing.TB, st *store.Store) {
	t.Helper()
	err := st.Check(context.Background())
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return // closed by the test
	}
	if err != nil {
		t.Errorf("store %s fails its check: %v", st.Path(), err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("close store %s: %v", st.Path(), err)
	}
}

// WriteStore writes the records of one sweep into a new bbolt store at
// path through the store's API (plan, then commit the results), as a
// coordinator would, and checks the store before closing it. Result
// messages carry the params, as workers send them.
func WriteStore(t testing.TB, path string, recs results.RecordSlice) {
	t.Helper()
	st, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer CloseStore(t, st)
	plan := &store.Plan{Name: recs[0].Sweep, Fingerprint: "synthetic"}
	for _, r := range recs {
		plan.Tasks = append(plan.Tasks, store.PlanTask{ID: r.TaskID, Params: r.Params})
	}
	ctx := context.Background()
	if _, err := st.PlanSweep(ctx, plan); err != nil {
		t.Fatal(err)
	}
	// A stopped result is stored only under its committed decision, as
	// the coordinator commits it before any worker hears of it.
	for _, r := range recs {
		if d := r.Stop; d != nil || r.Result != nil && r.Result.Stop != nil {
			if d == nil {
				d = r.Result.Stop
			}
			if _, err := st.CommitStop(ctx, r.Sweep, r.TaskID, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	var batch []store.Incoming
	flush := func() {
		if _, err := st.Commit(ctx, batch, nil, nil); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for _, r := range recs {
		if r.Result == nil {
			continue
		}
		msg := *r.Result
		msg.Params = r.Params
		raw, err := json.Marshal(&msg)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, store.Incoming{Result: &msg, Raw: raw})
		if len(batch) == 1000 {
			flush()
		}
	}
	flush()
}

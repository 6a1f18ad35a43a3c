package results

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
)

// update rewrites the golden files under testdata/ instead of comparing:
// go test ./results -run Golden -update
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// synthTask describes one task of a synthetic sweep.
type synthTask struct {
	shape string
	scale float64
	lr    float64
	seed  uint64
	// state is done, failed or pending; status ok or diverged for done.
	state, status string
	// curve is the validation accuracy after each epoch; test_acc is the
	// last value plus 0.01, best_val_acc the maximum.
	curve []float64
}

// config returns the task's resolved configuration.
func (s synthTask) config() sim.Config {
	c := sim.DefaultConfig()
	c.Surrogate.Shape = s.shape
	c.Surrogate.Scale = s.scale
	if s.lr != 0 {
		c.Train.LR = s.lr
	}
	c.Seed = s.seed
	c.Train.Epochs = 3
	return c
}

// record builds the Record the store would hold for the task.
func (s synthTask) record(t testing.TB, sweepName string, ordinal int) Record {
	t.Helper()
	params, err := json.Marshal(s.config())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(params)
	id := hex.EncodeToString(sum[:16])
	r := Record{Sweep: sweepName, Ordinal: ordinal, TaskID: id, State: s.state, Params: params}
	switch s.state {
	case StateFailed:
		r.Error = "synthetic failure"
		r.Attempts = 1
		r.Result = &protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: sweepName, TaskID: id,
			Status: protocol.StatusFailed, Error: r.Error, Params: params,
			Provenance: protocol.Provenance{Host: "hosta", Worker: "hosta/1", Attempt: 1}}
	case StateDone:
		r.Attempts = 1
		r.Result = &protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: sweepName, TaskID: id,
			Status: s.status, Result: s.result(), Params: params, Provenance: s.provenance()}
	}
	return r
}

// result builds the simulator's result from the curve.
func (s synthTask) result() *sim.Result {
	r := &sim.Result{Status: s.status}
	for i, v := range s.curve {
		r.Epochs = append(r.Epochs, sim.Epoch{Epoch: i + 1, TrainLoss: 2 - v, TrainAcc: v + 0.02, ValAcc: v,
			Spikes: []float64{1 + v}, Silent: []float64{1 - v}})
		if v > r.BestValAcc || r.BestEpoch == 0 {
			r.BestEpoch, r.BestValAcc = i+1, v
		}
	}
	if n := len(s.curve); n > 0 {
		r.TestAcc = s.curve[r.BestEpoch-1] + 0.01
		r.TestAccLast = s.curve[n-1] + 0.01
	}
	return r
}

func (s synthTask) provenance() protocol.Provenance {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return protocol.Provenance{
		ModelVersion: sim.ModelVersion,
		Build:        protocol.Build{Module: "github.com/sgsweep/sgsweep", Version: "(devel)", GoVersion: "go1.26", Platform: "linux/amd64"},
		Host:         "host" + string(rune('a'+s.seed%2)),
		Worker:       "hosta/1",
		Attempt:      1,
		StartedAt:    start,
		FinishedAt:   start.Add(time.Duration(len(s.curve))*time.Second + time.Duration(s.seed)*time.Second/4),
		Timing:       sim.Timing{DataSeconds: 0.5, EpochSeconds: make([]float64, len(s.curve))},
	}
}

// synthSweep builds a sweep from tasks, in order.
func synthSweep(t testing.TB, sweepName string, tasks []synthTask) RecordSlice {
	t.Helper()
	var rs RecordSlice
	for i, s := range tasks {
		rs = append(rs, s.record(t, sweepName, i))
	}
	return rs
}

// shapeScaleSweep is a small study: two shapes × three scales × three seeds,
// 3 epochs each, with one failed, one pending and one diverged task.
// Accuracies follow synthCurve, so that aggregates can be checked by hand.
func shapeScaleSweep(t testing.TB) RecordSlice {
	var tasks []synthTask
	for _, shape := range []string{"superspike", "sigmoid"} {
		for _, scale := range []float64{1, 10, 100} {
			for seed := uint64(1); seed <= 3; seed++ {
				s := synthTask{shape: shape, scale: scale, seed: seed, state: StateDone, status: protocol.StatusOK,
					curve: synthCurve(shape, scale, seed)}
				switch {
				case shape == "sigmoid" && scale == 100 && seed == 3:
					s.state, s.status = StateFailed, ""
				case shape == "sigmoid" && scale == 100 && seed == 2:
					s.state, s.status = StatePending, ""
				case shape == "superspike" && scale == 100 && seed == 1:
					s.status = protocol.StatusDiverged
					s.curve = []float64{0.1}
				}
				tasks = append(tasks, s)
			}
		}
	}
	return synthSweep(t, "fig", tasks)
}

// synthCurve is val_acc over 3 epochs: it rises to a plateau that depends
// on shape and scale, shifted by 0.01 per seed.
func synthCurve(shape string, scale float64, seed uint64) []float64 {
	plateau := map[float64]float64{1: 0.8, 10: 0.9, 100: 0.6}[scale]
	if shape == "sigmoid" {
		plateau -= 0.05
	}
	p := plateau + 0.01*float64(seed)
	return []float64{p - 0.2, p - 0.1, p}
}

// writeSynthStore writes the records of one sweep into a real bbolt store
// at path through the store's API (plan, then commit the results and
// failures), as a coordinator would.
func writeSynthStore(t testing.TB, path string, recs RecordSlice) {
	t.Helper()
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plan := &Plan{Name: recs[0].Sweep, Fingerprint: "synthetic"}
	for _, r := range recs {
		plan.Tasks = append(plan.Tasks, PlanTask{ID: r.TaskID, Params: r.Params})
	}
	ctx := context.Background()
	if _, err := s.PlanSweep(ctx, plan); err != nil {
		t.Fatal(err)
	}
	var batch []Incoming
	flush := func() {
		if _, err := s.Commit(ctx, batch, nil, nil); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for _, r := range recs {
		if r.Result == nil {
			continue
		}
		raw, err := json.Marshal(r.Result)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, Incoming{Result: r.Result, Raw: raw})
		if len(batch) == 1000 {
			flush()
		}
	}
	flush()
}

package protocol

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/sim"
)

// plausibleResult is a result of testTask (3 epochs, one hidden layer) that
// passes CheckPlausible.
func plausibleResult(t *testing.T, status string) *ResultMsg {
	t.Helper()
	m := testResult(t, testTask(t), status)
	if m.Result == nil {
		return m
	}
	m.Result.Epochs = nil
	for e := 1; e <= 3; e++ {
		m.Result.Epochs = append(m.Result.Epochs, sim.Epoch{Epoch: e, TrainLoss: 2.3 / float64(e), TrainAcc: 0.1 * float64(e),
			ValAcc: 0.12 * float64(e), Spikes: []float64{1.5}, Silent: []float64{0.25}})
	}
	m.Result.BestEpoch, m.Result.BestValAcc, m.Result.TestAcc, m.Result.TestAccLast = 3, 0.36, 0.34, 0.34
	if status == StatusStopped { // after epoch 2 of 3
		m.Result.Epochs = m.Result.Epochs[:2]
		m.Result.BestEpoch, m.Result.BestValAcc = 2, 0.24
	}
	return m
}

func TestCheckPlausible(t *testing.T) {
	for _, status := range []string{StatusOK, StatusDiverged, StatusStopped, StatusFailed} {
		if err := CheckPlausible(plausibleResult(t, status)); err != nil {
			t.Errorf("plausible %s result: %v", status, err)
		}
	}
	diverged := plausibleResult(t, StatusDiverged)
	diverged.Result.Epochs, diverged.Result.BestEpoch, diverged.Result.BestValAcc = nil, 0, 0
	if err := CheckPlausible(diverged); err != nil {
		t.Errorf("diverged before the first epoch: %v", err)
	}

	for _, tt := range []struct {
		name, want string
		edit       func(r *sim.Result)
	}{
		{"test accuracy 7.5", "not in [0, 1]", func(r *sim.Result) { r.TestAcc = 7.5 }},
		{"negative last accuracy", "not in [0, 1]", func(r *sim.Result) { r.TestAccLast = -0.1 }},
		{"validation accuracy 1.2", "not in [0, 1]", func(r *sim.Result) { r.Epochs[1].ValAcc = 1.2 }},
		{"infinite loss", "not finite", func(r *sim.Result) { r.Epochs[0].TrainLoss = math.Inf(1) }},
		{"NaN accuracy", "not in [0, 1]", func(r *sim.Result) { r.Epochs[0].TrainAcc = math.NaN() }},
		{"short curve", "2 epochs in the learning curve, the task trains 3", func(r *sim.Result) {
			r.Epochs = r.Epochs[:2]
			r.BestEpoch = 2
			r.BestValAcc = r.Epochs[1].ValAcc
		}},
		{"epochs misnumbered", "numbered 7", func(r *sim.Result) { r.Epochs[2].Epoch = 7 }},
		{"best epoch beyond the curve", "best epoch 4 of 3", func(r *sim.Result) { r.BestEpoch = 4 }},
		{"best accuracy not the best epoch's", "is not epoch 3's", func(r *sim.Result) { r.BestValAcc = 0.999 }},
		{"layers", "for 1 hidden layers", func(r *sim.Result) { r.Epochs[0].Spikes = []float64{1, 2} }},
		{"negative spikes", "spikes -1", func(r *sim.Result) { r.Epochs[0].Spikes[0] = -1 }},
		{"silent fraction 2", "silent fraction 2", func(r *sim.Result) { r.Epochs[0].Silent[0] = 2 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := plausibleResult(t, StatusOK)
			tt.edit(m.Result)
			err := CheckPlausible(m)
			if !errors.Is(err, ErrImplausible) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckPlausible = %v, want ErrImplausible mentioning %q", err, tt.want)
			}
		})
	}

	tooLong := plausibleResult(t, StatusDiverged)
	tooLong.Result.Epochs = append(tooLong.Result.Epochs, tooLong.Result.Epochs[2])
	tooLong.Result.Epochs[3].Epoch = 4
	if err := CheckPlausible(tooLong); !errors.Is(err, ErrImplausible) {
		t.Errorf("diverged result with 4 of 3 epochs: %v", err)
	}
	full := plausibleResult(t, StatusOK)
	full.Status, full.Result.Status = StatusStopped, StatusStopped
	if err := CheckPlausible(full); !errors.Is(err, ErrImplausible) || !strings.Contains(err.Error(), "stopped after 3 epochs") {
		t.Errorf("stopped result with all 3 epochs: %v", err)
	}
	badParams := plausibleResult(t, StatusOK)
	badParams.Params = []byte(`{"seed": 1}`)
	if err := CheckPlausible(badParams); !errors.Is(err, ErrImplausible) || !strings.Contains(err.Error(), "params") {
		t.Errorf("incomplete params: %v", err)
	}
}

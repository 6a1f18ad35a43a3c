package protocol

import (
	"errors"
	"fmt"
	"math"

	"github.com/sgsweep/sgsweep/sweep"
)

// ErrImplausible: a result message that decodes but cannot be what the
// simulator computed for its task (an accuracy outside [0, 1], a learning
// curve of the wrong length, inconsistent best-epoch fields). It is set
// aside with the reason, never stored as a result.
var ErrImplausible = errors.New("implausible result")

// CheckPlausible checks a decoded result (DecodeResult) against what the
// simulator can produce for its parameters:
//   - the params decode to a valid config (sweep.DecodeParams);
//   - an ok result has exactly train.epochs epochs, a stopped one fewer, a
//     diverged one at most that many; epoch i (1-based) is numbered i;
//   - every loss is finite, every accuracy and silent fraction in [0, 1],
//     every spike count finite and ≥ 0, with one value per hidden layer;
//   - best_epoch is 0 without epochs and else in [1, epochs run], and
//     best_val_acc is that epoch's validation (or training) accuracy;
//   - test accuracies are in [0, 1].
//
// Failed results carry no numbers and pass. Errors wrap ErrImplausible.
func CheckPlausible(r *ResultMsg) error {
	if r.Status == StatusFailed || r.Result == nil {
		return nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrImplausible, fmt.Sprintf(format, args...))
	}
	cfg, err := sweep.DecodeParams(r.Params)
	if err != nil {
		return bad("params: %v", err)
	}
	res := r.Result
	epochs, layers := cfg.Train.Epochs, len(cfg.Network.Hidden)
	switch {
	case r.Status == StatusOK && len(res.Epochs) != epochs:
		return bad("%d epochs in the learning curve, the task trains %d", len(res.Epochs), epochs)
	case r.Status == StatusStopped && len(res.Epochs) >= epochs:
		return bad("stopped after %d epochs, the task trains %d", len(res.Epochs), epochs)
	case len(res.Epochs) > epochs:
		return bad("%d epochs in the learning curve, the task trains at most %d", len(res.Epochs), epochs)
	}
	for i, e := range res.Epochs {
		switch {
		case e.Epoch != i+1:
			return bad("epoch %d of the learning curve is numbered %d", i+1, e.Epoch)
		case !finite(e.TrainLoss):
			return bad("epoch %d: train loss %v is not finite", e.Epoch, e.TrainLoss)
		case !unit(e.TrainAcc) || !unit(e.ValAcc):
			return bad("epoch %d: accuracies %v, %v not in [0, 1]", e.Epoch, e.TrainAcc, e.ValAcc)
		case len(e.Spikes) != layers || len(e.Silent) != layers:
			return bad("epoch %d: %d spike counts and %d silent fractions for %d hidden layers",
				e.Epoch, len(e.Spikes), len(e.Silent), layers)
		}
		for l := range layers {
			if !finite(e.Spikes[l]) || e.Spikes[l] < 0 || !unit(e.Silent[l]) {
				return bad("epoch %d, layer %d: spikes %v, silent fraction %v", e.Epoch, l+1, e.Spikes[l], e.Silent[l])
			}
		}
	}
	switch {
	case res.BestEpoch < 0 || res.BestEpoch > len(res.Epochs):
		return bad("best epoch %d of %d", res.BestEpoch, len(res.Epochs))
	case res.BestEpoch == 0 && len(res.Epochs) > 0:
		return bad("no best epoch among %d", len(res.Epochs))
	case res.BestEpoch > 0:
		best := res.Epochs[res.BestEpoch-1]
		if res.BestValAcc != best.ValAcc && res.BestValAcc != best.TrainAcc {
			return bad("best validation accuracy %v is not epoch %d's (%v)", res.BestValAcc, res.BestEpoch, best.ValAcc)
		}
	}
	if !unit(res.BestValAcc) || !unit(res.TestAcc) || !unit(res.TestAccLast) {
		return bad("accuracies %v, %v, %v not in [0, 1]", res.BestValAcc, res.TestAcc, res.TestAccLast)
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// unit reports whether x is in [0, 1] (NaN is not).
func unit(x float64) bool { return x >= 0 && x <= 1 }

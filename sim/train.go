package sim

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Options are the run-time settings that do not change what is computed.
type Options struct {
	// Threads is the number of goroutines for one run; 0 means
	// runtime.GOMAXPROCS(0). The Result does not depend on it.
	Threads int
	// DataDir is where mnist/shd files live; "" means $SGSWEEP_DATA, else
	// "./data" (see LoadDataset).
	DataDir string
	// OnEpoch, if not nil, is called after each epoch, from Train's
	// goroutine, with the epoch's values and its duration in seconds.
	OnEpoch func(e Epoch, seconds float64)
	// Stop, if not nil, is called after OnEpoch, from Train's goroutine,
	// for every epoch but the last (cfg.Train.Epochs). Returning true ends
	// the run after that epoch with status stopped: its test accuracies are
	// computed as at a normal end, from the epochs trained.
	Stop func(e Epoch) bool
}

// Train runs one training: it validates cfg, loads the dataset, builds the
// network and trains it with minibatch Adam on BPTT surrogate gradients for
// cfg.Train.Epochs epochs, or until opts.Stop says to stop.
//
// An invalid cfg is an error joining one *FieldError per invalid field. A
// loss or gradient that becomes NaN or infinite ends the run with status
// diverged; that is an outcome, not an error. Cancelling ctx stops the run
// within one minibatch and returns ctx.Err().
//
// The Result is a pure function of cfg and the stop epoch: bit-identical
// for any opts.Threads. Nothing in training depends on the number of
// epochs still to come, so a run stopped after epoch n has the Result of a
// run of cfg with train.epochs = n, except for its status (stopped instead
// of ok). Wall-clock times go to the Timing.
func Train(ctx context.Context, cfg Config, opts Options) (*Result, *Timing, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	start := time.Now()
	ds, err := LoadDataset(cfg, opts.DataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("dataset %s: %w", cfg.Dataset.Name, err)
	}
	timing := &Timing{DataSeconds: time.Since(start).Seconds()}
	res, err := trainDataset(ctx, &cfg, ds, opts, timing)
	return res, timing, err
}

// trainDataset is Train on a dataset already loaded; cfg must be valid.
func trainDataset(ctx context.Context, cfg *Config, ds *Dataset, opts Options, timing *Timing) (*Result, error) {
	if err := checkDataset(cfg, ds); err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if cfg.Numerics == NumericsFloat32 {
		return trainIn(ctx, cfg, newTrainer[float32](cfg, ds, threads), opts, timing)
	}
	return trainIn(ctx, cfg, newTrainer[float64](cfg, ds, threads), opts, timing)
}

// trainIn runs the epochs of trainDataset with trainer t, built for cfg.
func trainIn[F float](ctx context.Context, cfg *Config, t *trainer[F], opts Options, timing *Timing) (*Result, error) {
	ds := t.ds
	res := &Result{Status: StatusOK, Epochs: []Epoch{}}
	best := make([]F, len(t.params))
	last := make([]F, len(t.params))
	N := ds.Train.Len()
	B := cfg.Train.Batch

	for e := 1; e <= cfg.Train.Epochs && res.Status == StatusOK; e++ {
		start := time.Now()
		t.shuffleOrder()
		for l := range t.epochCounts {
			clear(t.epochCounts[l])
		}
		var lossSum float64
		var correct, batches int
		for b := 0; b < N; b += B {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			loss, c := t.step(t.order[b:min(b+B, N)])
			if !finite(loss) {
				res.Status = StatusDiverged
				break
			}
			lossSum += loss
			correct += c
			batches++
		}
		if res.Status != StatusOK {
			break
		}
		ep := Epoch{
			Epoch:     e,
			TrainLoss: lossSum / float64(batches),
			TrainAcc:  float64(correct) / float64(N),
			ValAcc:    t.accuracy(t.params, &ds.Val),
			Spikes:    make([]float64, len(t.epochCounts)),
			Silent:    make([]float64, len(t.epochCounts)),
		}
		for l, counts := range t.epochCounts {
			var sum float64
			var silent int
			for _, c := range counts {
				sum += c
				if c == 0 {
					silent++
				}
			}
			ep.Spikes[l] = sum / float64(len(counts)*N)
			ep.Silent[l] = float64(silent) / float64(len(counts))
		}
		res.Epochs = append(res.Epochs, ep)
		score := ep.ValAcc
		if ds.Val.Len() == 0 {
			score = ep.TrainAcc
		}
		if res.BestEpoch == 0 || score > res.BestValAcc {
			res.BestEpoch, res.BestValAcc = e, score
			copy(best, t.params)
		}
		copy(last, t.params)
		seconds := time.Since(start).Seconds()
		if timing != nil {
			timing.EpochSeconds = append(timing.EpochSeconds, seconds)
		}
		if opts.OnEpoch != nil {
			opts.OnEpoch(ep, seconds)
		}
		if e < cfg.Train.Epochs && opts.Stop != nil && opts.Stop(ep) {
			res.Status = StatusStopped
		}
	}

	if res.BestEpoch > 0 {
		res.TestAcc = t.accuracy(best, &ds.Test)
		if res.BestEpoch == len(res.Epochs) {
			res.TestAccLast = res.TestAcc
		} else {
			res.TestAccLast = t.accuracy(last, &ds.Test)
		}
	}
	return res, nil
}

package coordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sgsweep/sgsweep/sim"
)

// FakeEnv is the environment variable through which a test passes a Fake
// (as JSON) to a subprocess it starts.
const FakeEnv = "SGSWEEP_TEST_FAKE_RUNNER"

// Fake is a scripted runner with sim.Train's signature, for tests: by default
// it sleeps, reports each epoch, and returns a result that is a deterministic
// function of the config's seed and learning rate. Tasks are picked out by
// their seed. It is safe for concurrent use.
type Fake struct {
	// Sleep is the duration of each run.
	Sleep time.Duration `json:"sleep,omitempty"`
	// Slow maps seeds to their runs' durations (instead of Sleep).
	Slow map[uint64]time.Duration `json:"slow,omitempty"`
	// Fail lists seeds whose runs always fail with an error that may be
	// environmental (retried, then recorded failed on the last delivery).
	Fail []uint64 `json:"fail,omitempty"`
	// Invalid lists seeds whose runs fail with a *sim.FieldError
	// (deterministic: failed at once).
	Invalid []uint64 `json:"invalid,omitempty"`
	// Panic lists seeds whose runs panic.
	Panic []uint64 `json:"panic,omitempty"`
	// Block lists seeds whose runs never finish until cancelled.
	Block []uint64 `json:"block,omitempty"`
	// Implausible lists seeds whose runs return a result no simulator can
	// produce (a test accuracy of 1.5): protocol.CheckPlausible rejects it.
	Implausible []uint64 `json:"implausible,omitempty"`
	// Nondeterministic makes every computation of a task differ.
	Nondeterministic bool `json:"nondeterministic,omitempty"`
	// ValAcc maps seeds to the validation accuracy of each of their
	// epochs (0.5 for the others): a stopping rule tells them apart.
	ValAcc map[uint64]float64 `json:"val_acc,omitempty"`
	// LogFile, if set, gets a line "start <seed> <pid>" when a run starts
	// and "end <seed> <pid>" when it returns a result (appended, so that
	// several processes can share it).
	LogFile string `json:"log_file,omitempty"`

	mu      sync.Mutex
	started map[uint64]int
	runs    atomic.Int64
	// Started, if not nil, receives each run's seed as it starts (the send
	// blocks: make it buffered).
	Started chan uint64 `json:"-"`
}

// FakeFromEnv decodes the Fake in FakeEnv; ok is false when it is unset.
func FakeFromEnv() (f *Fake, ok bool, err error) {
	s := os.Getenv(FakeEnv)
	if s == "" {
		return nil, false, nil
	}
	f = &Fake{}
	if err := json.Unmarshal([]byte(s), f); err != nil {
		return nil, true, fmt.Errorf("%s: %w", FakeEnv, err)
	}
	return f, true, nil
}

// Env returns FakeEnv=<the fake as JSON>, for a subprocess's environment.
func (f *Fake) Env() string {
	data, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	return FakeEnv + "=" + string(data)
}

// Runs is the number of runs started so far in this process.
func (f *Fake) Runs() int { return int(f.runs.Load()) }

// StartedOf is the number of runs of the seed started in this process.
func (f *Fake) StartedOf(seed uint64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started[seed]
}

// Train has sim.Train's signature.
func (f *Fake) Train(ctx context.Context, cfg sim.Config, opts sim.Options) (*sim.Result, *sim.Timing, error) {
	seed := cfg.Seed
	n := f.runs.Add(1)
	f.mu.Lock()
	if f.started == nil {
		f.started = map[uint64]int{}
	}
	f.started[seed]++
	f.mu.Unlock()
	f.log("start", seed)
	if f.Started != nil {
		f.Started <- seed
	}
	switch {
	case slices.Contains(f.Panic, seed):
		panic(fmt.Sprintf("fake simulator panic on seed %d", seed))
	case slices.Contains(f.Invalid, seed):
		return nil, nil, &sim.FieldError{Field: "train.lr", Msg: "fake invalid config"}
	}
	d := f.Sleep
	if s, ok := f.Slow[seed]; ok {
		d = s
	}
	if slices.Contains(f.Block, seed) {
		d = 365 * 24 * time.Hour
	}
	epochs := max(cfg.Train.Epochs, 1)
	acc := 0.5
	if v, ok := f.ValAcc[seed]; ok {
		acc = v
	}
	timing := &sim.Timing{}
	res := &sim.Result{Status: sim.StatusOK, Epochs: []sim.Epoch{}}
	for e := 1; e <= epochs; e++ {
		start := time.Now()
		t := time.NewTimer(d / time.Duration(epochs))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
		ep := sim.Epoch{Epoch: e, TrainLoss: 1 / float64(e), TrainAcc: 0.5, ValAcc: acc,
			Spikes: []float64{1}, Silent: []float64{0}}
		res.Epochs = append(res.Epochs, ep)
		timing.EpochSeconds = append(timing.EpochSeconds, time.Since(start).Seconds())
		if opts.OnEpoch != nil {
			opts.OnEpoch(ep, time.Since(start).Seconds())
		}
		if e < epochs && opts.Stop != nil && opts.Stop(ep) {
			res.Status = sim.StatusStopped // as sim.Train: ends after this epoch
			break
		}
	}
	if slices.Contains(f.Fail, seed) {
		return nil, timing, errors.New("fake environmental failure: data file missing on this host")
	}
	res.BestEpoch = len(res.Epochs)
	res.BestValAcc = acc
	// An accuracy is in [0, 1], with room for Nondeterministic.
	res.TestAcc = min(float64(seed%100)/100+cfg.Train.LR, 0.99)
	res.TestAccLast = res.TestAcc
	if f.Nondeterministic {
		res.TestAcc += float64(n) * 1e-6
	}
	if slices.Contains(f.Implausible, seed) {
		res.TestAcc = 1.5
	}
	f.log("end", seed)
	return res, timing, nil
}

func (f *Fake) log(what string, seed uint64) {
	if f.LogFile == "" {
		return
	}
	file, err := os.OpenFile(f.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		panic(err)
	}
	defer file.Close()
	fmt.Fprintf(file, "%s %d %d\n", what, seed, os.Getpid())
}

// FakeLog counts the lines of a Fake's LogFile: runs started and ended per
// seed.
func FakeLog(path string) (starts, ends map[uint64]int, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[uint64]int{}, map[uint64]int{}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	starts, ends = map[uint64]int{}, map[uint64]int{}
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) != 3 {
			continue
		}
		seed, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		if fields[0] == "start" {
			starts[seed]++
		} else {
			ends[seed]++
		}
	}
	return starts, ends, nil
}

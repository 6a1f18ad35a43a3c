package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
)

// quickRandman is the paper's Randman setup shortened to run in about a
// second: 200 samples per class (1600 training samples), batch 50, 10
// epochs (it reaches about 65% test accuracy; the full setup 96%).
func quickRandman() Config {
	cfg := DefaultConfig()
	cfg.Dataset.SamplesPerClass = 200
	cfg.Train.Epochs = 6
	cfg.Train.Batch = 50
	return cfg
}

// TestTrainLearnsRandman: SuperSpike (β = 10) learns Randman well above
// chance (10%), while the true gradient (heaviside) leaves the hidden layer
// silent and untrained, at chance (docs/model.md, "Findings
// reproduced").
func TestTrainLearnsRandman(t *testing.T) {
	tests := []struct {
		shape    string
		min, max float64 // allowed test accuracy
	}{
		{"superspike", 0.5, 1},
		{"heaviside", 0, 0.2},
	}
	for _, tt := range tests {
		for _, numerics := range []Numerics{NumericsFloat64, NumericsFloat32} {
			t.Run(tt.shape+"/"+string(numerics), func(t *testing.T) {
				cfg := quickRandman()
				cfg.Surrogate.Shape = tt.shape
				cfg.Numerics = numerics
				res, _, err := Train(context.Background(), cfg, Options{})
				if err != nil {
					t.Fatal(err)
				}
				last := res.Epochs[len(res.Epochs)-1]
				t.Logf("%s: test acc %.3f (last %.3f), best epoch %d, train acc %.3f, spikes %.3f, silent %.2f",
					tt.shape, res.TestAcc, res.TestAccLast, res.BestEpoch, last.TrainAcc, last.Spikes[0], last.Silent[0])
				if res.Status != StatusOK {
					t.Fatalf("status %s", res.Status)
				}
				if res.TestAcc < tt.min || res.TestAcc > tt.max {
					t.Errorf("%s: test accuracy %.3f, want in [%.2f, %.2f]", tt.shape, res.TestAcc, tt.min, tt.max)
				}
				if tt.shape == "heaviside" && last.Silent[0] != 1 {
					t.Errorf("heaviside: %.2f of hidden neurons silent, want all (no gradient reaches them)", last.Silent[0])
				}
			})
		}
	}
}

// TestTrainDeterministic: the same config gives the same Result bytes, run
// twice and with 1 or 2 threads; a different seed gives different ones;
// in both numerics, which differ.
func TestTrainDeterministic(t *testing.T) {
	f64 := trainDeterministic(t, "")
	if f32 := trainDeterministic(t, NumericsFloat32); bytes.Equal(f64, f32) {
		t.Errorf("float32 and float64 give the same Result")
	}
}

// trainDeterministic is TestTrainDeterministic in the given numerics; it
// returns the first run's Result bytes.
func trainDeterministic(t *testing.T, numerics Numerics) []byte {
	t.Helper()
	cfg := quickRandman()
	cfg.Numerics = numerics
	cfg.Train.Epochs = 6
	cfg.Dataset.SamplesPerClass = 100
	cfg.Train.Batch = 50 // 4 shards: 2 threads split them
	run := func(cfg Config, threads int) []byte {
		res, _, err := Train(context.Background(), cfg, Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := run(cfg, 1)
	if again := run(cfg, 1); !bytes.Equal(first, again) {
		t.Errorf("same config, run twice:\n%s\n%s", first, again)
	}
	if two := run(cfg, 2); !bytes.Equal(first, two) {
		t.Errorf("Threads 1 vs 2:\n%s\n%s", first, two)
	}
	cfg.Seed++
	if other := run(cfg, 2); bytes.Equal(first, other) {
		t.Errorf("seed %d and %d give the same Result", cfg.Seed-1, cfg.Seed)
	}
	return first
}

// TestTrainInvalidConfig: an invalid config is an error naming the fields.
func TestTrainInvalidConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Surrogate.Shape = "nope"
	cfg.Train.LR = -1
	_, _, err := Train(context.Background(), cfg, Options{})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "surrogate.shape" {
		t.Fatalf("Train with bad shape and lr: error %v, want a *FieldError for surrogate.shape first", err)
	}
	for _, field := range []string{"surrogate.shape", "train.lr", "superspike"} {
		if !bytes.Contains([]byte(err.Error()), []byte(field)) {
			t.Errorf("error %q does not mention %q", err, field)
		}
	}
}

// TestTrainCancel: cancelling the context stops the run before the next
// minibatch, with ctx's error.
func TestTrainCancel(t *testing.T) {
	cfg := quickRandman()
	cfg.Train.Epochs = 6
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	epochs := 0
	_, _, err := Train(ctx, cfg, Options{OnEpoch: func(e Epoch, _ float64) {
		epochs++
		cancel()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Train after cancel: error %v, want context.Canceled", err)
	}
	if epochs != 1 {
		t.Errorf("%d epochs reported after cancelling in the first, want 1", epochs)
	}
}

// TestTrainDiverged: an absurd learning rate makes the weights overflow
// after one step; the run ends with status diverged and no error.
func TestTrainDiverged(t *testing.T) {
	cfg := quickRandman()
	cfg.Dataset.SamplesPerClass = 50
	cfg.Train.LR = 1e308
	res, _, err := Train(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDiverged {
		t.Fatalf("status %q, want %q", res.Status, StatusDiverged)
	}
	if len(res.Epochs) >= cfg.Train.Epochs {
		t.Errorf("%d epochs completed, want fewer than %d", len(res.Epochs), cfg.Train.Epochs)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Errorf("diverged Result does not marshal: %v", err)
	}
	for _, v := range res.Metrics() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("metrics %v hold a non-finite value", res.Metrics())
			break
		}
	}
}

// TestSampleAllocatesNothing pins the hot path: forward, loss and backward
// of one sample, or of a lockstep group, allocate nothing, for every network
// variant.
func TestSampleAllocatesNothing(t *testing.T) {
	sampleAllocatesNothing[float64](t)
	sampleAllocatesNothing[float32](t)
}

func sampleAllocatesNothing[F float](t *testing.T) {
	for _, mutate := range []func(*Config){
		func(*Config) {},
		func(c *Config) { c.Network.Hidden = []int{30, 20}; c.Network.Recurrent = true },
		func(c *Config) { c.Network.Reset = ResetDifferentiable; c.Network.Readout = ReadoutMean },
		func(c *Config) { c.Surrogate.Shape = "sigmoid"; c.Network.Readout = ReadoutLast },
	} {
		cfg := tinyConfig(40)
		cfg.Init.Gain = 5
		mutate(&cfg)
		mustValid(t, &cfg)
		split := randomSplit(newTestRand(), 1, 20, 10, cfg.Dataset.Steps, 0.1)
		net := newNetwork(&cfg, 20, 10, cfg.Dataset.Steps)
		p := toF[F](net.initParams(&cfg))
		grad := make([]F, len(p))
		ws := newWorkspace[F](net)
		times, units := split.Events(0)
		allocs := testing.AllocsPerRun(20, func() {
			ws.forward(p, times, units, true)
			ws.loss(int(split.Labels[0]), 1)
			ws.backward(p, grad)
		})
		if allocs != 0 {
			t.Errorf("%+v: %v allocations per sample, want 0", cfg.Network, allocs)
		}
		group := newGroup[F](net)
		pt := make([]F, net.nT)
		transpose(net, p, pt)
		allocs = testing.AllocsPerRun(10, func() {
			for _, ws := range group {
				ws.forward(p, times, units, true)
				ws.loss(int(split.Labels[0]), 1)
			}
			backward(group, p, pt, grad)
		})
		if allocs != 0 {
			t.Errorf("%+v: %v allocations per group of %d, want 0", cfg.Network, allocs, len(group))
		}
	}
}

// TestTrainLearnsMNIST: the latency-coded MNIST subset of testdata (990
// training images, 200 test images, 8 epochs of batch 50) learns well above
// chance (10%); it reaches about 80%.
func TestTrainLearnsMNIST(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dataset.Name = DatasetMNIST
	cfg.Dataset.ValFraction = 0.01
	cfg.Train.Epochs = 8
	cfg.Train.Batch = 50
	cfg.Train.LR = 0.01
	res, _, err := Train(context.Background(), cfg, Options{DataDir: testDataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MNIST subset: test accuracy %.3f, best epoch %d", res.TestAcc, res.BestEpoch)
	if res.Status != StatusOK || res.TestAcc < 0.6 {
		t.Errorf("status %s, test accuracy %.3f: want ok and at least 0.6", res.Status, res.TestAcc)
	}
}

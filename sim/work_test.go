package sim

import (
	"errors"
	"math"
	"testing"
)

func TestSampleSteps(t *testing.T) {
	cfg := DefaultConfig()
	if tr, va, te := cfg.SplitSizes(); tr != 8000 || va != 1000 || te != 1000 {
		t.Errorf("SplitSizes(default) = %d, %d, %d; want 8000, 1000, 1000", tr, va, te)
	}
	// 50 epochs × 9000 samples × 100 steps + 2 × 1000 × 100.
	if got := cfg.SampleSteps(); got != 45_200_000 {
		t.Errorf("SampleSteps(default) = %d, want 45200000", got)
	}
	cfg.Dataset.Name, cfg.Dataset.TrainSamples, cfg.Dataset.TestSamples = DatasetMNIST, 1000, 0
	if tr, va, te := cfg.SplitSizes(); tr != 1000 || va != 6000 || te != 10000 {
		t.Errorf("SplitSizes(mnist, train_samples 1000) = %d, %d, %d; want 1000, 6000, 10000", tr, va, te)
	}
	cfg.Dataset.Name = DatasetSHD
	if tr, va, te := cfg.SplitSizes(); tr != 1000 || va != 816 || te != 2264 {
		t.Errorf("SplitSizes(shd) = %d, %d, %d; want 1000, 816, 2264", tr, va, te)
	}
}

// TestSplitSizesMatchLoader checks SplitSizes, the planner's estimate,
// against the splits the loader really makes, so that the two cannot drift.
func TestSplitSizesMatchLoader(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dataset = smallRandman()
	ds, err := LoadDataset(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	train, val, test := cfg.SplitSizes()
	got := [3]int{len(ds.Train.Labels), len(ds.Val.Labels), len(ds.Test.Labels)}
	if want := [3]int{train, val, test}; got != want {
		t.Errorf("LoadDataset(randman) splits = %v, SplitSizes = %v", got, want)
	}
}

// Every limit the simulator enforces is refused by Validate, naming the
// field, so that plan rejects the spec instead of a worker; and the work
// estimate of such a config saturates instead of overflowing.
func TestValidateSimulatorLimits(t *testing.T) {
	tests := []struct {
		field string
		edit  func(c *Config)
	}{
		{"dataset.classes", func(c *Config) { c.Dataset.Classes = 300 }},
		{"dataset.classes", func(c *Config) { c.Dataset.Classes = 2e9 }},
		{"dataset.samples_per_class", func(c *Config) { c.Dataset.Classes, c.Dataset.SamplesPerClass, c.Dataset.Units = 200, 200_000, 100 }},
		{"dataset.samples_per_class", func(c *Config) {
			c.Dataset.SamplesPerClass, c.Dataset.ValFraction, c.Dataset.TestFraction = 2, 0.3, 0.3
		}},
		{"dataset.cutoff", func(c *Config) { c.Dataset.Cutoff = 1 << 20 }},
		{"network.hidden[1]", func(c *Config) { c.Network.Hidden = []int{10, 100_000_000} }},
		{"train.epochs", func(c *Config) { c.Train.Epochs = 1 << 40 }},
		{"dataset.val_fraction", func(c *Config) { c.Dataset.Name, c.Dataset.ValFraction = DatasetSHD, 0.99999 }},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		tt.edit(&cfg)
		err := cfg.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: Validate() = %v, want a *FieldError for %s", tt.field, err, tt.field)
		}
		if w := cfg.SampleSteps(); w <= 0 {
			t.Errorf("%s: SampleSteps() = %d, want positive (saturated, not overflowed)", tt.field, w)
		}
	}
	cfg := DefaultConfig()
	cfg.Dataset.Classes, cfg.Train.Epochs = 2e9, 1e6
	if w := cfg.SampleSteps(); w != math.MaxInt64 {
		t.Errorf("SampleSteps(classes 2e9, epochs 1e6) = %d, want saturated at MaxInt64", w)
	}
	// The largest valid sizes still pass.
	cfg = DefaultConfig()
	cfg.Dataset.Classes = 256
	cfg.Network.Hidden = []int{math.MaxInt32 / cfg.Dataset.Steps}
	if err := cfg.Validate(); err != nil {
		t.Errorf("256 classes, %d neurons: %v", cfg.Network.Hidden[0], err)
	}
}

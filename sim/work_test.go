package sim

import "testing"

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

package sim

import "math"

// Samples in the official dataset files, for SplitSizes; the loaders read
// whatever the files hold.
const (
	mnistTrainFile = 60000 // MNIST and Fashion-MNIST training files
	mnistTestFile  = 10000
	shdTrainFile   = 8156 // Spiking Heidelberg Digits, shd_train.h5
	shdTestFile    = 2264 // shd_test.h5
)

// SplitSizes returns the number of training, validation and test samples
// the config's dataset has: for randman, per class round(val_fraction·N)
// validation and round(test_fraction·N) test samples and the rest training,
// N = samples_per_class; for mnist, fashion-mnist and shd, the validation
// set is round(val_fraction·n) of the n samples of the official training
// file, and train_samples/test_samples (when positive) cap the training and
// test sets. The file sizes are those of the official distributions.
func (c *Config) SplitSizes() (train, val, test int) {
	d := &c.Dataset
	if d.Name == DatasetRandman {
		n := d.SamplesPerClass
		v, t := share(d.ValFraction, n), share(d.TestFraction, n)
		return d.Classes * (n - v - t), d.Classes * v, d.Classes * t
	}
	trainFile, testFile := mnistTrainFile, mnistTestFile
	if d.Name == DatasetSHD {
		trainFile, testFile = shdTrainFile, shdTestFile
	}
	val = share(d.ValFraction, trainFile)
	train, test = trainFile-val, testFile
	if d.TrainSamples > 0 && d.TrainSamples < train {
		train = d.TrainSamples
	}
	if d.TestSamples > 0 && d.TestSamples < test {
		test = d.TestSamples
	}
	return train, val, test
}

// SampleSteps estimates the work of the training run, in sample-steps (one
// sample simulated for one time step, forward or forward and backward):
//
//	epochs × (train + val) × steps + 2 × test × steps
//
// every epoch trains on the training set and evaluates the validation set;
// at the end the test set is evaluated twice (best and last weights). The
// cost of one sample-step grows with the network's size; this counts runs
// of one architecture fairly, not runs of different widths.
//
// Validate bounds it by MaxSampleSteps, so it is exact for a valid config;
// for an invalid one it saturates at math.MaxInt64 instead of overflowing.
func (c *Config) SampleSteps() int64 {
	if w := c.sampleStepsFloat(); !(w < math.MaxInt64) {
		return math.MaxInt64
	}
	train, val, test := c.SplitSizes()
	steps := int64(c.Dataset.Steps)
	return int64(c.Train.Epochs)*int64(train+val)*steps + 2*int64(test)*steps
}

// MaxSampleSteps bounds the work of one run (see SampleSteps): 2^53
// sample-steps, years of computing, and the largest count a float64 holds
// exactly. Config.Validate refuses a run above it.
const MaxSampleSteps = 1 << 53

// sampleStepsFloat is SampleSteps' formula in float64, which cannot
// overflow.
func (c *Config) sampleStepsFloat() float64 {
	train, val, test := c.splitSizesFloat()
	steps := float64(c.Dataset.Steps)
	return float64(c.Train.Epochs)*(train+val)*steps + 2*test*steps
}

// splitSizesFloat is SplitSizes in float64: for randman the class count
// times the per-class sizes, which cannot overflow.
func (c *Config) splitSizesFloat() (train, val, test float64) {
	d := &c.Dataset
	if d.Name != DatasetRandman {
		tr, va, te := c.SplitSizes()
		return float64(tr), float64(va), float64(te)
	}
	n := d.SamplesPerClass
	v, t := share(d.ValFraction, n), share(d.TestFraction, n)
	k := float64(d.Classes)
	return k * float64(n-v-t), k * float64(v), k * float64(t)
}

// share is the number of samples a fraction of n takes, round(fraction·n):
// the one rounding rule of every split.
func share(fraction float64, n int) int { return int(math.Round(fraction * float64(n))) }

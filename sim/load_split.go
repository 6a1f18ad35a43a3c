package sim

import (
	"fmt"
	"math"
)

// Helpers shared by the dataset loaders to build Splits and to carve the
// validation split out of a training set.

// newSplit returns an empty Split with room for the given numbers of samples
// and events.
func newSplit(samples, events int) Split {
	s := Split{
		Offsets: make([]int32, 1, samples+1),
		Times:   make([]uint16, 0, events),
		Units:   make([]uint16, 0, events),
		Labels:  make([]uint8, 0, samples),
	}
	return s
}

// appendSample adds one sample whose events are already sorted by time, then
// unit. It returns an error if the split would exceed the int32 offsets.
func (s *Split) appendSample(times, units []uint16, label uint8) error {
	end := len(s.Times) + len(times)
	if end > math.MaxInt32 {
		return fmt.Errorf("more than %d events in one split", math.MaxInt32)
	}
	s.Times = append(s.Times, times...)
	s.Units = append(s.Units, units...)
	s.Labels = append(s.Labels, label)
	s.Offsets = append(s.Offsets, int32(end))
	return nil
}

// holdout splits the sample indices 0…n−1 of a training set into a
// validation part of round(valFraction·n) samples and the training part of
// the rest, both in the order of one random permutation drawn from
// (dataSeed, dataStreamHoldout). If trainLimit > 0, only the first
// trainLimit indices of the training part are kept; the validation part does
// not depend on trainLimit, so runs that vary the training-set size are
// validated on the same samples.
func holdout(n int, valFraction float64, trainLimit int, dataSeed uint64) (train, val []int) {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	dataShuffle(dataStream(dataSeed, dataStreamHoldout, 0), perm)
	nVal := share(valFraction, n)
	val, train = perm[:nVal:nVal], perm[nVal:]
	if trainLimit > 0 && trainLimit < len(train) {
		train = train[:trainLimit]
	}
	return train, val
}

// splitIndices returns the sample indices of the three splits of a dataset
// with nTrain training and nTest test samples: train and val drawn by
// holdout from d.ValFraction, d.TrainSamples and dataSeed, test the first
// d.TestSamples test samples in file order (all if d.TestSamples ≤ 0).
// samples describes the training samples for the error when the validation
// split would leave none for training, e.g. "samples of shd_train.h5".
func splitIndices(d DatasetConfig, dataSeed uint64, nTrain, nTest int, samples string) (train, val, test []int, err error) {
	train, val = holdout(nTrain, d.ValFraction, d.TrainSamples, dataSeed)
	if len(train) == 0 {
		return nil, nil, nil, &FieldError{Field: "dataset.val_fraction", Msg: fmt.Sprintf("leaves none of the %d %s for training", nTrain, samples)}
	}
	test = make([]int, nTest)
	if d.TestSamples > 0 {
		test = test[:min(d.TestSamples, nTest)]
	}
	for i := range test {
		test[i] = i
	}
	return train, val, test, nil
}

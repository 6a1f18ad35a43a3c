package sim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// idxClasses is the number of classes of MNIST and Fashion-MNIST.
const idxClasses = 10

// loadIDXDataset reads MNIST or Fashion-MNIST (cfg.Dataset.Name) from
// dataDir and latency-codes it (see latencyStep) into cfg.Dataset.Steps
// steps with cfg.Dataset.Threshold and TauEff.
//
// Layout: the four files of the original distributions,
//
//	<dataDir>/<name>/train-images-idx3-ubyte[.gz]
//	<dataDir>/<name>/train-labels-idx1-ubyte[.gz]
//	<dataDir>/<name>/t10k-images-idx3-ubyte[.gz]
//	<dataDir>/<name>/t10k-labels-idx1-ubyte[.gz]
//
// with <name> mnist or fashion-mnist; gzip-compressed or plain (recognised
// by content). If <dataDir>/<name> does not exist, the files are looked for
// in dataDir itself, so dataDir may also point straight at one dataset.
//
// Splits: the validation split is round(ValFraction·n) of the n training
// images, chosen at random with cfg.DataSeed; the training split is the
// rest, in a random order, cut to its first TrainSamples if that is
// positive. The test split is the t10k file in its order, cut to its first
// TestSamples if positive.
func loadIDXDataset(cfg Config, dataDir string) (*Dataset, error) {
	d := cfg.Dataset
	dir, err := idxDatasetDir(dataDir, d.Name)
	if err != nil {
		return nil, err
	}
	var train, test idxPair
	var trainErr, testErr error
	var wg sync.WaitGroup
	wg.Go(func() { train, trainErr = readIDXPair(dir, "train") })
	wg.Go(func() { test, testErr = readIDXPair(dir, "t10k") })
	wg.Wait()
	if err := errors.Join(trainErr, testErr); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	if train.pixels != test.pixels {
		return nil, fmt.Errorf("%s: training images have %s pixels (%s), test images %s (%s)", d.Name,
			dimsString(train.images.Dims[1:]), train.imagesPath, dimsString(test.images.Dims[1:]), test.imagesPath)
	}

	tab := newLatencyTable(d.Threshold, d.TauEff, d.Steps)
	trainIdx, valIdx, testIdx, err := splitIndices(d, cfg.DataSeed, train.count, test.count, "training images of "+train.imagesPath)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Inputs: train.pixels, Steps: d.Steps, Classes: idxClasses}
	for _, s := range []struct {
		dst  *Split
		src  *idxPair
		take []int
	}{{&ds.Train, &train, trainIdx}, {&ds.Val, &train, valIdx}, {&ds.Test, &test, testIdx}} {
		if *s.dst, err = encodeLatency(s.src.images.Data, s.src.pixels, s.src.labels.Data, s.take, tab, d.Steps); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", d.Name, s.src.imagesPath, err)
		}
	}
	return ds, nil
}

// idxDatasetDir returns <dataDir>/<name>, or dataDir if that does not exist.
func idxDatasetDir(dataDir, name string) (string, error) {
	sub := filepath.Join(dataDir, name)
	if _, err := os.Stat(sub); err == nil {
		return sub, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return dataDir, nil
}

// idxPair is one split's images and labels, checked against each other.
type idxPair struct {
	images, labels         *idxArray
	imagesPath, labelsPath string
	count, pixels          int // images, and pixels per image
}

// readIDXPair reads <prefix>-images-idx3-ubyte[.gz] and
// <prefix>-labels-idx1-ubyte[.gz] from dir.
func readIDXPair(dir, prefix string) (idxPair, error) {
	var p idxPair
	var err error
	split := map[string]string{"train": "training", "t10k": "test"}[prefix]
	if p.imagesPath, err = findPlainOrGzip(dir, prefix+"-images-idx3-ubyte", split+" images", "IDX"); err != nil {
		return p, err
	}
	if p.labelsPath, err = findPlainOrGzip(dir, prefix+"-labels-idx1-ubyte", split+" labels", "IDX"); err != nil {
		return p, err
	}
	if p.images, err = readIDX(p.imagesPath, 3); err != nil {
		return p, err
	}
	if p.labels, err = readIDX(p.labelsPath, 1); err != nil {
		return p, err
	}
	p.count, p.pixels = p.images.Dims[0], p.images.Dims[1]*p.images.Dims[2]
	switch {
	case p.count == 0:
		return p, fmt.Errorf("%s: no images", p.imagesPath)
	case p.pixels == 0:
		return p, fmt.Errorf("%s: images of %s pixels", p.imagesPath, dimsString(p.images.Dims[1:]))
	case p.labels.Dims[0] != p.count:
		return p, fmt.Errorf("%s has %d images but %s has %d labels", p.imagesPath, p.count, p.labelsPath, p.labels.Dims[0])
	}
	for k, l := range p.labels.Data {
		if l >= idxClasses {
			return p, fmt.Errorf("%s: label %d of sample %d, want 0…%d", p.labelsPath, l, k, idxClasses-1)
		}
	}
	return p, nil
}

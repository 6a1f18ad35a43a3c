package sim

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testDataDir is a data directory in the repository: mnist/ holds the first
// 1 000 training and 200 test images of MNIST with their labels (gzip IDX,
// cut from the official files by testdata/mnist/cut.go; SHA-256 sums in
// testdata/mnist/SHA256SUMS), shd/ the SHD fixtures of testdata/shd/gen.py.
const testDataDir = "testdata"

// Sizes of the MNIST subset in testDataDir.
const subsetTrain, subsetTest = 1000, 200

// fullDataDir returns $SGSWEEP_DATA, the data directory whose mnist/ holds
// the full official MNIST files, for the tests that need them; it skips tb
// when the variable is unset.
func fullDataDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv(DataDirEnv)
	if dir == "" {
		tb.Skipf("needs the full MNIST files: set %s to a directory holding mnist/ "+
			"(`sgsweep data get mnist --dataset-dir DIR` downloads them there)", DataDirEnv)
	}
	return dir
}

// fakeIDX describes a small MNIST-like dataset written by writeFakeIDX.
type fakeIDX struct {
	train, test int  // images
	rows, cols  int  // pixels
	gzip        bool // compress the files
}

// fakePixels returns image k of a fake split: a fixed pattern of bytes.
func fakePixels(k, pixels, salt int) []byte {
	img := make([]byte, pixels)
	for p := range img {
		img[p] = byte((k*37 + p*91 + salt*13) % 256)
	}
	return img
}

func fakeLabel(k, salt int) byte { return byte((k*7 + salt) % 10) }

// writeFakeIDX writes the four IDX files of f into dir.
func writeFakeIDX(t testing.TB, dir string, f fakeIDX) {
	t.Helper()
	for salt, split := range []struct {
		prefix string
		n      int
	}{{"train", f.train}, {"t10k", f.test}} {
		var pixels, labels []byte
		for k := range split.n {
			pixels = append(pixels, fakePixels(k, f.rows*f.cols, salt)...)
			labels = append(labels, fakeLabel(k, salt))
		}
		images := idxBytes(0, []int{split.n, f.rows, f.cols}, pixels)
		labelFile := idxBytes(0, []int{split.n}, labels)
		suffix := ""
		if f.gzip {
			images, labelFile, suffix = gzipBytes(t, images), gzipBytes(t, labelFile), ".gz"
		}
		writeFile(t, filepath.Join(dir, split.prefix+"-images-idx3-ubyte"+suffix), images)
		writeFile(t, filepath.Join(dir, split.prefix+"-labels-idx1-ubyte"+suffix), labelFile)
	}
}

// latencyConfig returns a config for the named IDX dataset.
func latencyConfig(name string, valFraction float64, dataSeed uint64) Config {
	cfg := DefaultConfig()
	cfg.Dataset.Name = name
	cfg.Dataset.ValFraction = valFraction
	cfg.DataSeed = dataSeed
	return cfg
}

// sampleKey describes one sample: its label and its events.
func sampleKey(s *Split, k int) string {
	times, units := s.Events(k)
	return fmt.Sprint(s.Labels[k], times, units)
}

func TestLoadIDXDataset(t *testing.T) {
	dir := t.TempDir()
	f := fakeIDX{train: 40, test: 15, rows: 2, cols: 3}
	writeFakeIDX(t, filepath.Join(dir, "mnist"), f)
	cfg := latencyConfig(DatasetMNIST, 0.25, 4)
	ds, err := loadDatasetUncached(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, ds)
	if ds.Inputs != 6 || ds.Steps != 100 || ds.Classes != 10 {
		t.Errorf("inputs, steps, classes = %d, %d, %d; want 6, 100, 10", ds.Inputs, ds.Steps, ds.Classes)
	}
	if ds.Train.Len() != 30 || ds.Val.Len() != 10 || ds.Test.Len() != 15 {
		t.Fatalf("split sizes %d/%d/%d, want 30/10/15", ds.Train.Len(), ds.Val.Len(), ds.Test.Len())
	}

	// Every training image is in train or val, latency-coded, exactly once.
	tab := newLatencyTable(0.2, 20, 100)
	want := map[string]int{}
	for k := range f.train {
		enc, err := encodeLatency(fakePixels(k, 6, 0), 6, []byte{fakeLabel(k, 0)}, []int{0}, tab, 100)
		if err != nil {
			t.Fatal(err)
		}
		want[sampleKey(&enc, 0)]++
	}
	for _, s := range []*Split{&ds.Train, &ds.Val} {
		for k := range s.Len() {
			want[sampleKey(s, k)]--
		}
	}
	for key, n := range want {
		if n != 0 {
			t.Errorf("training image %s appears %d times too few in train+val", key, n)
		}
	}
	// The test split keeps the file's order.
	for k := range f.test {
		enc, _ := encodeLatency(fakePixels(k, 6, 1), 6, []byte{fakeLabel(k, 1)}, []int{0}, tab, 100)
		if got, want := sampleKey(&ds.Test, k), sampleKey(&enc, 0); got != want {
			t.Errorf("test sample %d = %s, want %s", k, got, want)
		}
	}

	// Same data seed, same data; another seed, another validation split.
	again, err := loadDatasetUncached(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if datasetHash(again) != datasetHash(ds) {
		t.Errorf("loading twice with data seed 4 gave different datasets")
	}
	other, err := loadDatasetUncached(latencyConfig(DatasetMNIST, 0.25, 5), dir)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(other.Val.Times, ds.Val.Times) && slices.Equal(other.Val.Labels, ds.Val.Labels) {
		t.Errorf("data seeds 4 and 5 chose the same validation samples")
	}
}

func TestLoadIDXDatasetLimits(t *testing.T) {
	dir := t.TempDir()
	writeFakeIDX(t, filepath.Join(dir, "mnist"), fakeIDX{train: 40, test: 15, rows: 2, cols: 3})
	full, err := loadDatasetUncached(latencyConfig(DatasetMNIST, 0.25, 4), dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := latencyConfig(DatasetMNIST, 0.25, 4)
	cfg.Dataset.TrainSamples, cfg.Dataset.TestSamples = 5, 4
	cut, err := loadDatasetUncached(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, cut)
	if cut.Train.Len() != 5 || cut.Val.Len() != 10 || cut.Test.Len() != 4 {
		t.Fatalf("split sizes %d/%d/%d, want 5/10/4", cut.Train.Len(), cut.Val.Len(), cut.Test.Len())
	}
	for _, c := range []struct {
		name      string
		got, full *Split
		n         int
	}{{"train", &cut.Train, &full.Train, 5}, {"val", &cut.Val, &full.Val, 10}, {"test", &cut.Test, &full.Test, 4}} {
		for k := range c.n {
			if sampleKey(c.got, k) != sampleKey(c.full, k) {
				t.Errorf("%s sample %d differs from the uncut dataset's: the limits must keep the first samples", c.name, k)
			}
		}
	}
	// Limits beyond the data keep everything.
	cfg.Dataset.TrainSamples, cfg.Dataset.TestSamples = 1000, 1000
	big, err := loadDatasetUncached(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if datasetHash(big) != datasetHash(full) {
		t.Errorf("limits above the data's size changed the dataset")
	}
}

func TestLoadIDXDatasetLayouts(t *testing.T) {
	f := fakeIDX{train: 12, test: 5, rows: 3, cols: 2}
	tests := []struct {
		name    string
		dataset string
		subdir  string // where the files go, under the data dir
		gzip    bool
	}{
		{"mnist, plain", DatasetMNIST, "mnist", false},
		{"mnist, gzip", DatasetMNIST, "mnist", true},
		{"fashion-mnist", DatasetFashionMNIST, "fashion-mnist", true},
		{"files directly in the data dir", DatasetMNIST, "", false},
	}
	var want string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f.gzip = tt.gzip
			writeFakeIDX(t, filepath.Join(dir, tt.subdir), f)
			ds, err := loadDatasetUncached(latencyConfig(tt.dataset, 0.25, 1), dir)
			if err != nil {
				t.Fatal(err)
			}
			if want == "" {
				want = datasetHash(ds)
			} else if got := datasetHash(ds); got != want {
				t.Errorf("same images in another layout gave another dataset")
			}
		})
	}
}

func TestLoadIDXDatasetErrors(t *testing.T) {
	f := fakeIDX{train: 12, test: 5, rows: 3, cols: 2}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // dir is <data dir>/mnist, holding f
		edit  func(*Config)
		want  []string // all in the error; "DIR" stands for <data dir>/mnist
	}{
		{"missing file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte"))
		}, nil, []string{"test labels file not found", "DIR/t10k-labels-idx1-ubyte or DIR/t10k-labels-idx1-ubyte.gz"}},
		{"empty data dir", func(t *testing.T, dir string) {
			os.RemoveAll(dir)
		}, nil, []string{"training images file not found", "train-images-idx3-ubyte.gz"}},
		{"truncated images", func(t *testing.T, dir string) {
			path := filepath.Join(dir, "train-images-idx3-ubyte")
			b, _ := os.ReadFile(path)
			writeFile(t, path, b[:len(b)-1])
		}, nil, []string{"DIR/train-images-idx3-ubyte: truncated: 71 of the 72 data bytes that 12×3×2 needs"}},
		{"labels and images swapped", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "t10k-labels-idx1-ubyte"), filepath.Join(dir, "x"))
			os.Rename(filepath.Join(dir, "t10k-images-idx3-ubyte"), filepath.Join(dir, "t10k-labels-idx1-ubyte"))
			os.Rename(filepath.Join(dir, "x"), filepath.Join(dir, "t10k-images-idx3-ubyte"))
		}, nil, []string{"DIR/t10k-images-idx3-ubyte: magic number 0x00000801, want 0x00000803"}},
		{"counts differ", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes(0, []int{11}, make([]byte, 11)))
		}, nil, []string{"DIR/train-images-idx3-ubyte has 12 images but DIR/train-labels-idx1-ubyte has 11 labels"}},
		{"label out of range", func(t *testing.T, dir string) {
			labels := make([]byte, 5)
			labels[3] = 10
			writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), idxBytes(0, []int{5}, labels))
		}, nil, []string{"DIR/t10k-labels-idx1-ubyte: label 10 of sample 3, want 0…9"}},
		{"image sizes differ", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), idxBytes(0, []int{5, 2, 2}, make([]byte, 20)))
		}, nil, []string{"training images have 3×2 pixels", "test images 2×2"}},
		{"nothing left to train on", nil, func(c *Config) { c.Dataset.ValFraction = 0.99 }, []string{"dataset.val_fraction", "leaves none of the 12 training images"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			dir := filepath.Join(dataDir, "mnist")
			writeFakeIDX(t, dir, f)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			cfg := latencyConfig(DatasetMNIST, 0.25, 1)
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			_, err := loadDatasetUncached(cfg, dataDir)
			if err == nil {
				t.Fatal("loading succeeded, want an error")
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "DIR", dir)
				if tt.name == "empty data dir" {
					w = strings.ReplaceAll(w, dir, dataDir)
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// firstLabels are the first ten labels of MNIST's training and test files.
var firstLabels = map[string][]byte{
	"train-labels-idx1-ubyte.gz": {5, 0, 4, 1, 9, 2, 1, 3, 1, 4},
	"t10k-labels-idx1-ubyte.gz":  {7, 2, 1, 0, 4, 1, 4, 9, 5, 9},
}

// checkMNIST checks the MNIST files of dataDir/mnist, which hold train
// training and test test images: the first labels, 28×28 pixels, the
// splits of LoadDataset with val_fraction 0.1, about 150 spikes per image,
// and digits that a nearest-class-mean classifier tells apart on the
// first (up to) 2000 test images.
func checkMNIST(t *testing.T, dataDir string, train, test int) {
	t.Helper()
	dir := filepath.Join(dataDir, DatasetMNIST)
	for file, count := range map[string]int{"train-labels-idx1-ubyte.gz": train, "t10k-labels-idx1-ubyte.gz": test} {
		labels, err := readIDX(filepath.Join(dir, file), 1)
		if err != nil {
			t.Fatal(err)
		}
		if labels.Dims[0] != count || !slices.Equal(labels.Data[:10], firstLabels[file]) {
			t.Errorf("%s: %d labels starting %v, want %d starting %v", file, labels.Dims[0], labels.Data[:10], count, firstLabels[file])
		}
	}
	images, err := readIDX(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(images.Dims, []int{test, 28, 28}) {
		t.Errorf("t10k images: dims %v, want %d×28×28", images.Dims, test)
	}

	ds, err := LoadDataset(latencyConfig(DatasetMNIST, 0.1, 1), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, ds)
	if val := train / 10; ds.Inputs != 784 || ds.Train.Len() != train-val || ds.Val.Len() != val || ds.Test.Len() != test {
		t.Errorf("mnist: %d inputs, splits %d/%d/%d; want 784 inputs, %d/%d/%d", ds.Inputs,
			ds.Train.Len(), ds.Val.Len(), ds.Test.Len(), train-val, val, test)
	}
	// About a fifth of MNIST's pixels are above θ = 0.2: ~150 spikes per image.
	if perImage := float64(len(ds.Test.Times)) / float64(ds.Test.Len()); perImage < 100 || perImage > 200 {
		t.Errorf("mnist test images have %.1f spikes each, want 100–200", perImage)
	}
	// The code keeps the digits apart: nearest class mean on the spike
	// times, far above chance (0.1). (ds is the cache's: change a copy.)
	n := min(2000, ds.Test.Len())
	sub := *ds
	end := ds.Test.Offsets[n]
	sub.Test = Split{Offsets: ds.Test.Offsets[:n+1], Times: ds.Test.Times[:end], Units: ds.Test.Units[:end], Labels: ds.Test.Labels[:n]}
	if acc := nearestClassMeanAccuracy(&sub); acc < 0.6 {
		t.Errorf("nearest-class-mean test accuracy on latency-coded mnist = %.3f, want ≥ 0.6", acc)
	}
}

// TestMNISTSubset reads the MNIST subset carried in testdata: its files
// are the ones SHA256SUMS records, and they hold real digits.
func TestMNISTSubset(t *testing.T) {
	dir := filepath.Join(testDataDir, DatasetMNIST)
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sums := 0
	for sc := bufio.NewScanner(f); sc.Scan(); sums++ {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: line %q is not \"SUM  NAME\"", sc.Text())
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: SHA-256 %x, SHA256SUMS says %s", name, got, want)
		}
	}
	if sums != 4 {
		t.Errorf("SHA256SUMS lists %d files, want the 4 MNIST files", sums)
	}
	checkMNIST(t, testDataDir, subsetTrain, subsetTest)
}

// TestFullMNIST reads the full MNIST files of $SGSWEEP_DATA/mnist.
func TestFullMNIST(t *testing.T) {
	checkMNIST(t, fullDataDir(t), 60000, 10000)
}

// TestMNISTSubsetIsPrefix: the subset in testdata is the first images and
// labels of the full files of $SGSWEEP_DATA/mnist, byte for byte (what
// testdata/mnist/cut.go writes).
func TestMNISTSubsetIsPrefix(t *testing.T) {
	full := filepath.Join(fullDataDir(t), DatasetMNIST)
	for _, tt := range []struct {
		file string
		dims int
	}{
		{"train-images-idx3-ubyte.gz", 3}, {"train-labels-idx1-ubyte.gz", 1},
		{"t10k-images-idx3-ubyte.gz", 3}, {"t10k-labels-idx1-ubyte.gz", 1},
	} {
		sub, err := readIDX(filepath.Join(testDataDir, DatasetMNIST, tt.file), tt.dims)
		if err != nil {
			t.Fatal(err)
		}
		all, err := readIDX(filepath.Join(full, tt.file), tt.dims)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sub.Dims[1:], all.Dims[1:]) || !slices.Equal(sub.Data, all.Data[:len(sub.Data)]) {
			t.Errorf("%s: the subset (dims %v) is not the first %d items of the full file (dims %v)", tt.file, sub.Dims, sub.Dims[0], all.Dims)
		}
	}
}

// nearestClassMeanAccuracy classifies d's test samples by the nearest mean
// first-spike vector of d's training classes.
func nearestClassMeanAccuracy(d *Dataset) float64 {
	train := firstSpikeVectors(&d.Train, d.Inputs, d.Steps)
	means := make([][]float64, d.Classes)
	counts := make([]float64, d.Classes)
	for c := range means {
		means[c] = make([]float64, d.Inputs)
	}
	for k, v := range train {
		c := d.Train.Labels[k]
		counts[c]++
		for i, x := range v {
			means[c][i] += x
		}
	}
	classes := make([]uint8, d.Classes)
	for c := range means {
		classes[c] = uint8(c)
		for i := range means[c] {
			means[c][i] /= max(1, counts[c])
		}
	}
	test := firstSpikeVectors(&d.Test, d.Inputs, d.Steps)
	return nearestNeighbourAccuracy(means, classes, test, d.Test.Labels)
}

// BenchmarkLoadMNIST reads, decompresses and latency-codes the whole of
// MNIST (60 000 + 10 000 images) from $SGSWEEP_DATA/mnist, bypassing the
// cache. cpu-s/op is the CPU time used, robust to other loads.
func BenchmarkLoadMNIST(b *testing.B) {
	dir, err := resolveDataDir(fullDataDir(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg := latencyConfig(DatasetMNIST, 0.1, 1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPUTime()
	for range b.N {
		if _, err := loadDatasetUncached(cfg, dir); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				b.Skipf("no MNIST files: %v", err)
			}
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPUTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

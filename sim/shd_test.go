package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// shdTestDir is a data directory holding shd/shd_train.h5 and
// shd/shd_test.h5.gz, written by testdata/shd/gen.py.
const shdTestDir = "testdata"

// shdConfig returns a config for the SHD fixtures: 4 steps over 1 s, so
// step n holds the spikes of [n/4, (n+1)/4) s.
func shdConfig() Config {
	c := DefaultConfig()
	c.Dataset.Name = DatasetSHD
	c.Dataset.Steps = 4
	c.Dataset.Duration = 1
	c.Dataset.ValFraction = 0.25
	return c
}

type shdEvent struct{ step, unit uint16 }

func events(s *Split, k int) []shdEvent {
	times, units := s.Events(k)
	out := []shdEvent{}
	for i := range times {
		out = append(out, shdEvent{times[i], units[i]})
	}
	return out
}

func TestSHDBinner(t *testing.T) {
	tests := []struct {
		name     string
		steps    int
		duration float64
		times    []float64
		units    []int64
		want     []shdEvent
	}{
		{"bin edges go to the upper bin", 4, 1,
			[]float64{0, 0.25, 0.5, 0.75}, []int64{0, 1, 2, 3},
			[]shdEvent{{0, 0}, {1, 1}, {2, 2}, {3, 3}}},
		{"just below an edge", 4, 1,
			[]float64{math.Nextafter(0.25, 0), math.Nextafter(1, 0)}, []int64{5, 6},
			[]shdEvent{{0, 5}, {3, 6}}},
		{"at or after the duration dropped", 4, 1,
			[]float64{1, 1.25, 0.5, math.Inf(1)}, []int64{1, 2, 3, 4},
			[]shdEvent{{2, 3}}},
		{"repeated (step, unit) merged", 4, 1,
			[]float64{0.125, 0.1875, 0.1875, 0.0625, 0.3}, []int64{9, 9, 9, 9, 9},
			[]shdEvent{{0, 9}, {1, 9}}},
		{"same step sorted by unit, unsorted input sorted", 4, 1,
			[]float64{0.9, 0.3, 0.3, 0.4, 0.1}, []int64{0, 9, 3, 5, 699},
			[]shdEvent{{0, 699}, {1, 3}, {1, 5}, {1, 9}, {3, 0}}},
		{"duration not a multiple of the step", 3, 1,
			[]float64{1.0 / 3, 0.5, 2.0 / 3}, []int64{1, 2, 3},
			[]shdEvent{{1, 1}, {1, 2}, {2, 3}}},
		{"last step when rounding reaches steps", 100, 1.4,
			[]float64{math.Nextafter(1.4, 0)}, []int64{7},
			[]shdEvent{{99, 7}}},
		{"no spikes", 4, 1, nil, nil, []shdEvent{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, us, err := newSHDBinner(tt.steps, tt.duration).bin(tt.times, tt.units)
			if err != nil {
				t.Fatal(err)
			}
			got := []shdEvent{}
			for i := range ts {
				got = append(got, shdEvent{ts[i], us[i]})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("bin(%v, %v) = %v, want %v", tt.times, tt.units, got, tt.want)
			}
		})
	}
}

func TestSHDBinnerErrors(t *testing.T) {
	tests := []struct {
		name  string
		times []float64
		units []int64
		want  string
	}{
		{"negative time", []float64{0.1, -0.5}, []int64{1, 2}, "spike 1: time -0.5 s"},
		{"NaN time", []float64{math.NaN()}, []int64{1}, "time NaN"},
		{"channel 700", []float64{0.1}, []int64{700}, "channel 700 outside 0…699"},
		{"negative channel", []float64{0.1}, []int64{-1}, "channel -1"},
		{"lengths differ", []float64{0.1, 0.2}, []int64{1}, "2 spike times but 1 units"},
	}
	for _, tt := range tests {
		_, _, err := newSHDBinner(4, 1).bin(tt.times, tt.units)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// shdSamples are the samples of a fixture file as gen.py wrote them.
type shdSamples struct {
	times  [][]float64
	units  [][]int64
	labels []int
}

func readSHDJSON(t *testing.T, name string) shdSamples {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(shdTestDir, "shd", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Datasets struct {
			Times  struct{ Sequences [][]float64 } `json:"spikes/times"`
			Units  struct{ Sequences [][]int64 }   `json:"spikes/units"`
			Labels struct{ Values []int }          `json:"labels"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	d := doc.Datasets
	return shdSamples{d.Times.Sequences, d.Units.Sequences, d.Labels.Values}
}

// wantSplit bins samples idx of s, in that order, independently of the
// loader's file reading.
func (s shdSamples) wantSplit(t *testing.T, idx []int, steps int, duration float64) Split {
	t.Helper()
	out := newSplit(len(idx), 0)
	for _, k := range idx {
		ts, us, err := newSHDBinner(steps, duration).bin(s.times[k], s.units[k])
		if err != nil {
			t.Fatal(err)
		}
		if err := out.appendSample(ts, us, uint8(s.labels[k])); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// mustLoadSHD loads the SHD test files with config c.
func mustLoadSHD(t *testing.T, c Config) *Dataset {
	t.Helper()
	ds, err := loadSHD(c, shdTestDir)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestLoadSHDHandPicked checks the binning of the hand-picked samples 0–2
// of shd_train.h5 (see gen.py), end to end through the HDF5 file.
func TestLoadSHDHandPicked(t *testing.T) {
	c := shdConfig()
	c.Dataset.ValFraction = 0
	ds := mustLoadSHD(t, c)
	mustValidate(t, ds)
	if ds.Inputs != 700 || ds.Classes != 20 || ds.Steps != 4 {
		t.Errorf("inputs %d, classes %d, steps %d; want 700, 20, 4", ds.Inputs, ds.Classes, ds.Steps)
	}
	// The training split is in the holdout's order: find samples 0–2.
	order, _ := holdout(20, 0, 0, c.DataSeed)
	at := map[int]int{}
	for pos, k := range order {
		at[k] = pos
	}
	tests := []struct {
		sample int
		label  uint8
		want   []shdEvent
	}{
		// times 0, .25, .5, .75, 1, 1.25 s on channels 0…5: 1 s and later dropped.
		{0, 3, []shdEvent{{0, 0}, {1, 1}, {2, 2}, {3, 3}}},
		// times .5, .125, .1875, .1875, .999, .749, .0625 s on channels
		// 7, 9, 9, 9, 699, 3, 9: four spikes of channel 9 in step 0 merge.
		{1, 19, []shdEvent{{0, 9}, {2, 3}, {2, 7}, {3, 699}}},
		{2, 0, []shdEvent{}},
	}
	for _, tt := range tests {
		pos := at[tt.sample]
		if got := events(&ds.Train, pos); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("sample %d: events %v, want %v", tt.sample, got, tt.want)
		}
		if got := ds.Train.Labels[pos]; got != tt.label {
			t.Errorf("sample %d: label %d, want %d", tt.sample, got, tt.label)
		}
	}
}

// TestLoadSHDSplits checks split sizes and contents against the samples
// gen.py wrote, binned independently: train and validation from
// shd_train.h5 in the holdout's order, test from shd_test.h5.gz in file
// order.
func TestLoadSHDSplits(t *testing.T) {
	train := readSHDJSON(t, "shd_train.json")
	test := readSHDJSON(t, "shd_test.json")
	tests := []struct {
		name                         string
		val                          float64
		trainSamples, testSamples    int
		wantTrain, wantVal, wantTest int
	}{
		{"all", 0, 0, 0, 20, 0, 6},
		{"quarter validation", 0.25, 0, 0, 15, 5, 6},
		{"limits", 0.25, 4, 2, 4, 5, 2},
		{"limits above the sizes", 0.1, 100, 100, 18, 2, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := shdConfig()
			c.Dataset.ValFraction = tt.val
			c.Dataset.TrainSamples = tt.trainSamples
			c.Dataset.TestSamples = tt.testSamples
			c.Dataset.Steps = 7
			c.Dataset.Duration = 1.1
			ds := mustLoadSHD(t, c)
			mustValidate(t, ds)
			if ds.Train.Len() != tt.wantTrain || ds.Val.Len() != tt.wantVal || ds.Test.Len() != tt.wantTest {
				t.Fatalf("train/val/test = %d/%d/%d, want %d/%d/%d", ds.Train.Len(), ds.Val.Len(), ds.Test.Len(), tt.wantTrain, tt.wantVal, tt.wantTest)
			}
			trainIdx, valIdx := holdout(20, tt.val, tt.trainSamples, c.DataSeed)
			testIdx := []int{0, 1, 2, 3, 4, 5}[:tt.wantTest]
			for _, s := range []struct {
				name string
				got  Split
				want Split
			}{
				{"train", ds.Train, train.wantSplit(t, trainIdx, 7, 1.1)},
				{"val", ds.Val, train.wantSplit(t, valIdx, 7, 1.1)},
				{"test", ds.Test, test.wantSplit(t, testIdx, 7, 1.1)},
			} {
				if !reflect.DeepEqual(s.got, s.want) {
					t.Errorf("%s split differs from the samples as written\n got %+v\nwant %+v", s.name, s.got, s.want)
				}
			}
		})
	}
}

func TestLoadSHDDeterministic(t *testing.T) {
	c := shdConfig()
	a, b := mustLoadSHD(t, c), mustLoadSHD(t, c)
	if !reflect.DeepEqual(a, b) {
		t.Error("two loads with the same config differ")
	}
	c.DataSeed++
	other := mustLoadSHD(t, c)
	if reflect.DeepEqual(a.Train, other.Train) || reflect.DeepEqual(a.Val, other.Val) {
		t.Error("a different data seed gave the same train/validation split")
	}
	if !reflect.DeepEqual(a.Test, other.Test) {
		t.Error("the data seed changed the test split")
	}
}

// TestDecodeSHDPieces checks that cutting the work into pieces (as for the
// full dataset, whose splits span many) and decoding them concurrently gives
// the same splits as one piece per split.
func TestDecodeSHDPieces(t *testing.T) {
	train, err := openSHDFile(filepath.Join(shdTestDir, "shd"), "shd_train.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer train.close()
	idx := []int{19, 3, 7, 0, 1, 2, 11, 5, 4, 18, 6}
	var want, got Split
	if err := decodeSHD([]shdJob{{train, idx, &want}}, 9, 1.3, len(idx)); err != nil {
		t.Fatal(err)
	}
	for _, piece := range []int{1, 2, 3, 5} {
		if err := decodeSHD([]shdJob{{train, idx, &got}}, 9, 1.3, piece); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("pieces of %d samples: split differs from one piece", piece)
		}
	}
	if want.Len() != len(idx) || len(want.Times) == 0 {
		t.Errorf("decoded %d samples with %d events", want.Len(), len(want.Times))
	}
}

func TestLoadDatasetSHD(t *testing.T) {
	ds, err := LoadDataset(shdConfig(), shdTestDir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Inputs != 700 || ds.Train.Len()+ds.Val.Len() != 20 || ds.Test.Len() != 6 {
		t.Errorf("LoadDataset(shd): %d inputs, %d+%d training, %d test samples", ds.Inputs, ds.Train.Len(), ds.Val.Len(), ds.Test.Len())
	}
}

// copySHD copies the fixtures into dir/shd (under the given names),
// applying edit to the training file's bytes.
func copySHD(t *testing.T, dir, trainName, testName string, edit func([]byte) []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "shd"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ src, dst string }{{"shd_train.h5", trainName}, {"shd_test.h5.gz", testName}} {
		b, err := os.ReadFile(filepath.Join(shdTestDir, "shd", f.src))
		if err != nil {
			t.Fatal(err)
		}
		if f.src == "shd_train.h5" && edit != nil {
			b = edit(b)
		}
		if err := os.WriteFile(filepath.Join(dir, "shd", f.dst), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadSHDErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string // substrings of the error, "<dir>" standing for the data directory
	}{
		{"no files", func(t *testing.T, dir string) {},
			[]string{"looked in <dir> as <dir>/shd does not exist", "<dir>/shd_train.h5 or <dir>/shd_train.h5.gz", "<dir>/shd_test.h5 or"}},
		{"no test file", func(t *testing.T, dir string) {
			copySHD(t, dir, "shd_train.h5", "unrelated", nil)
		}, []string{"<dir>/shd/shd_test.h5 or <dir>/shd/shd_test.h5.gz"}},
		{"truncated", func(t *testing.T, dir string) {
			copySHD(t, dir, "shd_train.h5", "shd_test.h5.gz", func(b []byte) []byte { return b[:len(b)/2] })
		}, []string{"<dir>/shd/shd_train.h5", "corrupt or truncated"}},
		{"not HDF5", func(t *testing.T, dir string) {
			copySHD(t, dir, "shd_train.h5", "shd_test.h5.gz", func(b []byte) []byte { return []byte("hello") })
		}, []string{"<dir>/shd/shd_train.h5", "no HDF5 signature"}},
		{"label out of range", func(t *testing.T, dir string) {
			// The labels 3, 19, 0, … are stored as little-endian uint16:
			// make the 19 a 20.
			copySHD(t, dir, "shd_train.h5", "shd_test.h5.gz", func(b []byte) []byte {
				return bytes.Replace(b, []byte{3, 0, 19, 0, 0, 0, 9, 0}, []byte{3, 0, 20, 0, 0, 0, 9, 0}, 1)
			})
		}, []string{"<dir>/shd/shd_train.h5", "label 20 of sample 1"}},
		{"gzip file not gzip", func(t *testing.T, dir string) {
			copySHD(t, dir, "shd_train.h5", "shd_test.h5.gz", nil)
			gz, _ := os.ReadFile(filepath.Join(dir, "shd", "shd_test.h5.gz"))
			os.WriteFile(filepath.Join(dir, "shd", "shd_test.h5.gz"), gz[:len(gz)/2], 0o644)
		}, []string{"<dir>/shd/shd_test.h5.gz", "decompressing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, err := loadSHD(shdConfig(), dir)
			if err == nil {
				t.Fatal("loadSHD succeeded")
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "<dir>", dir)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadSHDValFractionLeavesNothing(t *testing.T) {
	c := shdConfig()
	c.Dataset.ValFraction = 0.99
	_, err := loadSHD(c, shdTestDir)
	var fe *FieldError
	if err == nil || !errors.As(err, &fe) || fe.Field != "dataset.val_fraction" {
		t.Errorf("val_fraction 0.99 of 20 samples: err = %v, want a FieldError for dataset.val_fraction", err)
	}
}

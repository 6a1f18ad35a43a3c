package sim

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// splitOf builds a Split from per-sample (times, units) pairs and labels.
func splitOf(t testing.TB, samples [][2][]uint16, labels []uint8) Split {
	t.Helper()
	s := newSplit(len(samples), 0)
	for k, ev := range samples {
		if err := s.appendSample(ev[0], ev[1], labels[k]); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestDatasetValidate(t *testing.T) {
	good := func() *Dataset {
		return &Dataset{Inputs: 3, Steps: 5, Classes: 2, Train: splitOf(t, [][2][]uint16{
			{{0, 0, 4}, {1, 2, 0}},
			{},
			{{3}, {2}},
		}, []uint8{0, 1, 1})}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("valid dataset: %v", err)
	}
	tests := []struct {
		name  string
		spoil func(d *Dataset)
		want  string
	}{
		{"no inputs", func(d *Dataset) { d.Inputs = 0 }, "all must be ≥ 1"},
		{"offsets short", func(d *Dataset) { d.Train.Offsets = d.Train.Offsets[:3] }, "train split: 3 offsets for 3 samples, want 4"},
		{"units short", func(d *Dataset) { d.Train.Units = d.Train.Units[:3] }, "4 times but 3 units"},
		{"offsets past the events", func(d *Dataset) { d.Train.Offsets[3] = 5 }, "offsets run from 0 to 5, want 0 to 4"},
		{"offsets decrease", func(d *Dataset) { d.Train.Offsets[2] = 2 }, "sample 1: offsets decrease from 3 to 2"},
		{"label too big", func(d *Dataset) { d.Train.Labels[2] = 2 }, "sample 2: label 2 not below 2 classes"},
		{"time too late", func(d *Dataset) { d.Train.Times[2] = 5 }, "sample 0: event (time 5, unit 0) outside 5 steps × 3 inputs"},
		{"unit too big", func(d *Dataset) { d.Train.Units[3] = 3 }, "sample 2: event (time 3, unit 3)"},
		{"time order", func(d *Dataset) { d.Train.Times[1] = 0; d.Train.Times[0] = 1 }, "sample 0: event (time 0, unit 2) after (time 1, unit 1)"},
		{"repeated event", func(d *Dataset) { d.Train.Units[1] = 1 }, "sample 0: event (time 0, unit 1) after (time 0, unit 1)"},
		{"val broken", func(d *Dataset) { d.Val.Labels = []uint8{0} }, "val split: 0 offsets for 1 samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := good()
			tt.spoil(d)
			err := d.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestHoldout(t *testing.T) {
	train, val := holdout(100, 0.15, 0, 3)
	if len(train) != 85 || len(val) != 15 {
		t.Fatalf("holdout(100, 0.15) = %d train, %d val; want 85, 15", len(train), len(val))
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(train), val...)))
	for i, k := range all {
		if k != i {
			t.Fatalf("train ∪ val = %v, want each of 0…99 once", all)
		}
	}
	cutTrain, sameVal := holdout(100, 0.15, 10, 3)
	if !slices.Equal(cutTrain, train[:10]) || !slices.Equal(sameVal, val) {
		t.Errorf("a training limit changed the validation split or did not keep the first training samples")
	}
	again, _ := holdout(100, 0.15, 0, 3)
	other, _ := holdout(100, 0.15, 0, 4)
	if !slices.Equal(again, train) || slices.Equal(other, train) {
		t.Errorf("holdout is not a function of the data seed alone")
	}
	if _, val := holdout(10, 0, 0, 1); len(val) != 0 {
		t.Errorf("holdout with val_fraction 0 gave %d validation samples", len(val))
	}
}

func TestSplitIndices(t *testing.T) {
	for _, tt := range []struct {
		name             string
		d                DatasetConfig
		nTrain, nTest    int
		train, val, test int // lengths
		wantErr          string
	}{
		{"all", DatasetConfig{ValFraction: 0.2}, 10, 4, 8, 2, 4, ""},
		{"limits", DatasetConfig{ValFraction: 0.2, TrainSamples: 3, TestSamples: 2}, 10, 4, 3, 2, 2, ""},
		{"test limit above the file", DatasetConfig{TestSamples: 9}, 10, 4, 10, 0, 4, ""},
		{"nothing to train on", DatasetConfig{ValFraction: 1}, 10, 4, 0, 0, 0, "leaves none of the 10 samples of x.h5 for training"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			train, val, test, err := splitIndices(tt.d, 7, tt.nTrain, tt.nTest, "samples of x.h5")
			if tt.wantErr != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != "dataset.val_fraction" || fe.Msg != tt.wantErr {
					t.Fatalf("err = %v, want a dataset.val_fraction FieldError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(train) != tt.train || len(val) != tt.val || len(test) != tt.test {
				t.Fatalf("splitIndices = %d train, %d val, %d test, %v; want %d, %d, %d", len(train), len(val), len(test), err, tt.train, tt.val, tt.test)
			}
			wantTrain, wantVal := holdout(tt.nTrain, tt.d.ValFraction, tt.d.TrainSamples, 7)
			if !slices.Equal(train, wantTrain) || !slices.Equal(val, wantVal) {
				t.Errorf("train, val = %v, %v; want holdout's %v, %v", train, val, wantTrain, wantVal)
			}
			for i, k := range test {
				if k != i {
					t.Fatalf("test = %v, want the first %d samples in file order", test, tt.test)
				}
			}
		})
	}
}

func TestDataIntNUniform(t *testing.T) {
	src := dataStream(1, 99, 1)
	counts := make([]int, 7)
	const draws = 70000
	for range draws {
		counts[dataIntN(src, 7)]++
	}
	for v, c := range counts {
		if c < draws/7-500 || c > draws/7+500 { // ±5.5 standard deviations
			t.Errorf("dataIntN(7) gave %d %d times in %d draws, want about %d", v, c, draws, draws/7)
		}
	}
}

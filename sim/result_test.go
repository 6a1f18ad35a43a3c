package sim

import (
	"maps"
	"slices"
	"testing"
)

// Metric gives each of Metrics' values, and nothing for a name Metrics
// does not have: for a run without epochs, one with epochs but no hidden
// layer, and one with two layers.
func TestMetricIsMetrics(t *testing.T) {
	runs := []*Result{
		{TestAcc: 0.9, TestAccLast: 0.8, BestValAcc: 0.85, BestEpoch: 0},
		{TestAcc: 0.9, BestEpoch: 1, Epochs: []Epoch{{Epoch: 1, TrainLoss: 2.5, TrainAcc: 0.3, ValAcc: 0.4}}},
		{TestAcc: 0.7, BestEpoch: 2, Epochs: []Epoch{
			{Epoch: 1, TrainLoss: 2, Spikes: []float64{9, 9}, Silent: []float64{1, 1}},
			{Epoch: 2, TrainLoss: 1, TrainAcc: 0.6, ValAcc: 0.65, Spikes: []float64{0.25, 0.5}, Silent: []float64{0.5, 0.125}},
		}},
	}
	for i, r := range runs {
		m := r.Metrics()
		wantN := []int{5, 8, 10}[i]
		if len(m) != wantN {
			t.Errorf("run %d: %d metrics %v, want %d", i, len(m), slices.Sorted(maps.Keys(m)), wantN)
		}
		for _, name := range append(slices.Clone(metricNames), "nope") {
			x, ok := r.Metric(name)
			want, wantOK := m[name]
			if ok != wantOK || x != want {
				t.Errorf("run %d: Metric(%s) = %v, %v; Metrics has %v, %v", i, name, x, ok, want, wantOK)
			}
		}
	}
	if x, _ := runs[2].Metric("spikes"); x != 0.375 {
		t.Errorf("spikes = %v, want the mean over the last epoch's layers", x)
	}
	if x, _ := runs[2].Metric("silent"); x != 0.3125 {
		t.Errorf("silent = %v, want the mean over the last epoch's layers", x)
	}
}

package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// datasetHash returns the SHA-256 of everything in d, in a fixed byte order.
func datasetHash(d *Dataset) string {
	h := sha256.New()
	put := func(v any) { _ = binary.Write(h, binary.LittleEndian, v) }
	put([]int64{int64(d.Inputs), int64(d.Steps), int64(d.Classes)})
	for _, s := range []*Split{&d.Train, &d.Val, &d.Test} {
		put(int64(s.Len()))
		put(s.Offsets)
		put(s.Times)
		put(s.Units)
		put(s.Labels)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// classCounts returns how many samples of s have each label.
func classCounts(s *Split, classes int) []int {
	counts := make([]int, classes)
	for _, l := range s.Labels {
		counts[l]++
	}
	return counts
}

// firstSpikeVectors returns, per sample of s, the step of each input's first
// spike (steps if it never fires): a dense feature vector of length inputs.
func firstSpikeVectors(s *Split, inputs, steps int) [][]float64 {
	out := make([][]float64, s.Len())
	for k := range out {
		v := make([]float64, inputs)
		for i := range v {
			v[i] = float64(steps)
		}
		times, units := s.Events(k)
		for e := len(times) - 1; e >= 0; e-- {
			v[units[e]] = float64(times[e])
		}
		out[k] = v
	}
	return out
}

// nearestNeighbourAccuracy classifies each test vector by the label of its
// nearest training vector (squared Euclidean distance; the first on ties)
// and returns the fraction classified right.
func nearestNeighbourAccuracy(train [][]float64, trainLabels []uint8, test [][]float64, testLabels []uint8) float64 {
	right := 0
	for k, x := range test {
		best, bestDist := 0, -1.0
		for j, y := range train {
			d := 0.0
			for i := range x {
				diff := x[i] - y[i]
				d += diff * diff
			}
			if bestDist < 0 || d < bestDist {
				best, bestDist = j, d
			}
		}
		if trainLabels[best] == testLabels[k] {
			right++
		}
	}
	return float64(right) / float64(len(test))
}

// mustValidate fails the test if d breaks the Dataset invariants.
func mustValidate(t testing.TB, d *Dataset) {
	t.Helper()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

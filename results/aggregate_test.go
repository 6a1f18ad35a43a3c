package results_test

import (
	"math"
	"testing"

	"github.com/sgsweep/sgsweep/results"
)

// near reports whether got is within 1e-12 of want (both NaN counts as
// equal).
func near(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	// Hand-computed: t(0.975, 2) = 4.302653, t(0.975, 3) = 3.182446
	// (Student's t tables); sd of {1,2,3,4} = √(5/3).
	h3 := 4.302652729749462 * 0.1 / math.Sqrt(3)
	h4 := 3.182446305284263 * math.Sqrt(5.0/3) / 2
	tests := []struct {
		name string
		x    []float64
		want results.Summary
	}{
		{"empty", nil, results.Summary{N: 0, Mean: nan, SD: nan, SEM: nan, CILo: nan, CIHi: nan, Median: nan, Min: nan, Max: nan}},
		{"n=1", []float64{0.7}, results.Summary{N: 1, Mean: 0.7, SD: nan, SEM: nan, CILo: nan, CIHi: nan, Median: 0.7, Min: 0.7, Max: 0.7}},
		{"n=3", []float64{1.0, 0.8, 0.9}, results.Summary{N: 3, Mean: 0.9, SD: 0.1, SEM: 0.1 / math.Sqrt(3),
			CILo: 0.9 - h3, CIHi: 0.9 + h3, Median: 0.9, Min: 0.8, Max: 1.0}},
		{"n=4 even median", []float64{4, 1, 3, 2}, results.Summary{N: 4, Mean: 2.5, SD: math.Sqrt(5.0 / 3), SEM: math.Sqrt(5.0/3) / 2,
			CILo: 2.5 - h4, CIHi: 2.5 + h4, Median: 2.5, Min: 1, Max: 4}},
		{"constant", []float64{0.5, 0.5}, results.Summary{N: 2, Mean: 0.5, SD: 0, SEM: 0, CILo: 0.5, CIHi: 0.5, Median: 0.5, Min: 0.5, Max: 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := append([]float64(nil), tt.x...)
			got := results.Summarize(tt.x)
			if got.N != tt.want.N {
				t.Errorf("N = %d, want %d", got.N, tt.want.N)
			}
			check := func(name string, g, w float64) {
				if !near(g, w) {
					t.Errorf("%s = %.17g, want %.17g", name, g, w)
				}
			}
			check("Mean", got.Mean, tt.want.Mean)
			check("SD", got.SD, tt.want.SD)
			check("SEM", got.SEM, tt.want.SEM)
			check("CILo", got.CILo, tt.want.CILo)
			check("CIHi", got.CIHi, tt.want.CIHi)
			check("Median", got.Median, tt.want.Median)
			check("Min", got.Min, tt.want.Min)
			check("Max", got.Max, tt.want.Max)
			for i := range orig {
				if tt.x[i] != orig[i] {
					t.Fatalf("results.Summarize modified its input: %v, was %v", tt.x, orig)
				}
			}
		})
	}
}

func TestTQuantile(t *testing.T) {
	// Two-sided 95% critical values from Student's t tables.
	for df, want := range map[int]float64{1: 12.7062, 2: 4.3027, 4: 2.7764, 9: 2.2622, 29: 2.0452} {
		if got := results.TQuantile(df); math.Abs(got-want) > 5e-5 {
			t.Errorf("results.TQuantile(%d) = %.5f, want %.4f", df, got, want)
		}
	}
}

func TestComparePaired(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		a, b []float64
		want results.Paired
	}{
		// d = {0.05, 0, 0.05}: mean 1/30, sd = √(1/1200)... t = 2 exactly,
		// and with 2 degrees of freedom p = 1 − t/√(t²+2) = 1 − 2/√6.
		{"t=2 df=2", []float64{0.9, 0.8, 0.85}, []float64{0.85, 0.8, 0.8},
			results.Paired{N: 3, Mean: 0.05 * 2 / 3, SD: 0.028867513459481284, T: 2, P: 1 - 2/math.Sqrt(6)}},
		{"no pairs", nil, nil, results.Paired{N: 0, Mean: nan, SD: nan, T: nan, P: nan}},
		{"one pair", []float64{0.9}, []float64{0.7}, results.Paired{N: 1, Mean: 0.2, SD: nan, T: nan, P: nan}},
		{"identical", []float64{0.5, 0.6}, []float64{0.5, 0.6}, results.Paired{N: 2, Mean: 0, SD: 0, T: nan, P: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := results.ComparePaired(tt.a, tt.b)
			if got.N != tt.want.N {
				t.Errorf("N = %d, want %d", got.N, tt.want.N)
			}
			for _, c := range []struct {
				name   string
				g, w   float64
				approx bool
			}{
				{"Mean", got.Mean, tt.want.Mean, true},
				{"SD", got.SD, tt.want.SD, true},
				{"T", got.T, tt.want.T, true},
				{"P", got.P, tt.want.P, true},
			} {
				if !(near(c.g, c.w) || (!math.IsNaN(c.w) && math.Abs(c.g-c.w) < 1e-9)) {
					t.Errorf("%s = %.17g, want %.17g", c.name, c.g, c.w)
				}
			}
			if got.N >= 2 && !math.IsNaN(got.SD) {
				h := results.TQuantile(got.N-1) * got.SD / math.Sqrt(float64(got.N))
				if !near(got.CILo, got.Mean-h) || !near(got.CIHi, got.Mean+h) {
					t.Errorf("CI = [%g, %g], want mean ∓ %g", got.CILo, got.CIHi, h)
				}
			}
		})
	}
}

package sim

import (
	"math"
	"testing"
)

// sinOneTerm is sin(2π·p) through fourierSeries.
func sinOneTerm(p float64) float64 {
	return fourierSeries([]float64{1}, []float64{0}, []float64{1}, p)
}

func TestSinAccuracy(t *testing.T) {
	tests := []struct {
		name string
		sin  func(float64) float64
	}{
		{"dataSinTurns", dataSinTurns},
		{"fourierSeries", sinOneTerm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := dataStream(7, 99, 0)
			worst, at := 0.0, 0.0
			for range 1_000_000 {
				r := dataUniform(src) // in [0, 1): 2π·r is exact enough for math.Sin
				if err := math.Abs(tt.sin(r) - math.Sin(2*math.Pi*r)); err > worst {
					worst, at = err, r
				}
			}
			if worst > 1e-15 {
				t.Errorf("|%s(%v) − sin(2π·%[2]v)| = %g, want ≤ 1e-15", tt.name, at, worst)
			}
		})
	}
}

func TestSinPeriodic(t *testing.T) {
	// The reductions are exact, so whole turns added change nothing.
	src := dataStream(8, 99, 0)
	for range 100_000 {
		n := float64(dataIntN(src, 4096))
		p := n + dataUniform(src)
		r := p - n // exact: the fraction p really has
		if got, want := dataSinTurns(p), dataSinTurns(r); got != want {
			t.Fatalf("dataSinTurns(%v) = %v, dataSinTurns(%v) = %v: want equal", p, got, r, want)
		}
		if got, want := sinOneTerm(p), sinOneTerm(r); got != want {
			t.Fatalf("sin(2π·%v) = %v, sin(2π·%v) = %v through fourierSeries: want equal", p, got, r, want)
		}
	}
}

func TestSinValues(t *testing.T) {
	tests := []struct {
		p, want float64
	}{
		{0, 0}, {0.25, 1}, {0.5, 0}, {0.75, -1}, {1, 0}, {1.25, 1}, {-0.25, -1},
		{1.0 / 12, 0.5}, {5.0 / 12, 0.5}, {7.0 / 12, -0.5}, {0.125, math.Sqrt2 / 2},
		{1000.375, math.Sqrt2 / 2}, {1.0 / 1024, math.Sin(2 * math.Pi / 1024)},
	}
	for _, tt := range tests {
		if got := dataSinTurns(tt.p); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("dataSinTurns(%v) = %v, want %v", tt.p, got, tt.want)
		}
		if got := sinOneTerm(tt.p); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("fourierSeries: sin(2π·%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestFourierSeriesMatchesMathSin compares whole Randman-like series
// (K = 1000, α = 1) with the formula evaluated by math.Sin.
func TestFourierSeriesMatchesMathSin(t *testing.T) {
	freq, phase, amp := benchSeries()
	src := dataStream(9, 99, 0)
	for range 200 {
		x := dataUniform(src)
		got, want := fourierSeries(freq, phase, amp, x), mathSinSeries(freq, phase, amp, x)
		// math.Sin itself is off by up to ~2π·|p|·2⁻⁵³ ≈ 7·10⁻¹³ at p ≈ 1000.
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("fourierSeries(x = %v) = %v, math.Sin sum = %v", x, got, want)
		}
	}
}

func mathSinSeries(freq, phase, amp []float64, x float64) float64 {
	sum := 0.0
	for k, f := range freq {
		sum += amp[k] * math.Sin(2*math.Pi*(f*x+phase[k]))
	}
	return sum
}

var sinkFloat float64

// BenchmarkFourierSeries and BenchmarkFourierSeriesMathSin compare the cost
// per sine term of one Randman series (K = 1000).
func BenchmarkFourierSeries(b *testing.B) {
	freq, phase, amp := benchSeries()
	for b.Loop() {
		sinkFloat += fourierSeries(freq, phase, amp, 0.37)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(freq)), "ns/term")
}

func BenchmarkFourierSeriesMathSin(b *testing.B) {
	freq, phase, amp := benchSeries()
	for b.Loop() {
		sinkFloat += mathSinSeries(freq, phase, amp, 0.37)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(freq)), "ns/term")
}

// benchSeries returns the parameters of a paper-sized Randman series.
func benchSeries() (freq, phase, amp []float64) {
	src := dataStream(1, 99, 0)
	for k := 1; k <= 1000; k++ {
		amp = append(amp, dataUniform(src)/float64(k))
		freq = append(freq, float64(k)*dataUniform(src))
		phase = append(phase, dataUniform(src))
	}
	return freq, phase, amp
}

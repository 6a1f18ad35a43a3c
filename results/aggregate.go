package results

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// ConfidenceLevel is the coverage of the confidence intervals that
// aggregation reports.
const ConfidenceLevel = 0.95

// Summary describes the sample of one metric over the tasks of a group
// (usually the replicates of one grid cell). Undefined statistics are NaN:
// everything when N = 0; SD, SEM and the interval when N = 1.
type Summary struct {
	N int
	// Mean is the sample mean.
	Mean float64
	// SD is the sample standard deviation (divisor N−1).
	SD float64
	// SEM is the standard error of the mean, SD/√N.
	SEM float64
	// CILo and CIHi bound the 95% confidence interval of the mean,
	// Mean ∓ t(0.975, N−1)·SEM with Student's t distribution.
	CILo, CIHi float64
	// Median is the middle value (the mean of the two middle ones for an
	// even N); Min and Max are the extremes.
	Median, Min, Max float64
}

// Summarize computes the Summary of x, which it does not modify. Sums run
// in the order of x, so the same values in the same order give the same
// numbers, bit for bit.
func Summarize(x []float64) Summary {
	nan := math.NaN()
	s := Summary{N: len(x), Mean: nan, SD: nan, SEM: nan, CILo: nan, CIHi: nan, Median: nan, Min: nan, Max: nan}
	if s.N == 0 {
		return s
	}
	sorted := slices.Clone(x)
	slices.Sort(sorted)
	s.Min, s.Max = sorted[0], sorted[s.N-1]
	if s.N%2 == 1 {
		s.Median = sorted[s.N/2]
	} else {
		s.Median = (sorted[s.N/2-1] + sorted[s.N/2]) / 2
	}
	if s.N == 1 {
		s.Mean = x[0]
		return s
	}
	s.Mean, s.SD = stat.MeanStdDev(x, nil)
	s.SEM = s.SD / math.Sqrt(float64(s.N))
	h := tQuantile(s.N-1) * s.SEM
	s.CILo, s.CIHi = s.Mean-h, s.Mean+h
	return s
}

// tQuantile returns the two-sided ConfidenceLevel quantile of Student's t
// distribution with df degrees of freedom (4.302653 for df = 2).
func tQuantile(df int) float64 {
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}
	return t.Quantile(1 - (1-ConfidenceLevel)/2)
}

// Paired is a paired comparison of two conditions measured on the same
// units (tasks that differ only in the compared parameters: same seeds,
// same everything else): the differences d_i = a_i − b_i.
type Paired struct {
	// N is the number of pairs.
	N int
	// Mean and SD describe the differences; CILo and CIHi bound the 95%
	// confidence interval of their mean (Student t, N−1 degrees of freedom).
	Mean, SD   float64
	CILo, CIHi float64
	// T is the paired t statistic Mean/(SD/√N) and P its two-sided p-value.
	// When every difference is the same, T is ±Inf with P = 0, or (all
	// differences zero) NaN with P = 1.
	T, P float64
}

// ComparePaired compares paired samples a and b (equal lengths: a[i] and
// b[i] are one pair). Statistics that need N ≥ 2 are NaN below that.
func ComparePaired(a, b []float64) Paired {
	if len(a) != len(b) {
		panic("results: ComparePaired of unequal lengths")
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	nan := math.NaN()
	p := Paired{N: len(d), Mean: nan, SD: nan, CILo: nan, CIHi: nan, T: nan, P: nan}
	switch p.N {
	case 0:
		return p
	case 1:
		p.Mean = d[0]
		return p
	}
	p.Mean, p.SD = stat.MeanStdDev(d, nil)
	sem := p.SD / math.Sqrt(float64(p.N))
	h := tQuantile(p.N-1) * sem
	p.CILo, p.CIHi = p.Mean-h, p.Mean+h
	switch {
	case sem == 0 && p.Mean == 0:
		p.P = 1
	case sem == 0:
		p.T, p.P = math.Copysign(math.Inf(1), p.Mean), 0
	default:
		p.T = p.Mean / sem
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(p.N - 1)}
		p.P = 2 * t.Survival(math.Abs(p.T))
	}
	return p
}

package sweep

import (
	"math"
	"math/bits"
)

// Sample points are drawn in the unit cube [0, 1)^d, one coordinate per
// sampled axis, and then mapped onto each axis' distribution (sampleValue).
// Everything here is specified bit for bit, so that a spec gives the same
// task IDs on every machine and with every Go release: the generator is our
// own SplitMix64, not math/rand (whose Rand methods promise no stable
// stream), and the mappings use only correctly rounded IEEE operations (+,
// −, ×, ÷, √), with explicit float64 conversions where a fused
// multiply-add could otherwise change a rounding.

// Sampling methods.
const (
	methodRandom = "random"
	methodSobol  = "sobol"
	methodLatin  = "latin"
)

var sampleMethods = []string{methodRandom, methodSobol, methodLatin}

// latinJitterBits is the resolution of a Latin hypercube point within its
// stratum: the offset is (w + ½)·2^-26 for a 26-bit w, so that p + offset
// is exact and the stratum of (p + offset)/n is p for every n < 2^27.
const latinJitterBits = 26

// splitMix64 is the SplitMix64 generator of Steele, Lea and Flood
// ("Fast splittable pseudorandom number generators", OOPSLA 2014), as in
// Vigna's reference splitmix64.c: a 64-bit state advanced by the golden
// gamma and a bijective mix. Seeded with s, its state starts at s.
type splitMix64 struct{ state uint64 }

// next returns the next 64 random bits.
func (r *splitMix64) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float returns a uniform float64 in [0, 1): the top 53 bits of next,
// times 2^-53.
func (r *splitMix64) float() float64 { return float64(r.next()>>11) * 0x1p-53 }

// below returns a uniform integer in [0, k), k ≥ 1, by Lemire's
// multiply-and-reject ("Fast random integer generation in an interval",
// 2019): the high word of next × k, redrawn while the low word falls in
// the 2^64 mod k values that would bias it.
func (r *splitMix64) below(k uint64) uint64 {
	hi, lo := bits.Mul64(r.next(), k)
	if lo < k {
		reject := -k % k // 2^64 mod k
		for lo < reject {
			hi, lo = bits.Mul64(r.next(), k)
		}
	}
	return hi
}

// unitPoints returns n points of [0, 1)^d drawn by method (n ≥ 1, d ≥ 1;
// for sobol d ≤ sobolMaxDims); seed seeds random and latin:
//
//   - random: point i, coordinate j is draw i·d + j of SplitMix64(seed);
//   - sobol: the first n points of the unscrambled Sobol sequence, the
//     origin first (see sobolPoints); the seed is not used;
//   - latin: a Latin hypercube: for each coordinate j in turn, a
//     Fisher–Yates permutation p of 0…n−1 (for i = n−1 down to 1, swap p[i]
//     with p[below(i+1)]), then for each point i the offset w = next>>38,
//     and coordinate (p[i] + (w + ½)·2^-26)/n. Each of the n strata
//     [k/n, (k+1)/n) holds exactly one point in every coordinate.
func unitPoints(method string, n, d int, seed uint64) [][]float64 {
	if method == methodSobol {
		return sobolPoints(n, d)
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, d)
	}
	r := &splitMix64{state: seed}
	switch method {
	case methodRandom:
		for i := range n {
			for j := range d {
				out[i][j] = r.float()
			}
		}
	case methodLatin:
		perm := make([]int, n)
		for j := range d {
			for i := range perm {
				perm[i] = i
			}
			for i := n - 1; i > 0; i-- {
				k := r.below(uint64(i + 1))
				perm[i], perm[k] = perm[k], perm[i]
			}
			for i := range n {
				offset := (float64(r.next()>>(64-latinJitterBits)) + 0.5) * 0x1p-26
				out[i][j] = (float64(perm[i]) + offset) / float64(n)
			}
		}
	}
	return out
}

// stratum returns ⌊u·n⌋ computed exactly (u in [0, 1), n ≥ 1): which of n
// equal strata of [0, 1) holds u.
func stratum(u float64, n int) int {
	if u <= 0 {
		return 0
	}
	frac, exp := math.Frexp(u) // u = frac·2^exp, frac in [½, 1)
	mant := uint64(frac * 0x1p53)
	hi, lo := bits.Mul64(mant, uint64(n)) // u·n = (hi·2^64 + lo)·2^(exp−53)
	shift := 53 - exp                     // ≥ 53, as u < 1
	var k uint64
	switch {
	case shift >= 128:
		k = 0
	case shift >= 64:
		k = hi >> (shift - 64)
	default:
		k = hi<<(64-shift) | lo>>shift
	}
	return int(min(k, uint64(n-1)))
}

// logUniform returns a·(b/a)^u for 0 < a < b and u in [0, 1), the
// log-uniform quantile exp(ln a + u(ln b − ln a)), without exp or log
// (whose last bit differs between architectures): with u's top 53 bits
// u = Σ_k u_k 2^-k, (b/a)^u = Π_{u_k = 1} (b/a)^(2^-k), and (b/a)^(2^-k)
// is k square roots of b/a. Its relative error is below 1e-13, far below
// the 12 digits a sampled value keeps.
func logUniform(a, b, u float64) float64 {
	k := uint64(u * 0x1p53)
	r := b / a
	x := a
	for bit := 52; bit >= 0; bit-- {
		r = math.Sqrt(r)
		if k>>bit&1 == 1 {
			x *= r
		}
	}
	return x
}

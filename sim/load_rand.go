package sim

import (
	"math/bits"
	"math/rand/v2"
)

// Randomness of the dataset loaders.
//
// Every random choice a loader makes (Randman's manifolds and sample points,
// the order of samples, the validation split) comes from a PCG-DXSM stream
// of math/rand/v2 named by (data seed, purpose, index). Only the streams'
// Uint64 outputs are used, which math/rand/v2 specifies exactly; uniform
// floats and shuffles are derived from them here rather than by Rand's
// methods, whose algorithms are not promised to stay the same across Go
// releases. So a data seed names the same data on every platform and Go
// version.

// Purposes of the data streams: each names an independent stream.
const (
	dataStreamManifold uint64 = iota + 1 // Randman: A, B, C of one class
	dataStreamPoints                     // Randman: the points x of one class
	dataStreamOrder                      // sample order within a split
	dataStreamHoldout                    // which training samples form the validation split
)

// dataMix is the SplitMix64 finaliser: a bijection on uint64 that spreads
// nearby inputs far apart, so that streams of nearby seeds are unrelated.
func dataMix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// dataStream returns the stream for (seed, purpose, index).
func dataStream(seed, purpose, index uint64) *rand.PCG {
	hi := dataMix(seed ^ dataMix(purpose))
	lo := dataMix(hi ^ dataMix(index+0x632be59bd9b4e019))
	return rand.NewPCG(hi, lo)
}

// dataUniform returns a float64 uniform in [0, 1), a multiple of 2⁻⁵³.
func dataUniform(src *rand.PCG) float64 {
	return float64(src.Uint64()>>11) * 0x1p-53
}

// dataIntN returns an int uniform in [0, n), n > 0, without modulo bias
// (Lemire's multiply-and-reject).
func dataIntN(src *rand.PCG, n int) int {
	bound := uint64(n)
	for {
		hi, lo := bits.Mul64(src.Uint64(), bound)
		if lo >= bound || lo >= -bound%bound {
			return int(hi)
		}
	}
}

// dataShuffle permutes idx uniformly (Fisher–Yates).
func dataShuffle(src *rand.PCG, idx []int) {
	for i := len(idx) - 1; i > 0; i-- {
		j := dataIntN(src, i+1)
		idx[i], idx[j] = idx[j], idx[i]
	}
}

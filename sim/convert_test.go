package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConvert: widen and narrow give Go's conversions bit for bit, with
// the AVX-512 kernels and without, at every length of the vector tail,
// on random bit patterns (every exponent, NaNs, infinities, subnormals)
// and on float64 values halfway between float32 ones (ties to even); a
// NaN need only stay a NaN.
func TestConvert(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 40 {
		f32, f64 := make([]float32, n), make([]float64, n)
		for i := range n {
			f32[i] = math.Float32frombits(rng.Uint32())
			switch i % 3 {
			case 0:
				f64[i] = math.Float64frombits(rng.Uint64())
			case 1: // halfway between two float32s
				a := float64(math.Float32frombits(rng.Uint32() &^ 1 >> 2))
				f64[i] = a + (float64(math.Nextafter32(float32(a), 2))-a)/2
			default:
				f64[i] = rng.NormFloat64()
			}
		}
		for _, avx := range []bool{false, true} {
			if avx && !useAVX512 {
				continue
			}
			saved := useAVX512
			useAVX512 = avx
			wide, narrowed := make([]float64, n), make([]float32, n)
			widen(wide, f32)
			narrow(narrowed, f64)
			useAVX512 = saved
			for i := range n {
				if want := float64(f32[i]); math.Float64bits(wide[i]) != math.Float64bits(want) && !(math.IsNaN(want) && math.IsNaN(wide[i])) {
					t.Errorf("n=%d avx512=%v: widen(%x) = %x, want %x", n, avx, math.Float32bits(f32[i]), math.Float64bits(wide[i]), math.Float64bits(want))
				}
				if want := float32(f64[i]); math.Float32bits(narrowed[i]) != math.Float32bits(want) && !(want != want && narrowed[i] != narrowed[i]) {
					t.Errorf("n=%d avx512=%v: narrow(%v) = %v, want %v", n, avx, f64[i], narrowed[i], want)
				}
			}
		}
	}
}

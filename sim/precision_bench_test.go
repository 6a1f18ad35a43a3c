package sim

import "testing"

// BenchmarkPrecision is the measurement behind the choice of float64: the
// scalar Go loops of the neuron update and of the superspike surrogate
// (for one layer of 100 neurons) cost about the same in float32 as in
// float64 (the per-sample tapes fit in cache either way), so float32 would
// only pay with a second set of SIMD kernels, at the price of the float64
// gradient check. Run with
//
//	go test ./sim -run '^$' -bench Precision -count 6
func BenchmarkPrecision(b *testing.B) {
	const H = 100
	b.Run("lif/float64", func(b *testing.B) {
		u, cur, idx := make([]float64, H), make([]float64, H), make([]int32, H)
		for b.Loop() {
			lifStepGo(u, cur, 0.9, 0.8, 1, idx, 0)
		}
	})
	b.Run("lif/float32", func(b *testing.B) {
		u, cur, idx := make([]float32, H), make([]float32, H), make([]int32, H)
		for b.Loop() {
			lifStep32(u, cur, 0.9, 0.8, 1, idx)
		}
	})
	b.Run("superspike/float64", func(b *testing.B) {
		u, dst := make([]float64, H), make([]float64, H)
		for i := range u {
			u[i] = float64(i%17)*0.1 - 0.5
		}
		for b.Loop() {
			superspikeGo(dst, u, 1, 10, 1)
		}
	})
	b.Run("superspike/float32", func(b *testing.B) {
		u, dst := make([]float32, H), make([]float32, H)
		for i := range u {
			u[i] = float32(i%17)*0.1 - 0.5
		}
		for b.Loop() {
			superspike32(dst, u, 1, 10)
		}
	})
}

// lifStep32 is lifStepGo in float32.
func lifStep32(u, cur []float32, lm, lsyn, theta float32, idx []int32) int {
	cur = cur[:len(u)]
	cm := 1 - lm
	n := 0
	for j := range u {
		p := lm*u[j] + cm*cur[j]
		if u[j] > theta {
			idx[n] = int32(j)
			n++
			p = 0
		}
		u[j] = p
		cur[j] *= lsyn
	}
	return n
}

// superspike32 is superspikeGo (numerator 1) in float32.
func superspike32(dst, u []float32, theta, beta float32) {
	u = u[:len(dst)]
	for j := range dst {
		x := u[j] - theta
		if x < 0 {
			x = -x
		}
		d := beta*x + 1
		dst[j] = 1 / (d * d)
	}
}

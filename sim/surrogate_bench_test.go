package sim

import "testing"

// BenchmarkSurrogateRow is the surrogate kernel of every shape on one
// layer of 100 neurons at one step, the potentials spread around the
// threshold as in training: what each shape costs per row, apart from
// the rest of the backward pass (BenchmarkMinibatchShapes).
func BenchmarkSurrogateRow(b *testing.B) {
	const H = 100
	u := make([]float64, H)
	for j := range u {
		u[j] = float64(j%23)*0.07 - 0.4
	}
	dst := make([]float64, H)
	for _, shape := range SurrogateNames() {
		b.Run(shape, func(b *testing.B) {
			k := kernelFor(shape, Surrogates[shape])
			for b.Loop() {
				k(dst, u, 1, 10)
			}
		})
	}
}

//go:build !amd64 || purego

package sim

// Without assembly kernels only the Go versions in kernel.go run.
var useAVX2, useAVX512, mathExpFMA = false, false, false

func lifStepAVX2(u, cur []float64, lm, cm, lsyn, theta float64, idx []int32) int {
	panic("sim: no AVX2 kernels in this build")
}

func superspikeAVX2(dst, u []float64, theta, beta, num float64) {
	panic("sim: no AVX2 kernels in this build")
}

func backwardTopAVX2(gu, gi, h, gs, pi, pu []float64, lm, cm, lsyn, lo, co float64) {
	panic("sim: no AVX2 kernels in this build")
}

func backwardInnerAVX2(gu, gi, h, gs []float64, lm, cm, lsyn float64) {
	panic("sim: no AVX2 kernels in this build")
}

func gemvT4AVX2(dst *[4][]float64, mt []float64, x *[4][]float64, rows, cols, from, to int) {
	panic("sim: no AVX2 kernels in this build")
}

func gemvT4AVX512(dst *[4][]float64, mt []float64, x *[4][]float64, rows, cols, from, to int) {
	panic("sim: no AVX-512 kernels in this build")
}

func axpyAVX2(dst, row []float64, s float64) { panic("sim: no AVX2 kernels in this build") }

func addRowsAVX512(dst, m []float64, stride int, idx []int32, val []float64) {
	panic("sim: no AVX-512 kernels in this build")
}

func axpyAVX512(dst, row []float64, s float64) { panic("sim: no AVX-512 kernels in this build") }

func expAVX2(dst, x []float64) { panic("sim: no AVX2 kernels in this build") }

func superspikeAVX512(dst, u []float64, theta, beta, num float64) {
	panic("sim: no AVX-512 kernels in this build")
}

func expShapeAVX512(dst, u []float64, theta, beta float64, shape int) {
	panic("sim: no AVX-512 kernels in this build")
}

func atanAVX512(dst, u []float64, theta, pb float64) { panic("sim: no AVX-512 kernels in this build") }

func addOuterAVX512(m []float64, stride int, idx []int32, val []float64, x []float64) {
	panic("sim: no AVX-512 kernels in this build")
}

func prefetch(p []float64) {}

func lifStepAVX512(u, cur []float64, lm, cm, lsyn, theta float64, idx []int32) int {
	panic("sim: no AVX-512 kernels in this build")
}

func esserAVX512(dst, u []float64, theta, beta float64) {
	panic("sim: no AVX-512 kernels in this build")
}

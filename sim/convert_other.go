//go:build !amd64 || purego

package sim

func widenAVX512(dst []float64, src []float32) { panic("sim: no AVX-512 kernels in this build") }

func narrowAVX512(dst []float32, src []float64) { panic("sim: no AVX-512 kernels in this build") }

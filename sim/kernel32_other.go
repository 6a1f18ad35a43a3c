//go:build !amd64 || purego

package sim

// Without assembly kernels only the Go versions in kernel32.go run.

func gemvT32AVX512(dst *[4][]float32, mt []float32, x *[4][]float32, rows, cols, from, to int) {
	panic("sim: no AVX-512 kernels in this build")
}

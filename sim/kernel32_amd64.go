//go:build amd64 && !purego

package sim

//go:noescape
func gemvT32AVX512(dst *[4][]float32, mt []float32, x *[4][]float32, rows, cols, from, to int)

//go:noescape
func axpy32AVX512(dst, row []float32, s float32)

//go:noescape
func addRows32AVX512(dst, m []float32, stride int, idx []int32, val []float32)

//go:noescape
func addOuter32AVX512(m []float32, stride int, idx []int32, val []float32, x []float32)

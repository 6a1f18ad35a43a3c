//go:build amd64 && !purego

package sim

// The float32 kernels of kernel32_amd64.s, all AVX-512 (run where
// useAVX512 is set); kernel32.go has their Go versions and the dispatch.

//go:noescape
func gemvT32AVX512(dst *[4][]float32, mt []float32, x *[4][]float32, rows, cols, from, to int)

//go:noescape
func axpy32AVX512(dst, row []float32, s float32)

//go:noescape
func addRows32AVX512(dst, m []float32, stride int, idx []int32, val []float32)

//go:noescape
func addOuter32AVX512(m []float32, stride int, idx []int32, val []float32, x []float32)

//go:noescape
func lifStep32AVX512(u, cur []float32, lm, cm, lsyn, theta float32, idx []int32) int

//go:noescape
func backwardTop32AVX512(gu, gi, h, gs, pi, pu []float32, lm, cm, lsyn, lo, co float32)

//go:noescape
func backwardInner32AVX512(gu, gi, h, gs []float32, lm, cm, lsyn float32)

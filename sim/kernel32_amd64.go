//go:build amd64 && !purego

package sim

//go:noescape
func gemvT32AVX512(dst *[4][]float32, mt []float32, x *[4][]float32, rows, cols, from, to int)

//go:build amd64 && !purego

package sim

//go:noescape
func widenAVX512(dst []float64, src []float32)

//go:noescape
func narrowAVX512(dst []float32, src []float64)

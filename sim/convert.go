package sim

// widen writes float64(src[i]) to dst[i] for i < len(dst): exact.
// len(src) ≥ len(dst).
func widen(dst []float64, src []float32) {
	src = src[:len(dst)]
	if useAVX512 {
		widenAVX512(dst, src)
		return
	}
	for i, x := range src {
		dst[i] = float64(x)
	}
}

// narrow writes float32(src[i]) to dst[i] for i < len(dst), rounded to
// nearest (ties to even), as Go converts. len(src) ≥ len(dst).
func narrow(dst []float32, src []float64) {
	src = src[:len(dst)]
	if useAVX512 {
		narrowAVX512(dst, src)
		return
	}
	for i, x := range src {
		dst[i] = float32(x)
	}
}

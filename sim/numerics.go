package sim

import (
	"math"
	"unsafe"
)

// float is the element type of a simulation's vectors (weights, state,
// tapes, adjoints, gradients, optimiser moments): float64 or float32, as
// Config.Numerics says. The forward and backward passes, the loss and
// Adam are written once for both; the kernels below dispatch to the
// float64 kernels of kernel.go or the float32 ones of kernel32.go.
//
// What stays float64 in either mode: the network's constants (rounded to
// F where they meet F values), the surrogate (evaluated in float64 on the
// F value of U − ϑ, then rounded to F: see surrogateRow), and what a
// Result reports (losses and accuracies summed in float64).
type float interface{ ~float32 | ~float64 }

// is32 reports whether F is float32.
func is32[F float]() bool {
	var z F
	return unsafe.Sizeof(z) == 4
}

// as32 and as64 view a []F as the []float32 or []float64 it is; the
// caller has checked which with is32.
func as32[F float](s []F) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func as64[F float](s []F) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// lifStep is lifStep64 or lifStep32.
func lifStep[F float](u, cur []F, lm, lsyn, theta F, idx []int32) int {
	if is32[F]() {
		return lifStep32(as32(u), as32(cur), float32(lm), float32(lsyn), float32(theta), idx)
	}
	return lifStep64(as64(u), as64(cur), float64(lm), float64(lsyn), float64(theta), idx)
}

// backwardTop is backwardTop64 or backwardTop32.
func backwardTop[F float](gu, gi, h, gs, pi, pu []F, lm, lsyn, lo F) {
	if is32[F]() {
		backwardTop32(as32(gu), as32(gi), as32(h), as32(gs), as32(pi), as32(pu), float32(lm), float32(lsyn), float32(lo))
		return
	}
	backwardTop64(as64(gu), as64(gi), as64(h), as64(gs), as64(pi), as64(pu), float64(lm), float64(lsyn), float64(lo))
}

// backwardInner is backwardInner64 or backwardInner32.
func backwardInner[F float](gu, gi, h, gs []F, lm, lsyn F) {
	if is32[F]() {
		backwardInner32(as32(gu), as32(gi), as32(h), as32(gs), float32(lm), float32(lsyn))
		return
	}
	backwardInner64(as64(gu), as64(gi), as64(h), as64(gs), float64(lm), float64(lsyn))
}

// addRow is addRow64 or addRow32.
func addRow[F float](dst, row []F, s F) {
	if is32[F]() {
		addRow32(as32(dst), as32(row), float32(s))
		return
	}
	addRow64(as64(dst), as64(row), float64(s))
}

// gemvT is gemvT64 or gemvT32.
func gemvT[F float](dst *[groupMax][]F, mt []F, x *[groupMax][]F, n int) {
	if is32[F]() {
		gemvT32((*[groupMax][]float32)(unsafe.Pointer(dst)), as32(mt), (*[groupMax][]float32)(unsafe.Pointer(x)), n)
		return
	}
	gemvT64((*[groupMax][]float64)(unsafe.Pointer(dst)), as64(mt), (*[groupMax][]float64)(unsafe.Pointer(x)), n)
}

// prefetchRow is prefetch on a row of either type.
func prefetchRow[F float](row []F) {
	if is32[F]() {
		// prefetch touches the cache lines of its argument's bytes; a
		// float32 row has half as many.
		prefetch(as64(row[:len(row)/2]))
		return
	}
	prefetch(as64(row))
}

// isNaN reports whether x is a NaN.
func isNaN[F float](x F) bool { return x != x }

// finite reports whether x is neither a NaN nor an infinity.
func finite[F float](x F) bool { return !isNaN(x) && !math.IsInf(float64(x), 0) }

// toF returns the F nearest to each element of s.
func toF[F float](s []float64) []F {
	out := make([]F, len(s))
	for i, x := range s {
		out[i] = F(x)
	}
	return out
}

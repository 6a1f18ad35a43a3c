//go:build amd64 && !purego

package sim

import "math"

// useAVX2 selects the assembly kernels and useAVX512 the AVX-512 variant
// of gemvT; tests switch them off to compare.
var (
	useAVX2   = hasAVX2()
	useAVX512 = useAVX2 && hasAVX512()
)

// mathExpFMA reports whether math.Exp runs the FMA variant of its amd64
// assembly (as it does where the CPU has AVX and FMA), which expAVX2
// mirrors. Besides the CPUID bit, it checks expAVX2 against math.Exp on
// probeExp's arguments, so that a math.Exp that chose otherwise (say,
// GODEBUG=cpu.fma=off) is simply not mirrored.
var mathExpFMA = hasAVX2() && hasFMA() && expAgrees()

// hasFMA reports whether the CPU supports FMA3 (CPUID leaf 1 ECX bit 12);
// hasAVX2 checks the operating system's support for the YMM state.
func hasFMA() bool {
	_, _, ecx1, _ := cpuid(1, 0)
	return ecx1&(1<<12) != 0
}

// expAgrees reports whether expAVX2 gives math.Exp's bits on probeExp.
func expAgrees() bool {
	x := probeExp()
	got := make([]float64, len(x))
	expAVX2(got, x)
	for i, xi := range x {
		if math.Float64bits(got[i]) != math.Float64bits(math.Exp(xi)) {
			return false
		}
	}
	return true
}

// hasAVX2 reports whether the CPU and the operating system support AVX2
// (CPUID leaf 7 EBX bit 5; OSXSAVE, AVX, and XMM/YMM state enabled).
func hasAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// hasAVX512 reports whether the CPU and the operating system support
// AVX-512F (CPUID leaf 7 EBX bit 16; opmask and ZMM state enabled).
func hasAVX512() bool {
	if xcr0, _ := xgetbv(); xcr0&0xe6 != 0xe6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<16) != 0
}

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

//go:noescape
func lifStepAVX2(u, cur []float64, lm, cm, lsyn, theta float64, idx []int32) int

//go:noescape
func superspikeAVX2(dst, u []float64, theta, beta, num float64)

//go:noescape
func backwardTopAVX2(gu, gi, h, gs, pi, pu []float64, lm, cm, lsyn, lo, co float64)

//go:noescape
func backwardInnerAVX2(gu, gi, h, gs []float64, lm, cm, lsyn float64)

//go:noescape
func gemvT4AVX2(dst *[4][]float64, mt []float64, x *[4][]float64, rows, cols, from, to int)

//go:noescape
func gemvT4AVX512(dst *[4][]float64, mt []float64, x *[4][]float64, rows, cols, from, to int)

//go:noescape
func axpyAVX2(dst, row []float64, s float64)

//go:noescape
func addRowsAVX512(dst, m []float64, stride int, idx []int32, val []float64)

//go:noescape
func axpyAVX512(dst, row []float64, s float64)

//go:noescape
func expAVX2(dst, x []float64)

//go:noescape
func superspikeAVX512(dst, u []float64, theta, beta, num float64)

//go:noescape
func expShapeAVX512(dst, u []float64, theta, beta float64, shape int)

//go:noescape
func atanAVX512(dst, u []float64, theta, pb float64)

//go:noescape
func addOuterAVX512(m []float64, stride int, idx []int32, val []float64, x []float64)

//go:noescape
func prefetch(p []float64)

//go:noescape
func lifStepAVX512(u, cur []float64, lm, cm, lsyn, theta float64, idx []int32) int

//go:noescape
func esserAVX512(dst, u []float64, theta, beta float64)

//go:build amd64 && !purego

package sim

// useAVX2 selects the assembly kernels and useAVX512 the AVX-512 variant
// of gemvT; tests switch them off to compare.
var (
	useAVX2   = hasAVX2()
	useAVX512 = useAVX2 && hasAVX512()
)

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

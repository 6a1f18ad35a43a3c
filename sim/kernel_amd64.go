//go:build amd64 && !purego

package sim

// useAVX2 selects the assembly kernels; tests switch it off to compare.
var useAVX2 = hasAVX2()

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
func gemvT4AVX2(dst *[4][]float64, mt []float64, x *[4][]float64, rows, cols int)

//go:noescape
func axpyAVX2(dst, row []float64, s float64)

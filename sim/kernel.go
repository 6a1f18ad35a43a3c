package sim

import "math"

// The per-layer, per-step loops of the forward and backward passes. Each
// has a portable Go version (the reference, named …Go or written out in
// its doc comment; gemvT's is its own tail loop) and, on amd64, assembly
// versions (kernel_amd64.s) that do the same IEEE operations in the same
// order on several neurons at a time: four with AVX2 (two for the
// surrogate), eight with AVX-512 (gemvT, addRows, addRow's axpy, the
// surrogates). Results are identical bit for bit (TestKernels,
// TestSurrogateKernels, TestExpRow), so the choice never changes a number.
// useAVX2 and useAVX512 select; the exponential surrogates also need
// mathExpFMA, since they repeat math.Exp's own operations lane by lane.

// lifStep64 advances one hidden layer by one step, given U[n] in u and I[n]
// in cur (I already holding the decay only after the call):
//
//	S = Θ(U − ϑ);  U ← (λ_mem·U + (1 − λ_mem)·I)·(1 − S);  I ← λ_syn·I
//
// It writes the indices of the neurons that spiked to idx, in increasing
// order, and returns how many; idx must have room for len(u), and its
// entries past the count (up to len(u)) may be overwritten.
func lifStep64(u, cur []float64, lm, lsyn, theta float64, idx []int32) int {
	if useAVX512 {
		cur = cur[:len(u)]
		return lifStepAVX512(u, cur, lm, 1-lm, lsyn, theta, idx[:len(u)])
	}
	n := 0
	if useAVX2 && len(u) >= 4 {
		m := len(u) &^ 3
		n = lifStepAVX2(u[:m], cur[:m], lm, 1-lm, lsyn, theta, idx)
		return n + lifStepGo(u[m:], cur[m:], lm, lsyn, theta, idx[n:], int32(m))
	}
	return lifStepGo(u, cur, lm, lsyn, theta, idx, 0)
}

// lifStepGo is lifStep on neurons offset, offset+1, … (in F: the Go
// version of lifStep64 and lifStep32 alike).
func lifStepGo[F float](u, cur []F, lm, lsyn, theta F, idx []int32, offset int32) int {
	cur = cur[:len(u)]
	cm := 1 - lm
	n := 0
	for j := range u {
		p := lm*u[j] + cm*cur[j]
		if u[j] > theta {
			idx[n] = int32(j) + offset
			n++
			p = 0
		}
		u[j] = p
		cur[j] *= lsyn
	}
	return n
}

// superspikeRow writes dst[j] = num/(β·abs(u[j] − ϑ) + 1)²: the superspike
// surrogate for num = 1, the asymptotic one for num = β.
func superspikeRow(dst, u []float64, theta, beta, num float64) {
	u = u[:len(dst)]
	if useAVX512 {
		superspikeAVX512(dst, u, theta, beta, num)
		return
	}
	if useAVX2 && len(dst) >= 2 {
		m := len(dst) &^ 1
		superspikeAVX2(dst[:m], u[:m], theta, beta, num)
		dst, u = dst[m:], u[m:]
	}
	superspikeGo(dst, u, theta, beta, num)
}

func superspikeGo(dst, u []float64, theta, beta, num float64) {
	u = u[:len(dst)]
	for j := range dst {
		d := beta*math.Abs(u[j]-theta) + 1
		dst[j] = num / (d * d)
	}
}

// backwardTop64 is the backward update of the last hidden layer at step n,
// fused with the readout's projected adjoints pI, pU (see workspace):
//
//	gU ← λ_mem·gU + h·(gs + pI);  gI ← (1 − λ_mem)·gU_old + λ_syn·gI
//	pI ← λ_syn·pI + (1 − λ_out)·pU;  pU ← λ_out·pU
//
// gu must already carry the reset factor (1 − S[n]).
func backwardTop64(gu, gi, h, gs, pi, pu []float64, lm, lsyn, lo float64) {
	if useAVX2 && len(gu) >= 4 {
		m := len(gu) &^ 3
		backwardTopAVX2(gu[:m], gi[:m], h[:m], gs[:m], pi[:m], pu[:m], lm, 1-lm, lsyn, lo, 1-lo)
		gu, gi, h, gs, pi, pu = gu[m:], gi[m:], h[m:], gs[m:], pi[m:], pu[m:]
	}
	backwardTopGo(gu, gi, h, gs, pi, pu, lm, lsyn, lo)
}

func backwardTopGo[F float](gu, gi, h, gs, pi, pu []F, lm, lsyn, lo F) {
	gi, h, gs, pi, pu = gi[:len(gu)], h[:len(gu)], gs[:len(gu)], pi[:len(gu)], pu[:len(gu)]
	cm, co := 1-lm, 1-lo
	for j := range gu {
		g := gu[j]
		gu[j] = lm*g + h[j]*(gs[j]+pi[j])
		gi[j] = cm*g + lsyn*gi[j]
		pi[j] = lsyn*pi[j] + co*pu[j]
		pu[j] *= lo
	}
}

// backwardInner64 is the backward update of a hidden layer below the last:
//
//	gU ← λ_mem·gU + h·gs;  gI ← (1 − λ_mem)·gU_old + λ_syn·gI
func backwardInner64(gu, gi, h, gs []float64, lm, lsyn float64) {
	if useAVX2 && len(gu) >= 4 {
		m := len(gu) &^ 3
		backwardInnerAVX2(gu[:m], gi[:m], h[:m], gs[:m], lm, 1-lm, lsyn)
		gu, gi, h, gs = gu[m:], gi[m:], h[m:], gs[m:]
	}
	backwardInnerGo(gu, gi, h, gs, lm, lsyn)
}

func backwardInnerGo[F float](gu, gi, h, gs []F, lm, lsyn F) {
	gi, h, gs = gi[:len(gu)], h[:len(gu)], gs[:len(gu)]
	cm := 1 - lm
	for j := range gu {
		g := gu[j]
		gu[j] = lm*g + h[j]*gs[j]
		gi[j] = cm*g + lsyn*gi[j]
	}
}

// addRow64 adds s·row to dst: dst[i] += s·row[i]. len(row) ≥ len(dst).
func addRow64(dst, row []float64, s float64) {
	row = row[:len(dst)]
	if useAVX512 && len(dst) >= 32 { // shorter rows (the readout's) are faster without the call
		axpyAVX512(dst, row, s)
		return
	}
	if useAVX2 && len(dst) >= 32 {
		m := len(dst) &^ 3
		axpyAVX2(dst[:m], row[:m], s)
		dst, row = dst[m:], row[m:]
	}
	for i := range dst {
		dst[i] += s * row[i]
	}
}

// expRow writes dst[i] = math.Exp(x[i]), bit for bit: with AVX2, four at
// a time by expAVX2, which repeats math.Exp's own operations on each lane
// where math.Exp runs its FMA variant (mathExpFMA); otherwise by
// math.Exp. dst and x may be the same slice; len(x) ≥ len(dst).
func expRow(dst, x []float64) {
	x = x[:len(dst)]
	if useAVX2 && mathExpFMA && len(dst) >= 4 {
		m := len(dst) &^ 3
		expAVX2(dst[:m], x[:m])
		dst, x = dst[m:], x[m:]
	}
	for i := range dst {
		dst[i] = math.Exp(x[i])
	}
}

// probeExp returns arguments on which an exp differing from math.Exp in
// any of its cases would show: the special values and the edges of the
// range cases (overflow, subnormal results, underflow to 0), signed zeros,
// subnormal arguments, and a sweep across the whole finite range at
// irregular points, where an exp without math.Exp's order of operations
// (or without its fused multiply-adds) differs in the last bit.
func probeExp() []float64 {
	x := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		math.Float64frombits(0x7ff0000000000001), // a signalling NaN
		math.Float64frombits(0xfff8000000000123), // a negative NaN with payload
		5e-324, -5e-324, 2.2250738585072014e-308, -2.2250738585072014e-308,
		1e-300, -1e-300, 1e-17, -1e-17, 0.5, -0.5, 1, -1, math.Ln2, -math.Ln2,
		7.09782712893384e+02, math.Nextafter(7.09782712893384e+02, 800),
		math.Nextafter(7.09782712893384e+02, 0), 709.78271289338397,
		-708.39641853226408, -708.4, -709.08956571282405, -709.1,
		-744.44007192138122, -744.5, -745.13321910194110, -745.2, -746,
		-1075 * math.Ln2, -1022 * math.Ln2, -1e10, -3e9, -1.5e9, 1e10,
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64}
	for i := range 4000 {
		// a sweep over [−750, 750], with steps that are not round numbers
		x = append(x, -750+float64(i)*0.37512345678901)
	}
	return x
}

// addRows adds the rows idx[k] of m, whose rows are stride long, scaled by
// val[k], to dst, one row after the other:
//
//	for k, j := range idx {
//		for i := range dst {
//			dst[i] += val[k] * m[int(j)*stride+i]
//		}
//	}
//
// which is addRow for each k in turn, bit for bit. The AVX-512 kernel keeps
// a block of dst in registers over all the rows, so that dst is read and
// written once per call instead of once per row: the synaptic input of a
// busy step, several spikes into the same currents, costs about a third.
// len(val) ≥ len(idx); every row must lie within m.
func addRows[F float](dst, m []F, stride int, idx []int32, val []F) {
	if len(idx) == 0 {
		return
	}
	val = val[:len(idx)]
	if useAVX512 && len(dst) > 0 {
		checkRows(m, stride, idx, len(dst))
		if is32[F]() {
			addRows32AVX512(as32(dst), as32(m), stride, idx, as32(val))
		} else {
			addRowsAVX512(as64(dst), as64(m), stride, idx, as64(val))
		}
		return
	}
	for k, j := range idx {
		addRow(dst, m[int(j)*stride:], val[k])
	}
}

// addOuter adds the outer product of val and x to the rows idx[k] of m,
// whose rows are stride long, one row after the other:
//
//	for k, j := range idx {
//		for i := range x {
//			m[int(j)*stride+i] += val[k] * x[i]
//		}
//	}
//
// which is addRow(m[j·stride:…], x, val[k]) for each k in turn, bit for
// bit: the weight gradients of a step's spikes, gW[j,·] += S[j]·gI. The
// AVX-512 kernel keeps a block of x in registers over all the rows and
// saves a call per row. len(val) ≥ len(idx); every row must lie within m.
func addOuter[F float](m []F, stride int, idx []int32, val, x []F) {
	if len(idx) == 0 {
		return
	}
	val = val[:len(idx)]
	if useAVX512 && len(x) > 0 {
		checkRows(m, stride, idx, len(x))
		if is32[F]() {
			addOuter32AVX512(as32(m), stride, idx, as32(val), as32(x))
		} else {
			addOuterAVX512(as64(m), stride, idx, as64(val), as64(x))
		}
		return
	}
	for k, j := range idx {
		addRow(m[int(j)*stride:int(j)*stride+len(x)], x, val[k])
	}
}

// checkRows panics, as an index expression would, unless the first width
// elements of every row idx[k] of m (rows stride long) lie within m: the
// bounds check the assembly kernels do not do.
func checkRows[F float](m []F, stride int, idx []int32, width int) {
	last := 0
	for _, j := range idx {
		last = max(last, int(uint32(j))) // a negative index fails the check below
	}
	_ = m[last*stride+width-1]
}

// groupMax is the largest group of samples backpropagated in lockstep
// (see backward): the width of gemvT.
const groupMax = 4

// gemvT64 adds M·x[s] to dst[s] for each s < n: dst[s][j] += Σ_i mt[i·J+j]·x[s][i]
// with J = len(dst[s]) and mt = M^T, rows i = 0…len(x[s])−1, the sum over i
// accumulated in order onto dst[s][j]. Slots s ≥ n are ignored.
func gemvT64(dst *[groupMax][]float64, mt []float64, x *[groupMax][]float64, n int) {
	J := len(dst[0])
	m := 0
	if n > 0 && useAVX2 {
		// The kernels work on four samples. A partial group (the end of
		// a shard) fills the empty slots with its first sample, which is
		// then computed several times over, each time from the same
		// values to the same bits (the kernels load a block of columns
		// of every slot before they store any).
		d, xs := dst, x
		if n < groupMax {
			d, xs = new([groupMax][]float64), new([groupMax][]float64)
			*d, *xs = *dst, *x
			for s := n; s < groupMax; s++ {
				d[s], xs[s] = d[0], xs[0]
			}
		}
		if useAVX512 && J >= 8 {
			m = J &^ 7
			gemvT4AVX512(d, mt, xs, len(x[0]), J, 0, m)
		}
		if J-m >= 4 {
			end := J &^ 3 // all the columns AVX-512 left but fewer than 4
			gemvT4AVX2(d, mt, xs, len(x[0]), J, m, end)
			m = end
		}
	}
	for s := range n {
		d, xs := dst[s][:J], x[s]
		for j := m; j < J; j++ {
			acc := d[j]
			for i, xi := range xs {
				acc += xi * mt[i*J+j]
			}
			d[j] = acc
		}
	}
}

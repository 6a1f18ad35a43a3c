package sim

// The float32 kernels: each is the float64 kernel of the same name without
// "32" (kernel.go), with every operation done in float32, in the same
// order. Go rounds each float32 operation to float32 and, on amd64, never
// fuses a multiply and an add, so the portable versions here and the
// assembly ones (kernel32_amd64.s, sixteen lanes to a ZMM register, twice
// as many as the float64 kernels) give the same bits (TestKernels32). The
// assembly runs where useAVX512 is set; elsewhere the Go versions do.

// lifStep32 is lifStep in float32: it advances one hidden layer by one
// step, writes the indices of the neurons that spiked to idx, in
// increasing order, and returns how many. idx must have room for len(u),
// and its entries past the count (up to len(u)) may be overwritten.
func lifStep32(u, cur []float32, lm, lsyn, theta float32, idx []int32) int {
	if useAVX512 {
		return lifStep32AVX512(u, cur[:len(u)], lm, 1-lm, lsyn, theta, idx[:len(u)])
	}
	return lifStepGo(u, cur, lm, lsyn, theta, idx, 0)
}

// backwardTop32 is backwardTop in float32: the backward update of the last
// hidden layer, fused with the readout's projected adjoints pI, pU.
func backwardTop32(gu, gi, h, gs, pi, pu []float32, lm, lsyn, lo float32) {
	if useAVX512 {
		n := len(gu)
		backwardTop32AVX512(gu, gi[:n], h[:n], gs[:n], pi[:n], pu[:n], lm, 1-lm, lsyn, lo, 1-lo)
		return
	}
	backwardTopGo(gu, gi, h, gs, pi, pu, lm, lsyn, lo)
}

// backwardInner32 is backwardInner in float32: the backward update of a
// hidden layer below the last.
func backwardInner32(gu, gi, h, gs []float32, lm, lsyn float32) {
	if useAVX512 {
		n := len(gu)
		backwardInner32AVX512(gu, gi[:n], h[:n], gs[:n], lm, 1-lm, lsyn)
		return
	}
	backwardInnerGo(gu, gi, h, gs, lm, lsyn)
}

// addRow32 adds s·row to dst: dst[i] += s·row[i]. len(row) ≥ len(dst).
func addRow32(dst, row []float32, s float32) {
	if useAVX512 && len(dst) >= 32 { // shorter rows (the readout's) are faster without the call
		axpy32AVX512(dst, row[:len(dst)], s)
		return
	}
	axpy32Go(dst, row, s)
}

// axpy32Go is addRow32's loop.
func axpy32Go(dst, row []float32, s float32) {
	row = row[:len(dst)]
	for i := range dst {
		dst[i] += s * row[i]
	}
}

// gemvT32 is gemvT in float32: it adds M·x[s] to dst[s] for each s < n,
// dst[s][j] += Σ_i mt[i·J+j]·x[s][i] with J = len(dst[s]) and mt = M^T,
// the sum over i = 0…len(x[s])−1 accumulated in order onto dst[s][j].
// Slots s ≥ n are ignored.
func gemvT32(dst *[groupMax][]float32, mt []float32, x *[groupMax][]float32, n int) {
	J := len(dst[0])
	if n > 0 && J > 0 && useAVX512 {
		// As in gemvT, a partial group fills its empty slots with its
		// first sample, computed several times over to the same bits.
		d, xs := dst, x
		if n < groupMax {
			d, xs = new([groupMax][]float32), new([groupMax][]float32)
			*d, *xs = *dst, *x
			for s := n; s < groupMax; s++ {
				d[s], xs[s] = d[0], xs[0]
			}
		}
		checkGemv32(d, mt, xs)
		gemvT32AVX512(d, mt, xs, len(x[0]), J, 0, J)
		return
	}
	gemvT32Go(dst, mt, x, n, 0)
}

// checkGemv32 panics, as an index expression would, unless every dst[s]
// has J = len(dst[0]) ≥ 1 columns, every x[s] len(x[0]) rows, and mt
// holds len(x[0]) rows of J: the bounds checks gemvT32AVX512 does not do.
func checkGemv32(dst *[groupMax][]float32, mt []float32, x *[groupMax][]float32) {
	J, rows := len(dst[0]), len(x[0])
	for s := range groupMax {
		_ = dst[s][J-1]
		if rows > 0 {
			_ = x[s][rows-1]
		}
	}
	if rows > 0 {
		_ = mt[rows*J-1]
	}
}

// gemvT32Go is gemvT32 on the columns from, from+1, … of dst only.
func gemvT32Go(dst *[groupMax][]float32, mt []float32, x *[groupMax][]float32, n, from int) {
	J := len(dst[0])
	for s := range n {
		d, xs := dst[s][:J], x[s]
		for j := from; j < J; j++ {
			acc := d[j]
			for i, xi := range xs {
				acc += xi * mt[i*J+j]
			}
			d[j] = acc
		}
	}
}

package sim

// backward runs backpropagation through time for the sample that forward
// (with tape) and loss just processed, adding ∂L/∂p to grad. It is derived
// by hand from the forward equations; with adjoints gU[n] = ∂L/∂U[n],
// gI[n] = ∂L/∂I[n] and gS[n] = ∂L/∂S[n], going from n = T−1 down to 0:
//
//	gS[n] = W_next^T·gI_next[n+1] (or the readout's, for the last layer)
//	        + V^T·gI[n+1]                  (recurrent_grad: propagate)
//	        − gU[n+1]·(λ_mem·U[n] + (1 − λ_mem)·I[n])   (reset: differentiable)
//	        + ∂L_reg/∂ζ
//	gU[n] = λ_mem·(1 − S[n])·gU[n+1] + h(U[n] − ϑ)·gS[n]
//	gI[n] = (1 − λ_mem)·(1 − S[n])·gU[n+1] + λ_syn·gI[n+1]
//	∂L/∂W += gI[n+1] ⊗ S_prev[n],  ∂L/∂V += gI[n+1] ⊗ S[n]
//
// where dS/dU is replaced by the surrogate h. The weight gradients and the
// forward products of spikes only touch rows of spiking units. The readout
// (a linear filter) is backpropagated in output space for ∂L/∂W_out and,
// projected through W_out, in the last layer's space for gS, so that it
// costs O(H) per step.
func (ws *workspace) backward(p, grad []float64, times, units []uint16) {
	net := ws.net
	T := net.steps
	lsyn, lo := net.lamSyn, net.lamOut
	O := net.outputs
	last := len(ws.layers) - 1
	wo := net.wOut(p)
	gwo := net.wOut(grad)

	for l := range ws.layers {
		ls := &ws.layers[l]
		clear(ls.gu)
		clear(ls.gi)
	}
	clear(ws.guo)
	clear(ws.gio)
	clear(ws.pu)
	clear(ws.pi)
	if net.readout == ReadoutMean {
		// ∂L/∂U_out,k[n] = ∂L/∂a_k / T at every step.
		inv := 1 / float64(T)
		clear(ws.inject)
		for k, d := range ws.dLogits {
			col := wo[k:]
			for j := range ws.inject {
				ws.inject[j] += col[j*O] * d * inv
			}
		}
	}

	tail := ws.quietTail()
	for n := T - 1; n >= tail; n-- {
		ws.backwardQuiet(grad, n, units)
		ws.injectReadout(wo, n)
	}
	for n := tail - 1; n >= 0; n-- {
		// ∂L/∂W_out += gIo[n+1] ⊗ S_L[n].
		idx, val := ws.layers[last].spikes(n)
		for k, j := range idx {
			addRow(gwo[int(j)*O:int(j+1)*O], ws.gio, val[k])
		}

		for l := range ws.layers {
			ws.backwardLayer(p, grad, l, n, units)
		}

		// Readout adjoints to step n: the I recursions read the U adjoint of
		// step n+1, so they go first.
		for k := range ws.gio {
			ws.gio[k] = lsyn*ws.gio[k] + (1-lo)*ws.guo[k]
			ws.guo[k] *= lo
		}
		// (The projected adjoints pI, pU were advanced by the last layer.)
		ws.injectReadout(wo, n)
	}
}

// injectReadout adds ∂L/∂U_out[n] (direct, from the logits) to the readout
// adjoints, in output space and projected.
func (ws *workspace) injectReadout(wo []float64, n int) {
	net := ws.net
	O := net.outputs
	switch net.readout {
	case ReadoutMax:
		for k, d := range ws.dLogits {
			if ws.accStep[k] != n {
				continue
			}
			ws.guo[k] += d
			col := wo[k:]
			for j := range ws.pu {
				ws.pu[j] += col[j*O] * d
			}
		}
	case ReadoutMean:
		inv := 1 / float64(net.steps)
		for k, d := range ws.dLogits {
			ws.guo[k] += d * inv
		}
		for j, c := range ws.inject {
			ws.pu[j] += c
		}
	case ReadoutLast:
		if n != net.steps-1 {
			return
		}
		for k, d := range ws.dLogits {
			ws.guo[k] += d
			col := wo[k:]
			for j := range ws.pu {
				ws.pu[j] += col[j*O] * d
			}
		}
	}
}

// backwardLayer takes hidden layer l from step n+1 to step n: it adds the
// weight gradients of step n, which read gI[n+1], then updates gU and gI.
// Layers are visited from the input side, so that layer l−1 has read
// gI_l[n+1] before layer l overwrites it.
func (ws *workspace) backwardLayer(p, grad []float64, l, n int, units []uint16) {
	net := ws.net
	ls := &ws.layers[l]
	H := len(ls.u)
	lm, lsyn := net.lamMem, net.lamSyn
	gu, gi := ls.gu[:H], ls.gi[:H]
	var gs []float64

	// ∂L/∂W_l += gI[n+1] ⊗ S_prev[n].
	gw := net.w(grad, l)
	if l == 0 {
		for _, unit := range units[ws.evStart[n]:ws.evStart[n+1]] {
			addRow(gw[int(unit)*H:int(unit+1)*H], gi, 1)
		}
	} else {
		idx, val := ws.layers[l-1].spikes(n)
		for k, j := range idx {
			addRow(gw[int(j)*H:int(j+1)*H], gi, val[k])
		}
	}
	idx, val := ls.spikes(n)
	if net.recurrent {
		// ∂L/∂V_l += gI[n+1] ⊗ S[n].
		gv := net.v(grad, l)
		for k, j := range idx {
			addRow(gv[int(j)*H:int(j+1)*H], gi, val[k])
		}
	}

	// gS[n] = reg + (next layer or readout) + V^T·gI + reset term; the
	// dense products are needed only where h ≠ 0. Without them, gS is the
	// regularizer's gradient (plus the readout's, added by backwardTop).
	h := ls.h[:H]
	net.kernel(h, ls.uTape[n*H:(n+1)*H], net.threshold, net.beta)
	top := l == len(ws.layers)-1
	gs = ls.regGrad[:H]
	if !top || net.propagateRec || net.diffReset {
		gs = ls.gs[:H]
		reg := ls.regGrad[:H]
		var wNext, giNext []float64
		if !top {
			wNext = net.w(p, l+1)
			giNext = ws.layers[l+1].gi
		}
		var v []float64
		if net.propagateRec {
			v = net.v(p, l)
		}
		Hn := len(giNext)
		for j := range gs {
			if h[j] == 0 {
				gs[j] = 0
				continue
			}
			s := reg[j]
			if wNext != nil {
				s += dot(wNext[j*Hn:(j+1)*Hn], giNext)
			}
			if v != nil {
				s += dot(v[j*H:(j+1)*H], gi)
			}
			if net.diffReset {
				s -= gu[j] * ls.pre[n*H+j]
			}
			gs[j] = s
		}
	}

	// The reset factor (1 − S[n]) on the paths through U[n+1].
	rst := ls.spikeRst[ls.spikeOff[n]:ls.spikeOff[n+1]]
	for k, j := range idx {
		gu[j] *= 1 - rst[k]
	}

	if top {
		backwardTop(gu, gi, h, gs, ws.pi, ws.pu, lm, lsyn, net.lamOut)
	} else {
		backwardInner(gu, gi, h, gs, lm, lsyn)
	}
}

// quietTail returns the first step of the sample's quiet tail: the steps
// after the last step at which the max readout reads the loss. There the
// readout adjoints are zero, so the only gradient comes from the activity
// regularizers, which are zero for most neurons: backwardQuiet then updates
// only the neurons in regIdx. It applies to one feed-forward hidden layer
// with a detached reset and the max readout; otherwise, or when more than
// a quarter of the neurons carry a regularizer gradient, it returns T and
// every step is backpropagated in full. The results are the same either
// way (TestQuietTail).
func (ws *workspace) quietTail() int {
	net := ws.net
	T := net.steps
	if len(ws.layers) != 1 || net.recurrent || net.diffReset || net.smooth || net.readout != ReadoutMax || net.fullBackward {
		return T
	}
	ls := &ws.layers[0]
	ls.regIdx = ls.regIdx[:0]
	for j, g := range ls.regGrad {
		if g != 0 {
			ls.regIdx = append(ls.regIdx, int32(j))
		}
	}
	if len(ls.regIdx) > len(ls.regGrad)/4 {
		return T
	}
	tail := 0
	for _, n := range ws.accStep {
		tail = max(tail, n)
	}
	return tail
}

// backwardQuiet backpropagates step n of the quiet tail (see quietTail):
// only the neurons in regIdx have non-zero adjoints.
func (ws *workspace) backwardQuiet(grad []float64, n int, units []uint16) {
	net := ws.net
	ls := &ws.layers[0]
	H := len(ls.u)
	lm, lsyn := net.lamMem, net.lamSyn
	cm := 1 - lm
	u := ls.uTape[n*H : (n+1)*H]
	gw := net.w(grad, 0)
	for _, unit := range units[ws.evStart[n]:ws.evStart[n+1]] {
		row := gw[int(unit)*H : int(unit+1)*H]
		for _, j := range ls.regIdx {
			row[j] += ls.gi[j]
		}
	}
	for _, j := range ls.regIdx {
		g := ls.gu[j]
		if u[j] > net.threshold {
			g *= 0 // the reset factor 1 − S[n], as in the full step
		}
		h := net.surrogate(u[j]-net.threshold, net.beta)
		ls.gu[j] = lm*g + h*ls.regGrad[j]
		ls.gi[j] = cm*g + lsyn*ls.gi[j]
	}
}

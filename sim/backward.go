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
// where dS/dU is replaced by the surrogate h. With recurrent_grad detached,
// S enters V·S as a constant (as V·S.detach() would in PyTorch): V still
// learns from gI ⊗ S, but no gradient reaches S through V. The weight
// gradients and the forward products of spikes only touch rows of spiking
// units. The readout (a linear filter) is backpropagated in output space
// for ∂L/∂W_out and, projected through W_out, in the last layer's space for
// gS, so that it costs O(H) per step.
//
// This method is for tests: it transposes the weights for the dense
// products on every call (see network.transpose), into a buffer it
// allocates on the first (the trainer's workspaces never need one).
func (ws *workspace[F]) backward(p, grad []F) {
	if ws.pt == nil {
		ws.pt = make([]F, ws.net.nT)
	}
	transpose(ws.net, p, ws.pt)
	backward(ws.one, p, ws.pt, grad)
}

// backward runs BPTT (see workspace.backward) for a group of samples, one
// per workspace, in lockstep: the dense products (W_next^T·gI, V^T·gI) then
// read each weight row once for the whole group; pt holds the transposed
// weights they read (network.transpose of p). Gradients are added to grad
// sample after sample within each step, so the group is part of what
// determines the summation order (see newGroup).
func backward[F float](group []*workspace[F], p, pt, grad []F) {
	net := group[0].net
	T := net.steps
	lsyn, lo := F(net.lamSyn), F(net.lamOut)
	O := net.outputs
	last := len(net.hidden) - 1
	wo := readoutW(net, p)
	gwo := readoutW(net, grad)

	for _, ws := range group {
		ws.beginBackward(wo)
	}
	tail := T
	if len(group) == 1 {
		ws := group[0]
		tail = ws.quietTail()
		for n := T - 1; n >= tail; n-- {
			ws.backwardQuiet(grad, n)
			ws.injectReadout(wo, n)
		}
	}
	for n := tail - 1; n >= 0; n-- {
		// ∂L/∂W_out += gIo[n+1] ⊗ S_L[n].
		for _, ws := range group {
			idx, val := ws.layers[last].spikes(n)
			for k, j := range idx {
				addRow(gwo[int(j)*O:int(j+1)*O], ws.gio, val[k])
			}
		}

		// Hidden layers from the input side, so that layer l−1 reads
		// gI_l[n+1] before layer l overwrites it with gI_l[n].
		for l := range net.hidden {
			for _, ws := range group {
				ws.layerGradients(grad, l, n)
			}
			if net.dense(l) {
				denseGradients(group, pt, l, n)
			}
			for _, ws := range group {
				ws.layerUpdate(l, n)
			}
		}

		// Readout adjoints to step n: the I recursions read the U adjoint of
		// step n+1, so they go first. (The projected adjoints pI, pU were
		// advanced by the last layer.)
		for _, ws := range group {
			for k := range ws.gio {
				ws.gio[k] = lsyn*ws.gio[k] + (1-lo)*ws.guo[k]
				ws.guo[k] *= lo
			}
			ws.injectReadout(wo, n)
		}
	}
}

// beginBackward clears the adjoints; for the mean readout it precomputes
// the projected injection Σ_k W_out[j,k]·∂L/∂a_k / T.
func (ws *workspace[F]) beginBackward(wo []F) {
	net := ws.net
	O := net.outputs
	for l := range ws.layers {
		ls := &ws.layers[l]
		clear(ls.gu)
		clear(ls.gi)
	}
	clear(ws.guo)
	clear(ws.gio)
	clear(ws.pu)
	clear(ws.pi)
	if net.readout == ReadoutMax {
		// Classes by decreasing argmax step (insertion sort; ties by
		// class), for injectReadout.
		order := ws.injOrder
		for k := range order {
			order[k] = k
			for i := k; i > 0 && ws.accStep[order[i-1]] < ws.accStep[order[i]]; i-- {
				order[i-1], order[i] = order[i], order[i-1]
			}
		}
		ws.injNext = 0
	}
	if net.readout == ReadoutMean {
		// ∂L/∂U_out,k[n] = ∂L/∂a_k / T at every step.
		inv := 1 / F(net.steps)
		clear(ws.inject)
		for k, d := range ws.dLogits {
			col := wo[k:]
			for j := range ws.inject {
				ws.inject[j] += col[j*O] * d * inv
			}
		}
	}
}

// injectReadout adds ∂L/∂U_out[n] (direct, from the logits) to the readout
// adjoints, in output space and projected.
func (ws *workspace[F]) injectReadout(wo []F, n int) {
	net := ws.net
	O := net.outputs
	switch net.readout {
	case ReadoutMax:
		// ws.injOrder lists the classes by decreasing argmax step; the
		// backward pass meets their steps in that order.
		for ws.injNext < len(ws.injOrder) && ws.accStep[ws.injOrder[ws.injNext]] == n {
			k := ws.injOrder[ws.injNext]
			ws.injNext++
			d := ws.dLogits[k]
			ws.guo[k] += d
			col := wo[k:]
			for j := range ws.pu {
				ws.pu[j] += col[j*O] * d
			}
		}
	case ReadoutMean:
		inv := 1 / F(net.steps)
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

// layerGradients starts taking hidden layer l from step n+1 to step n: it
// adds the weight gradients of step n, which read gI[n+1], and computes the
// surrogate h of step n.
func (ws *workspace[F]) layerGradients(grad []F, l, n int) {
	net := ws.net
	ls := &ws.layers[l]
	H := len(ls.u)
	gi := ls.gi[:H]

	// ∂L/∂W_l += gI[n+1] ⊗ S_prev[n].
	gw := layerW(net, grad, l)
	if l == 0 {
		for units := ws.units[ws.evStart[n]:ws.evStart[n+1]]; len(units) > 0; {
			var idx []int32
			idx, units = ws.eventChunk(units)
			addOuter(gw, H, idx, ones[F]()[:len(idx)], gi)
		}
	} else {
		idx, val := ws.layers[l-1].spikes(n)
		addOuter(gw, H, idx, val, gi)
	}
	if net.recurrent {
		// ∂L/∂V_l += gI[n+1] ⊗ S[n].
		idx, val := ls.spikes(n)
		addOuter(layerV(net, grad, l), H, idx, val, gi)
	}
	ws.surrogateRow(ls.h[:H], ws.uRow(l, n))
	if n > 0 && n <= ws.silentFrom {
		prefetchRow(ls.uTape[(n-1)*H : n*H]) // the next step's U
	}
}

// dense reports whether gS of layer l needs more than the regularizer and
// the readout: a layer above, recurrent gradients or a differentiable reset.
func (net *network) dense(l int) bool {
	return l < len(net.hidden)-1 || net.propagateRec || net.diffReset
}

// denseGradients computes gS[n] of layer l for every sample of the group:
//
//	gS = ∂L_reg/∂ζ + W_next^T·gI_next[n+1] + V^T·gI[n+1] − gU[n+1]·pre[n]
//
// (the last layer's readout term is added by backwardTop). The products read
// the transposed weights pt (see network.transpose), each row once for the
// whole group.
func denseGradients[F float](group []*workspace[F], pt []F, l, n int) {
	net := group[0].net
	H := net.hidden[l]
	var dst, x [groupMax][]F // slots past the group stay nil: gemvT ignores them
	for s, ws := range group {
		ls := &ws.layers[l]
		dst[s] = ls.gs[:H]
		copy(dst[s], ls.regGrad)
	}
	if o := net.tW[l]; o >= 0 {
		Hn := net.hidden[l+1]
		for s, ws := range group {
			x[s] = ws.layers[l+1].gi[:Hn]
		}
		gemvT(&dst, pt[o:o+Hn*H], &x, len(group))
	}
	if o := net.tV[l]; o >= 0 {
		for s, ws := range group {
			x[s] = ws.layers[l].gi[:H]
		}
		gemvT(&dst, pt[o:o+H*H], &x, len(group))
	}
	if net.diffReset {
		for _, ws := range group {
			ls := &ws.layers[l]
			gs, gu, pre := ls.gs[:H], ls.gu[:H], ls.pre[n*H:(n+1)*H]
			for j := range gs {
				gs[j] -= gu[j] * pre[j]
			}
		}
	}
}

// layerUpdate finishes taking layer l to step n: it applies the reset
// factor (1 − S[n]) to the paths through U[n+1] and updates gU and gI.
func (ws *workspace[F]) layerUpdate(l, n int) {
	net := ws.net
	ls := &ws.layers[l]
	H := len(ls.u)
	gu, gi, h := ls.gu[:H], ls.gi[:H], ls.h[:H]
	gs := ls.regGrad[:H]
	if net.dense(l) {
		gs = ls.gs[:H]
	}
	idx, _ := ls.spikes(n)
	rst := ls.spikeRst[ls.spikeOff[n]:ls.spikeOff[n+1]]
	for k, j := range idx {
		gu[j] *= 1 - rst[k]
	}
	if l == len(ws.layers)-1 {
		backwardTop(gu, gi, h, gs, ws.pi, ws.pu, F(net.lamMem), F(net.lamSyn), F(net.lamOut))
	} else {
		backwardInner(gu, gi, h, gs, F(net.lamMem), F(net.lamSyn))
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
func (ws *workspace[F]) quietTail() int {
	net := ws.net
	T := net.steps
	if len(ws.layers) != 1 || net.recurrent || net.diffReset || net.smooth || net.readout != ReadoutMax || net.noShortcuts {
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
func (ws *workspace[F]) backwardQuiet(grad []F, n int) {
	net := ws.net
	ls := &ws.layers[0]
	H := len(ls.u)
	lm, lsyn := F(net.lamMem), F(net.lamSyn)
	cm := 1 - lm
	gw := layerW(net, grad, 0)
	for _, unit := range ws.units[ws.evStart[n]:ws.evStart[n+1]] {
		row := gw[int(unit)*H : int(unit+1)*H]
		for _, j := range ls.regIdx {
			row[j] += ls.gi[j]
		}
	}
	// The surrogate of the neurons in regIdx, gathered into a row for
	// the layer's kernel (which gives the scalar surrogate's bits).
	u, h := ws.quietU[:len(ls.regIdx)], ws.quietH[:len(ls.regIdx)]
	for k, j := range ls.regIdx {
		u[k] = ws.uAt(n, int(j))
	}
	ws.surrogateRow(h, u)
	for k, j := range ls.regIdx {
		g := ls.gu[j]
		if n < ws.silentFrom && u[k] > F(net.threshold) {
			g *= 0 // the reset factor 1 − S[n], as in the full step
		}
		ls.gu[j] = lm*g + h[k]*ls.regGrad[j]
		ls.gi[j] = cm*g + lsyn*ls.gi[j]
	}
}

// surrogateRow writes h(U − ϑ) of a layer's row u to dst: the network's
// surrogate kernel, which computes in float64. A float32 row goes
// through float64 and back (exactly, then rounded to nearest), so a
// float32 surrogate is the float64 one rounded, whichever kernel ran.
func (ws *workspace[F]) surrogateRow(dst, u []F) {
	net := ws.net
	if !is32[F]() {
		net.kernel(as64(dst), as64(u), net.threshold, net.beta)
		return
	}
	u64, h64 := ws.u64[:len(u)], ws.h64[:len(dst)]
	widen(u64, as32(u))
	net.kernel(h64, u64, net.threshold, net.beta)
	narrow(as32(dst), h64)
}

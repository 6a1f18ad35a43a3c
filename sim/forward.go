package sim

import (
	"math"
	"unsafe"
)

// forward runs one sample through the network with parameters p (docs/model.md,
// "Hidden layers" and "Readout"), leaving the logits in ws.logits and the
// spike counts in each layer's count. With tape set it also records what
// backward needs; evaluation leaves it unset.
//
// Per step n, layer by layer from the input side:
//
//	S[n]   = Θ(U[n] − ϑ)
//	U[n+1] = (λ_mem·U[n] + (1 − λ_mem)·I[n])·(1 − S[n])
//	I[n+1] = λ_syn·I[n] + W·S_prev[n] + V·S[n]
//
// then the readout records U_out[n] and advances. Input events and spikes
// are added as rows of W, V and W_out: the cost of the synaptic input is
// proportional to the number of spikes, not to the layer sizes.
func (ws *workspace[F]) forward(p []F, times, units []uint16, tape bool) {
	net := ws.net
	T := net.steps
	lm, lsyn, lo := F(net.lamMem), F(net.lamSyn), F(net.lamOut)
	co := 1 - lo
	theta := F(net.threshold)

	// Index the input events by step.
	ws.units = units
	e := 0
	for n := 0; n <= T; n++ {
		for e < len(times) && int(times[e]) < n {
			e++
		}
		ws.evStart[n] = int32(e)
	}
	for l := range ws.layers {
		ls := &ws.layers[l]
		clear(ls.u)
		clear(ls.i)
		clear(ls.count)
		ls.spikeOff[0] = 0
	}
	clear(ws.uo)
	clear(ws.io)

	last := len(ws.layers) - 1
	ws.silentFrom = T
	canSilence := net.canSilence()
	lastEvent := -1
	if len(times) > 0 {
		lastEvent = int(times[len(times)-1])
	}
	for n := range T {
		if canSilence && n > lastEvent && ws.silentFrom == T && silent(&ws.layers[0], theta) {
			// No more input and every U, I ≤ ϑ: U stays a convex
			// combination of values ≤ ϑ, so the layer never spikes again.
			// Only the readout is left to run.
			ls := &ws.layers[0]
			ws.silentFrom = n
			copy(ws.uSilent, ls.u)
			copy(ws.iSilent, ls.i)
		}
		if ws.silentFrom <= n {
			ws.layers[0].spikeOff[n+1] = ws.layers[0].spikeOff[n]
			ws.record(n)
			ws.decayReadout(lo, co, lsyn)
			continue
		}
		for l := range ws.layers {
			ls := &ws.layers[l]
			H := len(ls.u)
			u, cur, count := ls.u, ls.i[:H], ls.count[:H]
			if tape {
				copy(ls.uTape[n*H:(n+1)*H], u)
				if net.diffReset {
					pre := ls.pre[n*H : (n+1)*H]
					for j := range pre {
						pre[j] = lm*u[j] + (1-lm)*cur[j]
					}
				}
			}
			ns := ls.spikeOff[n]
			if net.smooth {
				ns = ws.smoothStep(ls, ns)
			} else {
				k := lifStep(u, cur, lm, lsyn, theta, ls.spikeIdx[ns:])
				for _, j := range ls.spikeIdx[ns : ns+int32(k)] {
					ls.spikeVal[ns], ls.spikeRst[ns] = 1, 1
					count[j]++
					ns++
				}
			}
			ls.spikeOff[n+1] = ns

			// Synaptic input of step n: I[n+1] += W·S_prev[n] + V·S[n].
			w := layerW(net, p, l)
			if l == 0 {
				ws.addEvents(cur, w, units[ws.evStart[n]:ws.evStart[n+1]])
			} else {
				idx, val := ws.layers[l-1].spikes(n)
				addRows(cur, w, H, idx, val)
			}
			if net.recurrent {
				idx, val := ls.spikes(n)
				addRows(cur, layerV(net, p, l), H, idx, val)
			}
		}

		// Readout: record U_out[n], then advance to n+1.
		ws.record(n)
		ws.decayReadout(lo, co, lsyn)
		wo := readoutW(net, p)
		O := len(ws.io)
		idx, val := ws.layers[last].spikes(n)
		addRows(ws.io, wo, O, idx, val)
	}
	ws.finishLogits()
}

// addEvents adds the rows of w (the input weights W_1) of the input units
// to cur, in order: the synaptic input of one step's input events.
func (ws *workspace[F]) addEvents(cur, w []F, units []uint16) {
	for len(units) > 0 {
		var idx []int32
		idx, units = ws.eventChunk(units)
		addRows(cur, w, len(cur), idx, ones[F]()[:len(idx)])
	}
}

// eventChunk returns the first evChunk (or fewer) of units as indices for
// addRows and addOuter (in ws.evIdx, valid until the next call), and the
// rest.
func (ws *workspace[F]) eventChunk(units []uint16) (idx []int32, rest []uint16) {
	idx = ws.evIdx[:min(len(units), len(ws.evIdx))]
	for k, u := range units[:len(idx)] {
		idx[k] = int32(u)
	}
	return idx, units[len(idx):]
}

// ones returns evChunk spike values of input events, 1, for addEvents.
func ones[F float]() []F {
	if is32[F]() {
		return unsafe.Slice((*F)(unsafe.Pointer(&ones32)), evChunk)
	}
	return unsafe.Slice((*F)(unsafe.Pointer(&ones64)), evChunk)
}

var (
	ones64 = fill([evChunk]float64{}, 1)
	ones32 = fill([evChunk]float32{}, 1)
)

// fill returns a with every element set to v.
func fill[A ~[evChunk]E, E any](a A, v E) A {
	for i := range a {
		a[i] = v
	}
	return a
}

// decayReadout advances the readout from n to n+1 but for the input of
// step n: U_out ← λ_out·U_out + co·I_out (co = 1 − λ_out), I_out ← λ_syn·I_out.
func (ws *workspace[F]) decayReadout(lo, co, lsyn F) {
	uo, io := ws.uo, ws.io[:len(ws.uo)]
	for k := range uo {
		uo[k] = lo*uo[k] + co*io[k]
		io[k] *= lsyn
	}
}

// canSilence reports whether forward may stop simulating the hidden layer
// once it is provably silent (see workspace.silentFrom): one feed-forward
// layer with a detached reset, outside the smooth test mode.
func (net *network) canSilence() bool {
	return len(net.hidden) == 1 && !net.recurrent && !net.diffReset && !net.smooth && !net.noShortcuts
}

// silent reports whether every neuron of ls has U ≤ ϑ and I ≤ ϑ.
func silent[F float](ls *layerState[F], theta F) bool {
	for j, u := range ls.u {
		if u > theta || ls.i[j] > theta {
			return false
		}
	}
	return true
}

// smoothStep is the neuron update of the smooth test mode (see
// smoothSpike): every neuron sends σ(β·x). It returns the new end of the
// spike list.
func (ws *workspace[F]) smoothStep(ls *layerState[F], ns int32) int32 {
	net := ws.net
	lm, lsyn := F(net.lamMem), F(net.lamSyn)
	for j := range ls.u {
		x := ls.u[j] - F(net.threshold)
		pj := lm*ls.u[j] + (1-lm)*ls.i[j]
		s := F(smoothSpike(float64(x), net.beta))
		r := s
		if !net.diffReset {
			r = 0
			if x > 0 {
				r = 1
			}
		}
		ls.spikeIdx[ns], ls.spikeVal[ns], ls.spikeRst[ns] = int32(j), s, r
		ns++
		ls.count[j] += s
		ls.u[j] = pj * (1 - r)
		ls.i[j] *= lsyn
	}
	return ns
}

// record folds U_out[n] into the logit accumulators.
func (ws *workspace[F]) record(n int) {
	uo, acc := ws.uo, ws.acc[:len(ws.uo)]
	switch ws.net.readout {
	case ReadoutMax:
		step := ws.accStep[:len(uo)]
		for k, u := range uo {
			// A NaN is kept, as by the mean and last readouts: it must
			// reach the loss and end the run as diverged.
			if n == 0 || u > acc[k] || isNaN(u) && !isNaN(acc[k]) {
				acc[k], step[k] = u, n
			}
		}
	case ReadoutMean:
		if n == 0 {
			clear(acc)
		}
		for k, u := range uo {
			acc[k] += u
		}
	case ReadoutLast:
		copy(acc, uo)
	}
}

// finishLogits turns the accumulators into the logits a_k.
func (ws *workspace[F]) finishLogits() {
	copy(ws.logits, ws.acc)
	if ws.net.readout == ReadoutMean {
		inv := 1 / F(ws.net.steps)
		for k := range ws.logits {
			ws.logits[k] *= inv
		}
	}
}

// predict returns argmax_k a_k (the first on ties).
func (ws *workspace[F]) predict() int {
	best := 0
	for k, a := range ws.logits {
		if a > ws.logits[best] {
			best = k
		}
	}
	return best
}

// smoothSpike is the smooth test mode's spike: σ(β·x). It is what the
// neuron sends on; the reset factor is 1 − σ(β·x) with a differentiable
// reset, but 1 − Θ(x) with a detached one: a step is locally constant, so
// its true derivative is the detached reset's 0, and finite differences
// check the detached backward pass too.
func smoothSpike(x, beta float64) float64 {
	return 1 / (1 + math.Exp(-beta*x))
}

// smoothSurrogate is dS/dx of smoothSpike, the smooth mode's h(x).
func smoothSurrogate(x, beta float64) float64 {
	s := smoothSpike(x, beta)
	return beta * s * (1 - s)
}

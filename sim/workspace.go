package sim

import "slices"

// workspace holds everything one goroutine needs to run one sample forward
// and backward: the state of every layer, the tape the backward pass reads
// and the adjoints. It is allocated once per worker; running a sample
// allocates nothing.
//
// The tape is compact: per layer and step, the list of neurons that spiked
// (with their spike value, 1 except in the smooth test mode) and the
// membrane potential U[n] of every neuron, from which the backward pass
// computes the surrogate h(U − ϑ) where it needs it; with a differentiable
// reset also the pre-reset membrane value.
type workspace[F float] struct {
	net    *network
	layers []layerState[F]

	// Readout state U_out, I_out (one per class) and the logit
	// accumulators: the running max and its step (max), the running sum
	// (mean) or the last value (last).
	uo, io   []F
	acc      []F
	accStep  []int
	logits   []F
	dLogits  []F // ∂L/∂a_k of the current sample
	guo, gio []F // readout adjoints ∂L/∂U_out[n+1], ∂L/∂I_out[n+1]
	// pu, pi are the readout adjoints projected onto the last hidden layer,
	// Σ_k W_out[j,k]·gUo_k and Σ_k W_out[j,k]·gIo_k: the readout's backward
	// then costs O(H) per step instead of O(H·O).
	pu, pi   []F
	inject   []F            // mean readout: Σ_k W_out[j,k]·∂L/∂a_k / T
	injOrder []int          // max readout: classes by decreasing argmax step
	injNext  int            // next entry of injOrder to inject
	evStart  []int32        // first input event of each step, T+1 entries
	evIdx    [evChunk]int32 // input units of a step's events, evChunk at a time (see addEvents)
	units    []uint16       // the input units of the sample's events (aliases the dataset)
	// silentFrom is the first step from which the hidden layer provably
	// never spikes again (T if not known): forward stops simulating it
	// there, and U[n] for later steps comes from the closed form (see
	// network.decayU) applied to uSilent, iSilent = U, I at silentFrom.
	silentFrom       int
	uSilent, iSilent []F
	uRowBuf          []F
	quietU, quietH   []F             // U and h of the neurons backwardQuiet updates
	pt               []F             // transposed weights, for backward called on ws alone (allocated there)
	one              []*workspace[F] // {ws}: a group of one
	// u64, h64 are float64 rows for the surrogate of a float32
	// workspace (see surrogateRow); nil for float64.
	u64, h64 []float64
}

// layerState is one hidden layer's part of a workspace. Vectors have the
// layer's width H; tapes hold T·H values, step-major.
type layerState[F float] struct {
	u, i     []F     // U[n], I[n]
	uTape    []F     // tape: U[n]
	h        []F     // h(U[n] − ϑ) of the step being backpropagated
	pre      []F     // tape: λ_mem·U[n] + (1 − λ_mem)·I[n], differentiable reset only
	spikeOff []int32 // spikes of step n are spikeIdx[spikeOff[n]:spikeOff[n+1]]
	spikeIdx []int32
	spikeVal []F     // what the spike sends: 1 (σ(β·x) in the smooth test mode)
	spikeRst []F     // what the reset factor 1 − r takes: 1 (smooth mode: see smoothSpike)
	count    []F     // ζ: spike count of each neuron on the current sample
	regGrad  []F     // ∂L/∂ζ of each neuron on the current sample
	gu, gi   []F     // ∂L/∂U[n+1], ∂L/∂I[n+1]
	gs       []F     // ∂L/∂S[n]
	regIdx   []int32 // neurons with regGrad ≠ 0 on the current sample
}

// evChunk is the number of input events addEvents hands addRows at once.
const evChunk = 32

func newWorkspace[F float](net *network) *workspace[F] {
	ws := &workspace[F]{net: net}
	T := net.steps
	for _, H := range net.hidden {
		ls := layerState[F]{
			u:        make([]F, H),
			i:        make([]F, H),
			uTape:    make([]F, T*H),
			h:        make([]F, H),
			spikeOff: make([]int32, T+1),
			spikeIdx: make([]int32, T*H),
			spikeVal: make([]F, T*H),
			spikeRst: make([]F, T*H),
			count:    make([]F, H),
			regGrad:  make([]F, H),
			gu:       make([]F, H),
			gi:       make([]F, H),
			gs:       make([]F, H),
			regIdx:   make([]int32, 0, H),
		}
		if net.diffReset {
			ls.pre = make([]F, T*H)
		}
		ws.layers = append(ws.layers, ls)
	}
	O := net.outputs
	HL := net.hidden[len(net.hidden)-1]
	ws.uo = make([]F, O)
	ws.io = make([]F, O)
	ws.acc = make([]F, O)
	ws.accStep = make([]int, O)
	ws.logits = make([]F, O)
	ws.dLogits = make([]F, O)
	ws.guo = make([]F, O)
	ws.gio = make([]F, O)
	ws.pu = make([]F, HL)
	ws.pi = make([]F, HL)
	ws.inject = make([]F, HL)
	ws.injOrder = make([]int, O)
	ws.evStart = make([]int32, T+1)
	ws.uSilent = make([]F, net.hidden[0])
	ws.iSilent = make([]F, net.hidden[0])
	ws.uRowBuf = make([]F, net.hidden[0])
	ws.quietU = make([]F, net.hidden[0])
	ws.quietH = make([]F, net.hidden[0])
	ws.one = []*workspace[F]{ws}
	if is32[F]() {
		widest := slices.Max(net.hidden)
		ws.u64, ws.h64 = make([]float64, widest), make([]float64, widest)
	}
	return ws
}

// spikes returns the neurons of layer l that spiked at step n and their
// spike values.
func (ls *layerState[F]) spikes(n int) ([]int32, []F) {
	lo, hi := ls.spikeOff[n], ls.spikeOff[n+1]
	return ls.spikeIdx[lo:hi], ls.spikeVal[lo:hi]
}

// uRow returns U[n] of layer l: from the tape, or, in the silent stretch
// (n ≥ silentFrom, one layer only), from the closed form into a buffer.
func (ws *workspace[F]) uRow(l, n int) []F {
	ls := &ws.layers[l]
	H := len(ls.u)
	if n < ws.silentFrom {
		return ls.uTape[n*H : (n+1)*H]
	}
	m := n - ws.silentFrom
	// row = a·uSilent + b·iSilent, as uAt computes it (IEEE addition
	// commutes), two vector passes instead of a scalar loop.
	row := ws.uRowBuf[:H]
	clear(row)
	addRow(row, ws.iSilent[:H], F(ws.net.decayI[m]))
	addRow(row, ws.uSilent[:H], F(ws.net.decayU[m]))
	return row
}

// uAt returns U[n] of neuron j of the only layer (see uRow).
func (ws *workspace[F]) uAt(n, j int) F {
	if n < ws.silentFrom {
		H := len(ws.layers[0].u)
		return ws.layers[0].uTape[n*H+j]
	}
	m := n - ws.silentFrom
	return F(ws.net.decayU[m])*ws.uSilent[j] + F(ws.net.decayI[m])*ws.iSilent[j]
}

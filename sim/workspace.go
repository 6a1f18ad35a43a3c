package sim

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
type workspace struct {
	net    *network
	layers []layerState

	// Readout state U_out, I_out (one per class) and the logit
	// accumulators: the running max and its step (max), the running sum
	// (mean) or the last value (last).
	uo, io   []float64
	acc      []float64
	accStep  []int
	logits   []float64
	dLogits  []float64 // ∂L/∂a_k of the current sample
	guo, gio []float64 // readout adjoints ∂L/∂U_out[n+1], ∂L/∂I_out[n+1]
	// pu, pi are the readout adjoints projected onto the last hidden layer,
	// Σ_k W_out[j,k]·gUo_k and Σ_k W_out[j,k]·gIo_k: the readout's backward
	// then costs O(H) per step instead of O(H·O).
	pu, pi   []float64
	inject   []float64      // mean readout: Σ_k W_out[j,k]·∂L/∂a_k / T
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
	uSilent, iSilent []float64
	uRowBuf          []float64
	pt               []float64    // transposed weights, for backward called on ws alone (allocated there)
	one              []*workspace // {ws}: a group of one
}

// layerState is one hidden layer's part of a workspace. Vectors have the
// layer's width H; tapes hold T·H values, step-major.
type layerState struct {
	u, i     []float64 // U[n], I[n]
	uTape    []float64 // tape: U[n]
	h        []float64 // h(U[n] − ϑ) of the step being backpropagated
	pre      []float64 // tape: λ_mem·U[n] + (1 − λ_mem)·I[n], differentiable reset only
	spikeOff []int32   // spikes of step n are spikeIdx[spikeOff[n]:spikeOff[n+1]]
	spikeIdx []int32
	spikeVal []float64 // what the spike sends: 1 (σ(β·x) in the smooth test mode)
	spikeRst []float64 // what the reset factor 1 − r takes: 1 (smooth mode: see smoothSpike)
	count    []float64 // ζ: spike count of each neuron on the current sample
	regGrad  []float64 // ∂L/∂ζ of each neuron on the current sample
	gu, gi   []float64 // ∂L/∂U[n+1], ∂L/∂I[n+1]
	gs       []float64 // ∂L/∂S[n]
	regIdx   []int32   // neurons with regGrad ≠ 0 on the current sample
}

// evChunk is the number of input events addEvents hands addRows at once.
const evChunk = 32

func newWorkspace(net *network) *workspace {
	ws := &workspace{net: net}
	T := net.steps
	for _, H := range net.hidden {
		ls := layerState{
			u:        make([]float64, H),
			i:        make([]float64, H),
			uTape:    make([]float64, T*H),
			h:        make([]float64, H),
			spikeOff: make([]int32, T+1),
			spikeIdx: make([]int32, T*H),
			spikeVal: make([]float64, T*H),
			spikeRst: make([]float64, T*H),
			count:    make([]float64, H),
			regGrad:  make([]float64, H),
			gu:       make([]float64, H),
			gi:       make([]float64, H),
			gs:       make([]float64, H),
			regIdx:   make([]int32, 0, H),
		}
		if net.diffReset {
			ls.pre = make([]float64, T*H)
		}
		ws.layers = append(ws.layers, ls)
	}
	O := net.outputs
	HL := net.hidden[len(net.hidden)-1]
	ws.uo = make([]float64, O)
	ws.io = make([]float64, O)
	ws.acc = make([]float64, O)
	ws.accStep = make([]int, O)
	ws.logits = make([]float64, O)
	ws.dLogits = make([]float64, O)
	ws.guo = make([]float64, O)
	ws.gio = make([]float64, O)
	ws.pu = make([]float64, HL)
	ws.pi = make([]float64, HL)
	ws.inject = make([]float64, HL)
	ws.injOrder = make([]int, O)
	ws.evStart = make([]int32, T+1)
	ws.uSilent = make([]float64, net.hidden[0])
	ws.iSilent = make([]float64, net.hidden[0])
	ws.uRowBuf = make([]float64, net.hidden[0])
	ws.one = []*workspace{ws}
	return ws
}

// spikes returns the neurons of layer l that spiked at step n and their
// spike values.
func (ls *layerState) spikes(n int) ([]int32, []float64) {
	lo, hi := ls.spikeOff[n], ls.spikeOff[n+1]
	return ls.spikeIdx[lo:hi], ls.spikeVal[lo:hi]
}

// uRow returns U[n] of layer l: from the tape, or, in the silent stretch
// (n ≥ silentFrom, one layer only), from the closed form into a buffer.
func (ws *workspace) uRow(l, n int) []float64 {
	ls := &ws.layers[l]
	H := len(ls.u)
	if n < ws.silentFrom {
		return ls.uTape[n*H : (n+1)*H]
	}
	m := n - ws.silentFrom
	a, b := ws.net.decayU[m], ws.net.decayI[m]
	row := ws.uRowBuf[:H]
	for j := range row {
		row[j] = a*ws.uSilent[j] + b*ws.iSilent[j]
	}
	return row
}

// uAt returns U[n] of neuron j of the only layer (see uRow).
func (ws *workspace) uAt(n, j int) float64 {
	if n < ws.silentFrom {
		H := len(ws.layers[0].u)
		return ws.layers[0].uTape[n*H+j]
	}
	m := n - ws.silentFrom
	return ws.net.decayU[m]*ws.uSilent[j] + ws.net.decayI[m]*ws.iSilent[j]
}

package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// network is the fixed structure of one model: layer sizes, the constants
// derived from a Config, and where each weight matrix lives in the flat
// parameter vector. It holds no weights and no state; those live in a
// []float64 laid out by it (parameters, gradients, Adam moments) and in
// workspaces.
//
// Weight matrices are stored row-major with the presynaptic index as row,
// so that a spike of presynaptic unit j adds one contiguous row to the
// postsynaptic currents:
//
//	W_l   [in_l × H_l]   in_1 = inputs, in_l = H_{l−1}
//	V_l   [H_l × H_l]    only when recurrent
//	W_out [H_L × O]
type network struct {
	inputs  int   // input units
	hidden  []int // width of each hidden layer
	outputs int   // readout units (classes)
	steps   int   // T

	lamMem, lamSyn, lamOut float64 // per-step decay factors exp(−Δt/τ)
	threshold              float64 // ϑ

	recurrent    bool
	propagateRec bool // gradients flow through V·S (recurrent_grad: propagate)
	diffReset    bool // reset: differentiable
	readout      string
	surrogate    SurrogateFunc
	kernel       surrogateKernel // the surrogate over a layer
	beta         float64         // surrogate scale β
	smooth       bool            // test hook: S = σ(β·x) forward, h = dS/dx backward
	noShortcuts  bool            // test hook: no silent forward, no quiet tail (see silentFrom, quietTail)
	lower        LowerBound
	upper        UpperBound
	nParams      int
	wOff, vOff   []int // offsets of W_l and V_l in the parameter vector (vOff −1 without recurrence)
	outOff       int   // offset of W_out
	layerInputs  []int // in_l

	// The dense backward products read transposed copies of W_{l+1} and
	// V_l (see transpose): tW[l] and tV[l] are their offsets in that
	// vector, −1 where the product is not needed; nT is its length.
	tW, tV []int
	nT     int

	// decayU, decayI give U[n0+m] = decayU[m]·U[n0] + decayI[m]·I[n0] for
	// a neuron that receives no input and does not spike after step n0
	// (see silentFrom); m in [0, T].
	decayU, decayI []float64
}

// newNetwork derives the structure from a validated Config and the
// dataset's sizes.
func newNetwork(cfg *Config, inputs, classes, steps int) *network {
	n := &network{
		inputs:       inputs,
		hidden:       append([]int(nil), cfg.Network.Hidden...),
		outputs:      classes,
		steps:        steps,
		lamMem:       math.Exp(-cfg.Neuron.DT / cfg.Neuron.TauMem),
		lamSyn:       math.Exp(-cfg.Neuron.DT / cfg.Neuron.TauSyn),
		lamOut:       math.Exp(-cfg.Neuron.DT / cfg.Neuron.TauOut),
		threshold:    cfg.Neuron.Threshold,
		recurrent:    cfg.Network.Recurrent,
		propagateRec: cfg.Network.Recurrent && cfg.Network.RecurrentGrad == RecurrentPropagate,
		diffReset:    cfg.Network.Reset == ResetDifferentiable,
		readout:      cfg.Network.Readout,
		surrogate:    Surrogates[cfg.Surrogate.Shape],
		kernel:       kernelFor(cfg.Surrogate.Shape, Surrogates[cfg.Surrogate.Shape]),
		beta:         cfg.Surrogate.Scale,
		lower:        cfg.Regularizer.Lower,
		upper:        cfg.Regularizer.Upper,
	}
	off := 0
	in := inputs
	for _, h := range n.hidden {
		n.layerInputs = append(n.layerInputs, in)
		n.wOff = append(n.wOff, off)
		off += in * h
		if n.recurrent {
			n.vOff = append(n.vOff, off)
			off += h * h
		} else {
			n.vOff = append(n.vOff, -1)
		}
		in = h
	}
	for l, h := range n.hidden {
		n.tW, n.tV = append(n.tW, -1), append(n.tV, -1)
		if l+1 < len(n.hidden) {
			n.tW[l] = n.nT
			n.nT += h * n.hidden[l+1]
		}
		if n.propagateRec {
			n.tV[l] = n.nT
			n.nT += h * h
		}
	}
	n.decayU = make([]float64, steps+1)
	n.decayI = make([]float64, steps+1)
	n.decayU[0] = 1
	for m, syn := 0, 1.0; m < steps; m++ {
		n.decayU[m+1] = n.lamMem * n.decayU[m]
		n.decayI[m+1] = n.lamMem*n.decayI[m] + (1-n.lamMem)*syn
		syn *= n.lamSyn
	}
	n.outOff = off
	off += in * classes
	n.nParams = off
	return n
}

// layers returns the number of hidden layers.
func (n *network) layers() int { return len(n.hidden) }

// layerW returns W_l, a view of p.
func layerW[F float](n *network, p []F, l int) []F {
	return p[n.wOff[l] : n.wOff[l]+n.layerInputs[l]*n.hidden[l]]
}

// layerV returns V_l, a view of p; nil without recurrence.
func layerV[F float](n *network, p []F, l int) []F {
	if !n.recurrent {
		return nil
	}
	return p[n.vOff[l] : n.vOff[l]+n.hidden[l]*n.hidden[l]]
}

// readoutW returns W_out, a view of p.
func readoutW[F float](n *network, p []F) []F {
	return p[n.outOff:n.nParams]
}

// transpose writes to pt the transposed copies of the matrices that the
// dense backward products read (see denseGradients): W_{l+1}^T, whose row i
// is the weights from every neuron of layer l to neuron i of layer l+1, and
// V_l^T. pt has length nT.
func transpose[F float](n *network, p, pt []F) {
	for l, h := range n.hidden {
		if o := n.tW[l]; o >= 0 {
			transposeInto(pt[o:o+h*n.hidden[l+1]], layerW(n, p, l+1), h, n.hidden[l+1])
		}
		if o := n.tV[l]; o >= 0 {
			transposeInto(pt[o:o+h*h], layerV(n, p, l), h, h)
		}
	}
}

// transposeInto writes the transpose of the rows × cols matrix m to dst.
func transposeInto[F float](dst, m []F, rows, cols int) {
	for r := range rows {
		for c, v := range m[r*cols : (r+1)*cols] {
			dst[c*rows+r] = v
		}
	}
}

// Random streams of the network seed: each purpose has its own stream so
// that, e.g., changing the number of epochs does not change the initial
// weights.
const (
	seedStreamInit    uint64 = 0x696e6974 // "init"
	seedStreamShuffle uint64 = 0x73687566 // "shuf"
)

// initParams draws the initial weights for cfg.Init from the network seed:
// W_l, then V_l, layer by layer, then W_out, each in storage order, from
// U(±g/√fan_in) or N(0, (g/√fan_in)²), in float64 (a float32 run
// starts from them rounded).
func (n *network) initParams(cfg *Config) []float64 {
	p := make([]float64, n.nParams)
	src := rand.NewPCG(cfg.Seed, seedStreamInit)
	fill := func(dst []float64, fanIn int, gain float64) {
		scale := gain / math.Sqrt(float64(fanIn))
		for i := range dst {
			if cfg.Init.Dist == InitNormal {
				dst[i] = scale * seedNormal(src)
			} else {
				dst[i] = scale * (2*dataUniform(src) - 1)
			}
		}
	}
	for l := range n.hidden {
		fill(layerW(n, p, l), n.layerInputs[l], cfg.Init.Gain)
		if n.recurrent {
			fill(layerV(n, p, l), n.hidden[l], cfg.Init.RecurrentGain)
		}
	}
	fill(readoutW(n, p), n.hidden[len(n.hidden)-1], cfg.Init.ReadoutGain)
	return p
}

// seedNormal returns a standard normal deviate (Box–Muller, cosine branch)
// from src's Uint64 outputs only (see dataUniform), so that a seed names the
// same weights on every Go version.
func seedNormal(src *rand.PCG) float64 {
	u1 := 1 - dataUniform(src) // (0, 1]
	u2 := dataUniform(src)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// checkDataset reports whether ds fits cfg: the sizes the network is built
// from must agree with the config.
func checkDataset(cfg *Config, ds *Dataset) error {
	if ds.Steps != cfg.Dataset.Steps {
		return fmt.Errorf("dataset has %d steps, config dataset.steps is %d", ds.Steps, cfg.Dataset.Steps)
	}
	if ds.Classes < 2 || ds.Classes > 256 {
		return fmt.Errorf("dataset has %d classes, want 2 to 256", ds.Classes)
	}
	if ds.Inputs < 1 {
		return fmt.Errorf("dataset has %d inputs", ds.Inputs)
	}
	if ds.Train.Len() == 0 {
		return fmt.Errorf("dataset has no training samples")
	}
	return nil
}

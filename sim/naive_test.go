package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// This file holds a deliberately naive second implementation of the
// network: every quantity of every step is a node of a scalar
// reverse-mode autodiff graph, weights are dense, nothing is sparse or
// fused, and gradients come from the graph, not from hand-derived
// equations. Detaching is a constant node; the spike is a node whose value
// is Θ(x) and whose local derivative is the surrogate h(x).

type autodiff struct {
	val     []float64
	parents [][]int
	local   [][]float64 // ∂node/∂parent
}

func (g *autodiff) node(v float64, parents []int, local []float64) int {
	g.val = append(g.val, v)
	g.parents = append(g.parents, parents)
	g.local = append(g.local, local)
	return len(g.val) - 1
}

func (g *autodiff) constant(v float64) int { return g.node(v, nil, nil) }
func (g *autodiff) add(a, b int) int {
	return g.node(g.val[a]+g.val[b], []int{a, b}, []float64{1, 1})
}
func (g *autodiff) mul(a, b int) int {
	return g.node(g.val[a]*g.val[b], []int{a, b}, []float64{g.val[b], g.val[a]})
}
func (g *autodiff) scale(a int, c float64) int {
	return g.node(c*g.val[a], []int{a}, []float64{c})
}
func (g *autodiff) exp(a int) int {
	e := math.Exp(g.val[a])
	return g.node(e, []int{a}, []float64{e})
}
func (g *autodiff) log(a int) int {
	return g.node(math.Log(g.val[a]), []int{a}, []float64{1 / g.val[a]})
}
func (g *autodiff) relu(a int) int {
	if g.val[a] > 0 {
		return g.node(g.val[a], []int{a}, []float64{1})
	}
	return g.node(0, []int{a}, []float64{0})
}

// detach returns a node with a's value and no gradient path.
func (g *autodiff) detach(a int) int { return g.constant(g.val[a]) }

// spike returns Θ(val[x]) with the surrogate h as its derivative.
func (g *autodiff) spike(x int, h SurrogateFunc, beta float64) int {
	v := 0.0
	if g.val[x] > 0 {
		v = 1
	}
	return g.node(v, []int{x}, []float64{h(g.val[x], beta)})
}

func (g *autodiff) sum(xs []int) int {
	acc := g.constant(0)
	for _, x := range xs {
		acc = g.add(acc, x)
	}
	return acc
}

// grad returns ∂out/∂node for every node.
func (g *autodiff) grad(out int) []float64 {
	d := make([]float64, len(g.val))
	d[out] = 1
	for n := out; n >= 0; n-- {
		for k, p := range g.parents[n] {
			d[p] += d[n] * g.local[n][k]
		}
	}
	return d
}

// naiveResult is what the naive implementation computes for a minibatch.
type naiveResult struct {
	loss   float64
	logits [][]float64 // per sample
	counts [][]float64 // per sample, all hidden neurons in layer order
	grad   []float64   // in the network's parameter layout
}

// naiveRun computes the mean loss of the samples of split and its gradient
// with the autodiff graph. The constants come from the Config directly.
func naiveRun(cfg *Config, inputs, classes int, p []float64, split *Split) naiveResult {
	T := cfg.Dataset.Steps
	lm := math.Exp(-cfg.Neuron.DT / cfg.Neuron.TauMem)
	ls := math.Exp(-cfg.Neuron.DT / cfg.Neuron.TauSyn)
	lo := math.Exp(-cfg.Neuron.DT / cfg.Neuron.TauOut)
	theta := cfg.Neuron.Threshold
	h, beta := Surrogates[cfg.Surrogate.Shape], cfg.Surrogate.Scale
	hidden := cfg.Network.Hidden
	L := len(hidden)

	g := &autodiff{}
	// Parameters as leaves, in the network's layout (W_l, V_l, …, W_out):
	// weight[j][i] from presynaptic j to postsynaptic i.
	leaves := make([]int, len(p))
	for i, v := range p {
		leaves[i] = g.constant(v)
	}
	type matrix struct{ off, rows, cols int }
	var W, V []matrix
	off, in := 0, inputs
	for _, H := range hidden {
		W = append(W, matrix{off, in, H})
		off += in * H
		if cfg.Network.Recurrent {
			V = append(V, matrix{off, H, H})
			off += H * H
		}
		in = H
	}
	Wout := matrix{off, in, classes}
	weight := func(m matrix, j, i int) int { return leaves[m.off+j*m.cols+i] }

	var res naiveResult
	var losses []int
	for k := range split.Len() {
		times, units := split.Events(k)
		x := make([][]float64, T) // dense input
		for n := range x {
			x[n] = make([]float64, inputs)
		}
		for e := range times {
			x[times[e]][units[e]] = 1
		}
		// State of each layer: U, I (nodes), spike history per neuron.
		U := make([][]int, L)
		I := make([][]int, L)
		spikes := make([][][]int, L) // [l][n][i]
		for l, H := range hidden {
			for range H {
				U[l] = append(U[l], g.constant(0))
				I[l] = append(I[l], g.constant(0))
			}
			spikes[l] = make([][]int, T)
		}
		uo := make([]int, classes)
		io := make([]int, classes)
		for c := range classes {
			uo[c], io[c] = g.constant(0), g.constant(0)
		}
		trace := make([][]int, classes) // U_out[n] for n in [0, T)

		for n := range T {
			for l, H := range hidden {
				S := make([]int, H)
				for i := range H {
					S[i] = g.spike(g.add(U[l][i], g.constant(-theta)), h, beta)
				}
				spikes[l][n] = S
				newU := make([]int, H)
				newI := make([]int, H)
				for i := range H {
					pre := g.add(g.scale(U[l][i], lm), g.scale(I[l][i], 1-lm))
					r := S[i]
					if cfg.Network.Reset == ResetDetached {
						r = g.detach(r)
					}
					newU[i] = g.mul(pre, g.add(g.constant(1), g.scale(r, -1)))
					terms := []int{g.scale(I[l][i], ls)}
					if l == 0 {
						for j := range inputs {
							terms = append(terms, g.mul(weight(W[0], j, i), g.constant(x[n][j])))
						}
					} else {
						for j := range hidden[l-1] {
							terms = append(terms, g.mul(weight(W[l], j, i), spikes[l-1][n][j]))
						}
					}
					if cfg.Network.Recurrent {
						for j := range H {
							s := S[j]
							if cfg.Network.RecurrentGrad == RecurrentDetached {
								s = g.detach(s)
							}
							terms = append(terms, g.mul(weight(V[l], j, i), s))
						}
					}
					newI[i] = g.sum(terms)
				}
				U[l], I[l] = newU, newI
			}
			for c := range classes {
				trace[c] = append(trace[c], uo[c])
			}
			newUo := make([]int, classes)
			newIo := make([]int, classes)
			for c := range classes {
				newUo[c] = g.add(g.scale(uo[c], lo), g.scale(io[c], 1-lo))
				terms := []int{g.scale(io[c], ls)}
				for j := range hidden[L-1] {
					terms = append(terms, g.mul(weight(Wout, j, c), spikes[L-1][n][j]))
				}
				newIo[c] = g.sum(terms)
			}
			uo, io = newUo, newIo
		}

		// Logits, cross-entropy.
		logits := make([]int, classes)
		for c := range classes {
			switch cfg.Network.Readout {
			case ReadoutMax:
				best := trace[c][0]
				for _, u := range trace[c] {
					if g.val[u] > g.val[best] {
						best = u
					}
				}
				logits[c] = best
			case ReadoutMean:
				logits[c] = g.scale(g.sum(trace[c]), 1/float64(T))
			case ReadoutLast:
				logits[c] = trace[c][T-1]
			}
		}
		var exps []int
		for _, a := range logits {
			exps = append(exps, g.exp(a))
		}
		ce := g.add(g.log(g.sum(exps)), g.scale(logits[split.Labels[k]], -1))
		total := []int{ce}
		var vals, counts []float64
		for _, a := range logits {
			vals = append(vals, g.val[a])
		}
		// Regularizers on the spike counts.
		for l, H := range hidden {
			zeta := make([]int, H)
			for i := range H {
				var s []int
				for n := range T {
					s = append(s, spikes[l][n][i])
				}
				zeta[i] = g.sum(s)
				counts = append(counts, g.val[zeta[i]])
			}
			if lb := cfg.Regularizer.Lower; lb.Strength > 0 {
				var sq []int
				for _, z := range zeta {
					d := g.relu(g.add(g.constant(lb.Threshold), g.scale(z, -1)))
					sq = append(sq, g.mul(d, d))
				}
				total = append(total, g.scale(g.sum(sq), lb.Strength/float64(H)))
			}
			if ub := cfg.Regularizer.Upper; ub.Strength > 0 {
				d := g.relu(g.add(g.scale(g.sum(zeta), 1/float64(H)), g.constant(-ub.Threshold)))
				if ub.Power == 2 {
					d = g.mul(d, d)
				}
				total = append(total, g.scale(d, ub.Strength))
			}
		}
		losses = append(losses, g.sum(total))
		res.logits = append(res.logits, vals)
		res.counts = append(res.counts, counts)
	}
	loss := g.scale(g.sum(losses), 1/float64(split.Len()))
	res.loss = g.val[loss]
	d := g.grad(loss)
	for _, leaf := range leaves {
		res.grad = append(res.grad, d[leaf])
	}
	return res
}

// TestNaiveImplementation compares forward values (logits, spike counts,
// loss) and gradients of a tiny spiking network with the naive
// implementation above, for every treatment of reset and recurrence
// (including the detached ones, which finite differences cannot check),
// every readout and several surrogates.
func TestNaiveImplementation(t *testing.T) {
	tests := []struct {
		hidden    []int
		reset     string
		recurrent string // "" for feed-forward
		readout   string
		shape     string
	}{
		{[]int{4}, ResetDetached, "", ReadoutMax, "superspike"},
		{[]int{4}, ResetDetached, "", ReadoutMean, "sigmoid"},
		{[]int{4}, ResetDetached, "", ReadoutLast, "esser"},
		{[]int{4, 3}, ResetDetached, "", ReadoutMax, "superspike"},
		{[]int{4}, ResetDetached, RecurrentDetached, ReadoutMax, "superspike"},
		{[]int{4, 3}, ResetDetached, RecurrentDetached, ReadoutMean, "atan"},
		{[]int{4}, ResetDetached, RecurrentPropagate, ReadoutMax, "gaussian"},
		{[]int{4, 3}, ResetDifferentiable, "", ReadoutMax, "superspike_asymptotic"},
		{[]int{4, 3}, ResetDifferentiable, RecurrentPropagate, ReadoutMean, "exponential"},
		{[]int{4, 3}, ResetDifferentiable, RecurrentDetached, ReadoutLast, "superspike"},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%v %s rec=%s %s %s", tt.hidden, tt.reset, tt.recurrent, tt.readout, tt.shape)
		t.Run(name, func(t *testing.T) {
			cfg := tinyConfig(tt.hidden...)
			cfg.Dataset.Steps = 16
			cfg.Network.Reset = tt.reset
			cfg.Network.Recurrent = tt.recurrent != ""
			if tt.recurrent != "" {
				cfg.Network.RecurrentGrad = tt.recurrent
			}
			cfg.Network.Readout = tt.readout
			cfg.Surrogate = SurrogateConfig{Shape: tt.shape, Scale: 2}
			cfg.Init.Gain, cfg.Init.RecurrentGain, cfg.Init.ReadoutGain = 12, 3, 2
			cfg.Regularizer.Lower = LowerBound{Strength: 0.5, Threshold: 2}
			cfg.Regularizer.Upper = UpperBound{Strength: 0.3, Threshold: 0.5, Power: 1 + len(tt.hidden)%2}
			mustValid(t, &cfg)
			const inputs, classes = 5, 3
			rng := rand.New(rand.NewPCG(3, 4))
			split := randomSplit(rng, 3, inputs, classes, cfg.Dataset.Steps, 0.3)
			net := newNetwork(&cfg, inputs, classes, cfg.Dataset.Steps)
			p := net.initParams(&cfg)

			want := naiveRun(&cfg, inputs, classes, p, &split)
			ws := newWorkspace[float64](net)
			grad := make([]float64, len(p))
			var loss float64
			var spikes, silentSteps float64
			layerSpikes := make([]float64, len(tt.hidden))
			for k := range split.Len() {
				times, units := split.Events(k)
				ws.forward(p, times, units, true)
				for c, a := range ws.logits {
					if !closeTo(a, want.logits[k][c], 1e-12) {
						t.Errorf("sample %d: logit %d = %v, naive %v", k, c, a, want.logits[k][c])
					}
				}
				var counts []float64
				for l := range ws.layers {
					counts = append(counts, ws.layers[l].count...)
					for _, c := range ws.layers[l].count {
						layerSpikes[l] += c
					}
				}
				for i, c := range counts {
					spikes += c
					if c == 0 {
						silentSteps++
					}
					if c != want.counts[k][i] {
						t.Errorf("sample %d: neuron %d spiked %v times, naive %v", k, i, c, want.counts[k][i])
					}
				}
				loss += ws.loss(int(split.Labels[k]), 1/float64(split.Len()))
				ws.backward(p, grad)
			}
			loss /= float64(split.Len())
			if spikes == 0 || silentSteps == 0 || slices.Contains(layerSpikes, 0) {
				t.Fatalf("%v spikes per layer, %v silent neurons: want some of each for a meaningful test", layerSpikes, silentSteps)
			}
			if !closeTo(loss, want.loss, 1e-12) {
				t.Errorf("loss = %v, naive %v", loss, want.loss)
			}
			gb, nb := paramBlocks(net, grad), paramBlocks(net, want.grad)
			for name, g := range gb {
				if norm(nb[name]) == 0 && tt.shape != "heaviside" {
					t.Errorf("%s: naive gradient is 0; the check would be vacuous", name)
				}
				if e := relErr(g, nb[name]); e > 1e-12 {
					t.Errorf("%s: relative error vs naive = %.3g\ngot   %v\nnaive %v", name, e, g, nb[name])
				}
			}
		})
	}
}

func closeTo(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*max(1, math.Abs(a), math.Abs(b))
}

package sim

import "testing"

// TestGradientSmooth checks the hand-derived BPTT against central finite
// differences. Finite differences need a smooth loss, so the network runs in
// the smooth test mode: the spike is S = σ(β·x) and the surrogate is its
// exact derivative, so BPTT computes the true gradient, which must match
// the finite differences of every weight matrix to a relative error below
// 1e-5. A detached reset multiplies by 1 − Θ(x) in that mode (see
// smoothSpike), whose true derivative is the detached 0, so it is checked
// too; a detached recurrent path is not a true gradient and is checked
// against the naive implementation instead (naive_test.go).
func TestGradientSmooth(t *testing.T) {
	for _, tt := range smoothCases {
		t.Run(tt.name, func(t *testing.T) {
			net, p, split := smoothCase(t, tt)
			_, grad := batchLossGrad(net, p, &split)
			fd := finiteDiffGrad(net, p, &split)
			gb, fb := paramBlocks(net, grad), paramBlocks(net, fd)
			for name, g := range gb {
				if norm(fb[name]) == 0 {
					t.Errorf("%s: finite-difference gradient is 0; the check would be vacuous", name)
					continue
				}
				if e := relErr(g, fb[name]); e > 1e-5 {
					t.Errorf("%s: relative error of BPTT vs finite differences = %.3g, want < 1e-5\nbptt %v\nfd   %v", name, e, g, fb[name])
				}
			}
		})
	}
}

// TestGradientSmooth32 is TestGradientSmooth in float32 numerics, on the
// weights rounded to float32: BPTT in float32 must match the central
// finite differences of the loss on those weights to float32 precision,
// 1e-4 (observed up to 6e-7). The differences are taken in float64, as
// TestGradientSmooth takes them: in float32 they would need a step so
// large (≈1e-2, against a loss exact to ≈1e-7) that the max readout's
// argmax moves within it.
func TestGradientSmooth32(t *testing.T) {
	var worst float64
	for _, tt := range smoothCases {
		t.Run(tt.name, func(t *testing.T) {
			net, p64, split := smoothCase(t, tt)
			p := toF[float32](p64)
			_, grad := batchLossGrad(net, p, &split)
			fd := finiteDiffGrad(net, as64s(p), &split)
			gb, fb := paramBlocks(net, as64s(grad)), paramBlocks(net, fd)
			for name, g := range gb {
				if norm(fb[name]) == 0 {
					t.Errorf("%s: finite-difference gradient is 0; the check would be vacuous", name)
					continue
				}
				e := relErr(g, fb[name])
				worst = max(worst, e)
				if e > 1e-4 {
					t.Errorf("%s: relative error of float32 BPTT vs finite differences = %.3g, want < 1e-4\nbptt %v\nfd   %v", name, e, g, fb[name])
				}
			}
		})
	}
	t.Logf("largest relative error: %.2g", worst)
}

// smoothCase builds a smooth-mode problem (smoothProblem) of tt with
// both regularizers active, so that their gradients are checked too.
func smoothCase(t *testing.T, tt smoothTest) (*network, []float64, Split) {
	t.Helper()
	cfg := tinyConfig(tt.hidden...)
	cfg.Network.Recurrent = tt.recurrent
	cfg.Network.RecurrentGrad = RecurrentPropagate
	cfg.Network.Reset = tt.reset
	cfg.Network.Readout = tt.readout
	cfg.Init.Gain = 3
	cfg.Init.RecurrentGain = 2
	cfg.Regularizer.Lower = LowerBound{Strength: 0.5, Threshold: 3}
	cfg.Regularizer.Upper = UpperBound{Strength: 0.3, Threshold: 0.2, Power: 2}
	mustValid(t, &cfg)
	return smoothProblem(&cfg)
}

// smoothTest is a network of the gradient checks.
type smoothTest struct {
	name      string
	hidden    []int
	recurrent bool
	reset     string
	readout   string
}

// smoothCases are the networks of the gradient checks.
var smoothCases = []smoothTest{
	{"one layer, max", []int{6}, false, ResetDetached, ReadoutMax},
	{"one layer, mean", []int{6}, false, ResetDetached, ReadoutMean},
	{"one layer, last", []int{6}, false, ResetDetached, ReadoutLast},
	{"two layers", []int{6, 5}, false, ResetDetached, ReadoutMax},
	{"three layers", []int{5, 4, 3}, false, ResetDetached, ReadoutMean},
	{"recurrent propagate", []int{6}, true, ResetDetached, ReadoutMax},
	{"recurrent propagate, two layers", []int{5, 4}, true, ResetDetached, ReadoutLast},
	{"differentiable reset", []int{6}, false, ResetDifferentiable, ReadoutMax},
	{"differentiable reset, two layers", []int{5, 4}, false, ResetDifferentiable, ReadoutMean},
	{"differentiable reset, recurrent", []int{5, 4}, true, ResetDifferentiable, ReadoutMax},
}

// TestGradientSmoothDetectsDetaching makes sure the finite-difference check
// can fail: detaching the recurrent path or the reset changes the gradient
// by far more than the tolerance.
func TestGradientSmoothDetectsDetaching(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"recurrent detached", func(c *Config) { c.Network.Recurrent = true; c.Network.RecurrentGrad = RecurrentDetached }},
		{"reset differentiable forward, detached backward", func(c *Config) {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tinyConfig(6)
			cfg.Init.Gain, cfg.Init.RecurrentGain = 3, 2
			cfg.Network.Reset = ResetDifferentiable
			tt.mutate(&cfg)
			mustValid(t, &cfg)
			net, p, split := smoothProblem(&cfg)
			var grad []float64
			if tt.name == "reset differentiable forward, detached backward" {
				// Run the forward of a differentiable reset (with its tape)
				// and the backward of a detached one.
				ws := newWorkspace[float64](net)
				grad = make([]float64, len(p))
				for k := range split.Len() {
					times, units := split.Events(k)
					net.diffReset = true
					ws.forward(p, times, units, true)
					ws.loss(int(split.Labels[k]), 1/float64(split.Len()))
					net.diffReset = false
					ws.backward(p, grad)
				}
				net.diffReset = true
			} else {
				_, grad = batchLossGrad(net, p, &split)
			}
			fd := finiteDiffGrad(net, p, &split)
			if e := relErr(grad, fd); e < 1e-3 {
				t.Errorf("detached gradient matches finite differences (relative error %.3g): the check cannot tell", e)
			}
		})
	}
}

// TestShortcuts: stopping the forward simulation of a provably silent layer
// (see workspace.silentFrom) and skipping the quiet tail of the backward
// pass (see quietTail) change neither the loss nor the gradient beyond
// rounding, and both are actually used on this batch.
func TestShortcuts(t *testing.T) {
	for _, tc := range []struct {
		readout string
		silent  bool
	}{{ReadoutMax, false}, {ReadoutMax, true}, {ReadoutMean, true}, {ReadoutLast, false}} {
		silent := tc.silent
		cfg := tinyConfig(40)
		cfg.Network.Readout = tc.readout
		cfg.Dataset.Steps = 60
		cfg.Init.Gain = 30
		cfg.Regularizer.Lower = LowerBound{}
		if silent {
			// A few neurons stay silent: their regularizer gradient flows
			// in the tail.
			cfg.Init.Gain = 80
			cfg.Regularizer.Lower = LowerBound{Strength: 100, Threshold: 1e-3}
		}
		mustValid(t, &cfg)
		// Inputs in the first third only, so that the readout peaks early.
		split := randomSplit(newTestRand(), 8, 20, 5, cfg.Dataset.Steps/3, 0.1)
		net := newNetwork(&cfg, 20, 5, cfg.Dataset.Steps)
		p := net.initParams(&cfg)
		lossShort, short := batchLossGrad(net, p, &split)
		net.noShortcuts = true
		lossFull, full := batchLossGrad(net, p, &split)
		net.noShortcuts = false
		if !closeTo(lossShort, lossFull, 1e-13) {
			t.Errorf("%+v: loss %v with shortcuts, %v without", tc, lossShort, lossFull)
		}
		if e := relErr(short, full); e > 1e-12 {
			t.Errorf("%+v: gradient differs by %.3g with shortcuts", tc, e)
		}
		ws := newWorkspace[float64](net)
		tails, silences, withReg := 0, 0, 0
		for k := range split.Len() {
			times, units := split.Events(k)
			ws.forward(p, times, units, true)
			ws.loss(int(split.Labels[k]), 1)
			if ws.silentFrom < cfg.Dataset.Steps {
				silences++
			}
			if ws.quietTail() < cfg.Dataset.Steps {
				tails++
				if len(ws.layers[0].regIdx) > 0 {
					withReg++
				}
			}
		}
		if tc.readout != ReadoutMax {
			tails, withReg = 1, 1 // the quiet tail is for the max readout only
		}
		if tails == 0 || silences == 0 || silent && withReg == 0 {
			t.Errorf("%+v: quiet tail on %d of %d samples (%d with regularized neurons), silent forward on %d: the test checks too little",
				tc, tails, split.Len(), withReg, silences)
		}
	}
}

// TestGroupBackward: backpropagating samples in lockstep (see backward)
// gives the gradient of backpropagating them one by one, up to the order
// of summation, for full and partial groups.
func TestGroupBackward(t *testing.T) {
	cfg := tinyConfig(9, 7)
	cfg.Dataset.Steps = 30
	cfg.Network.Recurrent = true
	cfg.Network.Reset = ResetDifferentiable
	cfg.Init.Gain, cfg.Init.RecurrentGain = 8, 2
	mustValid(t, &cfg)
	split := randomSplit(newTestRand(), groupMax, 6, 4, cfg.Dataset.Steps, 0.2)
	net := newNetwork(&cfg, 6, 4, cfg.Dataset.Steps)
	p := net.initParams(&cfg)
	for size := 1; size <= groupMax; size++ {
		group := make([]*workspace[float64], size)
		single := make([]float64, len(p))
		ws := newWorkspace[float64](net)
		for k := range size {
			group[k] = newWorkspace[float64](net)
			times, units := split.Events(k)
			group[k].forward(p, times, units, true)
			group[k].loss(int(split.Labels[k]), 1)
			ws.forward(p, times, units, true)
			ws.loss(int(split.Labels[k]), 1)
			ws.backward(p, single)
		}
		grouped := make([]float64, len(p))
		pt := make([]float64, net.nT)
		transpose(net, p, pt)
		backward(group, p, pt, grouped)
		if norm(single) == 0 {
			t.Fatal("zero gradient: the test checks nothing")
		}
		if e := relErr(grouped, single); e > 1e-13 {
			t.Errorf("group of %d: relative difference %.3g from one by one", size, e)
		}
	}
}

package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomSplit returns n samples of random input events: each of the inputs
// fires at each step with probability rate; labels are uniform. Events are
// sorted by time, then unit, as Split requires.
func randomSplit(rng *rand.Rand, n, inputs, classes, steps int, rate float64) Split {
	s := Split{Offsets: []int32{0}}
	for range n {
		for t := range steps {
			for u := range inputs {
				if rng.Float64() < rate {
					s.Times = append(s.Times, uint16(t))
					s.Units = append(s.Units, uint16(u))
				}
			}
		}
		s.Offsets = append(s.Offsets, int32(len(s.Times)))
		s.Labels = append(s.Labels, uint8(rng.IntN(classes)))
	}
	return s
}

// tinyConfig is a small valid Config for tests of the kernels.
func tinyConfig(hidden ...int) Config {
	cfg := DefaultConfig()
	cfg.Dataset.Steps = 12
	cfg.Network.Hidden = hidden
	return cfg
}

// batchLossGrad returns the mean loss over the samples of split and its
// gradient with respect to p, computed by forward, loss and backward.
func batchLossGrad[F float](net *network, p []F, split *Split) (float64, []F) {
	ws := newWorkspace[F](net)
	grad := make([]F, len(p))
	scale := 1 / float64(split.Len())
	var loss float64
	for k := range split.Len() {
		times, units := split.Events(k)
		ws.forward(p, times, units, true)
		loss += ws.loss(int(split.Labels[k]), scale)
		ws.backward(p, grad)
	}
	return loss * scale, grad
}

// batchLoss returns the mean loss over the samples of split.
func batchLoss[F float](net *network, p []F, split *Split) float64 {
	ws := newWorkspace[F](net)
	var loss float64
	for k := range split.Len() {
		times, units := split.Events(k)
		ws.forward(p, times, units, false)
		loss += ws.loss(int(split.Labels[k]), 1)
	}
	return loss / float64(split.Len())
}

// paramBlocks names the weight matrices of net as views of p, for error
// messages per matrix.
func paramBlocks(net *network, p []float64) map[string][]float64 {
	blocks := map[string][]float64{"W_out": readoutW(net, p)}
	for l := range net.hidden {
		blocks[fmtName("W", l)] = layerW(net, p, l)
		if net.recurrent {
			blocks[fmtName("V", l)] = layerV(net, p, l)
		}
	}
	return blocks
}

func fmtName(m string, l int) string { return m + "_" + string(rune('1'+l)) }

// relErr returns ‖a − b‖ / max(‖a‖, ‖b‖), 0 when both are 0.
func relErr(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 && nb == 0 {
		return 0
	}
	return math.Sqrt(d / max(na, nb))
}

func norm(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

func mustValid(t testing.TB, cfg *Config) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config invalid: %v", err)
	}
}

// setSmooth puts net in the smooth test mode with scale beta: the spike is
// σ(β·x) and the surrogate its derivative (see smoothSpike).
func setSmooth(net *network, beta float64) {
	net.smooth, net.beta = true, beta
	net.surrogate = smoothSurrogate
	net.kernel = genericKernel(smoothSurrogate)
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(11, 12)) }

// smoothProblem returns a network for cfg with 4 inputs and 3 classes in
// the smooth test mode (β = 4), its initial parameters and a batch of 3
// random samples: the set-up of the finite-difference gradient checks.
func smoothProblem(cfg *Config) (*network, []float64, Split) {
	rng := rand.New(rand.NewPCG(7, 8))
	split := randomSplit(rng, 3, 4, 3, cfg.Dataset.Steps, 0.25)
	net := newNetwork(cfg, 4, 3, cfg.Dataset.Steps)
	setSmooth(net, 4)
	return net, net.initParams(cfg), split
}

// finiteDiffGrad returns the central finite-difference gradient (step
// 1e-6) of the batch loss with respect to every parameter; p is left as it
// was.
func finiteDiffGrad(net *network, p []float64, split *Split) []float64 {
	fd := make([]float64, len(p))
	const eps = 1e-6
	for i := range p {
		orig := p[i]
		p[i] = orig + eps
		up := batchLoss(net, p, split)
		p[i] = orig - eps
		down := batchLoss(net, p, split)
		p[i] = orig
		fd[i] = (up - down) / (2 * eps)
	}
	return fd
}

// as64s returns s converted to float64.
func as64s[F float](s []F) []float64 {
	out := make([]float64, len(s))
	for i, x := range s {
		out[i] = float64(x)
	}
	return out
}

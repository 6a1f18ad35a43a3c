package sim

import "math"

// adam is the Adam optimiser (Kingma & Ba 2015) in PyTorch's form:
//
//	m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
//	p ← p − (η / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
type adam struct {
	lr, beta1, beta2, eps float64
	m, v                  []float64
	t                     int // steps taken
}

func newAdam(t TrainConfig, n int) *adam {
	return &adam{lr: t.LR, beta1: t.Beta1, beta2: t.Beta2, eps: t.Eps,
		m: make([]float64, n), v: make([]float64, n)}
}

// step updates p in place with the gradient g.
func (a *adam) step(p, g []float64) {
	a.t++
	step := a.lr / (1 - math.Pow(a.beta1, float64(a.t)))
	invSqrtC2 := 1 / math.Sqrt(1-math.Pow(a.beta2, float64(a.t)))
	m, v, g := a.m[:len(p)], a.v[:len(p)], g[:len(p)]
	b1, b2 := a.beta1, a.beta2
	for i := range p {
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		p[i] -= step * m[i] / (math.Sqrt(v[i])*invSqrtC2 + a.eps)
	}
}

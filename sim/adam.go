package sim

import "math"

// adam is the Adam optimiser (Kingma & Ba 2015) in PyTorch's form:
//
//	m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
//	p ← p − (η / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
//
// The moments and the update are in F, as PyTorch keeps them in the
// parameters' dtype; the bias corrections are computed in float64 and
// rounded to F.
type adam[F float] struct {
	lr, beta1, beta2, eps float64
	m, v                  []F
	t                     int // steps taken
}

func newAdam[F float](t TrainConfig, n int) *adam[F] {
	return &adam[F]{lr: t.LR, beta1: t.Beta1, beta2: t.Beta2, eps: t.Eps,
		m: make([]F, n), v: make([]F, n)}
}

// step updates p in place with the gradient g.
func (a *adam[F]) step(p, g []F) {
	a.t++
	step := F(a.lr / (1 - math.Pow(a.beta1, float64(a.t))))
	invSqrtC2 := F(1 / math.Sqrt(1-math.Pow(a.beta2, float64(a.t))))
	m, v, g := a.m[:len(p)], a.v[:len(p)], g[:len(p)]
	b1, b2, eps := F(a.beta1), F(a.beta2), F(a.eps)
	for i := range p {
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		// The square root of a float32 computed in float64 and rounded
		// is the correctly rounded float32 square root.
		p[i] -= step * m[i] / (F(math.Sqrt(float64(v[i])))*invSqrtC2 + eps)
	}
}

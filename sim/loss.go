package sim

import "math"

// loss returns the loss of the sample just run forward: the softmax
// cross-entropy of the logits against label plus the activity
// regularizers, in nats. It sets ws.dLogits to ∂L/∂a_k and each layer's
// regGrad to ∂L/∂ζ_i, both multiplied by scale (1/batch size: the loss of a
// minibatch is the mean over its samples).
func (ws *workspace[F]) loss(label int, scale float64) float64 {
	a := ws.logits
	m := float64(a[0])
	for _, v := range a {
		m = max(m, float64(v))
	}
	var z float64
	for _, v := range a {
		z += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(z)
	total := lse - float64(a[label])
	for k, v := range a {
		d := math.Exp(float64(v)-lse) * scale
		if k == label {
			d -= scale
		}
		ws.dLogits[k] = F(d)
	}

	for l := range ws.layers {
		total += regularize(ws.net, ws.layers[l].count, ws.layers[l].regGrad, scale)
	}
	return total
}

// regularize returns the activity regularizers' loss of one layer on one
// sample, given the spike counts ζ, and writes scale·∂L/∂ζ_i to grad
// (docs/model.md, "Activity regularization"):
//
//	lower: λ_lo · mean_i max(0, ν_lo − ζ_i)²
//	upper: λ_up · max(0, mean_i ζ_i − ν_up)^p
func regularize[F float](net *network, count, grad []F, scale float64) float64 {
	clear(grad)
	var loss float64
	N := float64(len(count))
	if lo := net.lower; lo.Strength > 0 {
		var sum float64
		g := -2 * lo.Strength / N * scale
		for i, z := range count {
			if d := lo.Threshold - float64(z); d > 0 {
				sum += d * d
				grad[i] += F(g * d)
			}
		}
		loss += lo.Strength * sum / N
	}
	if up := net.upper; up.Strength > 0 {
		var mean float64
		for _, z := range count {
			mean += float64(z)
		}
		mean /= N
		if d := mean - up.Threshold; d > 0 {
			g := up.Strength / N * scale
			if up.Power == 2 {
				loss += up.Strength * d * d
				g *= 2 * d
			} else {
				loss += up.Strength * d
			}
			for i := range grad {
				grad[i] += F(g)
			}
		}
	}
	return loss
}

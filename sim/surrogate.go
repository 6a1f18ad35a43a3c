package sim

import (
	"math"
	"slices"
)

// SurrogateFunc is a surrogate derivative h(x; β): the value that replaces
// dS/dU in the backward pass, at distance x = U − ϑ from threshold, for scale
// β ≥ 0. It must be finite for every finite x and β.
type SurrogateFunc func(x, beta float64) float64

// Surrogates maps each surrogate shape name (the values of surrogate.shape)
// to its derivative. Shapes after Zenke & Vogels (2021), Sec. 4.2.6, and the
// common alternatives of snnTorch/Norse; all but superspike_asymptotic are
// normalised: their peak does not depend on β. β = 0 gives a constant.
//
// To add a shape, add an entry here; Validate and the CLI list the keys.
var Surrogates = map[string]SurrogateFunc{
	// SuperSpike (Zenke & Ganguli 2018), derivative of the fast sigmoid; peak 1.
	"superspike": func(x, beta float64) float64 {
		d := beta*math.Abs(x) + 1
		return 1 / (d * d)
	},
	// Derivative of the logistic σ(βx), without the factor β; peak 1/4.
	// σ(1 − σ) is evaluated as e/(1 + e)² with e = exp(−β·abs(x)): exactly
	// symmetric, and without the cancellation of 1 − σ for large x.
	"sigmoid": func(x, beta float64) float64 {
		e := math.Exp(-beta * math.Abs(x))
		return e / ((1 + e) * (1 + e))
	},
	// Piecewise linear (Esser et al. 2016); peak 1, support |x| < 1/β.
	"esser": func(x, beta float64) float64 {
		return math.Max(0, 1-beta*math.Abs(x))
	},
	// Exponential; peak 1.
	"exponential": func(x, beta float64) float64 {
		return math.Exp(-beta * math.Abs(x))
	},
	// Gaussian; peak 1.
	"gaussian": func(x, beta float64) float64 {
		bx := beta * x
		return math.Exp(-bx * bx / 2)
	},
	// Arctangent (derivative of atan(πβx/2)/π + 1/2, times 2/β); peak 1.
	"atan": func(x, beta float64) float64 {
		a := math.Pi * beta * x / 2
		return 1 / (1 + a*a)
	},
	// Asymptotic SuperSpike: peak β, integral 2 for β > 0, tends to a delta
	// as β → ∞ (the paper's Fig. 5 scale experiments).
	"superspike_asymptotic": func(x, beta float64) float64 {
		d := beta*math.Abs(x) + 1
		return beta / (d * d)
	},
	// The true derivative of the Heaviside step away from threshold: 0.
	"heaviside": func(x, beta float64) float64 { return 0 },
}

// SurrogateNames returns the keys of Surrogates, sorted.
func SurrogateNames() []string {
	names := make([]string, 0, len(Surrogates))
	for name := range Surrogates {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

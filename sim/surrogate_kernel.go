package sim

import "math"

// surrogateKernel writes dst[j] = h(u[j] − ϑ, β) for every j: the surrogate
// of a whole layer at one step. It is the forward pass's hottest loop after
// the neuron update, so the common shapes have loops of their own that the
// compiler can inline the arithmetic into; every kernel must equal the
// Surrogates entry bit for bit (TestSurrogateKernels).
type surrogateKernel func(dst, u []float64, theta, beta float64)

// surrogateKernels holds the specialised loops; shapes not listed here use
// genericKernel, which calls the Surrogates entry.
var surrogateKernels = map[string]surrogateKernel{
	"superspike": func(dst, u []float64, theta, beta float64) {
		superspikeRow(dst, u, theta, beta, 1)
	},
	"superspike_asymptotic": func(dst, u []float64, theta, beta float64) {
		superspikeRow(dst, u, theta, beta, beta)
	},
	"esser": func(dst, u []float64, theta, beta float64) {
		u = u[:len(dst)]
		for j := range dst {
			dst[j] = math.Max(0, 1-beta*math.Abs(u[j]-theta))
		}
	},
	"heaviside": func(dst, u []float64, theta, beta float64) { clear(dst) },
}

// kernelFor returns the surrogate kernel of shape h.
func kernelFor(shape string, h SurrogateFunc) surrogateKernel {
	if k, ok := surrogateKernels[shape]; ok {
		return k
	}
	return genericKernel(h)
}

// genericKernel evaluates h one call per neuron.
func genericKernel(h SurrogateFunc) surrogateKernel {
	return func(dst, u []float64, theta, beta float64) {
		u = u[:len(dst)]
		for j := range dst {
			dst[j] = h(u[j]-theta, beta)
		}
	}
}

package sim

import "math"

// surrogateKernel writes dst[j] = h(u[j] − ϑ, β) for every j: the surrogate
// of a whole layer at one step. It is the forward pass's hottest loop after
// the neuron update, so the common shapes have loops of their own that the
// compiler can inline the arithmetic into; every kernel must equal the
// Surrogates entry bit for bit (TestSurrogateKernels).
type surrogateKernel func(dst, u []float64, theta, beta float64)

// surrogateKernels holds the specialised loops, each the arithmetic of its
// Surrogates entry written out (the same operations in the same order);
// shapes not listed here use genericKernel, which calls the entry.
var surrogateKernels = map[string]surrogateKernel{
	"superspike": func(dst, u []float64, theta, beta float64) {
		superspikeRow(dst, u, theta, beta, 1)
	},
	"superspike_asymptotic": func(dst, u []float64, theta, beta float64) {
		superspikeRow(dst, u, theta, beta, beta)
	},
	"esser": func(dst, u []float64, theta, beta float64) {
		u = u[:len(dst)]
		if useAVX512 {
			esserAVX512(dst, u, theta, beta)
			return
		}
		for j := range dst {
			// math.Max(0, y), without the call for the ordered cases
			switch y := 1 - beta*math.Abs(u[j]-theta); {
			case y > 0:
				dst[j] = y
			case y <= 0:
				dst[j] = 0
			default:
				dst[j] = math.Max(0, y) // NaN
			}
		}
	},
	// The exponential shapes: with AVX-512, in one pass (expShapeAVX512);
	// otherwise they compute their arguments in place, then take expRow
	// of the whole row. Either way math.Exp's bits.
	"exponential": func(dst, u []float64, theta, beta float64) {
		if expShape(dst, u, theta, beta, expShapeExponential) {
			return
		}
		u = u[:len(dst)]
		for j := range dst {
			dst[j] = -beta * math.Abs(u[j]-theta)
		}
		expRow(dst, dst)
	},
	"sigmoid": func(dst, u []float64, theta, beta float64) {
		if expShape(dst, u, theta, beta, expShapeSigmoid) {
			return
		}
		u = u[:len(dst)]
		for j := range dst {
			dst[j] = -beta * math.Abs(u[j]-theta)
		}
		expRow(dst, dst)
		for j, e := range dst {
			dst[j] = e / ((1 + e) * (1 + e))
		}
	},
	"gaussian": func(dst, u []float64, theta, beta float64) {
		if expShape(dst, u, theta, beta, expShapeGaussian) {
			return
		}
		u = u[:len(dst)]
		for j := range dst {
			bx := beta * (u[j] - theta)
			dst[j] = -bx * bx / 2
		}
		expRow(dst, dst)
	},
	"atan": func(dst, u []float64, theta, beta float64) {
		u = u[:len(dst)]
		if useAVX512 {
			atanAVX512(dst, u, theta, math.Pi*beta)
			return
		}
		for j := range dst {
			a := math.Pi * beta * (u[j] - theta) / 2
			dst[j] = 1 / (1 + a*a)
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

// The shapes expShapeAVX512 computes.
const (
	expShapeExponential = iota
	expShapeSigmoid
	expShapeGaussian
)

// expShape computes the exponential surrogate shape of the given number
// with expShapeAVX512 and returns true, where that kernel runs; otherwise
// it returns false and leaves dst alone.
func expShape(dst, u []float64, theta, beta float64, shape int) bool {
	if !useAVX512 || !mathExpFMA {
		return false
	}
	expShapeAVX512(dst, u[:len(dst)], theta, beta, shape)
	return true
}

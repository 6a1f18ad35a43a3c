package sim

import (
	"math"
	"slices"
	"testing"
)

// TestSurrogateValues checks each shape at chosen points against values
// worked out by hand (docs/model.md's table,
// "Surrogate derivatives"), at β = 10.
func TestSurrogateValues(t *testing.T) {
	tests := []struct {
		shape string
		x     float64
		want  float64
	}{
		{"superspike", 0, 1},
		{"superspike", 0.1, 0.25},  // 1/(1+1)²
		{"superspike", -0.1, 0.25}, // symmetric
		{"superspike", 0.5, 1.0 / 36},
		{"superspike", -1, 1.0 / 121},
		{"sigmoid", 0, 0.25},
		{"sigmoid", 0.1, 0.19661193324148185}, // σ(1)(1−σ(1))
		{"sigmoid", -0.1, 0.19661193324148185},
		{"sigmoid", 0.5, 0.006648056670790033}, // σ(5)(1−σ(5))
		{"sigmoid", -1000, 0},                  // no overflow to NaN
		{"esser", 0, 1},
		{"esser", 0.05, 0.5},
		{"esser", -0.05, 0.5},
		{"esser", 0.1, 0},
		{"esser", -0.5, 0},
		{"exponential", 0, 1},
		{"exponential", 0.1, 0.36787944117144233}, // e⁻¹
		{"exponential", -0.5, 0.006737946999085467},
		{"gaussian", 0, 1},
		{"gaussian", 0.1, 0.6065306597126334}, // e^(−1/2)
		{"gaussian", -0.2, 0.1353352832366127},
		{"atan", 0, 1},
		{"atan", 0.1, 0.288400439142001}, // 1/(1+(π/2)²)
		{"atan", -0.5, 0.015952772771638105},
		{"superspike_asymptotic", 0, 10},
		{"superspike_asymptotic", 0.1, 2.5},
		{"superspike_asymptotic", -1, 10.0 / 121},
		{"heaviside", 0, 0},
		{"heaviside", 0.3, 0},
	}
	for _, tt := range tests {
		if got := Surrogates[tt.shape](tt.x, 10); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("%s(%v, β=10) = %v, want %v", tt.shape, tt.x, got, tt.want)
		}
	}
}

// TestSurrogatePeaks checks that every shape peaks at threshold, with the
// height of docs/model.md's table: independent of β for the normalised ones, β
// for the asymptotic one; and that it is symmetric and finite everywhere.
func TestSurrogatePeaks(t *testing.T) {
	peak := map[string]func(beta float64) float64{
		"superspike":            func(float64) float64 { return 1 },
		"sigmoid":               func(float64) float64 { return 0.25 },
		"esser":                 func(float64) float64 { return 1 },
		"exponential":           func(float64) float64 { return 1 },
		"gaussian":              func(float64) float64 { return 1 },
		"atan":                  func(float64) float64 { return 1 },
		"superspike_asymptotic": func(b float64) float64 { return b },
		"heaviside":             func(float64) float64 { return 0 },
	}
	if names := SurrogateNames(); !slices.Equal(names, sortedKeys(peak)) {
		t.Fatalf("SurrogateNames() = %v, the test knows %v", names, sortedKeys(peak))
	}
	for name, h := range Surrogates {
		for _, beta := range []float64{0.1, 1, 10, 1000} {
			want := peak[name](beta)
			if got := h(0, beta); got != want {
				t.Errorf("%s(0, β=%v) = %v, want peak %v", name, beta, got, want)
			}
			for _, x := range []float64{1e-6, 0.01, 0.3, 1, 7, 1e3, 1e300, math.MaxFloat64} {
				v, w := h(x, beta), h(-x, beta)
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > want {
					t.Errorf("%s(%v, β=%v) = %v, want finite in [0, %v]", name, x, beta, v, want)
				}
				if v != w {
					t.Errorf("%s(%v, β=%v) = %v but %s(%v) = %v: not symmetric", name, x, beta, v, name, -x, w)
				}
			}
		}
	}
}

// TestSurrogateBetaZero: β = 0 gives a constant surrogate (0 for the
// asymptotic shape, whose peak is β).
func TestSurrogateBetaZero(t *testing.T) {
	want := map[string]float64{
		"superspike": 1, "sigmoid": 0.25, "esser": 1, "exponential": 1,
		"gaussian": 1, "atan": 1, "superspike_asymptotic": 0, "heaviside": 0,
	}
	for name, h := range Surrogates {
		for _, x := range []float64{-5, -0.5, 0, 0.01, 2, 1e10} {
			if got := h(x, 0); got != want[name] {
				t.Errorf("%s(%v, β=0) = %v, want the constant %v", name, x, got, want[name])
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestSurrogateKernels: the specialised layer loops equal the Surrogates
// table bit for bit, for every shape (the generic loop included).
func TestSurrogateKernels(t *testing.T) {
	rng := newTestRand()
	u := make([]float64, 1003) // not a multiple of the vector widths
	for i := range u {
		u[i] = 4*rng.NormFloat64() + 1
	}
	u[0], u[1], u[2], u[3], u[4] = 1, math.Nextafter(1, 2), 1e300, math.NaN(), math.Inf(-1)
	u[5], u[6], u[7], u[8] = math.Inf(1), math.Copysign(0, -1), 5e-324, 1+1e-9
	saved := useAVX512
	defer func() { useAVX512 = saved }()
	for _, useAVX512 = range []bool{saved, false} { // AVX-512 kernels where available, then without
		checkSurrogateKernels(t, u)
	}
}

func checkSurrogateKernels(t *testing.T, u []float64) {
	t.Helper()
	const theta = 1
	for name, h := range Surrogates {
		k := kernelFor(name, h)
		for _, beta := range []float64{0, 0.5, 10, 100, 1000, 1e6} {
			got := make([]float64, len(u))
			k(got, u, theta, beta)
			for i, x := range u {
				if want := h(x-theta, beta); math.Float64bits(got[i]) != math.Float64bits(want) {
					t.Fatalf("%s kernel (AVX-512 %v) at U=%v, β=%v: %v, table %v", name, useAVX512, x, beta, got[i], want)
				}
			}
		}
	}
}

// TestExpShapeKernels: the exponential shapes' kernels (AVX-512 where
// available, then expRow's AVX2, then math.Exp's loops) equal the table bit
// for bit where exp meets every one of its cases: at β = 1 and U − ϑ = ±a
// for probeExp's arguments a, −β·|x| and −x²/2 take exp's special and
// boundary arguments; and over a million random potentials.
func TestExpShapeKernels(t *testing.T) {
	const theta = 1
	var u []float64
	for _, a := range probeExp() {
		u = append(u, theta+a, theta-a, theta+math.Sqrt(math.Abs(2*a)))
	}
	rng := newTestRand()
	for range 1_000_000 {
		u = append(u, theta+rng.NormFloat64()*math.Pow(10, 3*rng.Float64()-2))
	}
	saved, savedFMA := useAVX512, mathExpFMA
	defer func() { useAVX512, mathExpFMA = saved, savedFMA }()
	for _, path := range []struct {
		name        string
		avx512, fma bool
	}{{"AVX-512", saved, savedFMA}, {"AVX2", false, savedFMA}, {"Go", false, false}} {
		useAVX512, mathExpFMA = path.avx512, path.fma
		for _, name := range []string{"exponential", "sigmoid", "gaussian"} {
			h := Surrogates[name]
			k := kernelFor(name, h)
			for _, beta := range []float64{1, 100} {
				got := make([]float64, len(u))
				k(got, u, theta, beta)
				for i, x := range u {
					if want := h(x-theta, beta); math.Float64bits(got[i]) != math.Float64bits(want) {
						t.Fatalf("%s kernel (%s) at U=%v, β=%v: %v, table %v", name, path.name, x, beta, got[i], want)
					}
				}
			}
		}
	}
}

package sweep

// sobolBits is the precision of the Sobol generator: points are multiples
// of 2^-32, and at most 2^32 of them are distinct.
const sobolBits = 32

// sobol generates the unscrambled Sobol sequence with the Joe–Kuo
// direction numbers (sobol_data.go) by the Gray-code construction of
// Antonov and Saleev: point k+1 is point k with the direction numbers of
// the lowest zero bit of k xor-ed in. The sequence starts with the
// all-zero point, as scipy.stats.qmc.Sobol(scramble=False) does.
type sobol struct {
	v     [][sobolBits]uint32 // v[j][k]: direction number k+1 of dimension j, as a 32-bit fraction
	x     []uint32            // the current point, as 32-bit fractions
	index uint64              // the index of the current point
}

// newSobol returns a generator of d dimensions, 1 ≤ d ≤ sobolMaxDims, at
// the all-zero point.
func newSobol(d int) *sobol {
	g := &sobol{v: make([][sobolBits]uint32, d), x: make([]uint32, d)}
	for j := range d {
		v := &g.v[j]
		if j == 0 {
			for k := range sobolBits {
				v[k] = 1 << (sobolBits - 1 - k)
			}
			continue
		}
		dir := joeKuo[j-1]
		s := dir.s
		for k := 0; k < s && k < sobolBits; k++ {
			v[k] = dir.m[k] << (sobolBits - 1 - k)
		}
		// v_k = v_{k-s} ⊕ (v_{k-s} >> s) ⊕ ⊕_{i=1}^{s-1} a_i v_{k-i},
		// a_i the bits of a, a_1 the highest.
		for k := s; k < sobolBits; k++ {
			v[k] = v[k-s] ^ v[k-s]>>s
			for i := 1; i < s; i++ {
				if dir.a>>(s-1-i)&1 == 1 {
					v[k] ^= v[k-i]
				}
			}
		}
	}
	return g
}

// next advances to the following point and returns it (shared: valid
// until the next call) as 32-bit fractions; it reports false after the
// 2^32 distinct points.
func (g *sobol) next() ([]uint32, bool) {
	c := 0 // the lowest zero bit of index
	for g.index>>c&1 == 1 {
		c++
	}
	if c >= sobolBits {
		return nil, false
	}
	for j := range g.x {
		g.x[j] ^= g.v[j][c]
	}
	g.index++
	return g.x, true
}

// sobolPoints returns the first n points of the d-dimensional Sobol
// sequence in [0, 1)^d, the all-zero point first. It is not skipped: the
// first 2^m points are a (t, m, d)-net, each coordinate with exactly one
// point in each of 2^m equal strata, and dropping the origin spoils that
// (A. B. Owen, "On dropping the first Sobol' point", 2022). Each
// coordinate is a multiple of 2^-32, exact in a float64. n must be at most
// 2^32.
func sobolPoints(n, d int) [][]float64 {
	g := newSobol(d)
	out := make([][]float64, n)
	x := g.x
	for i := range out {
		if i > 0 {
			x, _ = g.next()
		}
		out[i] = make([]float64, d)
		for j, xj := range x {
			out[i][j] = float64(xj) * 0x1p-32
		}
	}
	return out
}

package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// vec32 returns n random float32s: mostly around 1 (the threshold), with
// negatives, signed zeros, subnormals, tiny and huge values (whose
// products overflow) mixed in, and the first four 1, −0, 0.5 and
// Nextafter(1, 2).
func vec32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch rng.IntN(10) {
		case 0:
			v[i] = -v32normal(rng)
		case 1:
			v[i] = float32(math.Copysign(0, float64(rng.IntN(2)*2-1)))
		case 2:
			v[i] = math.Float32frombits(rng.Uint32() & 0x807fffff) // subnormal or ±0
		case 3:
			v[i] = float32(rng.NormFloat64() * 1e30)
		case 4:
			v[i] = float32(rng.NormFloat64() * 1e-30)
		default:
			v[i] = v32normal(rng)
		}
	}
	if n > 3 {
		v[0], v[1], v[2], v[3] = 1, float32(math.Copysign(0, -1)), 0.5, math.Nextafter32(1, 2)
	}
	return v
}

func v32normal(rng *rand.Rand) float32 { return float32(1 + 0.5*rng.NormFloat64()) }

// same32 reports whether a and b hold the same bits.
func same32(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// rows32 returns k random row indices below rows, with repeats, in any
// order, and k random factors.
func rows32(rng *rand.Rand, k, rows int) ([]int32, []float32) {
	idx := make([]int32, k)
	for i := range idx {
		idx[i] = int32(rng.IntN(rows))
	}
	return idx, vec32(rng, k)
}

// lengths32 are the vector lengths the float32 tests try: every length up
// to 130 (every tail of one to four registers after none, one and two
// blocks of 64 columns), the layer width 256 and its neighbours, and
// random ones up to 300.
func lengths32(rng *rand.Rand) []int {
	n := []int{256, 255, 257, 300}
	for i := range 131 {
		n = append(n, i)
	}
	for range 20 {
		n = append(n, 1+rng.IntN(300))
	}
	return n
}

// r32 rounds x to float32: an operation done in float64 then rounded to
// float32 gives the float32 operation's bits (float64 has more than twice
// float32's precision), which makes the reference loops below independent
// of Go's float32 arithmetic.
func r32(x float64) float64 { return float64(float32(x)) }

// f64 widens v.
func f64(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// f32 rounds v to float32.
func f32(v []float64) []float32 {
	w := make([]float32, len(v))
	for i, x := range v {
		w[i] = float32(x)
	}
	return w
}

// withGo runs f with the assembly kernels switched off.
func withGo(f func()) {
	saved2, saved512 := useAVX2, useAVX512
	useAVX2, useAVX512 = false, false
	defer func() { useAVX2, useAVX512 = saved2, saved512 }()
	f()
}

// TestKernels32Reference: the Go versions of the float32 kernels (the
// assembly switched off) equal reference loops written in float64 with
// each operation rounded to float32, in the order of the float64 kernels.
func TestKernels32Reference(t *testing.T) {
	rng := newTestRand()
	const lm, lsyn, lo, theta = float32(0.9048374), float32(0.81873075), float32(0.9512294), float32(1)
	Lm, Lsyn, Lo, Theta := float64(lm), float64(lsyn), float64(lo), float64(theta)
	Cm, Co := r32(1-Lm), r32(1-Lo)
	withGo(func() {
		for _, n := range lengths32(rng) {
			// lifStep32
			u, cur := vec32(rng, n), vec32(rng, n)
			U, I := f64(u), f64(cur)
			var want []int32
			for j := range U {
				p := r32(r32(Lm*U[j]) + r32(Cm*I[j]))
				if U[j] > Theta {
					want = append(want, int32(j))
					p = 0
				}
				U[j], I[j] = p, r32(I[j]*Lsyn)
			}
			idx := make([]int32, n)
			k := lifStep32(u, cur, lm, lsyn, theta, idx)
			if !slices.Equal(idx[:k], want) || !same32(u, f32(U)) || !same32(cur, f32(I)) {
				t.Errorf("lifStep32, n=%d: spikes %v, reference %v; or U, I differ", n, idx[:k], want)
			}

			// backwardTop32 and backwardInner32
			gu, gi, h, gs, pi, pu := vec32(rng, n), vec32(rng, n), vec32(rng, n), vec32(rng, n), vec32(rng, n), vec32(rng, n)
			GU, GI, H, GS, PI, PU := f64(gu), f64(gi), f64(h), f64(gs), f64(pi), f64(pu)
			for j := range GU {
				g := GU[j]
				GU[j] = r32(r32(Lm*g) + r32(H[j]*r32(GS[j]+PI[j])))
				GI[j] = r32(r32(Cm*g) + r32(Lsyn*GI[j]))
				PI[j] = r32(r32(Lsyn*PI[j]) + r32(Co*PU[j]))
				PU[j] = r32(PU[j] * Lo)
			}
			backwardTop32(gu, gi, h, gs, pi, pu, lm, lsyn, lo)
			if !same32(gu, f32(GU)) || !same32(gi, f32(GI)) || !same32(pi, f32(PI)) || !same32(pu, f32(PU)) {
				t.Errorf("backwardTop32, n=%d differs from the reference", n)
			}
			for j := range GU {
				g := GU[j]
				GU[j] = r32(r32(Lm*g) + r32(H[j]*GS[j]))
				GI[j] = r32(r32(Cm*g) + r32(Lsyn*GI[j]))
			}
			backwardInner32(gu, gi, h, gs, lm, lsyn)
			if !same32(gu, f32(GU)) || !same32(gi, f32(GI)) {
				t.Errorf("backwardInner32, n=%d differs from the reference", n)
			}

			// addRow32, with a row longer than dst
			row := vec32(rng, n+5)
			const a = float32(0.37)
			D := f64(gs)
			for i := range D {
				D[i] = r32(D[i] + r32(float64(a)*float64(row[i])))
			}
			addRow32(gs, row, a)
			if !same32(gs, f32(D)) {
				t.Errorf("addRow32, n=%d differs from the reference", n)
			}

			// addRows32 and addOuter32: random rows, a stride longer than n
			stride := n + rng.IntN(20)
			m := vec32(rng, 9*stride)
			rows, val := rows32(rng, rng.IntN(12), 9)
			D, M := f64(h), f64(m)
			for k, j := range rows {
				for i := range D {
					D[i] = r32(D[i] + r32(float64(val[k])*M[int(j)*stride+i]))
				}
			}
			addRows(h, m, stride, rows, val)
			if !same32(h, f32(D)) {
				t.Errorf("addRows32, n=%d, rows %v differs from the reference", n, rows)
			}
			for k, j := range rows {
				for i, xi := range pu {
					M[int(j)*stride+i] = r32(M[int(j)*stride+i] + r32(float64(val[k])*float64(xi)))
				}
			}
			addOuter(m, stride, rows, val, pu)
			if !same32(m, f32(M)) {
				t.Errorf("addOuter32, n=%d, rows %v differs from the reference", n, rows)
			}

			// gemvT32, every group size
			for k := 1; k <= groupMax; k++ {
				dst, x, want, mt := gemvCase32(rng, n, 1+rng.IntN(n+3), k)
				gemvT32(&dst, mt, &x, k)
				for s := range groupMax {
					if !same32(dst[s], want[s]) {
						t.Errorf("gemvT32, n=%d, group of %d, sample %d differs from the reference", n, k, s)
					}
				}
			}
		}
	})
}

// gemvCase32 returns a gemvT32 problem of J columns and the given number
// of rows, for a group of k, and the result the reference loop (in
// float64, each operation rounded to float32) gives: the sums for the
// first k samples, the other dst unchanged.
func gemvCase32(rng *rand.Rand, J, rows, k int) (dst, x, want [groupMax][]float32, mt []float32) {
	mt = vec32(rng, rows*J)
	for s := range groupMax {
		dst[s], x[s] = vec32(rng, J), vec32(rng, rows)
		want[s] = slices.Clone(dst[s])
		if s >= k {
			continue
		}
		for j := range want[s] {
			acc := float64(want[s][j])
			for i, xi := range x[s] {
				acc = r32(acc + r32(float64(xi)*float64(mt[i*J+j])))
			}
			want[s][j] = float32(acc)
		}
	}
	return dst, x, want, mt
}

// TestKernels32: the dispatching float32 kernels (assembly where
// available) equal their Go versions bit for bit, over the lengths of
// lengths32 and the values of vec32.
func TestKernels32(t *testing.T) {
	if !useAVX512 {
		t.Skip("no float32 assembly kernels on this machine or build (needs amd64 with AVX-512, without -tags purego): nothing to compare the Go kernels with")
	}
	rng := newTestRand()
	const lm, lsyn, lo, theta = float32(0.9048374), float32(0.81873075), float32(0.9512294), float32(1)
	for _, n := range lengths32(rng) {
		// lifStep32: dense, sparse (u shifted down) and with NaN; idx
		// longer than n, whose entries from n on must stay
		for _, c := range []string{"dense", "sparse", "NaN"} {
			u, cur := vec32(rng, n), vec32(rng, n)
			for j := range u {
				switch {
				case rng.IntN(2) == 0:
				case c == "sparse":
					u[j] -= 1.5
				case c == "NaN":
					u[j], cur[j] = float32(math.NaN()), float32(math.NaN())
				}
			}
			u2, cur2 := slices.Clone(u), slices.Clone(cur)
			idx, idx2 := make([]int32, n+16), make([]int32, n+16)
			for j := range idx {
				idx[j], idx2[j] = -7, -7
			}
			var k2 int
			withGo(func() { k2 = lifStep32(u2, cur2, lm, lsyn, theta, idx2) })
			k := lifStep32(u, cur, lm, lsyn, theta, idx)
			if k != k2 || !slices.Equal(idx[:k], idx2[:k2]) || !same32(u, u2) || !same32(cur, cur2) ||
				!slices.Equal(idx[n:], idx2[n:]) {
				t.Errorf("lifStep32, n=%d, %s: spikes %v, Go %v; or U, I or idx[n:] differ", n, c, idx[:k], idx2[:k2])
			}
		}

		// backwardTop32 and backwardInner32
		v := make([][]float32, 6)
		for i := range v {
			v[i] = vec32(rng, n)
		}
		w := make([][]float32, len(v))
		for i := range v {
			w[i] = slices.Clone(v[i])
		}
		withGo(func() { backwardTop32(w[0], w[1], w[2], w[3], w[4], w[5], lm, lsyn, lo) })
		backwardTop32(v[0], v[1], v[2], v[3], v[4], v[5], lm, lsyn, lo)
		if !slices.EqualFunc(v, w, same32) {
			t.Errorf("backwardTop32, n=%d differs from Go", n)
		}
		withGo(func() { backwardInner32(w[0], w[1], w[2], w[3], lm, lsyn) })
		backwardInner32(v[0], v[1], v[2], v[3], lm, lsyn)
		if !slices.EqualFunc(v, w, same32) {
			t.Errorf("backwardInner32, n=%d differs from Go", n)
		}

		// addRow32, with a row longer than dst
		dst, row := vec32(rng, n), vec32(rng, n+5)
		want := slices.Clone(dst)
		withGo(func() { addRow32(want, row, -0.37) })
		addRow32(dst, row, -0.37)
		if !same32(dst, want) {
			t.Errorf("addRow32, n=%d:\n%v\n%v", n, dst, want)
		}

		// addRows32 and addOuter32: rows repeated and out of order, a
		// stride longer than n, sometimes none
		stride := n + rng.IntN(20)
		m := vec32(rng, 9*stride)
		rows, val := rows32(rng, rng.IntN(15), 9)
		want = slices.Clone(dst)
		withGo(func() { addRows(want, m, stride, rows, val) })
		addRows(dst, m, stride, rows, val)
		if !same32(dst, want) {
			t.Errorf("addRows32, n=%d, rows %v:\n%v\n%v", n, rows, dst, want)
		}
		wantM := slices.Clone(m)
		withGo(func() { addOuter(wantM, stride, rows, val, dst) })
		addOuter(m, stride, rows, val, dst)
		if !same32(m, wantM) {
			t.Errorf("addOuter32, n=%d, rows %v:\n%v\n%v", n, rows, m, wantM)
		}

		// gemvT32, every group size, rows fewer and more than columns
		for k := 1; k <= groupMax; k++ {
			for _, rows := range []int{0, 1 + rng.IntN(n+3), n + 1} {
				dst, x, _, mt := gemvCase32(rng, n, rows, k)
				var want [groupMax][]float32
				for s := range dst {
					want[s] = slices.Clone(dst[s])
				}
				withGo(func() { gemvT32(&want, mt, &x, k) })
				gemvT32(&dst, mt, &x, k)
				for s := range groupMax {
					if !same32(dst[s], want[s]) {
						t.Errorf("gemvT32, n=%d, rows=%d, group of %d, sample %d:\n%v\n%v", n, rows, k, s, dst[s], want[s])
					}
				}
			}
		}
	}
}

// TestKernels32Bounds: the float32 kernels panic, with or without the
// assembly, on rows outside m and on a matrix too short for gemvT32,
// instead of reading or writing past a slice.
func TestKernels32Bounds(t *testing.T) {
	const J, rows = 20, 5
	m, x := make([]float32, rows*J), make([]float32, J)
	var dst, xs [groupMax][]float32
	for s := range groupMax {
		dst[s], xs[s] = make([]float32, J), make([]float32, rows)
	}
	cases := map[string]func(){
		"addRows32 past the end":  func() { addRows(x, m, J, []int32{0, rows}, x) },
		"addRows32 negative":      func() { addRows(x, m, J, []int32{-1}, x) },
		"addRows32 long dst":      func() { addRows(make([]float32, J+1), m, J, []int32{rows - 1}, x) },
		"addOuter32 past the end": func() { addOuter(m, J, []int32{rows, 0}, x, x) },
		"addOuter32 negative":     func() { addOuter(m, J, []int32{-3}, x, x) },
		"gemvT32 short mt":        func() { gemvT32(&dst, m[:len(m)-1], &xs, groupMax) },
		"gemvT32 short dst":       func() { d := dst; d[2] = make([]float32, J-1); gemvT32(&d, m, &xs, groupMax) },
	}
	for _, avx512 := range []bool{useAVX512, false} {
		for name, f := range cases {
			saved := useAVX512
			useAVX512 = avx512
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s (AVX-512 %v): no panic", name, avx512)
					}
				}()
				f()
			}()
			useAVX512 = saved
		}
	}
}

// BenchmarkKernels32 compares the float64 kernels with the float32 ones
// (both as dispatched: assembly where available) on the shapes that
// matter: gemvT for a group of four through a square layer of 100 and of
// 256 neurons, addRows and addOuter for a step of 10 spikes into 100
// and 256 currents, and lifStep and backwardTop on a layer of 100 and
// 256 (lifStep without decay of I, so that the layer keeps spiking
// without running into subnormals). Run with
//
//	go test ./sim -run '^$' -bench Kernels32 -count 6 -cpu 1
func BenchmarkKernels32(b *testing.B) {
	rng := newTestRand()
	normal := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	for _, J := range []int{100, 256} {
		mt := normal(J * J)
		var dst, x [groupMax][]float64
		var dst32, x32 [groupMax][]float32
		for s := range groupMax {
			dst[s], x[s] = normal(J), normal(J)
			dst32[s], x32[s] = f32(dst[s]), f32(x[s])
		}
		mt32 := f32(mt)
		b.Run(fmt.Sprintf("gemvT/J=%d/float64", J), func(b *testing.B) {
			for b.Loop() {
				gemvT(&dst, mt, &x, groupMax)
			}
		})
		b.Run(fmt.Sprintf("gemvT/J=%d/float32", J), func(b *testing.B) {
			for b.Loop() {
				gemvT32(&dst32, mt32, &x32, groupMax)
			}
		})

		const spikes = 10
		idx := make([]int32, spikes)
		for k := range idx {
			idx[k] = int32(rng.IntN(J))
		}
		val := normal(spikes)
		val32 := f32(val)
		b.Run(fmt.Sprintf("addRows/J=%d/float64", J), func(b *testing.B) {
			for b.Loop() {
				addRows(dst[0], mt, J, idx, val)
			}
		})
		b.Run(fmt.Sprintf("addRows/J=%d/float32", J), func(b *testing.B) {
			for b.Loop() {
				addRows(dst32[0], mt32, J, idx, val32)
			}
		})
		b.Run(fmt.Sprintf("addOuter/J=%d/float64", J), func(b *testing.B) {
			for b.Loop() {
				addOuter(mt, J, idx, val, x[0])
			}
		})
		b.Run(fmt.Sprintf("addOuter/J=%d/float32", J), func(b *testing.B) {
			for b.Loop() {
				addOuter(mt32, J, idx, val32, x32[0])
			}
		})

		u, cur, fired := normal(J), normal(J), make([]int32, J)
		u32, cur32 := f32(u), f32(cur)
		b.Run(fmt.Sprintf("lifStep/J=%d/float64", J), func(b *testing.B) {
			for b.Loop() {
				lifStep(u, cur, 0.5, 1, 0.5, fired)
			}
		})
		b.Run(fmt.Sprintf("lifStep/J=%d/float32", J), func(b *testing.B) {
			for b.Loop() {
				lifStep32(u32, cur32, 0.5, 1, 0.5, fired)
			}
		})
		b.Run(fmt.Sprintf("backwardTop/J=%d/float64", J), func(b *testing.B) {
			for b.Loop() {
				backwardTop(u, cur, x[0], x[1], x[2], x[3], 0.5, 1, 1)
			}
		})
		b.Run(fmt.Sprintf("backwardTop/J=%d/float32", J), func(b *testing.B) {
			for b.Loop() {
				backwardTop32(u32, cur32, x32[0], x32[1], x32[2], x32[3], 0.5, 1, 1)
			}
		})
	}
}

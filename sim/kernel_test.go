package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"testing"
)

// TestKernels: the dispatching kernels (assembly where available) equal the
// Go versions bit for bit, for lengths around the vector width and values
// around the threshold, including exact ties, signed zeros and NaN.
func TestKernels(t *testing.T) {
	if !useAVX2 {
		t.Skip("no assembly kernels on this machine or build (needs amd64 with AVX2, without -tags purego): nothing to compare the Go kernels with")
	}
	rng := newTestRand()
	vec := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = 1 + 0.5*rng.NormFloat64()
		}
		if n > 3 {
			v[0], v[1], v[2], v[3] = 1, math.Copysign(0, -1), math.NaN(), math.Nextafter(1, 2)
		}
		return v
	}
	same := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
	}
	const lm, lsyn, lo, theta = 0.9048374180359595, 0.8187307530779818, 0.951229424500714, 1
	for _, n := range []int{0, 1, 3, 4, 5, 8, 13, 16, 17, 33, 100, 256} {
		// lifStep, with AVX-512 (where available) and without
		u, cur := vec(n), vec(n)
		saved := useAVX512
		for _, avx512 := range []bool{useAVX512, false} {
			useAVX512 = avx512
			u1, cur1 := slices.Clone(u), slices.Clone(cur)
			u2, cur2 := slices.Clone(u), slices.Clone(cur)
			idx, idx2 := make([]int32, n), make([]int32, n)
			k := lifStep(u1, cur1, lm, lsyn, theta, idx)
			k2 := lifStepGo(u2, cur2, lm, lsyn, theta, idx2, 0)
			if k != k2 || !slices.Equal(idx[:k], idx2[:k2]) || !same(u1, u2) || !same(cur1, cur2) {
				t.Errorf("lifStep (AVX-512 %v), n=%d: spikes %v, Go %v; or U, I differ", avx512, n, idx[:k], idx2[:k2])
			}
		}
		useAVX512 = saved
		lifStepGo(u, cur, lm, lsyn, theta, make([]int32, n), 0) // as the tests below had it
		// superspikeRow, both numerators, with AVX-512 (where available)
		// and without
		for _, avx512 := range []bool{useAVX512, false} {
			useAVX512 = avx512
			for _, num := range []float64{1, 7} {
				d, d2 := make([]float64, n), make([]float64, n)
				superspikeRow(d, u, theta, 10, num)
				superspikeGo(d2, u, theta, 10, num)
				if !same(d, d2) {
					t.Errorf("superspikeRow (AVX-512 %v), n=%d, num=%v:\n%v\n%v", avx512, n, num, d, d2)
				}
			}
		}
		useAVX512 = saved
		// backwardTop and backwardInner
		gu, gi, h, gs, pi, pu := vec(n), vec(n), vec(n), vec(n), vec(n), vec(n)
		a := [][]float64{slices.Clone(gu), slices.Clone(gi), slices.Clone(pi), slices.Clone(pu)}
		backwardTop(gu, gi, h, gs, pi, pu, lm, lsyn, lo)
		backwardTopGo(a[0], a[1], h, gs, a[2], a[3], lm, lsyn, lo)
		if !same(gu, a[0]) || !same(gi, a[1]) || !same(pi, a[2]) || !same(pu, a[3]) {
			t.Errorf("backwardTop, n=%d differs from Go", n)
		}
		// addRow and dot
		dst, dst2 := vec(n), []float64(nil)
		dst2 = slices.Clone(dst)
		addRow(dst, h, 0.37)
		for i := range dst2 {
			dst2[i] += 0.37 * h[i]
		}
		if !same(dst, dst2) {
			t.Errorf("addRow, n=%d differs from Go", n)
		}
		// addRows, rows repeated and out of order, a stride longer than
		// n, with AVX-512 (where available) and without
		stride := n + 3
		m := vec(7 * stride)
		rows := []int32{3, 0, 6, 3, 1, 5}
		val := []float64{1, -0.37, 2.5, math.Copysign(0, -1), 1e-3, 7}
		want := vec(n)
		start := slices.Clone(want)
		for k, j := range rows {
			for i := range want {
				want[i] += val[k] * m[int(j)*stride+i]
			}
		}
		for _, avx512 := range []bool{useAVX512, false} {
			useAVX512 = avx512
			got := slices.Clone(start)
			addRows(got, m, stride, rows, val)
			if !same(got, want) {
				t.Errorf("addRows (AVX-512 %v), n=%d:\n%v\n%v", avx512, n, got, want)
			}
		}
		useAVX512 = saved

		// addOuter, the same rows
		wantM := slices.Clone(m)
		for k, j := range rows {
			for i, xi := range start {
				wantM[int(j)*stride+i] += val[k] * xi
			}
		}
		for _, avx512 := range []bool{useAVX512, false} {
			useAVX512 = avx512
			got := slices.Clone(m)
			addOuter(got, stride, rows, val, start)
			if !same(got, wantM) {
				t.Errorf("addOuter (AVX-512 %v), n=%d:\n%v\n%v", avx512, n, got, wantM)
			}
		}
		useAVX512 = saved

		// gemvT, for full and partial groups and a row count unlike n
		for _, k := range []int{groupMax, 2} {
			rows := n/2 + 3
			mt := vec(rows * n)
			var dst, x, want [groupMax][]float64
			for s := range groupMax {
				dst[s], x[s] = vec(n), vec(rows)
				if len(x[s]) > 2 {
					x[s][2] = 0.5 // no NaN
				}
				want[s] = slices.Clone(dst[s])
				if s < k {
					for j := range want[s] {
						for i, xi := range x[s] {
							want[s][j] += xi * mt[i*n+j]
						}
					}
				}
			}
			// With AVX-512 (where available), then with AVX2 only.
			saved := useAVX512
			for _, avx512 := range []bool{useAVX512, false} {
				useAVX512 = avx512
				var got [groupMax][]float64
				for s := range dst {
					got[s] = slices.Clone(dst[s])
				}
				gemvT(&got, mt, &x, k)
				for s := range k {
					if !same(got[s], want[s]) {
						t.Errorf("gemvT (AVX-512 %v), n=%d, group of %d, sample %d:\n%v\n%v", avx512, n, k, s, got[s], want[s])
					}
				}
			}
			useAVX512 = saved
		}
		gu2, gi2 := slices.Clone(gu), slices.Clone(gi)
		backwardInner(gu, gi, h, gs, lm, lsyn)
		backwardInnerGo(gu2, gi2, h, gs, lm, lsyn)
		if !same(gu, gu2) || !same(gi, gi2) {
			t.Errorf("backwardInner, n=%d differs from Go", n)
		}
	}
}

// TestKernelsDoNotChangeResults: a whole training gives the same Result
// bytes with and without the assembly kernels, for the SuperSpike
// surrogate and for an exponential one, in both numerics.
func TestKernelsDoNotChangeResults(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 kernels on this machine or build")
	}
	for _, c := range []struct {
		shape    string
		numerics Numerics
	}{{"superspike", ""}, {"sigmoid", ""}, {"superspike", NumericsFloat32}, {"sigmoid", NumericsFloat32}} {
		shape := c.shape
		cfg := quickRandman()
		cfg.Numerics = c.numerics
		cfg.Dataset.SamplesPerClass = 60
		cfg.Train.Epochs = 2
		cfg.Network.Hidden = []int{30, 21}
		cfg.Network.Recurrent = true
		cfg.Surrogate.Shape = shape
		run := func() []byte {
			res, _, err := Train(context.Background(), cfg, Options{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(res)
			return b
		}
		withAVX2 := run()
		saved := useAVX512
		useAVX2, useAVX512 = false, false
		without := run()
		useAVX2, useAVX512 = true, saved
		if !bytes.Equal(withAVX2, without) {
			t.Errorf("%s %s: Result with the assembly kernels:\n%s\nwithout:\n%s", shape, c.numerics, withAVX2, without)
		}
	}
}

// TestExpRow: expRow gives math.Exp's bits on probeExp's special and
// boundary arguments and on a million random ones (random bit patterns,
// which cover every exponent, NaN payloads and subnormals; uniform over
// the range where exp is finite and non-zero; and the surrogates'
// arguments −β·|x|), at every alignment of the vector tail.
func TestExpRow(t *testing.T) {
	if !useAVX2 || !mathExpFMA {
		t.Log("no vector exp on this machine or build: checking math.Exp against itself")
	}
	rng := newTestRand()
	x := probeExp()
	for range 1_000_000 / 3 {
		x = append(x, math.Float64frombits(rng.Uint64()), -745+1455*rng.Float64(),
			-rng.ExpFloat64()*math.Pow(10, 4*rng.Float64()-2))
	}
	for off := range 4 {
		got := make([]float64, len(x)-off)
		expRow(got, x[off:])
		for i, xi := range x[off:] {
			if want := math.Exp(xi); math.Float64bits(got[i]) != math.Float64bits(want) {
				t.Fatalf("expRow at %v (%#x): %v (%#x), math.Exp %v (%#x)",
					xi, math.Float64bits(xi), got[i], math.Float64bits(got[i]), want, math.Float64bits(want))
			}
		}
	}
	// In place, and short rows.
	for n := range 9 {
		row := slices.Clone(x[:n])
		expRow(row, row)
		for i, xi := range x[:n] {
			if math.Float64bits(row[i]) != math.Float64bits(math.Exp(xi)) {
				t.Fatalf("expRow in place, n=%d, at %v: %v", n, xi, row[i])
			}
		}
	}
	t.Logf("%d arguments, each at 4 offsets: bit-identical to math.Exp", len(x))
}

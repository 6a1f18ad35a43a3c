package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"strings"
	"testing"
)

// SplitMix64 gives the outputs of Vigna's reference splitmix64.c.
func TestSplitMix64Reference(t *testing.T) {
	r := &splitMix64{state: 0}
	if got := r.next(); got != 0xe220a8397b1dcdaf {
		t.Errorf("seed 0: first output %#x, want 0xe220a8397b1dcdaf", got)
	}
	r = &splitMix64{state: 1234567}
	for i, want := range []uint64{6457827717110365317, 3203168211198807973} {
		if got := r.next(); got != want {
			t.Errorf("seed 1234567: output %d is %d, want %d", i, got, want)
		}
	}
}

// below is uniform over [0, k): every value turns up, none outside.
func TestSplitMix64Below(t *testing.T) {
	r := &splitMix64{state: 9}
	counts := make([]int, 7)
	for range 7000 {
		k := r.below(7)
		if k >= 7 {
			t.Fatalf("below(7) = %d", k)
		}
		counts[k]++
	}
	for k, c := range counts {
		if c < 850 || c > 1150 {
			t.Errorf("below(7) gave %d %d times in 7000, want about 1000", k, c)
		}
	}
}

// A Latin hypercube puts exactly one point in each of the n strata of every
// coordinate, for any n and seed.
func TestLatinStrata(t *testing.T) {
	for _, n := range []int{1, 2, 7, 100, 1000} {
		for _, seed := range []uint64{0, 1, 42} {
			pts := unitPoints(methodLatin, n, 3, seed)
			for j := range 3 {
				hit := make([]bool, n)
				for i := range n {
					u := pts[i][j]
					if !(u >= 0 && u < 1) {
						t.Fatalf("n %d seed %d: point %d coordinate %d = %v, outside [0, 1)", n, seed, i, j, u)
					}
					k := stratum(u, n)
					if hit[k] {
						t.Fatalf("n %d seed %d: coordinate %d has two points in stratum %d", n, seed, j, k)
					}
					hit[k] = true
				}
			}
		}
	}
}

// random and sobol points lie in [0, 1); sobol ignores the seed, random
// does not.
func TestUnitPoints(t *testing.T) {
	for _, method := range sampleMethods {
		pts := unitPoints(method, 64, 5, 3)
		for i, p := range pts {
			for j, u := range p {
				if !(u >= 0 && u < 1) {
					t.Fatalf("%s: point %d coordinate %d = %v", method, i, j, u)
				}
			}
		}
		other := unitPoints(method, 64, 5, 4)
		same := fmt.Sprint(pts) == fmt.Sprint(other)
		if same != (method == methodSobol) {
			t.Errorf("%s: seeds 3 and 4 give the same points: %v", method, same)
		}
	}
}

// stratum is ⌊u·n⌋ exactly, at the strata's edges and in between.
func TestStratum(t *testing.T) {
	exact := func(u float64, n int) int {
		r := new(big.Rat).SetFloat64(u)
		r.Mul(r, new(big.Rat).SetInt64(int64(n)))
		return int(new(big.Int).Quo(r.Num(), r.Denom()).Int64())
	}
	r := &splitMix64{state: 1}
	for _, n := range []int{1, 3, 10, 49, 1 << 20, 9_999_991} {
		var us []float64
		for _, k := range []int{0, 1, n / 2, n - 1} {
			u := float64(k) / float64(n)
			us = append(us, u, math.Nextafter(u, 0), math.Nextafter(u, 1))
		}
		for range 100 {
			us = append(us, r.float())
		}
		for _, u := range us {
			if u < 0 || u >= 1 {
				continue
			}
			if got, want := stratum(u, n), exact(u, n); got != want {
				t.Errorf("stratum(%v, %d) = %d, want %d", u, n, got, want)
			}
		}
	}
}

// logUniform matches exp(ln a + u(ln b − ln a)) to 13 digits.
func TestLogUniform(t *testing.T) {
	r := &splitMix64{state: 5}
	for _, ab := range [][2]float64{{1, 100}, {1e-4, 1e-1}, {0.5, 0.50001}, {3, 1e300}} {
		a, b := ab[0], ab[1]
		for range 1000 {
			u := r.float()
			got := logUniform(a, b, u)
			want := math.Exp(math.Log(a) + u*(math.Log(b)-math.Log(a)))
			if math.Abs(got-want) > 1e-13*want {
				t.Fatalf("logUniform(%v, %v, %v) = %v, want %v", a, b, u, got, want)
			}
		}
	}
	if got := logUniform(2, 50, 0); got != 2 {
		t.Errorf("logUniform(2, 50, 0) = %v, want 2", got)
	}
}

const sampledSpec = `name: s
base: {train.epochs: 5}
grid:
  network.reset: [detached, differentiable]
  surrogate.scale: {loguniform: [0.5, 200]}
  train.lr: {uniform: [0.001, 0.01]}
  train.batch: {int: [100, 103]}
  surrogate.shape: {choice: [superspike, esser, sigmoid]}
sample: {method: %s, n: %d, seed: 11}
replicates: {seed: 3}
`

// Every sampled value lies in its range; a Latin hypercube hits every
// stratum of every axis, and ints and choices take every value.
func TestSampleRanges(t *testing.T) {
	for _, method := range sampleMethods {
		t.Run(method, func(t *testing.T) {
			const n = 64
			s := mustParse(t, fmt.Sprintf(sampledSpec, method, n))
			smp := s.Sampling()
			if smp == nil || smp.Method != method || smp.N != n || len(smp.Axes) != 4 {
				t.Fatalf("Sampling() = %+v", smp)
			}
			var ax Axis
			for _, a := range s.Axes() {
				if a.Kind == AxisSample {
					ax = a
				}
			}
			if ax.Name() != "surrogate.scale+train.lr+train.batch+surrogate.shape" || ax.Len() != n {
				t.Fatalf("sample axis %s of %d points", ax.Name(), ax.Len())
			}
			batches, shapes := map[int]bool{}, map[string]bool{}
			for _, p := range ax.Values {
				var scale, lr float64
				var batch int
				var shape string
				for j, dst := range []any{&scale, &lr, &batch, &shape} {
					if err := json.Unmarshal(p[j], dst); err != nil {
						t.Fatalf("value %s: %v", p[j], err)
					}
				}
				if scale < 0.5 || scale > 200 || lr < 0.001 || lr > 0.01 || batch < 100 || batch > 103 {
					t.Errorf("point %s out of range", joinRaw(p))
				}
				if scale != round12(scale) || lr != round12(lr) {
					t.Errorf("point %s not rounded to 12 digits", joinRaw(p))
				}
				batches[batch] = true
				shapes[shape] = true
			}
			if len(batches) != 4 || len(shapes) != 3 {
				t.Errorf("%d points drew batches %v and shapes %v; want all 4 and all 3", n, batches, shapes)
			}
			for _, a := range smp.Axes {
				if method != methodRandom && a.Strata != n {
					// Sobol's first 2^m points, the origin included,
					// stratify each coordinate too.
					t.Errorf("%s hits %d of %d strata, want all", a.Path, a.Strata, n)
				}
				if a.Strata < n/2 {
					t.Errorf("%s hits only %d of %d strata", a.Path, a.Strata, n)
				}
			}
		})
	}
}

// Sample points cross with grid axes and replicates: n × grid × seeds
// tasks, each sample point once per grid cell and seed.
func TestSampleCrossing(t *testing.T) {
	s := mustParse(t, fmt.Sprintf(sampledSpec, methodLatin, 10))
	tasks, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 10*2*3 || s.Count() != 60 || s.Points() != 60 {
		t.Fatalf("%d tasks, Count %d, Points %d; want 10 × 2 × 3 = 60", len(tasks), s.Count(), s.Points())
	}
	checkTasks(t, s, tasks)
	// Axis order: seed, network.reset, then the sample axis where
	// surrogate.scale is written.
	var names []string
	for _, ax := range s.Axes() {
		names = append(names, ax.Name())
	}
	if got := strings.Join(names, " | "); got != "seed | network.reset | surrogate.scale+train.lr+train.batch+surrogate.shape" {
		t.Errorf("axes %s", got)
	}
	if got, want := tasks[1].Point[2].Value, s.Axes()[2].Values[1][0]; string(got) != string(want) {
		t.Errorf("task 1 has scale %s, want the second sample point's %s", got, want)
	}
}

// The same spec gives the same tasks; the seed and method change them, and
// so the fingerprint, but sobol ignores the seed.
func TestSampleIdentity(t *testing.T) {
	ids := func(spec string) (string, string) {
		s := mustParse(t, spec)
		tasks, err := s.Expand()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, tk := range tasks {
			b.WriteString(tk.ID)
		}
		return b.String(), s.Fingerprint()
	}
	spec := fmt.Sprintf(sampledSpec, methodRandom, 8)
	a, fa := ids(spec)
	b, fb := ids(spec)
	if a != b || fa != fb {
		t.Fatal("the same spec gave different tasks")
	}
	c, fc := ids(strings.Replace(spec, "seed: 11", "seed: 12", 1))
	if c == a || fc == fa {
		t.Error("another seed gave the same tasks or fingerprint")
	}
	sobol := fmt.Sprintf(sampledSpec, methodSobol, 8)
	d, fd := ids(sobol)
	e, fe := ids(strings.Replace(sobol, "seed: 11", "seed: 12", 1))
	if d != e || fd != fe {
		t.Error("sobol depends on the seed")
	}
	g, fg := ids(strings.Replace(spec, "[0.5, 200]", "[0.5, 300]", 1))
	if g == a || fg == fa {
		t.Error("other bounds gave the same tasks or fingerprint")
	}
	if !strings.Contains(string(mustParse(t, spec).Canonical()), `"sample":{"axes":[{"args":[0.5,200],"dist":"loguniform","path":"surrogate.scale"}`) {
		t.Errorf("canonical spec lacks the sample block: %s", mustParse(t, spec).Canonical())
	}
}

// exclude works on a sampled axis like on any other.
func TestSampleExclude(t *testing.T) {
	spec := fmt.Sprintf(sampledSpec, methodLatin, 30) + "exclude:\n  - {surrogate.shape: esser, network.reset: differentiable}\n"
	s := mustParse(t, spec)
	tasks, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	esser := 0
	for _, p := range s.Axes()[2].Values {
		if string(p[3]) == `"esser"` {
			esser++
		}
	}
	if esser == 0 || len(tasks) != 3*(2*30-esser) {
		t.Errorf("%d tasks with %d esser points, want 3 × (60 − %d)", len(tasks), esser, esser)
	}
	for _, tk := range tasks {
		if tk.Config.Surrogate.Shape == "esser" && tk.Config.Network.Reset == "differentiable" {
			t.Fatalf("task %d was excluded", tk.Ordinal)
		}
	}
}

// Bad input: each refused with its file, line, field and message.
func TestSampleErrors(t *testing.T) {
	grid := "name: x\ngrid:\n  surrogate.scale: %s\nsample: %s\n"
	spec := func(axis, block string) string { return fmt.Sprintf(grid, axis, block) }
	ok := "{method: random, n: 4}"
	tests := []struct {
		name, spec string
		line       int
		field, msg string
	}{
		{"unknown method", spec("{uniform: [1, 2]}", "{method: sobel, n: 4}"), 4, "sample.method",
			`unknown method string "sobel" (allowed: random, sobol, latin) (did you mean sobol?)`},
		{"n zero", spec("{uniform: [1, 2]}", "{method: latin, n: 0}"), 4, "sample.n", "want the number of sample points, an integer ≥ 1; got integer 0"},
		{"n fractional", spec("{uniform: [1, 2]}", "{method: latin, n: 2.5}"), 4, "sample.n", "want the number of sample points, an integer ≥ 1; got number 2.5"},
		{"n over max_tasks", "name: x\nmax_tasks: 50\ngrid:\n  surrogate.scale: {uniform: [1, 2]}\nsample: {method: latin, n: 51}\n", 5, "sample.n",
			"51 sample points are more than max_tasks (50); raise max_tasks if you mean it"},
		{"n × grid over max_tasks", "name: x\nmax_tasks: 50\ngrid:\n  surrogate.scale: {uniform: [1, 2]}\n  train.lr: [0.1, 0.2]\nsample: {method: latin, n: 30}\n", 2, "max_tasks",
			"the spec expands to 60 tasks (surrogate.scale 30 × train.lr 2), more than max_tasks = 50"},
		{"missing n", spec("{uniform: [1, 2]}", "{method: latin}"), 4, "sample", "missing n: a sample block is {method: random | sobol | latin, n: N, seed: S}"},
		{"unknown key", spec("{uniform: [1, 2]}", "{method: latin, n: 3, sed: 1}"), 4, "sample.sed", "unknown key (allowed: method, n, seed) (did you mean seed?)"},
		{"negative seed", spec("{uniform: [1, 2]}", "{method: latin, n: 3, seed: -1}"), 4, "sample.seed", "want a non-negative integer; got integer -1"},
		{"block not a mapping", spec("{uniform: [1, 2]}", "[sobol, 4]"), 4, "sample", "want a mapping like {method: sobol, n: 64, seed: 1}; got a list"},
		{"bounds reversed", spec("{uniform: [2, 1]}", ok), 3, "grid.surrogate.scale", "uniform bounds [2, 1] are reversed or equal: want {uniform: [a, b]} with a < b"},
		{"bounds equal", spec("{loguniform: [2, 2.0]}", ok), 3, "grid.surrogate.scale", "loguniform bounds [2, 2.0] are reversed or equal"},
		{"loguniform zero", spec("{loguniform: [0, 10]}", ok), 3, "grid.surrogate.scale", "loguniform bounds must be positive, got [0, 10]: want {loguniform: [a, b]} with 0 < a < b"},
		{"loguniform negative", spec("{loguniform: [-1, 10]}", ok), 3, "grid.surrogate.scale", "loguniform bounds must be positive"},
		{"one bound", spec("{uniform: [1]}", ok), 3, "grid.surrogate.scale", "uniform wants a list of 2 numbers: {uniform: [a, b]} with a < b; got 1"},
		{"bounds not a list", spec("{uniform: 1}", ok), 3, "grid.surrogate.scale", "uniform wants a list: {uniform: [a, b]} with a < b; got integer 1"},
		{"bound not a number", spec("{uniform: [1, big]}", ok), 3, "grid.surrogate.scale", `uniform wants numbers: {uniform: [a, b]} with a < b; got string "big"`},
		{"infinite bound", spec("{uniform: [1, .inf]}", ok), 3, "grid.surrogate.scale", "uniform wants finite numbers, got .inf"},
		{"int bounds not integers", "name: x\ngrid:\n  train.epochs: {int: [1, 2.5]}\nsample: {method: random, n: 2}\n", 3, "grid.train.epochs",
			"int wants integer bounds (at most 2^53 in size): {int: [a, b]}, integers a < b, both included; got number 2.5"},
		{"uniform on an integer field", "name: x\ngrid:\n  train.epochs: {uniform: [1, 20]}\nsample: {method: random, n: 2}\n", 3, "grid.train.epochs",
			"train.epochs is an integer field: sample it with {int: [a, b]}"},
		{"uniform on a string field", "name: x\ngrid:\n  surrogate.shape: {uniform: [1, 20]}\nsample: {method: random, n: 2}\n", 3, "grid.surrogate.shape",
			"{uniform: …} samples numbers, but surrogate.shape is a string: sample it with {choice: […]}"},
		{"choice empty", "name: x\ngrid:\n  surrogate.shape: {choice: []}\nsample: {method: random, n: 2}\n", 3, "grid.surrogate.shape", "choice has no items: write {choice: [v1, v2, …]}"},
		{"choice repeated", "name: x\ngrid:\n  surrogate.shape: {choice: [esser, esser]}\nsample: {method: random, n: 2}\n", 3, "grid.surrogate.shape", "value esser appears twice"},
		{"choice item invalid", "name: x\ngrid:\n  surrogate.shape: {choice: [esser, esre]}\nsample: {method: random, n: 2}\n", 3, "grid.surrogate.shape", `"esre" is not one of`},
		{"sampled value invalid for sim", "name: x\ngrid:\n  surrogate.scale: {uniform: [-5, -1]}\nsample: {method: random, n: 2}\n", 3, "grid.surrogate.scale", "must be ≥ 0"},
		{"too few distinct points", "name: x\ngrid:\n  surrogate.shape: {choice: [esser, superspike]}\nsample: {method: random, n: 3}\n", 4, "sample.n",
			"the sampled axes have too few distinct values for 3 points; lower n, or list them as grid axes"},
		{"sampled in zip", "name: x\nzip:\n  surrogate.scale: {uniform: [1, 2]}\n  train.lr: [0.1, 0.2]\nsample: {method: random, n: 2}\n", 3, "zip.surrogate.scale",
			"{uniform: …} samples an axis and is allowed only as a whole entry of grid, like grid: {train.lr: {loguniform: [0.001, 0.1]}}; not under zip or replicates, nor inside a list"},
		{"sampled in replicates", "name: x\nreplicates: {seed: {int: [1, 9]}}\n", 2, "replicates.seed", "{int: …} samples an axis and is allowed only as a whole entry of grid"},
		{"sampled inside a list", "name: x\ngrid:\n  surrogate.scale: [1, {uniform: [1, 2]}]\nsample: {method: random, n: 2}\n", 3, "grid.surrogate.scale", "allowed only as a whole entry of grid"},
		{"sample without sampled axes", "name: x\ngrid:\n  surrogate.scale: [1, 2]\nsample: {method: random, n: 2}\n", 4, "sample",
			"no axis is sampled: write one under grid as {uniform: [a, b]}, {loguniform: [a, b]}, {int: [a, b]} or {choice: [v1, v2, …]}, or remove the sample block"},
		{"sampled axes without sample", "name: x\ngrid:\n  surrogate.scale: {loguniform: [1, 100]}\n", 3, "grid.surrogate.scale",
			"a sampled axis needs a sample block at the top level, like sample: {method: sobol, n: 64, seed: 1}"},
		{"sampled and listed", "name: x\ngrid:\n  surrogate.scale: {uniform: [1, 2]}\nzip:\n  surrogate.scale: [1, 2]\nsample: {method: random, n: 2}\n", 5, "zip.surrogate.scale", "overlaps grid.surrogate.scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("spec.yaml", []byte(tt.spec))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error")
			}
			var found bool
			var all []error
			if list, ok := err.(*SpecErrors); ok {
				for _, e := range *list {
					all = append(all, e)
				}
			} else {
				all = []error{err}
			}
			for _, e := range all {
				var se *SpecError
				if errors.As(e, &se) && se.Line == tt.line && se.Field == tt.field && strings.Contains(se.Msg, tt.msg) && se.File == "spec.yaml" {
					found = true
				}
			}
			if !found {
				t.Errorf("Parse error:\n%v\nwant one at line %d, field %q, containing %q", err, tt.line, tt.field, tt.msg)
			}
		})
	}
}

// A huge n is refused before anything is drawn: parsing it allocates no
// more than parsing a small spec does.
func TestSampleHugeNRefusedEarly(t *testing.T) {
	huge := "name: x\nmax_tasks: 10000000\ngrid:\n  surrogate.scale: {uniform: [1, 2]}\n  train.lr: {uniform: [0.1, 0.2]}\nsample: {method: latin, n: 9223372036854775807}\n"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse("spec.yaml", []byte(huge))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "sample.n: 9223372036854775807 sample points are more than max_tasks (10000000)") {
		t.Fatalf("Parse: %v", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("refusing n allocated %d bytes, want under 1 MiB", got)
	}
}

package sim

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sgsweep/sgsweep/internal/golden"
)

// smallRandman is the paper's Randman with fewer samples, for fast tests.
func smallRandman() DatasetConfig {
	d := DefaultConfig().Dataset
	d.SamplesPerClass = 100
	return d
}

func TestRandmanSpikes(t *testing.T) {
	tests := []struct {
		name          string
		steps         int
		window        float64
		wantWindow    int // W, in steps
		units, cutoff int
	}{
		{"paper", 100, 0.5, 50, 20, 1000},
		{"odd window", 37, 0.3, 11, 7, 50},
		{"rounding 0.29·100", 100, 0.29, 29, 5, 50},
		{"whole window", 10, 1, 10, 30, 20},
		{"one step", 1, 1, 1, 3, 10},
		{"window below a step", 3, 0.1, 1, 3, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := smallRandman()
			d.Steps, d.Window, d.Units, d.Cutoff = tt.steps, tt.window, tt.units, tt.cutoff
			ds, err := GenerateRandman(d, 3)
			if err != nil {
				t.Fatal(err)
			}
			mustValidate(t, ds)
			if ds.Inputs != tt.units || ds.Steps != tt.steps || ds.Classes != d.Classes {
				t.Fatalf("inputs, steps, classes = %d, %d, %d; want %d, %d, %d", ds.Inputs, ds.Steps, ds.Classes, tt.units, tt.steps, d.Classes)
			}
			// Per class and unit, the earliest and latest spike over all splits.
			first := make([]int, d.Classes*tt.units)
			last := make([]int, d.Classes*tt.units)
			for i := range first {
				first[i] = math.MaxInt
			}
			for _, s := range []*Split{&ds.Train, &ds.Val, &ds.Test} {
				for k := range s.Len() {
					times, units := s.Events(k)
					if len(times) != tt.units {
						t.Fatalf("sample %d has %d events, want one per unit: %d", k, len(times), tt.units)
					}
					seen := make([]bool, tt.units)
					for e, u := range units {
						if seen[u] {
							t.Fatalf("sample %d: unit %d spikes twice", k, u)
						}
						seen[u] = true
						if int(times[e]) >= tt.wantWindow {
							t.Fatalf("sample %d: unit %d spikes at step %d, outside the window of %d steps", k, u, times[e], tt.wantWindow)
						}
						j := int(s.Labels[k])*tt.units + int(u)
						first[j] = min(first[j], int(times[e]))
						last[j] = max(last[j], int(times[e]))
					}
				}
			}
			// Min–max scaling: each class's unit spans the whole window.
			for j := range first {
				if first[j] != 0 || last[j] != tt.wantWindow-1 {
					t.Fatalf("class %d, unit %d spikes in steps [%d, %d], want [0, %d]", j/tt.units, j%tt.units, first[j], last[j], tt.wantWindow-1)
				}
			}
		})
	}
}

func TestRandmanSplits(t *testing.T) {
	tests := []struct {
		name                         string
		classes, perClass            int
		valFrac, testFrac            float64
		wantTrain, wantVal, wantTest int // per class
	}{
		{"paper", 10, 1000, 0.1, 0.1, 800, 100, 100},
		{"rounding", 3, 7, 0.1, 0.2, 5, 1, 1},
		{"no validation", 2, 10, 0, 0.5, 5, 0, 5},
		{"no test", 4, 10, 0.3, 0, 7, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := smallRandman()
			d.Classes, d.SamplesPerClass, d.ValFraction, d.TestFraction = tt.classes, tt.perClass, tt.valFrac, tt.testFrac
			d.Cutoff = 100
			ds, err := GenerateRandman(d, 1)
			if err != nil {
				t.Fatal(err)
			}
			mustValidate(t, ds)
			for _, s := range []struct {
				name  string
				split *Split
				want  int
			}{{"train", &ds.Train, tt.wantTrain}, {"val", &ds.Val, tt.wantVal}, {"test", &ds.Test, tt.wantTest}} {
				want := slices.Repeat([]int{s.want}, tt.classes)
				if got := classCounts(s.split, tt.classes); !slices.Equal(got, want) {
					t.Errorf("%s samples per class = %v, want %v", s.name, got, want)
				}
			}
			// Shuffled across classes: the labels are not sorted.
			if tt.wantTrain > 1 && slices.IsSorted(ds.Train.Labels) {
				t.Errorf("training labels are sorted: %v", ds.Train.Labels)
			}
		})
	}
}

// TestRandmanSplitsArePartition checks that the three splits hold exactly
// the generated samples, each once, with its class.
func TestRandmanSplitsArePartition(t *testing.T) {
	d := smallRandman()
	d.Cutoff = 200
	g, err := newRandman(d)
	if err != nil {
		t.Fatal(err)
	}
	g.drawManifolds(5)
	g.evaluate(2)
	times := g.spikeTimes()
	ds, err := g.assemble(times, 5)
	if err != nil {
		t.Fatal(err)
	}
	key := func(label uint8, spikeOf []uint16) string { return fmt.Sprint(label, spikeOf) }
	want := map[string]int{}
	for m := range d.Classes * d.SamplesPerClass {
		want[key(uint8(m/d.SamplesPerClass), times[m*d.Units:(m+1)*d.Units])]++
	}
	got := map[string]int{}
	for _, s := range []*Split{&ds.Train, &ds.Val, &ds.Test} {
		for k := range s.Len() {
			spikeOf := make([]uint16, d.Units)
			ts, us := s.Events(k)
			for e := range ts {
				spikeOf[us[e]] = ts[e]
			}
			got[key(s.Labels[k], spikeOf)]++
		}
	}
	if len(got) != len(want) {
		t.Fatalf("splits hold %d distinct samples, generated %d", len(got), len(want))
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("sample %s: %d times in the splits, generated %d times", k, got[k], n)
		}
	}
}

func TestRandmanDeterministic(t *testing.T) {
	d := smallRandman()
	d.Cutoff = 200
	a, err := GenerateRandman(d, 11)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateRandman(d, 11)
	if err != nil {
		t.Fatal(err)
	}
	c, err := GenerateRandman(d, 12)
	if err != nil {
		t.Fatal(err)
	}
	if ha, hb := datasetHash(a), datasetHash(b); ha != hb {
		t.Errorf("data seed 11 twice: hashes %s and %s, want equal", ha, hb)
	}
	if ha, hc := datasetHash(a), datasetHash(c); ha == hc {
		t.Errorf("data seeds 11 and 12 both give %s, want different data", ha)
	}
	// Different points for a different seed, not just another shuffle.
	if slices.Equal(a.Test.Times, c.Test.Times) {
		t.Errorf("data seeds 11 and 12 give the same test spike times")
	}
}

func TestRandmanThreadsDoNotMatter(t *testing.T) {
	d := smallRandman()
	d.Classes = 3
	var want []float64
	for _, threads := range []int{1, 2, 7, 64} {
		g, err := newRandman(d)
		if err != nil {
			t.Fatal(err)
		}
		g.drawManifolds(2)
		g.evaluate(threads)
		if want == nil {
			want = g.y
		} else if !slices.Equal(g.y, want) {
			t.Errorf("%d threads give other unit values than 1 thread", threads)
		}
	}
}

// TestRandmanMatchesFormula recomputes the spike times with a deliberately
// naive implementation of the paper's formula (math.Sin, math.Pow, loops in
// the documented draw order) and compares them with the generator's.
func TestRandmanMatchesFormula(t *testing.T) {
	tests := []struct {
		name                        string
		classes, units, dim, cutoff int
		alpha                       float64
	}{
		{"paper shape", 3, 20, 1, 1000, 1},
		{"two dimensions, α 1.5", 2, 6, 2, 300, 1.5},
		{"three dimensions, α 2", 2, 4, 3, 50, 2},
		{"flat spectrum", 2, 4, 1, 50, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := smallRandman()
			d.Classes, d.Units, d.Dim, d.Cutoff, d.Alpha = tt.classes, tt.units, tt.dim, tt.cutoff, tt.alpha
			d.SamplesPerClass = 60
			const seed = 21
			g, err := newRandman(d)
			if err != nil {
				t.Fatal(err)
			}
			g.drawManifolds(seed)
			g.evaluate(2)
			got := g.spikeTimes()
			want := naiveRandmanTimes(d, seed)
			diff := 0
			for i := range want {
				if got[i] != want[i] {
					diff++
				}
			}
			if diff > 0 {
				t.Errorf("%d of %d spike times differ from the naive formula", diff, len(want))
			}
		})
	}
}

// naiveRandmanTimes returns the spike times of class c, sample n, unit i at
// (c·N + n)·M + i, straight from the formula in GenerateRandman's doc.
func naiveRandmanTimes(d DatasetConfig, seed uint64) []uint16 {
	M, D, K, N := d.Units, d.Dim, d.Cutoff, d.SamplesPerClass
	W := int(math.Floor(d.Window*float64(d.Steps) + 1e-9))
	out := make([]uint16, d.Classes*N*M)
	for c := range d.Classes {
		A := make([][][]float64, M)
		B := make([][][]float64, M)
		C := make([][][]float64, M)
		src := dataStream(seed, dataStreamManifold, uint64(c))
		for i := range M {
			A[i], B[i], C[i] = make([][]float64, D), make([][]float64, D), make([][]float64, D)
			for j := range D {
				for range K {
					A[i][j] = append(A[i][j], dataUniform(src))
					B[i][j] = append(B[i][j], dataUniform(src))
					C[i][j] = append(C[i][j], dataUniform(src))
				}
			}
		}
		pts := dataStream(seed, dataStreamPoints, uint64(c))
		x := make([][]float64, N)
		for n := range N {
			for range D {
				x[n] = append(x[n], dataUniform(pts))
			}
		}
		for i := range M {
			f := make([]float64, N)
			for n := range N {
				f[n] = 1
				for j := range D {
					sum := 0.0
					for k := 1; k <= K; k++ {
						sum += math.Pow(float64(k), -d.Alpha) * A[i][j][k-1] *
							math.Sin(2*math.Pi*(float64(k)*x[n][j]*B[i][j][k-1]+C[i][j][k-1]))
					}
					f[n] *= sum
				}
			}
			lo, hi := slices.Min(f), slices.Max(f)
			for n := range N {
				step := int((f[n] - lo) / (hi - lo) * float64(W))
				out[(c*N+n)*M+i] = uint16(min(step, W-1))
			}
		}
	}
	return out
}

// TestRandmanLearnable guards against a generator that produces noise: the
// classes must be separable by a nearest-neighbour classifier on the spike
// times, and the same classifier must fall to chance when the training
// labels are shuffled.
func TestRandmanLearnable(t *testing.T) {
	d := smallRandman()
	d.SamplesPerClass = 200
	ds, err := GenerateRandman(d, 1)
	if err != nil {
		t.Fatal(err)
	}
	train := firstSpikeVectors(&ds.Train, ds.Inputs, ds.Steps)
	test := firstSpikeVectors(&ds.Test, ds.Inputs, ds.Steps)
	if acc := nearestNeighbourAccuracy(train, ds.Train.Labels, test, ds.Test.Labels); acc < 0.9 {
		t.Errorf("1-nearest-neighbour test accuracy on randman = %.3f, want ≥ 0.9 (chance 0.1)", acc)
	}
	shuffled := slices.Clone(ds.Train.Labels)
	src := dataStream(1, 99, 0)
	for i := len(shuffled) - 1; i > 0; i-- {
		j := dataIntN(src, i+1)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	if acc := nearestNeighbourAccuracy(train, shuffled, test, ds.Test.Labels); acc > 0.2 {
		t.Errorf("1-nearest-neighbour test accuracy with shuffled training labels = %.3f, want about chance (0.1)", acc)
	}
}

// TestRandmanGolden pins the paper's task (with 100 rather than 1000
// samples per class, to stay fast) for data seed 1: a change to the
// generator changes every randman result, so it must come with a new
// ModelVersion and an updated golden file (go test -run Golden -update).
func TestRandmanGolden(t *testing.T) {
	ds, err := GenerateRandman(smallRandman(), 1)
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, ds)
	got := datasetHash(ds) + "\n"
	golden.Check(t, filepath.Join("testdata", "randman_golden.txt"), []byte(got))
}

func TestRandmanErrors(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*DatasetConfig)
		wantField string
	}{
		{"one class", func(d *DatasetConfig) { d.Classes = 1 }, "dataset.classes"},
		{"more classes than labels", func(d *DatasetConfig) { d.Classes = 257 }, "dataset.classes"},
		{"no units", func(d *DatasetConfig) { d.Units = 0 }, "dataset.units"},
		{"no cutoff", func(d *DatasetConfig) { d.Cutoff = 0 }, "dataset.cutoff"},
		{"window zero", func(d *DatasetConfig) { d.Window = 0 }, "dataset.window"},
		{"negative alpha", func(d *DatasetConfig) { d.Alpha = -1 }, "dataset.alpha"},
		{"too many terms", func(d *DatasetConfig) { d.Cutoff = 1 << 24 }, "dataset.cutoff"},
		{"nothing left to train", func(d *DatasetConfig) {
			d.SamplesPerClass, d.ValFraction, d.TestFraction = 2, 0.45, 0.45
		}, "dataset.samples_per_class"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := smallRandman()
			tt.edit(&d)
			_, err := GenerateRandman(d, 1)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Errorf("GenerateRandman error = %v, want a *FieldError for %s", err, tt.wantField)
			}
		})
	}
}

// BenchmarkGenerateRandman generates the paper's task (10 classes × 1000
// samples × 20 units × K = 1000: 2·10⁸ sine terms). Compare thread counts
// with -cpu 1,2. cpu-s/op is the CPU time used, robust to other loads.
func BenchmarkGenerateRandman(b *testing.B) {
	d := DefaultConfig().Dataset
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPUTime()
	for range b.N {
		if _, err := GenerateRandman(d, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((processCPUTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

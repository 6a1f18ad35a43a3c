package sim

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// GenerateRandman generates the Randman task of Zenke & Vogels (2021),
// Sec. 4.1 (after Zenke's fzenke/randman), from the randman fields of d and
// dataSeed. The Name field of d is ignored.
//
// Each class c has its own random smooth manifold: input unit i of a sample
// with manifold coordinates x ∈ [0,1)^D has the value
//
//	f_i(x) = Π_j Σ_{k=1…K} k^(−α) · A_ijk · sin(2π(k·x_j·B_ijk + C_ijk)),
//
// with A, B, C and x independent and uniform in [0, 1), K = d.Cutoff,
// D = d.Dim, α = d.Alpha, i < M = d.Units. Each unit's values are min–max
// scaled over the d.SamplesPerClass samples of the class to v ∈ [0, 1] and
// become the time step of that unit's single spike,
//
//	t = min(⌊v·W⌋, W−1),  W = max(1, ⌊d.Window·d.Steps⌋),
//
// so every spike lies in the first W steps and the class maximum falls on
// the last step of the window, not past it. (A unit whose values are all
// equal spikes at step 0.) Every sample therefore has exactly M events.
//
// Splits are stratified: of each class's samples, round(d.ValFraction·N) go
// to validation, round(d.TestFraction·N) to test and the rest to training;
// each split is then shuffled across classes.
//
// Randomness: class c's A, B, C come from the stream (dataSeed, manifold, c)
// in the order i, j, k (A, B, C for each term); its points from (dataSeed,
// points, c), sample by sample, coordinate by coordinate; the order of split
// s (0 train, 1 val, 2 test) from (dataSeed, order, s). A class's manifold
// thus depends only on dataSeed, c, M, D and K. The sines are evaluated by
// fourierSeries (a table and short polynomials, absolute error below 10⁻¹⁵)
// with every rounding explicit, so the data are identical bit for bit on
// every platform whose math.Pow agrees (it is not used for α = 0, 1, 2),
// whatever the number of threads. Generation runs on
// runtime.GOMAXPROCS(0) goroutines; the paper's task (2·10⁸ sine terms)
// takes about a second.
func GenerateRandman(d DatasetConfig, dataSeed uint64) (*Dataset, error) {
	g, err := newRandman(d)
	if err != nil {
		return nil, err
	}
	g.drawManifolds(dataSeed)
	g.evaluate(runtime.GOMAXPROCS(0))
	return g.assemble(g.spikeTimes(), dataSeed)
}

// maxRandmanTerms bounds the manifold parameters held in memory (24 bytes
// each); the paper's task has 2·10⁵.
const maxRandmanTerms = 1 << 26

// randman holds one generation's sizes and work arrays.
type randman struct {
	classes, units, dim, cutoff, samples int
	window                               int // W, in steps
	nVal, nTest                          int // per class
	steps                                int
	alpha                                float64

	// Per class c, unit i, dimension j and term k at index
	// ((c·M + i)·D + j)·K + k−1: the frequency k·B in turns per unit of x,
	// the phase C in turns, and the amplitude k^(−α)·A.
	freq, phase, amp []float64
	// x holds the points: class c, sample n, dimension j at (c·N + n)·D + j.
	x []float64
	// y holds the unit values: class c, unit i, sample n at (c·M + i)·N + n.
	y []float64
}

func newRandman(d DatasetConfig) (*randman, error) {
	d.Name = DatasetRandman
	// Config.Validate checks every limit of the generator: classes fit
	// the byte labels, events the int32 offsets, terms maxRandmanTerms,
	// and each class keeps a training sample.
	if err := validateDataset(d); err != nil {
		return nil, err
	}
	g := &randman{
		classes: d.Classes, units: d.Units, dim: d.Dim, cutoff: d.Cutoff,
		samples: d.SamplesPerClass, steps: d.Steps, alpha: d.Alpha,
		// The tolerance keeps e.g. 0.29·100 = 28.999999999999996 at 29 steps.
		window: max(1, int(math.Floor(d.Window*float64(d.Steps)+1e-9))),
		nVal:   share(d.ValFraction, d.SamplesPerClass),
		nTest:  share(d.TestFraction, d.SamplesPerClass),
	}
	terms := g.classes * g.units * g.dim * g.cutoff
	g.freq = make([]float64, terms)
	g.phase = make([]float64, terms)
	g.amp = make([]float64, terms)
	g.x = make([]float64, g.classes*g.samples*g.dim)
	g.y = make([]float64, g.classes*g.units*g.samples)
	return g, nil
}

// drawManifolds fills freq, phase, amp and x from the data streams.
func (g *randman) drawManifolds(dataSeed uint64) {
	weight := make([]float64, g.cutoff) // k^(−α) at k−1
	for k := range weight {
		weight[k] = dataPowNeg(float64(k+1), g.alpha)
	}
	perClass := g.units * g.dim * g.cutoff
	for c := range g.classes {
		src := dataStream(dataSeed, dataStreamManifold, uint64(c))
		base := c * perClass
		for t := range perClass {
			k := t % g.cutoff
			a, b, ph := dataUniform(src), dataUniform(src), dataUniform(src)
			g.amp[base+t] = float64(weight[k] * a)
			g.freq[base+t] = float64(float64(k+1) * b)
			g.phase[base+t] = ph
		}
		pts := dataStream(dataSeed, dataStreamPoints, uint64(c))
		for n := range g.samples * g.dim {
			g.x[c*g.samples*g.dim+n] = dataUniform(pts)
		}
	}
}

// dataPowNeg returns k^(−α) for k ≥ 1; exactly rounded division for the
// integer exponents 0, 1 and 2, math.Pow otherwise.
func dataPowNeg(k, alpha float64) float64 {
	switch alpha {
	case 0:
		return 1
	case 1:
		return 1 / k
	case 2:
		return 1 / float64(k*k)
	}
	return math.Pow(k, -alpha)
}

// evaluate fills y, one (class, unit) pair per job, on the given number of
// goroutines. Every job writes its own part of y, so the result does not
// depend on the number of goroutines.
func (g *randman) evaluate(threads int) {
	jobs := g.classes * g.units
	threads = max(1, min(threads, jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range threads {
		wg.Go(func() {
			for {
				job := int(next.Add(1) - 1)
				if job >= jobs {
					return
				}
				g.evaluateUnit(job/g.units, job%g.units)
			}
		})
	}
	wg.Wait()
}

// evaluateUnit computes f_i(x) for unit i of class c on all of its samples.
func (g *randman) evaluateUnit(c, i int) {
	K, D, N := g.cutoff, g.dim, g.samples
	row := (c*g.units + i) * D * K
	out := g.y[(c*g.units+i)*N : (c*g.units+i+1)*N]
	for n := range out {
		x := g.x[(c*N+n)*D : (c*N+n+1)*D]
		v := 1.0
		for j, xj := range x {
			lo, hi := row+j*K, row+(j+1)*K
			v = float64(v * fourierSeries(g.freq[lo:hi], g.phase[lo:hi], g.amp[lo:hi], xj))
		}
		out[n] = v
	}
}

// spikeTimes returns the spike step of every unit in every sample:
// class c, sample n, unit i at (c·N + n)·M + i.
func (g *randman) spikeTimes() []uint16 {
	M, N := g.units, g.samples
	times := make([]uint16, g.classes*N*M)
	for c := range g.classes {
		for i := range M {
			vals := g.y[(c*M+i)*N : (c*M+i+1)*N]
			lo, hi := slices.Min(vals), slices.Max(vals)
			for n, v := range vals {
				t := 0
				if hi > lo {
					t = min(int(float64((v-lo)/(hi-lo))*float64(g.window)), g.window-1)
				}
				times[(c*N+n)*M+i] = uint16(t)
			}
		}
	}
	return times
}

// assemble splits the samples whose spike steps spikeTimes returned.
func (g *randman) assemble(times []uint16, dataSeed uint64) (*Dataset, error) {
	M, N := g.units, g.samples
	nTrain := N - g.nVal - g.nTest
	ranges := [3][2]int{{0, nTrain}, {nTrain, nTrain + g.nVal}, {nTrain + g.nVal, N}}
	var splits [3]Split
	keys := make([]uint32, M) // time<<16 | unit, for sorting one sample's events
	evTimes := make([]uint16, M)
	evUnits := make([]uint16, M)
	for s, r := range ranges {
		members := make([]int, 0, g.classes*(r[1]-r[0])) // c·N + n
		for c := range g.classes {
			for n := r[0]; n < r[1]; n++ {
				members = append(members, c*N+n)
			}
		}
		dataShuffle(dataStream(dataSeed, dataStreamOrder, uint64(s)), members)
		splits[s] = newSplit(len(members), len(members)*M)
		for _, m := range members {
			for i := range M {
				keys[i] = uint32(times[m*M+i])<<16 | uint32(i)
			}
			slices.Sort(keys)
			for e, key := range keys {
				evTimes[e], evUnits[e] = uint16(key>>16), uint16(key)
			}
			if err := splits[s].appendSample(evTimes, evUnits, uint8(m/N)); err != nil {
				return nil, fmt.Errorf("randman: %w", err)
			}
		}
	}
	return &Dataset{
		Inputs:  M,
		Steps:   g.steps,
		Classes: g.classes,
		Train:   splits[0],
		Val:     splits[1],
		Test:    splits[2],
	}, nil
}

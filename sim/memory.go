package sim

import "math"

// Events per sample assumed by MemoryEstimate for the file datasets: an
// MNIST image has 784 pixels and each spikes at most once; a binned SHD
// sample has at most steps × 700 events, and about this many in practice
// (an estimate, not a bound: a few SHD recordings have more).
const (
	mnistPixels        = 28 * 28
	shdUnits           = 700
	shdEventsPerSample = 10000
	// runOverhead is the heap of a run's small objects, in bytes.
	runOverhead = 1 << 20
)

// MemoryEstimate returns the heap one training run of the config needs, in
// bytes, when it runs on the given number of threads (≤ 0 counts as 1, the
// worker's default). The config must be valid. The formula, with all sizes
// in bytes, N = train + val + test samples (SplitSizes), E the events per
// sample (randman: one per input unit; mnist: ≤ 784; shd: ≈ 10 000), P the
// parameters, H_l the hidden widths, T the steps, O the classes:
//
//	dataset     5·N + 4·N·E                offsets + labels, times + units
//	            (×2 for mnist and shd: the loaders build each split once
//	            with room to spare, then copy it), plus the loading buffers:
//	            randman 24·terms + 8·N_all·(M + D) + 2·N_all·M, mnist the
//	            image files (784 bytes per image)
//	weights     8·P·(6 + S)                params, gradient, Adam m and v,
//	                                       best and last copies, one
//	                                       gradient per shard of the
//	                                       minibatch (S = ⌈min(batch,
//	                                       train)/16⌉)
//	workspaces  G·g·Σ_l T·H_l·(28 + 8·r)  per thread (G = min(threads, S))
//	                                       and sample of a group (g = 4 for
//	                                       dense backward products, else 1):
//	                                       the membrane tape (8), spike
//	                                       indices (4), values (8) and reset
//	                                       factors (8), the pre-reset tape
//	                                       (8, r = 1 with a differentiable
//	                                       reset)
//
// plus the transposed weights of the dense products, vectors of the
// widths and 1 MiB of small objects. It counts the live heap at the run's peak, not what the
// garbage collector lets accumulate above it: a process needs up to about
// twice the estimate with GOGC=100 during loading, much less while it
// trains (training allocates almost nothing). TestMemoryEstimate checks
// the formula against measured peaks. The result saturates at
// math.MaxInt64.
func (c *Config) MemoryEstimate(threads int) int64 {
	d := &c.Dataset
	T := float64(d.Steps)
	train, val, test := c.splitSizesFloat()
	samples := train + val + test

	var inputs, classes, events, loading float64
	copies := 2.0 // the file loaders' first build and the exact copy
	switch d.Name {
	case DatasetRandman:
		inputs, classes, events, copies = float64(d.Units), float64(d.Classes), float64(d.Units), 1
		all := float64(d.Classes) * float64(d.SamplesPerClass)
		M, D := float64(d.Units), float64(d.Dim)
		loading = 24*product(d.Classes, d.Units, d.Dim, d.Cutoff) + 8*all*(M+D) + 2*all*M
	case DatasetMNIST, DatasetFashionMNIST:
		inputs, classes, events = mnistPixels, 10, mnistPixels
		loading = mnistPixels * float64(mnistTrainFile+mnistTestFile)
	case DatasetSHD:
		inputs, classes, events = shdUnits, 20, math.Min(shdEventsPerSample, T*shdUnits)
	}
	dataset := copies*(5*samples+4*samples*events) + loading

	n := &c.Network
	var params, transposed, tape, widths float64
	in := inputs
	dense := n.Reset == ResetDifferentiable || len(n.Hidden) > 1 ||
		n.Recurrent && n.RecurrentGrad == RecurrentPropagate
	perStep := 28.0
	if n.Reset == ResetDifferentiable {
		perStep += 8
	}
	for l, w := range n.Hidden {
		h := float64(w)
		params += in * h
		if n.Recurrent {
			params += h * h
			if n.RecurrentGrad == RecurrentPropagate {
				transposed += h * h
			}
		}
		if l+1 < len(n.Hidden) {
			transposed += h * float64(n.Hidden[l+1])
		}
		tape += T * h * perStep
		widths += h
		in = h
	}
	params += in * classes

	shards := math.Ceil(math.Min(float64(c.Train.Batch), train) / shardSize)
	groups := math.Min(float64(max(threads, 1)), shards)
	group := 1.0
	if dense {
		group = groupMax
	}
	weights := 8*params*(6+shards) + 8*transposed
	// Per workspace: the tapes, a dozen vectors per layer and the readout.
	workspaces := groups * group * (tape + 8*12*widths + 8*10*classes + 8*T)
	// Spike counts per shard and epoch, the sample order, the decay tables,
	// and a run's small objects (results, closures, goroutines).
	rest := 8*widths*(shards+1) + 8*train + 16*T + runOverhead

	total := dataset + weights + workspaces + rest
	if !(total < math.MaxInt64) {
		return math.MaxInt64
	}
	return int64(total)
}

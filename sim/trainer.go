package sim

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// shardSize is the number of samples whose gradient one goroutine computes
// in one piece. A minibatch is cut into shards of this size in sample
// order, whatever the thread count, and the shards' gradients are summed in
// shard order: so the result does not depend on how many threads ran them.
// Changing it changes the numbers (bump ModelVersion).
const shardSize = 16

// trainer holds one training run's weights, optimiser and buffers, in
// numerics F.
type trainer[F float] struct {
	net     *network
	ds      *Dataset
	threads int

	params []F
	pt     []F // transposed weights for the dense backward products (network.transpose), set by step
	grad   []F // gradient of the current minibatch
	opt    *adam[F]
	ws     [][]*workspace[F] // per thread, one per sample of a group (see newGroup)
	shards []shard[F]        // one per shard of the largest minibatch

	order   []int // training samples, shuffled every epoch
	shuffle *rand.PCG

	// Per-epoch activity: spike count of every neuron over the epoch's
	// training samples, per layer.
	epochCounts [][]float64
}

// shard is one shard's part of a minibatch: its own gradient and statistics,
// combined in shard order.
type shard[F float] struct {
	grad    []F
	counts  [][]F   // per layer, per neuron spike counts
	loss    float64 // sum over the shard's samples
	correct int
}

func newTrainer[F float](cfg *Config, ds *Dataset, threads int) *trainer[F] {
	net := newNetwork(cfg, ds.Inputs, ds.Classes, ds.Steps)
	t := &trainer[F]{
		net:     net,
		ds:      ds,
		threads: max(threads, 1),
		params:  toF[F](net.initParams(cfg)),
		grad:    make([]F, net.nParams),
		pt:      make([]F, net.nT),
		opt:     newAdam[F](cfg.Train, net.nParams),
		order:   make([]int, ds.Train.Len()),
		shuffle: rand.NewPCG(cfg.Seed, seedStreamShuffle),
	}
	for i := range t.order {
		t.order[i] = i
	}
	batch := min(cfg.Train.Batch, ds.Train.Len())
	for range (batch + shardSize - 1) / shardSize {
		t.shards = append(t.shards, shard[F]{grad: make([]F, net.nParams), counts: newCounts[F](net)})
	}
	// More threads than shards would have nothing to do.
	t.threads = min(t.threads, len(t.shards))
	for range t.threads {
		t.ws = append(t.ws, newGroup[F](net))
	}
	t.epochCounts = newCounts[float64](net)
	return t
}

// newGroup returns the workspaces of one worker: one per sample of a group.
// Networks with dense backward products (several layers, recurrent
// gradients, a differentiable reset) backpropagate groupMax samples in
// lockstep; the others one at a time. The group size is part of the
// summation order, so it depends only on the network.
func newGroup[F float](net *network) []*workspace[F] {
	size := 1
	for l := range net.hidden {
		if net.dense(l) {
			size = groupMax
		}
	}
	group := make([]*workspace[F], size)
	for i := range group {
		group[i] = newWorkspace[F](net)
	}
	return group
}

// newCounts returns a zero spike count per neuron of every layer.
func newCounts[F float](net *network) [][]F {
	c := make([][]F, len(net.hidden))
	for l, h := range net.hidden {
		c[l] = make([]F, h)
	}
	return c
}

// shuffleOrder draws the next epoch's sample order.
func (t *trainer[F]) shuffleOrder() { dataShuffle(t.shuffle, t.order) }

// parallel runs do(worker, shard) for every shard in [0, n) on up to
// t.threads goroutines; worker indexes t.ws. It returns when all are done.
func (t *trainer[F]) parallel(n int, do func(worker, shard int)) {
	workers := min(t.threads, n)
	if workers <= 1 {
		for s := range n {
			do(0, s)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for s := int(next.Add(1) - 1); s < n; s = int(next.Add(1) - 1) {
				do(w, s)
			}
		})
	}
	wg.Wait()
}

// step trains on one minibatch (indices into the training split): it
// computes the mean loss and its gradient and, if both are finite, takes an
// Adam step. It returns the loss (NaN if the gradient is not finite: the
// run has diverged either way) and the number of samples classified
// correctly before the update.
func (t *trainer[F]) step(batch []int) (loss float64, correct int) {
	split := &t.ds.Train
	scale := 1 / float64(len(batch))
	n := (len(batch) + shardSize - 1) / shardSize
	transpose(t.net, t.params, t.pt)
	t.parallel(n, func(w, s int) {
		group, sh := t.ws[w], &t.shards[s]
		clear(sh.grad)
		for l := range sh.counts {
			clear(sh.counts[l])
		}
		sh.loss, sh.correct = 0, 0
		samples := batch[s*shardSize : min((s+1)*shardSize, len(batch))]
		for len(samples) > 0 {
			g := group[:min(len(group), len(samples))]
			for i, ws := range g {
				k := samples[i]
				times, units := split.Events(k)
				ws.forward(t.params, times, units, true)
				label := int(split.Labels[k])
				if ws.predict() == label {
					sh.correct++
				}
				sh.loss += ws.loss(label, scale)
				for l := range sh.counts {
					addRow(sh.counts[l], ws.layers[l].count, 1)
				}
			}
			backward(g, t.params, t.pt, sh.grad)
			samples = samples[len(g):]
		}
	})

	clear(t.grad)
	for s := range n {
		sh := &t.shards[s]
		addRow(t.grad, sh.grad, 1)
		for l, counts := range sh.counts {
			for j, c := range counts {
				t.epochCounts[l][j] += float64(c) // exact: counts are integers
			}
		}
		loss += sh.loss
		correct += sh.correct
	}
	loss *= scale
	if !finite(loss) {
		return loss, correct
	}
	for _, g := range t.grad {
		if !finite(g) {
			return math.NaN(), correct
		}
	}
	t.opt.step(t.params, t.grad)
	return loss, correct
}

// accuracy returns the fraction of split's samples that the network with
// parameters p classifies correctly; 0 for an empty split.
func (t *trainer[F]) accuracy(p []F, split *Split) float64 {
	N := split.Len()
	if N == 0 {
		return 0
	}
	n := (N + shardSize - 1) / shardSize
	correct := make([]int, n)
	t.parallel(n, func(w, s int) {
		ws := t.ws[w][0]
		for k := s * shardSize; k < min((s+1)*shardSize, N); k++ {
			times, units := split.Events(k)
			ws.forward(p, times, units, false)
			if ws.predict() == int(split.Labels[k]) {
				correct[s]++
			}
		}
	})
	var sum int
	for _, c := range correct {
		sum += c
	}
	return float64(sum) / float64(N)
}

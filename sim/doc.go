// Package sim is sgsweep's simulator: networks of current-based leaky
// integrate-and-fire neurons with a leaky-integrator readout, trained by
// backpropagation through time with surrogate gradients (Zenke & Vogels
// 2021, "The remarkable robustness of surrogate gradient learning…", Neural
// Computation 33(4):899). The model it computes is specified in
// docs/model.md; Config names every option, Train runs one training
// and returns a Result. Package sweep addresses Config's fields by their
// JSON names; package worker and the sgsweep CLI call Train.
//
// # Layout
//
//   - config.go, surrogate.go, result.go, dataset.go: the contracts (Config,
//     the surrogate table, Result, the spike-event dataset format).
//   - network.go: sizes, constants and the flat parameter layout; weight
//     initialisation.
//   - workspace.go, forward.go, loss.go, backward.go: one sample's forward
//     pass, loss (cross-entropy and activity regularizers) and hand-derived
//     BPTT.
//   - numerics.go: the element type F (float64 or float32, Config.Numerics)
//     the workspace, trainer, passes and Adam are generic over, and the
//     kernels' dispatch on it.
//   - kernel*.go, kernel32*.go, convert*.go, surrogate_kernel.go: the
//     per-layer loops, in Go and (amd64) AVX2/AVX-512 assembly with
//     identical results (build tag purego: Go only); kernel32 holds the
//     float32 ones, twice as wide.
//   - adam.go, trainer.go, train.go: minibatch Adam, sharding and the epoch
//     loop.
//   - randman*.go, idx*.go, latency*.go, shd*.go, load*.go: the datasets.
//
// # How a minibatch is computed
//
// Inputs and hidden spikes are events: the forward pass adds one weight row
// per spike, and the backward pass adds gradient rows only for the units
// that spiked. Per neuron and step the forward pass stores only the
// surrogate value h(U − ϑ) (and the pre-reset potential when the reset is
// differentiable) plus the list of spikes. The readout's adjoint is carried
// projected onto the last hidden layer, so the readout costs O(H) per step.
// Two shortcuts skip work that cannot matter (one feed-forward layer with
// a detached reset): once no input is left and every U and I is at most ϑ,
// the layer can never spike again, so only the readout is simulated further
// (U comes from the closed-form decay); and after the last step at which
// the max readout reads the loss, only neurons with a regularizer gradient
// are backpropagated. Samples with inputs throughout, like SHD's, get
// little from them; Randman's, whose inputs fill the first half, much.
//
// Networks whose backward pass has dense products (W_next^T·gI, V^T·gI)
// backpropagate groups of samples in lockstep, so that each weight row is
// read once per group.
//
// A minibatch is cut into shards of shardSize samples in minibatch order;
// each shard's gradient is computed by one goroutine into its own buffer,
// and the buffers are summed in shard order. Every reduction therefore has
// a fixed order, and a Result is the same bit for bit for any number of
// threads, on the same architecture. Randomness comes only from PCG streams
// of Config.Seed (weights, minibatch order) and Config.DataSeed (data).
//
// # Testing hooks
//
// The smooth mode (smoothSpike) replaces the spike by σ(β·x) and the
// surrogate by its derivative, so that BPTT can be checked against finite
// differences; naive_test.go holds a second, deliberately naive
// implementation built on a tiny autodiff graph.
package sim

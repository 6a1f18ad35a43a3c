// Package sweep turns a sweep spec (YAML) into tasks: validated, fully
// resolved simulator configurations with content-addressed IDs, in a stable
// order. It owns task identity: canonical JSON (Canonical), task IDs
// (TaskID), result digests (Digest) and the strict decoding of a task's
// parameters (CheckTask, DecodeParams).
//
// It knows the simulator's configuration (package sim) and nothing of NATS
// or bbolt: package protocol carries tasks in its wire messages, the
// coordinator publishes what Expand returns, the worker runs what
// CheckTask accepts, and the results store keys results by task ID.
//
// # Spec format
//
//	name: fig3-shape-scale          # required; a NATS subject token (NamePattern)
//	description: free text          # optional; not part of the identity
//	max_tasks: 100000               # optional guard (default DefaultMaxTasks)
//	base:                           # any sim.Config fields, nested or dotted
//	  dataset: {name: randman, classes: 10}
//	  train.epochs: 50
//	grid:                           # one axis per dotted config path
//	  surrogate.shape: [superspike, sigmoid, esser]
//	  surrogate.scale: [0, {logspace: [-1, 3, 13]}]
//	  train.lr: {range: [0.01, 0.1, 0.01]}
//	  network.hidden: [[100], [100, 100]]   # an axis over lists
//	zip:                            # groups of paths that vary together
//	  - surrogate.shape: [superspike, esser]
//	    surrogate.scale: [10, 1]
//	exclude:                        # drop the points that meet a rule
//	  - {surrogate.shape: heaviside, surrogate.scale: {not: 1}}
//	replicates: {seed: 5, data_seed: [1, 2]}
//
// Resolution: each task's configuration is sim.DefaultConfig(), deep-merged
// with base, then with the task's value of every axis (a mapping value
// merges into the field, a list replaces it). The merged configuration is
// decoded strictly: an unknown field, a wrong type or a value sim's
// Validate refuses is an error naming the spec file, line and field, and
// listing the allowed values where there is a choice.
//
// Axis values are a list, a generator ({range: [start, stop, step]}, stop
// exclusive, integers stay integers; {linspace: [a, b, n]};
// {logspace: [a, b, n]}, 10^x for x in linspace [a, b, n]), or a list
// mixing values and generators, whose values are spliced in. Generated
// floats are rounded to 15 significant digits, so logspace gives exactly
// 0.1, 1, 10 at integer exponents. See generate.
//
// Replicates: seed and data_seed, each a count n (the seeds 1, 2, …, n) or a
// list of values like any axis; they are independent axes.
//
// Zip: a list of groups (or a single group); the paths of a group have
// equally many values, and the i-th values go together.
//
// Exclude: see the rule language in exclude.go. max_tasks bounds the tasks
// after exclusion (at most MaxMaxTasks); the grid before exclusion may have
// at most 10 × max_tasks points.
//
// # Sampling
//
// A grid entry may be sampled instead of listed, with a top-level sample
// block (required when an entry is sampled, an error otherwise):
//
//	grid:
//	  surrogate.shape: [superspike, esser]
//	  surrogate.scale: {loguniform: [0.1, 1000]}     # a·(b/a)^u
//	  train.lr: {uniform: [0.001, 0.1]}              # a + u(b − a)
//	  train.epochs: {int: [10, 30]}                  # a + ⌊u(b − a + 1)⌋, both included
//	  network.reset: {choice: [detached, differentiable]}   # items[⌊u·k⌋]
//	sample: {method: latin, n: 32, seed: 1}          # random | sobol | latin; seed defaults to 0
//
// The sampled entries form one axis of kind AxisSample with n points, like
// a zip group: point i sets every sampled path, in the order written (the
// dimensions of the sample points). It sits where the first sampled entry
// is written and crosses with grid axes, zip groups and replicates; exclude
// works on it like on any axis. Spec.Sampling describes it. The methods
// draw n points u in [0, 1)^d (see unitPoints): random, independent
// SplitMix64 draws; latin, a Latin hypercube (one point in each of the n
// strata of every dimension); sobol, the first n points of the unscrambled
// Sobol sequence with the Joe–Kuo new-joe-kuo-6.21201 direction numbers (at
// most 40 dimensions), the all-zero point included because the first 2^m
// points then stratify every dimension. Sobol ignores the seed (it is left
// out of the canonical spec).
//
// Determinism: the same spec gives the same tasks and task IDs on every
// machine and Go release. The generator is SplitMix64 (Vigna's
// splitmix64.c), not math/rand, whose Rand methods promise no stable
// stream (this is also why gonum's LatinHypercube is not used: it draws
// through them); the u of random is the top 53 bits × 2^-53, integers
// below k are Lemire's multiply-and-reject. Maps use only correctly
// rounded IEEE operations: loguniform is computed by square roots, not by
// exp and log, whose last bit differs between amd64 and arm64. Floats are
// then rounded to 12 significant digits (and kept within the bounds).
//
// Bad input is an error with file, line and field: an unknown method, n < 1
// or above max_tasks (refused before anything is drawn), bounds that are
// reversed or equal, not positive (loguniform) or not integers (int), an
// empty or repeated choice, a float distribution on an integer or string
// field, a sampled form inside zip, replicates or a list, sample points
// that repeat (too few distinct int/choice values for n), a sample block
// without sampled entries and sampled entries without a sample block. The
// canonical spec holds the sample block and each sampled path's
// distribution, besides the drawn values, so any change of them changes
// the fingerprint.
//
// # Order
//
// Tasks are the nested loops over Spec.Axes(), the first axis outermost:
// the replicate axes (in the order written under replicates), then the grid
// entries, zip groups and the sample axis in the order they appear in the
// file. Seeds are
// outermost so that the whole grid runs once before any cell's second seed,
// and raising the replicate count appends tasks without moving the others.
// A task's Ordinal is its position in this order.
//
// # Identity
//
// A task's Params are the canonical JSON (see Canonical) of its resolved
// sim.Config; its ID is TaskID(Params), a hash of Params and
// sim.ModelVersion. So the same cell has the same ID in every sweep, and
// cosmetic edits of a spec (key order, comments, 1e-1 for 0.1, moving an
// axis) never change an ID; reordering axes changes ordinals only.
// Spec.Canonical is the canonical JSON of what the spec computes (resolved
// base, axes with their values in order, rules), and Spec.Fingerprint its
// hash: it ignores name, description, max_tasks, comments and spelling, but
// not axis order, which defines the ordinals.
//
// # Stopping
//
// The stopping block (Stopping; docs/stopping.md has the rules' precise
// semantics) declares when the coordinator may end a task early:
//
//	stopping:
//	  metric: val_acc        # required: train_loss, train_acc or val_acc (StopMetrics)
//	  mode: max              # optional: follows from the metric (loss min, accuracies max)
//	  rules:                 # required, tried in order after each epoch; the first that fires stops
//	    - {rule: chance, after: 5, margin: 0.02}    # within margin of chance level from epoch after
//	    - {rule: median, warmup: 10, min_tasks: 5}  # best so far worse than the completed peers' median
//	    - {rule: asha, grace: 5, reduction: 3}      # not in the top 1/reduction at rungs grace·reduction^k
//	  group: [surrogate.shape, network.reset]       # optional: compare only tasks sharing these values
//
// after, warmup and grace are required, ≥ 1 and below the largest
// train.epochs of the tasks; margin defaults to 0 (DefaultMargin) and must
// be in [0, 1), min_tasks to 5 (≥ 1), reduction to 4 (≥ 2). A rule takes
// only its own keys. Group paths are config paths varied by an axis, each
// once; they are kept sorted. The block with its defaults is part of the
// canonical spec, so it changes the fingerprint; a spec without one keeps
// the fingerprint it had before stopping existed.
package sweep

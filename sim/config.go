package sim

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ModelVersion names the numerics this package computes. It is part of every
// task ID (see package sweep): bump it whenever a change to sim can change any
// number a training run produces, so that results of the old model are never
// mistaken for results of the new one.
const ModelVersion = "sgsweep-sim/1"

// Config is everything that determines one training run. Its JSON field names
// are the dotted paths sweep specs address (surrogate.scale, train.lr,
// network.hidden, …); they are a stable interface: renaming one changes every
// task ID. Every field is meaningful for identity, so nothing
// machine-dependent (paths, thread counts) lives here: see Options. The
// YAML field names are the JSON ones, so a config file decodes onto
// DefaultConfig with the same keys.
//
// The zero value is not useful; start from DefaultConfig.
type Config struct {
	// Seed seeds weight initialisation and minibatch shuffling.
	Seed uint64 `json:"seed" yaml:"seed"`
	// DataSeed seeds dataset generation (randman) and the train/validation
	// split; separate from Seed so that network replicates can share data.
	DataSeed uint64 `json:"data_seed" yaml:"data_seed"`

	Dataset     DatasetConfig     `json:"dataset" yaml:"dataset"`
	Network     NetworkConfig     `json:"network" yaml:"network"`
	Neuron      NeuronConfig      `json:"neuron" yaml:"neuron"`
	Surrogate   SurrogateConfig   `json:"surrogate" yaml:"surrogate"`
	Init        InitConfig        `json:"init" yaml:"init"`
	Regularizer RegularizerConfig `json:"regularizer" yaml:"regularizer"`
	Train       TrainConfig       `json:"train" yaml:"train"`

	// Numerics is the floating-point type the network is simulated and
	// trained in: float64 (the default) or float32 (as PyTorch users
	// train, with kernels twice as wide). The default is left out of the
	// JSON (see Numerics.IsZero), so task IDs of float64 runs are those
	// from before the field existed.
	Numerics Numerics `json:"numerics,omitzero" yaml:"numerics"`
}

// Numerics names a floating-point type (Config.Numerics).
type Numerics string

// The values of Config.Numerics.
const (
	NumericsFloat64 Numerics = "float64"
	NumericsFloat32 Numerics = "float32"
)

// IsZero reports whether n is the default, float64 (or unset), so that
// JSON leaves it out: a float64 task's ID is the one from before the
// field existed, whether its spec says numerics: float64 or nothing.
// Decoders of complete configurations restore it (sweep.DecodeParams).
func (n Numerics) IsZero() bool { return n == "" || n == NumericsFloat64 }

// Dataset names accepted by DatasetConfig.Name.
const (
	DatasetRandman      = "randman"
	DatasetMNIST        = "mnist"
	DatasetFashionMNIST = "fashion-mnist"
	DatasetSHD          = "shd"
)

// DatasetConfig selects and shapes the input data. Fields apply to the
// datasets named in their comments and are ignored by the others.
type DatasetConfig struct {
	// Name is one of randman, mnist, fashion-mnist, shd.
	Name string `json:"name" yaml:"name"`
	// Steps is T, the number of time steps per sample (all datasets).
	Steps int `json:"steps" yaml:"steps"`

	// Classes is the number of classes (randman; 10 for mnist/fashion-mnist,
	// 20 for shd, fixed by the data).
	Classes int `json:"classes" yaml:"classes"`
	// Units is M, the number of input units: the embedding dimension (randman).
	Units int `json:"units" yaml:"units"`
	// Dim is D, the manifold dimension (randman).
	Dim int `json:"dim" yaml:"dim"`
	// Alpha is the smoothness exponent α of the Fourier spectrum (randman).
	Alpha float64 `json:"alpha" yaml:"alpha"`
	// Cutoff is K, the number of Fourier terms (randman).
	Cutoff int `json:"cutoff" yaml:"cutoff"`
	// SamplesPerClass is the number of samples generated per class (randman).
	SamplesPerClass int `json:"samples_per_class" yaml:"samples_per_class"`
	// Window is the fraction of the Steps within which each input unit
	// fires its one spike (randman; 0.5 = first half).
	Window float64 `json:"window" yaml:"window"`
	// ValFraction and TestFraction split the generated samples (randman);
	// ValFraction also carves the validation set out of the training files
	// (mnist, fashion-mnist, shd), whose test set is the official one.
	ValFraction  float64 `json:"val_fraction" yaml:"val_fraction"`
	TestFraction float64 `json:"test_fraction" yaml:"test_fraction"`

	// Threshold is θ of the latency code: pixels x ≤ θ never spike
	// (mnist, fashion-mnist; pixel values scaled to [0, 1]).
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// TauEff is τ_eff of the latency code, in time steps (mnist, fashion-mnist).
	TauEff float64 `json:"tau_eff" yaml:"tau_eff"`
	// Duration is the length of recording binned into Steps, in seconds (shd).
	Duration float64 `json:"duration" yaml:"duration"`
	// TrainSamples, if positive, keeps only the first TrainSamples samples of
	// the training split (after the validation split); 0 keeps all
	// (mnist, fashion-mnist, shd). TestSamples likewise for the test split.
	TrainSamples int `json:"train_samples" yaml:"train_samples"`
	TestSamples  int `json:"test_samples" yaml:"test_samples"`
}

// Reset treatments accepted by NetworkConfig.Reset.
const (
	ResetDetached       = "detached"
	ResetDifferentiable = "differentiable"
)

// Recurrent gradient treatments accepted by NetworkConfig.RecurrentGrad.
const (
	RecurrentPropagate = "propagate"
	RecurrentDetached  = "detached"
)

// Readouts accepted by NetworkConfig.Readout: how the readout trace
// U_out[n] becomes the logits a_k.
const (
	ReadoutMax  = "max"  // a_k = max_n U_out,k[n]
	ReadoutMean = "mean" // a_k = mean_n U_out,k[n]
	ReadoutLast = "last" // a_k = U_out,k[T-1]
)

// NetworkConfig is the architecture.
type NetworkConfig struct {
	// Hidden holds the width of each hidden LIF layer, input side first.
	Hidden []int `json:"hidden" yaml:"hidden"`
	// Recurrent adds all-to-all recurrent weights V within each hidden layer.
	Recurrent bool `json:"recurrent" yaml:"recurrent"`
	// Reset is detached (the reset factor is a constant in the backward
	// pass) or differentiable (the surrogate flows through it).
	Reset string `json:"reset" yaml:"reset"`
	// RecurrentGrad is propagate or detached: detached cuts the gradient
	// that would flow through the recurrent input V·S[n] back into the
	// spikes S[n] (V itself still learns, as V·S.detach() in PyTorch); used
	// only when Recurrent is set.
	RecurrentGrad string `json:"recurrent_grad" yaml:"recurrent_grad"`
	// Readout is max, mean or last.
	Readout string `json:"readout" yaml:"readout"`
}

// NeuronConfig holds the time constants and threshold. Times are in ms.
type NeuronConfig struct {
	// DT is the time step Δt, in ms.
	DT float64 `json:"dt" yaml:"dt"`
	// TauMem is the membrane time constant of hidden neurons, in ms.
	TauMem float64 `json:"tau_mem" yaml:"tau_mem"`
	// TauSyn is the synaptic time constant of hidden and readout units, in ms.
	TauSyn float64 `json:"tau_syn" yaml:"tau_syn"`
	// TauOut is the membrane time constant of the readout, in ms.
	TauOut float64 `json:"tau_out" yaml:"tau_out"`
	// Threshold is ϑ, in units of the (dimensionless) membrane potential.
	Threshold float64 `json:"threshold" yaml:"threshold"`
}

// SurrogateConfig selects the surrogate derivative h(x) that replaces dS/dU
// in the backward pass; see Surrogates for the shapes.
type SurrogateConfig struct {
	// Shape is a key of Surrogates.
	Shape string `json:"shape" yaml:"shape"`
	// Scale is β ≥ 0 (1/units of membrane potential). At 0 most shapes
	// are constant (1 for the normalised ones, 1/4 for sigmoid) and the
	// asymptotic SuperSpike is 0, the true gradient (docs/model.md,
	// "Surrogate derivatives").
	Scale float64 `json:"scale" yaml:"scale"`
}

// Weight distributions accepted by InitConfig.Dist.
const (
	InitUniform = "uniform" // U(±g/√fan_in), PyTorch's nn.Linear default
	InitNormal  = "normal"  // N(0, (g/√fan_in)²)
)

// InitConfig is the weight initialisation. No layer has biases.
type InitConfig struct {
	// Dist is uniform or normal.
	Dist string `json:"dist" yaml:"dist"`
	// Gain scales the feed-forward weights W of every hidden layer.
	Gain float64 `json:"gain" yaml:"gain"`
	// RecurrentGain scales the recurrent weights V.
	RecurrentGain float64 `json:"recurrent_gain" yaml:"recurrent_gain"`
	// ReadoutGain scales the readout weights W_out.
	ReadoutGain float64 `json:"readout_gain" yaml:"readout_gain"`
}

// RegularizerConfig holds the activity regularizers, applied to every hidden
// layer and summed. ζ_i is the spike count of neuron i on one sample.
type RegularizerConfig struct {
	Lower LowerBound `json:"lower" yaml:"lower"`
	Upper UpperBound `json:"upper" yaml:"upper"`
}

// LowerBound is the per-neuron lower bound
// Strength · mean over samples and neurons of max(0, Threshold − ζ_i)².
// Strength 0 turns it off.
type LowerBound struct {
	Strength float64 `json:"strength" yaml:"strength"`
	// Threshold is ν_lo, in spikes per neuron per sample.
	Threshold float64 `json:"threshold" yaml:"threshold"`
}

// UpperBound is the population upper bound
// Strength · mean over samples of max(0, mean_i ζ_i − Threshold)^Power.
// Strength 0 turns it off.
type UpperBound struct {
	Strength float64 `json:"strength" yaml:"strength"`
	// Threshold is ν_up, in spikes per neuron per sample.
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// Power is p, 1 or 2.
	Power int `json:"power" yaml:"power"`
}

// TrainConfig is the optimisation: minibatch Adam on the unrolled network.
type TrainConfig struct {
	Epochs int `json:"epochs" yaml:"epochs"`
	// Batch is the minibatch size, in samples.
	Batch int `json:"batch" yaml:"batch"`
	// LR is Adam's learning rate η.
	LR float64 `json:"lr" yaml:"lr"`
	// Beta1, Beta2 and Eps are Adam's other constants.
	Beta1 float64 `json:"beta1" yaml:"beta1"`
	Beta2 float64 `json:"beta2" yaml:"beta2"`
	Eps   float64 `json:"eps" yaml:"eps"`
}

// DefaultConfig returns the paper's Randman setup (Zenke & Vogels 2021):
// 10 classes of 1-D manifolds (α = 1) embedded in 20 input units, 1000
// samples per class split 80/10/10, 100 steps of 1 ms; one feed-forward layer
// of 100 LIF neurons (τ_mem 10 ms, τ_syn 5 ms), detached reset; a leaky
// readout (τ_out 20 ms) with max-over-time cross-entropy; SuperSpike β = 10;
// PyTorch-default uniform initialisation; the lower-bound regularizer
// (λ 100, ν 10⁻³); Adam with the paper's best η = 0.05, batch 250, 50 epochs.
func DefaultConfig() Config {
	return Config{
		Seed:     1,
		DataSeed: 1,
		Dataset: DatasetConfig{
			Name:            DatasetRandman,
			Steps:           100,
			Classes:         10,
			Units:           20,
			Dim:             1,
			Alpha:           1,
			Cutoff:          1000,
			SamplesPerClass: 1000,
			Window:          0.5,
			ValFraction:     0.1,
			TestFraction:    0.1,
			Threshold:       0.2,
			TauEff:          20,
			Duration:        1.4,
		},
		Network: NetworkConfig{
			Hidden:        []int{100},
			Reset:         ResetDetached,
			RecurrentGrad: RecurrentPropagate,
			Readout:       ReadoutMax,
		},
		Neuron: NeuronConfig{
			DT:        1,
			TauMem:    10,
			TauSyn:    5,
			TauOut:    20,
			Threshold: 1,
		},
		Surrogate: SurrogateConfig{Shape: "superspike", Scale: 10},
		Init: InitConfig{
			Dist:          InitUniform,
			Gain:          1,
			RecurrentGain: 1,
			ReadoutGain:   1,
		},
		Regularizer: RegularizerConfig{
			Lower: LowerBound{Strength: 100, Threshold: 1e-3},
			Upper: UpperBound{Strength: 0, Threshold: 0, Power: 2},
		},
		Train: TrainConfig{
			Epochs: 50,
			Batch:  250,
			LR:     0.05,
			Beta1:  0.9,
			Beta2:  0.999,
			Eps:    1e-8,
		},
		Numerics: NumericsFloat64,
	}
}

// FieldError reports an invalid Config field. Field is the dotted JSON path
// (e.g. "surrogate.shape"), the same path sweep specs use.
type FieldError struct {
	Field string
	// Msg says what is wrong and, for enumerations, lists the allowed values.
	Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate checks every field. It returns nil or an error that joins one
// *FieldError per invalid field (use errors.As to get the first).
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	oneOf := func(field, got string, allowed ...string) {
		for _, a := range allowed {
			if got == a {
				return
			}
		}
		bad(field, "%q is not one of %s", got, strings.Join(allowed, ", "))
	}
	positive := func(field string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			bad(field, "must be a positive number, got %v", v)
		}
	}
	nonNegative := func(field string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			bad(field, "must be ≥ 0, got %v", v)
		}
	}
	atLeast := func(field string, v, min int) {
		if v < min {
			bad(field, "must be ≥ %d, got %d", min, v)
		}
	}
	fraction := func(field string, v float64) {
		if !(v >= 0 && v < 1) {
			bad(field, "must be in [0, 1), got %v", v)
		}
	}

	d := &c.Dataset
	oneOf("dataset.name", d.Name, DatasetRandman, DatasetMNIST, DatasetFashionMNIST, DatasetSHD)
	atLeast("dataset.steps", d.Steps, 1)
	if d.Steps > math.MaxUint16 {
		bad("dataset.steps", "must be ≤ %d, got %d", math.MaxUint16, d.Steps)
	}
	fraction("dataset.val_fraction", d.ValFraction)
	atLeast("dataset.train_samples", d.TrainSamples, 0)
	atLeast("dataset.test_samples", d.TestSamples, 0)
	switch d.Name {
	case DatasetRandman:
		atLeast("dataset.classes", d.Classes, 2)
		atLeast("dataset.units", d.Units, 1)
		if d.Units > math.MaxUint16 {
			bad("dataset.units", "must be ≤ %d, got %d", math.MaxUint16, d.Units)
		}
		atLeast("dataset.dim", d.Dim, 1)
		nonNegative("dataset.alpha", d.Alpha)
		atLeast("dataset.cutoff", d.Cutoff, 1)
		atLeast("dataset.samples_per_class", d.SamplesPerClass, 2)
		if !(d.Window > 0 && d.Window <= 1) {
			bad("dataset.window", "must be in (0, 1], got %v", d.Window)
		}
		fraction("dataset.test_fraction", d.TestFraction)
		if d.ValFraction+d.TestFraction >= 1 {
			bad("dataset.test_fraction", "val_fraction + test_fraction must be < 1, got %v", d.ValFraction+d.TestFraction)
		}
		// Labels are bytes; events are counted in int32 offsets; the
		// manifolds' Fourier terms are held in memory (see randman.go).
		if d.Classes > math.MaxUint8+1 {
			bad("dataset.classes", "must be ≤ %d (labels are bytes), got %d", math.MaxUint8+1, d.Classes)
		}
		if n := d.SamplesPerClass; n >= 2 && n-share(d.ValFraction, n)-share(d.TestFraction, n) < 1 {
			bad("dataset.samples_per_class", "%d samples per class leave none for training after %d validation and %d test samples",
				n, share(d.ValFraction, n), share(d.TestFraction, n))
		}
		if events := product(d.Classes, d.SamplesPerClass, d.Units); events > math.MaxInt32 {
			bad("dataset.samples_per_class", "classes × samples_per_class × units = %.0f events, more than %d", events, math.MaxInt32)
		}
		if terms := product(d.Classes, d.Units, d.Dim, d.Cutoff); terms > maxRandmanTerms {
			bad("dataset.cutoff", "classes × units × dim × cutoff = %.0f Fourier terms, more than %d", terms, maxRandmanTerms)
		}
	case DatasetMNIST, DatasetFashionMNIST:
		if !(d.Threshold >= 0 && d.Threshold < 1) {
			bad("dataset.threshold", "must be in [0, 1), got %v", d.Threshold)
		}
		positive("dataset.tau_eff", d.TauEff)
	case DatasetSHD:
		positive("dataset.duration", d.Duration)
	}

	n := &c.Network
	if len(n.Hidden) == 0 {
		bad("network.hidden", "needs at least one hidden layer")
	}
	for i, w := range n.Hidden {
		field := fmt.Sprintf("network.hidden[%d]", i)
		atLeast(field, w, 1)
		// A layer's spike tape is indexed by int32 offsets (workspace.go).
		if steps := product(d.Steps, w); w >= 1 && steps > math.MaxInt32 {
			bad(field, "dataset.steps × width = %.0f tape entries, more than %d", steps, math.MaxInt32)
		}
	}
	oneOf("network.reset", n.Reset, ResetDetached, ResetDifferentiable)
	oneOf("network.recurrent_grad", n.RecurrentGrad, RecurrentPropagate, RecurrentDetached)
	oneOf("network.readout", n.Readout, ReadoutMax, ReadoutMean, ReadoutLast)

	u := &c.Neuron
	positive("neuron.dt", u.DT)
	positive("neuron.tau_mem", u.TauMem)
	positive("neuron.tau_syn", u.TauSyn)
	positive("neuron.tau_out", u.TauOut)
	positive("neuron.threshold", u.Threshold)

	if _, ok := Surrogates[c.Surrogate.Shape]; !ok {
		bad("surrogate.shape", "%q is not one of %s", c.Surrogate.Shape, strings.Join(SurrogateNames(), ", "))
	}
	nonNegative("surrogate.scale", c.Surrogate.Scale)

	oneOf("init.dist", c.Init.Dist, InitUniform, InitNormal)
	nonNegative("init.gain", c.Init.Gain)
	nonNegative("init.recurrent_gain", c.Init.RecurrentGain)
	nonNegative("init.readout_gain", c.Init.ReadoutGain)

	r := &c.Regularizer
	nonNegative("regularizer.lower.strength", r.Lower.Strength)
	nonNegative("regularizer.lower.threshold", r.Lower.Threshold)
	nonNegative("regularizer.upper.strength", r.Upper.Strength)
	nonNegative("regularizer.upper.threshold", r.Upper.Threshold)
	if r.Upper.Power != 1 && r.Upper.Power != 2 {
		bad("regularizer.upper.power", "must be 1 or 2, got %d", r.Upper.Power)
	}

	if !c.Numerics.IsZero() && c.Numerics != NumericsFloat32 {
		bad("numerics", "%q is not one of %s, %s", c.Numerics, NumericsFloat64, NumericsFloat32)
	}

	t := &c.Train
	atLeast("train.epochs", t.Epochs, 1)
	atLeast("train.batch", t.Batch, 1)
	positive("train.lr", t.LR)
	fraction("train.beta1", t.Beta1)
	fraction("train.beta2", t.Beta2)
	positive("train.eps", t.Eps)

	if len(errs) == 0 {
		// Only now are the split sizes meaningful.
		if train, _, _ := c.SplitSizes(); train < 1 && d.Name != DatasetRandman {
			bad("dataset.val_fraction", "leaves no training samples")
		}
		if w := c.sampleStepsFloat(); w > MaxSampleSteps {
			bad("train.epochs", "the run would simulate %.3g sample-steps, more than %.3g", w, float64(MaxSampleSteps))
		}
	}
	return errors.Join(errs...)
}

// product returns the product of ns as a float64, which cannot overflow
// where the ints could (exact up to 2^53).
func product(ns ...int) float64 {
	p := 1.0
	for _, n := range ns {
		p *= float64(n)
	}
	return p
}

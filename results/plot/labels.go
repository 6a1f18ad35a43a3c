package plot

import (
	"strings"

	"github.com/sgsweep/sgsweep/results"
)

// labels are the readable names of parameters and metrics used on axes,
// legends and titles.
var labels = map[string]string{
	"seed":                        "seed",
	"data_seed":                   "data seed",
	"dataset.name":                "dataset",
	"dataset.steps":               "time steps T",
	"dataset.units":               "input units M",
	"dataset.samples_per_class":   "samples per class",
	"network.hidden":              "hidden layer widths",
	results.DepthParam:            "hidden layers",
	"network.recurrent":           "recurrent",
	"network.reset":               "reset",
	"network.recurrent_grad":      "recurrent gradient",
	"network.readout":             "readout",
	"neuron.tau_mem":              "membrane time constant τ_mem (ms)",
	"neuron.tau_syn":              "synaptic time constant τ_syn (ms)",
	"neuron.tau_out":              "readout time constant τ_out (ms)",
	"surrogate.shape":             "surrogate shape",
	"surrogate.scale":             "surrogate scale β",
	"init.dist":                   "weight distribution",
	"init.gain":                   "weight gain",
	"regularizer.lower.strength":  "lower-bound strength λ_lo",
	"regularizer.lower.threshold": "lower-bound threshold ν_lo (spikes/neuron/sample)",
	"regularizer.upper.strength":  "upper-bound strength λ_up",
	"regularizer.upper.threshold": "upper-bound threshold ν_up (spikes/neuron/sample)",
	"regularizer.upper.power":     "upper-bound power p",
	"train.epochs":                "epochs",
	"train.batch":                 "batch size",
	"train.lr":                    "learning rate η",

	"test_acc":               "test accuracy",
	"test_acc_last":          "test accuracy (last epoch)",
	"best_val_acc":           "best validation accuracy",
	"best_epoch":             "best epoch",
	"epochs":                 "epochs run",
	"train_loss":             "training loss",
	"train_acc":              "training accuracy",
	"val_acc":                "validation accuracy",
	"spikes":                 "spikes per neuron per sample",
	"silent":                 "fraction of silent neurons",
	results.MetricDiverged:   "fraction diverged",
	results.MetricRunSeconds: "run time (s)",
	results.FieldState:       "state",
	results.FieldStatus:      "status",
	results.FieldHost:        "host",
}

// Label returns the readable name of a parameter path, task field or
// metric: surrogate.scale → "surrogate scale β", test_acc → "test accuracy",
// val_acc@10 → "validation accuracy after epoch 10". Names it does not
// know become words: dataset.val_fraction → "dataset val fraction".
func Label(name string) string {
	if l, ok := labels[name]; ok {
		return l
	}
	if curve, at, ok := strings.Cut(name, "@"); ok {
		if at == "*" {
			return Label(curve)
		}
		return Label(curve) + " after epoch " + at
	}
	return strings.NewReplacer(".", " ", "_", " ").Replace(name)
}

package stopping

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/sgsweep/sgsweep/sweep"
)

// task is what the engine knows of one task.
type task struct {
	group *group
	// chance is the metric's chance level for the task's data set: 1/classes
	// for an accuracy, ln(classes) for the loss; NaN when Params has no
	// dataset.classes.
	chance float64
	// epochs is the task's train.epochs (0 when Params has none): no
	// decision is taken at or after its last epoch, which ends the task
	// anyway.
	epochs int
	// curve holds, while the task runs, its value of the metric at each
	// epoch observed (curve[i] at epoch i+1; NaN where none was).
	curve []float64
	// rungs has one bit set per rung the task's value was recorded at, for
	// each rule (used by asha rules only): bit k of rungs[i] is rung k of
	// rule i.
	rungs []uint64
	// finished is set when the task's result was recorded (Finished); its
	// curve then counts in the median sets when counted is set.
	finished, counted bool
	// decided is set once the task has a stop decision: it gets no second.
	decided bool
}

// task returns the engine's record of t, creating it on first sight.
func (e *Engine) task(t Task) *task {
	if ts, ok := e.tasks[t.ID]; ok {
		return ts
	}
	key, classes, epochs := describe(t.Params, e.spec.Group)
	g, ok := e.groups[key]
	if !ok {
		g = &group{key: key, rungs: make([][]values, len(e.spec.Rules))}
		e.groups[key] = g
	}
	ts := &task{group: g, chance: math.NaN(), epochs: epochs, rungs: make([]uint64, len(e.spec.Rules))}
	if classes > 0 {
		if e.spec.Mode == sweep.ModeMin {
			// The cross-entropy of a uniform guess over the classes.
			ts.chance = math.Log(float64(classes))
		} else {
			ts.chance = 1 / float64(classes)
		}
	}
	e.tasks[t.ID] = ts
	return ts
}

// within reports whether epoch is one of the task's (1-based; any epoch
// when its epochs are unknown): values of other epochs are ignored.
func (ts *task) within(epoch int) bool { return epoch >= 1 && (ts.epochs == 0 || epoch <= ts.epochs) }

// value returns the task's value at epoch (1-based) while it runs, NaN
// when it was not observed.
func (ts *task) value(epoch int) float64 {
	if epoch < 1 || epoch > len(ts.curve) {
		return math.NaN()
	}
	return ts.curve[epoch-1]
}

// observe records the task's value at epoch unless it has one there.
func (ts *task) observe(epoch int, v float64) {
	for len(ts.curve) < epoch {
		ts.curve = append(ts.curve, math.NaN())
	}
	if math.IsNaN(ts.curve[epoch-1]) {
		ts.curve[epoch-1] = v
	}
}

// describe reads from a task's params its group key, dataset.classes and
// train.epochs (0 when absent). The group key is the values of the group
// paths, in their (sorted) order, as path=value separated by spaces, the
// values as sweep.FormatValue renders their canonical JSON (null when
// absent): "network.reset=detached surrogate.shape=esser"; "" for no paths.
func describe(params json.RawMessage, paths []string) (key string, classes, epochs int) {
	var meta struct {
		Dataset struct {
			Classes int `json:"classes"`
		} `json:"dataset"`
		Train struct {
			Epochs int `json:"epochs"`
		} `json:"train"`
	}
	_ = json.Unmarshal(params, &meta) // zeros when absent or not integers
	if len(paths) == 0 {
		return "", meta.Dataset.Classes, meta.Train.Epochs
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(params, &top) // nil: every path absent
	parts := make([]string, len(paths))
	for i, p := range paths {
		raw, ok := lookup(top, p)
		if canon, err := sweep.Canonical(raw); ok && err == nil {
			raw = canon
		} else {
			raw = json.RawMessage("null")
		}
		parts[i] = sweep.Assignment{Path: p, Value: raw}.String()
	}
	return strings.Join(parts, " "), meta.Dataset.Classes, meta.Train.Epochs
}

// lookup returns the JSON value at the dotted path of JSON object names
// (a config path such as surrogate.shape) below the object top.
func lookup(top map[string]json.RawMessage, path string) (json.RawMessage, bool) {
	name, rest, nested := strings.Cut(path, ".")
	doc, ok := top[name]
	for ok && nested {
		var obj map[string]json.RawMessage
		if json.Unmarshal(doc, &obj) != nil {
			return nil, false
		}
		name, rest, nested = strings.Cut(rest, ".")
		doc, ok = obj[name]
	}
	return doc, ok
}

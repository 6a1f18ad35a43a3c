package results

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sgsweep/sgsweep/internal/suggest"
	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
)

// Task fields that are neither parameters nor metrics.
const (
	FieldState  = "state"  // pending, done, stopped or failed
	FieldStatus = "status" // ok, diverged, stopped or failed; pending while there is no result
	FieldHost   = "host"   // the worker host that computed the result
)

// Derived metrics, beyond sim.Result.Metrics.
const (
	// MetricDiverged is 1 for a diverged run and 0 for an ok one: its mean
	// is the divergence rate.
	MetricDiverged = "diverged"
	// MetricRunSeconds is the wall-clock duration of the run on its worker,
	// in s (not deterministic: it depends on the machine and its load).
	MetricRunSeconds = "run_seconds"
)

// Curves lists the per-epoch values that can be read at one epoch with
// name@epoch (val_acc@10) or at every epoch with name@* (for learning
// curves). spikes and silent are means over the hidden layers, as in
// sim.Result.Metrics.
var Curves = []string{"train_loss", "train_acc", "val_acc", "spikes", "silent"}

// metricNames lists the final metrics: the keys of sim.Result.Metrics in a
// fixed, readable order, then the derived ones.
var metricNames = sync.OnceValue(func() []string {
	r := sim.Result{Epochs: []sim.Epoch{{Spikes: []float64{0}, Silent: []float64{0}}}}
	preferred := []string{"test_acc", "test_acc_last", "best_val_acc", "best_epoch", "epochs",
		"train_loss", "train_acc", "val_acc", "spikes", "silent"}
	var names, rest []string
	m := r.Metrics()
	for _, k := range preferred {
		if _, ok := m[k]; ok {
			names = append(names, k)
		}
	}
	for k := range m {
		if !slices.Contains(names, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(append(names, rest...), MetricDiverged, MetricRunSeconds)
})

// MetricNames returns the names of the final metrics a query accepts;
// curve values at an epoch (Curves, name@epoch) come on top.
func MetricNames() []string { return slices.Clone(metricNames()) }

// ParamPaths returns the parameter paths a query accepts: the dotted JSON
// paths of sim.Config's leaves plus DepthParam.
func ParamPaths() []string { return slices.Clone(params().paths) }

// fieldKind says where a field's value comes from.
type fieldKind uint8

const (
	fieldParam    fieldKind = iota // a parameter path
	fieldState                     // Record.State
	fieldStatus                    // the result's status
	fieldHost                      // the result's worker host
	fieldMetric                    // a final or derived metric
	fieldCurve                     // a curve value at one epoch
	fieldCurveAll                  // a curve at every epoch
)

// field is a resolved parameter, task field or metric name.
type field struct {
	name   string // canonical: a path, a metric, or curve@epoch
	kind   fieldKind
	param  int    // schema index, for fieldParam
	metric string // metric or curve name
	epoch  int    // 1-based, for fieldCurve
}

// isMetric reports whether the field is a result value (absent until the
// task is done) rather than a property of the planned task.
func (f *field) isMetric() bool { return f.kind >= fieldMetric }

// lowerIsBetter reports the direction of a metric for "best": losses,
// divergence and run time are better low, everything else high.
func (f *field) lowerIsBetter() bool {
	return strings.Contains(f.metric, "loss") || f.metric == MetricDiverged || f.metric == MetricRunSeconds
}

// Field describes a name a query can use: a parameter path, a task field, a
// metric, or a curve at an epoch (val_acc@10).
type Field struct {
	// Name is the canonical name, as a table's column is headed.
	Name string
	// Metric reports a result value (absent until the task is done) rather
	// than a property of the planned task.
	Metric bool
	// LowerIsBetter gives a metric's direction for "best".
	LowerIsBetter bool
}

// LookupField resolves name as RunQuery does; epoch, if positive, makes a
// bare curve name mean its value at that epoch. An unknown name is an
// *UnknownFieldError.
func LookupField(name string, epoch int) (Field, error) {
	f, err := resolveField(name, epoch, false)
	if err != nil {
		return Field{}, err
	}
	return Field{Name: f.name, Metric: f.isMetric(), LowerIsBetter: f.lowerIsBetter()}, nil
}

// UnknownFieldError reports a name that is no parameter path, task field or
// metric. Its message lists the known names.
type UnknownFieldError struct {
	Name string
	// Want says what was expected: "parameter", "metric", or both.
	Want string
}

func (e *UnknownFieldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unknown %s %q", e.Want, e.Name)
	all := append(append(ParamPaths(), FieldState, FieldStatus, FieldHost), MetricNames()...)
	all = append(all, Curves...)
	if s := suggest.Nearest(e.Name, all, len(e.Name)/3+1); s != "" {
		fmt.Fprintf(&b, " (did you mean %s?)", s)
	}
	if strings.Contains(e.Want, "parameter") {
		fmt.Fprintf(&b, "; parameters: %s, and the task fields %s, %s, %s",
			strings.Join(ParamPaths(), ", "), FieldState, FieldStatus, FieldHost)
	}
	if strings.Contains(e.Want, "metric") {
		fmt.Fprintf(&b, "; metrics: %s, and the curves %s at an epoch (val_acc@10) or at every epoch (val_acc@*)",
			strings.Join(MetricNames(), ", "), strings.Join(Curves, ", "))
	}
	return b.String()
}

// resolveField looks a name up. epoch, if positive, makes a bare curve
// name (val_acc) mean its value at that epoch instead of after training.
// allowAll admits name@* (every epoch).
func resolveField(name string, epoch int, allowAll bool) (field, error) {
	name = strings.TrimSpace(name)
	if i, ok := params().index[name]; ok {
		return field{name: name, kind: fieldParam, param: i}, nil
	}
	switch name {
	case FieldState:
		return field{name: name, kind: fieldState}, nil
	case FieldStatus:
		return field{name: name, kind: fieldStatus}, nil
	case FieldHost:
		return field{name: name, kind: fieldHost}, nil
	}
	if curve, at, ok := strings.Cut(name, "@"); ok {
		if !slices.Contains(Curves, curve) {
			return field{}, fmt.Errorf("%q: %s is not a curve; curves: %s", name, curve, strings.Join(Curves, ", "))
		}
		if at == "*" {
			if !allowAll {
				return field{}, fmt.Errorf("%q: every epoch (@*) is only for query metrics and learning curves", name)
			}
			return field{name: name, kind: fieldCurveAll, metric: curve}, nil
		}
		e, err := strconv.Atoi(at)
		if err != nil || e < 1 {
			return field{}, fmt.Errorf("%q: the epoch after @ must be a positive integer or *", name)
		}
		return field{name: name, kind: fieldCurve, metric: curve, epoch: e}, nil
	}
	if epoch > 0 && slices.Contains(Curves, name) {
		n := name + "@" + strconv.Itoa(epoch)
		return field{name: n, kind: fieldCurve, metric: name, epoch: epoch}, nil
	}
	if slices.Contains(metricNames(), name) {
		return field{name: name, kind: fieldMetric, metric: name}, nil
	}
	return field{}, &UnknownFieldError{Name: name, Want: "parameter or metric"}
}

// stoppedUse says what a taskView makes of a stopped task's result.
type stoppedUse uint8

const (
	// stoppedOut gives a stopped task no metrics: the default of queries.
	stoppedOut stoppedUse = iota
	// stoppedAsRun gives it the metrics of its shortened run, and no curve
	// value after the epoch it stopped at: what export writes.
	stoppedAsRun
	// stoppedLast is stoppedAsRun with a curve's value at a later epoch
	// (up to train.epochs) read at the last epoch trained: its last value,
	// as QueryRequest.Include asks.
	stoppedLast
)

// taskView gives lazy access to one record's fields: parameters are
// flattened on first use only.
type taskView struct {
	rec       *Record
	flat      *flattener
	params    []Value
	flattened bool
	flatErr   error
	// stopped says what a stopped task's result counts for.
	stopped stoppedUse
}

func newTaskView(flat *flattener) *taskView {
	return &taskView{flat: flat, params: make([]Value, len(flat.schema.paths))}
}

// reset points the view at another record.
func (t *taskView) reset(rec *Record) {
	t.rec = rec
	t.flattened = false
	t.flatErr = nil
}

// paramValues returns all the record's flattened parameters.
func (t *taskView) paramValues() ([]Value, error) {
	if !t.flattened {
		t.flattened = true
		t.flatErr = t.flat.flatten(t.rec.Params, t.params)
		if t.flatErr != nil {
			t.flatErr = fmt.Errorf("task %s params: %w", t.rec.TaskID, t.flatErr)
		}
	}
	return t.params, t.flatErr
}

// status is the result's status: ok, diverged or failed; failed for a task
// that failed without a result; pending while there is none.
func (t *taskView) status() string {
	switch {
	case t.rec.Result != nil:
		return t.rec.Result.Status
	case t.rec.State == StateFailed:
		return protocol.StatusFailed
	}
	return StatePending
}

// simResult returns the simulator's result when the task is done with one,
// or stopped with one and stopped tasks count (t.stopped).
func (t *taskView) simResult() *sim.Result {
	r := t.rec.Result
	if r == nil || r.Result == nil || r.Status == protocol.StatusFailed {
		return nil
	}
	if t.rec.State == StateDone || (t.rec.State == StateStopped && t.stopped != stoppedOut) {
		return r.Result
	}
	return nil
}

// epochsParam is the parameter of a task's planned number of epochs.
const epochsParam = "train.epochs"

// carries reports whether the task's curves are read past their end at
// their last value: a stopped task under stoppedLast.
func (t *taskView) carries() bool {
	return t.stopped == stoppedLast && t.rec.State == StateStopped
}

// lastEpoch is the last epoch at which the task's curves have a value: the
// epochs trained, or for a curve carried past its end (carries) the
// planned train.epochs when that is more. 0 without a result.
func (t *taskView) lastEpoch() int {
	r := t.simResult()
	if r == nil {
		return 0
	}
	n := len(r.Epochs)
	if !t.carries() || n == 0 {
		return n
	}
	ps, err := t.paramValues()
	if err != nil {
		return n
	}
	i, ok := params().index[epochsParam]
	if v := ps[i]; ok && v.Kind == KindNumber && int(v.Num) > n {
		return int(v.Num)
	}
	return n
}

// value returns the field's value for this task; metrics of a task without
// a result, and curve values at an epoch the run did not reach, are nothing.
func (t *taskView) value(f *field) (Value, error) {
	switch f.kind {
	case fieldParam:
		ps, err := t.paramValues()
		if err != nil {
			return Value{}, err
		}
		return ps[f.param], nil
	case fieldState:
		return String(t.rec.State), nil
	case fieldStatus:
		return String(t.status()), nil
	case fieldHost:
		if t.rec.Result == nil {
			return String(""), nil
		}
		return String(t.rec.Result.Provenance.Host), nil
	}
	x, ok := t.metric(f)
	if !ok {
		return Value{}, nil
	}
	return Number(x), nil
}

// metric returns a metric's value, false when the task has none. The value
// may be NaN or ±Inf if the simulator reported one.
func (t *taskView) metric(f *field) (float64, bool) {
	r := t.simResult()
	if r == nil {
		return 0, false
	}
	switch f.kind {
	case fieldMetric:
		switch f.metric {
		case MetricDiverged:
			if r.Status == sim.StatusDiverged {
				return 1, true
			}
			return 0, true
		case MetricRunSeconds:
			p := t.rec.Result.Provenance
			if p.StartedAt.IsZero() || p.FinishedAt.IsZero() {
				return 0, false
			}
			return p.FinishedAt.Sub(p.StartedAt).Seconds(), true
		}
		return r.Metric(f.metric)
	case fieldCurve:
		e := f.epoch
		if t.carries() && e > len(r.Epochs) && e <= t.lastEpoch() {
			e = len(r.Epochs)
		}
		return curveValue(r, f.metric, e)
	}
	return 0, false
}

// curveValue returns a curve's value after the 1-based epoch, false when
// the run has no such epoch.
func curveValue(r *sim.Result, curve string, epoch int) (float64, bool) {
	if epoch < 1 || epoch > len(r.Epochs) {
		return 0, false
	}
	e := &r.Epochs[epoch-1]
	switch curve {
	case "train_loss":
		return e.TrainLoss, true
	case "train_acc":
		return e.TrainAcc, true
	case "val_acc":
		return e.ValAcc, true
	case "spikes":
		return layerMean(e.Spikes)
	case "silent":
		return layerMean(e.Silent)
	}
	return 0, false
}

// layerMean is the mean over hidden layers, false for no layers.
func layerMean(x []float64) (float64, bool) {
	if len(x) == 0 {
		return 0, false
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x)), true
}

// isFinite reports whether x is neither NaN nor ±Inf.
func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

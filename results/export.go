package results

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sgsweep/sgsweep/sim"
)

// Export formats.
const (
	ExportCSV   = "csv"
	ExportJSONL = "jsonl"
)

// ExportOptions configures Export. The zero value writes CSV, one row per
// task, every task.
type ExportOptions struct {
	// Format is ExportCSV (the default) or ExportJSONL.
	Format string
	// Curves writes one row per task per completed epoch instead of one per
	// task (a stopped task's rows end at the epoch it stopped at); tasks
	// without a result have no rows then.
	Curves bool
	// Where holds filter clauses (see Filter): only matching tasks are
	// written.
	Where []string
}

// ExportStats counts what Export wrote.
type ExportStats struct {
	// Tasks is the number of tasks written, Rows the number of rows (equal
	// without curves).
	Tasks, Rows int
	// Stopped is the number of stopped tasks among Tasks.
	Stopped int
	// UnknownParams counts parameter paths found in tasks that this version
	// of sgsweep does not know (written by another version); they are not
	// exported.
	UnknownParams map[string]int
}

// Export writes the sweep's tasks as a tidy table, streaming: one record in
// memory at a time, whatever the sweep's size. Columns, in order:
//
//	sweep, ordinal, task_id, state, status, attempts, error
//	every parameter path (ParamPaths: surrogate.shape, train.lr, …, network.depth)
//	per task: every final metric (MetricNames); per epoch instead: epoch,
//	  train_loss, train_acc, val_acc, spikes, silent (means over hidden
//	  layers), spikes_by_layer, silent_by_layer (lists), epoch_seconds
//	the stop decision of a stopped task (empty for any other): stop_epoch,
//	  stop_rule, stop_metric, stop_mode, stop_value, stop_threshold,
//	  stop_group, stop_peers (how many values it was compared against),
//	  stop_against (them, as a list), stop_decided_at (RFC 3339)
//	provenance: digest, model_version, build_version, build_revision,
//	  go_version, platform, host, worker, result_attempt, started_at,
//	  finished_at (RFC 3339), data_seconds, train_seconds
//
// CSV has a header line; numbers are written with full precision, lists as
// JSON, missing values as empty fields. JSON Lines has one object per row
// with the same keys, missing values null. A stopped task's metrics are
// those of its shortened run, as it reported them (its state and status
// say it stopped): export leaves nothing out, so --include does not apply.
func Export(ctx context.Context, src RecordSource, sweep string, w io.Writer, opts ExportOptions) (*ExportStats, error) {
	var enc rowEncoder
	switch opts.Format {
	case ExportCSV, "":
		enc = &csvEncoder{}
	case ExportJSONL:
		enc = &jsonlEncoder{}
	default:
		return nil, fmt.Errorf("format: %q is not one of %s, %s", opts.Format, ExportCSV, ExportJSONL)
	}
	filter, err := ParseFilter(opts.Where, 0)
	if err != nil {
		return nil, err
	}
	ex := newExporter(opts.Curves)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc.header(bw, ex.names)
	stats := &ExportStats{}
	err = src.Records(ctx, sweep, func(r *Record) error {
		ex.view.reset(r)
		if ok, err := filter.match(ex.view, false); err != nil || !ok {
			return err
		}
		if ok, err := filter.match(ex.view, true); err != nil || !ok {
			return err
		}
		n, err := ex.write(bw, enc)
		if err != nil {
			return err
		}
		if n > 0 || !opts.Curves {
			stats.Tasks++
			if r.State == StateStopped {
				stats.Stopped++
			}
		}
		stats.Rows += n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", sweep, err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("export %s: %w", sweep, err)
	}
	if len(ex.view.flat.unknown) > 0 {
		stats.UnknownParams = ex.view.flat.unknown
	}
	return stats, nil
}

// exporter holds the columns and the per-row buffers.
type exporter struct {
	curves bool
	names  []string
	view   *taskView
	row    []Value
	// metrics are the final metrics' fields, resolved once.
	metrics []field
	// epoch is the current row's epoch for curve rows.
	epoch *sim.Epoch
}

// curveColumns are the per-epoch columns of a curves export.
var curveColumns = []string{"epoch", "train_loss", "train_acc", "val_acc", "spikes", "silent",
	"spikes_by_layer", "silent_by_layer", "epoch_seconds"}

// stopColumns are the columns of a stop decision (see stopValues).
var stopColumns = []string{"stop_epoch", "stop_rule", "stop_metric", "stop_mode", "stop_value", "stop_threshold",
	"stop_group", "stop_peers", "stop_against", "stop_decided_at"}

// provenanceColumns are the provenance columns, last in every export.
var provenanceColumns = []string{"digest", "model_version", "build_version", "build_revision", "go_version",
	"platform", "host", "worker", "result_attempt", "started_at", "finished_at", "data_seconds", "train_seconds"}

func newExporter(curves bool) *exporter {
	ex := &exporter{curves: curves, view: newTaskView(newFlattener())}
	ex.view.stopped = stoppedAsRun
	ex.names = append(ex.names, "sweep", "ordinal", "task_id", "state", "status", "attempts", "error")
	ex.names = append(ex.names, params().paths...)
	if curves {
		ex.names = append(ex.names, curveColumns...)
	} else {
		for _, m := range metricNames() {
			f, _ := resolveField(m, 0, false)
			ex.metrics = append(ex.metrics, f)
			ex.names = append(ex.names, m)
		}
	}
	ex.names = append(ex.names, stopColumns...)
	ex.names = append(ex.names, provenanceColumns...)
	ex.row = make([]Value, len(ex.names))
	return ex
}

// write writes the current record's rows and returns how many.
func (ex *exporter) write(w *bufio.Writer, enc rowEncoder) (int, error) {
	t := ex.view
	r := t.rec
	ps, err := t.paramValues()
	if err != nil {
		return 0, err
	}
	row := ex.row[:0]
	row = append(row, String(r.Sweep), Number(float64(r.Ordinal)), String(r.TaskID), String(r.State),
		String(t.status()), Number(float64(r.Attempts)), textOrNone(r.Error))
	row = append(row, ps...)
	fixed := len(row)
	if !ex.curves {
		for i := range ex.metrics {
			v, _ := t.value(&ex.metrics[i])
			row = append(row, v)
		}
		row = ex.appendStop(row)
		row = ex.appendProvenance(row)
		enc.row(w, row)
		return 1, nil
	}
	res := t.simResult()
	if res == nil {
		return 0, nil
	}
	var secs []float64
	if r.Result != nil {
		secs = r.Result.Provenance.Timing.EpochSeconds
	}
	for i := range res.Epochs {
		e := &res.Epochs[i]
		row = row[:fixed]
		spikes, okS := layerMean(e.Spikes)
		silent, okQ := layerMean(e.Silent)
		row = append(row, Number(float64(e.Epoch)), Number(e.TrainLoss), Number(e.TrainAcc), Number(e.ValAcc),
			numberIf(spikes, okS), numberIf(silent, okQ), listValue(e.Spikes), listValue(e.Silent))
		if i < len(secs) {
			row = append(row, Number(secs[i]))
		} else {
			row = append(row, Value{})
		}
		row = ex.appendStop(row)
		row = ex.appendProvenance(row)
		enc.row(w, row)
	}
	return len(res.Epochs), nil
}

// appendStop appends the stop decision's columns: the record's committed
// decision, or its result's.
func (ex *exporter) appendStop(row []Value) []Value {
	r := ex.view.rec
	d := r.Stop
	if d == nil && r.Result != nil {
		d = r.Result.Stop
	}
	if d == nil {
		for range stopColumns {
			row = append(row, Value{})
		}
		return row
	}
	return append(row, Number(float64(d.Epoch)), textOrNone(d.Rule), textOrNone(d.Metric), textOrNone(d.Mode),
		Number(d.Value), Number(d.Threshold), textOrNone(d.Group), Number(float64(len(d.Against))),
		listValue(d.Against), timeValue(d.DecidedAt))
}

// appendProvenance appends the provenance columns.
func (ex *exporter) appendProvenance(row []Value) []Value {
	r := ex.view.rec.Result
	if r == nil {
		for range provenanceColumns {
			row = append(row, Value{})
		}
		return row
	}
	p := &r.Provenance
	var train float64
	for _, s := range p.Timing.EpochSeconds {
		train += s
	}
	return append(row, textOrNone(r.Digest), textOrNone(p.ModelVersion), textOrNone(p.Build.Version),
		textOrNone(p.Build.Revision), textOrNone(p.Build.GoVersion), textOrNone(p.Build.Platform),
		textOrNone(p.Host), textOrNone(p.Worker), numberIf(float64(p.Attempt), p.Attempt > 0),
		timeValue(p.StartedAt), timeValue(p.FinishedAt),
		numberIf(p.Timing.DataSeconds, p.Timing.DataSeconds > 0 || len(p.Timing.EpochSeconds) > 0),
		numberIf(train, len(p.Timing.EpochSeconds) > 0))
}

// textOrNone is a string Value, nothing for "".
func textOrNone(s string) Value {
	if s == "" {
		return Value{}
	}
	return String(s)
}

// numberIf is a number Value when ok, nothing otherwise.
func numberIf(x float64, ok bool) Value {
	if !ok {
		return Value{}
	}
	return Number(x)
}

// timeValue renders a time in RFC 3339 with nanoseconds, nothing for zero.
func timeValue(t time.Time) Value {
	if t.IsZero() {
		return Value{}
	}
	return String(t.UTC().Format(time.RFC3339Nano))
}

// rowEncoder writes rows in one format.
type rowEncoder interface {
	header(w *bufio.Writer, names []string)
	row(w *bufio.Writer, vals []Value)
}

// csvEncoder writes RFC 4180 CSV.
type csvEncoder struct{ buf []byte }

func (e *csvEncoder) header(w *bufio.Writer, names []string) {
	e.buf = e.buf[:0]
	for i, n := range names {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendCSVField(e.buf, n)
	}
	w.Write(append(e.buf, '\n'))
}

func (e *csvEncoder) row(w *bufio.Writer, vals []Value) {
	b := e.buf[:0]
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		switch v.Kind {
		case KindNone:
		case KindNumber:
			b = strconv.AppendFloat(b, v.Num, 'g', -1, 64)
		default:
			b = appendCSVField(b, v.Text)
		}
	}
	e.buf = append(b, '\n')
	w.Write(e.buf)
}

// appendCSVField appends s, quoted when it holds a comma, a quote, a line
// break or surrounding spaces.
func appendCSVField(dst []byte, s string) []byte {
	quote := len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ')
	for i := 0; i < len(s) && !quote; i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			quote = true
		}
	}
	if !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// jsonlEncoder writes one JSON object per line.
type jsonlEncoder struct {
	keys [][]byte // `"name":` per column
	buf  []byte
}

func (e *jsonlEncoder) header(_ *bufio.Writer, names []string) {
	for _, n := range names {
		e.keys = append(e.keys, append(appendJSONString(nil, n), ':'))
	}
}

func (e *jsonlEncoder) row(w *bufio.Writer, vals []Value) {
	b := append(e.buf[:0], '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.keys[i]...)
		b = v.appendJSON(b)
	}
	e.buf = append(b, '}', '\n')
	w.Write(e.buf)
}

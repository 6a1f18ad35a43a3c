package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// Errors of the message decoders. Every error DecodeTask, DecodeResult,
// DecodeProgress and DecodeProgressReply return is a *SchemaError or wraps
// one of these, or one of the task identity errors sweep.ErrIDMismatch and
// sweep.ErrInvalidParams.
var (
	// ErrMalformed: the message is not valid JSON, lacks a required field or
	// has an inconsistent one. Set it aside; retrying cannot help.
	ErrMalformed = errors.New("malformed message")
	// ErrModelVersion: the task was planned for another simulator model.
	ErrModelVersion = errors.New("model version mismatch")
)

// SchemaError reports a message of an unknown kind or major version.
type SchemaError struct {
	Got  string // the message's schema, "" when absent
	Want string // the schema the decoder reads
}

func (e *SchemaError) Error() string {
	got := e.Got
	if got == "" {
		got = "no schema"
	}
	return fmt.Sprintf("message schema %q is not %s (or a minor version of it)", got, e.Want)
}

// checkSchema peeks at the message's schema field before anything else is
// decoded: another major version may have another layout. want is
// "<kind>/v<major>"; "<kind>/v<major>.<minor>" is accepted too.
func checkSchema(data []byte, want string) error {
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if head.Schema == nil {
		return &SchemaError{Want: want}
	}
	got := *head.Schema
	if got == want {
		return nil
	}
	if minor, ok := strings.CutPrefix(got, want+"."); ok && minor != "" && strings.Trim(minor, "0123456789") == "" {
		return nil
	}
	return &SchemaError{Got: got, Want: want}
}

// decodeStrict decodes data into v; fields v does not know are ignored (a
// minor version may add them).
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the message", ErrMalformed)
	}
	return nil
}

// checkIdentity checks the sweep name and task ID fields every message has.
func checkIdentity(sweepName, taskID string) error {
	if !sweep.ValidName(sweepName) {
		return fmt.Errorf("%w: sweep %q is not a valid sweep name", ErrMalformed, sweepName)
	}
	if !sweep.ValidTaskID(taskID) {
		return fmt.Errorf("%w: task_id %q is not 32 lowercase hex digits", ErrMalformed, taskID)
	}
	return nil
}

// NewTaskMsg returns the message that publishes task t of the named sweep;
// gen counts deliberate re-publications (see TaskMsg.Gen) and now is the
// publication time.
func NewTaskMsg(sweepName string, t sweep.Task, gen int, now time.Time) *TaskMsg {
	return &TaskMsg{
		Schema:       SchemaTask,
		Sweep:        sweepName,
		TaskID:       t.ID,
		ModelVersion: sim.ModelVersion,
		Params:       t.Params,
		Gen:          gen,
		EnqueuedAt:   now.UTC(),
	}
}

// DecodeTask decodes and checks a task message: its schema is
// sgsweep.task/v1 (else a *SchemaError), the sweep, task ID, model version
// and parameters are present, the model version is sim.ModelVersion (else
// ErrModelVersion), the ID is TaskID(Params) (else sweep.ErrIDMismatch), and the
// parameters decode into a valid, complete sim.Config (else
// sweep.ErrInvalidParams).
//
// When the envelope decodes but the task cannot run (model version, ID
// mismatch, invalid parameters), the message is returned along with the
// error, so that the caller can report a failed result for it; otherwise
// the message is nil on error.
func DecodeTask(data []byte) (*TaskMsg, error) {
	if err := checkSchema(data, SchemaTask); err != nil {
		return nil, err
	}
	var m TaskMsg
	if err := decodeStrict(data, &m); err != nil {
		return nil, err
	}
	if err := checkIdentity(m.Sweep, m.TaskID); err != nil {
		return nil, err
	}
	switch {
	case m.ModelVersion == "":
		return nil, fmt.Errorf("%w: model_version missing", ErrMalformed)
	case len(m.Params) == 0 || string(m.Params) == "null":
		return nil, fmt.Errorf("%w: params missing", ErrMalformed)
	case m.Gen < 0:
		return nil, fmt.Errorf("%w: gen %d is negative", ErrMalformed, m.Gen)
	}
	if m.ModelVersion != sim.ModelVersion {
		return &m, fmt.Errorf("%w: task %s was planned for %s, this binary computes %s", ErrModelVersion, m.TaskID, m.ModelVersion, sim.ModelVersion)
	}
	cfg, err := sweep.CheckTask(m.TaskID, m.Params)
	if err != nil {
		return &m, err
	}
	m.config = &cfg
	return &m, nil
}

// Config decodes the task's parameters into a sim.Config and validates it.
// The parameters must be a complete config: unknown and missing fields are
// errors. Errors wrap ErrInvalidParams (and the *sim.FieldErrors of an
// invalid config). On a message from DecodeTask it returns the config
// DecodeTask checked; its slices are shared between calls and must not be
// modified.
func (m *TaskMsg) Config() (sim.Config, error) {
	if m.config != nil {
		return *m.config, nil
	}
	return sweep.DecodeParams(m.Params)
}

// DecodeResult decodes and checks a result message: its schema is
// sgsweep.result/v1 (else a *SchemaError); sweep and task ID are well
// formed; the status is ok, diverged, stopped or failed; a failed result
// has an error and no Result, any other a Result of that status; a stopped
// result, and only a stopped one, has a stop decision (epoch ≥ 1, a known
// rule, a metric and a mode, finite values, the peers' in ascending order)
// and at least Stop.Epoch epochs (the run ends at the first epoch boundary
// at or after it); the digest is
// Digest(Result) (Digest(Error) when failed); and when parameters are
// echoed, the task ID is their hash under the provenance's model version
// (else sweep.ErrIDMismatch).
func DecodeResult(data []byte) (*ResultMsg, error) {
	if err := checkSchema(data, SchemaResult); err != nil {
		return nil, err
	}
	var m ResultMsg
	if err := decodeStrict(data, &m); err != nil {
		return nil, err
	}
	if err := checkIdentity(m.Sweep, m.TaskID); err != nil {
		return nil, err
	}
	var digestOf any
	switch m.Status {
	case StatusFailed:
		if m.Error == "" {
			return nil, fmt.Errorf("%w: failed result without an error", ErrMalformed)
		}
		if m.Result != nil {
			return nil, fmt.Errorf("%w: failed result with a result", ErrMalformed)
		}
		digestOf = m.Error
	case StatusOK, StatusDiverged, StatusStopped:
		if m.Result == nil {
			return nil, fmt.Errorf("%w: %s result without a result", ErrMalformed, m.Status)
		}
		if m.Result.Status != m.Status {
			return nil, fmt.Errorf("%w: status %s but result status %q", ErrMalformed, m.Status, m.Result.Status)
		}
		digestOf = m.Result
	default:
		return nil, fmt.Errorf("%w: status %q is not one of %s, %s, %s, %s", ErrMalformed, m.Status,
			StatusOK, StatusDiverged, StatusStopped, StatusFailed)
	}
	switch {
	case m.Status != StatusStopped && m.Stop != nil:
		return nil, fmt.Errorf("%w: %s result with a stop decision", ErrMalformed, m.Status)
	case m.Status == StatusStopped && m.Stop == nil:
		return nil, fmt.Errorf("%w: stopped result without a stop decision", ErrMalformed)
	case m.Stop != nil:
		if err := checkStop(m.Stop); err != nil {
			return nil, err
		}
		if n := len(m.Result.Epochs); n < m.Stop.Epoch {
			return nil, fmt.Errorf("%w: stop decision for epoch %d but the run ended after epoch %d", ErrMalformed, m.Stop.Epoch, n)
		}
	}
	want, err := sweep.Digest(digestOf)
	if err != nil {
		return nil, fmt.Errorf("%w: digest: %v", ErrMalformed, err)
	}
	if m.Digest != want {
		return nil, fmt.Errorf("%w: digest %q, content hashes to %s", ErrMalformed, m.Digest, want)
	}
	if len(m.Params) > 0 && string(m.Params) != "null" {
		if id := sweep.TaskIDUnder(m.Provenance.ModelVersion, m.Params); id != m.TaskID {
			return nil, fmt.Errorf("%w: task_id %s, params hash to %q under model %q", sweep.ErrIDMismatch, m.TaskID, id, m.Provenance.ModelVersion)
		}
	}
	if m.Provenance.Attempt < 0 {
		return nil, fmt.Errorf("%w: attempt %d is negative", ErrMalformed, m.Provenance.Attempt)
	}
	return &m, nil
}

// DecodeProgress decodes and checks a progress message: schema
// sgsweep.progress/v1 (else a *SchemaError), well-formed sweep and task ID,
// a worker, and 1 ≤ epoch.epoch ≤ epochs.
func DecodeProgress(data []byte) (*ProgressMsg, error) {
	if err := checkSchema(data, SchemaProgress); err != nil {
		return nil, err
	}
	var m ProgressMsg
	if err := decodeStrict(data, &m); err != nil {
		return nil, err
	}
	if err := checkIdentity(m.Sweep, m.TaskID); err != nil {
		return nil, err
	}
	switch {
	case m.Worker == "":
		return nil, fmt.Errorf("%w: worker missing", ErrMalformed)
	case m.Epochs < 1 || m.Epoch.Epoch < 1 || m.Epoch.Epoch > m.Epochs:
		return nil, fmt.Errorf("%w: epoch %d of %d", ErrMalformed, m.Epoch.Epoch, m.Epochs)
	case m.Attempt < 0:
		return nil, fmt.Errorf("%w: attempt %d is negative", ErrMalformed, m.Attempt)
	}
	return &m, nil
}

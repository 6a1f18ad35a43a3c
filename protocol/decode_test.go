package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// testTask returns a task of a small spec.
func testTask(t testing.TB) sweep.Task {
	t.Helper()
	s, err := sweep.Parse("fig3.yaml", []byte("name: fig3\nbase: {train.epochs: 3}\ngrid:\n  surrogate.scale: [1, 10]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return tasks[1]
}

// editJSON decodes a JSON object, applies edit and encodes it again.
func editJSON(t testing.TB, data []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withParams returns a task message with the given params and a matching
// task ID.
func withParams(t testing.TB, base []byte, params string) []byte {
	return editJSON(t, base, func(m map[string]any) {
		m["params"] = json.RawMessage(params)
		m["task_id"] = sweep.TaskID(json.RawMessage(params))
	})
}

func TestTaskMessageRoundTrip(t *testing.T) {
	task := testTask(t)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	msg := NewTaskMsg("fig3", task, 2, now)
	data, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeTask(data)
	if err != nil {
		t.Fatalf("DecodeTask(NewTaskMsg): %v", err)
	}
	if got.Schema != SchemaTask || got.Sweep != "fig3" || got.TaskID != task.ID || got.Gen != 2 ||
		got.ModelVersion != sim.ModelVersion || !got.EnqueuedAt.Equal(now) || got.EnqueuedAt.Location() != time.UTC {
		t.Errorf("DecodeTask = %+v", got)
	}
	cfg, err := got.Config()
	if err != nil || !reflect.DeepEqual(cfg, task.Config) {
		t.Errorf("Config() = %+v, %v; want %+v", cfg, err, task.Config)
	}
}

func TestDecodeTaskErrors(t *testing.T) {
	task := testTask(t)
	valid, err := json.Marshal(NewTaskMsg("fig3", task, 0, time.Unix(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	set := func(key string, v any) []byte {
		return editJSON(t, valid, func(m map[string]any) { m[key] = v })
	}
	del := func(key string) []byte {
		return editJSON(t, valid, func(m map[string]any) { delete(m, key) })
	}
	invalidCfg := strings.Replace(string(task.Params), `"scale":10`, `"scale":-1`, 1)
	missingField := strings.Replace(string(task.Params), `"seed":1,`, ``, 1)
	unknownField := strings.Replace(string(task.Params), `{"data_seed"`, `{"colour":"red","data_seed"`, 1)
	tests := []struct {
		name    string
		data    []byte
		want    error // sentinel, or nil for a *SchemaError
		schema  bool  // want a *SchemaError
		msg     bool  // the message is returned with the error
		wantSub string
	}{
		{"other major version", set("schema", "sgsweep.task/v2"), nil, true, false, `"sgsweep.task/v2" is not sgsweep.task/v1`},
		{"other kind", set("schema", SchemaResult), nil, true, false, "is not sgsweep.task/v1"},
		{"no schema", del("schema"), nil, true, false, "no schema"},
		{"schema not a string", set("schema", 1), ErrMalformed, false, false, ""},
		{"not JSON", []byte("{\"schema\":"), ErrMalformed, false, false, ""},
		{"data after the message", append(append([]byte{}, valid...), []byte(" {}")...), ErrMalformed, false, false, ""},
		{"bad sweep name", set("sweep", "a.b"), ErrMalformed, false, false, "not a valid sweep name"},
		{"bad task id", set("task_id", "XYZ"), ErrMalformed, false, false, "not 32 lowercase hex"},
		{"no params", del("params"), ErrMalformed, false, false, "params missing"},
		{"no model version", del("model_version"), ErrMalformed, false, false, "model_version missing"},
		{"negative gen", set("gen", -1), ErrMalformed, false, false, "negative"},
		{"wrong field type", set("gen", "one"), ErrMalformed, false, false, ""},
		{"other model version", set("model_version", "sgsweep-sim/0"), ErrModelVersion, false, true, "planned for sgsweep-sim/0"},
		{"params edited", set("params", json.RawMessage(strings.Replace(string(task.Params), `"scale":10`, `"scale":11`, 1))), sweep.ErrIDMismatch, false, true, "params hash to"},
		{"params with a repeated key", set("params", json.RawMessage(`{"seed":1,"seed":1}`)), sweep.ErrInvalidParams, false, true, "not canonicalizable"},
		{"invalid config", withParams(t, valid, invalidCfg), sweep.ErrInvalidParams, false, true, "surrogate.scale: must be ≥ 0"},
		{"missing field", withParams(t, valid, missingField), sweep.ErrInvalidParams, false, true, "params.seed missing"},
		{"unknown field", withParams(t, valid, unknownField), sweep.ErrInvalidParams, false, true, `unknown field "colour"`},
		{"params not an object", withParams(t, valid, `[1]`), sweep.ErrInvalidParams, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := DecodeTask(tt.data)
			if err == nil {
				t.Fatalf("DecodeTask(%s) succeeded", tt.data)
			}
			var se *SchemaError
			if tt.schema != errors.As(err, &se) {
				t.Errorf("DecodeTask error %v: *SchemaError = %v, want %v", err, !tt.schema, tt.schema)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("DecodeTask error %v, want errors.Is %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("DecodeTask error %q, want it to contain %q", err, tt.wantSub)
			}
			if (msg != nil) != tt.msg {
				t.Errorf("DecodeTask returned message %v with the error, want one: %v", msg, tt.msg)
			}
		})
	}

	t.Run("invalid config wraps the field error", func(t *testing.T) {
		_, err := DecodeTask(withParams(t, valid, invalidCfg))
		var fe *sim.FieldError
		if !errors.As(err, &fe) || fe.Field != "surrogate.scale" {
			t.Errorf("error %v: want a *sim.FieldError for surrogate.scale", err)
		}
	})
	t.Run("minor versions and unknown fields are accepted", func(t *testing.T) {
		data := editJSON(t, valid, func(m map[string]any) {
			m["schema"] = "sgsweep.task/v1.7"
			m["priority"] = 3
		})
		if _, err := DecodeTask(data); err != nil {
			t.Errorf("DecodeTask(v1.7 with a new field): %v", err)
		}
	})
	t.Run("formatting of params does not matter", func(t *testing.T) {
		var pretty map[string]any
		_ = json.Unmarshal(task.Params, &pretty)
		indented, _ := json.MarshalIndent(pretty, "", "  ")
		data := set("params", json.RawMessage(indented))
		if _, err := DecodeTask(data); err != nil {
			t.Errorf("DecodeTask(indented params): %v", err)
		}
	})
}

// testResult returns a valid result message for task.
func testResult(t testing.TB, task sweep.Task, status string) *ResultMsg {
	t.Helper()
	m := &ResultMsg{
		Schema: SchemaResult,
		Sweep:  "fig3",
		TaskID: task.ID,
		Status: status,
		Params: task.Params,
		Provenance: Provenance{
			ModelVersion: sim.ModelVersion,
			Build:        CurrentBuild(),
			Host:         "h",
			Worker:       "h/1",
			Attempt:      1,
		},
	}
	var err error
	if status == StatusFailed {
		m.Error = "dataset mnist: no such file"
		m.Digest, err = sweep.Digest(m.Error)
	} else {
		m.Result = &sim.Result{
			Status:     status,
			Epochs:     []sim.Epoch{{Epoch: 1, TrainLoss: 2.3, TrainAcc: 0.1, ValAcc: 0.12, Spikes: []float64{1.5}, Silent: []float64{0.25}}},
			BestEpoch:  1,
			BestValAcc: 0.12,
			TestAcc:    0.11,
		}
		m.Digest, err = sweep.Digest(m.Result)
	}
	if status == StatusStopped {
		m.Stop = testStop()
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeResult(t *testing.T) {
	task := testTask(t)
	for _, status := range []string{StatusOK, StatusDiverged, StatusStopped, StatusFailed} {
		data, _ := json.Marshal(testResult(t, task, status))
		got, err := DecodeResult(data)
		if err != nil {
			t.Fatalf("DecodeResult(%s result): %v", status, err)
		}
		if got.Status != status || got.TaskID != task.ID {
			t.Errorf("DecodeResult = %+v", got)
		}
	}

	ok, _ := json.Marshal(testResult(t, task, StatusOK))
	failed, _ := json.Marshal(testResult(t, task, StatusFailed))
	edit := func(data []byte, f func(m map[string]any)) []byte { return editJSON(t, data, f) }
	tests := []struct {
		name    string
		data    []byte
		want    error
		wantSub string
	}{
		{"other major version", edit(ok, func(m map[string]any) { m["schema"] = "sgsweep.result/v2" }), nil, "is not sgsweep.result/v1"},
		{"digest mismatch", edit(ok, func(m map[string]any) { m["result"].(map[string]any)["test_acc"] = 0.99 }), ErrMalformed, "content hashes to"},
		{"failed digest mismatch", edit(failed, func(m map[string]any) { m["error"] = "other" }), ErrMalformed, "content hashes to"},
		{"unknown status", edit(ok, func(m map[string]any) { m["status"] = "great" }), ErrMalformed, `status "great" is not one of`},
		{"status disagrees", edit(ok, func(m map[string]any) { m["status"] = StatusDiverged }), ErrMalformed, "but result status"},
		{"failed without error", edit(failed, func(m map[string]any) { delete(m, "error") }), ErrMalformed, "without an error"},
		{"ok without result", edit(ok, func(m map[string]any) { delete(m, "result") }), ErrMalformed, "without a result"},
		{"failed with result", edit(failed, func(m map[string]any) {
			var o map[string]any
			_ = json.Unmarshal(ok, &o)
			m["result"] = o["result"]
		}), ErrMalformed, "failed result with a result"},
		{"params of another task", edit(ok, func(m map[string]any) {
			m["params"] = json.RawMessage(strings.Replace(string(task.Params), `"scale":10`, `"scale":1`, 1))
		}), sweep.ErrIDMismatch, "params hash to"},
		{"bad task id", edit(ok, func(m map[string]any) { m["task_id"] = "abc" }), ErrMalformed, "task_id"},
		{"negative attempt", edit(ok, func(m map[string]any) { m["provenance"].(map[string]any)["attempt"] = -1 }), ErrMalformed, "attempt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeResult(tt.data)
			if err == nil {
				t.Fatal("DecodeResult succeeded")
			}
			var se *SchemaError
			if (tt.want == nil) != errors.As(err, &se) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("DecodeResult error %v (%T), want %v", err, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("DecodeResult error %q, want it to contain %q", err, tt.wantSub)
			}
		})
	}
}

func TestDecodeProgress(t *testing.T) {
	task := testTask(t)
	valid, _ := json.Marshal(&ProgressMsg{
		Schema: SchemaProgress, Sweep: "fig3", TaskID: task.ID, Worker: "h/1", Attempt: 1, Epochs: 3,
		Epoch: sim.Epoch{Epoch: 2, TrainLoss: 1, Spikes: []float64{}, Silent: []float64{}},
	})
	if m, err := DecodeProgress(valid); err != nil || m.Epoch.Epoch != 2 {
		t.Fatalf("DecodeProgress = %+v, %v", m, err)
	}
	for name, data := range map[string][]byte{
		"epoch beyond the run": editJSON(t, valid, func(m map[string]any) { m["epochs"] = 1 }),
		"no worker":            editJSON(t, valid, func(m map[string]any) { delete(m, "worker") }),
		"bad sweep":            editJSON(t, valid, func(m map[string]any) { m["sweep"] = "" }),
	} {
		if _, err := DecodeProgress(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: DecodeProgress error %v, want ErrMalformed", name, err)
		}
	}
	if _, err := DecodeProgress(editJSON(t, valid, func(m map[string]any) { m["schema"] = "sgsweep.progress/v3" })); !isSchemaError(err) {
		t.Errorf("DecodeProgress(v3) error %v, want a *SchemaError", err)
	}
}

func isSchemaError(err error) bool {
	var se *SchemaError
	return errors.As(err, &se)
}

// checkTypedError fails unless err is nil or one of the decoders' typed
// errors.
func checkTypedError(t *testing.T, err error) {
	t.Helper()
	if err == nil || isSchemaError(err) {
		return
	}
	for _, sentinel := range []error{ErrMalformed, sweep.ErrIDMismatch, ErrModelVersion, sweep.ErrInvalidParams} {
		if errors.Is(err, sentinel) {
			return
		}
	}
	t.Fatalf("untyped error %v (%T)", err, err)
}

func FuzzDecodeTask(f *testing.F) {
	task := testTask(f)
	valid, _ := json.Marshal(NewTaskMsg("fig3", task, 0, time.Unix(0, 0)))
	f.Add(valid)
	f.Add([]byte(`{"schema":"sgsweep.task/v2"}`))
	f.Add([]byte(`{"schema":"sgsweep.task/v1","sweep":"a","task_id":"00000000000000000000000000000000","model_version":"x","params":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeTask(data)
		checkTypedError(t, err)
		if err == nil {
			if _, cerr := m.Config(); cerr != nil {
				t.Fatalf("DecodeTask accepted a task whose Config fails: %v", cerr)
			}
			if sweep.TaskID(m.Params) != m.TaskID {
				t.Fatal("DecodeTask accepted a task whose ID does not match")
			}
		}
	})
}

func FuzzDecodeResult(f *testing.F) {
	task := testTask(f)
	for _, status := range []string{StatusOK, StatusStopped, StatusFailed} {
		data, _ := json.Marshal(testResult(f, task, status))
		f.Add(data)
	}
	f.Add([]byte(`{"schema":"sgsweep.result/v1","status":"ok","result":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeResult(data)
		checkTypedError(t, err)
		if err == nil {
			var want string
			if m.Status == StatusFailed {
				want, _ = sweep.Digest(m.Error)
			} else {
				want, _ = sweep.Digest(m.Result)
			}
			if m.Digest != want {
				t.Fatal("DecodeResult accepted an inconsistent digest")
			}
		}
	})
}

func FuzzDecodeProgress(f *testing.F) {
	f.Add([]byte(`{"schema":"sgsweep.progress/v1","sweep":"a","task_id":"00000000000000000000000000000000","worker":"w","epochs":2,"epoch":{"epoch":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := DecodeProgress(data)
		checkTypedError(t, err)
	})
}

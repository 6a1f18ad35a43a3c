package protocol

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/sweep"
)

// testStop is a well-formed median decision after epoch 1.
func testStop() *StopDecision {
	return &StopDecision{Epoch: 1, Rule: RuleMedian, Metric: "val_acc", Mode: "max", Value: 0.12, Threshold: 0.3,
		Group: "superspike", Against: []float64{0.2, 0.3, 0.5}, DecidedAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
}

func TestProgressReplyRoundTrip(t *testing.T) {
	for _, stop := range []*StopDecision{nil, testStop()} {
		data, err := json.Marshal(NewProgressReply(stop))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeProgressReply(data)
		if err != nil {
			t.Fatalf("DecodeProgressReply(%s): %v", data, err)
		}
		if !reflect.DeepEqual(got.Stop, stop) {
			t.Errorf("DecodeProgressReply(%s).Stop = %+v, want %+v", data, got.Stop, stop)
		}
	}
}

// badStops are stop decisions each check of checkStop refuses, with a
// part of the error.
var badStops = []struct {
	name, want string
	edit       func(d *StopDecision)
}{
	{"epoch 0", "epoch 0 is not ≥ 1", func(d *StopDecision) { d.Epoch = 0 }},
	{"unknown rule", `rule "hyperband" is not one of`, func(d *StopDecision) { d.Rule = "hyperband" }},
	{"no metric", "metric missing", func(d *StopDecision) { d.Metric = "" }},
	{"bad mode", `mode "up"`, func(d *StopDecision) { d.Mode = "up" }},
	{"against unsorted", "ascending", func(d *StopDecision) { d.Against = []float64{0.5, 0.2} }},
}

func TestDecodeProgressReplyErrors(t *testing.T) {
	valid, _ := json.Marshal(NewProgressReply(testStop()))
	for _, tt := range badStops {
		t.Run(tt.name, func(t *testing.T) {
			d := testStop()
			tt.edit(d)
			data, err := json.Marshal(NewProgressReply(d))
			if err != nil {
				t.Fatal(err)
			}
			_, err = DecodeProgressReply(data)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeProgressReply = %v, want ErrMalformed mentioning %q", err, tt.want)
			}
		})
	}
	for name, data := range map[string][]byte{
		"not JSON":         []byte("stop!"),
		"stop not object":  editJSON(t, valid, func(m map[string]any) { m["stop"] = true }),
		"data after reply": append(append([]byte{}, valid...), []byte(` {}`)...),
	} {
		if _, err := DecodeProgressReply(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: DecodeProgressReply error %v, want ErrMalformed", name, err)
		}
	}
	for _, schema := range []string{"", "sgsweep.progress-reply/v2", SchemaProgress} {
		data := editJSON(t, valid, func(m map[string]any) { m["schema"] = schema })
		if _, err := DecodeProgressReply(data); !isSchemaError(err) {
			t.Errorf("schema %q: DecodeProgressReply error %v, want a *SchemaError", schema, err)
		}
	}
}

// A stopped result carries a well-formed decision no later than its last
// epoch; no other status carries one.
func TestDecodeStoppedResult(t *testing.T) {
	task := testTask(t)
	encode := func(m *ResultMsg) []byte {
		t.Helper()
		if m.Result != nil {
			m.Digest, _ = sweep.Digest(m.Result)
		}
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	late := testResult(t, task, StatusStopped) // a decision for epoch 1 heard later
	late.Result.Epochs = append(late.Result.Epochs, late.Result.Epochs[0])
	late.Result.Epochs[1].Epoch = 2
	if _, err := DecodeResult(encode(late)); err != nil {
		t.Errorf("result stopped after epoch 2 by a decision for epoch 1: %v", err)
	}

	tests := []struct {
		name, want string
		edit       func(m *ResultMsg)
	}{
		{"stopped without decision", "stopped result without a stop decision", func(m *ResultMsg) { m.Stop = nil }},
		{"ok with decision", "ok result with a stop decision", func(m *ResultMsg) {
			m.Status, m.Result.Status = StatusOK, StatusOK
		}},
		{"decision after the last epoch", "stop decision for epoch 2 but the run ended after epoch 1", func(m *ResultMsg) { m.Stop.Epoch = 2 }},
		{"result status ok", "but result status", func(m *ResultMsg) { m.Result.Status = StatusOK }},
	}
	for _, b := range badStops {
		tests = append(tests, struct {
			name, want string
			edit       func(m *ResultMsg)
		}{b.name, b.want, func(m *ResultMsg) { b.edit(m.Stop) }})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testResult(t, task, StatusStopped)
			tt.edit(m)
			_, err := DecodeResult(encode(m))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeResult = %v, want ErrMalformed mentioning %q", err, tt.want)
			}
		})
	}
}

// Values JSON cannot carry (a decoder may read them from another encoding
// one day) are refused too.
func TestCheckStopNotFinite(t *testing.T) {
	for _, edit := range []func(d *StopDecision){
		func(d *StopDecision) { d.Value = math.NaN() },
		func(d *StopDecision) { d.Threshold = math.Inf(1) },
		func(d *StopDecision) { d.Against[1] = math.Inf(-1) },
	} {
		d := testStop()
		edit(d)
		if err := checkStop(d); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "finite") {
			t.Errorf("checkStop(%+v) = %v, want ErrMalformed: not finite", d, err)
		}
	}
}

func FuzzDecodeProgressReply(f *testing.F) {
	valid, _ := json.Marshal(NewProgressReply(testStop()))
	f.Add(valid)
	f.Add([]byte(`{"schema":"sgsweep.progress-reply/v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeProgressReply(data)
		checkTypedError(t, err)
		if err == nil && m.Stop != nil && checkStop(m.Stop) != nil {
			t.Fatalf("DecodeProgressReply accepted a bad decision %+v", m.Stop)
		}
	})
}

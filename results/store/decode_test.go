package store

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/sim"
	bolt "go.etcd.io/bbolt"
)

// decodeSamples are stored forms the fast decoders must read as
// encoding/json does: what encoding/json writes for typical values (nil and
// empty slices, several layers, a failure without a result, a stop
// decision), and inputs they leave to encoding/json (indented, escaped and
// non-ASCII strings, an unknown or differently cased key, invalid JSON).
func decodeSamples(t testing.TB) (resultsJSON, tasksJSON [][]byte) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	prov := protocol.Provenance{ModelVersion: sim.ModelVersion,
		Build: protocol.Build{Module: "m", Version: "(devel)", Revision: "abc", Modified: true, GoVersion: "go1.26", Platform: "linux/amd64"},
		Host:  "h", Worker: "h/1", Attempt: 2, StartedAt: start, FinishedAt: start.Add(1500 * time.Millisecond),
		Timing: sim.Timing{DataSeconds: 0.25, EpochSeconds: []float64{1e-9, 3.5e10}}}
	res := &sim.Result{Status: "ok", BestEpoch: 2, BestValAcc: 0.1 + 0.2, TestAcc: math.SmallestNonzeroFloat64,
		TestAccLast: -0.0, Epochs: []sim.Epoch{
			{Epoch: 1, TrainLoss: 2.302585092994046, TrainAcc: 0.1, ValAcc: 1.0 / 3, Spikes: []float64{1.5, 2}, Silent: []float64{0, 1}},
			{Epoch: 2, TrainLoss: math.MaxFloat64, Spikes: nil, Silent: []float64{}},
		}}
	msgs := []protocol.ResultMsg{
		{Schema: protocol.SchemaResult, Sweep: "s", TaskID: "0123", Status: "ok", Result: res, Digest: "d",
			Params: json.RawMessage(`{"a":{"b":[1,2]},"c":"x"}`), Provenance: prov, Ticket: "5eed"},
		{Schema: protocol.SchemaResult, Sweep: "s", TaskID: "0123", Status: "failed", Error: "boom", Provenance: prov},
		{Status: "ok", Result: &sim.Result{}},
		{Status: "stopped", Result: res, Stop: &protocol.StopDecision{Epoch: 1, Rule: "median", Value: 0.5}},
		{Status: "ok", Error: "quote \" and \\ and é and \u2028 and \x01", Params: json.RawMessage(`null`)},
	}
	for _, m := range msgs {
		data, err := json.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		indented, err := json.MarshalIndent(&m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		resultsJSON = append(resultsJSON, data, indented)
	}
	resultsJSON = append(resultsJSON,
		[]byte(`{"status":"ok","Digest":"cased"}`),
		[]byte(`{"status":"ok","unknown":1}`),
		[]byte(`{"status":"ok","result":{"best_epoch":1.5}}`),
		[]byte(`{"status":"ok","result":{"test_acc":01}}`),
		[]byte(`{"status":"ok","params":{"a":}}`),
		[]byte(`{"status":"ok"} x`),
		[]byte(`{"status":"ok","result":null,"provenance":{"timing":{"epoch_seconds":null}}}`),
		[]byte(` { "status" : "ok" , "result" : { "epochs" : [ ] } } `),
	)
	for _, e := range []taskEntry{
		{State: "pending", Updated: start},
		{State: "done", Status: "ok", Digest: "d", Attempts: 3, Error: "e", Gen: 2, Duplicates: 1, Conflicts: 4, Rejected: 2,
			Sweeps: []string{"a", "b"}, Updated: start.UTC()},
		{State: "failed", Sweeps: []string{}, Error: "ünïcode"},
	} {
		data, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		tasksJSON = append(tasksJSON, data)
	}
	tasksJSON = append(tasksJSON, []byte(`{"state":"done","sweeps":null}`), []byte(`{"State":"done"}`),
		[]byte(`{"state":"done","updated":"yesterday"}`))
	return resultsJSON, tasksJSON
}

// sameAsJSON checks that decode gives what json.Unmarshal gives (value and
// whether it fails) for data.
func sameAsJSON[T any](t *testing.T, data []byte, decode func([]byte, *T) error) {
	t.Helper()
	var got, want T
	gotErr := decode(data, &got)
	wantErr := json.Unmarshal(data, &want)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("%s: error %v, json.Unmarshal's %v", data, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ngot  %#v\nwant %#v", data, got, want)
	}
}

func TestDecodersMatchEncodingJSON(t *testing.T) {
	rs, ts := decodeSamples(t)
	for _, data := range rs {
		sameAsJSON(t, data, decodeResult)
		// Without params, as Records reads them: the same but for Params
		// (valid JSON only: the stored form).
		var got, want protocol.ResultMsg
		if json.Unmarshal(data, &want) == nil {
			want.Params = nil
			if err := new(resultReader).decode(data, &got, false); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s without params: %v\ngot  %#v\nwant %#v", data, err, got, want)
			}
		}
	}
	for _, data := range ts {
		sameAsJSON(t, data, decodeTask)
	}
}

// TestDecodersReadTheV1Fixture decodes every result, conflict and task
// entry of testdata/state.db (written by an older store) both ways.
func TestDecodersReadTheV1Fixture(t *testing.T) {
	data, err := os.ReadFile("testdata/state.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	err = db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketResults, bucketConflicts} {
			tx.Bucket(b).ForEach(func(_, v []byte) error {
				n++
				sameAsJSON(t, v, decodeResult)
				return nil
			})
		}
		return tx.Bucket(bucketTasks).ForEach(func(_, v []byte) error {
			n++
			sameAsJSON(t, v, decodeTask)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 7 {
		t.Fatalf("decoded %d values, want the fixture's 3 results, 1 conflict and 4 tasks", n)
	}
}

func FuzzDecodeResult(f *testing.F) {
	rs, ts := decodeSamples(f)
	for _, data := range append(rs, ts...) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, data, decodeResult)
		sameAsJSON(t, data, decodeTask)
	})
}

// TestDecodersTakeTheFastPath checks that what encoding/json writes for
// results and task entries is read without falling back to it.
func TestDecodersTakeTheFastPath(t *testing.T) {
	rs, ts := decodeSamples(t)
	for _, data := range [][]byte{rs[0], rs[1], rs[2], rs[3], rs[4], rs[5], ts[0], ts[1]} {
		d := jsonReader{data: data}
		var m protocol.ResultMsg
		var e taskEntry
		if data[2] == 's' && data[3] == 't' && data[4] == 'a' { // a task entry: {"state":…
			if !d.taskEntry(&e) || !d.end() {
				t.Errorf("task entry %s: fell back to encoding/json at byte %d", data, d.pos)
			}
			continue
		}
		if !d.resultMsg(&m) || !d.end() {
			t.Errorf("result %s: fell back to encoding/json at byte %d", data, d.pos)
		}
	}
}

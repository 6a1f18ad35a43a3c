package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// pipelineSweep is a sweep "mix" of 1 500 tasks (several of the read
// pipeline's batches) with done, diverged, stopped (with their decisions),
// failed and pending tasks.
func pipelineSweep(t *testing.T) results.RecordSlice {
	var tasks []resultstest.Task
	for i := range 1500 {
		shape := []string{"superspike", "sigmoid", "fast_sigmoid"}[i%3]
		scale := []float64{1, 10, 100}[i/3%3]
		s := resultstest.Task{Shape: shape, Scale: scale, LR: 0.001 * float64(1+i/9%5), Seed: uint64(1 + i/45),
			State: results.StateDone, Status: protocol.StatusOK, Curve: resultstest.Curve(shape, scale, uint64(i))}
		switch i % 11 {
		case 1:
			s.State, s.Status = results.StateFailed, ""
		case 2:
			s.State, s.Status = results.StatePending, ""
		case 3:
			s.Status, s.Curve = protocol.StatusDiverged, []float64{0.1}
		case 4:
			s = s.Stopped(2, "median")
		case 5:
			s = s.Stopped(1, "chance")
		}
		tasks = append(tasks, s)
	}
	return resultstest.Sweep(t, "mix", tasks)
}

// TestRecordsPipeline reads a sweep through Records (the pipelined walk),
// with one core and with several, and finds the records that Record gives
// task by task (the plain read of one task's buckets), in ordinal order;
// the query tables over both are the same cell for cell.
func TestRecordsPipeline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	want := pipelineSweep(t)
	resultstest.WriteStore(t, path, want)
	st := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	ctx := context.Background()

	var plain results.RecordSlice
	for _, w := range want {
		r, err := st.Record(ctx, "mix", w.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		plain = append(plain, *r)
	}
	stopped := 0
	for _, r := range plain {
		if r.State == results.StateStopped && r.Stop != nil && r.Result != nil {
			stopped++
		}
	}
	if stopped != 2*len(plain)/11 {
		t.Fatalf("%d stopped records with decision and result, want %d", stopped, 2*len(plain)/11)
	}

	reqs := []results.QueryRequest{
		{Sweep: "mix", GroupBy: []string{"surrogate.shape", "train.lr"}, Aggs: []string{"n", "mean", "sd", "ci95", "median"}},
		{Sweep: "mix", GroupBy: []string{"status"}, Metrics: []string{"val_acc@2", "run_seconds", "diverged"},
			Include: []string{results.IncludeStopped}},
		{Sweep: "mix", Where: []string{"state=stopped"}, GroupBy: []string{"surrogate.scale"}, Metrics: []string{"val_acc@*"}},
	}
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		var got results.RecordSlice
		err := st.Records(ctx, "mix", func(r *results.Record) error {
			got = append(got, *r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(plain) {
			t.Fatalf("GOMAXPROCS %d: %d records, want %d", procs, len(got), len(plain))
		}
		for i := range got {
			if got[i].Ordinal != i || !reflect.DeepEqual(got[i], plain[i]) {
				t.Fatalf("GOMAXPROCS %d: record %d = %+v, want %+v", procs, i, got[i], plain[i])
			}
		}
		for _, req := range reqs {
			fast, err := results.RunQuery(ctx, st, req)
			if err != nil {
				t.Fatalf("%+v: %v", req, err)
			}
			slow, err := results.RunQuery(ctx, plain, req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("GOMAXPROCS %d, %+v: store table\n%+v\nwant\n%+v", procs, req, fast, slow)
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

// An error from fn in a later batch, or a cancelled context, ends the
// pipelined walk with that error after the records before it.
func TestRecordsPipelineStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	resultstest.WriteStore(t, path, pipelineSweep(t))
	st := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	stop := errors.New("stop")
	for _, at := range []int{0, 700, 1499} {
		n := 0
		err := st.Records(context.Background(), "mix", func(r *results.Record) error {
			if r.Ordinal != n {
				t.Fatalf("record %d has ordinal %d", n, r.Ordinal)
			}
			if n++; n > at {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != at+1 {
			t.Errorf("stop at %d: Records = %v after %d calls", at, err, n)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := st.Records(ctx, "mix", func(*results.Record) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n == 1500 {
		t.Errorf("cancelled after 10 records: Records = %v after %d calls", err, n)
	}
}

// A panic in fn in a later batch ends the walk with an error, as it did
// before the pipeline, and the store reads the sweep whole afterwards.
func TestRecordsPipelinePanic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	resultstest.WriteStore(t, path, pipelineSweep(t))
	st := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	n := 0
	err := st.Records(context.Background(), "mix", func(*results.Record) error {
		if n++; n == 700 {
			panic("fn fails")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "fn fails") {
		t.Errorf("Records with fn panicking = %v", err)
	}
	n = 0
	if err := st.Records(context.Background(), "mix", func(*results.Record) error { n++; return nil }); err != nil || n != 1500 {
		t.Errorf("Records after a panic = %v after %d records, want 1500", err, n)
	}
}

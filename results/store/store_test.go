package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/sim"
	"github.com/sgsweep/sgsweep/sweep"
)

// testTask returns a task with a deterministic fake ID and params; the store
// does not recompute IDs (the coordinator checks them).
func testTask(i int) PlanTask {
	params := fmt.Sprintf(`{"seed":%d}`, i)
	h := sha256.Sum256([]byte(params))
	return PlanTask{ID: hex.EncodeToString(h[:16]), Params: json.RawMessage(params)}
}

func testPlan(name string, idx ...int) *Plan {
	p := &Plan{Name: name, Fingerprint: "fp-" + name, Canonical: json.RawMessage(`{"name":"` + name + `"}`)}
	for _, i := range idx {
		p.Tasks = append(p.Tasks, testTask(i))
	}
	return p
}

// testResult is an incoming result for task i; acc distinguishes results
// (a different acc gives a different digest).
func testResult(sweepName string, i int, status string, acc float64) Incoming {
	t := testTask(i)
	r := &protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: sweepName, TaskID: t.ID, Status: status, Params: t.Params}
	if status == protocol.StatusFailed {
		r.Error = fmt.Sprintf("boom %v", acc)
		r.Digest = fmt.Sprintf("err-%v", acc)
	} else {
		r.Result = &sim.Result{Status: status, TestAcc: acc}
		r.Digest = fmt.Sprintf("d-%v", acc)
	}
	r.Provenance.Attempt = 1
	raw, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return Incoming{Result: r, Raw: raw}
}

// openTestStore opens a new store in t.TempDir() with openChecked.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	return openChecked(t, filepath.Join(t.TempDir(), "state.db"), &Options{NoSync: true})
}

// openChecked opens the store at path and registers closeChecked at
// cleanup, so that every store a test opens passes the store's invariant
// check (Store.Check). It is resultstest.OpenStore, which these internal
// tests cannot import (resultstest imports this package).
func openChecked(t testing.TB, path string, opts *Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeChecked(t, s) })
	return s
}

// closeChecked checks the store (a failure is a test error) and closes it;
// a store the test closed already is left alone.
func closeChecked(t testing.TB, s *Store) {
	t.Helper()
	err := s.Check(context.Background())
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return
	}
	if err != nil {
		t.Errorf("store %s fails its check: %v", s.Path(), err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close store %s: %v", s.Path(), err)
	}
}

func mustPlan(t *testing.T, s *Store, p *Plan) *PlanReport {
	t.Helper()
	rep, err := s.PlanSweep(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustCommit(t *testing.T, s *Store, in []Incoming, f []Failure, r []Rejection) *CommitReport {
	t.Helper()
	rep, err := s.Commit(context.Background(), in, f, r)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustSweep(t *testing.T, s *Store, name string) *SweepInfo {
	t.Helper()
	info, err := s.Sweep(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func records(t *testing.T, s *Store, name string) []results.Record {
	t.Helper()
	var out []results.Record
	err := s.Records(context.Background(), name, func(r *results.Record) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantCounts checks a sweep's counters, and that they agree with its records.
func wantCounts(t *testing.T, s *Store, name string, done, failed, pending int, state string) {
	t.Helper()
	info := mustSweep(t, s, name)
	if info.Done != done || info.Failed != failed || info.Pending != pending || info.State != state {
		t.Errorf("sweep %s: done/failed/pending/state = %d/%d/%d/%s, want %d/%d/%d/%s",
			name, info.Done, info.Failed, info.Pending, info.State, done, failed, pending, state)
	}
	byState := map[string]int{}
	for _, r := range records(t, s, name) {
		byState[r.State]++
	}
	if byState[results.StateDone] != info.Done || byState[results.StateFailed] != info.Failed || byState[results.StatePending] != info.Pending {
		t.Errorf("sweep %s: records by state %v disagree with counters %+v", name, byState, info)
	}
	if info.Expected != info.Done+info.Failed+info.Pending {
		t.Errorf("sweep %s: expected %d ≠ done+failed+pending", name, info.Expected)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	openChecked(t, path, nil)
	for _, ro := range []bool{false, true} {
		start := time.Now()
		_, err := Open(path, &Options{ReadOnly: ro, Timeout: 200 * time.Millisecond})
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("Open(readOnly=%v) of a held store: err = %v, want ErrLocked", ro, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Open(readOnly=%v) took %v to report the lock", ro, d)
		}
	}
}

func TestOpenReadOnlyMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope.db"), &Options{ReadOnly: true})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestOpenNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	closeChecked(t, openChecked(t, path, nil))
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("2"))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		_, err := Open(path, &Options{ReadOnly: ro})
		if !errors.Is(err, ErrSchema) {
			t.Errorf("Open(readOnly=%v) of a v2 store: err = %v, want ErrSchema", ro, err)
		}
	}
}

func TestReadOnlyAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openChecked(t, path, nil)
	mustPlan(t, s, testPlan("a", 1, 2))
	closeChecked(t, s)
	ro := openChecked(t, path, &Options{ReadOnly: true})
	if got := len(records(t, ro, "a")); got != 2 {
		t.Errorf("read-only Records = %d, want 2", got)
	}
	if _, err := ro.PlanSweep(context.Background(), testPlan("b", 1)); err == nil {
		t.Error("PlanSweep on a read-only store succeeded")
	}
}

func TestPlanRecordsInOrder(t *testing.T) {
	s := openTestStore(t)
	rep := mustPlan(t, s, testPlan("a", 5, 3, 9))
	if rep.Outcome != PlanCreated || rep.Tasks != 3 || rep.Added != 3 || rep.Pending != 3 {
		t.Errorf("report = %+v", rep)
	}
	recs := records(t, s, "a")
	for i, want := range []int{5, 3, 9} {
		if recs[i].Ordinal != i || recs[i].TaskID != testTask(want).ID || recs[i].State != results.StatePending ||
			string(recs[i].Params) != string(testTask(want).Params) || recs[i].Result != nil {
			t.Errorf("record %d = %+v, want task %d pending", i, recs[i], want)
		}
	}
	if _, err := s.Sweep(context.Background(), "zzz"); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("Sweep(unknown) err = %v, want ErrNotFound", err)
	}
	if err := s.Records(context.Background(), "zzz", func(*results.Record) error { return nil }); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("Records(unknown) err = %v, want ErrNotFound", err)
	}
}

func TestPlanRefusesDuplicateTask(t *testing.T) {
	s := openTestStore(t)
	if _, err := s.PlanSweep(context.Background(), testPlan("a", 1, 2, 1)); err == nil {
		t.Fatal("a plan listing one task twice was accepted")
	}
}

func TestCommitIdempotent(t *testing.T) {
	tests := []struct {
		name                     string
		batches                  [][]Incoming
		wantDups, wantConflicts  int
		wantAcc                  float64
		wantDone, wantDiverged   int
		wantStatus, wantRecState string
	}{
		{
			name:    "once",
			batches: [][]Incoming{{testResult("a", 1, protocol.StatusOK, 0.5)}},
			wantAcc: 0.5, wantDone: 1, wantStatus: protocol.StatusOK, wantRecState: results.StateDone,
		},
		{
			name:     "same result twice in one batch",
			batches:  [][]Incoming{{testResult("a", 1, protocol.StatusOK, 0.5), testResult("a", 1, protocol.StatusOK, 0.5)}},
			wantDups: 1, wantAcc: 0.5, wantDone: 1, wantStatus: protocol.StatusOK, wantRecState: results.StateDone,
		},
		{
			name:     "same result in two batches",
			batches:  [][]Incoming{{testResult("a", 1, protocol.StatusOK, 0.5)}, {testResult("a", 1, protocol.StatusOK, 0.5)}},
			wantDups: 1, wantAcc: 0.5, wantDone: 1, wantStatus: protocol.StatusOK, wantRecState: results.StateDone,
		},
		{
			name:          "differing result is a conflict, first kept",
			batches:       [][]Incoming{{testResult("a", 1, protocol.StatusOK, 0.5)}, {testResult("a", 1, protocol.StatusOK, 0.7)}},
			wantConflicts: 1, wantAcc: 0.5, wantDone: 1, wantStatus: protocol.StatusOK, wantRecState: results.StateDone,
		},
		{
			name:    "diverged is an outcome",
			batches: [][]Incoming{{testResult("a", 1, protocol.StatusDiverged, 0.1)}},
			wantAcc: 0.1, wantDone: 1, wantDiverged: 1, wantStatus: protocol.StatusDiverged, wantRecState: results.StateDone,
		},
		{
			name:       "failure settles a pending task",
			batches:    [][]Incoming{{testResult("a", 1, protocol.StatusFailed, 1)}},
			wantStatus: protocol.StatusFailed, wantRecState: results.StateFailed,
		},
		{
			name:    "result replaces a failure",
			batches: [][]Incoming{{testResult("a", 1, protocol.StatusFailed, 1)}, {testResult("a", 1, protocol.StatusOK, 0.5)}},
			wantAcc: 0.5, wantDone: 1, wantStatus: protocol.StatusOK, wantRecState: results.StateDone,
		},
		{
			name:    "failure never replaces a result",
			batches: [][]Incoming{{testResult("a", 1, protocol.StatusOK, 0.5)}, {testResult("a", 1, protocol.StatusFailed, 1)}},
			wantAcc: 0.5, wantDone: 1, wantStatus: protocol.StatusOK, wantRecState: results.StateDone,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTestStore(t)
			mustPlan(t, s, testPlan("a", 1, 2))
			for _, b := range tt.batches {
				mustCommit(t, s, b, nil, nil)
			}
			info := mustSweep(t, s, "a")
			if info.Duplicates != tt.wantDups || info.Conflicts != tt.wantConflicts ||
				info.Done != tt.wantDone || info.Diverged != tt.wantDiverged {
				t.Errorf("sweep = %+v, want dups %d conflicts %d done %d diverged %d",
					info, tt.wantDups, tt.wantConflicts, tt.wantDone, tt.wantDiverged)
			}
			rec := records(t, s, "a")[0]
			if rec.State != tt.wantRecState || rec.Result == nil || rec.Result.Status != tt.wantStatus {
				t.Fatalf("record = %+v, want state %s status %s", rec, tt.wantRecState, tt.wantStatus)
			}
			if rec.Result.Result != nil && rec.Result.Result.TestAcc != tt.wantAcc {
				t.Errorf("stored test_acc = %v, want %v", rec.Result.Result.TestAcc, tt.wantAcc)
			}
			totals, err := s.Totals(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			conflicts, err := s.Conflicts(context.Background(), "a", 0)
			if err != nil {
				t.Fatal(err)
			}
			if totals.Duplicates != tt.wantDups || totals.Conflicts != tt.wantConflicts || len(conflicts) != tt.wantConflicts {
				t.Errorf("totals = %+v, %d conflicts listed; want dups %d conflicts %d",
					totals, len(conflicts), tt.wantDups, tt.wantConflicts)
			}
			if tt.wantConflicts > 0 && (conflicts[0].Stored != "d-0.5" || conflicts[0].Other != "d-0.7") {
				t.Errorf("conflict = %+v, want stored d-0.5, other d-0.7", conflicts[0])
			}
		})
	}
}

func TestSweepCompletes(t *testing.T) {
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 1, 2, 3))
	rep := mustCommit(t, s, []Incoming{testResult("a", 1, protocol.StatusOK, 0.5)}, nil, nil)
	if len(rep.Finished) != 0 {
		t.Errorf("finished early: %v", rep.Finished)
	}
	wantCounts(t, s, "a", 1, 0, 2, SweepRunning)
	rep = mustCommit(t, s, []Incoming{testResult("a", 2, protocol.StatusFailed, 1)},
		[]Failure{{TaskID: testTask(3).ID, Error: "delivery limit", Attempts: 8}}, nil)
	if len(rep.Finished) != 1 || rep.Finished[0] != "a" {
		t.Errorf("Finished = %v, want [a]", rep.Finished)
	}
	wantCounts(t, s, "a", 1, 2, 0, SweepDone)
	recs := records(t, s, "a")
	if recs[2].State != results.StateFailed || recs[2].Error != "delivery limit" || recs[2].Attempts != 8 || recs[2].Result != nil {
		t.Errorf("record of the dead task = %+v", recs[2])
	}
	if info := mustSweep(t, s, "a"); info.Finished.IsZero() {
		t.Error("Finished time not set")
	}

	// Retry: failed tasks become pending with a new generation.
	n, err := s.Retry(context.Background(), "a")
	if err != nil || n != 2 {
		t.Fatalf("Retry = %d, %v; want 2", n, err)
	}
	wantCounts(t, s, "a", 1, 0, 2, SweepRunning)
	if st, gen, _, _ := s.TaskState(context.Background(), testTask(3).ID); st != results.StatePending || gen != 1 {
		t.Errorf("retried task state %s gen %d, want pending 1", st, gen)
	}
	if r := records(t, s, "a")[2]; r.Error != "delivery limit" {
		t.Errorf("retried task lost its last error: %+v", r)
	}
}

func TestResultsAreGlobal(t *testing.T) {
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 1, 2))
	mustCommit(t, s, []Incoming{testResult("a", 1, protocol.StatusOK, 0.5)}, nil, nil)

	// b plans task 1 (done in a) and task 3 (new).
	rep := mustPlan(t, s, testPlan("b", 1, 3))
	if rep.Done != 1 || rep.Pending != 1 {
		t.Errorf("plan b = %+v, want 1 done 1 pending", rep)
	}
	// A result committed under b's name settles the task for both sweeps.
	mustCommit(t, s, []Incoming{testResult("b", 2, protocol.StatusOK, 0.6)}, nil, nil)
	mustPlan(t, s, testPlan("c", 2))
	wantCounts(t, s, "a", 2, 0, 0, SweepDone)
	wantCounts(t, s, "c", 1, 0, 0, SweepDone)
	wantCounts(t, s, "b", 1, 0, 1, SweepRunning)

	// A result of a task nobody plans is kept for later sweeps.
	mustCommit(t, s, []Incoming{testResult("x", 7, protocol.StatusOK, 0.9)}, nil, nil)
	rep = mustPlan(t, s, testPlan("d", 7))
	if rep.Done != 1 || rep.State != SweepDone {
		t.Errorf("plan d = %+v, want done", rep)
	}
}

func TestPlanResumeAndExtend(t *testing.T) {
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 1, 2, 3))
	mustCommit(t, s, []Incoming{testResult("a", 1, protocol.StatusOK, 0.5), testResult("a", 3, protocol.StatusOK, 0.5)}, nil, nil)

	rep := mustPlan(t, s, testPlan("a", 1, 2, 3))
	if rep.Outcome != PlanResumed || rep.Done != 2 || rep.Pending != 1 {
		t.Errorf("resume = %+v", rep)
	}

	changed := testPlan("a", 1, 2, 4, 5)
	changed.Fingerprint = "fp-a2"
	_, err := s.PlanSweep(context.Background(), changed)
	var sce *SpecChangedError
	if !errors.As(err, &sce) || sce.SameSpec || string(sce.OldCanonical) != `{"name":"a"}` {
		t.Fatalf("changed spec: err = %v, want *SpecChangedError with the old canonical spec", err)
	}
	// Returned as is (its message names the sweep), wrapping ErrSpecChanged.
	if err != error(sce) || !errors.Is(err, ErrSpecChanged) || !strings.Contains(err.Error(), "--extend") {
		t.Errorf("changed spec: err = %#v, want the *SpecChangedError itself, wrapping ErrSpecChanged", err)
	}

	// Same fingerprint, other task IDs: a new model version.
	sameSpec := testPlan("a", 1, 2, 6)
	if _, err := s.PlanSweep(context.Background(), sameSpec); !errors.As(err, &sce) || !sce.SameSpec {
		t.Fatalf("same spec with other tasks: err = %v, want *SpecChangedError{SameSpec}", err)
	}

	changed.Extend = true
	rep, err = s.PlanSweep(context.Background(), changed)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != PlanExtended || rep.Added != 2 || rep.Dropped != 1 || rep.Done != 1 || rep.Pending != 3 {
		t.Errorf("extend = %+v, want 2 added, 1 dropped, 1 done, 3 pending", rep)
	}
	wantCounts(t, s, "a", 1, 0, 3, SweepRunning)
	// The dropped task keeps its result: a sweep that plans it finds it done.
	if rep := mustPlan(t, s, testPlan("b", 3)); rep.Done != 1 {
		t.Errorf("dropped task's result lost: plan b = %+v", rep)
	}
	if got := mustSweep(t, s, "a").Fingerprint; got != "fp-a2" {
		t.Errorf("fingerprint after extend = %s", got)
	}
}

func TestQueueAndCancel(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 1, 2, 3, 4, 5))
	mustCommit(t, s, []Incoming{testResult("a", 2, protocol.StatusOK, 0.5)}, nil, nil)

	got, next, err := s.ToPublish(ctx, "a", 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TaskID != testTask(1).ID || got[1].TaskID != testTask(3).ID || next != 3 {
		t.Fatalf("ToPublish(0, 2) = %+v next %d; want tasks 1, 3 and next 3", got, next)
	}
	// The store hands out the task messages, params included.
	want := protocol.NewTaskMsg("a", sweep.Task{Ordinal: 1, ID: testTask(1).ID, Params: testTask(1).Params}, 0, time.Time{})
	if g, w := jsonOf(t, got[0]), jsonOf(t, want); g != w {
		t.Errorf("ToPublish message = %s, want %s", g, w)
	}
	if err := s.MarkQueued(ctx, []QueuedTask{{Sweep: "a", TaskID: got[0].TaskID}, {Sweep: "a", TaskID: got[1].TaskID},
		{Sweep: "a", TaskID: testTask(2).ID}}); err != nil {
		t.Fatal(err)
	}
	var queued []string
	s.QueuedTasks(ctx, func(q QueuedTask) error { queued = append(queued, q.TaskID); return nil })
	if len(queued) != 2 {
		t.Errorf("queued = %v, want the 2 pending tasks (done task skipped)", queued)
	}
	got, next, _ = s.ToPublish(ctx, "a", 0, 10)
	if len(got) != 2 || got[0].TaskID != testTask(4).ID || next != -1 {
		t.Errorf("ToPublish after queueing = %+v next %d, want tasks 4, 5", got, next)
	}
	// A result unqueues its task.
	mustCommit(t, s, []Incoming{testResult("a", 1, protocol.StatusOK, 0.5)}, nil, nil)
	if tot, _ := s.Totals(ctx); tot.Queued != 1 {
		t.Errorf("queued after a result = %d, want 1", tot.Queued)
	}
	n, err := s.Cancel(ctx, "a")
	if err != nil || n != 1 {
		t.Fatalf("Cancel = %d, %v; want 1 queued task forgotten", n, err)
	}
	if info := mustSweep(t, s, "a"); info.State != SweepCancelled {
		t.Errorf("state after cancel = %s", info.State)
	}
	// Resubmitting resumes it.
	if rep := mustPlan(t, s, testPlan("a", 1, 2, 3, 4, 5)); rep.State != SweepRunning || rep.Outcome != PlanResumed {
		t.Errorf("resubmit after cancel = %+v", rep)
	}
}

// TestCancelRetryLeaveAlone checks the cases in which Cancel and Retry
// change nothing: an unknown sweep, a done sweep (Cancel), a sweep without
// failed tasks (Retry).
func TestCancelRetryLeaveAlone(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		change  func(*Store, context.Context, string) (int, error)
		prefix  string
		wantNew bool // whether the sweep's Updated time moves
	}{
		{"cancel", (*Store).Cancel, `cancel sweep "nope": `, false},
		{"retry", (*Store).Retry, `retry sweep "nope": `, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTestStore(t)
			n, err := tc.change(s, ctx, "nope")
			if !errors.Is(err, results.ErrNotFound) || n != 0 || !strings.HasPrefix(err.Error(), tc.prefix) {
				t.Errorf("%s of an unknown sweep = %d, %v; want 0 and ErrNotFound after %q", tc.name, n, err, tc.prefix)
			}
			mustPlan(t, s, testPlan("a", 1))
			mustCommit(t, s, []Incoming{testResult("a", 1, protocol.StatusOK, 0.5)}, nil, nil)
			before := mustSweep(t, s, "a")
			n, err = tc.change(s, ctx, "a")
			if err != nil || n != 0 {
				t.Fatalf("%s of a done sweep = %d, %v; want 0, nil", tc.name, n, err)
			}
			after := mustSweep(t, s, "a")
			if after.State != SweepDone || after.Finished != before.Finished {
				t.Errorf("%s of a done sweep: %+v, want it done as before (%+v)", tc.name, after, before)
			}
			if moved := !after.Updated.Equal(before.Updated); moved != tc.wantNew {
				t.Errorf("%s of a done sweep: Updated %v -> %v, want moved=%v", tc.name, before.Updated, after.Updated, tc.wantNew)
			}
		})
	}
}

func TestRejectedKept(t *testing.T) {
	s := openTestStore(t)
	rep := mustCommit(t, s, nil, nil, []Rejection{{Stream: "S", Subject: "x.y", Reason: "garbage", Data: []byte{0xff, 0}}})
	if rep.Rejected != 1 {
		t.Errorf("report = %+v", rep)
	}
	list, total, err := s.Rejected(context.Background(), 10)
	if err != nil || total != 1 || len(list) != 1 || list[0].Reason != "garbage" || string(list[0].Data) != "\xff\x00" {
		t.Errorf("Rejected = %+v, %d, %v", list, total, err)
	}
}

func TestRecordsStopsOnError(t *testing.T) {
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 1, 2, 3))
	stop := errors.New("stop")
	n := 0
	err := s.Records(context.Background(), "a", func(*results.Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Records = %v after %d calls, want stop after 1", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Records(ctx, "a", func(*results.Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Records(cancelled ctx) = %v", err)
	}
}

// A plan larger than one staging chunk (sorted in several runs), and a
// plan whose staging was interrupted (a crash before the switch) planned
// again: the references it staged to tasks the final plan does not list
// are gone.
func TestPlanInChunks(t *testing.T) {
	smallRuns(t)
	s := openTestStore(t)
	n := planChunk*2 + 17
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	// An interrupted plan: staged, never switched; its last tasks are not in
	// the plan that follows.
	stray := append(idx[:planChunk+3:planChunk+3], n+1, n+2)
	if _, err := s.stage(context.Background(), testPlan("big", stray...)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sweep(context.Background(), "big"); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("a staged plan is visible: %v", err)
	}
	if got := sweepsOf(t, s, n+1); len(got) != 1 {
		t.Fatalf("staged task references %v, want the staged sweep", got)
	}
	rep := mustPlan(t, s, testPlan("big", idx...))
	if rep.Tasks != n || rep.Added != n || rep.Pending != n {
		t.Errorf("plan = %+v, want %d tasks", rep, n)
	}
	recs := records(t, s, "big")
	if len(recs) != n || recs[n-1].TaskID != testTask(n-1).ID || recs[planChunk].TaskID != testTask(planChunk).ID {
		t.Fatalf("%d records, want %d in order", len(recs), n)
	}
	for _, i := range []int{n + 1, n + 2} {
		if got := sweepsOf(t, s, i); len(got) != 0 {
			t.Errorf("task %d of the interrupted plan only still references %v", i, got)
		}
	}
	if got := sweepsOf(t, s, 0); len(got) != 1 || got[0] != "big" {
		t.Errorf("task 0 references %v, want [big]", got)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A plan streamed from a sequence (Plan.Stream) larger than a chunk, then
// extended by a stream that drops some tasks and adds others; a stream
// that lists a task twice, or fails, leaves the sweep as it was.
func TestPlanStream(t *testing.T) {
	smallRuns(t)
	s := openTestStore(t)
	stream := func(idx ...int) *Plan {
		p := testPlan("s")
		p.Stream = func(yield func(sweep.Task, error) bool) {
			for ordinal, i := range idx {
				tk := testTask(i)
				if !yield(sweep.Task{Ordinal: ordinal, ID: tk.ID, Params: tk.Params}, nil) {
					return
				}
			}
		}
		return p
	}
	n := planChunk + 10
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	rep := mustPlan(t, s, stream(idx...))
	if rep.Outcome != PlanCreated || rep.Tasks != n || rep.Added != n || rep.Pending != n {
		t.Fatalf("plan = %+v", rep)
	}
	if rep := mustPlan(t, s, stream(idx...)); rep.Outcome != PlanResumed || rep.Tasks != n {
		t.Errorf("plan again = %+v, want resumed", rep)
	}
	mustCommit(t, s, []Incoming{testResult("s", 1, protocol.StatusOK, 0.5)}, nil, nil)

	// A task listed twice, and a stream that fails midway: refused.
	twice := stream(append(idx[:planChunk+1:planChunk+1], n+7, 3)...)
	twice.Extend = true
	if _, err := s.PlanSweep(context.Background(), twice); err == nil || !strings.Contains(err.Error(), "same task") {
		t.Errorf("a plan listing a task twice: %v", err)
	}
	broken := stream(n + 8)
	broken.Extend = true
	inner := broken.Stream
	broken.Stream = func(yield func(sweep.Task, error) bool) {
		for tk, err := range inner {
			if !yield(tk, err) {
				return
			}
		}
		yield(sweep.Task{}, errors.New("expansion failed"))
	}
	if _, err := s.PlanSweep(context.Background(), broken); err == nil || !strings.Contains(err.Error(), "expansion failed") {
		t.Errorf("a failing stream: %v", err)
	}
	for _, i := range []int{n + 7, n + 8} {
		if got := sweepsOf(t, s, i); len(got) != 0 {
			t.Errorf("task %d of a refused plan references %v", i, got)
		}
	}
	info, err := s.Sweep(context.Background(), "s")
	if err != nil || info.Expected != n || info.Done != 1 || info.Pending != n-1 {
		t.Errorf("sweep after refused plans = %+v, %v", info, err)
	}

	// Extended: drop tasks 0..9, keep the rest, add 5 new ones.
	ext := stream(append(idx[10:n:n], n, n+1, n+2, n+3, n+4)...)
	ext.Extend = true
	pv, err := s.PreviewPlan(context.Background(), ext)
	if err != nil {
		t.Fatal(err)
	}
	rep = mustPlan(t, s, ext)
	if rep.Outcome != PlanExtended || rep.Tasks != n-5 || rep.Added != 5 || rep.Dropped != 10 || rep.Done != 0 {
		t.Errorf("extended = %+v", rep)
	}
	if pv.Outcome != PreviewChanged || pv.Tasks != rep.Tasks || pv.Added != rep.Added || pv.Dropped != rep.Dropped ||
		pv.Pending != rep.Pending {
		t.Errorf("preview = %+v, plan = %+v", pv, rep)
	}
	if got := sweepsOf(t, s, 0); len(got) != 0 {
		t.Errorf("dropped task 0 references %v", got)
	}
	if got := sweepsOf(t, s, n+4); len(got) != 1 {
		t.Errorf("added task references %v", got)
	}
}

// sweepsOf returns the sweeps that reference testTask(i).
func sweepsOf(t *testing.T, s *Store, i int) []string {
	t.Helper()
	var e taskEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketTasks), []byte(testTask(i).ID), &e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e.Sweeps
}

func TestFailedTasks(t *testing.T) {
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 0, 1, 2, 3, 4))
	mustCommit(t, s, []Incoming{testResult("a", 0, protocol.StatusOK, 0.5)},
		[]Failure{{TaskID: testTask(4).ID, Error: "e4"}, {TaskID: testTask(1).ID, Error: "e1"}, {TaskID: testTask(2).ID, Error: "e2"}}, nil)
	for _, tc := range []struct {
		limit int
		want  []int // ordinals
	}{{2, []int{1, 2}}, {3, []int{1, 2, 4}}, {0, []int{1, 2, 4}}} {
		list, err := s.FailedTasks(context.Background(), "a", tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, f := range list {
			got = append(got, f.Ordinal)
			if f.TaskID != testTask(f.Ordinal).ID || f.Error != fmt.Sprintf("e%d", f.Ordinal) {
				t.Errorf("FailedTasks(%d): %+v, want task %d with error e%d", tc.limit, f, f.Ordinal, f.Ordinal)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("FailedTasks(%d) ordinals = %v, want %v", tc.limit, got, tc.want)
		}
	}
}

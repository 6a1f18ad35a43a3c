package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	bolt "go.etcd.io/bbolt"
)

// testDecision is a decision to stop after epoch, decided at a fixed time
// in a zone other than UTC (the store compares instants, not locations).
func testDecision(epoch int, value float64) *protocol.StopDecision {
	return &protocol.StopDecision{Epoch: epoch, Rule: "chance", Metric: "val_acc", Mode: "max", Value: value,
		Threshold: 0.52, DecidedAt: time.Date(2026, 12, 5, 9, 0, 0, 123, time.FixedZone("CET", 3600))}
}

// stoppedResult is task i's stopped result carrying decision d.
func stoppedResult(sweepName string, i int, d *protocol.StopDecision) Incoming {
	in := testResult(sweepName, i, protocol.StatusStopped, 0.5)
	in.Result.Stop = d
	raw, err := json.Marshal(in.Result)
	if err != nil {
		panic(err)
	}
	in.Raw = raw
	return in
}

func mustCommitStop(t *testing.T, s *Store, sweepName string, i int, d *protocol.StopDecision) *protocol.StopDecision {
	t.Helper()
	got, err := s.CommitStop(context.Background(), sweepName, testTask(i).ID, d)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A committed decision binds: committing another for the same task returns
// the first unchanged, also after the store is closed and opened again.
func TestCommitStopIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, nil) // synced, as the coordinator opens it
	if err != nil {
		t.Fatal(err)
	}
	mustPlan(t, s, testPlan("a", 0, 1))
	first := testDecision(3, 0.5)
	if got := mustCommitStop(t, s, "a", 0, first); !sameDecision(got, first) {
		t.Errorf("first commit returned %+v, want %+v", got, first)
	}
	if got := mustCommitStop(t, s, "a", 0, testDecision(4, 0.49)); !sameDecision(got, first) {
		t.Errorf("second commit returned %+v, want the first %+v", got, first)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openChecked(t, path, nil)
	if got := mustCommitStop(t, s, "a", 0, testDecision(5, 0.1)); !sameDecision(got, first) {
		t.Errorf("after reopening: %+v, want the first %+v", got, first)
	}
	var recs []StopRecord
	err = s.StopDecisions(ctx, "a", func(r StopRecord) error { recs = append(recs, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].TaskID != testTask(0).ID || !sameDecision(&recs[0].Decision, first) ||
		recs[0].CommittedAt.IsZero() || !recs[0].Overridden.IsZero() {
		t.Errorf("decisions = %+v, want task 0's first one", recs)
	}
	// The decision shows in the task's record while its result is to come.
	rs := records(t, s, "a")
	if rs[0].State != results.StatePending || rs[0].Stop == nil || !sameDecision(rs[0].Stop, first) || rs[1].Stop != nil {
		t.Errorf("records: %+v / %+v, want task 0 pending with its decision, task 1 without", rs[0], rs[1])
	}

	if _, err := s.CommitStop(ctx, "nosuch", testTask(0).ID, first); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("decision for an unknown sweep: %v, want ErrNotFound", err)
	}
	if _, err := s.CommitStop(ctx, "a", testTask(7).ID, first); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("decision for an unplanned task: %v, want ErrNotFound", err)
	}
	if err := s.StopDecisions(ctx, "nosuch", func(StopRecord) error { return nil }); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("decisions of an unknown sweep: %v, want ErrNotFound", err)
	}
}

// A stopped result settles its task as stopped (counted apart from done)
// only with the committed decision; one without a decision, or with another
// decision, is rejected with the reason, and the task stays pending.
func TestStoppedResults(t *testing.T) {
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 0, 1, 2, 3))
	d := mustCommitStop(t, s, "a", 0, testDecision(3, 0.5))
	mustCommitStop(t, s, "a", 1, testDecision(2, 0.5))

	other := *d
	other.Epoch = 4
	later := *d
	later.DecidedAt = later.DecidedAt.Add(time.Second)
	cases := []struct {
		in     Incoming
		reason string
	}{
		{stoppedResult("a", 2, d), "committed no stop decision"},
		{stoppedResult("a", 0, nil), "differs from the committed one"},
		{stoppedResult("a", 0, &other), "differs from the committed one"},
		{stoppedResult("a", 0, &later), "differs from the committed one"},
	}
	for _, c := range cases {
		rep := mustCommit(t, s, []Incoming{c.in}, nil, nil)
		if rep.Rejected != 1 || rep.Stored != 0 {
			t.Errorf("stopped result with stop %v: %+v, want rejected", c.in.Result.Stop, rep)
		}
	}
	rej, total, err := s.Rejected(context.Background(), 0)
	if err != nil || total != len(cases) {
		t.Fatalf("%d rejected (err %v), want %d", total, err, len(cases))
	}
	for i, c := range cases {
		if !strings.Contains(rej[i].Reason, c.reason) || rej[i].Subject != protocol.ResultSubject("a", c.in.Result.TaskID) {
			t.Errorf("rejection %d: %q on %s, want %q", i, rej[i].Reason, rej[i].Subject, c.reason)
		}
	}
	wantStopCounts(t, s, "a", 0, 0, 0, 4)

	// The committed decision's result settles task 0; its copy is a
	// duplicate, an ok result of the task a conflict (the decision holds).
	if rep := mustCommit(t, s, []Incoming{stoppedResult("a", 0, d)}, nil, nil); rep.Stored != 1 {
		t.Errorf("the decided stopped result: %+v, want stored", rep)
	}
	if rep := mustCommit(t, s, []Incoming{stoppedResult("a", 0, d)}, nil, nil); rep.Duplicates != 1 {
		t.Errorf("its copy: %+v, want a duplicate", rep)
	}
	if rep := mustCommit(t, s, []Incoming{testResult("a", 0, protocol.StatusOK, 0.9)}, nil, nil); rep.Conflicts != 1 {
		t.Errorf("an ok result of the stopped task: %+v, want a conflict", rep)
	}
	// A failure does not replace it; a stopped result replaces a failure.
	if rep := mustCommit(t, s, nil, []Failure{{TaskID: testTask(0).ID, Error: "x"}}, nil); rep.Ignored != 1 {
		t.Errorf("a failure of the stopped task: %+v, want ignored", rep)
	}
	mustCommit(t, s, nil, []Failure{{TaskID: testTask(1).ID, Error: "x", Attempts: 3}}, nil)
	d1 := mustCommitStop(t, s, "a", 1, testDecision(9, 0)) // returns the one committed above
	mustCommit(t, s, []Incoming{stoppedResult("a", 1, d1), testResult("a", 2, protocol.StatusOK, 0.7)}, nil, nil)
	wantStopCounts(t, s, "a", 1, 2, 0, 1)

	rs := records(t, s, "a")
	if rs[0].State != results.StateStopped || rs[0].Result == nil || rs[0].Result.Status != protocol.StatusStopped ||
		rs[0].Result.Stop == nil || !sameDecision(rs[0].Result.Stop, d) || rs[0].Stop == nil {
		t.Errorf("record 0: %+v, want stopped with its decision", rs[0])
	}
	// Stopped tasks are settled: nothing to publish but task 3.
	msgs, _, err := s.ToPublish(context.Background(), "a", 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].TaskID != testTask(3).ID {
		t.Errorf("to publish: %+v (err %v), want task 3 only", msgs, err)
	}
	// Planning again resumes with the stopped tasks settled.
	if rep := mustPlan(t, s, testPlan("a", 0, 1, 2, 3)); rep.Outcome != PlanResumed || rep.Stopped != 2 ||
		rep.Done != 1 || rep.Pending != 1 {
		t.Errorf("re-plan: %+v, want resumed with 2 stopped, 1 done, 1 pending", rep)
	}
	mustCommit(t, s, []Incoming{testResult("a", 3, protocol.StatusDiverged, 0.1)}, nil, nil)
	if info := mustSweep(t, s, "a"); info.State != SweepDone || info.Stopped != 2 || info.Done != 2 || info.Diverged != 1 {
		t.Errorf("sweep: %+v, want done: 2 stopped, 2 done (1 diverged)", info)
	}
}

// retry --stopped: stopped results are set aside in stops/, decisions
// marked overridden and kept, the tasks pending with a new generation; a
// late stopped result of the old run is rejected, the full result settles
// the task as done.
func TestRetryStopped(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 0, 1))
	d := mustCommitStop(t, s, "a", 0, testDecision(3, 0.5))
	mustCommit(t, s, []Incoming{stoppedResult("a", 0, d), testResult("a", 1, protocol.StatusOK, 0.8)}, nil, nil)
	wantStopCounts(t, s, "a", 1, 1, 0, 0)
	if info := mustSweep(t, s, "a"); info.State != SweepDone {
		t.Fatalf("sweep %+v, want done", info)
	}
	_, gen, _, _ := s.TaskState(ctx, testTask(0).ID)

	n, err := s.RetryStopped(ctx, "a")
	if err != nil || n != 1 {
		t.Fatalf("RetryStopped = %d, %v; want 1 task", n, err)
	}
	wantStopCounts(t, s, "a", 1, 0, 0, 1)
	if info := mustSweep(t, s, "a"); info.State != SweepRunning {
		t.Errorf("sweep %+v, want running", info)
	}
	state, gen2, _, _ := s.TaskState(ctx, testTask(0).ID)
	if state != results.StatePending || gen2 != gen+1 {
		t.Errorf("task 0: %s gen %d, want pending gen %d", state, gen2, gen+1)
	}
	msgs, _, err := s.ToPublish(ctx, "a", 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].TaskID != testTask(0).ID || msgs[0].Gen != gen+1 {
		t.Errorf("to publish: %+v (err %v), want task 0, gen %d", msgs, err, gen+1)
	}
	var recs []StopRecord
	if err := s.StopDecisions(ctx, "a", func(r StopRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Overridden.IsZero() || !sameDecision(&recs[0].Decision, d) {
		t.Errorf("decisions after the retry: %+v, want task 0's, overridden", recs)
	}
	// The stopped result is kept in its decision's entry.
	err = s.view(ctx, func(tx *bolt.Tx) error {
		var e stopEntry
		if _, err := getJSON(stopsOf(tx, "a"), []byte(testTask(0).ID), &e); err != nil {
			return err
		}
		var r protocol.ResultMsg
		if err := json.Unmarshal(e.SetAside, &r); err != nil || r.Status != protocol.StatusStopped || r.Stop == nil {
			t.Errorf("set aside: %s (err %v), want the stopped result", e.SetAside, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rs := records(t, s, "a"); rs[0].Stop != nil || rs[0].Result != nil {
		t.Errorf("record 0 after the retry: %+v, want no decision in force, no result", rs[0])
	}
	// A decision is never taken again for it, the old run's stopped result
	// is rejected, the full run's result settles it.
	if got := mustCommitStop(t, s, "a", 0, testDecision(5, 0.1)); !sameDecision(got, d) {
		t.Errorf("a new decision after the override: %+v, want the old one back", got)
	}
	if rep := mustCommit(t, s, []Incoming{stoppedResult("a", 0, d)}, nil, nil); rep.Rejected != 1 {
		t.Errorf("the old stopped result after the override: %+v, want rejected", rep)
	}
	mustCommit(t, s, []Incoming{testResult("a", 0, protocol.StatusOK, 0.6)}, nil, nil)
	wantStopCounts(t, s, "a", 2, 0, 0, 0)
	if n, err := s.RetryStopped(ctx, "a"); err != nil || n != 0 {
		t.Errorf("RetryStopped again = %d, %v; want 0", n, err)
	}
	if _, err := s.RetryStopped(ctx, "nosuch"); !errors.Is(err, results.ErrNotFound) {
		t.Errorf("RetryStopped of an unknown sweep: %v", err)
	}
}

// The full check recounts stopped tasks: a counter that disagrees with the
// tasks' states is damage.
func TestCheckCountsStopped(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	mustPlan(t, s, testPlan("a", 0, 1))
	d := mustCommitStop(t, s, "a", 0, testDecision(3, 0.5))
	mustCommit(t, s, []Incoming{stoppedResult("a", 0, d)}, nil, nil)
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var e sweepEntry
		if err := getSweep(tx, "a", &e); err != nil {
			return err
		}
		e.Stopped, e.Pending = 0, 2
		return putJSON(tx.Bucket(bucketSweeps), []byte("a"), &e)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "stopped 0") {
		t.Errorf("check of a miscounted sweep: %v, want damage naming the stopped count", err)
	}
	// Put it right so that the cleanup's check passes.
	err = s.update(ctx, func(tx *bolt.Tx) error {
		var e sweepEntry
		if err := getSweep(tx, "a", &e); err != nil {
			return err
		}
		e.Stopped, e.Pending = 1, 1
		return putJSON(tx.Bucket(bucketSweeps), []byte("a"), &e)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A store written before early stopping (no stops/ bucket) reads as one
// without decisions, and a read-write open adds the bucket.
func TestStoreWithoutStopsBucket(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	mustPlan(t, s, testPlan("a", 0))
	if err := s.update(ctx, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketStops) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro := openChecked(t, path, &Options{ReadOnly: true})
	if rs := records(t, ro, "a"); len(rs) != 1 || rs[0].Stop != nil {
		t.Errorf("records: %+v", rs)
	}
	if err := ro.StopDecisions(ctx, "a", func(StopRecord) error { return errors.New("a decision") }); err != nil {
		t.Error(err)
	}
	ro.Close()
	rw := openChecked(t, path, &Options{NoSync: true})
	if got := mustCommitStop(t, rw, "a", 0, testDecision(1, 0.5)); got.Epoch != 1 {
		t.Errorf("decision %+v", got)
	}
}

func wantStopCounts(t *testing.T, s *Store, name string, done, stopped, failed, pending int) {
	t.Helper()
	info := mustSweep(t, s, name)
	if info.Done != done || info.Stopped != stopped || info.Failed != failed || info.Pending != pending {
		t.Errorf("sweep %s: done %d stopped %d failed %d pending %d; want %d, %d, %d, %d", name,
			info.Done, info.Stopped, info.Failed, info.Pending, done, stopped, failed, pending)
	}
}

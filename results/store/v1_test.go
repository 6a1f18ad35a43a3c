package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
	"github.com/sgsweep/sgsweep/sweep"
)

// TestV1StoreOpensAndResumes opens testdata/state.db, a store written by
// the store of commit 775a926 (see testdata/README.md): sweep v1 of
// testdata/v1.yaml, four tasks: 0 done ok (plus a duplicate and a
// conflicting result), 1 done diverged, 2 failed without a result, 3
// pending and queued; one rejected message. Today's store reads it as it
// was written, and planning the same spec again resumes the sweep: the
// same task IDs, nothing recomputed or published again. The task IDs
// include sim.ModelVersion: a deliberate model version change makes this
// test fail, as it makes every existing sweep refuse to resume.
func TestV1StoreOpensAndResumes(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("testdata/state.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("testdata/v1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := sweep.Parse("v1.yaml", source)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := spec.Expand()
	if err != nil {
		t.Fatal(err)
	}

	// Read-only, as the CLI opens it.
	ro := resultstest.OpenStore(t, path, &store.Options{ReadOnly: true})
	wantRecords(t, ro, tasks)
	info, err := ro.Sweep(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if info.Fingerprint != spec.Fingerprint() || info.State != store.SweepRunning || info.Expected != 4 ||
		info.Done != 2 || info.Diverged != 1 || info.Failed != 1 || info.Pending != 1 ||
		info.Duplicates != 1 || info.Conflicts != 1 {
		t.Errorf("sweep = %+v, want running, fingerprint %s, 4 expected: 2 done (1 diverged), 1 failed, "+
			"1 pending, 1 duplicate, 1 conflict", info, spec.Fingerprint())
	}
	if cs, err := ro.Conflicts(ctx, "v1", 0); err != nil || len(cs) != 1 || cs[0].TaskID != tasks[0].ID ||
		cs[0].Other != "digest-conflict" || cs[0].Worker != "hostb/1" {
		t.Errorf("conflicts = %+v (err %v), want task 0's from hostb/1", cs, err)
	}
	if rej, n, err := ro.Rejected(ctx, 0); err != nil || n != 1 || len(rej) != 1 || rej[0].Reason != "undecodable" {
		t.Errorf("rejected = %+v, total %d (err %v), want the one undecodable message", rej, n, err)
	}
	if tot, err := ro.Totals(ctx); err != nil || tot != (store.Totals{Duplicates: 1, Conflicts: 1, Rejected: 1, Queued: 1}) {
		t.Errorf("totals = %+v (err %v)", tot, err)
	}
	resultstest.CloseStore(t, ro)

	// Read-write, as a coordinator opens it: the same spec resumes.
	rw := resultstest.OpenStore(t, path, nil)
	plan := &store.Plan{Name: spec.Name, Fingerprint: spec.Fingerprint(), Canonical: spec.Canonical(),
		SourceName: "v1.yaml", Source: source, Tasks: store.PlanTasks(tasks)}
	pv, err := rw.PreviewPlan(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Outcome != store.PreviewResume || pv.Added != 0 || pv.Dropped != 0 || pv.Pending != 1 {
		t.Errorf("preview = %+v, want resume with 1 pending and nothing added or dropped", pv)
	}
	rep, err := rw.PlanSweep(ctx, plan)
	if err != nil {
		t.Fatalf("re-plan the v1 sweep: %v", err)
	}
	want := store.PlanReport{Sweep: "v1", Outcome: store.PlanResumed, Tasks: 4, Done: 2, Failed: 1, Pending: 1,
		State: store.SweepRunning}
	if *rep != want {
		t.Errorf("re-plan = %+v, want %+v", *rep, want)
	}
	// Task 3's message is recorded as queued; nothing else is pending.
	if msgs, next, err := rw.ToPublish(ctx, "v1", 0, 10); err != nil || len(msgs) != 0 || next != -1 {
		t.Errorf("ToPublish after resuming = %d messages, next %d (err %v), want none", len(msgs), next, err)
	}
	wantRecords(t, rw, tasks)

	// The pending task completes as in any store.
	res := &protocol.ResultMsg{Schema: protocol.SchemaResult, Sweep: "v1", TaskID: tasks[3].ID,
		Status: protocol.StatusOK, Digest: "d3", Params: tasks[3].Params}
	if _, err := rw.Commit(ctx, []store.Incoming{{Result: res, Raw: []byte(`{"task_id":"` + tasks[3].ID + `"}`)}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if info, err := rw.Sweep(ctx, "v1"); err != nil || info.State != store.SweepDone || info.Done != 3 {
		t.Errorf("after the last result: %+v (err %v), want done with 3 done", info, err)
	}
}

// wantRecords checks the v1 fixture's records against the expansion of
// its spec: same IDs and params (one copy), states and results as written.
func wantRecords(t *testing.T, st *store.Store, tasks []sweep.Task) {
	t.Helper()
	var recs []results.Record
	err := st.Records(context.Background(), "v1", func(r *results.Record) error {
		recs = append(recs, *r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(tasks) || len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	states := []string{results.StateDone, results.StateDone, results.StateFailed, results.StatePending}
	statuses := []string{protocol.StatusOK, protocol.StatusDiverged, "", ""}
	for i, r := range recs {
		if r.Ordinal != i || r.TaskID != tasks[i].ID || !bytes.Equal(r.Params, tasks[i].Params) {
			t.Fatalf("record %d: ordinal %d ID %s; want the expansion's task %s with the same params "+
				"(task IDs or canonical params changed?)", i, r.Ordinal, r.TaskID, tasks[i].ID)
		}
		if r.State != states[i] {
			t.Errorf("record %d: state %s, want %s", i, r.State, states[i])
		}
		switch {
		case statuses[i] == "" && r.Result != nil:
			t.Errorf("record %d: result %+v, want none", i, r.Result)
		case statuses[i] == "":
		case r.Result == nil || r.Result.Status != statuses[i] || r.Result.Result == nil:
			t.Errorf("record %d: result %+v, want status %s", i, r.Result, statuses[i])
		case r.Result.Params != nil:
			t.Errorf("record %d: the result repeats the params; a record holds them once", i)
		}
	}
	if r := recs[0].Result; r != nil && (r.Provenance.Worker != "hosta/1" || r.Digest != "digest-ok-0") {
		t.Errorf("task 0 keeps result %s from %s, want the first one (digest-ok-0 from hosta/1)",
			r.Digest, r.Provenance.Worker)
	}
	if recs[2].Error != "delivery limit reached" || recs[2].Attempts != 3 {
		t.Errorf("failed task: error %q attempts %d", recs[2].Error, recs[2].Attempts)
	}
}

package coordinator_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// storeRecords reads a sweep's records from the store file at path.
func storeRecords(t *testing.T, path, name string) []results.Record {
	t.Helper()
	st, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []results.Record
	if err := st.Records(context.Background(), name, func(r *results.Record) error {
		out = append(out, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func backups(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "state-*.db"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// The coordinator's own backups, taken while it runs: every one passes the
// full check and holds the sweep's records; the loop keeps the newest
// BackupKeep.
func TestBackupRotation(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	cfg.BackupEvery, cfg.BackupKeep = 150*time.Millisecond, 2
	e := coordtest.NewEnv(t, cfg)
	e.StartWorker("w1", 2, &coordtest.Fake{})
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "bk", 4, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("bk", store.SweepDone, 30*time.Second)
	want := e.Records("bk")
	dir := e.Coord.BackupDir()
	if dir != filepath.Join(e.Dir, "backups") {
		t.Errorf("backup dir %s, want backups/ beside the store", dir)
	}

	// Wait for backups taken after the sweep finished.
	start := time.Now()
	coordtest.WaitFor(t, 10*time.Second, "backups after the sweep", func() bool {
		n := 0
		for _, b := range backups(t, dir) {
			if info, err := os.Stat(b); err == nil && info.ModTime().After(start) {
				n++
			}
		}
		return n >= 2
	})
	e.StopCoordinator()
	got := backups(t, dir)
	if len(got) != 2 {
		t.Fatalf("%d backups kept, want 2: %v", len(got), got)
	}
	for _, b := range got {
		if rep, err := coordinator.VerifyFile(context.Background(), b, true); err != nil || !rep.Full {
			t.Errorf("backup %s: check %+v, %v", b, rep, err)
		}
		if recs := storeRecords(t, b, "bk"); !reflect.DeepEqual(recs, want) {
			t.Errorf("backup %s holds %d records, want the store's %d", b, len(recs), len(want))
		}
	}

	// Rotation by name: older files go first, other files stay.
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("keep me"), 0o600)
	for _, n := range []string{"state-20200101T000000.000Z.db", "state-20200102T000000.000Z.db"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	if err := coordinator.RotateBackups(dir, 2); err != nil {
		t.Fatal(err)
	}
	if left := backups(t, dir); !reflect.DeepEqual(left, got) {
		t.Errorf("after rotation %v, want the two newest %v", left, got)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("rotation removed another file: %v", err)
	}
}

// A rebuild from a backup recovers, from the results archive, the results
// committed after the backup, without consuming anything; planning the
// later sweep again in the rebuilt store finds them done.
func TestRebuild(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	fake := &coordtest.Fake{}
	e.StartWorker("w1", 2, fake)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "early", 3, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("early", store.SweepDone, 30*time.Second)
	ctx := context.Background()
	backup, err := e.Coord.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	late := coordtest.Spec(t, e.Dir, "late", 4, []float64{0.07}, "") // other tasks than early's
	if _, err := e.Submit(late, false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("late", store.SweepDone, 30*time.Second)
	wantLate := e.Records("late")
	e.StopCoordinator()
	archived := e.StreamMsgs(coordinator.StreamResultsArchive)
	if archived != 7 {
		t.Errorf("archive holds %d results, want 7", archived)
	}

	out := filepath.Join(t.TempDir(), "state.db")
	rep, err := coordinator.Rebuild(ctx, e.JS, backup, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rebuild: %+v", rep)
	if rep.Archive != 7 || rep.Queue != 0 || rep.Report.Stored != 4 || rep.Report.Duplicates != 3 ||
		rep.Unusable != 0 || rep.Gap || !rep.Check.Full {
		t.Errorf("rebuild report %+v, want 7 archived, 4 stored, 3 duplicates, no gap", rep)
	}
	if n := e.StreamMsgs(coordinator.StreamResultsArchive); n != archived {
		t.Errorf("the rebuild changed the archive: %d messages, was %d", n, archived)
	}
	if _, err := coordinator.Rebuild(ctx, e.JS, backup, out); err == nil {
		t.Error("a second rebuild overwrote its output")
	}

	st := resultstest.OpenStore(t, out, nil)
	spec, tasks := coordtest.Expand(t, late)
	plan := &store.Plan{Name: spec.Name, Fingerprint: spec.Fingerprint(), Canonical: spec.Canonical(), Tasks: tasks}
	prep, err := st.PlanSweep(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if prep.Done != 4 || prep.Pending != 0 {
		t.Errorf("late sweep planned in the rebuilt store: %+v, want its 4 tasks done", prep)
	}
	var got []results.Record
	if err := st.Records(ctx, "late", func(r *results.Record) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(wantLate) {
		t.Fatalf("%d records of the late sweep, want %d", len(got), len(wantLate))
	}
	for i := range got {
		if got[i].Result == nil || wantLate[i].Result == nil || got[i].Result.Digest != wantLate[i].Result.Digest {
			t.Errorf("record %d differs from the original's", i)
		}
	}
}

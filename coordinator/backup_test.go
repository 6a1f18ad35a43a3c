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
	"github.com/sgsweep/sgsweep/protocol"
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

// A rebuild from a backup recovers the results committed after the
// backup (from the results archive) and those not committed at all (still
// in the results stream: the coordinator stopped), without consuming
// anything; planning the later sweep again in the rebuilt store finds all
// of them done.
func TestRebuild(t *testing.T) {
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	fake := &coordtest.Fake{Sleep: time.Second} // late is still training when the coordinator stops
	e.StartWorker("w1", 4, fake)
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "early", 3, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("early", store.SweepDone, 30*time.Second)
	ctx := context.Background()
	backup, err := e.Coord.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Two sweeps after the backup: "mid" committed, "late" trained while
	// the coordinator is down, so its results stay in the results stream.
	mid := coordtest.Spec(t, e.Dir, "mid", 2, []float64{0.03}, "") // other tasks than early's
	if _, err := e.Submit(mid, false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("mid", store.SweepDone, 30*time.Second)
	late := coordtest.Spec(t, e.Dir, "late", 4, []float64{0.07}, "")
	if _, err := e.Submit(late, false); err != nil {
		t.Fatal(err)
	}
	coordtest.WaitFor(t, 10*time.Second, "late's tasks queued", func() bool { return e.StreamMsgs(protocol.StreamTasks) == 4 })
	e.StopCoordinator()
	coordtest.WaitFor(t, 10*time.Second, "late's results published", func() bool { return e.StreamMsgs(protocol.StreamResults) == 4 })
	if n := e.StreamMsgs(coordinator.StreamResultsArchive); n != 9 {
		t.Errorf("archive holds %d results, want 9", n)
	}

	// Results a live commit would refuse are not recovered: one without a
	// ticket, one implausible with a valid ticket.
	lateTasks := expandSpec(t, late)
	refused := map[string][]byte{lateTasks[0].ID: forge(t, "late", lateTasks[0], 0.999),
		lateTasks[1].ID: withTicket(t, forge(t, "late", lateTasks[1], 7.5), coordtest.Ticket("late", lateTasks[1].ID, 0))}
	for id, data := range refused {
		if _, err := e.JS.Publish(ctx, protocol.ResultSubject("late", id), data); err != nil {
			t.Fatal(err)
		}
	}

	out := filepath.Join(t.TempDir(), "state.db")
	rep, err := coordinator.Rebuild(ctx, e.JS, backup, out, coordtest.TicketKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rebuild: %+v", rep)
	if rep.Archive != 11 || rep.Queue != 6 || rep.Report.Stored != 6 || rep.Report.Duplicates != 7 ||
		rep.Unusable != 0 || rep.Refused != 4 || rep.Gap || !rep.Check.Full {
		t.Errorf("rebuild report %+v, want 11 archived, 6 queued, 6 stored, 7 duplicates, 4 refused, no gap", rep)
	}
	for stream, want := range map[string]uint64{coordinator.StreamResultsArchive: 11, protocol.StreamResults: 6} {
		if n := e.StreamMsgs(stream); n != want {
			t.Errorf("after the rebuild %s holds %d messages, want %d: nothing consumed", stream, n, want)
		}
	}
	if _, err := coordinator.Rebuild(ctx, e.JS, backup, out, coordtest.TicketKey); err == nil {
		t.Error("a second rebuild overwrote its output")
	}

	st := resultstest.OpenStore(t, out, nil)
	// Plan it through a coordinator over the rebuilt store (not run: a
	// submission plans at once).
	c, err := coordinator.New(st, e.NC, coordtest.CoordinatorConfig())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(late)
	if err != nil {
		t.Fatal(err)
	}
	prep, err := c.Submit(ctx, coordinator.SubmitRequest{SpecName: late, Spec: data})
	if err != nil {
		t.Fatal(err)
	}
	if prep.Done != 4 || prep.Pending != 0 {
		t.Errorf("late sweep planned in the rebuilt store: %+v, want its 4 tasks done", prep)
	}
	if info, err := st.Sweep(ctx, "mid"); err == nil {
		t.Errorf("sweep mid, planned after the backup, is in the rebuilt store: %+v", info)
	}
	var got []results.Record
	if err := st.Records(ctx, "late", func(r *results.Record) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d records of the late sweep, want 4", len(got))
	}
	for i, r := range got {
		if r.State != "done" || r.Result == nil || r.Result.Sweep != "late" {
			t.Errorf("record %d: %+v, want late's result", i, r)
		}
	}
}

// Without retention there is no archive: a rebuild recovers only results
// not yet committed, and says that the backup's time is not covered.
func TestRebuildWithoutArchive(t *testing.T) {
	cfg := coordtest.CoordinatorConfig()
	cfg.ResultsRetention = 0
	e := coordtest.NewEnv(t, cfg)
	e.StartWorker("w1", 2, &coordtest.Fake{})
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "plain", 2, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("plain", store.SweepDone, 30*time.Second)
	ctx := context.Background()
	backup, err := e.Coord.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.StopCoordinator()
	if _, err := e.JS.Stream(ctx, coordinator.StreamResultsArchive); err == nil {
		t.Error("an archive stream exists with retention 0")
	}
	rep, err := coordinator.Rebuild(ctx, e.JS, backup, filepath.Join(t.TempDir(), "state.db"), coordtest.TicketKey)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Archive != 0 || rep.Queue != 0 || rep.Report.Stored != 0 || !rep.Gap {
		t.Errorf("rebuild without an archive: %+v, want nothing read and the gap reported", rep)
	}
}

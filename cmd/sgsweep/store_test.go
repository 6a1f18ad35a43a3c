package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sgsweep/sgsweep/coordinator"
	"github.com/sgsweep/sgsweep/coordinator/coordtest"
	"github.com/sgsweep/sgsweep/results/resultstest"
	"github.com/sgsweep/sgsweep/results/store"
)

// finishedSweep runs a sweep of n tasks to the end on a coordinator over a
// real NATS server and a store in the environment's data dir, with a
// worker that stays.
func finishedSweep(t *testing.T, name string, n int) (*coordtest.Env, *coordtest.RunningWorker) {
	t.Helper()
	e := coordtest.NewEnv(t, coordtest.CoordinatorConfig())
	w := e.StartWorker("w1", 2, &coordtest.Fake{})
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, name, n, nil, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep(name, store.SweepDone, 30*time.Second)
	return e, w
}

// stopAll stops the environment's worker, coordinator and server, and
// closes its store (checked), as an operator's shutdown would.
func stopAll(t *testing.T, e *coordtest.Env, w *coordtest.RunningWorker) {
	t.Helper()
	w.Shutdown(t)
	e.StopCoordinator()
	resultstest.CloseStore(t, e.Store)
	e.Srv.Stop()
	os.Remove(filepath.Join(e.Dir, "nats.json"))
}

// zeroRootAndFreelist zeroes the two pages every read needs: the page of
// the root bucket (the directory of the store's buckets) and the freelist,
// as named by the current meta page.
func zeroRootAndFreelist(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	size := int(binary.LittleEndian.Uint32(data[16+8:]))
	var txid, root, freelist uint64
	for m := range 2 {
		p := data[m*size:]
		if id := binary.LittleEndian.Uint64(p[64:]); id >= txid {
			txid, root, freelist = id, binary.LittleEndian.Uint64(p[32:]), binary.LittleEndian.Uint64(p[48:])
		}
	}
	for _, id := range []uint64{root, freelist} {
		copy(data[int(id)*size:int(id+1)*size], make([]byte, size))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func hashFile(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// A store with two zeroed pages: every command says so with the file's
// name, none panics, and run, which would write, leaves it unchanged.
func TestDamagedStoreCommands(t *testing.T) {
	e, w := finishedSweep(t, "dmg", 4)
	stopAll(t, e, w)
	dir := e.Dir
	path := filepath.Join(dir, "state.db")
	zeroRootAndFreelist(t, path)
	before := hashFile(t, path)

	spec := coordtest.Spec(t, t.TempDir(), "dmg", 4, nil, "")
	for _, args := range [][]string{
		{"status"},
		{"status", "dmg"},
		{"export", "dmg"},
		{"results", "dmg"},
		{"store", "check"},
		{"store", "backup", filepath.Join(t.TempDir(), "b.db")},
		{"run", "--workers", "1", spec},
	} {
		_, stderr, err := runCLI(t, append(args, "--data-dir", dir)...)
		if err == nil || !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), path) {
			t.Errorf("%v: %v (stderr %s), want an error naming %s as damaged", args, err, stderr, path)
		}
		if hashFile(t, path) != before {
			t.Fatalf("%v changed the damaged store", args)
		}
	}
}

// An empty state.db is an error for every command, never a new store.
func TestEmptyStoreCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	spec := coordtest.Spec(t, t.TempDir(), "empty", 2, nil, "")
	for _, args := range [][]string{{"status"}, {"export", "empty"}, {"store", "check"}, {"run", "--workers", "1", spec}} {
		_, _, err := runCLI(t, append(args, "--data-dir", dir)...)
		if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%v on an empty state.db: %v, want an error saying it is empty", args, err)
		}
	}
	if info, err := os.Stat(path); err != nil || info.Size() != 0 {
		t.Errorf("state.db was changed: %v, %v", info, err)
	}
}

// While a coordinator runs and holds the store: store check and store
// backup go through its snapshot; the backup passes the full check and
// holds the same records. Then, with everything stopped and the store
// gone, store rebuild starts the data dir's embedded server and recovers
// the results committed after the backup from the results archive.
func TestStoreBackupAndRebuild(t *testing.T) {
	e, w := finishedSweep(t, "bk", 3)
	url := e.Srv.URL
	out, stderr, err := runCLI(t, "store", "check", "--data-dir", e.Dir, "--nats", url)
	if err != nil || !strings.Contains(out, "ok") || !strings.Contains(out, "snapshot") {
		t.Fatalf("store check while running: %v\n%s%s", err, out, stderr)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	out, stderr, err = runCLI(t, "store", "backup", backup, "--data-dir", e.Dir, "--nats", url)
	if err != nil {
		t.Fatalf("store backup: %v\n%s", err, stderr)
	}
	t.Log(out)
	if rep, err := coordinator.VerifyFile(context.Background(), backup, true); err != nil || rep.Sweeps != 1 {
		t.Fatalf("the backup: %+v, %v", rep, err)
	}
	bst, err := store.Open(backup, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got, want := recordsOf(t, bst, "bk"), e.Records("bk")
	bst.Close()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the backup holds %d records, want the store's %d", len(got), len(want))
	}

	// Results after the backup: another sweep of other tasks.
	if _, err := e.Submit(coordtest.Spec(t, e.Dir, "after", 2, []float64{0.07}, ""), false); err != nil {
		t.Fatal(err)
	}
	e.WaitSweep("after", store.SweepDone, 30*time.Second)
	stopAll(t, e, w)

	_, _, err = runCLI(t, "store", "rebuild", "--from", backup, "--data-dir", e.Dir)
	if err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("rebuild over an existing store: %v, want a refusal", err)
	}
	state := filepath.Join(e.Dir, "state.db")
	if err := os.Rename(state, state+".damaged"); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = runCLI(t, "store", "rebuild", "--from", backup, "--data-dir", e.Dir)
	if err != nil {
		t.Fatalf("store rebuild: %v\n%s", err, stderr)
	}
	t.Log(out)
	if !strings.Contains(out, "read 5 results from the results archive") ||
		!strings.Contains(out, "recovered 2 results the backup lacked; 3 it had already") {
		t.Errorf("rebuild output:\n%s\nwant 5 archived results, 2 recovered, 3 known", out)
	}
	out, _, err = runCLI(t, "store", "check", "--data-dir", e.Dir)
	if err != nil || !strings.Contains(out, "5 tasks, 5 results") {
		t.Errorf("store check of the rebuilt store: %v\n%s", err, out)
	}
}

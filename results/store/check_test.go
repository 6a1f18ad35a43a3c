package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sgsweep/sgsweep/results"
)

// writeTestStore writes a closed store at dir/state.db with one sweep of n
// tasks, the first done of which have results padded to about a kilobyte,
// so that tasks/ and results/ span many pages.
func writeTestStore(t testing.TB, dir string, n, done int) string {
	t.Helper()
	path := filepath.Join(dir, "state.db")
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	ctx := context.Background()
	if _, err := s.PlanSweep(ctx, testPlan("big", idx...)); err != nil {
		t.Fatal(err)
	}
	var batch []Incoming
	for i := range done {
		in := testResult("big", i, "ok", float64(i))
		in.Raw = append(in.Raw[:len(in.Raw)-1], []byte(`,"pad":"`+strings.Repeat("x", 1000)+`"}`)...)
		batch = append(batch, in)
		if len(batch) == 256 || i == done-1 {
			if _, err := s.Commit(ctx, batch, nil, nil); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// pages returns the page size, the root pages of the tasks/ and results/
// buckets and the freelist page of the store at path, read with bbolt.
func pages(t testing.TB, path string) (size int, tasks, res, freelist uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size = db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		tasks = uint64(tx.Bucket(bucketTasks).RootPage())
		res = uint64(tx.Bucket(bucketResults).RootPage())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The meta pages (0 and 1): the one of the higher transaction ID is
	// current; its freelist page ID is at byte 48, its txid at 64.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var txid uint64
	for m := range 2 {
		p := data[m*size:]
		if id := binary.LittleEndian.Uint64(p[64:]); id >= txid {
			txid, freelist = id, binary.LittleEndian.Uint64(p[48:])
		}
	}
	if tasks == 0 || res == 0 || freelist == 0 {
		t.Fatalf("pages: tasks %d, results %d, freelist %d: want all on pages of their own", tasks, res, freelist)
	}
	return size, tasks, res, freelist
}

// zeroPages overwrites the given pages of the file with zeros, as a torn
// write or a bad disk would.
func zeroPages(t testing.TB, path string, size int, ids ...uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, id := range ids {
		if _, err := f.WriteAt(make([]byte, size), int64(id)*int64(size)); err != nil {
			t.Fatal(err)
		}
	}
}

func fileHash(t testing.TB, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// Two zeroed pages of a real store, whichever they are: a read-write Open
// refuses the file with an error naming it and leaves it byte for byte as
// it was, and no read of it panics.
func TestDamagedStoreRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		pick func(tasks, res, freelist uint64) []uint64
	}{
		{"tasks and results roots", func(tasks, res, _ uint64) []uint64 { return []uint64{tasks, res} }},
		{"freelist and tasks root", func(tasks, _, freelist uint64) []uint64 { return []uint64{freelist, tasks} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTestStore(t, t.TempDir(), 600, 400)
			size, tasks, res, freelist := pages(t, path)
			zeroPages(t, path, size, tt.pick(tasks, res, freelist)...)
			before := fileHash(t, path)

			_, err := Open(path, nil)
			var dmg *DamagedError
			if !errors.As(err, &dmg) || !errors.Is(err, ErrDamaged) {
				t.Fatalf("Open of a damaged store: %v, want a *DamagedError", err)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "unchanged") {
				t.Errorf("error %q does not name the file and say it is unchanged", msg)
			}
			t.Logf("Open: %v", err)
			if fileHash(t, path) != before {
				t.Fatal("the refused store's file changed")
			}

			// Read-only: Open does not check, but reads recover bbolt's
			// panics into errors, and Check finds the damage.
			ro, err := Open(path, &Options{ReadOnly: true})
			if err != nil {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("read-only Open: %v", err)
				}
				return
			}
			defer ro.Close()
			err = ro.Records(context.Background(), "big", func(*results.Record) error { return nil })
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) {
				t.Errorf("Records of a damaged store: %v, want an error wrapping ErrDamaged naming the file", err)
			}
			if err := ro.Check(context.Background()); !errors.Is(err, ErrDamaged) {
				t.Errorf("Check of a damaged store: %v", err)
			}
			if fileHash(t, path) != before {
				t.Fatal("reading the damaged store changed its file")
			}
		})
	}
}

// An empty file is a damaged store, not a new one, for writing and reading.
func TestEmptyStoreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []*Options{nil, {ReadOnly: true}} {
		_, err := Open(path, opts)
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "empty") {
			t.Errorf("Open(%+v) of an empty file: %v, want ErrDamaged saying it is empty", opts, err)
		}
	}
	if info, err := os.Stat(path); err != nil || info.Size() != 0 {
		t.Errorf("the empty file was changed: %v, %v", info, err)
	}
}

// The bounded check (files above FullCheckLimit) reads the freelist and the
// small buckets: it refuses a store whose freelist is zeroed. Damage to
// tasks/ it does not see; the first transaction that reads the page
// returns a DamagedError instead of panicking, and the store takes no
// further write.
func TestBoundedCheck(t *testing.T) {
	path := writeTestStore(t, t.TempDir(), 600, 400)
	size, tasks, _, freelist := pages(t, path)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	zeroPages(t, path, size, freelist)
	if _, err := Open(path, &Options{FullCheckLimit: 1}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("bounded check of a zeroed freelist: %v", err)
	}

	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	zeroPages(t, path, size, tasks)
	s, err := Open(path, &Options{FullCheckLimit: 1})
	if err != nil {
		t.Fatalf("the bounded check reads no page of tasks/, yet: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	_, err = s.Commit(ctx, []Incoming{testResult("big", 500, "ok", 0.5)}, nil, nil)
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Commit into a damaged tasks/: %v, want ErrDamaged", err)
	}
	_, err = s.Commit(ctx, []Incoming{testResult("other", 9999, "ok", 0.5)}, nil, nil)
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "no more writes") {
		t.Fatalf("a write after a recovered panic: %v, want it refused", err)
	}
	if _, err := s.Verify(ctx, true); !errors.Is(err, ErrDamaged) {
		t.Errorf("full check: %v", err)
	}
}

// The full check recounts every sweep from its tasks' states: counters
// that disagree, or a done task without its result, are damage.
func TestCheckInvariants(t *testing.T) {
	for _, tt := range []struct {
		name, want string
		break_     func(tx *bolt.Tx) error
	}{
		{"counters", "tasks say", func(tx *bolt.Tx) error {
			var e sweepEntry
			if _, err := getJSON(tx.Bucket(bucketSweeps), []byte("big"), &e); err != nil {
				return err
			}
			e.Done, e.Pending = e.Done+1, e.Pending-1
			return putJSON(tx.Bucket(bucketSweeps), []byte("big"), &e)
		}},
		{"sum", "do not add up", func(tx *bolt.Tx) error {
			var e sweepEntry
			if _, err := getJSON(tx.Bucket(bucketSweeps), []byte("big"), &e); err != nil {
				return err
			}
			e.Expected++
			return putJSON(tx.Bucket(bucketSweeps), []byte("big"), &e)
		}},
		{"result", "done without a result", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketResults).Delete([]byte(testTask(3).ID))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTestStore(t, t.TempDir(), 20, 10)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tt.break_); err != nil {
				t.Fatal(err)
			}
			db.Close()
			before := fileHash(t, path)
			_, err = Open(path, nil)
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want ErrDamaged saying %q", err, tt.want)
			}
			if fileHash(t, path) != before {
				t.Fatal("the refused store's file changed")
			}
		})
	}
}

// TestCheckTime measures the checks on a store of SGSWEEP_CHECK_TASKS tasks
// (all done, results of about a kilobyte); skipped without it:
//
//	SGSWEEP_CHECK_TASKS=100000 go test -run TestCheckTime -v ./results/store
func TestCheckTime(t *testing.T) {
	var n int
	if _, err := fmt.Sscan(os.Getenv("SGSWEEP_CHECK_TASKS"), &n); err != nil || n <= 0 {
		t.Skip("set SGSWEEP_CHECK_TASKS to measure")
	}
	path := writeTestStore(t, t.TempDir(), n, n)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, full := range []bool{true, false} {
		rep, err := s.Verify(context.Background(), full)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d tasks, %d MB: full=%v check %v (%d tasks, %d results)", n, info.Size()>>20, full,
			rep.Elapsed.Round(time.Millisecond), rep.Tasks, rep.Results)
	}
	s.Close()
	start := time.Now()
	w, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read-write Open with its check: %v", time.Since(start).Round(time.Millisecond))
	w.Close()
}

// A truncated file (an interrupted copy) is damaged; a file truncated
// under an open store makes reads fail with an error, not a fault.
func TestTruncatedStore(t *testing.T) {
	path := writeTestStore(t, t.TempDir(), 600, 400)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := os.Truncate(path, info.Size()/2); err != nil {
		t.Fatal(err)
	}
	err = ro.Records(context.Background(), "big", func(*results.Record) error { return nil })
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("Records of a store truncated under it: %v, want ErrDamaged", err)
	}
	ro.Close()
	before := fileHash(t, path)
	for _, opts := range []*Options{nil, {ReadOnly: true}} {
		if _, err := Open(path, opts); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("Open(%+v) of a truncated store: %v, want ErrDamaged saying truncated", opts, err)
		}
	}
	if fileHash(t, path) != before {
		t.Error("the truncated store changed")
	}
}

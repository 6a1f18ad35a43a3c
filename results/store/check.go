package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sgsweep/sgsweep/results"
)

// ErrDamaged means the file is not a consistent store: bbolt's page
// structure is broken (a zeroed or torn page, a bad freelist), the file is
// empty, or the store's own invariants do not hold. A damaged store is never
// opened for writing; see DamagedError.
var ErrDamaged = errors.New("store is damaged")

// DefaultFullCheckLimit is the largest file that Open checks completely
// (every page, every invariant) before it opens the store for writing when
// Options.FullCheckLimit is zero. Larger files get the bounded check (see
// Store.Verify). The full check grows faster than the file: 0.5 s for
// 23 000 done tasks (65 MB), 1.4 s for 45 000 (131 MB), 6.7 s for 100 000
// (278 MB); the bounded one takes milliseconds (TestCheckTime). 64 MiB
// keeps the check at Open around half a second.
const DefaultFullCheckLimit = 64 << 20

// maxProblems bounds the problems a DamagedError lists.
const maxProblems = 10

// DamagedError is the error of a check that found problems, or of a bbolt
// panic recovered from a damaged file. It wraps ErrDamaged.
type DamagedError struct {
	Path string
	// Problems lists the first problems found (at most ten); More counts
	// the others.
	Problems []string
	More     int
	// Unchanged says the file was not opened for writing because of them.
	Unchanged bool
}

func (e *DamagedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store %s is damaged: %s", e.Path, strings.Join(e.Problems, "; "))
	if e.More > 0 {
		fmt.Fprintf(&b, " (and %d more problems)", e.More)
	}
	if e.Unchanged {
		b.WriteString("; it was not opened for writing and is unchanged")
	}
	b.WriteString(" (see `sgsweep store check`; restore with `sgsweep store rebuild --from BACKUP`)")
	return b.String()
}

func (e *DamagedError) Unwrap() error { return ErrDamaged }

// add records a problem, keeping the first maxProblems.
func (e *DamagedError) add(format string, args ...any) {
	if len(e.Problems) < maxProblems {
		e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
	} else {
		e.More++
	}
}

// CheckReport says what Verify checked.
type CheckReport struct {
	Path string
	// Size is the file's size in bytes.
	Size int64
	// Full is true when every page and every invariant was checked; false
	// for the bounded check.
	Full bool
	// Sweeps counts the sweeps; Tasks and Results the entries of tasks/
	// and results/ (counted by the full check only).
	Sweeps, Tasks, Results int
	Elapsed                time.Duration
}

// Check runs the full check (Verify with full set) and returns its error:
// nil, or a *DamagedError.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.Verify(ctx, true)
	return err
}

// Verify checks the store in one read transaction and returns a
// *DamagedError (wrapping ErrDamaged) if anything is wrong.
//
// The full check runs bbolt's consistency check over every page (tx.Check:
// page types and references, key order, freelist, no page lost or shared)
// and the store's invariants: the layout (checkSchema), every sweep's
// counters (Expected = Done + Failed + Pending) and, recounted from its
// order, the states of its planned tasks, each of which has its tasks/ and
// params/ entries, and a result when it is done or stopped; and the stop
// decisions (checkStops).
//
// The bounded check reads what does not grow with the number of tasks: the
// freelist, the pages of the small buckets (meta, sweeps, specs, rejected)
// and the sweeps' counters. It is what Open runs on files
// above Options.FullCheckLimit.
func (s *Store) Verify(ctx context.Context, full bool) (rep *CheckReport, err error) {
	start := time.Now()
	rep = &CheckReport{Path: s.path, Full: full}
	if info, err := os.Stat(s.path); err == nil {
		rep.Size = info.Size()
	}
	dmg := &DamagedError{Path: s.path}
	err = s.view(ctx, func(tx *bolt.Tx) error {
		if full {
			for err := range tx.Check() {
				dmg.add("%v", err)
			}
		} else {
			// Every tx.Check loads the freelist first (and reports a bad
			// one); one from page 1, a meta page that it refuses as out of
			// range, stops right after that.
			for err := range tx.Check(bolt.WithPageId(1)) {
				if !strings.Contains(err.Error(), "out of range") {
					dmg.add("freelist: %v", err)
				}
			}
			for _, name := range smallBuckets {
				if b := tx.Bucket(name); b != nil && b.RootPage() != 0 {
					for err := range tx.Check(bolt.WithPageId(uint64(b.RootPage()))) {
						dmg.add("bucket %s: %v", name, err)
					}
				}
			}
		}
		if len(dmg.Problems) > 0 {
			return nil // the pages are broken: reading the buckets may panic
		}
		if err := checkSchema(tx); err != nil {
			dmg.add("%v", err)
			return nil
		}
		return checkInvariants(ctx, tx, full, rep, dmg)
	})
	rep.Elapsed = time.Since(start)
	if err != nil {
		return rep, err
	}
	if len(dmg.Problems) > 0 {
		return rep, dmg
	}
	return rep, nil
}

// smallBuckets are the buckets whose size does not grow with the number of
// tasks, checked page by page by the bounded check. (queued/ and staging/
// can hold an entry per task of a sweep: they are left to the full check.)
var smallBuckets = [][]byte{bucketMeta, bucketSweeps, bucketSpecs, bucketRejected}

// checkInvariants checks the sweeps' counters and, when full, recounts them
// from their orders and the tasks' states.
func checkInvariants(ctx context.Context, tx *bolt.Tx, full bool, rep *CheckReport, dmg *DamagedError) error {
	var sweeps []sweepEntry
	err := tx.Bucket(bucketSweeps).ForEach(func(k, v []byte) error {
		var e sweepEntry
		if _, err := getJSON(tx.Bucket(bucketSweeps), k, &e); err != nil {
			dmg.add("sweeps/%s: %v", k, err)
			return nil
		}
		if e.Expected != e.Done+e.Stopped+e.Failed+e.Pending || e.Done < 0 || e.Stopped < 0 || e.Failed < 0 ||
			e.Pending < 0 || e.Diverged < 0 || e.Diverged > e.Done {
			dmg.add("sweep %q: counters expected %d, done %d (diverged %d), stopped %d, failed %d, pending %d do not add up",
				e.Name, e.Expected, e.Done, e.Diverged, e.Stopped, e.Failed, e.Pending)
		}
		sweeps = append(sweeps, e)
		return nil
	})
	if err != nil {
		return err
	}
	rep.Sweeps = len(sweeps)
	if !full {
		return nil
	}
	for _, e := range sweeps {
		if err := ctx.Err(); err != nil {
			return err
		}
		recountSweep(tx, &e, dmg)
	}
	checkStops(tx, dmg)
	rep.Tasks = tx.Bucket(bucketTasks).Stats().KeyN
	rep.Results = tx.Bucket(bucketResults).Stats().KeyN
	return nil
}

// recountSweep recounts a sweep's counters from the states of the tasks in
// its order and reports every difference and every missing entry.
func recountSweep(tx *bolt.Tx, e *sweepEntry, dmg *DamagedError) {
	tasks, params, res := tx.Bucket(bucketTasks), tx.Bucket(bucketParams), tx.Bucket(bucketResults)
	var got sweepEntry
	err := forOrder(tx, e.Name, func(ordinal uint64, id []byte) error {
		var t taskEntry
		found, err := getJSON(tasks, id, &t)
		switch {
		case err != nil:
			dmg.add("sweep %q task %d (%s): %v", e.Name, ordinal, id, err)
			return nil
		case !found:
			dmg.add("sweep %q task %d (%s): no tasks/ entry", e.Name, ordinal, id)
			return nil
		}
		if params.Get(id) == nil {
			dmg.add("sweep %q task %d (%s): no params/ entry", e.Name, ordinal, id)
		}
		if (t.State == results.StateDone || t.State == results.StateStopped) && res.Get(id) == nil {
			dmg.add("sweep %q task %d (%s): %s without a result", e.Name, ordinal, id, t.State)
		}
		got.count(&t)
		return nil
	})
	if err != nil {
		dmg.add("sweep %q: %v", e.Name, err)
		return
	}
	if got.Expected != e.Expected || got.Done != e.Done || got.Diverged != e.Diverged || got.Stopped != e.Stopped ||
		got.Failed != e.Failed {
		dmg.add("sweep %q: counters say expected %d, done %d, diverged %d, stopped %d, failed %d; "+
			"its tasks say %d, %d, %d, %d, %d", e.Name, e.Expected, e.Done, e.Diverged, e.Stopped, e.Failed,
			got.Expected, got.Done, got.Diverged, got.Stopped, got.Failed)
	}
}

// recovered turns a panic of bbolt (which panics on some damaged pages
// instead of returning an error) into a *DamagedError naming path. Use it
// deferred: defer recovered(path, &err).
func recovered(path string, err *error) {
	if r := recover(); r != nil {
		*err = panicError(path, r)
	}
}

// panicError is the *DamagedError of a recovered bbolt panic.
func panicError(path string, r any) *DamagedError {
	dmg := &DamagedError{Path: path}
	dmg.add("bbolt: %v", r)
	return dmg
}

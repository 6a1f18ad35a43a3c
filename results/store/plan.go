package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"iter"
	"path/filepath"
	"strings"

	"github.com/sgsweep/sgsweep/protocol"
	"github.com/sgsweep/sgsweep/results"
	"github.com/sgsweep/sgsweep/sweep"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// PlanTask is what the store keeps of a planned task (sweep.Task): its ID
// and the canonical JSON of its resolved sim.Config. A plan holds these
// rather than the expansion itself, whose tasks each carry a resolved
// Config and grid point (about 500 bytes more a task), so that the caller
// can drop the expansion while the plan is written.
type PlanTask struct {
	ID     string
	Params json.RawMessage
}

// PlanTasks returns the plan's tasks of an expansion, in its order. It
// copies the ID and Params references (nothing is hashed or copied
// again): the store trusts the ID to be the hash of Params.
func PlanTasks(tasks []sweep.Task) []PlanTask {
	out := make([]PlanTask, len(tasks))
	for i := range tasks {
		out[i] = PlanTask{ID: tasks[i].ID, Params: tasks[i].Params}
	}
	return out
}

// Plan is a sweep to record before any of its tasks is published.
type Plan struct {
	Name string
	// Fingerprint identifies the spec (sweep.Spec.Fingerprint); Canonical is
	// its canonical JSON (sweep.Spec.Canonical), kept to diff a changed spec.
	Fingerprint string
	Canonical   json.RawMessage
	// SourceName and Source are the spec file as the user wrote it.
	SourceName string
	Source     []byte
	// Stream yields the expansion (sweep.Spec.Tasks) in ordinal order: a
	// task's ordinal in the sweep is its position in the sequence. Every
	// range over it must yield the same sequence (PlanSweep may range twice);
	// a yielded error ends planning. The store reads each task's ID and
	// Params (the canonical JSON of its resolved sim.Config) and trusts the
	// ID to be their hash: it hashes nothing again. PlanSweep holds at most
	// planRunBytes of tasks and planChunk tasks at a time, whatever the
	// length of the sequence (it sorts the rest in a temporary file).
	Stream iter.Seq2[sweep.Task, error]
	// Tasks is the expansion in memory (PlanTasks of sweep.Spec.Expand),
	// for small plans; it is read when Stream is nil.
	Tasks []PlanTask
	// Extend accepts a spec that differs from the one the sweep was planned
	// with: the sweep becomes the new expansion.
	Extend bool
}

// Plan outcomes.
const (
	PlanCreated  = "created"  // a new sweep
	PlanResumed  = "resumed"  // the same spec as before
	PlanExtended = "extended" // a changed spec, accepted with Extend
)

// PlanReport says what PlanSweep did and where the sweep stands.
type PlanReport struct {
	Sweep   string `json:"sweep"`
	Outcome string `json:"outcome"`
	// Tasks is the number of planned tasks.
	Tasks int `json:"tasks"`
	// Added counts tasks new to this sweep (all of them when created);
	// Dropped counts tasks an extended spec no longer plans (their results
	// stay in the store).
	Added   int `json:"added"`
	Dropped int `json:"dropped"`
	// Done, Stopped, Failed and Pending are the states of the planned
	// tasks: a task with a result anywhere in the store is done (or
	// stopped) and is not recomputed.
	Done    int    `json:"done"`
	Stopped int    `json:"stopped,omitempty"`
	Failed  int    `json:"failed"`
	Pending int    `json:"pending"`
	State   string `json:"state"`
}

// ErrSpecChanged is wrapped by every *SpecChangedError.
var ErrSpecChanged = errors.New("spec changed")

// SpecChangedError refuses a plan whose spec differs from the one the sweep
// was planned with (unless Plan.Extend). PlanSweep returns it unwrapped:
// its message names the sweep and shows the diff.
type SpecChangedError struct {
	Sweep string `json:"sweep"`
	// Diff shows how the spec changed (sweep.Diff of the two canonical
	// specs); empty when SameSpec.
	Diff []string `json:"diff"`
	// SameSpec is set when the spec is unchanged but expands to other task
	// IDs (another simulator model version).
	SameSpec bool `json:"same_spec"`
	// OldCanonical and NewCanonical are the two specs' canonical JSON.
	OldCanonical json.RawMessage `json:"-"`
	NewCanonical json.RawMessage `json:"-"`
}

func (e *SpecChangedError) Error() string {
	var b strings.Builder
	if e.SameSpec {
		fmt.Fprintf(&b, "sweep %q was planned with other task IDs (another simulator model version)", e.Sweep)
	} else {
		fmt.Fprintf(&b, "sweep %q exists with a different spec:", e.Sweep)
		for _, line := range e.Diff {
			b.WriteString("\n  " + line)
		}
	}
	b.WriteString("\nsubmit with --extend to plan the new tasks (results of tasks that left the spec stay in the store)," +
		" or give the sweep another name")
	return b.String()
}

func (e *SpecChangedError) Unwrap() error { return ErrSpecChanged }

// planChunk is the number of tasks staged per transaction, in ID order
// (stage): each transaction dirties the few contiguous pages of tasks/,
// params/ and the staged IDs its range of IDs falls in, about 15 MiB of
// heap. Before the sort, with 1000 tasks in plan order (random IDs, about
// one dirty page per task per bucket), a million-task plan took 284 s.
const planChunk = 10_000

// tasks is the plan's sequence of tasks: Stream, else Tasks.
func (p *Plan) tasks() iter.Seq2[PlanTask, error] {
	return func(yield func(PlanTask, error) bool) {
		if p.Stream == nil {
			for _, t := range p.Tasks {
				if !yield(t, nil) {
					return
				}
			}
			return
		}
		for t, err := range p.Stream {
			if !yield(PlanTask{ID: t.ID, Params: t.Params}, err) {
				return
			}
		}
	}
}

// PlanSweep records a sweep's tasks before anything is published. A new name
// creates the sweep; the same name and spec resumes it (a cancelled sweep
// runs again); a changed spec is refused with a *SpecChangedError unless
// p.Extend (returned as is, not wrapped). A task whose ID already has a
// result in the store counts as done for this sweep at once. A plan that
// lists one task twice (two grid points that resolve to the same
// configuration) is refused.
//
// Memory is bounded, not by the plan's length: the tasks are read from p's
// sequence once to stage them (and once more before, to compare the plan
// with an existing sweep's). Staging appends the order staging/<name> in
// plan order, sorts the tasks by ID in a temporary file next to the store
// (planSorter), and writes in ID order, planChunk tasks per transaction,
// the staged task IDs staging/<name>\x00ids, the tasks/ entries (created
// pending if new) with a reference to the sweep, and their params/; a task
// listed twice is found in the sort. Then one transaction switches the
// sweep to the new plan: it moves the staged order to orders/, drops the
// reference from tasks the sweep no longer plans, recounts the sweep's
// counters by reading its tasks, and replaces its spec; it rewrites only
// the dropped tasks' entries.
//
// A staged reference is in place before the switch: a result committed
// meanwhile for a newly staged task of an existing sweep counts in that
// sweep's counters until the switch recounts them. A crash before the
// switch leaves the sweep's plan as it was, with staged references; the
// next PlanSweep of the name (or a failing one, before it returns) removes
// them and recounts the sweep (unstage).
func (s *Store) PlanSweep(ctx context.Context, p *Plan) (*PlanReport, error) {
	if p.Name == "" {
		return nil, errors.New("plan sweep: empty name")
	}
	s.planMu.Lock()
	defer s.planMu.Unlock()
	rep, err := s.planSweep(ctx, p)
	var changed *SpecChangedError
	if errors.As(err, &changed) {
		return nil, changed
	}
	if err != nil {
		return nil, fmt.Errorf("plan sweep %q: %w", p.Name, err)
	}
	return rep, nil
}

func (s *Store) planSweep(ctx context.Context, p *Plan) (*PlanReport, error) {
	if err := s.unstage(ctx, p.Name); err != nil {
		return nil, fmt.Errorf("clear an interrupted plan: %w", err)
	}
	rep, err := s.resumeOrRefuse(ctx, p)
	if err != nil || rep != nil {
		return rep, err
	}
	st, err := s.stage(ctx, p)
	if err == nil {
		rep, err = s.switchPlan(ctx, p, st)
	}
	if err != nil {
		if uerr := s.unstage(context.WithoutCancel(ctx), p.Name); uerr != nil {
			err = errors.Join(err, fmt.Errorf("clear the staged plan: %w", uerr))
		}
		return nil, err
	}
	return rep, nil
}

// resumeOrRefuse handles a sweep that exists: the same plan resumes it (a
// report), a changed one without Extend is refused. It returns a nil report
// when the plan must be written. It reads p's tasks (to digest their IDs)
// only when the sweep exists.
func (s *Store) resumeOrRefuse(ctx context.Context, p *Plan) (*PlanReport, error) {
	var old sweepEntry
	var exists bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		exists, err = getJSON(tx.Bucket(bucketSweeps), []byte(p.Name), &old)
		return err
	})
	if err != nil || !exists {
		return nil, err
	}
	digest := newPlanDigest()
	for t, err := range p.tasks() {
		if err != nil {
			return nil, err
		}
		digest.add(t.ID)
	}
	var rep *PlanReport
	err = s.update(ctx, func(tx *bolt.Tx) error {
		cache := newSweepCache(tx)
		old, err := cache.existing(p.Name)
		if err != nil {
			return err
		}
		if old.resumedBy(p, digest.sum()) {
			if old.State == SweepCancelled {
				old.State = SweepRunning
			}
			if _, err := cache.flush(now()); err != nil {
				return err
			}
			rep = &PlanReport{Sweep: p.Name, Outcome: PlanResumed, Tasks: old.Expected}
			rep.fill(&old.SweepInfo)
			return nil
		}
		if p.Extend {
			return nil
		}
		var spec specEntry
		if _, err := getJSON(tx.Bucket(bucketSpecs), []byte(p.Name), &spec); err != nil {
			return err
		}
		sce := &SpecChangedError{Sweep: p.Name, OldCanonical: spec.Canonical, NewCanonical: p.Canonical,
			SameSpec: old.Fingerprint == p.Fingerprint}
		if !sce.SameSpec {
			sce.Diff = sweep.Diff(spec.Canonical, p.Canonical)
		}
		return sce
	})
	return rep, err
}

// staged is what staging a plan found.
type staged struct {
	// tasks is the number of tasks staged; added counts those the sweep did
	// not plan before.
	tasks, added int
	digest       string
}

// stagedIDsKey names the bucket of a staged plan's task IDs in staging/:
// <name>\x00ids (a sweep name has no NUL). Each value is the task's u64 BE
// ordinal and a byte, 1 if staging added the sweep's reference to the
// task (the sweep did not plan it), 0 if the reference was there.
func stagedIDsKey(name string) []byte { return []byte(name + "\x00ids") }

// stage writes the plan's tasks in two passes. The first reads the plan
// once: it appends the staging order in chunks of planOrderChunk ordinals
// per transaction and sorts the tasks by ID (planSorter, bounded memory).
// The second writes them in ID order, planChunk tasks per transaction: the
// staged IDs, the tasks (created pending if new) with the sweep's
// reference, and their params. A task listed twice is adjacent to itself
// in ID order.
func (s *Store) stage(ctx context.Context, p *Plan) (*staged, error) {
	st := &staged{}
	digest := newPlanDigest()
	sorter := newPlanSorter(filepath.Dir(s.path))
	defer sorter.close()
	order := make([]string, 0, planOrderChunk)
	flushOrder := func() error {
		from := uint64(st.tasks - len(order))
		err := s.update(ctx, func(tx *bolt.Tx) error { return stageOrder(tx, p.Name, from, order) })
		order = order[:0]
		return err
	}
	for t, err := range p.tasks() {
		if err != nil {
			return nil, err
		}
		if t.ID == "" {
			return nil, fmt.Errorf("task at ordinal %d has no ID", st.tasks)
		}
		digest.add(t.ID)
		if err := sorter.add(t, uint64(st.tasks)); err != nil {
			return nil, err
		}
		order = append(order, t.ID)
		st.tasks++
		if len(order) == planOrderChunk {
			if err := flushOrder(); err != nil {
				return nil, err
			}
		}
	}
	if err := flushOrder(); err != nil {
		return nil, err
	}
	st.digest = digest.sum()

	chunk := make([]sortedTask, 0, planChunk)
	flush := func() error {
		err := s.update(ctx, func(tx *bolt.Tx) error { return stageChunk(tx, p.Name, chunk, &st.added) })
		chunk = chunk[:0]
		return err
	}
	var prev sortedTask
	err := sorter.merge(func(t *sortedTask) error {
		if t.ID == prev.ID {
			return fmt.Errorf("ordinals %d and %d are the same task %s (identical configurations)",
				prev.ordinal, t.ordinal, t.ID)
		}
		prev = sortedTask{PlanTask{ID: t.ID}, t.ordinal}
		// bbolt keeps the value until the transaction commits.
		chunk = append(chunk, sortedTask{PlanTask{ID: t.ID, Params: bytes.Clone(t.Params)}, t.ordinal})
		if len(chunk) == planChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// planOrderChunk is the number of ordinals appended to a staging order per
// transaction (about 50 bytes each).
const planOrderChunk = 50_000

// stageOrder appends the task IDs of ordinals from, from+1, … to the
// sweep's staging order.
func stageOrder(tx *bolt.Tx, name string, from uint64, ids []string) error {
	order, err := tx.Bucket(bucketStaging).CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return err
	}
	order.FillPercent = 1 // ordinals are appended in increasing order
	for i, id := range ids {
		if err := order.Put(u64Key(from+uint64(i)), []byte(id)); err != nil {
			return err
		}
	}
	return nil
}

// stageChunk stages tasks, in ID order, in one transaction; added counts
// the tasks that get the sweep's reference.
func stageChunk(tx *bolt.Tx, name string, chunk []sortedTask, added *int) error {
	ids, err := tx.Bucket(bucketStaging).CreateBucketIfNotExists(stagedIDsKey(name))
	if err != nil {
		return err
	}
	ids.FillPercent = 1 // IDs are appended in increasing order
	tasks := tx.Bucket(bucketTasks)
	at := now()
	for _, pt := range chunk {
		id := []byte(pt.ID)
		var t taskEntry
		found, err := getTask(tasks, id, &t)
		if err != nil {
			return err
		}
		if !found {
			t = taskEntry{State: results.StatePending, Updated: at}
		}
		ref := byte(0)
		if t.addSweep(name) {
			ref = 1
			*added++
			if err := putJSON(tasks, id, &t); err != nil {
				return err
			}
		}
		if err := ids.Put(id, append(u64Key(pt.ordinal), ref)); err != nil {
			return err
		}
		if err := putParams(tx, id, pt.Params); err != nil {
			return err
		}
	}
	return nil
}

// unstage undoes a staged plan of the sweep that was not switched to (none
// after a switch, which deletes it): it removes the references staging
// added, in chunks, deletes the staging buckets and recounts the sweep if
// it exists (results committed meanwhile may have counted in it).
func (s *Store) unstage(ctx context.Context, name string) error {
	var after []byte
	for {
		done := false
		err := s.update(ctx, func(tx *bolt.Tx) error {
			staging := tx.Bucket(bucketStaging)
			ids := staging.Bucket(stagedIDsKey(name))
			if ids == nil {
				done = true
				// An order staged without IDs (layout v1) references nothing.
				if err := staging.DeleteBucket([]byte(name)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
					return err
				}
				return nil
			}
			tasks := tx.Bucket(bucketTasks)
			c := ids.Cursor()
			k, v := c.First()
			if after != nil {
				k, v = c.Seek(after)
				if k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for n := 0; k != nil && n < planChunk; k, v = c.Next() {
				n++
				after = bytes.Clone(k)
				if len(v) < 9 || v[8] != 1 {
					continue
				}
				var t taskEntry
				found, err := getJSON(tasks, k, &t)
				if err != nil || !found {
					return err
				}
				t.removeSweep(name)
				if err := putJSON(tasks, k, &t); err != nil {
					return err
				}
			}
			if k != nil {
				return nil
			}
			done = true
			for _, key := range [][]byte{stagedIDsKey(name), []byte(name)} {
				if err := staging.DeleteBucket(key); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
					return err
				}
			}
			cache := newSweepCache(tx)
			e, err := cache.get(name)
			if err != nil || e == nil {
				return err
			}
			if err := recount(tx, e); err != nil {
				return err
			}
			_, err = cache.flush(now())
			return err
		})
		if err != nil || done {
			return err
		}
	}
}

// switchPlan makes the staged order the sweep's, in one transaction: tasks
// the sweep no longer plans lose its reference, the counters are recounted
// and the spec replaced.
func (s *Store) switchPlan(ctx context.Context, p *Plan, st *staged) (*PlanReport, error) {
	var rep *PlanReport
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cache := newSweepCache(tx)
		old, err := cache.get(p.Name)
		if err != nil {
			return err
		}
		at := now()
		rep = &PlanReport{Sweep: p.Name, Outcome: PlanCreated, Tasks: st.tasks, Added: st.added}
		e := &sweepEntry{
			SweepInfo:  SweepInfo{Name: p.Name, Fingerprint: p.Fingerprint, State: SweepRunning, Created: at},
			PlanDigest: st.digest,
		}
		staging := tx.Bucket(bucketStaging)
		ids := staging.Bucket(stagedIDsKey(p.Name))
		if ids == nil {
			return errors.New("staged task IDs missing")
		}
		tasks := tx.Bucket(bucketTasks)
		orders := tx.Bucket(bucketOrders)
		if old != nil {
			rep.Outcome = PlanExtended
			e.Created = old.Created
			err := forOrder(tx, p.Name, func(_ uint64, id []byte) error {
				if ids.Get(id) != nil {
					return nil
				}
				rep.Dropped++
				var t taskEntry
				if _, err := getTask(tasks, id, &t); err != nil {
					return err
				}
				t.removeSweep(p.Name)
				return putJSON(tasks, id, &t)
			})
			if err != nil {
				return err
			}
			if err := orders.DeleteBucket([]byte(p.Name)); err != nil {
				return err
			}
		}
		if err := tx.MoveBucket([]byte(p.Name), staging, orders); err != nil {
			return fmt.Errorf("staged order: %w", err)
		}
		if err := staging.DeleteBucket(stagedIDsKey(p.Name)); err != nil {
			return err
		}
		if err := recount(tx, e); err != nil {
			return err
		}
		if e.Expected != st.tasks {
			return fmt.Errorf("staged order has %d tasks, the plan %d", e.Expected, st.tasks)
		}
		spec := specEntry{Canonical: p.Canonical, SourceName: p.SourceName, Source: p.Source}
		if err := putJSON(tx.Bucket(bucketSpecs), []byte(p.Name), spec); err != nil {
			return err
		}
		cache.put(e)
		if _, err := cache.flush(at); err != nil {
			return err
		}
		rep.fill(&e.SweepInfo)
		return nil
	})
	return rep, err
}

// recount sets the sweep's counters from the states of the tasks in its
// order (it reads them: no task entry is rewritten).
func recount(tx *bolt.Tx, e *sweepEntry) error {
	e.Expected, e.Done, e.Diverged, e.Failed, e.Duplicates, e.Conflicts = 0, 0, 0, 0, 0, 0
	e.Stopped, e.Verified, e.Disputed = 0, 0, 0
	tasks := tx.Bucket(bucketTasks)
	return forOrder(tx, e.Name, func(_ uint64, id []byte) error {
		var t taskEntry
		found, err := getTask(tasks, id, &t)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("planned task %s missing", id)
		}
		e.count(&t)
		return nil
	})
}

func (r *PlanReport) fill(e *SweepInfo) {
	r.Done, r.Stopped, r.Failed, r.Pending, r.State = e.Done, e.Stopped, e.Failed, e.Pending, e.State
}

// resumedBy reports whether p, whose task IDs have the digest given, is the
// plan the sweep has: planning it again resumes the sweep.
func (e *sweepEntry) resumedBy(p *Plan, digest string) bool {
	return e.Fingerprint == p.Fingerprint && e.PlanDigest == digest
}

// count adds one planned task's state to the sweep's counters.
func (e *sweepEntry) count(t *taskEntry) {
	e.Expected++
	switch t.State {
	case results.StateDone:
		e.Done++
		if t.Status == protocol.StatusDiverged {
			e.Diverged++
		}
	case results.StateStopped:
		e.Stopped++
	case results.StateFailed:
		e.Failed++
	}
	e.Duplicates += t.Duplicates
	e.Conflicts += t.Conflicts
	e.countVerify(t) // verify.go
}

// planDigest hashes the task IDs of a plan in order: the hex SHA-256 of
// each ID followed by a NUL.
type planDigest struct{ h hash.Hash }

func newPlanDigest() planDigest { return planDigest{sha256.New()} }

func (d planDigest) add(id string) {
	d.h.Write([]byte(id))
	d.h.Write([]byte{0})
}

func (d planDigest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

func decodeU64(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	// Tasks holds the expansion (PlanTasks of sweep.Spec.Expand) in
	// ordinal order: a task's ordinal in the sweep is its index.
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
	// Done, Failed and Pending are the states of the planned tasks: a task
	// with a result anywhere in the store is done and is not recomputed.
	Done    int    `json:"done"`
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

// planChunk is the number of tasks staged per transaction. bbolt splits
// nodes only at commit, so inserting many new random keys in one transaction
// costs quadratic time; chunks keep each transaction's inserts small.
const planChunk = 5000

// PlanSweep records a sweep's tasks before anything is published. A new name
// creates the sweep; the same name and spec resumes it (a cancelled sweep
// runs again); a changed spec is refused with a *SpecChangedError unless
// p.Extend (returned as is, not wrapped). A task whose ID already has a
// result in the store counts as done for this sweep at once.
//
// The tasks are staged in chunks (tasks/, params/ and a staging order), then
// one transaction switches the sweep to the new plan: its order, the
// references from its tasks, its counters and its spec. A crash before that
// transaction leaves the sweep as it was (and staged tasks without any
// sweep, which nothing publishes); planning again starts over.
func (s *Store) PlanSweep(ctx context.Context, p *Plan) (*PlanReport, error) {
	if p.Name == "" {
		return nil, errors.New("plan sweep: empty name")
	}
	if err := checkUnique(p.Tasks); err != nil {
		return nil, fmt.Errorf("plan sweep %q: %w", p.Name, err)
	}
	s.planMu.Lock()
	defer s.planMu.Unlock()
	digest := planDigest(p.Tasks)
	rep, err := s.resumeOrRefuse(ctx, p, digest)
	if err == nil && rep == nil {
		if err = s.stage(ctx, p); err == nil {
			rep, err = s.switchPlan(ctx, p, digest)
		}
	}
	var changed *SpecChangedError
	if errors.As(err, &changed) {
		return nil, changed
	}
	if err != nil {
		return nil, fmt.Errorf("plan sweep %q: %w", p.Name, err)
	}
	return rep, nil
}

// resumeOrRefuse handles a sweep that exists: the same plan resumes it (a
// report), a changed one without Extend is refused. It returns a nil report
// when the plan must be written.
func (s *Store) resumeOrRefuse(ctx context.Context, p *Plan, digest string) (*PlanReport, error) {
	var rep *PlanReport
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cache := newSweepCache(tx)
		old, err := cache.get(p.Name)
		if err != nil || old == nil {
			return err
		}
		if old.resumedBy(p, digest) {
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

// stage writes the plan's tasks (created pending if new), their params and
// the staging order staging/<name>, in chunks.
func (s *Store) stage(ctx context.Context, p *Plan) error {
	for from := 0; from == 0 || from < len(p.Tasks); from += planChunk {
		chunk := p.Tasks[from:min(from+planChunk, len(p.Tasks))]
		err := s.update(ctx, func(tx *bolt.Tx) error {
			staging := tx.Bucket(bucketStaging)
			if from == 0 {
				if err := staging.DeleteBucket([]byte(p.Name)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
					return err
				}
			}
			order, err := staging.CreateBucketIfNotExists([]byte(p.Name))
			if err != nil {
				return err
			}
			order.FillPercent = 1 // ordinals are appended in increasing order
			tasks := tx.Bucket(bucketTasks)
			at := now()
			for i, pt := range chunk {
				id := []byte(pt.ID)
				if err := order.Put(u64Key(uint64(from+i)), id); err != nil {
					return err
				}
				if tasks.Get(id) == nil {
					if err := putJSON(tasks, id, taskEntry{State: results.StatePending, Updated: at}); err != nil {
						return err
					}
				}
				if err := putParams(tx, id, pt.Params); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// switchPlan makes the staged order the sweep's, in one transaction: tasks
// get a reference to the sweep, tasks the sweep no longer plans lose it,
// the counters are recounted and the spec replaced.
func (s *Store) switchPlan(ctx context.Context, p *Plan, digest string) (*PlanReport, error) {
	var rep *PlanReport
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cache := newSweepCache(tx)
		old, err := cache.get(p.Name)
		if err != nil {
			return err
		}
		at := now()
		rep = &PlanReport{Sweep: p.Name, Outcome: PlanCreated, Tasks: len(p.Tasks)}
		e := &sweepEntry{
			SweepInfo:  SweepInfo{Name: p.Name, Fingerprint: p.Fingerprint, State: SweepRunning, Created: at},
			PlanDigest: digest,
		}
		tasks := tx.Bucket(bucketTasks)
		orders := tx.Bucket(bucketOrders)
		previous := map[string]bool{}
		if old != nil {
			rep.Outcome = PlanExtended
			e.Created = old.Created
			planned := make(map[string]bool, len(p.Tasks))
			for _, pt := range p.Tasks {
				planned[pt.ID] = true
			}
			err := forOrder(tx, p.Name, func(_ uint64, id []byte) error {
				previous[string(id)] = true
				if planned[string(id)] {
					return nil
				}
				rep.Dropped++
				var t taskEntry
				if _, err := getJSON(tasks, id, &t); err != nil {
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
		if err := tx.MoveBucket([]byte(p.Name), tx.Bucket(bucketStaging), orders); err != nil {
			return fmt.Errorf("staged order: %w", err)
		}
		n := 0
		err = forOrder(tx, p.Name, func(_ uint64, id []byte) error {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if !previous[string(id)] {
				rep.Added++
			}
			var t taskEntry
			found, err := getJSON(tasks, id, &t)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("staged task %s missing", id)
			}
			e.count(&t)
			if !t.addSweep(p.Name) {
				return nil
			}
			return putJSON(tasks, id, &t)
		})
		if err != nil {
			return err
		}
		if e.Expected != len(p.Tasks) {
			return fmt.Errorf("staged order has %d tasks, the plan %d", e.Expected, len(p.Tasks))
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

func (r *PlanReport) fill(e *SweepInfo) {
	r.Done, r.Failed, r.Pending, r.State = e.Done, e.Failed, e.Pending, e.State
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
	case results.StateFailed:
		e.Failed++
	}
	e.Duplicates += t.Duplicates
	e.Conflicts += t.Conflicts
}

// planDigest is the hex SHA-256 of the task IDs in order.
func planDigest(tasks []PlanTask) string {
	h := sha256.New()
	for _, t := range tasks {
		h.Write([]byte(t.ID))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkUnique refuses a plan that lists one task twice (two grid points that
// resolve to the same configuration).
func checkUnique(tasks []PlanTask) error {
	at := make(map[string]int, len(tasks))
	for i, t := range tasks {
		if t.ID == "" {
			return fmt.Errorf("task at ordinal %d has no ID", i)
		}
		if j, dup := at[t.ID]; dup {
			return fmt.Errorf("ordinals %d and %d are the same task %s (identical configurations)", j, i, t.ID)
		}
		at[t.ID] = i
	}
	return nil
}

func decodeU64(k []byte) uint64 { return binary.BigEndian.Uint64(k) }

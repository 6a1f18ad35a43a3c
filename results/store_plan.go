package results

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sgsweep/sgsweep/sweep"
)

// PlanTask is one task of a plan: its content-addressed ID and the canonical
// JSON of its resolved sim.Config.
type PlanTask struct {
	ID     string
	Params json.RawMessage
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
	// Tasks holds the expansion in ordinal order.
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

// SpecChangedError refuses a plan whose spec differs from the one the sweep
// was planned with (unless Plan.Extend).
type SpecChangedError struct {
	Sweep string
	// OldCanonical and NewCanonical are the two specs' canonical JSON.
	OldCanonical, NewCanonical json.RawMessage
	// SameSpec is set when the spec is unchanged but expands to other task
	// IDs (the simulator's model version changed).
	SameSpec bool
}

func (e *SpecChangedError) Error() string {
	if e.SameSpec {
		return fmt.Sprintf("sweep %q was planned with other task IDs (a different simulator model version); "+
			"extend it to plan the new tasks", e.Sweep)
	}
	return fmt.Sprintf("sweep %q exists with a different spec; extend it to plan the new tasks", e.Sweep)
}

// PlanSweep records a sweep's tasks in one transaction, before anything is
// published. A new name creates the sweep; the same name and spec resumes it
// (a cancelled sweep runs again); a changed spec is refused with a
// *SpecChangedError unless p.Extend. A task whose ID already has a result in
// the store counts as done for this sweep at once.
func (s *Store) PlanSweep(ctx context.Context, p *Plan) (*PlanReport, error) {
	if p.Name == "" {
		return nil, errors.New("plan sweep: empty name")
	}
	if err := checkUnique(p.Tasks); err != nil {
		return nil, fmt.Errorf("plan sweep %q: %w", p.Name, err)
	}
	digest := planDigest(p.Tasks)
	var rep *PlanReport
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cache := newSweepCache(tx)
		old, err := cache.get(p.Name)
		if err != nil {
			return err
		}
		if old != nil && old.Fingerprint == p.Fingerprint && old.PlanDigest == digest {
			if old.State == SweepCancelled {
				old.State = SweepRunning
			}
			rep = &PlanReport{Sweep: p.Name, Outcome: PlanResumed, Tasks: old.Expected}
			_, err := cache.flush(now())
			rep.fill(&old.SweepInfo)
			return err
		}
		if old != nil && !p.Extend {
			var spec specEntry
			if _, err := getJSON(tx.Bucket(bucketSpecs), []byte(p.Name), &spec); err != nil {
				return err
			}
			return &SpecChangedError{Sweep: p.Name, OldCanonical: spec.Canonical, NewCanonical: p.Canonical,
				SameSpec: old.Fingerprint == p.Fingerprint}
		}
		rep, err = writePlan(ctx, tx, cache, old, p, digest)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("plan sweep %q: %w", p.Name, err)
	}
	return rep, nil
}

func (r *PlanReport) fill(e *SweepInfo) {
	r.Done, r.Failed, r.Pending, r.State = e.Done, e.Failed, e.Pending, e.State
}

// writePlan writes a new sweep, or replaces an existing one's order (extend).
func writePlan(ctx context.Context, tx *bolt.Tx, cache *sweepCache, old *sweepEntry, p *Plan, digest string) (*PlanReport, error) {
	at := now()
	rep := &PlanReport{Sweep: p.Name, Outcome: PlanCreated, Tasks: len(p.Tasks)}
	tasks := tx.Bucket(bucketTasks)
	orders := tx.Bucket(bucketOrders)

	// The previous order's task IDs, to tell added from kept tasks.
	previous := map[string]bool{}
	if old != nil {
		rep.Outcome = PlanExtended
		err := forOrder(tx, p.Name, func(_ uint64, id []byte) error {
			previous[string(id)] = false
			return nil
		})
		if err != nil {
			return nil, err
		}
		if err := orders.DeleteBucket([]byte(p.Name)); err != nil {
			return nil, err
		}
	}
	order, err := orders.CreateBucket([]byte(p.Name))
	if err != nil {
		return nil, err
	}
	order.FillPercent = 1 // ordinals are appended in increasing order

	e := &sweepEntry{
		SweepInfo:  SweepInfo{Name: p.Name, Fingerprint: p.Fingerprint, State: SweepRunning, Created: at},
		PlanDigest: digest,
	}
	spec := specEntry{Canonical: p.Canonical, SourceName: p.SourceName, Source: p.Source}
	if err := putJSON(tx.Bucket(bucketSpecs), []byte(p.Name), spec); err != nil {
		return nil, err
	}
	if old != nil {
		e.Created = old.Created
	}
	cache.put(e)
	for i, pt := range p.Tasks {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		id := []byte(pt.ID)
		if err := order.Put(u64Key(uint64(i)), id); err != nil {
			return nil, err
		}
		if _, ok := previous[pt.ID]; ok {
			previous[pt.ID] = true
		} else {
			rep.Added++
		}
		var t taskEntry
		found, err := getJSON(tasks, id, &t)
		if err != nil {
			return nil, err
		}
		if !found {
			t = taskEntry{State: StatePending, Updated: at}
		}
		if err := putParams(tx, id, pt.Params); err != nil {
			return nil, err
		}
		t.addSweep(p.Name)
		e.count(&t)
		if err := putJSON(tasks, id, &t); err != nil {
			return nil, err
		}
	}
	for id, kept := range previous {
		if kept {
			continue
		}
		rep.Dropped++
		var t taskEntry
		if _, err := getJSON(tasks, []byte(id), &t); err != nil {
			return nil, err
		}
		t.removeSweep(p.Name)
		if err := putJSON(tasks, []byte(id), &t); err != nil {
			return nil, err
		}
	}
	if _, err := cache.flush(at); err != nil {
		return nil, err
	}
	rep.fill(&e.SweepInfo)
	return rep, nil
}

// count adds one planned task's state to the sweep's counters.
func (e *sweepEntry) count(t *taskEntry) {
	e.Expected++
	switch t.State {
	case StateDone:
		e.Done++
		if t.Status == sweep.StatusDiverged {
			e.Diverged++
		}
	case StateFailed:
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
